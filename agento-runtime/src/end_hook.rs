//! A span processor that does one thing to each ended span before the
//! processor it wraps sees it (the secrets stage, the OTLP path's count of
//! queued spans); everything else goes to the wrapped processor unchanged.

use std::fmt;
use std::time::Duration;

use opentelemetry::Context;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};

/// What a [`Hooked`] processor does to each ended span.
pub(crate) trait EndHook: fmt::Debug + Send + Sync {
    /// Runs on the thread that ends `span`, before the wrapped processor.
    fn on_end(&self, span: &mut SpanData);
}

/// `inner`, with `hook` run on each ended span first. `on_start` hands
/// `inner` the live span unchanged: its attributes are not final until it
/// ends.
#[derive(Debug)]
pub(crate) struct Hooked<P, H> {
    inner: P,
    hook: H,
}

impl<P, H> Hooked<P, H> {
    /// Wraps `inner`.
    pub(crate) const fn new(inner: P, hook: H) -> Self {
        Self { inner, hook }
    }
}

impl<P: SpanProcessor, H: EndHook> SpanProcessor for Hooked<P, H> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, mut span: SpanData) {
        self.hook.on_end(&mut span);
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
