//! Reading archives back: the Collector `file` exporter's format (one
//! `ExportTraceServiceRequest` per line), as [`ArchiveProcessor`] and the
//! contrib collector write it, parsed with `opentelemetry-proto`'s types.
//!
//! The reader is total: any bytes give an [`Archive`]. A line that is not
//! JSON, or a span that is not a valid OTLP span, is kept in
//! [`Archive::bad_lines`] with its line number and the rest of the file is
//! still read. Protojson leaves out fields that hold their default value, so
//! an attribute without a `key` is read as one with the empty key.
//!
//! [`Trace::tree`] builds the span tree in O(n log n) without recursion, and
//! finds parent-id cycles and spans that no root reaches.
//!
//! ```
//! use agento_runtime::archive::parse;
//! let span = r#"{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"root"}"#;
//! let text = format!("{{\"resourceSpans\":[{{\"scopeSpans\":[{{\"spans\":[{span}]}}]}}]}}\n\nnot json\n");
//! let archive = parse(text.as_bytes());
//! assert_eq!(archive.traces[0].spans[0].name, "root");
//! assert_eq!(archive.bad_lines[0].0, 3);
//! ```
//!
//! [`ArchiveProcessor`]: super::ArchiveProcessor

mod record;
mod tree;

use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::Span;
use serde_json::Value;

pub use record::{Attr, SpanRecord, Trace};
pub use tree::{Placed, Tree};

/// A loaded archive.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Archive {
    /// The file (empty when read from memory).
    pub path: PathBuf,
    /// Its traces, in order of first appearance.
    pub traces: Vec<Trace>,
    /// What could not be read: (line number from 1, why).
    pub bad_lines: Vec<(usize, String)>,
}

/// An archive that cannot be opened or read at all.
#[derive(Debug)]
pub struct LoadError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub error: std::io::Error,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot read {}: {}", self.path.display(), self.error)
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// Reads the archive at `path`.
pub fn load(path: &Path) -> Result<Archive, LoadError> {
    let fail = |error| LoadError {
        path: path.to_owned(),
        error,
    };
    let file = std::fs::File::open(path).map_err(fail)?;
    let mut archive = read(std::io::BufReader::new(file)).map_err(fail)?;
    archive.path = path.to_owned();
    Ok(archive)
}

/// Reads an archive from bytes in memory (never fails: see the module docs).
pub fn parse(bytes: &[u8]) -> Archive {
    match read(bytes) {
        Ok(archive) => archive,
        Err(error) => Archive {
            bad_lines: vec![(0, error.to_string())],
            ..Archive::default()
        },
    }
}

/// Reads an archive line by line from `input`; only an I/O error fails.
pub fn read(input: impl BufRead) -> std::io::Result<Archive> {
    let mut reader = Reader::default();
    for (index, line) in input.split(b'\n').enumerate() {
        reader.line(index + 1, &line?);
    }
    Ok(Archive {
        path: PathBuf::new(),
        traces: reader.traces,
        bad_lines: reader.bad_lines,
    })
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

#[derive(Default)]
struct Reader {
    by_trace: HashMap<String, usize>,
    traces: Vec<Trace>,
    bad_lines: Vec<(usize, String)>,
}

impl Reader {
    fn line(&mut self, number: usize, line: &[u8]) {
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let request: Value = match serde_json::from_slice(line) {
            Ok(request) => request,
            Err(error) => return self.bad(number, format!("not JSON: {error}")),
        };
        // Protojson leaves an empty list out: `{}` is a request without spans.
        let resource_spans = match request.get("resourceSpans") {
            Some(Value::Array(list)) => list.as_slice(),
            None if request.as_object().is_some_and(|o| o.is_empty()) => &[],
            _ => {
                return self.bad(
                    number,
                    "not an OTLP ExportTraceServiceRequest: no `resourceSpans` array".into(),
                );
            }
        };
        for resource_spans in resource_spans {
            let module = match resource_spans.get("resource") {
                None | Some(Value::Null) => None,
                Some(resource) => match decode::<Resource>(resource) {
                    Ok(resource) => module_of(&resource.attributes),
                    Err(error) => {
                        self.bad(number, format!("a resource is not valid: {error}"));
                        None
                    }
                },
            };
            let scopes = resource_spans.get("scopeSpans").and_then(Value::as_array);
            for scope in scopes.into_iter().flatten() {
                let spans = scope.get("spans").and_then(Value::as_array);
                for span in spans.into_iter().flatten() {
                    match decode::<Span>(span) {
                        Ok(span) => self.push(SpanRecord::new(span, module.clone(), number)),
                        Err(error) => self.bad(
                            number,
                            format!(
                                "span {} is not valid: {error}",
                                span.get("spanId").unwrap_or(&Value::Null)
                            ),
                        ),
                    }
                }
            }
        }
    }

    fn bad(&mut self, number: usize, why: String) {
        self.bad_lines.push((number, why));
    }

    fn push(&mut self, record: SpanRecord) {
        let slot = match self.by_trace.get(&record.trace_id) {
            Some(&slot) => slot,
            None => {
                self.traces.push(Trace {
                    id: record.trace_id.clone(),
                    spans: Vec::new(),
                });
                self.by_trace
                    .insert(record.trace_id.clone(), self.traces.len() - 1);
                self.traces.len() - 1
            }
        };
        self.traces[slot].spans.push(record);
    }
}

/// `T` from `value`, with protojson's defaults filled in where
/// `opentelemetry-proto` requires a field: an attribute without `key`.
fn decode<T: serde::de::DeserializeOwned>(value: &Value) -> serde_json::Result<T> {
    let mut value = value.clone();
    fill_keys(&mut value);
    serde_json::from_value(value)
}

/// Gives every attribute object under `value` (span, event, link and resource
/// attributes) its `key` when protojson left the empty key out.
fn fill_keys(value: &mut Value) {
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        let Value::Object(object) = value else {
            continue;
        };
        for (name, field) in object.iter_mut() {
            match (name.as_str(), field) {
                ("attributes", Value::Array(list)) => {
                    for attribute in list.iter_mut() {
                        if let Value::Object(attribute) = attribute {
                            attribute
                                .entry("key")
                                .or_insert_with(|| Value::String(String::new()));
                        }
                    }
                }
                ("events" | "links", Value::Array(list)) => stack.extend(list.iter_mut()),
                _ => {}
            }
        }
    }
}

fn module_of(attributes: &[KeyValue]) -> Option<String> {
    attributes
        .iter()
        .find(|kv| kv.key == crate::attributes::AGENTO_MODULE)
        .map(|kv| Attr::from_any(kv.value.as_ref()).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPAN: &str = r#"{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"a","attributes":[{"value":{"stringValue":"x"}},{"key":"k","value":{"intValue":"3"}}]}"#;

    fn line(spans: &str) -> String {
        format!(
            r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"value":{{"stringValue":"x"}}}},{{"key":"agento.module","value":{{"stringValue":"m"}}}}]}},"scopeSpans":[{{"spans":[{spans}]}}]}}]}}"#
        )
    }

    #[test]
    fn an_attribute_without_a_key_is_read_with_the_empty_key() {
        let archive = parse(line(SPAN).as_bytes());
        assert!(archive.bad_lines.is_empty(), "{:?}", archive.bad_lines);
        let span = &archive.traces[0].spans[0];
        assert_eq!(span.attributes[0], (String::new(), Attr::Text("x".into())));
        assert_eq!(span.attr("k"), Some(&Attr::Int(3)));
        assert_eq!(span.module.as_deref(), Some("m"));
    }

    #[test]
    fn a_bad_line_or_span_is_reported_with_its_number_and_the_rest_is_read() {
        let bad_span = r#"{"traceId":"zz","spanId":"b7ad6b7169203332","name":"bad"}"#;
        let text = format!(
            "{}\n{{\"resourceSpans\": [oops\n\n{}\n{{}}\n[1]\n",
            line(SPAN),
            line(&format!("{bad_span},{}", SPAN.replace("\"a\"", "\"c\"")))
        );
        let archive = parse(text.as_bytes());
        let names: Vec<&str> = archive.traces[0]
            .spans
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(names, ["a", "c"]);
        assert_eq!(archive.traces[0].spans[1].line, 4);
        let numbers: Vec<usize> = archive.bad_lines.iter().map(|(n, _)| *n).collect();
        assert_eq!(numbers, [2, 4, 6], "{:?}", archive.bad_lines);
        assert!(archive.bad_lines[0].1.starts_with("not JSON"));
        assert!(archive.bad_lines[1].1.contains("\"b7ad6b7169203332\""));
    }
}
