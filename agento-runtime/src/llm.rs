//! LLM call spans: what `#[llm_span]` records before and after a call.

use opentelemetry::trace::{SpanKind as OtelSpanKind, SpanRef};
use opentelemetry::{Array, Context, Key, KeyValue, StringValue, Value};

use crate::attributes::{
    AGENTO_STEP_NAME, AGENTO_STEP_TYPE, GEN_AI_OPERATION_NAME, GEN_AI_PROMPT, GEN_AI_PROVIDER_NAME,
    GEN_AI_REQUEST_MAX_TOKENS, GEN_AI_REQUEST_MODEL, GEN_AI_REQUEST_TEMPERATURE,
    GEN_AI_RESPONSE_CONTENT, GEN_AI_RESPONSE_FINISH_REASONS, GEN_AI_RESPONSE_ID,
    GEN_AI_RESPONSE_MODEL, GEN_AI_SYSTEM, RETRY_ATTEMPT, latest_gen_ai_names,
};
use crate::response::LlmResponse;
use crate::retry::AttemptMarker;
use crate::span::{SpanGuard, SpanKind, text_attributes};

/// What is fixed for every call of one instrumented function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LlmSpec {
    /// `gen_ai.system`: `gemini`, `openai`, `anthropic` or another provider.
    pub system: &'static str,
    /// `gen_ai.operation.name`, `chat` by default.
    pub operation: &'static str,
    /// The span name, `llm.<system>.<function>` by default.
    pub span_name: &'static str,
    /// `agento.step_type`, when the call has one.
    pub step_type: Option<&'static str>,
}

/// What one call asks for.
///
/// ```
/// use agento_runtime::{LlmRequest, LlmSpec, SpanGuard};
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
    /// `gen_ai.prompt` (truncated; scrubbed on export).
    pub prompt: Option<&'a str>,
    /// `agento.step_name`.
    pub step_name: Option<&'a str>,
}

const ATTEMPT_NAMES: [&str; 16] = [
    "attempt_0",
    "attempt_1",
    "attempt_2",
    "attempt_3",
    "attempt_4",
    "attempt_5",
    "attempt_6",
    "attempt_7",
    "attempt_8",
    "attempt_9",
    "attempt_10",
    "attempt_11",
    "attempt_12",
    "attempt_13",
    "attempt_14",
    "attempt_15",
];

/// The span name of attempt `n` of a retried call.
pub(crate) fn attempt_name(n: u32) -> std::borrow::Cow<'static, str> {
    ATTEMPT_NAMES
        .get(n as usize)
        .map_or_else(|| format!("attempt_{n}").into(), |name| (*name).into())
}

impl SpanGuard {
    /// Starts an LLM call span (`CLIENT`, OpenInference `LLM`) with the request
    /// attributes. Directly inside a `#[retry_spans]` attempt it is named
    /// `attempt_<n>` and carries `retry.attempt`.
    pub fn llm(spec: &LlmSpec, request: &LlmRequest<'_>) -> Self {
        let mut attributes = Vec::with_capacity(12);
        attributes.push(KeyValue::new(GEN_AI_SYSTEM, spec.system));
        if latest_gen_ai_names() {
            attributes.push(KeyValue::new(GEN_AI_PROVIDER_NAME, spec.system));
        }
        attributes.push(KeyValue::new(GEN_AI_OPERATION_NAME, spec.operation));
        attributes.push(KeyValue::new(
            GEN_AI_REQUEST_MODEL,
            request.model.to_owned(),
        ));
        if let Some(temperature) = request.temperature {
            attributes.push(KeyValue::new(GEN_AI_REQUEST_TEMPERATURE, temperature));
        }
        if let Some(max_tokens) = request.max_tokens {
            attributes.push(KeyValue::new(GEN_AI_REQUEST_MAX_TOKENS, max_tokens));
        }
        if let Some(step_type) = spec.step_type {
            attributes.push(KeyValue::new(AGENTO_STEP_TYPE, step_type));
        }
        if let Some(step_name) = request.step_name {
            text_attributes(
                Key::from_static_str(AGENTO_STEP_NAME),
                step_name,
                &mut attributes,
            );
        }
        if let Some(prompt) = request.prompt {
            text_attributes(Key::from_static_str(GEN_AI_PROMPT), prompt, &mut attributes);
        }
        Context::map_current(|parent| {
            let name = match parent.get::<AttemptMarker>() {
                Some(marker) if marker.is_for(parent) => {
                    attributes.push(KeyValue::new(RETRY_ATTEMPT, i64::from(marker.attempt)));
                    attempt_name(marker.attempt)
                }
                _ => spec.span_name.into(),
            };
            let mut span = Self::start_in(
                parent,
                name,
                SpanKind::Llm,
                OtelSpanKind::Client,
                attributes,
            );
            span.call = crate::metrics::CallMetrics::start(spec, request.model);
            span
        })
    }

    /// Records the response attributes: content (truncated), response model,
    /// finish reasons, token usage; and status `OK`.
    pub fn record_response<R: LlmResponse + ?Sized>(&self, response: &R) {
        self.note_response(response);
        record_response(&self.span(), response, true);
    }

    /// Like [`record_response`](Self::record_response) but without the
    /// content (`#[llm_span(skip(response))]`).
    pub fn record_response_metadata<R: LlmResponse + ?Sized>(&self, response: &R) {
        self.note_response(response);
        record_response(&self.span(), response, false);
    }
}

/// Records `response` on `span` (see [`SpanGuard::record_response`]); the
/// content only when `content` is true.
pub fn record_response<R: LlmResponse + ?Sized>(span: &SpanRef<'_>, response: &R, content: bool) {
    span.set_attributes(response_attributes(response, content));
    span.set_status(opentelemetry::trace::Status::Ok);
}

/// The attributes [`record_response`] sets (the content only when `content`
/// is true), without the status: for a reply cut short by an error.
pub fn response_attributes<R: LlmResponse + ?Sized>(response: &R, content: bool) -> Vec<KeyValue> {
    let mut attributes = Vec::with_capacity(10);
    if content {
        text_attributes(
            Key::from_static_str(GEN_AI_RESPONSE_CONTENT),
            response.text(),
            &mut attributes,
        );
    }
    if let Some(model) = response.response_model() {
        attributes.push(KeyValue::new(GEN_AI_RESPONSE_MODEL, model.to_owned()));
    }
    if let Some(id) = response.response_id() {
        attributes.push(KeyValue::new(GEN_AI_RESPONSE_ID, id.to_owned()));
    }
    let values: Vec<StringValue> = match response.finish_reason_names() {
        Some(names) => names
            .into_iter()
            .map(|r| StringValue::from(r.to_owned()))
            .collect(),
        None => response
            .finish_reasons()
            .iter()
            .map(|r| StringValue::from(r.clone()))
            .collect(),
    };
    if !values.is_empty() {
        attributes.push(KeyValue::new(
            GEN_AI_RESPONSE_FINISH_REASONS,
            Value::Array(Array::String(values)),
        ));
    }
    if let Some(usage) = response.usage() {
        attributes.extend(usage.key_values());
    }
    attributes
}
