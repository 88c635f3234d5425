//! What the retry driver and the LLM span share about one attempt: the marker
//! the driver leaves in an attempt's context and the attempt span names.

use opentelemetry::Context;
use opentelemetry::trace::{SpanId, TraceContextExt};

/// Put in an attempt's context when the instrumentation below opens the attempt
/// span itself (see [`RetrySpec::attempt_spans`](crate::RetrySpec::attempt_spans)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptMarker {
    pub(crate) retry_span: SpanId,
    /// The attempt number, from 0.
    pub attempt: u32,
}

impl AttemptMarker {
    /// Whether `cx`'s active span is the retry span this marker belongs to (the
    /// marker applies to direct children only).
    pub fn is_for(&self, cx: &Context) -> bool {
        cx.span().span_context().span_id() == self.retry_span
    }
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
