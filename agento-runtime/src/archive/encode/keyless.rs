//! Attributes without a key: OpenTelemetry requires a non-empty key, and
//! protojson leaves an empty one out, which makes the line unreadable for
//! strict readers. They are dropped before encoding, with one warning per
//! process (e.g. `OTEL_RESOURCE_ATTRIBUTES='=x'`).

use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry_proto::transform::common::tonic::{Attributes, ResourceAttributesWithSchema};
use opentelemetry_sdk::trace::SpanData;

static WARNED: AtomicBool = AtomicBool::new(false);

/// Removes every span, event and link attribute with an empty key from
/// `spans`; gives how many went.
pub fn drop_from_spans(spans: &mut [SpanData]) -> usize {
    let mut dropped = 0;
    let mut keep = |list: &mut Vec<opentelemetry::KeyValue>| {
        let before = list.len();
        list.retain(|kv| !kv.key.as_str().is_empty());
        dropped += before - list.len();
    };
    for span in spans {
        keep(&mut span.attributes);
        for event in span.events.events.iter_mut() {
            keep(&mut event.attributes);
        }
        for link in span.links.links.iter_mut() {
            keep(&mut link.attributes);
        }
    }
    dropped
}

/// `resource` without its attributes that have an empty key, when it has
/// any (`None`: nothing to drop), and how many went.
pub fn drop_from_resource(
    resource: &ResourceAttributesWithSchema,
) -> Option<(ResourceAttributesWithSchema, usize)> {
    let keyless = resource
        .attributes
        .0
        .iter()
        .filter(|kv| kv.key.is_empty())
        .count();
    (keyless > 0).then(|| {
        let kept = resource
            .attributes
            .0
            .iter()
            .filter(|kv| !kv.key.is_empty())
            .cloned()
            .collect();
        let cleaned = ResourceAttributesWithSchema {
            attributes: Attributes(kept),
            schema_url: resource.schema_url.clone(),
        };
        (cleaned, keyless)
    })
}

/// Warns on stderr, once per process, that `dropped` attributes had no key.
pub fn warn_once(dropped: usize) {
    if dropped > 0 && !WARNED.swap(true, Ordering::Relaxed) {
        crate::stderr::warn(&format!(
            "{dropped} attribute(s) without a key left out of the archive \
             (an attribute needs a non-empty key: check OTEL_RESOURCE_ATTRIBUTES and the attributes your code sets)"
        ));
    }
}
