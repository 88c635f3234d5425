//! The streaming shapes `#[llm_span]` instruments.

use std::pin::Pin;

use agento::{LlmChunk, llm_span, retry_spans};
use futures_util::stream::{BoxStream, Stream, StreamExt};

struct Chunk(String);

impl LlmChunk for Chunk {
    fn text_delta(&self) -> &str {
        &self.0
    }
}

#[derive(Debug)]
struct Error;

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("failed")
    }
}

fn retryable(_: &Error) -> bool {
    true
}

#[llm_span(system = "openai", model = "gpt-4.1")]
async fn fallible_impl() -> Result<impl Stream<Item = Result<Chunk, Error>> + Send, Error> {
    Ok(futures_util::stream::empty())
}

#[llm_span(system = "openai", model = "gpt-4.1", stream)]
fn direct_impl() -> impl Stream<Item = Result<Chunk, Error>> {
    futures_util::stream::empty()
}

#[llm_span(system = "gemini", model = "gemini-2.5-pro")]
fn boxed() -> Result<BoxStream<'static, Result<Chunk, Error>>, Error> {
    Ok(futures_util::stream::empty().boxed())
}

#[llm_span(system = "anthropic", model = "claude-sonnet-4", skip(response))]
fn pinned() -> Pin<Box<dyn Stream<Item = Result<Chunk, Error>> + Send>> {
    Box::pin(futures_util::stream::empty())
}

#[retry_spans(max = 2, retry_if = retryable)]
#[llm_span(system = "openai", model = "gpt-4.1")]
async fn retried() -> Result<impl Stream<Item = Result<Chunk, Error>> + Send, Error> {
    Ok(futures_util::stream::empty())
}

fn main() {
    drop((fallible_impl(), direct_impl(), boxed(), pinned(), retried()));
}
