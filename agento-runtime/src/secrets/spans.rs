//! Scrubbing whole spans: [`scrub_span`], the [`SecretsStage`] in front of a
//! span processor, and the [`Scrubbing`] wrapper around an exporter.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use opentelemetry::trace::Status;
use opentelemetry::{Array, Context, KeyValue, StringValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};

use super::{Scrubber, global_scrubber};

/// Replaces secrets in every text of `span`: its name, attribute values, event
/// names and attributes, link attributes and the status message.
pub fn scrub_span(span: &mut SpanData, scrubber: &Scrubber) {
    if let Cow::Owned(clean) = scrubber.scrub(&span.name) {
        span.name = clean.into();
    }
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
        match &mut attribute.value {
            Value::String(text) => scrub_string(text, scrubber),
            Value::Array(Array::String(texts)) => texts
                .iter_mut()
                .for_each(|text| scrub_string(text, scrubber)),
            _ => {}
        }
    }
}

fn scrub_string(text: &mut StringValue, scrubber: &Scrubber) {
    if let Cow::Owned(clean) = scrubber.scrub(text.as_str()) {
        *text = clean.into();
    }
}

/// A span processor behind the secrets stage: each ended span is scrubbed
/// before `P` sees it. The telemetry builder puts every processor a user adds
/// behind one.
///
/// `on_start` hands `P` the live span unchanged: its attributes are not final
/// until it ends, and everything that leaves the process is taken from the
/// ended span.
pub struct SecretsStage<P> {
    inner: P,
}

impl<P> SecretsStage<P> {
    /// Puts `inner` behind the secrets stage.
    pub fn new(inner: P) -> Self {
        Self { inner }
    }
}

impl<P: fmt::Debug> fmt::Debug for SecretsStage<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SecretsStage").field(&self.inner).finish()
    }
}

impl<P: SpanProcessor> SpanProcessor for SecretsStage<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, mut span: SpanData) {
        scrub_span(&mut span, &global_scrubber());
        self.inner.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// An exporter that scrubs each batch (on the exporting thread) before handing
/// it to `E`: the runtime's OTLP path.
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

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
