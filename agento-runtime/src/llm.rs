//! LLM call spans: what `#[llm_span]` records before and after a call, in
//! each convention [`Semconv`] turns on.

use opentelemetry::context::{FutureExt, WithContext};
use opentelemetry::trace::{SpanKind as OtelSpanKind, SpanRef, TraceContextExt};
use opentelemetry::{Array, Context, Key, KeyValue, StringValue, Value};

use crate::attempt::{AttemptMarker, attempt_name};
use crate::attributes::{
    AGENTO_STEP_NAME, AGENTO_STEP_TYPE, GEN_AI_OPERATION_NAME, GEN_AI_PROMPT,
    GEN_AI_REQUEST_MAX_TOKENS, GEN_AI_REQUEST_MODEL, GEN_AI_REQUEST_TEMPERATURE,
    GEN_AI_RESPONSE_CONTENT, GEN_AI_RESPONSE_FINISH_REASONS, GEN_AI_RESPONSE_ID,
    GEN_AI_RESPONSE_MODEL, GEN_AI_SYSTEM, RETRY_ATTEMPT,
};
use crate::response::LlmResponse;
use crate::semconv::openinference::{
    INPUT_MIME_TYPE, INPUT_VALUE, LLM_INVOCATION_PARAMETERS, LLM_MODEL_NAME, LLM_PROVIDER,
    LLM_SYSTEM, MIME_TEXT, OUTPUT_MIME_TYPE, OUTPUT_VALUE,
};
use crate::semconv::{Semconv, genai, openinference};
use crate::shared_text::shared_text;
use crate::span::{SpanGuard, SpanKind, text_attributes, text_attributes_value};

/// What is fixed for every call of one instrumented function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LlmSpec {
    /// `gen_ai.system`: `gemini`, `openai`, `anthropic` or another provider.
    pub system: &'static str,
    /// `gen_ai.operation.name`, `chat` by default.
    pub operation: &'static str,
    /// The span name, `llm.<system>.<function>` by default.
    pub span_name: &'static str,
    /// `agento.step_type`, when the call has one: recorded on the span of
    /// the call that succeeds (a failed attempt carries none).
    pub step_type: Option<&'static str>,
}

/// What one call asks for.
///
/// ```
/// use agento_runtime::SpanGuard;
/// use agento_runtime::__private::{LlmRequest, LlmSpec};
/// const SPEC: LlmSpec = LlmSpec {
///     system: "gemini", operation: "chat", span_name: "llm.gemini.plan", step_type: Some("plan"),
/// };
/// let request = LlmRequest { model: "gemini-2.5-pro", temperature: Some(0.1), ..Default::default() };
/// let span = SpanGuard::llm(&SPEC, &request);
/// span.record_response(&String::from("{\"Title\": \"…\"}"));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LlmRequest<'a> {
    /// `gen_ai.request.model`.
    pub model: &'a str,
    /// `gen_ai.request.temperature`.
    pub temperature: Option<f64>,
    /// `gen_ai.request.max_tokens`.
    pub max_tokens: Option<i64>,
    /// The prompt (`gen_ai.prompt`, `input.value`, the user message;
    /// truncated; scrubbed on export).
    pub prompt: Option<&'a str>,
    /// The system instructions sent apart from the prompt
    /// (`gen_ai.system_instructions`, the system message).
    pub system_prompt: Option<&'a str>,
    /// `agento.step_name`.
    pub step_name: Option<&'a str>,
}

/// The conversation (session, thread) the LLM calls made within
/// [`scope`](Self::scope) belong to: their `gen_ai.conversation.id` (GenAI
/// convention).
///
/// ```
/// use agento_runtime::Conversation;
/// # async fn revise() {}
/// # async fn example() {
/// Conversation::new("20261123T101500000000.revise.0").scope(revise()).await;
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Conversation(StringValue);

impl Conversation {
    /// A conversation with id `id` (no content: it is recorded with content capture off too).
    pub fn new(id: impl Into<String>) -> Self {
        Self(StringValue::from(id.into()))
    }

    /// Runs `future` with this conversation in its context.
    pub fn scope<F: std::future::Future>(self, future: F) -> WithContext<F> {
        future.with_context(Context::current().with_value(self))
    }
}

/// The request side of a recording LLM span.
struct RequestRecord {
    attributes: Vec<KeyValue>,
    model: StringValue,
    prompt: Option<Value>,
    attempt: Option<u32>,
    retry: Option<Context>,
}

impl RequestRecord {
    fn build(
        semconv: Semconv,
        spec: &LlmSpec,
        request: &LlmRequest<'_>,
        parent: &Context,
        attempt: Option<u32>,
        retry: Option<Context>,
    ) -> Self {
        let model = StringValue::from(std::sync::Arc::<str>::from(request.model));
        // Room for the response attributes too: no regrowth.
        let mut attributes = Vec::with_capacity(48);
        let prompt = request_attributes(semconv, spec, request, &model, &mut attributes);
        if semconv.genai
            && let Some(Conversation(id)) = parent.get::<Conversation>()
        {
            attributes.push(KeyValue::new(genai::GEN_AI_CONVERSATION_ID, id.clone()));
        }
        if let Some(attempt) = attempt {
            attributes.push(KeyValue::new(RETRY_ATTEMPT, i64::from(attempt)));
        }
        Self {
            attributes,
            model,
            prompt,
            attempt,
            retry,
        }
    }

    /// The first attempt gives the retry span its `input.value`.
    fn annotate_retry(&self, semconv: Semconv) {
        if self.attempt == Some(0)
            && semconv.openinference
            && let (Some(prompt), Some(retry)) = (&self.prompt, &self.retry)
        {
            retry.span().set_attributes([
                KeyValue::new(INPUT_VALUE, prompt.clone()),
                KeyValue::new(INPUT_MIME_TYPE, MIME_TEXT),
            ]);
        }
    }
}

/// What the response of an LLM span needs to know of its request; kept in
/// the span's context.
#[derive(Debug, Clone)]
struct LlmCall {
    step_type: Option<&'static str>,
    request_model: StringValue,
    /// The `*.with_retry` span this call is an attempt of.
    retry: Option<Context>,
}

/// `llm.input_messages.N.message.role|content` for N < 4 without formatting.
const INPUT_MESSAGE_KEYS: [(&str, &str); 4] = [
    (
        "llm.input_messages.0.message.role",
        "llm.input_messages.0.message.content",
    ),
    (
        "llm.input_messages.1.message.role",
        "llm.input_messages.1.message.content",
    ),
    (
        "llm.input_messages.2.message.role",
        "llm.input_messages.2.message.content",
    ),
    (
        "llm.input_messages.3.message.role",
        "llm.input_messages.3.message.content",
    ),
];
const OUTPUT_MESSAGE_ROLE: &str = "llm.output_messages.0.message.role";
const OUTPUT_MESSAGE_CONTENT: &str = "llm.output_messages.0.message.content";

/// `llm.invocation_parameters`: the request parameters set, as a JSON object
/// (keys in alphabetical order).
#[derive(serde::Serialize)]
struct InvocationParameters {
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
}

/// The request attributes of every convention turned on.
fn request_attributes(
    semconv: Semconv,
    spec: &LlmSpec,
    request: &LlmRequest<'_>,
    model: &StringValue,
    out: &mut Vec<KeyValue>,
) -> Option<Value> {
    if semconv.memo {
        out.push(KeyValue::new(GEN_AI_SYSTEM, spec.system));
    }
    if semconv.genai {
        out.push(KeyValue::new(
            genai::GEN_AI_PROVIDER_NAME,
            genai::provider(spec.system),
        ));
    }
    if semconv.memo || semconv.genai {
        out.push(KeyValue::new(GEN_AI_OPERATION_NAME, spec.operation));
        out.push(KeyValue::new(GEN_AI_REQUEST_MODEL, model.clone()));
        if let Some(temperature) = request.temperature {
            out.push(KeyValue::new(GEN_AI_REQUEST_TEMPERATURE, temperature));
        }
        if let Some(max_tokens) = request.max_tokens {
            out.push(KeyValue::new(GEN_AI_REQUEST_MAX_TOKENS, max_tokens));
        }
    }
    if semconv.openinference {
        out.push(KeyValue::new(
            LLM_PROVIDER,
            openinference::provider(spec.system),
        ));
        if let Some(system) = openinference::system(spec.system) {
            out.push(KeyValue::new(LLM_SYSTEM, system));
        }
        let parameters = InvocationParameters {
            max_tokens: request.max_tokens,
            temperature: request.temperature,
        };
        // Serialising two numbers cannot fail; an empty object if it did.
        let parameters = serde_json::to_string(&parameters).unwrap_or_else(|_| "{}".to_owned());
        out.push(KeyValue::new(LLM_INVOCATION_PARAMETERS, parameters));
    }
    if let Some(step_name) = request.step_name {
        text_attributes(Key::from_static_str(AGENTO_STEP_NAME), step_name, out);
    }
    let prompt = request.prompt.filter(|_| semconv.content)?;
    let value = if semconv.memo {
        text_attributes_value(Key::from_static_str(GEN_AI_PROMPT), prompt, out)
    } else {
        shared_text(prompt)
    };
    let system = request.system_prompt.map(shared_text);
    if semconv.openinference {
        out.push(KeyValue::new(INPUT_VALUE, value.clone()));
        out.push(KeyValue::new(INPUT_MIME_TYPE, MIME_TEXT));
        let mut messages = INPUT_MESSAGE_KEYS.iter();
        if let (Some(system), Some((role, content))) = (&system, messages.next()) {
            out.push(KeyValue::new(*role, "system"));
            out.push(KeyValue::new(*content, system.clone()));
        }
        if let Some((role, content)) = messages.next() {
            out.push(KeyValue::new(*role, "user"));
            out.push(KeyValue::new(*content, value.clone()));
        }
    }
    if semconv.genai {
        // The bare texts: wrapped into the registry's JSON on export (see `crate::messages`).
        out.push(KeyValue::new(genai::GEN_AI_INPUT_MESSAGES, value.clone()));
        if let Some(system) = &system {
            out.push(KeyValue::new(
                genai::GEN_AI_SYSTEM_INSTRUCTIONS,
                system.clone(),
            ));
        }
    }
    Some(value)
}

impl SpanGuard {
    /// Starts an LLM call span (`CLIENT`, OpenInference `LLM`) with the request
    /// attributes. Directly inside a `#[retry_spans]` attempt it is named
    /// `attempt_<n>` and carries `retry.attempt`; the first attempt also gives
    /// the retry span its `input.value`.
    pub fn llm(spec: &LlmSpec, request: &LlmRequest<'_>) -> Self {
        let semconv = Semconv::current();
        let mut guard = Context::map_current(|parent| {
            let (name, retry, attempt) = match parent.get::<AttemptMarker>() {
                Some(marker) if marker.is_for(parent) => (
                    attempt_name(marker.attempt),
                    Some(parent.clone()),
                    Some(marker.attempt),
                ),
                _ => (spec.span_name.into(), None, None),
            };
            let build =
                || RequestRecord::build(semconv, spec, request, parent, attempt, retry.clone());
            // Our own tracer records the span (unless a sampler drops it):
            // the attributes go in with the start. Any other tracer (the
            // global one, a no-op without telemetry) is asked first, so that
            // a span that records nothing costs no attributes and no copies.
            let mut record = crate::tracer::ours(parent).then(build);
            let attributes = record
                .as_mut()
                .map_or_else(Vec::new, |r| std::mem::take(&mut r.attributes));
            let mut guard = Self::start_in(
                parent,
                name,
                SpanKind::Llm,
                OtelSpanKind::Client,
                attributes,
            );
            if record.is_none() && guard.span().is_recording() {
                let mut built = build();
                guard
                    .span()
                    .set_attributes(std::mem::take(&mut built.attributes));
                record = Some(built);
            }
            if let Some(record) = record {
                record.annotate_retry(semconv);
                guard.add_context_value(LlmCall {
                    step_type: spec.step_type,
                    request_model: record.model,
                    retry: record.retry,
                });
            }
            guard
        });
        guard.call = crate::metrics::CallMetrics::start(spec.operation, spec.system, request.model);
        guard
    }

    /// Records the response attributes: content (truncated), response model,
    /// finish reasons, token usage, the step type; and status `OK`. On an
    /// attempt, the retry span gets the reply as its `output.value`.
    pub fn record_response<R: LlmResponse + ?Sized>(&self, response: &R) {
        self.record(response, true);
    }

    /// Like [`record_response`](Self::record_response) but without the
    /// content (`#[llm_span(skip(response))]`).
    pub fn record_response_metadata<R: LlmResponse + ?Sized>(&self, response: &R) {
        self.record(response, false);
    }

    /// The response attributes without the status or the step type, for a
    /// reply cut short by an error (a stream that failed part-way).
    pub(crate) fn partial_response_attributes<R: LlmResponse + ?Sized>(
        &self,
        response: &R,
        content: bool,
    ) -> Vec<KeyValue> {
        let call = self.context().get::<LlmCall>();
        response_attributes(response, content, call).0
    }

    fn record<R: LlmResponse + ?Sized>(&self, response: &R, content: bool) {
        self.note_response(response);
        // A span that records nothing (no telemetry, sampled out) gets no
        // attributes: the reply is not copied.
        if !self.span().is_recording() {
            return;
        }
        let call = self.context().get::<LlmCall>();
        let output = record_response(&self.span(), response, content, call);
        if let (Some(output), Some(retry)) = (output, call.and_then(|c| c.retry.as_ref())) {
            retry.span().set_attributes([
                KeyValue::new(OUTPUT_VALUE, output),
                KeyValue::new(OUTPUT_MIME_TYPE, MIME_TEXT),
            ]);
        }
    }
}

/// Records `response` on `span` (see [`SpanGuard::record_response`]), the
/// content only when `content` is true; `call` is what the span's request left
/// in its context. Returns the recorded reply text when OpenInference records it.
fn record_response<R: LlmResponse + ?Sized>(
    span: &SpanRef<'_>,
    response: &R,
    content: bool,
    call: Option<&LlmCall>,
) -> Option<Value> {
    let (mut attributes, output) = response_attributes(response, content, call);
    if let Some(step_type) = call.and_then(|c| c.step_type) {
        attributes.push(KeyValue::new(AGENTO_STEP_TYPE, step_type));
    }
    span.set_attributes(attributes);
    span.set_status(opentelemetry::trace::Status::Ok);
    output
}

/// The response attributes of every convention turned on (the content only
/// when `content` is true), and the reply text when OpenInference records it.
fn response_attributes<R: LlmResponse + ?Sized>(
    response: &R,
    content: bool,
    call: Option<&LlmCall>,
) -> (Vec<KeyValue>, Option<Value>) {
    let semconv = Semconv::current();
    let mut attributes = Vec::with_capacity(24);
    let mut output = None;
    let reasons: Vec<&str> = response.finish_reason_names().unwrap_or_else(|| {
        response
            .finish_reasons()
            .iter()
            .map(String::as_str)
            .collect()
    });
    if content && semconv.content {
        let text = response.text();
        let value = if semconv.memo {
            text_attributes_value(
                Key::from_static_str(GEN_AI_RESPONSE_CONTENT),
                text,
                &mut attributes,
            )
        } else {
            shared_text(text)
        };
        if semconv.openinference {
            attributes.push(KeyValue::new(OUTPUT_VALUE, value.clone()));
            attributes.push(KeyValue::new(OUTPUT_MIME_TYPE, MIME_TEXT));
            attributes.push(KeyValue::new(OUTPUT_MESSAGE_ROLE, "assistant"));
            attributes.push(KeyValue::new(OUTPUT_MESSAGE_CONTENT, value.clone()));
            output = Some(value.clone());
        }
        if semconv.genai {
            // Wrapped into the registry's JSON on export (see `crate::messages`).
            attributes.push(KeyValue::new(genai::GEN_AI_OUTPUT_MESSAGES, value.clone()));
        }
    }
    let response_model = response
        .response_model()
        .map(|model| StringValue::from(std::sync::Arc::<str>::from(model)));
    if semconv.memo || semconv.genai {
        if let Some(model) = &response_model {
            attributes.push(KeyValue::new(GEN_AI_RESPONSE_MODEL, model.clone()));
        }
        if let Some(id) = response.response_id() {
            attributes.push(KeyValue::new(GEN_AI_RESPONSE_ID, id.to_owned()));
        }
        if !reasons.is_empty() {
            let values: Vec<StringValue> = reasons
                .iter()
                .map(|r| StringValue::from((*r).to_owned()))
                .collect();
            attributes.push(KeyValue::new(
                GEN_AI_RESPONSE_FINISH_REASONS,
                Value::Array(Array::String(values)),
            ));
        }
    }
    if semconv.openinference {
        let model = response_model.map_or_else(
            || call.map(|c| Value::String(c.request_model.clone())),
            |model| Some(Value::String(model)),
        );
        if let Some(model) = model {
            attributes.push(KeyValue::new(LLM_MODEL_NAME, model));
        }
    }
    if let Some(usage) = response.usage() {
        crate::usage::push_key_values(usage, semconv, &mut attributes);
    }
    (attributes, output)
}
