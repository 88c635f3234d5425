//! Streaming LLM calls: the [`LlmChunk`] trait and [`LlmStream`], the stream
//! `#[llm_span]` hands back for a function that returns a stream.
//!
//! The LLM span stays open while the caller consumes the stream. It ends
//!
//! - when the stream ends, with status `OK` and the reply assembled from the
//!   chunks (`gen_ai.response.content`, truncated and scrubbed like any reply),
//!   the usage and finish reasons of the chunks that carry them;
//! - at the first `Err` item, with status `ERROR` and the error recorded like a
//!   failed call;
//! - when the caller drops the stream before its end, with status `ERROR`,
//!   `error.type = "abandoned"` and a message saying after how many chunks.
//!
//! Every streaming span carries `gen_ai.request.stream = true`,
//! `gen_ai.response.time_to_first_chunk` (seconds from the span's start to the
//! first chunk, the GenAI registry's attribute) and `agento.response.chunks`
//! (how many chunks arrived).
//!
//! ```
//! use agento_runtime::__private::{LlmRequest, LlmSpec, LlmStream};
//! use agento_runtime::{ErrorReport, LlmChunk, SpanGuard};
//! use futures_util::StreamExt;
//!
//! struct Delta(&'static str);
//! impl LlmChunk for Delta {
//!     fn text_delta(&self) -> &str { self.0 }
//! }
//!
//! static SPEC: LlmSpec = LlmSpec {
//!     system: "openai", operation: "chat", span_name: "llm.openai.reply", step_type: None,
//! };
//! let started = std::time::Instant::now();
//! let span = SpanGuard::llm(&SPEC, &LlmRequest { model: "gpt-4o", ..Default::default() });
//! let chunks = futures_util::stream::iter([Ok::<_, std::fmt::Error>(Delta("Hel")), Ok(Delta("lo"))]);
//! let report = |item: &Result<Delta, std::fmt::Error>| item.as_ref().err().map(ErrorReport::of);
//! let mut stream = LlmStream::new(chunks, span, started, true, report);
//! let text = futures_util::FutureExt::now_or_never(async {
//!     let mut text = String::new();
//!     while let Some(Ok(chunk)) = stream.next().await { text.push_str(chunk.0); }
//!     text
//! });
//! assert_eq!(text.as_deref(), Some("Hello"));
//! //! ```

use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

pub use futures_core::Stream;
use opentelemetry::KeyValue;
use pin_project_lite::pin_project;

use crate::attributes::{
    AGENTO_RESPONSE_CHUNKS, GEN_AI_REQUEST_STREAM, GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
};
use crate::error::ErrorReport;
use crate::response::LlmResponse;
use crate::span::SpanGuard;
use crate::usage::{TokenCounts, TokenUsage};

/// One chunk of a streamed LLM reply.
///
/// Only [`text_delta`](Self::text_delta) is required; the rest default to "not
/// in this chunk". Usage counts that several chunks carry are merged field by
/// field, the later chunk winning (Anthropic reports input tokens first and
/// output tokens last).
///
/// ```
/// use agento_runtime::{LlmChunk, TokenCounts};
/// use agento_runtime::TokenUsage;
///
/// struct Chunk { delta: String, usage: Option<TokenCounts>, finish: Option<String> }
///
/// impl LlmChunk for Chunk {
///     fn text_delta(&self) -> &str { &self.delta }
///     fn usage(&self) -> Option<&dyn TokenUsage> { self.usage.as_ref().map(|u| u as &dyn TokenUsage) }
///     fn finish_reason(&self) -> Option<&str> { self.finish.as_deref() }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a chunk of a streamed LLM reply",
    label = "`#[llm_span]` records the chunks of this type",
    note = "the stream's items must be `Result<C, E>` with `C: agento::LlmChunk` (its text delta, token usage, finish reason)"
)]
pub trait LlmChunk {
    /// The text this chunk adds to the reply.
    fn text_delta(&self) -> &str;
    /// Token counts, when this chunk carries them.
    fn usage(&self) -> Option<&dyn TokenUsage> {
        None
    }
    /// Why generation stopped, when this chunk says so.
    fn finish_reason(&self) -> Option<&str> {
        None
    }
    /// The model that answers, when this chunk names it.
    fn response_model(&self) -> Option<&str> {
        None
    }
    /// The vendor's id for the response, when this chunk names it.
    fn response_id(&self) -> Option<&str> {
        None
    }
}

impl<T: LlmChunk + ?Sized> LlmChunk for Box<T> {
    fn text_delta(&self) -> &str {
        (**self).text_delta()
    }
    fn usage(&self) -> Option<&dyn TokenUsage> {
        (**self).usage()
    }
    fn finish_reason(&self) -> Option<&str> {
        (**self).finish_reason()
    }
    fn response_model(&self) -> Option<&str> {
        (**self).response_model()
    }
    fn response_id(&self) -> Option<&str> {
        (**self).response_id()
    }
}

/// The reply assembled from the chunks so far.
#[derive(Debug, Default)]
struct Assembled {
    text: String,
    usage: Option<TokenCounts>,
    model: Option<String>,
    id: Option<String>,
    finish_reasons: Vec<String>,
}

impl LlmResponse for Assembled {
    fn text(&self) -> &str {
        &self.text
    }
    fn usage(&self) -> Option<&dyn TokenUsage> {
        self.usage.as_ref().map(|u| u as &dyn TokenUsage)
    }
    fn response_model(&self) -> Option<&str> {
        self.model.as_deref()
    }
    fn finish_reasons(&self) -> &[String] {
        &self.finish_reasons
    }
    fn response_id(&self) -> Option<&str> {
        self.id.as_deref()
    }
}

/// The open span of a stream and what the chunks told so far.
#[derive(Debug)]
struct Open {
    span: SpanGuard,
    started: Instant,
    chunks: u64,
    reply: Assembled,
    content: bool,
}

impl Open {
    fn chunk<C: LlmChunk + ?Sized>(&mut self, chunk: &C) {
        if self.chunks == 0 {
            let seconds = self.started.elapsed().as_secs_f64();
            self.span
                .set_attribute(KeyValue::new(GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, seconds));
            self.span.note_first_chunk(seconds);
        }
        self.chunks += 1;
        if self.content {
            self.reply.text.push_str(chunk.text_delta());
        }
        if let Some(usage) = chunk.usage() {
            self.reply.usage.get_or_insert_default().merge(usage);
        }
        if let Some(reason) = chunk.finish_reason() {
            self.reply.finish_reasons.push(reason.to_owned());
        }
        if self.reply.model.is_none()
            && let Some(model) = chunk.response_model()
        {
            self.reply.model = Some(model.to_owned());
        }
        if self.reply.id.is_none()
            && let Some(id) = chunk.response_id()
        {
            self.reply.id = Some(id.to_owned());
        }
    }

    /// Records what arrived (the reply, the chunk count) and ends the span.
    fn close(self, failure: Option<&ErrorReport>) {
        let chunks = i64::try_from(self.chunks).unwrap_or(i64::MAX);
        self.span
            .set_attribute(KeyValue::new(AGENTO_RESPONSE_CHUNKS, chunks));
        match failure {
            None if self.content => self.span.record_response(&self.reply),
            None => self.span.record_response_metadata(&self.reply),
            Some(report) => {
                self.span.note_response(&self.reply);
                let attributes = self
                    .span
                    .partial_response_attributes(&self.reply, self.content);
                self.span.span().set_attributes(attributes);
                self.span.record_report(report);
            }
        }
    }
}

pin_project! {
    /// A stream of LLM reply chunks with its span: what `#[llm_span]` returns
    /// for a streaming function. It yields the inner stream's items unchanged.
    ///
    /// See the [module documentation](self) for what it records and when the
    /// span ends.
    pub struct LlmStream<S, F> {
        #[pin]
        inner: S,
        open: Option<Box<Open>>,
        report: F,
    }

    impl<S, F> PinnedDrop for LlmStream<S, F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(open) = this.open.take() {
                let chunks = open.chunks;
                open.close(Some(&ErrorReport {
                    error_type: ABANDONED.into(),
                    message: format!("abandoned: the caller dropped the stream after {chunks} chunks, before its end"),
                    retry_after: None,
                }));
            }
        }
    }
}

/// The `error.type` of a stream dropped before its end.
pub const ABANDONED: &str = "abandoned";

impl<S, F> std::fmt::Debug for LlmStream<S, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmStream")
            .field("open", &self.open.is_some())
            .finish_non_exhaustive()
    }
}

/// Records on the span current on this thread or task that its call streamed:
/// `gen_ai.request.stream`, `gen_ai.response.time_to_first_chunk` (seconds,
/// when a chunk came) and `agento.response.chunks`. For code that consumes a
/// stream inside an instrumented function returning the whole reply.
///
/// ```
/// // Outside any span this is a no-op.
/// agento_runtime::record_streamed(Some(0.25), 12);
/// ```
pub fn record_streamed(time_to_first_chunk: Option<f64>, chunks: u64) {
    let mut attributes = vec![
        KeyValue::new(GEN_AI_REQUEST_STREAM, true),
        KeyValue::new(
            AGENTO_RESPONSE_CHUNKS,
            i64::try_from(chunks).unwrap_or(i64::MAX),
        ),
    ];
    if let Some(seconds) = time_to_first_chunk {
        attributes.push(KeyValue::new(GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, seconds));
    }
    opentelemetry::Context::map_current(|cx| {
        opentelemetry::trace::TraceContextExt::span(cx).set_attributes(attributes);
    });
}

/// Marks `span` as the span of a streaming request (`gen_ai.request.stream`).
pub fn mark_streaming(span: &SpanGuard) {
    span.set_attribute(KeyValue::new(GEN_AI_REQUEST_STREAM, true));
}

impl<S, F, C, E> LlmStream<S, F>
where
    S: Stream<Item = Result<C, E>>,
    C: LlmChunk,
    F: Fn(&Result<C, E>) -> Option<ErrorReport>,
{
    /// Wraps `inner`; `span` (an LLM span, see [`SpanGuard::llm`]) ends with the
    /// stream. `started` is when the request was issued (the time to first
    /// chunk is measured from it), `content` whether the reply text is
    /// recorded, and `report` turns an `Err` item into what is recorded
    /// (`None` for an `Ok` item).
    pub fn new(inner: S, span: SpanGuard, started: Instant, content: bool, report: F) -> Self {
        mark_streaming(&span);
        Self {
            inner,
            open: Some(Box::new(Open {
                span,
                started,
                chunks: 0,
                reply: Assembled::default(),
                content,
            })),
            report,
        }
    }

    /// How many chunks arrived so far.
    pub fn chunks(&self) -> u64 {
        self.open.as_ref().map_or(0, |open| open.chunks)
    }
}

impl<S, F, C, E> Stream for LlmStream<S, F>
where
    S: Stream<Item = Result<C, E>>,
    C: LlmChunk,
    F: Fn(&Result<C, E>) -> Option<ErrorReport>,
{
    type Item = Result<C, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        let item = std::task::ready!(this.inner.poll_next(cx));
        match &item {
            Some(Ok(chunk)) => {
                if let Some(open) = this.open.as_mut() {
                    open.chunk(chunk);
                }
            }
            Some(failed @ Err(_)) => {
                if let Some(open) = this.open.take() {
                    open.close((this.report)(failed).as_ref());
                }
            }
            None => {
                if let Some(open) = this.open.take() {
                    open.close(None);
                }
            }
        }
        Poll::Ready(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

pin_project! {
    /// A stream whose first item was already taken (by the retry driver, to see
    /// whether the attempt failed before its first chunk), and the guard of a
    /// span that ends with the stream (the `.with_retry` span).
    pub struct Peeked<S: Stream, G> {
        // `Some(None)`: the stream ended before its first item.
        first: Option<Option<S::Item>>,
        #[pin]
        inner: S,
        guard: Option<G>,
    }
}

impl<S: Stream, G> std::fmt::Debug for Peeked<S, G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peeked")
            .field("pending_first", &self.first.is_some())
            .finish_non_exhaustive()
    }
}

impl<S: Stream + Unpin, G> Peeked<S, G> {
    /// Takes the first item of `inner` (waiting for it).
    pub async fn first(mut inner: S) -> Self {
        let first = std::future::poll_fn(|cx| Pin::new(&mut inner).poll_next(cx)).await;
        Self {
            first: Some(first),
            inner,
            guard: None,
        }
    }
}

impl<S: Stream, G> Peeked<S, G> {
    /// The first item, if the stream had one.
    pub fn first_item(&self) -> Option<&S::Item> {
        self.first.as_ref().and_then(Option::as_ref)
    }

    /// Keeps `guard` alive until the stream ends or is dropped.
    #[must_use]
    pub fn keep(mut self, guard: G) -> Self {
        self.guard = Some(guard);
        self
    }
}

impl<S: Stream, G> Stream for Peeked<S, G> {
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        let item = match this.first.take() {
            Some(first) => first,
            None => std::task::ready!(this.inner.poll_next(cx)),
        };
        if item.is_none() {
            this.guard.take();
        }
        Poll::Ready(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_usage_keeps_the_last_count_of_each_kind() {
        let mut merged = TokenCounts::default();
        merged.merge(&TokenCounts::new(12, 1));
        merged.merge(&TokenCounts::new(12, 40));
        assert_eq!(
            (merged.input_tokens(), merged.output_tokens()),
            (Some(12), Some(40))
        );
    }
}
