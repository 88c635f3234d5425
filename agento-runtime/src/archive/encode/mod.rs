//! Encoding spans as the Collector `file` exporter writes them.
//!
//! The proto types and the SDK→proto transform are `opentelemetry-proto`'s.
//! Its serde derive writes every field; the Collector (protojson) leaves out
//! fields that hold their default value. [`OmitDefaults`] is a serde
//! `Serializer` adapter that skips such struct fields while serialising, so the
//! output is the Collector's without an intermediate `serde_json::Value`.

use std::collections::HashMap;
use std::io::Write;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SpanData;
use serde::Serialize;

use crate::resources::{ModuleResources, group_by_module};

mod omit_defaults;

pub use omit_defaults::OmitDefaults;

/// How many spans one line (one `ExportTraceServiceRequest`) holds at most.
pub const SPANS_PER_LINE: usize = 512;

/// Appends one line per [`SPANS_PER_LINE`] spans of `spans` to `out`.
pub fn encode_lines(
    spans: Vec<SpanData>,
    resource: &ResourceAttributesWithSchema,
    out: &mut Vec<u8>,
) -> serde_json::Result<()> {
    let mut spans = spans.into_iter().peekable();
    while spans.peek().is_some() {
        let chunk: Vec<SpanData> = spans.by_ref().take(SPANS_PER_LINE).collect();
        let request = ExportTraceServiceRequest {
            resource_spans: group_spans_by_resource_and_scope(chunk, resource),
        };
        write_line(&request, out)?;
    }
    Ok(())
}

/// The resources of one archive: the process's, and one per module its spans
/// were recorded for (see [`crate::resources`]), converted once.
#[derive(Debug)]
pub(crate) struct ArchiveResources {
    modules: ModuleResources,
    converted: HashMap<Option<String>, ResourceAttributesWithSchema>,
}

impl ArchiveResources {
    /// The resources derived from the process's `base`.
    pub(crate) fn new(base: &Resource) -> Self {
        Self {
            modules: ModuleResources::new(base),
            converted: HashMap::new(),
        }
    }

    fn get(&mut self, module: Option<String>) -> &ResourceAttributesWithSchema {
        let modules = &mut self.modules;
        self.converted
            .entry(module)
            .or_insert_with_key(|module| modules.resource(module.as_deref()).into())
    }
}

/// Like [`encode_lines`], with each module's spans under that module's
/// resource (one `resourceSpans` entry per module in a line).
pub(crate) fn encode_lines_per_module(
    spans: Vec<SpanData>,
    resources: &mut ArchiveResources,
    out: &mut Vec<u8>,
) -> serde_json::Result<()> {
    let mut spans = spans.into_iter().peekable();
    while spans.peek().is_some() {
        let chunk: Vec<SpanData> = spans.by_ref().take(SPANS_PER_LINE).collect();
        let mut resource_spans = Vec::new();
        for (module, group) in group_by_module(chunk) {
            resource_spans.extend(group_spans_by_resource_and_scope(
                group,
                resources.get(module),
            ));
        }
        write_line(&ExportTraceServiceRequest { resource_spans }, out)?;
    }
    Ok(())
}

/// Writes `request` as one compact Collector-format JSON line.
pub fn write_line(
    request: &ExportTraceServiceRequest,
    out: &mut Vec<u8>,
) -> serde_json::Result<()> {
    let mut serializer = serde_json::Serializer::new(&mut *out);
    request.serialize(OmitDefaults::new(&mut serializer))?;
    out.write_all(b"\n").map_err(serde_json::Error::io)
}
