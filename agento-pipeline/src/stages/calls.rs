//! The pipeline's LLM calls, one instrumented function each: a retry span with
//! an LLM span per attempt, named for what the call is for.
//!
//! Each call's parameters are defined once, in [`Wanted`] constants below,
//! resolved against the model ([`Vendors::params`]) and passed as one
//! [`CallParams`] value that both the span attributes and the request read.
//! A reply cut off at the output limit is retried once with twice the budget
//! (with a console warning naming the step) before it is accepted.

use std::future::Future;

use agento::attributes::{
    AGENTO_CRITERIA, AGENTO_DRAFT_CONTENT, AGENTO_INSTRUCTIONS, AGENTO_USER_GOAL, AGENTO_VERDICT,
    GEN_AI_RESPONSE_FINISH_REASONS, GEN_AI_RESPONSE_ID, GEN_AI_RESPONSE_MODEL,
};
use agento::opentelemetry::trace::TraceContextExt;
use agento::opentelemetry::{Array, Context, KeyValue, StringValue, Value};
use agento::{ErrorInfo, StepType, llm_span, record_text, retry_spans};

use super::Pipeline;
use super::prompts::SYSTEM;
use crate::plan::PlanStructure;
use crate::vendors::{CallParams, ChatRequest, Reply, Vendor, VendorError, Vendors, Wanted};
use crate::verdict::Verdict;

/// `true` on an attempt span whose reply was cut off at the output limit.
pub const RESPONSE_INCOMPLETE: &str = "agento.response.incomplete";
/// On a failed attempt span: the delay in seconds the vendor asked for before
/// a retry (`Retry-After`, `retry-after-ms`, Gemini's `RetryInfo`).
pub const RETRY_AFTER_SECS: &str = "agento.retry.after_secs";

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

/// The calls, over the process's vendor clients.
pub(super) struct Calls<'a> {
    pub(super) vendors: &'a Vendors,
}

/// Records on the current (attempt) span what the result says beyond the
/// reply itself: a cut-off reply, the usage and id of a blocked one, the
/// delay a vendor asked for.
fn observe(result: Result<Reply, VendorError>) -> Result<Reply, VendorError> {
    Context::map_current(|cx| {
        let span = cx.span();
        match &result {
            Ok(reply) if reply.is_cut_off() => {
                span.set_attribute(KeyValue::new(RESPONSE_INCOMPLETE, true));
            }
            Err(VendorError::Blocked { reply, .. }) => span.set_attributes(billed(reply)),
            Err(error) => {
                if let Some(delay) = error.retry_after() {
                    span.set_attribute(KeyValue::new(RETRY_AFTER_SECS, delay.as_secs_f64()));
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
/// output budget, with a warning naming `step`, and the second reply is
/// accepted whatever its finish.
async fn complete<F, Fut>(step: &str, params: CallParams, call: F) -> Result<Reply, VendorError>
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
    match Pipeline::get() {
        Ok(pipeline) => pipeline.console.say(&warning),
        Err(_) => eprintln!("{warning}"),
    }
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

impl Calls<'_> {
    /// Stage 1's plan, in JSON mode.
    pub(super) async fn generate_plan_structure(
        &self,
        goal: &str,
        prompt: &str,
    ) -> Result<Reply, VendorError> {
        let params = self.vendors.params(Vendor::Gemini, PLAN);
        complete("plan", params, |params| self.plan(goal, prompt, params)).await
    }

    #[retry_spans(max = 3, retry_if = VendorError::is_retryable)]
    #[llm_span(name = "llm.gemini.generate_plan_structure", system = "gemini", model = self.vendors.gemini.model(),
               temperature = params.temperature, max_tokens = params.max_tokens,
               step_type = StepType::Plan, prompt = prompt, system_prompt = SYSTEM)]
    async fn plan(
        &self,
        goal: &str,
        prompt: &str,
        params: CallParams,
    ) -> Result<Reply, VendorError> {
        record_text(AGENTO_USER_GOAL, goal);
        let mut request = ChatRequest::with(Some(SYSTEM), prompt, params);
        request.json_schema = Some(PlanStructure::json_schema());
        observe(self.ask(Vendor::Gemini, &request).await)
    }

    /// A step's first draft.
    pub(super) async fn draft_step(
        &self,
        goal: &str,
        step: &str,
        criteria: &str,
        instructions: &str,
        prompt: &str,
    ) -> Result<Reply, VendorError> {
        let params = self.vendors.params(Vendor::OpenAi, DRAFT);
        complete(step, params, |params| {
            self.draft(goal, step, criteria, instructions, prompt, params)
        })
        .await
    }

    #[retry_spans(max = 3, retry_if = VendorError::is_retryable)]
    #[llm_span(name = "llm.openai.draft_step", system = "openai", model = self.vendors.openai.model(),
               temperature = params.temperature, max_tokens = params.max_tokens,
               step_type = StepType::Draft, step_name = step, prompt = prompt, system_prompt = SYSTEM)]
    async fn draft(
        &self,
        goal: &str,
        step: &str,
        criteria: &str,
        instructions: &str,
        prompt: &str,
        params: CallParams,
    ) -> Result<Reply, VendorError> {
        record_text(AGENTO_USER_GOAL, goal);
        record_text(AGENTO_CRITERIA, criteria);
        record_text(AGENTO_INSTRUCTIONS, instructions);
        self.call(Vendor::OpenAi, prompt, params).await
    }

    /// A critique of a step's draft.
    pub(super) async fn critique_step(
        &self,
        goal: &str,
        step: &str,
        draft: &str,
        prompt: &str,
    ) -> Result<Reply, VendorError> {
        let params = self.vendors.params(Vendor::OpenAi, CRITIQUE);
        complete(step, params, |params| {
            self.critique(goal, step, draft, prompt, params)
        })
        .await
    }

    #[retry_spans(max = 3, retry_if = VendorError::is_retryable)]
    #[llm_span(name = "llm.openai.critique_step", system = "openai", model = self.vendors.openai.model(),
               temperature = params.temperature, max_tokens = params.max_tokens,
               step_type = StepType::Critique, step_name = step, prompt = prompt, system_prompt = SYSTEM)]
    async fn critique(
        &self,
        goal: &str,
        step: &str,
        draft: &str,
        prompt: &str,
        params: CallParams,
    ) -> Result<Reply, VendorError> {
        record_text(AGENTO_USER_GOAL, goal);
        record_text(AGENTO_DRAFT_CONTENT, draft);
        self.call(Vendor::OpenAi, prompt, params).await
    }

    /// Instructions for one revision.
    pub(super) async fn revision_instruction(
        &self,
        step: &str,
        prompt: &str,
    ) -> Result<Reply, VendorError> {
        let params = self.vendors.params(Vendor::Anthropic, REVISION_INSTRUCTION);
        complete(step, params, |params| {
            self.instruction(step, prompt, params)
        })
        .await
    }

    #[retry_spans(max = 3, retry_if = VendorError::is_retryable)]
    #[llm_span(name = "llm.anthropic.revision_instruction", system = "anthropic", model = self.vendors.anthropic.model(),
               temperature = params.temperature, max_tokens = params.max_tokens,
               step_type = StepType::RevisionInstruction, step_name = step, prompt = prompt, system_prompt = SYSTEM)]
    async fn instruction(
        &self,
        step: &str,
        prompt: &str,
        params: CallParams,
    ) -> Result<Reply, VendorError> {
        self.call(Vendor::Anthropic, prompt, params).await
    }

    /// A revised draft.
    pub(super) async fn revision_draft(
        &self,
        step: &str,
        prompt: &str,
    ) -> Result<Reply, VendorError> {
        let params = self.vendors.params(Vendor::Gemini, REVISION_DRAFT);
        complete(step, params, |params| self.revised(step, prompt, params)).await
    }

    #[retry_spans(max = 3, retry_if = VendorError::is_retryable)]
    #[llm_span(name = "llm.gemini.revision_draft", system = "gemini", model = self.vendors.gemini.model(),
               temperature = params.temperature, max_tokens = params.max_tokens,
               step_type = StepType::RevisionDraft, step_name = step, prompt = prompt, system_prompt = SYSTEM)]
    async fn revised(
        &self,
        step: &str,
        prompt: &str,
        params: CallParams,
    ) -> Result<Reply, VendorError> {
        self.call(Vendor::Gemini, prompt, params).await
    }

    /// One call of `vendor` with the stages' system prompt, its reply checked
    /// by [`observe`].
    async fn call(
        &self,
        vendor: Vendor,
        prompt: &str,
        params: CallParams,
    ) -> Result<Reply, VendorError> {
        observe(
            self.ask(vendor, &ChatRequest::with(Some(SYSTEM), prompt, params))
                .await,
        )
    }

    /// Whether a revision satisfies its request.
    pub(super) async fn revision_verdict(
        &self,
        step: &str,
        prompt: &str,
    ) -> Result<Reply, VendorError> {
        let params = self.vendors.params(Vendor::Anthropic, REVISION_VERDICT);
        complete(step, params, |params| self.verdict(step, prompt, params)).await
    }

    #[retry_spans(max = 3, retry_if = VendorError::is_retryable)]
    #[llm_span(name = "llm.anthropic.revision_verdict", system = "anthropic", model = self.vendors.anthropic.model(),
               temperature = params.temperature, max_tokens = params.max_tokens,
               step_type = StepType::RevisionVerdict, step_name = step, prompt = prompt, system_prompt = SYSTEM)]
    async fn verdict(
        &self,
        step: &str,
        prompt: &str,
        params: CallParams,
    ) -> Result<Reply, VendorError> {
        let reply = self.call(Vendor::Anthropic, prompt, params).await?;
        record_text(AGENTO_VERDICT, Verdict::parse(&reply.text).as_str());
        Ok(reply)
    }

    /// The review of the whole plan.
    pub(super) async fn holistic_review(&self, prompt: &str) -> Result<Reply, VendorError> {
        let params = self.vendors.params(Vendor::Anthropic, HOLISTIC_REVIEW);
        complete("holistic review", params, |params| {
            self.review(prompt, params)
        })
        .await
    }

    #[retry_spans(max = 3, retry_if = VendorError::is_retryable)]
    #[llm_span(name = "llm.anthropic.holistic_review", system = "anthropic", model = self.vendors.anthropic.model(),
               temperature = params.temperature, max_tokens = params.max_tokens,
               prompt = prompt, system_prompt = SYSTEM)]
    async fn review(&self, prompt: &str, params: CallParams) -> Result<Reply, VendorError> {
        self.call(Vendor::Anthropic, prompt, params).await
    }
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
            .block_on(complete("Launch", params, |params| {
                budgets.lock().unwrap().push(params.max_tokens);
                let next = replies.lock().unwrap().pop().unwrap();
                async move { Ok(next) }
            }));
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
