//! Generated code is warning-free under `#![deny(warnings)]` and clippy's
//! pedantic lints (CI runs clippy on every test target).
#![deny(warnings, clippy::pedantic)]

use agento::{LlmChunk, LlmResponse, agento_module, llm_span, retry_spans, step};
use futures_util::stream::{self, Stream};

/// A reply.
pub struct Reply(String);

impl LlmResponse for Reply {
    fn text(&self) -> &str {
        &self.0
    }
}

/// Calls the model.
///
/// # Errors
/// Never.
#[retry_spans(max = 2, backoff = "none")]
#[llm_span(system = "gemini", model = "gemini-2.5-pro", temperature = 0.1, prompt = prompt)]
pub fn call(prompt: &str) -> Result<Reply, std::fmt::Error> {
    Ok(Reply(prompt.to_owned()))
}

/// A chunk.
pub struct Delta(&'static str);

impl LlmChunk for Delta {
    fn text_delta(&self) -> &str {
        self.0
    }
}

/// Streams the model's reply.
///
/// # Errors
/// Never.
#[retry_spans(max = 2, backoff = "none")]
#[llm_span(system = "openai", model = "gpt-4.1", prompt = prompt)]
pub async fn call_stream(
    prompt: &str,
) -> Result<impl Stream<Item = Result<Delta, std::fmt::Error>> + use<>, std::fmt::Error> {
    let _ = prompt;
    Ok(stream::iter([Ok(Delta("a"))]))
}

/// Streams without retries.
#[llm_span(system = "anthropic", model = "claude-sonnet-4-5", stream)]
pub fn direct_stream() -> impl Stream<Item = Result<Delta, std::fmt::Error>> {
    stream::iter([Ok(Delta("b"))])
}

/// A step.
///
/// # Errors
/// When the call fails.
#[step(fields(prompt))]
pub fn plan(prompt: &str) -> Result<String, std::fmt::Error> {
    Ok(call(prompt)?.0)
}

/// A stage.
///
/// # Errors
/// When the step fails.
#[agento_module(name = "pedantic", first)]
pub fn stage() -> Result<(), std::fmt::Error> {
    plan("Open a bakery").map(drop)
}

#[test]
fn instrumented_code_runs() {
    // SAFETY-free: no telemetry is active, so spans go to the no-op global tracer.
    assert_eq!(plan("a").as_deref(), Ok("a"));
}
