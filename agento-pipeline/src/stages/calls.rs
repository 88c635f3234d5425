//! The pipeline's LLM calls, one instrumented function each: a retry span with
//! an LLM span per attempt, named for what the call is for. The calls are
//! written once, as a table (`llm_calls!`): each row names the call's span,
//! vendor and parameters.
//!
//! Each call's parameters are defined once, in [`Wanted`] constants below,
//! resolved against the model ([`Vendors::params`](crate::vendors::Vendors::params))
//! and passed as one [`CallParams`] value that both the span attributes and
//! the request read. A reply cut off at the output limit is retried once with
//! twice the budget (with a console warning naming the step) before it is
//! accepted.

use std::future::Future;

use agento::attributes::{
    AGENTO_RESPONSE_INCOMPLETE, AGENTO_RETRY_AFTER_SECS, AGENTO_VERDICT,
    GEN_AI_RESPONSE_FINISH_REASONS, GEN_AI_RESPONSE_ID, GEN_AI_RESPONSE_MODEL,
};
use agento::opentelemetry::trace::TraceContextExt;
use agento::opentelemetry::{Array, Context, KeyValue, StringValue, Value};
use agento::{ErrorInfo, StepType, llm_span, record_text, retry_spans};

use super::Pipeline;
use super::prompts::SYSTEM;
use crate::console::Console;
use crate::plan::PlanStructure;
use crate::vendors::{CallParams, ChatRequest, Reply, Vendor, VendorError, Wanted};
use crate::verdict::Verdict;

/// Stage 1's plan: JSON mode, room for a long plan.
const PLAN: Wanted = Wanted::new(0.1).with_max_tokens(16_384);
/// A step's first draft.
const DRAFT: Wanted = Wanted::new(0.7).with_max_tokens(16_384);
/// A critique of a draft.
const CRITIQUE: Wanted = Wanted::new(0.3).with_max_tokens(4096);
/// Revision instructions.
const REVISION_INSTRUCTION: Wanted = Wanted::new(0.3).with_max_tokens(4096);
/// A revised draft.
const REVISION_DRAFT: Wanted = Wanted::new(0.4).with_max_tokens(16_384);
/// A YES/NO verdict.
const REVISION_VERDICT: Wanted = Wanted::new(0.0).with_max_tokens(1024);
/// The review of the whole plan.
const HOLISTIC_REVIEW: Wanted = Wanted::new(0.2).with_max_tokens(4096);

/// The calls, over the pipeline's vendor clients and console.
pub(super) struct Calls<'a> {
    pub(super) pipeline: &'a Pipeline,
}

/// One LLM call of a stage: what it is for and what its span records
/// besides the request.
#[derive(Debug, Clone, Copy)]
pub(super) struct Call<'a> {
    /// The step it is for: the span's `agento.step_name` (where the call has
    /// one) and the name in warnings.
    pub(super) step: &'a str,
    /// The user prompt.
    pub(super) prompt: &'a str,
    /// Texts recorded on the LLM span, key and value (`agento.user_goal`,
    /// `agento.criteria`, …).
    pub(super) notes: &'a [(&'static str, &'a str)],
}

impl<'a> Call<'a> {
    /// A call for `step` asking `prompt`, with no notes.
    pub(super) const fn new(step: &'a str, prompt: &'a str) -> Self {
        Self {
            step,
            prompt,
            notes: &[],
        }
    }
}

/// Records on the current (attempt) span what the result says beyond the
/// reply itself: a cut-off reply, the usage and id of a blocked one, the
/// delay a vendor asked for.
fn observe(result: Result<Reply, VendorError>) -> Result<Reply, VendorError> {
    Context::map_current(|cx| {
        let span = cx.span();
        match &result {
            Ok(reply) if reply.is_cut_off() => {
                span.set_attribute(KeyValue::new(AGENTO_RESPONSE_INCOMPLETE, true));
            }
            Err(VendorError::Blocked { reply, .. }) => span.set_attributes(billed(reply)),
            Err(error) => {
                if let Some(delay) = error.retry_after() {
                    span.set_attribute(KeyValue::new(AGENTO_RETRY_AFTER_SECS, delay.as_secs_f64()));
                }
            }
            Ok(_) => {}
        }
    });
    result
}

/// What a blocked answer still tells: the response id and model, the finish
/// reasons and the billed usage (without touching the span's status, which
/// the error sets).
fn billed(reply: &Reply) -> Vec<KeyValue> {
    let mut attributes = vec![KeyValue::new(GEN_AI_RESPONSE_MODEL, reply.model.clone())];
    if let Some(id) = &reply.id {
        attributes.push(KeyValue::new(GEN_AI_RESPONSE_ID, id.clone()));
    }
    if !reply.finish_reasons.is_empty() {
        let reasons: Vec<StringValue> = reply
            .finish_reasons
            .iter()
            .map(|r| StringValue::from(r.clone()))
            .collect();
        attributes.push(KeyValue::new(
            GEN_AI_RESPONSE_FINISH_REASONS,
            Value::Array(Array::String(reasons)),
        ));
    }
    attributes.extend(reply.usage.as_token_usage().key_values());
    attributes
}

/// Runs `call` with `params`; a cut-off reply is retried once with twice the
/// output budget, with a warning naming `step` on `console`, and the second
/// reply is accepted whatever its finish.
async fn complete<F, Fut>(
    console: &Console,
    step: &str,
    params: CallParams,
    call: F,
) -> Result<Reply, VendorError>
where
    F: Fn(CallParams) -> Fut,
    Fut: Future<Output = Result<Reply, VendorError>>,
{
    let reply = call(params).await?;
    if !reply.is_cut_off() {
        return Ok(reply);
    }
    let larger = CallParams {
        max_tokens: params.max_tokens.map(|max| max.saturating_mul(2)),
        ..params
    };
    let budget = larger.max_tokens.map_or_else(
        || "the model's maximum".to_owned(),
        |max| format!("{max} tokens"),
    );
    let warning = format!(
        "warning: {step}: the {} reply was cut off at the output limit ({}); asking once more with {budget}",
        reply.vendor,
        reply.finish_reasons.join(", ")
    );
    console.say(&warning);
    let again = call(larger).await?;
    if again.is_cut_off() && again.text.trim().is_empty() {
        // Nothing to accept: say why rather than hand an empty text on.
        return Err(VendorError::Blocked {
            vendor: again.vendor,
            reason: again.finish_reasons.join(","),
            prompt: false,
            detail: Some(format!(
                "the output limit ({budget}) was reached before any text"
            )),
            reply: Box::new(again),
        });
    }
    Ok(again)
}

/// The instrumented calls, one row each: `public / attempt(call): Vendor,
/// wanted parameters, [span arguments]`, then optionally `schema` (JSON mode) and
/// `then` (a function recording more on the attempt span from the reply).
/// `public` runs the call through [`complete`]; `attempt` is the function
/// under `#[retry_spans]`/`#[llm_span]`.
macro_rules! llm_calls {
    ($(
        $(#[$doc:meta])*
        $public:ident / $attempt:ident($call:ident): $vendor:ident, $wanted:expr, [$($span:tt)*]
        $(, schema $schema:expr)? $(, then $then:path)?;
    )*) => {
        impl Calls<'_> {
            $(
                $(#[$doc])*
                pub(super) async fn $public(&self, $call: Call<'_>) -> Result<Reply, VendorError> {
                    let params = self.pipeline.vendors.params(Vendor::$vendor, $wanted);
                    complete(&self.pipeline.console, $call.step, params, |params| {
                        self.$attempt($call, params)
                    })
                    .await
                }

                #[retry_spans(max = 3, retry_if = VendorError::is_retryable)]
                #[llm_span($($span)*, model = self.pipeline.vendors.model(Vendor::$vendor),
                           temperature = params.temperature, max_tokens = params.max_tokens,
                           prompt = $call.prompt, system_prompt = SYSTEM)]
                async fn $attempt(&self, $call: Call<'_>, params: CallParams) -> Result<Reply, VendorError> {
                    let schema = None$(.or(Some($schema)))?;
                    let reply = self.send(Vendor::$vendor, $call, params, schema).await?;
                    $($then(&reply);)?
                    Ok(reply)
                }
            )*
        }
    };
}

llm_calls! {
    /// Stage 1's plan, in JSON mode.
    generate_plan_structure / plan(call): Gemini, PLAN,
        [name = "llm.gemini.generate_plan_structure", system = "gemini", step_type = StepType::Plan],
        schema PlanStructure::json_schema();
    /// A step's first draft.
    draft_step / draft(call): OpenAi, DRAFT,
        [name = "llm.openai.draft_step", system = "openai", step_type = StepType::Draft, step_name = call.step];
    /// A critique of a step's draft.
    critique_step / critique(call): OpenAi, CRITIQUE,
        [name = "llm.openai.critique_step", system = "openai", step_type = StepType::Critique, step_name = call.step];
    /// Instructions for one revision.
    revision_instruction / instruction(call): Anthropic, REVISION_INSTRUCTION,
        [name = "llm.anthropic.revision_instruction", system = "anthropic",
         step_type = StepType::RevisionInstruction, step_name = call.step];
    /// A revised draft.
    revision_draft / revised(call): Gemini, REVISION_DRAFT,
        [name = "llm.gemini.revision_draft", system = "gemini", step_type = StepType::RevisionDraft, step_name = call.step];
    /// Whether a revision satisfies its request (the parsed verdict recorded).
    revision_verdict / verdict(call): Anthropic, REVISION_VERDICT,
        [name = "llm.anthropic.revision_verdict", system = "anthropic",
         step_type = StepType::RevisionVerdict, step_name = call.step],
        then record_verdict;
    /// The review of the whole plan.
    holistic_review / review(call): Anthropic, HOLISTIC_REVIEW,
        [name = "llm.anthropic.holistic_review", system = "anthropic"];
}

impl Calls<'_> {
    /// One attempt of `call` to `vendor` with the stages' system prompt: its
    /// notes recorded, its reply checked by [`observe`].
    async fn send(
        &self,
        vendor: Vendor,
        call: Call<'_>,
        params: CallParams,
        json_schema: Option<&serde_json::Value>,
    ) -> Result<Reply, VendorError> {
        for (key, text) in call.notes {
            record_text(key, text);
        }
        let mut request = ChatRequest::with(Some(SYSTEM), call.prompt, params);
        request.json_schema = json_schema;
        observe(self.ask(vendor, &request).await)
    }
}

/// Records the verdict a reply gives, as the revise loop reads it.
fn record_verdict(reply: &Reply) {
    record_text(AGENTO_VERDICT, Verdict::parse(&reply.text).as_str());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendors::{GeminiUsage, Usage};

    fn reply(text: &str, finish: &str) -> Reply {
        Reply {
            vendor: Vendor::Gemini,
            text: text.to_owned(),
            model: "gemini-3.8-flash".to_owned(),
            finish_reasons: vec![finish.to_owned()],
            id: Some("r1".to_owned()),
            usage: Usage::Gemini(GeminiUsage::default()),
        }
    }

    fn run(first: Reply, second: Reply) -> (Result<Reply, VendorError>, Vec<Option<u32>>) {
        let budgets = std::sync::Mutex::new(Vec::new());
        let replies = std::sync::Mutex::new(vec![second, first]);
        let params = CallParams {
            temperature: None,
            max_tokens: Some(100),
        };
        let result = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(complete(
                &Console::detect(true),
                "Launch",
                params,
                |params| {
                    budgets.lock().unwrap().push(params.max_tokens);
                    let next = replies.lock().unwrap().pop().unwrap();
                    async move { Ok(next) }
                },
            ));
        (result, budgets.into_inner().unwrap())
    }

    #[test]
    fn a_whole_reply_is_taken_at_once() {
        let (result, budgets) = run(reply("done", "STOP"), reply("unused", "STOP"));
        assert_eq!(result.unwrap().text, "done");
        assert_eq!(budgets, [Some(100)]);
    }

    #[test]
    fn a_cut_off_reply_is_asked_again_with_twice_the_budget_and_accepted() {
        let (result, budgets) = run(
            reply("half", "MAX_TOKENS"),
            reply("still half", "MAX_TOKENS"),
        );
        assert_eq!(result.unwrap().text, "still half");
        assert_eq!(budgets, [Some(100), Some(200)]);
    }

    #[test]
    fn no_text_even_with_the_larger_budget_is_an_error_naming_the_reason() {
        let (result, _) = run(reply("", "MAX_TOKENS"), reply(" ", "MAX_TOKENS"));
        let error = result.unwrap_err();
        assert_eq!(
            error.to_string(),
            "Gemini stopped the answer (reason MAX_TOKENS): the output limit (200 tokens) was reached before any text"
        );
        assert_eq!(error.error_type(), "blocked.max_tokens");
    }
}
