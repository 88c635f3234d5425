//! Encoding spans as the Collector `file` exporter writes them.
//!
//! The proto types and the SDK→proto transform are `opentelemetry-proto`'s.
//! Its serde derive writes every field; the Collector (protojson) leaves out
//! fields that hold their default value. [`OmitDefaults`] is a serde
//! `Serializer` adapter that skips such struct fields while serialising, so the
//! output is the Collector's without an intermediate `serde_json::Value`.
//!
//! The JSON writer is `sonic-rs`'s serde serializer: the same serde data
//! model as `serde_json`, with strings escaped by SIMD scans — an LLM span is
//! mostly kilobytes of text, and escaping it byte by byte was half the cost
//! of encoding.

use std::collections::HashMap;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SpanData;
use serde::Serialize;

pub mod keyless;

use crate::resources::{ModuleResources, group_by_module};

mod omit_defaults;

pub use omit_defaults::OmitDefaults;

/// The resources of one archive: the process's, and one per module its spans
/// were recorded for (see `resources.rs`), converted once (attributes
/// without a key left out) with how many keyless attributes each had.
#[derive(Debug)]
pub struct ArchiveResources {
    modules: ModuleResources,
    converted: HashMap<Option<String>, (ResourceAttributesWithSchema, usize)>,
}

impl ArchiveResources {
    /// The resources derived from the process's `base`.
    pub fn new(base: &Resource) -> Self {
        Self {
            modules: ModuleResources::new(base),
            converted: HashMap::new(),
        }
    }

    fn get(&mut self, module: Option<String>) -> &(ResourceAttributesWithSchema, usize) {
        let modules = &mut self.modules;
        self.converted.entry(module).or_insert_with_key(|module| {
            let resource: ResourceAttributesWithSchema = modules.resource(module.as_deref()).into();
            keyless::drop_from_resource(&resource).unwrap_or((resource, 0))
        })
    }
}

/// Appends `spans` to `out` as one line (one `ExportTraceServiceRequest`),
/// each module's spans under that module's resource (one `resourceSpans`
/// entry per module). Attributes without a key are left out, with one
/// warning per process (see `keyless`).
pub fn encode_line(
    mut spans: Vec<SpanData>,
    resources: &mut ArchiveResources,
    out: &mut Vec<u8>,
) -> sonic_rs::Result<()> {
    let mut dropped = keyless::drop_from_spans(&mut spans);
    let mut resource_spans = Vec::new();
    for (module, group) in group_by_module(spans) {
        let (resource, keyless) = resources.get(module);
        dropped += keyless;
        resource_spans.extend(group_spans_by_resource_and_scope(group, resource));
    }
    keyless::warn_once(dropped);
    write_line(&ExportTraceServiceRequest { resource_spans }, out)
}

/// Writes `request` as one compact Collector-format JSON line.
pub fn write_line(request: &ExportTraceServiceRequest, out: &mut Vec<u8>) -> sonic_rs::Result<()> {
    let mut serializer = sonic_rs::Serializer::new(&mut *out);
    request.serialize(OmitDefaults::new(&mut serializer))?;
    out.push(b'\n');
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use opentelemetry::trace::{
        Event, SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
    };
    use opentelemetry::{InstrumentationScope, KeyValue};
    use opentelemetry_sdk::Resource;
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};

    use super::*;

    fn span() -> SpanData {
        let mut events = SpanEvents::default();
        events.events.push(Event::new(
            "e",
            SystemTime::now(),
            vec![KeyValue::new("", "event"), KeyValue::new("k", "v")],
            0,
        ));
        SpanData {
            span_context: SpanContext::new(
                TraceId::from_bytes([7; 16]),
                SpanId::from_bytes([2; 8]),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: "s".into(),
            start_time: SystemTime::now(),
            end_time: SystemTime::now(),
            attributes: vec![KeyValue::new("", "span"), KeyValue::new("kept", 1_i64)],
            dropped_attributes_count: 0,
            events,
            links: SpanLinks::default(),
            status: Status::Ok,
            instrumentation_scope: InstrumentationScope::builder("agento").build(),
        }
    }

    #[test]
    fn attributes_without_a_key_are_left_out_and_the_line_reads_strictly() {
        let resource = Resource::builder_empty()
            .with_attributes([KeyValue::new("", "x"), KeyValue::new("agento.module", "m")])
            .build();
        let mut out = Vec::new();
        encode_line(
            vec![span()],
            &mut ArchiveResources::new(&resource),
            &mut out,
        )
        .expect("encodes");
        // `opentelemetry-proto`'s own types need every attribute's key.
        let request: ExportTraceServiceRequest =
            serde_json::from_slice(&out).expect("a strictly valid request");
        let resource_spans = &request.resource_spans[0];
        let keys = |list: &[opentelemetry_proto::tonic::common::v1::KeyValue]| {
            list.iter().map(|kv| kv.key.clone()).collect::<Vec<_>>()
        };
        let resource_keys = keys(
            &resource_spans
                .resource
                .as_ref()
                .expect("resource")
                .attributes,
        );
        assert_eq!(resource_keys, ["agento.module"]);
        let span = &resource_spans.scope_spans[0].spans[0];
        assert_eq!(keys(&span.attributes), ["kept"]);
        assert_eq!(keys(&span.events[0].attributes), ["k"]);
        assert!(!String::from_utf8_lossy(&out).contains("\"x\""));
    }

    #[test]
    fn the_line_is_byte_for_byte_what_serde_json_writes() {
        let mut data = span();
        let awkward = "quote \" backslash \\ tab \t nl \n cr \r bell \u{7} nul \u{0} \
                       del \u{7f} é 日本 𝄞 </script> \u{2028} end";
        data.attributes.extend([
            KeyValue::new("text", awkward.repeat(300)),
            KeyValue::new("f", 0.1),
            KeyValue::new("big", i64::MAX),
            KeyValue::new("flag", false),
            KeyValue::new(
                "list",
                opentelemetry::Value::Array(opentelemetry::Array::String(vec![
                    "a".into(),
                    awkward.into(),
                ])),
            ),
        ]);
        data.status = Status::error(awkward);
        let resource = Resource::builder_empty()
            .with_attributes([KeyValue::new("service.name", awkward)])
            .build();
        let resource = ResourceAttributesWithSchema::from(&resource);
        let request = ExportTraceServiceRequest {
            resource_spans: group_spans_by_resource_and_scope(vec![data], &resource),
        };
        let mut ours = Vec::new();
        write_line(&request, &mut ours).expect("encodes");
        let mut reference = Vec::new();
        request
            .serialize(OmitDefaults::new(&mut serde_json::Serializer::new(
                &mut reference,
            )))
            .expect("encodes");
        reference.push(b'\n');
        assert_eq!(
            String::from_utf8(ours).expect("UTF-8"),
            String::from_utf8(reference).expect("UTF-8")
        );
    }
}
