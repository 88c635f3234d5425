//! The tracer provider and its processors: the run archive, the OTLP path and
//! any processor the builder was given, behind one [`Fanout`].

use std::path::PathBuf;
use std::sync::Arc;

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanProcessor};
use tokio::runtime::Runtime;

use super::fanout::Fanout;
use super::warn;
use crate::archive::ArchiveProcessor;
use crate::config::Config;
use crate::health::Health;
use crate::otlp;

/// Adds a processor the builder was given to the list.
pub(super) type ProcessorHook = Box<dyn FnOnce(&mut Vec<Box<dyn SpanProcessor>>) + Send>;

/// A built provider and what its parts need until shutdown.
pub(super) struct Pipeline {
    pub(super) provider: SdkTracerProvider,
    /// The archive file, when the archive started.
    pub(super) archive_path: Option<PathBuf>,
    /// The runtime the OTLP exporter runs on, when live export started.
    pub(super) otlp_runtime: Option<Runtime>,
    pub(super) export_state: Option<Arc<otlp::ExportState>>,
}

/// Builds the provider: the archive at `archive` (when given), the OTLP path
/// (when on), then `extra`. A part that cannot start is a warning and is left
/// out.
pub(super) fn build(
    config: &Config,
    resource: Resource,
    archive: Option<PathBuf>,
    health: &Arc<Health>,
    extra: Vec<ProcessorHook>,
) -> Pipeline {
    let mut processors: Vec<Box<dyn SpanProcessor>> = Vec::new();
    let archive = archive.and_then(|path| {
        ArchiveProcessor::start(
            &path,
            &resource,
            config.archive_buffer_spans,
            Arc::clone(health),
        )
        .inspect_err(|error| {
            warn(&format!(
                "the run archive is off: cannot open {}: {error}",
                path.display()
            ));
        })
        .ok()
    });
    let archive_path = archive.as_ref().map(|a| a.path().to_owned());
    let mut otlp_runtime = None;
    let mut export_state = None;
    let mut otlp_processor = None;
    if config.otlp_enabled {
        // With the archive on, its writer prepares each span and hands it on.
        match otlp::build(config, health, archive.is_some()) {
            Ok(pipeline) => {
                otlp_processor = Some(pipeline.processor);
                otlp_runtime = Some(pipeline.runtime);
                export_state = Some(pipeline.state);
            }
            Err(error) => warn(&format!("live export is off: {error}")),
        }
    }
    match (archive, otlp_processor) {
        (Some(archive), otlp) => {
            if let Some(otlp) = otlp {
                archive.forward_to(Box::new(otlp));
            }
            processors.push(Box::new(archive));
        }
        (None, Some(otlp)) => processors.push(Box::new(otlp)),
        (None, None) => {}
    }
    for hook in extra {
        hook(&mut processors);
    }
    let fanout = Fanout {
        processors,
        health: Arc::clone(health),
    };
    Pipeline {
        provider: SdkTracerProvider::builder()
            .with_resource(resource)
            .with_span_processor(fanout)
            .build(),
        archive_path,
        otlp_runtime,
        export_state,
    }
}
