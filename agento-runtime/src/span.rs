//! [`SpanGuard`]: a span that is ended when the guard drops, and the text
//! attribute rule (truncation markers) every span of ours follows.

use std::borrow::Cow;
use std::cell::RefCell;
use std::future::Future;

use opentelemetry::context::{ContextGuard, FutureExt, WithContext};
use opentelemetry::trace::{
    SpanBuilder, SpanKind as OtelSpanKind, SpanRef, Status, TraceContextExt,
};
use opentelemetry::{Context, Key, KeyValue, Value};

use crate::attributes::OPENINFERENCE_SPAN_KIND;
use crate::error::{ErrorReport, record_error};
use crate::io::IoValue;
use crate::response::LlmResponse;
use crate::semconv::Semconv;
use crate::semconv::openinference::MIME_TEXT;
use crate::shared_text::shared_text;
use crate::{registry, tracer};

/// The OpenInference span kind, recorded as `openinference.span.kind`.
///
/// ```
/// assert_eq!(agento_runtime::SpanKind::Evaluator.as_str(), "EVALUATOR");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpanKind {
    /// An autonomous agent run (the pipeline, the first module).
    Agent,
    /// A workflow step that chains other steps.
    Chain,
    /// One call of a language model.
    Llm,
    /// A tool call.
    Tool,
    /// A judgement of other output.
    Evaluator,
    /// A retrieval.
    Retriever,
    /// An embedding call.
    Embedding,
    /// A guard-rail check.
    Guardrail,
}

impl SpanKind {
    /// The OpenInference value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Agent => "AGENT",
            Self::Chain => "CHAIN",
            Self::Llm => "LLM",
            Self::Tool => "TOOL",
            Self::Evaluator => "EVALUATOR",
            Self::Retriever => "RETRIEVER",
            Self::Embedding => "EMBEDDING",
            Self::Guardrail => "GUARDRAIL",
        }
    }
}

thread_local! {
    static PANIC_MESSAGE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Remembers the message of the panic now unwinding this thread, so that every
/// span the unwinding ends can record it. Called by the runtime's panic hook.
pub(crate) fn remember_panic(message: String) {
    PANIC_MESSAGE.with(|slot| *slot.borrow_mut() = Some(message));
}

fn panic_message() -> String {
    PANIC_MESSAGE
        .with(|slot| slot.borrow().clone())
        .unwrap_or_else(|| "the operation panicked".to_owned())
}

/// An open span, ended when the guard is dropped.
///
/// A guard dropped while its thread panics ends the span with status `ERROR`,
/// `error.type = "panic"` and the panic message.
///
/// ```
/// use agento_runtime::{SpanGuard, SpanKind};
/// let span = SpanGuard::start("develop_drafts", SpanKind::Chain);
/// {
///     let _active = span.enter(); // spans started here are its children
///     span.set_text("agento.step_name", "Budget");
/// }
/// span.set_ok();
/// ```
#[derive(Debug)]
pub struct SpanGuard {
    cx: Context,
    registered: Option<u64>,
    pub(crate) call: Option<Box<crate::metrics::CallMetrics>>,
}

impl SpanGuard {
    /// Starts an `INTERNAL` span of OpenInference `kind`, child of the current context.
    pub fn start(name: impl Into<Cow<'static, str>>, kind: SpanKind) -> Self {
        Self::start_with(name, kind, OtelSpanKind::Internal, Vec::new())
    }

    /// Starts a span with its OpenTelemetry kind and first attributes, child of
    /// the current context.
    pub fn start_with(
        name: impl Into<Cow<'static, str>>,
        kind: SpanKind,
        otel_kind: OtelSpanKind,
        attributes: Vec<KeyValue>,
    ) -> Self {
        Context::map_current(|parent| Self::start_in(parent, name, kind, otel_kind, attributes))
    }

    /// Starts a span as a child of `parent`.
    pub fn start_in(
        parent: &Context,
        name: impl Into<Cow<'static, str>>,
        kind: SpanKind,
        otel_kind: OtelSpanKind,
        mut attributes: Vec<KeyValue>,
    ) -> Self {
        attributes.push(KeyValue::new(OPENINFERENCE_SPAN_KIND, kind.as_str()));
        let builder = SpanBuilder::from_name(name)
            .with_kind(otel_kind)
            .with_attributes(attributes);
        let cx = tracer::start(builder, parent);
        let registered = registry::register(&cx);
        Self {
            cx,
            registered,
            call: None,
        }
    }

    /// The context in which this span is the active one.
    pub fn context(&self) -> &Context {
        &self.cx
    }

    /// Adds `value` to this span's context, so that code running inside finds it.
    pub(crate) fn add_context_value<T: Send + Sync + 'static>(&mut self, value: T) {
        self.cx = self.cx.with_value(value);
    }

    /// The span itself.
    pub fn span(&self) -> SpanRef<'_> {
        self.cx.span()
    }

    /// Makes this span current on this thread until the returned guard drops.
    #[must_use = "the span is current only while the returned guard lives"]
    pub fn enter(&self) -> ContextGuard {
        self.cx.clone().attach()
    }

    /// Runs `future` with this span current whenever it is polled.
    pub fn instrument<F: Future>(&self, future: F) -> WithContext<F> {
        future.with_context(self.cx.clone())
    }

    /// Adds an attribute.
    pub fn set_attribute(&self, attribute: KeyValue) {
        self.span().set_attribute(attribute);
    }

    /// Adds a text attribute, truncated per memo §4 on export (see [`truncate`](crate::truncate)).
    pub fn set_text(&self, key: impl Into<Key>, text: &str) {
        let mut attributes = Vec::with_capacity(1);
        text_attributes(key.into(), text, &mut attributes);
        self.span().set_attributes(attributes);
    }

    /// Adds an event.
    pub fn add_event(&self, name: impl Into<Cow<'static, str>>, attributes: Vec<KeyValue>) {
        self.span().add_event(name, attributes);
    }

    /// Marks the span failed (see [`record_error`]); with OpenInference on,
    /// the message is the span's output.
    pub fn record_error(&self, error_type: &str, message: &str) {
        self.note_failure(error_type);
        record_error(&self.span(), error_type, message);
        crate::io::record_output(&self.span(), message, MIME_TEXT);
    }

    /// Marks the span failed with a report built by the instrumentation;
    /// with OpenInference on, its message is the span's output.
    pub fn record_report(&self, report: &ErrorReport) {
        self.note_failure(&report.error_type);
        report.record(&self.span());
        crate::io::record_output(&self.span(), &report.message, MIME_TEXT);
    }

    /// Sets status `OK`.
    pub fn set_ok(&self) {
        self.span().set_status(Status::Ok);
    }

    /// Ends the span now.
    pub fn end(self) {
        drop(self);
    }
}

impl Drop for SpanGuard {
    fn drop(&mut self) {
        if let Some(key) = self.registered.take() {
            registry::unregister(key);
        }
        let span = self.cx.span();
        if std::thread::panicking() {
            record_error(&span, "panic", &panic_message());
        }
        if let Some(call) = self.call.take() {
            call.record(std::thread::panicking());
        }
        span.end();
    }
}

/// Pushes the attribute that records `text` under `key`. The text is cut per
/// memo §4 where the span leaves the process, after scrubbing, with marker
/// attributes: for `gen_ai.response.content` the memo's
/// (`gen_ai.response.truncated`, `agento.response.truncated_reason`,
/// `agento.response.length`); for any other key `K`, `K.truncated = true` and
/// `K.length = <characters>`.
///
/// With content capture off (`OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=false`)
/// it pushes nothing: every text is content.
pub fn text_attributes(key: Key, text: &str, out: &mut Vec<KeyValue>) {
    if !Semconv::current().content {
        return;
    }
    text_attributes_value(key, text, out);
}

/// [`text_attributes`] whatever the content setting; returns the (shared)
/// value recorded, for recording under other keys too.
pub(crate) fn text_attributes_value(key: Key, text: &str, out: &mut Vec<KeyValue>) -> Value {
    let value = shared_text(text);
    out.push(KeyValue::new(key, value.clone()));
    value
}

/// Sets a text attribute (truncated per memo §4) on the span current on this
/// thread or task: for the companion attributes an instrumented function knows
/// only inside its body. Does nothing outside a span.
///
/// ```
/// // Outside any span this is a no-op.
/// agento_runtime::record_text("agento.criteria", "specific and dated");
/// ```
pub fn record_text(key: &'static str, text: &str) {
    let mut attributes = Vec::with_capacity(1);
    text_attributes(Key::from_static_str(key), text, &mut attributes);
    Context::map_current(|cx| cx.span().set_attributes(attributes));
}

/// Inputs and outputs, and what a call's metrics note.
impl SpanGuard {
    /// Sets this span's OpenInference input (`input.value`, `input.mime_type`).
    ///
    /// ```
    /// use agento_runtime::{IoValue, SpanGuard, SpanKind};
    /// let span = SpanGuard::start("agento.event.accepted_revision", SpanKind::Chain);
    /// span.record_input(&IoValue::Text("Add a budget table".into()));
    /// ```
    pub fn record_input(&self, value: &IoValue) {
        if crate::io::enabled() {
            let (text, mime) = value.parts();
            crate::io::record_input(&self.span(), &text, mime);
        }
    }

    /// Sets this span's OpenInference output (`output.value`, `output.mime_type`).
    pub fn record_output(&self, value: &IoValue) {
        if crate::io::enabled() {
            value.record_output(&self.span());
        }
    }

    /// Notes an LLM reply for the call's metrics.
    pub(crate) fn note_response<R: LlmResponse + ?Sized>(&self, response: &R) {
        if let Some(call) = &self.call {
            call.response(response.usage(), response.response_model());
        }
    }

    /// Notes a failure for the call's metrics.
    pub(crate) fn note_failure(&self, error_type: &str) {
        if let Some(call) = &self.call {
            call.failed(error_type);
        }
    }

    /// Notes the time to the first chunk of a stream for the call's metrics.
    pub(crate) fn note_first_chunk(&self, seconds: f64) {
        if let Some(call) = &self.call {
            call.first_chunk(seconds);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_get_their_markers_where_they_leave_the_process() {
        let mut out = Vec::new();
        text_attributes(
            Key::from_static_str("user_goal"),
            &"x".repeat(9000),
            &mut out,
        );
        assert_eq!(out.len(), 1, "recorded whole");
        assert_eq!(out[0].value.as_str().len(), 9000);
        crate::truncate::cut_span_texts(&mut out);
        assert_eq!(out.len(), 3);
        assert_eq!(out[2], KeyValue::new("user_goal.length", 9000));
    }
}
