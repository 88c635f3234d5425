//! Export requests kept under what a collector accepts.
//!
//! An OTLP/gRPC receiver refuses a message over 4 MiB unless configured
//! otherwise (the OpenTelemetry Collector's and rotel's
//! `max_recv_msg_size_mib` default); one batch of 512 LLM spans, each with
//! its prompt and reply under three conventions, is several times that, and
//! the whole batch would be lost. Batches are split by their estimated
//! encoded size before they reach the exporter.

use opentelemetry::trace::Status;
use opentelemetry::{Array, KeyValue, Value};
use opentelemetry_sdk::trace::SpanData;

/// The most one request carries, in estimated protobuf bytes: 4 MiB less a
/// margin for the resource, the scope and the framing.
pub(crate) const MAX_REQUEST_BYTES: usize = 3 << 20;

/// Splits `spans` into requests whose estimated size stays under `limit`,
/// keeping their order; a span larger than `limit` travels alone.
pub(crate) fn split(spans: Vec<SpanData>, limit: usize) -> Vec<Vec<SpanData>> {
    let mut requests = Vec::new();
    let mut current = Vec::new();
    let mut size = 0;
    for span in spans {
        let span_size = encoded_size(&span);
        if !current.is_empty() && size + span_size > limit {
            requests.push(std::mem::take(&mut current));
            size = 0;
        }
        size += span_size;
        current.push(span);
    }
    if !current.is_empty() {
        requests.push(current);
    }
    requests
}

/// An upper estimate of the span's protobuf size: ids, times and field tags
/// as a constant, texts at their length.
fn encoded_size(span: &SpanData) -> usize {
    const FIXED: usize = 96;
    let status = match &span.status {
        Status::Error { description } => description.len(),
        _ => 0,
    };
    let events: usize = span
        .events
        .iter()
        .map(|event| 24 + event.name.len() + attributes_size(&event.attributes))
        .sum();
    let links: usize = span
        .links
        .iter()
        .map(|link| 48 + attributes_size(&link.attributes))
        .sum();
    FIXED + span.name.len() + status + attributes_size(&span.attributes) + events + links
}

fn attributes_size(attributes: &[KeyValue]) -> usize {
    attributes
        .iter()
        .map(|kv| 8 + kv.key.as_str().len() + value_size(&kv.value))
        .sum()
}

fn value_size(value: &Value) -> usize {
    match value {
        Value::String(text) => text.as_str().len(),
        Value::Array(Array::String(texts)) => texts.iter().map(|t| 4 + t.as_str().len()).sum(),
        Value::Array(Array::Bool(items)) => 4 * items.len(),
        Value::Array(Array::I64(items)) => 12 * items.len(),
        Value::Array(Array::F64(items)) => 12 * items.len(),
        _ => 12,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanContext, SpanId, SpanKind, TraceFlags, TraceId, TraceState};
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};
    use std::time::SystemTime;

    fn span(id: u64, text_len: usize) -> SpanData {
        SpanData {
            span_context: SpanContext::new(
                TraceId::from(1),
                SpanId::from(id),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: SpanKind::Client,
            name: "chat".into(),
            start_time: SystemTime::UNIX_EPOCH,
            end_time: SystemTime::UNIX_EPOCH,
            attributes: vec![KeyValue::new("output.value", "x".repeat(text_len))],
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: Default::default(),
        }
    }

    fn ids(requests: &[Vec<SpanData>]) -> Vec<Vec<u64>> {
        requests
            .iter()
            .map(|r| {
                r.iter()
                    .map(|s| u64::from_be_bytes(s.span_context.span_id().to_bytes()))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn requests_stay_under_the_limit_in_order() {
        let spans = (1..=10).map(|id| span(id, 1_000)).collect();
        let requests = split(spans, 3_500);
        assert_eq!(
            ids(&requests),
            [vec![1, 2, 3], vec![4, 5, 6], vec![7, 8, 9], vec![10]]
        );
        for request in &requests {
            let size: usize = request.iter().map(encoded_size).sum();
            assert!(size <= 3_500, "{size}");
        }
    }

    #[test]
    fn a_span_over_the_limit_travels_alone_and_small_batches_stay_whole() {
        let spans = vec![span(1, 10), span(2, 10_000), span(3, 10)];
        assert_eq!(ids(&split(spans, 5_000)), [vec![1], vec![2], vec![3]]);
        let spans = (1..=512).map(|id| span(id, 10)).collect();
        assert_eq!(split(spans, MAX_REQUEST_BYTES).len(), 1);
        assert!(split(Vec::new(), MAX_REQUEST_BYTES).is_empty());
    }
}
