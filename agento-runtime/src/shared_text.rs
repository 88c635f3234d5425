//! Texts recorded once and shared: a reply sits under several keys (one per
//! convention) and is handed to both the archive and the OTLP path, so each
//! copy is a pointer, not kilobytes. Texts are cut per memo §4 where the span
//! leaves the process ([`crate::truncate::cut_span_texts`]).

use std::sync::Arc;

use opentelemetry::{StringValue, Value};

/// `text` as a reference-counted attribute value.
pub(crate) fn shared_text(text: &str) -> Value {
    Value::String(StringValue::from(Arc::<str>::from(text)))
}
