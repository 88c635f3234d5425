//! Reading archives: the Collector `file` exporter's format (one
//! `ExportTraceServiceRequest` per line), as agento and the contrib collector
//! write it, parsed with `opentelemetry-proto`'s types. A bad line is kept as
//! an error with its number; the rest is still read.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};

/// An attribute value, as the viewer needs it.
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
    /// A list of texts (finish reasons).
    List(Vec<String>),
    /// Anything else, as JSON-ish text.
    Other(String),
}

impl Attr {
    fn from_any(value: Option<&AnyValue>) -> Self {
        match value.and_then(|v| v.value.as_ref()) {
            Some(any_value::Value::StringValue(s)) => Self::Text(s.clone()),
            Some(any_value::Value::IntValue(i)) => Self::Int(*i),
            Some(any_value::Value::DoubleValue(f)) => Self::Float(*f),
            Some(any_value::Value::BoolValue(b)) => Self::Bool(*b),
            Some(any_value::Value::ArrayValue(array)) => Self::List(
                array
                    .values
                    .iter()
                    .map(|v| Self::from_any(Some(v)).to_string())
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
#[derive(Debug, Clone, PartialEq)]
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

impl SpanRecord {
    /// An attribute.
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

    /// The duration in milliseconds.
    pub fn duration_ms(&self) -> f64 {
        self.end_ns.saturating_sub(self.start_ns) as f64 / 1e6
    }

    /// The OpenInference kind (`AGENT`, `CHAIN`, `LLM`, …).
    pub fn oi_kind(&self) -> &str {
        self.text("openinference.span.kind").unwrap_or("")
    }

    /// Whether this is one LLM call (not the retry span around attempts).
    pub fn is_llm_call(&self) -> bool {
        self.oi_kind() == "LLM" && self.kind == 3
    }
}

/// One trace of an archive, its spans in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    /// The trace id.
    pub id: String,
    /// Its spans.
    pub spans: Vec<SpanRecord>,
}

impl Trace {
    /// The spans without a parent.
    pub fn roots(&self) -> Vec<&SpanRecord> {
        self.spans
            .iter()
            .filter(|s| s.parent_span_id.is_empty())
            .collect()
    }

    /// The children of `span_id`, by start time.
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
}

/// A loaded archive.
#[derive(Debug, Clone, PartialEq)]
pub struct Archive {
    /// The file.
    pub path: PathBuf,
    /// Its traces, in order of first appearance.
    pub traces: Vec<Trace>,
    /// Lines that are not valid requests: (line number, error).
    pub bad_lines: Vec<(usize, String)>,
}

/// An archive that cannot be read at all.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {path}: {error}")]
pub struct LoadError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub error: std::io::Error,
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

fn attributes(list: &[KeyValue]) -> Vec<(String, Attr)> {
    list.iter()
        .map(|kv| (kv.key.clone(), Attr::from_any(kv.value.as_ref())))
        .collect()
}

/// Reads the archive at `path`.
pub fn load(path: &Path) -> Result<Archive, LoadError> {
    let file = std::fs::File::open(path).map_err(|error| LoadError {
        path: path.to_owned(),
        error,
    })?;
    let mut by_trace: BTreeMap<String, usize> = BTreeMap::new();
    let mut traces: Vec<Trace> = Vec::new();
    let mut bad_lines = Vec::new();
    for (index, line) in std::io::BufReader::new(file).split(b'\n').enumerate() {
        let number = index + 1;
        let line = line.map_err(|error| LoadError {
            path: path.to_owned(),
            error,
        })?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let request: ExportTraceServiceRequest = match serde_json::from_slice(&line) {
            Ok(request) => request,
            Err(error) => {
                bad_lines.push((number, error.to_string()));
                continue;
            }
        };
        for resource_spans in request.resource_spans {
            let module = resource_spans.resource.as_ref().and_then(|r| {
                attributes(&r.attributes)
                    .into_iter()
                    .find(|(k, _)| k == "agento.module")
                    .map(|(_, v)| v.to_string())
            });
            for scope_spans in resource_spans.scope_spans {
                for span in scope_spans.spans {
                    let record = SpanRecord {
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
                        module: module.clone(),
                        line: number,
                    };
                    let slot = *by_trace.entry(record.trace_id.clone()).or_insert_with(|| {
                        traces.push(Trace {
                            id: record.trace_id.clone(),
                            spans: Vec::new(),
                        });
                        traces.len() - 1
                    });
                    traces[slot].spans.push(record);
                }
            }
        }
    }
    Ok(Archive {
        path: path.to_owned(),
        traces,
        bad_lines,
    })
}

impl Archive {
    /// The trace `id` (a prefix is enough), or the only one.
    pub fn pick(&self, id: Option<&str>) -> Result<&Trace, String> {
        match id {
            Some(id) => {
                let id = id.to_ascii_lowercase();
                let found: Vec<&Trace> = self
                    .traces
                    .iter()
                    .filter(|t| t.id.starts_with(&id))
                    .collect();
                match found.as_slice() {
                    [one] => Ok(one),
                    [] => Err(format!("no trace {id} in {}", self.path.display())),
                    _ => Err(format!("{id} matches several traces; give more of the id")),
                }
            }
            None => match self.traces.as_slice() {
                [one] => Ok(one),
                [] => Err(format!("{} holds no spans", self.path.display())),
                many => {
                    let mut text = format!(
                        "{} holds {} traces; choose one with --trace ID:\n",
                        self.path.display(),
                        many.len()
                    );
                    for trace in many {
                        let root = trace
                            .roots()
                            .first()
                            .map_or("(no root)", |r| r.name.as_str())
                            .to_owned();
                        text.push_str(&format!(
                            "  {}  {} spans  root {root}\n",
                            trace.id,
                            trace.spans.len()
                        ));
                    }
                    Err(text)
                }
            },
        }
    }
}

/// How many spans the archive at `path` holds (0 when it cannot be read).
pub fn count_spans(path: &Path) -> usize {
    load(path).map_or(0, |archive| {
        archive.traces.iter().map(|t| t.spans.len()).sum()
    })
}

/// The newest `agento_run_*.otlp.json` in `dir`.
pub fn latest(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("agento_run_") && n.ends_with(".otlp.json"))
        })
        .max()
}
