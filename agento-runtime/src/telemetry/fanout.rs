//! The one span processor the SDK sees.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry::Context;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};

use crate::health::Health;

/// Counts ended spans and hands each span to the archive, the OTLP path and
/// any extra processor.
#[derive(Debug)]
pub(super) struct Fanout {
    pub(super) processors: Vec<Box<dyn SpanProcessor>>,
    pub(super) health: Arc<Health>,
}

impl SpanProcessor for Fanout {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        for processor in &self.processors {
            processor.on_start(span, cx);
        }
    }

    fn on_end(&self, span: SpanData) {
        self.health.ended(1);
        if let Some((last, rest)) = self.processors.split_last() {
            for processor in rest {
                processor.on_end(span.clone());
            }
            last.on_end(span);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.processors
            .iter()
            .map(|p| p.force_flush())
            .fold(Ok(()), Result::and)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.processors
            .iter()
            .map(|p| p.shutdown_with_timeout(timeout))
            .fold(Ok(()), Result::and)
    }

    fn set_resource(&mut self, resource: &Resource) {
        for processor in &mut self.processors {
            processor.set_resource(resource);
        }
    }
}
