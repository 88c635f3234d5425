//! Scrubbing of finished spans before they leave the process (archive, OTLP,
//! any exporter given to the builder). Runs on exporter threads, not on the
//! thread that ended the span.

use std::borrow::Cow;
use std::fmt;

use opentelemetry::trace::Status;
use opentelemetry::{Array, KeyValue, StringValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use crate::scrub::{Scrubber, global_scrubber};

/// Replaces secrets in every text of `span`: attribute values, event names and
/// attributes, link attributes and the status message.
pub fn scrub_span(span: &mut SpanData, scrubber: &Scrubber) {
    scrub_attributes(&mut span.attributes, scrubber);
    for event in &mut span.events.events {
        if let Cow::Owned(clean) = scrubber.scrub(&event.name) {
            event.name = clean.into();
        }
        scrub_attributes(&mut event.attributes, scrubber);
    }
    for link in &mut span.links.links {
        scrub_attributes(&mut link.attributes, scrubber);
    }
    if let Status::Error { description } = &mut span.status
        && let Cow::Owned(clean) = scrubber.scrub(description)
    {
        *description = clean.into();
    }
}

fn scrub_attributes(attributes: &mut [KeyValue], scrubber: &Scrubber) {
    for attribute in attributes {
        scrub_value(&mut attribute.value, scrubber);
    }
}

fn scrub_value(value: &mut Value, scrubber: &Scrubber) {
    match value {
        Value::String(text) => scrub_string(text, scrubber),
        Value::Array(Array::String(texts)) => texts
            .iter_mut()
            .for_each(|text| scrub_string(text, scrubber)),
        _ => {}
    }
}

fn scrub_string(text: &mut StringValue, scrubber: &Scrubber) {
    if let Cow::Owned(clean) = scrubber.scrub(text.as_str()) {
        *text = clean.into();
    }
}

/// An exporter that scrubs each batch before handing it to `E`.
pub struct Scrubbing<E> {
    inner: E,
}

impl<E> Scrubbing<E> {
    /// Wraps `inner`.
    pub fn new(inner: E) -> Self {
        Self { inner }
    }
}

impl<E: fmt::Debug> fmt::Debug for Scrubbing<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Scrubbing").field(&self.inner).finish()
    }
}

impl<E: SpanExporter> SpanExporter for Scrubbing<E> {
    async fn export(&self, mut batch: Vec<SpanData>) -> OTelSdkResult {
        let scrubber = global_scrubber();
        batch
            .iter_mut()
            .for_each(|span| scrub_span(span, &scrubber));
        self.inner.export(batch).await
    }

    fn shutdown_with_timeout(&self, timeout: std::time::Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
