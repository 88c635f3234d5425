//! The GenAI client metrics, recorded by the same `#[llm_span]` that opens the
//! call's span (nothing for the user to write):
//!
//! | metric | instrument, unit | recorded |
//! |---|---|---|
//! | `gen_ai.client.token.usage` | histogram, `{token}` | once per `gen_ai.token.type` (`input`, `output`) when the reply reports usage |
//! | `gen_ai.client.operation.duration` | histogram, `s` | when the call's span ends (for a stream: its end), with `error.type` on failure |
//! | `gen_ai.client.operation.time_to_first_chunk` | histogram, `s` | streaming calls only, at the first chunk |
//!
//! Attributes are the GenAI registry's: `gen_ai.operation.name`,
//! `gen_ai.provider.name`, `gen_ai.request.model`, `gen_ai.response.model` and
//! `error.type`; bucket boundaries are the ones the registry recommends.
//!
//! Export: `OTEL_METRICS_EXPORTER=otlp|none` (default `none`: a run never
//! waits on a metrics endpoint nobody asked for), `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`
//! (default: the traces' collector), `OTEL_METRIC_EXPORT_INTERVAL` (ms, default
//! 60000). The last collection is flushed at exit within the same shutdown
//! bound as traces.
//!
//! ```
//! use agento_runtime::metrics;
//! use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
//! let exporter = InMemoryMetricExporter::default();
//! let provider = SdkMeterProvider::builder()
//!     .with_reader(PeriodicReader::builder(exporter.clone()).build())
//!     .build();
//! metrics::install(&provider);
//! assert!(metrics::enabled());
//! metrics::uninstall();
//! ```

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use opentelemetry::metrics::{Histogram, Meter, MeterProvider as _};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_otlp::{Protocol as OtlpProtocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use tokio::runtime::{Handle, Runtime};

use crate::attributes::{
    ERROR_TYPE, GEN_AI_OPERATION_NAME, GEN_AI_REQUEST_MODEL, GEN_AI_RESPONSE_MODEL,
};
use crate::config::{Config, Protocol, signal_url};
use crate::health::Health;
use crate::http_client::{ClientError, ExportClient};
use crate::semconv::genai::{GEN_AI_PROVIDER_NAME, provider};
use crate::usage::TokenUsage;

/// `gen_ai.client.token.usage`.
pub const TOKEN_USAGE: &str = "gen_ai.client.token.usage";
/// `gen_ai.client.operation.duration`.
pub const OPERATION_DURATION: &str = "gen_ai.client.operation.duration";
/// `gen_ai.client.operation.time_to_first_chunk`.
pub const TIME_TO_FIRST_CHUNK: &str = "gen_ai.client.operation.time_to_first_chunk";
/// `gen_ai.token.type`: `input` or `output`.
pub const GEN_AI_TOKEN_TYPE: &str = "gen_ai.token.type";

/// The registry's buckets for `gen_ai.client.token.usage`.
pub const TOKEN_BUCKETS: [f64; 14] = [
    1.0,
    4.0,
    16.0,
    64.0,
    256.0,
    1024.0,
    4096.0,
    16384.0,
    65536.0,
    262_144.0,
    1_048_576.0,
    4_194_304.0,
    16_777_216.0,
    67_108_864.0,
];
/// The registry's buckets for the duration and time-to-first-chunk histograms.
pub const SECONDS_BUCKETS: [f64; 14] = [
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

/// The three histograms.
#[derive(Debug)]
struct Instruments {
    tokens: Histogram<u64>,
    duration: Histogram<f64>,
    first_chunk: Histogram<f64>,
}

impl Instruments {
    fn new(meter: &Meter) -> Self {
        Self {
            tokens: meter
                .u64_histogram(TOKEN_USAGE)
                .with_unit("{token}")
                .with_description("Number of input and output tokens used.")
                .with_boundaries(TOKEN_BUCKETS.to_vec())
                .build(),
            duration: meter
                .f64_histogram(OPERATION_DURATION)
                .with_unit("s")
                .with_description("GenAI operation duration.")
                .with_boundaries(SECONDS_BUCKETS.to_vec())
                .build(),
            first_chunk: meter
                .f64_histogram(TIME_TO_FIRST_CHUNK)
                .with_unit("s")
                .with_description("Time to receive the first chunk of a streamed response.")
                .with_boundaries(SECONDS_BUCKETS.to_vec())
                .build(),
        }
    }
}

static INSTRUMENTS: RwLock<Option<Arc<Instruments>>> = RwLock::new(None);

/// Records the GenAI metrics on `provider` from now on.
pub fn install(provider: &SdkMeterProvider) {
    let scope = InstrumentationScope::builder(crate::tracer::SCOPE_NAME)
        .with_version(env!("CARGO_PKG_VERSION"))
        .build();
    let instruments = Instruments::new(&provider.meter_with_scope(scope));
    *INSTRUMENTS.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(instruments));
}

/// Stops recording metrics.
pub fn uninstall() {
    *INSTRUMENTS.write().unwrap_or_else(|e| e.into_inner()) = None;
}

/// Whether metrics are recorded.
pub fn enabled() -> bool {
    INSTRUMENTS
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .is_some()
}

/// What the metrics of one LLM call need, kept by its span.
#[derive(Debug)]
pub(crate) struct CallMetrics {
    instruments: Arc<Instruments>,
    started: Instant,
    base: Vec<KeyValue>,
    state: Mutex<CallState>,
}

#[derive(Debug, Default)]
struct CallState {
    tokens: Option<(Option<u64>, Option<u64>)>,
    response_model: Option<String>,
    error_type: Option<String>,
    first_chunk: Option<f64>,
}

impl CallMetrics {
    /// Starts the clock of a call (`operation` on `system`'s API), when
    /// metrics are recorded.
    pub(crate) fn start(
        operation: &'static str,
        system: &str,
        request_model: &str,
    ) -> Option<Box<Self>> {
        let instruments = INSTRUMENTS
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()?;
        Some(Box::new(Self {
            instruments,
            started: Instant::now(),
            base: vec![
                KeyValue::new(GEN_AI_OPERATION_NAME, operation),
                KeyValue::new(GEN_AI_PROVIDER_NAME, provider(system).to_owned()),
                KeyValue::new(GEN_AI_REQUEST_MODEL, request_model.to_owned()),
            ],
            state: Mutex::new(CallState::default()),
        }))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, CallState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Notes the reply's usage and model.
    pub(crate) fn response(&self, usage: Option<&dyn TokenUsage>, model: Option<&str>) {
        let mut state = self.state();
        if let Some(usage) = usage {
            state.tokens = Some((usage.input_tokens(), usage.output_tokens()));
        }
        if let Some(model) = model {
            state.response_model = Some(model.to_owned());
        }
    }

    /// Notes that the call failed.
    pub(crate) fn failed(&self, error_type: &str) {
        self.state().error_type = Some(error_type.to_owned());
    }

    /// Notes the time to the first chunk of a stream.
    pub(crate) fn first_chunk(&self, seconds: f64) {
        self.state().first_chunk = Some(seconds);
    }

    /// Records the call's metrics (its span ends now).
    pub(crate) fn record(self, panicked: bool) {
        let seconds = self.started.elapsed().as_secs_f64();
        let state = self.state.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut attributes = self.base;
        if let Some(model) = state.response_model {
            attributes.push(KeyValue::new(GEN_AI_RESPONSE_MODEL, model));
        }
        if let Some(seconds) = state.first_chunk {
            self.instruments.first_chunk.record(seconds, &attributes);
        }
        if let Some((input, output)) = state.tokens {
            for (kind, count) in [("input", input), ("output", output)] {
                if let Some(count) = count {
                    let mut with_type = attributes.clone();
                    with_type.push(KeyValue::new(GEN_AI_TOKEN_TYPE, kind));
                    self.instruments.tokens.record(count, &with_type);
                }
            }
        }
        let error_type = if panicked {
            Some("panic".to_owned())
        } else {
            state.error_type
        };
        if let Some(error_type) = error_type {
            attributes.push(KeyValue::new(ERROR_TYPE, error_type));
        }
        self.instruments.duration.record(seconds, &attributes);
    }
}

/// The OTLP metrics pipeline of this process.
struct Pipeline {
    provider: SdkMeterProvider,
    runtime: Runtime,
}

static PIPELINE: Mutex<Option<Pipeline>> = Mutex::new(None);

/// Where and how often metrics are exported, from the environment.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MetricsConfig {
    /// Whether metrics are exported over OTLP.
    pub enabled: bool,
    /// The full URL (HTTP) or address (gRPC) of the metrics receiver.
    pub endpoint: String,
    /// The OTLP protocol.
    pub protocol: Protocol,
    /// How often a collection is exported.
    pub interval: Duration,
    /// What was wrong with the settings.
    pub warnings: Vec<String>,
}

impl MetricsConfig {
    /// Reads `OTEL_METRICS_EXPORTER`, `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`
    /// (else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/metrics` for HTTP) and
    /// `OTEL_METRIC_EXPORT_INTERVAL` through `lookup`; `traces` is the trace
    /// configuration (protocol, whether OTLP is on).
    pub fn from_lookup(traces: &Config, lookup: impl Fn(&str) -> Option<String>) -> Self {
        let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut warnings = Vec::new();
        let enabled = match var("OTEL_METRICS_EXPORTER").map(|v| v.trim().to_ascii_lowercase()) {
            None => false,
            Some(v) if v == "none" => false,
            Some(v) if v == "otlp" => !traces.sdk_disabled,
            Some(other) => {
                warnings.push(format!(
                    "OTEL_METRICS_EXPORTER={other} is not supported (otlp or none); metrics are off"
                ));
                false
            }
        };
        let protocol = traces.protocol;
        let endpoint = signal_url(
            protocol,
            var("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"),
            var("OTEL_EXPORTER_OTLP_ENDPOINT"),
            "/v1/metrics",
        );
        let interval = match var("OTEL_METRIC_EXPORT_INTERVAL") {
            None => Duration::from_secs(60),
            Some(value) => match value.trim().parse::<u64>() {
                Ok(ms) if ms > 0 => Duration::from_millis(ms),
                _ => {
                    warnings.push(format!(
                        "OTEL_METRIC_EXPORT_INTERVAL={value} is not a positive number of milliseconds; using 60000"
                    ));
                    Duration::from_secs(60)
                }
            },
        };
        Self {
            enabled,
            endpoint,
            protocol,
            interval,
            warnings,
        }
    }
}

/// Runs the official OTLP exporter on a runtime of our own: the SDK's
/// periodic reader exports from a plain thread.
#[derive(Debug)]
struct OnRuntime {
    exporter: opentelemetry_otlp::MetricExporter,
    handle: Handle,
}

impl PushMetricExporter for OnRuntime {
    fn export(
        &self,
        metrics: &ResourceMetrics,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        std::future::ready(self.handle.block_on(self.exporter.export(metrics)))
    }
    fn force_flush(&self) -> OTelSdkResult {
        self.exporter.force_flush()
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.exporter.shutdown_with_timeout(timeout)
    }
    fn temporality(&self) -> Temporality {
        self.exporter.temporality()
    }
}

/// Why the metric exporter could not be built; metrics are then off.
#[derive(Debug, thiserror::Error)]
enum MetricExporterError {
    /// The HTTP client of an OTLP/HTTP exporter could not be built.
    #[error("cannot build the OTLP metric exporter: {0}")]
    Client(#[from] ClientError),
    /// The exporter rejected its settings.
    #[error("cannot build the OTLP metric exporter: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
}

fn build_exporter(
    config: &MetricsConfig,
    timeout: Duration,
) -> Result<opentelemetry_otlp::MetricExporter, MetricExporterError> {
    let http = |protocol| -> Result<_, MetricExporterError> {
        // The traces' HTTP client: JSON bodies go out on one line. Its
        // connection counters are the metrics' own, not the traces'.
        let client = ExportClient::new(timeout, Arc::new(Health::default()))?;
        opentelemetry_otlp::MetricExporter::builder()
            .with_http()
            .with_protocol(protocol)
            .with_http_client(client)
            .with_endpoint(config.endpoint.clone())
            .with_timeout(timeout)
            .build()
            .map_err(MetricExporterError::from)
    };
    match config.protocol {
        Protocol::Grpc => Ok(opentelemetry_otlp::MetricExporter::builder()
            .with_tonic()
            .with_endpoint(config.endpoint.clone())
            .with_timeout(timeout)
            .build()?),
        Protocol::HttpProtobuf => http(OtlpProtocol::HttpBinary),
        Protocol::HttpJson => http(OtlpProtocol::HttpJson),
    }
}

/// Starts OTLP metric export for this process per the environment (called by
/// telemetry setup). Problems are returned as warnings; metrics are then off.
pub(crate) fn start(traces: &Config, resource: Resource) -> Vec<String> {
    let config = MetricsConfig::from_lookup(traces, |name| std::env::var(name).ok());
    let mut warnings = config.warnings.clone();
    if !config.enabled {
        return warnings;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("agento-metrics")
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            warnings.push(format!(
                "metrics are off: cannot start their runtime: {error}"
            ));
            return warnings;
        }
    };
    let exporter = {
        let _entered = runtime.enter();
        build_exporter(&config, traces.export_timeout)
    };
    let exporter = match exporter {
        Ok(exporter) => exporter,
        Err(error) => {
            warnings.push(format!("metrics are off: {error}"));
            return warnings;
        }
    };
    let reader = PeriodicReader::builder(OnRuntime {
        exporter,
        handle: runtime.handle().clone(),
    })
    .with_interval(config.interval)
    .build();
    let provider = SdkMeterProvider::builder()
        .with_resource(resource)
        .with_reader(reader)
        .build();
    install(&provider);
    let previous = PIPELINE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .replace(Pipeline { provider, runtime });
    if let Some(previous) = previous {
        stop(previous, Duration::from_secs(1));
    }
    warnings
}

fn stop(pipeline: Pipeline, timeout: Duration) {
    let _ = pipeline.provider.shutdown_with_timeout(timeout);
    pipeline.runtime.shutdown_background();
}

/// Exports the last collection and stops metrics, within `timeout` (called at
/// telemetry shutdown).
pub(crate) fn shutdown(timeout: Duration) {
    let pipeline = PIPELINE.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(pipeline) = pipeline {
        uninstall();
        stop(pipeline, timeout);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> MetricsConfig {
        let lookup = |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        };
        MetricsConfig::from_lookup(&Config::from_lookup(lookup), lookup)
    }

    #[test]
    fn an_explicit_endpoint_and_interval_are_used() {
        let config = config(&[
            ("OTEL_METRICS_EXPORTER", "otlp"),
            (
                "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                "http://127.0.0.1:4318/v1/metrics",
            ),
            ("OTEL_METRIC_EXPORT_INTERVAL", "500"),
        ]);
        assert!(config.enabled);
        assert_eq!(config.endpoint, "http://127.0.0.1:4318/v1/metrics");
        assert_eq!(config.interval, Duration::from_millis(500));
    }

    #[test]
    fn metrics_are_exported_only_when_asked() {
        let endpoint = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317");
        let otlp = ("OTEL_METRICS_EXPORTER", "otlp");
        assert!(!config(&[]).enabled);
        assert!(!config(&[endpoint]).enabled);
        assert!(config(&[endpoint, otlp]).enabled);
        assert!(config(&[("OTEL_TRACES_EXPORTER", "none"), otlp]).enabled);
        assert!(!config(&[("OTEL_SDK_DISABLED", "true"), otlp]).enabled);
        assert!(!config(&[endpoint, ("OTEL_METRICS_EXPORTER", "none")]).enabled);
        let odd = config(&[("OTEL_METRICS_EXPORTER", "prometheus")]);
        assert!(!odd.enabled);
        assert!(odd.warnings[0].contains("prometheus"));
    }

    #[test]
    fn the_endpoint_defaults_to_the_collector_of_the_traces() {
        let c = config(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9999/"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ]);
        assert_eq!(c.endpoint, "http://127.0.0.1:9999/v1/metrics");
        let c = config(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9999")]);
        assert_eq!(
            c.endpoint, "http://127.0.0.1:9999",
            "gRPC takes the address as it is"
        );
        let c = config(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9999"),
            (
                "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                "http://127.0.0.1:7/m",
            ),
        ]);
        assert_eq!(c.endpoint, "http://127.0.0.1:7/m");
    }

    #[test]
    fn a_bad_interval_is_a_warning() {
        let c = config(&[("OTEL_METRIC_EXPORT_INTERVAL", "soon")]);
        assert_eq!(c.interval, Duration::from_secs(60));
        assert!(c.warnings[0].contains("soon"));
        assert_eq!(
            config(&[("OTEL_METRIC_EXPORT_INTERVAL", "250")]).interval,
            Duration::from_millis(250)
        );
    }
}
