//! OpenInference `input.value` / `output.value` (with their mime types) on
//! non-LLM spans: module spans, `#[step]` spans, events and evaluators.
//!
//! Recorded only when the `openinference` convention is on and content is
//! captured ([`Semconv::io`]). Texts are truncated like every text attribute
//! and scrubbed on export.
//!
//! ```
//! use agento_runtime::IoValue;
//! use agento_runtime::__private::io::{IoProbe, ViaDebug, ViaNothing, ViaSerialize};
//! # #[allow(clippy::needless_borrow)]
//! let json = (&&&IoProbe(&vec!["a", "b"])).io_value().unwrap();
//! assert_eq!(json, IoValue::Json(serde_json::json!(["a", "b"])));
//! struct Opaque;
//! # #[allow(clippy::needless_borrow)]
//! assert!((&&&IoProbe(&Opaque)).io_value().is_none());
//! ```

use std::fmt::Debug;

use opentelemetry::trace::SpanRef;
use opentelemetry::{KeyValue, Value};
use serde::Serialize;

use crate::semconv::Semconv;
use crate::semconv::openinference::{
    INPUT_MIME_TYPE, INPUT_VALUE, MIME_JSON, MIME_TEXT, OUTPUT_MIME_TYPE, OUTPUT_VALUE,
};
use crate::shared_text::shared_text;

/// A span's input or output: JSON, or a plain text.
#[derive(Debug, Clone, PartialEq)]
pub enum IoValue {
    /// A JSON value (`application/json`).
    Json(serde_json::Value),
    /// A plain text (`text/plain`).
    Text(String),
}

impl IoValue {
    /// `value` as JSON, when it can be serialised.
    pub fn of_serialize<T: Serialize + ?Sized>(value: &T) -> Option<Self> {
        serde_json::to_value(value).ok().map(Self::Json)
    }

    /// Records the value as `span`'s output.
    pub fn record_output(&self, span: &SpanRef<'_>) {
        let (text, mime) = self.parts();
        record_output(span, &text, mime);
    }

    pub(crate) fn parts(&self) -> (std::borrow::Cow<'_, str>, &'static str) {
        match self {
            Self::Json(value) => (value.to_string().into(), MIME_JSON),
            Self::Text(text) => (text.as_str().into(), MIME_TEXT),
        }
    }
}

/// Whether this process records inputs and outputs (OpenInference with content).
pub fn enabled() -> bool {
    Semconv::current().io()
}

/// Sets `input.value` and `input.mime_type` on `span`.
pub fn record_input(span: &SpanRef<'_>, text: &str, mime: &'static str) {
    if enabled() {
        span.set_attributes([
            KeyValue::new(INPUT_VALUE, shared_text(text)),
            KeyValue::new(INPUT_MIME_TYPE, mime),
        ]);
    }
}

/// Sets `output.value` and `output.mime_type` on `span`.
pub fn record_output(span: &SpanRef<'_>, text: &str, mime: &'static str) {
    if enabled() {
        record_output_value(span, &shared_text(text), mime);
    }
}

/// [`record_output`] of a text already shared with other keys or spans.
pub(crate) fn record_output_value(span: &SpanRef<'_>, value: &Value, mime: &'static str) {
    if enabled() {
        span.set_attributes([
            KeyValue::new(OUTPUT_VALUE, value.clone()),
            KeyValue::new(OUTPUT_MIME_TYPE, mime),
        ]);
    }
}

/// The arguments of a `#[step]` call, gathered into one JSON object for its
/// `input.value` (generated code).
#[derive(Debug, Default)]
pub struct Inputs {
    object: serde_json::Map<String, serde_json::Value>,
}

impl Inputs {
    /// No arguments yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds argument `name`, when it could be rendered.
    pub fn push(&mut self, name: &str, value: Option<IoValue>) {
        let json = match value {
            Some(IoValue::Json(json)) => json,
            Some(IoValue::Text(text)) => serde_json::Value::String(text),
            None => return,
        };
        self.object.insert(name.to_owned(), json);
    }

    /// Records the arguments as the span's JSON input.
    pub fn record(self, span: &SpanRef<'_>) {
        let text = serde_json::Value::Object(self.object).to_string();
        record_input(span, &text, MIME_JSON);
    }
}

/// Wraps a reference for autoref-specialised rendering (generated code):
/// `(&&&IoProbe(&value)).io_value()` is JSON for a `Serialize` type, the
/// `Debug` text otherwise, or `None`. As with [`crate::error::probe`], the
/// choice is made on the concrete type at the call site.
#[derive(Debug)]
pub struct IoProbe<'a, T: ?Sized>(pub &'a T);

/// Chosen for `T: Serialize`.
pub trait ViaSerialize {
    /// The value as JSON.
    fn io_value(&self) -> Option<IoValue>;
}

impl<T: Serialize + ?Sized> ViaSerialize for &&IoProbe<'_, T> {
    fn io_value(&self) -> Option<IoValue> {
        IoValue::of_serialize(self.0)
    }
}

/// Chosen for `T: Debug` (not `Serialize`).
pub trait ViaDebug {
    /// The value's `Debug` text.
    fn io_value(&self) -> Option<IoValue>;
}

impl<T: Debug + ?Sized> ViaDebug for &IoProbe<'_, T> {
    fn io_value(&self) -> Option<IoValue> {
        Some(IoValue::Text(format!("{:?}", self.0)))
    }
}

/// Chosen otherwise: nothing to record.
pub trait ViaNothing {
    /// `None`.
    fn io_value(&self) -> Option<IoValue>;
}

impl<T: ?Sized> ViaNothing for IoProbe<'_, T> {
    fn io_value(&self) -> Option<IoValue> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct OnlyDebug(#[allow(dead_code)] u8);

    #[test]
    #[allow(clippy::needless_borrow)]
    fn probes_prefer_json_then_debug() {
        assert_eq!(
            (&&&IoProbe(&("a", 2))).io_value(),
            Some(IoValue::Json(serde_json::json!(["a", 2])))
        );
        assert_eq!(
            (&&&IoProbe(&OnlyDebug(3))).io_value(),
            Some(IoValue::Text("OnlyDebug(3)".into()))
        );
    }

    #[test]
    fn inputs_nest_json_and_keep_texts() {
        let mut inputs = Inputs::new();
        inputs.push("goal", Some(IoValue::Json(serde_json::json!("bakery"))));
        inputs.push(
            "plan",
            Some(IoValue::Json(serde_json::json!({"Title": "T"}))),
        );
        inputs.push("calls", Some(IoValue::Text("Calls { .. }".into())));
        inputs.push("opaque", None);
        assert_eq!(
            serde_json::Value::Object(inputs.object).to_string(),
            r#"{"calls":"Calls { .. }","goal":"bakery","plan":{"Title":"T"}}"#
        );
    }
}
