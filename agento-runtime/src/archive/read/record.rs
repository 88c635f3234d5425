//! The spans of an archive as the trace tools use them.

use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::Span;

use super::tree::Tree;

/// An attribute value, as the trace tools need it.
#[derive(Debug, Clone, PartialEq)]
pub enum Attr {
    /// Text.
    Text(String),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A list, each item as text (finish reasons).
    List(Vec<String>),
    /// Anything else, as debug text.
    Other(String),
}

impl Attr {
    /// The value of an OTLP `AnyValue` (arrays iteratively: no recursion).
    pub fn from_any(value: Option<&AnyValue>) -> Self {
        match value.and_then(|v| v.value.as_ref()) {
            Some(any_value::Value::StringValue(s)) => Self::Text(s.clone()),
            Some(any_value::Value::IntValue(i)) => Self::Int(*i),
            Some(any_value::Value::DoubleValue(f)) => Self::Float(*f),
            Some(any_value::Value::BoolValue(b)) => Self::Bool(*b),
            Some(any_value::Value::ArrayValue(array)) => Self::List(
                array
                    .values
                    .iter()
                    .map(|v| match &v.value {
                        Some(any_value::Value::StringValue(s)) => s.clone(),
                        Some(any_value::Value::IntValue(i)) => i.to_string(),
                        Some(any_value::Value::DoubleValue(f)) => f.to_string(),
                        Some(any_value::Value::BoolValue(b)) => b.to_string(),
                        Some(other) => format!("{other:?}"),
                        None => String::new(),
                    })
                    .collect(),
            ),
            Some(other) => Self::Other(format!("{other:?}")),
            None => Self::Other(String::new()),
        }
    }

    /// The text, when this is one.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, when this is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Self::Int(i) => Some(*i),
            _ => None,
        }
    }
}

impl std::fmt::Display for Attr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Text(s) | Self::Other(s) => f.write_str(s),
            Self::Int(i) => write!(f, "{i}"),
            Self::Float(x) => write!(f, "{x}"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::List(items) => write!(f, "[{}]", items.join(", ")),
        }
    }
}

/// One span of an archive.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpanRecord {
    /// Lowercase hex trace id.
    pub trace_id: String,
    /// Lowercase hex span id.
    pub span_id: String,
    /// Lowercase hex parent span id; empty for a root.
    pub parent_span_id: String,
    /// The span name.
    pub name: String,
    /// The OTLP span kind (1 internal … 3 client).
    pub kind: i32,
    /// Start, in Unix nanoseconds.
    pub start_ns: u64,
    /// End, in Unix nanoseconds.
    pub end_ns: u64,
    /// Status code (0 unset, 1 ok, 2 error).
    pub status_code: i32,
    /// Status message.
    pub status_message: String,
    /// Attributes, in order.
    pub attributes: Vec<(String, Attr)>,
    /// Event names.
    pub events: Vec<String>,
    /// The `agento.module` resource attribute of the process that wrote it.
    pub module: Option<String>,
    /// The line of the file it came from (from 1).
    pub line: usize,
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

fn attributes(list: &[KeyValue]) -> Vec<(String, Attr)> {
    list.iter()
        .map(|kv| (kv.key.clone(), Attr::from_any(kv.value.as_ref())))
        .collect()
}

impl SpanRecord {
    /// The record of an OTLP span read from line `line`, written by the
    /// process whose `agento.module` was `module`.
    pub fn new(span: Span, module: Option<String>, line: usize) -> Self {
        Self {
            trace_id: hex(&span.trace_id),
            span_id: hex(&span.span_id),
            parent_span_id: hex(&span.parent_span_id),
            name: span.name,
            kind: span.kind,
            start_ns: span.start_time_unix_nano,
            end_ns: span.end_time_unix_nano,
            status_code: span.status.as_ref().map_or(0, |s| s.code),
            status_message: span.status.map(|s| s.message).unwrap_or_default(),
            attributes: attributes(&span.attributes),
            events: span.events.into_iter().map(|e| e.name).collect(),
            module,
            line,
        }
    }

    /// An attribute (the first with that key).
    pub fn attr(&self, key: &str) -> Option<&Attr> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// A text attribute.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.attr(key).and_then(Attr::as_text)
    }

    /// An integer attribute.
    pub fn int(&self, key: &str) -> Option<i64> {
        self.attr(key).and_then(Attr::as_int)
    }

    /// The duration in milliseconds.
    pub fn duration_ms(&self) -> f64 {
        self.end_ns.saturating_sub(self.start_ns) as f64 / 1e6
    }

    /// The OpenInference kind (`AGENT`, `CHAIN`, `LLM`, …).
    pub fn oi_kind(&self) -> &str {
        self.text("openinference.span.kind").unwrap_or("")
    }

    /// Whether this is one LLM call: an OpenInference `LLM` span of kind client.
    pub fn is_llm_call(&self) -> bool {
        self.oi_kind() == "LLM" && self.kind == 3
    }

    /// `name (span id)`, how the tools name a span.
    pub fn label(&self) -> String {
        format!("{} ({})", self.name, self.span_id)
    }
}

/// One trace of an archive, its spans in file order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trace {
    /// The trace id.
    pub id: String,
    /// Its spans.
    pub spans: Vec<SpanRecord>,
}

impl Trace {
    /// The spans without a parent id, in file order.
    pub fn roots(&self) -> Vec<&SpanRecord> {
        self.spans
            .iter()
            .filter(|s| s.parent_span_id.is_empty())
            .collect()
    }

    /// The span tree (O(n log n), no recursion).
    pub fn tree(&self) -> Tree {
        Tree::build(&self.spans)
    }

    /// The children of the span `span_id`, by start time: one O(n) scan, for
    /// a single look-up (walks use [`Trace::tree`]).
    pub fn children(&self, span_id: &str) -> Vec<&SpanRecord> {
        let mut children: Vec<&SpanRecord> = self
            .spans
            .iter()
            .filter(|s| s.parent_span_id == span_id)
            .collect();
        children.sort_by_key(|s| s.start_ns);
        children
    }

    /// The earliest start.
    pub fn start_ns(&self) -> u64 {
        self.spans.iter().map(|s| s.start_ns).min().unwrap_or(0)
    }

    /// The latest end.
    pub fn end_ns(&self) -> u64 {
        self.spans.iter().map(|s| s.end_ns).max().unwrap_or(0)
    }

    /// From the earliest start to the latest end, in milliseconds.
    pub fn duration_ms(&self) -> f64 {
        self.end_ns().saturating_sub(self.start_ns()) as f64 / 1e6
    }
}
