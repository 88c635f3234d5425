//! Behaviour of the macros against the SDK's in-memory exporter: exact span
//! names, kinds, parent links, attribute values and types, statuses.

use agento::{
    ErrorInfo, LlmResponse, TokenCounts, TokenUsage, agento_module, llm_span, retry_spans, step,
};
use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::{Array, Value};
use opentelemetry_sdk::trace::SpanData;

mod common;
use common::{attr, named, one, record, text};

fn is_child(child: &SpanData, parent: &SpanData) -> bool {
    child.parent_span_id == parent.span_context.span_id()
        && child.span_context.trace_id() == parent.span_context.trace_id()
}

#[derive(Debug)]
struct Reply {
    text: String,
    usage: TokenCounts,
    finish: Vec<String>,
}

impl LlmResponse for Reply {
    fn text(&self) -> &str {
        &self.text
    }
    fn usage(&self) -> Option<&dyn TokenUsage> {
        Some(&self.usage)
    }
    fn response_model(&self) -> Option<&str> {
        Some("gpt-4.1-2025-04-14")
    }
    fn finish_reasons(&self) -> &[String] {
        &self.finish
    }
}

fn reply(text: &str) -> Reply {
    Reply {
        text: text.to_owned(),
        usage: TokenCounts::new(12, 30),
        finish: vec!["stop".to_owned()],
    }
}

#[derive(Debug, PartialEq)]
enum CallError {
    Busy,
    Denied,
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Busy => "the vendor is busy",
            Self::Denied => "the request was denied",
        })
    }
}

impl ErrorInfo for CallError {
    fn error_type(&self) -> std::borrow::Cow<'static, str> {
        match self {
            Self::Busy => "http.503".into(),
            Self::Denied => "http.400".into(),
        }
    }
}

impl CallError {
    fn is_retryable(&self) -> bool {
        *self == Self::Busy
    }
}

struct Client {
    model: String,
    failures: std::cell::Cell<u32>,
}

impl Client {
    #[retry_spans(max = 3, backoff = "none", retry_if = CallError::is_retryable)]
    #[llm_span(system = "openai", model = self.model.as_str(), temperature = 0.2, max_tokens = 512_u32, step_type = "draft", step_name = step, prompt = prompt)]
    fn draft(&self, step: &str, prompt: &str) -> Result<Reply, CallError> {
        if self.failures.get() > 0 {
            self.failures.set(self.failures.get() - 1);
            return Err(CallError::Busy);
        }
        Ok(reply(&format!("{step}: {prompt}")))
    }

    #[retry_spans(max = 3, backoff = "none", retry_if = CallError::is_retryable)]
    #[llm_span(system = "openai", model = self.model.as_str())]
    async fn draft_async(&self, prompt: &str) -> Result<Reply, CallError> {
        if self.failures.get() > 0 {
            self.failures.set(self.failures.get() - 1);
            return Err(CallError::Busy);
        }
        tokio::task::yield_now().await;
        Ok(reply(prompt))
    }

    #[retry_spans(max = 3, backoff = "none", retry_if = CallError::is_retryable)]
    #[llm_span(system = "openai", model = self.model.as_str())]
    fn denied(&self) -> Result<Reply, CallError> {
        Err(CallError::Denied)
    }
}

#[test]
fn llm_span_records_the_request_and_the_response() {
    #[llm_span(system = "gemini", model = "gemini-2.5-pro", temperature = 0.1, step_type = "plan", prompt = goal)]
    fn generate_plan_structure(goal: &str) -> Result<Reply, CallError> {
        Ok(reply(&"x".repeat(9000 + goal.len())))
    }
    let (result, spans) = record(|| generate_plan_structure("Open a bakery"));
    assert!(result.is_ok());
    let span = one(&spans, "llm.gemini.generate_plan_structure");
    assert_eq!(span.span_kind, SpanKind::Client);
    assert_eq!(span.status, Status::Ok);
    assert_eq!(text(span, "openinference.span.kind"), "LLM");
    assert_eq!(text(span, "gen_ai.system"), "gemini");
    assert_eq!(text(span, "gen_ai.operation.name"), "chat");
    assert_eq!(text(span, "gen_ai.request.model"), "gemini-2.5-pro");
    assert_eq!(
        attr(span, "gen_ai.request.temperature"),
        Some(Value::F64(0.1))
    );
    assert_eq!(attr(span, "gen_ai.request.max_tokens"), None);
    assert_eq!(text(span, "agento.step_type"), "plan");
    assert_eq!(text(span, "gen_ai.prompt"), "Open a bakery");
    assert_eq!(text(span, "gen_ai.response.model"), "gpt-4.1-2025-04-14");
    assert_eq!(
        attr(span, "gen_ai.response.finish_reasons"),
        Some(Value::Array(Array::String(vec!["stop".into()])))
    );
    assert_eq!(
        attr(span, "gen_ai.usage.input_tokens"),
        Some(Value::I64(12))
    );
    assert_eq!(
        attr(span, "gen_ai.usage.output_tokens"),
        Some(Value::I64(30))
    );
    let content = text(span, "gen_ai.response.content");
    assert_eq!(content.chars().count(), 8000 + "...[truncated]".len());
    assert_eq!(
        attr(span, "gen_ai.response.truncated"),
        Some(Value::Bool(true))
    );
    assert_eq!(text(span, "agento.response.truncated_reason"), "size_limit");
    assert_eq!(attr(span, "agento.response.length"), Some(Value::I64(9013)));
}

#[test]
fn a_call_that_fails_once_gives_two_attempts_under_one_retry_span() {
    let client = Client {
        model: "gpt-4.1".into(),
        failures: 1.into(),
    };
    let (result, spans) = record(|| client.draft("Budget", "Write the budget"));
    assert_eq!(
        result.map(|r| r.text).ok().as_deref(),
        Some("Budget: Write the budget")
    );
    let retry = one(&spans, "llm.openai.draft.with_retry");
    assert_eq!(attr(retry, "retry.max_attempts"), Some(Value::I64(3)));
    // The retry span groups attempts: one LLM span per model call.
    assert_eq!(text(retry, "openinference.span.kind"), "CHAIN");
    assert_eq!(retry.status, Status::Ok);
    let first = one(&spans, "attempt_0");
    let second = one(&spans, "attempt_1");
    assert!(is_child(first, retry) && is_child(second, retry));
    assert_eq!(attr(first, "retry.attempt"), Some(Value::I64(0)));
    assert_eq!(attr(second, "retry.attempt"), Some(Value::I64(1)));
    assert!(
        matches!(&first.status, Status::Error { description } if description == "the vendor is busy")
    );
    assert_eq!(text(first, "error.type"), "http.503");
    let event = first
        .events
        .iter()
        .find(|e| e.name == "exception")
        .expect("exception event");
    assert!(
        event
            .attributes
            .iter()
            .any(|kv| kv.key.as_str() == "exception.type" && kv.value.as_str() == "http.503")
    );
    assert_eq!(second.status, Status::Ok);
    for attempt in [first, second] {
        assert_eq!(attempt.span_kind, SpanKind::Client);
        assert_eq!(text(attempt, "gen_ai.system"), "openai");
        assert_eq!(text(attempt, "gen_ai.request.model"), "gpt-4.1");
        assert_eq!(
            attr(attempt, "gen_ai.request.max_tokens"),
            Some(Value::I64(512))
        );
        assert_eq!(text(attempt, "agento.step_name"), "Budget");
        assert_eq!(text(attempt, "openinference.span.kind"), "LLM");
    }
    // Only the attempt that holds the step's content carries its step type.
    assert_eq!(attr(first, "agento.step_type"), None);
    assert_eq!(text(second, "agento.step_type"), "draft");
    // The retry span shows the call's input and output (OpenInference).
    assert_eq!(text(retry, "input.value"), text(first, "input.value"));
    assert_eq!(text(retry, "output.value"), "Budget: Write the budget");
    assert_eq!(
        text(second, "gen_ai.response.content"),
        "Budget: Write the budget"
    );
    assert_eq!(spans.len(), 3);
}

#[test]
fn an_error_that_is_not_retried_ends_after_one_attempt() {
    let client = Client {
        model: "gpt-4.1".into(),
        failures: 0.into(),
    };
    let (result, spans) = record(|| client.denied());
    assert_eq!(result.err(), Some(CallError::Denied));
    let retry = one(&spans, "llm.openai.denied.with_retry");
    assert!(
        matches!(&retry.status, Status::Error { description } if description.contains("not retried"))
    );
    assert_eq!(text(retry, "error.type"), "http.400");
    assert_eq!(named(&spans, "attempt_0").len(), 1);
    assert!(named(&spans, "attempt_1").is_empty());
}

#[test]
fn async_and_sync_calls_give_the_same_tree() {
    let client = Client {
        model: "gpt-4.1".into(),
        failures: 2.into(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (result, spans) = record(|| runtime.block_on(client.draft_async("hello")));
    assert!(result.is_ok());
    let retry = one(&spans, "llm.openai.draft_async.with_retry");
    let names: Vec<&str> = ["attempt_0", "attempt_1", "attempt_2"]
        .into_iter()
        .collect();
    for name in &names {
        assert!(is_child(one(&spans, name), retry), "{name}");
    }
    assert_eq!(one(&spans, "attempt_2").status, Status::Ok);
    assert!(matches!(
        one(&spans, "attempt_1").status,
        Status::Error { .. }
    ));
}

#[step(kind = TOOL, fields(step_name, count))]
fn count_words(step_name: &str, count: usize) -> Result<usize, CallError> {
    if count == 0 {
        return Err(CallError::Denied);
    }
    Ok(step_name.split_whitespace().count() * count)
}

#[test]
fn step_records_its_fields_and_its_outcome() {
    let (result, spans) = record(|| (count_words("open a bakery", 2), count_words("x", 0)));
    assert_eq!(result.0, Ok(6));
    let steps = named(&spans, "count_words");
    assert_eq!(steps.len(), 2);
    assert_eq!(text(steps[0], "openinference.span.kind"), "TOOL");
    assert_eq!(text(steps[0], "agento.step_name"), "open a bakery");
    assert_eq!(attr(steps[0], "agento.count"), Some(Value::I64(2)));
    assert_eq!(steps[0].status, Status::Ok);
    assert!(matches!(steps[1].status, Status::Error { .. }));
    assert_eq!(text(steps[1], "error.type"), "http.400");
}

#[step(name = "develop_drafts")]
fn panicking_step() {
    panic!("the model said nothing");
}

#[test]
fn a_panicking_body_still_ends_its_span_with_error() {
    let (caught, spans) = record(|| std::panic::catch_unwind(panicking_step));
    assert!(caught.is_err());
    let span = one(&spans, "develop_drafts");
    assert!(
        matches!(&span.status, Status::Error { description } if description.contains("the model said nothing")),
        "{:?}",
        span.status
    );
    assert_eq!(text(span, "error.type"), "panic");
}

#[agento_module(name = "2_Revise-Plan-Stable", final)]
fn final_stage() -> Result<u32, CallError> {
    assert!(agento::record_final_response(
        &serde_json::json!({"Title": "Bakery"})
    ));
    count_words("a b", 1).map(|n| n as u32)
}

#[test]
fn a_final_module_nests_in_a_run_and_records_the_final_response() {
    #[agento_module(root)]
    fn run() -> Result<u32, CallError> {
        final_stage()
    }
    let (result, spans) = record(run);
    assert_eq!(result, Ok(2));
    let root = one(&spans, "agento.pipeline");
    let module = one(&spans, "agento.module.2_Revise-Plan-Stable");
    let step = one(&spans, "count_words");
    assert!(is_child(module, root) && is_child(step, module));
    assert_eq!(text(root, "openinference.span.kind"), "AGENT");
    assert_eq!(text(module, "openinference.span.kind"), "CHAIN");
    assert_eq!(
        text(module, "agent.final_response"),
        r#"{"Title":"Bakery"}"#
    );
    assert_eq!(attr(root, "agent.final_response"), None);
}

/// A bare `#[retry_spans]` (no `#[llm_span]` below, as the README allows):
/// the driver opens the `attempt_<n>` spans itself.
#[retry_spans(max = 3, backoff = "none")]
fn fetch_rates(failures: &std::cell::Cell<u32>) -> Result<u32, CallError> {
    if failures.get() > 0 {
        failures.set(failures.get() - 1);
        return Err(CallError::Busy);
    }
    Ok(42)
}

#[test]
fn a_bare_retry_records_the_failed_attempt_as_error_and_the_next_as_ok() {
    let failures = std::cell::Cell::new(1);
    let (result, spans) = record(|| fetch_rates(&failures));
    assert_eq!(result, Ok(42));
    let retry = one(&spans, "fetch_rates.with_retry");
    assert_eq!(retry.status, Status::Ok);
    assert_eq!(attr(retry, "retry.max_attempts"), Some(Value::I64(3)));
    let first = one(&spans, "attempt_0");
    let second = one(&spans, "attempt_1");
    assert!(named(&spans, "attempt_2").is_empty(), "no third attempt");
    assert!(is_child(first, retry) && is_child(second, retry));
    assert_eq!(attr(first, "retry.attempt"), Some(Value::I64(0)));
    assert_eq!(attr(second, "retry.attempt"), Some(Value::I64(1)));
    assert!(
        matches!(&first.status, Status::Error { description } if description == "the vendor is busy"),
        "attempt_0: {:?}",
        first.status
    );
    assert_eq!(text(first, "error.type"), "http.503");
    let event = first
        .events
        .iter()
        .find(|e| e.name == "exception")
        .expect("an exception event on the failed attempt");
    assert!(
        event
            .attributes
            .iter()
            .any(|kv| kv.key.as_str() == "exception.type" && kv.value.as_str() == "http.503")
    );
    assert!(
        event
            .attributes
            .iter()
            .any(|kv| kv.key.as_str() == "exception.message"
                && kv.value.as_str() == "the vendor is busy")
    );
    assert_eq!(second.status, Status::Ok);
    assert!(attr(second, "error.type").is_none());
    assert!(second.events.iter().all(|e| e.name != "exception"));
}
