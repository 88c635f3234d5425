//! The live OTLP path: the official exporter behind the SDK's batch processor
//! (batch size 512), run on a small Tokio runtime of our own so that it works
//! the same under a sync `main`, `#[tokio::main]` or a test harness, and
//! counted, because the SDK does not report what its queue drops. `http/json`
//! bodies are sent on one line ([`crate::http_client`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opentelemetry::Context;
use opentelemetry::context::FutureExt;
use opentelemetry_otlp::{
    Protocol as OtlpProtocol, WithExportConfig, WithHttpConfig, WithTonicConfig,
};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SpanData, SpanExporter};
use tokio::runtime::{Handle, Runtime};

use crate::config::{Config, Protocol};
use crate::end_hook::{EndHook, Hooked};
use crate::health::Health;
use crate::http_client::{ClientError, ExportClient};
use crate::outbound::Scrubbing;
use crate::resources::PerModule;

/// Spans per export request.
pub const MAX_EXPORT_BATCH_SIZE: usize = 512;
/// Spans the batch queue holds before it drops (counted in [`Health`]).
pub const MAX_QUEUE_SIZE: usize = 8192;

/// Why the OTLP path could not be built; live export is then off.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OtlpError {
    /// The exporter's Tokio runtime did not start.
    #[error("cannot start the export runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// The HTTP client of an OTLP/HTTP exporter could not be built.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The exporter rejected its settings.
    #[error("cannot build the OTLP exporter: {0}")]
    Exporter(#[source] opentelemetry_otlp::ExporterBuildError),
}

/// The OTLP path: a batch processor and the runtime its exporter runs on.
#[derive(Debug)]
pub(crate) struct OtlpPipeline {
    pub(crate) processor: CountingProcessor,
    pub(crate) runtime: Runtime,
    pub(crate) state: Arc<ExportState>,
}

/// What the exporter has learnt of the collector.
#[derive(Debug, Default)]
pub(crate) struct ExportState {
    unreachable: AtomicBool,
    shutting_down: AtomicBool,
}

impl ExportState {
    /// From now on, a collector that failed the last export is not tried
    /// again: exit must not wait on retries against a dead endpoint.
    pub(crate) fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::Release);
    }

    fn skip(&self) -> bool {
        self.shutting_down.load(Ordering::Acquire) && self.unreachable.load(Ordering::Acquire)
    }
}

/// Builds the OTLP path for `config`.
/// With `prepared_upstream`, the spans it gets are already scrubbed and cut
/// (they come from the archive writer).
pub(crate) fn build(
    config: &Config,
    health: &Arc<Health>,
    prepared_upstream: bool,
) -> Result<OtlpPipeline, OtlpError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("agento-otlp")
        .enable_all()
        .build()
        .map_err(OtlpError::Runtime)?;
    let built = {
        let _entered = runtime.enter();
        build_exporter(config, health)
    };
    let exporter = match built {
        Ok(exporter) => exporter,
        Err(error) => {
            // Dropping a runtime blocks; `init` may run inside an async context.
            runtime.shutdown_background();
            return Err(error);
        }
    };
    let state = Arc::new(ExportState::default());
    let bridge = RuntimeBridge {
        exporter: Arc::new(Scrubbing::new(PerModule::new(exporter), prepared_upstream)),
        handle: runtime.handle().clone(),
        health: Arc::clone(health),
        state: Arc::clone(&state),
    };
    let batch = BatchConfigBuilder::default()
        .with_max_export_batch_size(MAX_EXPORT_BATCH_SIZE)
        .with_max_queue_size(MAX_QUEUE_SIZE)
        .with_scheduled_delay(Duration::from_millis(500))
        .build();
    let processor = BatchSpanProcessor::builder(bridge)
        .with_batch_config(batch)
        .build();
    Ok(OtlpPipeline {
        processor: Hooked::new(processor, CountQueued(Arc::clone(health))),
        runtime,
        state,
    })
}

/// A retry policy short enough that a missing collector costs little at exit.
fn retry_policy() -> opentelemetry_otlp::RetryPolicy {
    opentelemetry_otlp::RetryPolicy::default()
        .with_max_retries(1)
        .with_initial_delay(Duration::from_millis(25))
        .with_max_delay(Duration::from_millis(100))
        .with_max_jitter(Duration::from_millis(10))
}

fn build_exporter(
    config: &Config,
    health: &Arc<Health>,
) -> Result<opentelemetry_otlp::SpanExporter, OtlpError> {
    let built = match config.protocol {
        Protocol::Grpc => opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(config.endpoint.clone())
            .with_timeout(config.export_timeout)
            .with_retry_policy(retry_policy())
            .build(),
        Protocol::HttpProtobuf | Protocol::HttpJson => {
            let protocol = if config.protocol == Protocol::HttpJson {
                OtlpProtocol::HttpJson
            } else {
                OtlpProtocol::HttpBinary
            };
            opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_protocol(protocol)
                .with_endpoint(config.endpoint.clone())
                .with_http_client(ExportClient::new(
                    config.export_timeout,
                    Arc::clone(health),
                )?)
                .with_timeout(config.export_timeout)
                .with_retry_policy(retry_policy())
                .build()
        }
    };
    built.map_err(OtlpError::Exporter)
}

/// Runs the exporter on our runtime and counts what it delivers.
#[derive(Debug)]
struct RuntimeBridge<E> {
    exporter: Arc<E>,
    handle: Handle,
    health: Arc<Health>,
    state: Arc<ExportState>,
}

impl<E: SpanExporter + 'static> SpanExporter for RuntimeBridge<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let count = batch.len() as u64;
        if self.state.skip() {
            self.health
                .export_failed(count, "the collector was unreachable at exit");
            return Err(OTelSdkError::InternalFailure(
                "the collector was unreachable at exit".into(),
            ));
        }
        let exporter = Arc::clone(&self.exporter);
        let suppressed = Context::current().with_telemetry_suppressed();
        let task = self
            .handle
            .spawn(async move { exporter.export(batch).with_context(suppressed).await });
        let result = match task.await {
            Ok(result) => result,
            Err(error) => Err(OTelSdkError::InternalFailure(format!(
                "the export task failed: {error}"
            ))),
        };
        self.state
            .unreachable
            .store(result.is_err(), Ordering::Release);
        match &result {
            Ok(()) => {
                self.health.collector_reached();
                self.health.exported(count);
            }
            Err(error) => {
                let error = error.to_string();
                if is_unreachable(&error) {
                    self.health.collector_unreachable();
                }
                self.health.export_failed(count, &error);
            }
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.exporter.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.exporter.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        if let Some(exporter) = Arc::get_mut(&mut self.exporter) {
            exporter.set_resource(resource);
        }
    }
}

/// Whether a gRPC export error says that nothing accepted the connection (as
/// opposed to a collector that answered with an error). The HTTP client
/// reports failed connections itself ([`crate::http_client`]).
fn is_unreachable(error: &str) -> bool {
    ["tcp connect error", "Connection refused", "dns error"]
        .iter()
        .any(|sign| error.contains(sign))
}

/// The batch processor, counting the spans handed to it.
pub(crate) type CountingProcessor = Hooked<BatchSpanProcessor, CountQueued>;

/// Counts each span handed to the OTLP batch processor.
#[derive(Debug)]
pub(crate) struct CountQueued(Arc<Health>);

impl EndHook for CountQueued {
    fn on_end(&self, _span: &mut SpanData) {
        self.0.otlp_queued(1);
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use opentelemetry_otlp::WithExportConfig;

    use super::OtlpError;

    #[test]
    fn an_exporter_error_keeps_its_message_and_its_cause() {
        let cause = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint("not a uri")
            .build()
            .expect_err("an endpoint that is no URI is refused");
        let cause_text = cause.to_string();
        let error = OtlpError::Exporter(cause);
        assert_eq!(
            error.to_string(),
            format!("cannot build the OTLP exporter: {cause_text}")
        );
        assert_eq!(
            error.source().map(ToString::to_string),
            Some(cause_text),
            "the exporter's own error is the source"
        );
    }
}
