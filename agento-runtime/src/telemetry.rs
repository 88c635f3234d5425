//! Telemetry setup: a builder that returns a guard.
//!
//! [`Telemetry::builder`] reads the environment ([`Config`]), joins the run named
//! by the context carrier or starts a new one, builds the resource, the run
//! archive and the OTLP path, installs the SIGTERM/SIGINT/SIGHUP/SIGQUIT handler and a panic
//! hook, and returns a [`Telemetry`]. Dropping it, or [`Telemetry::shutdown`],
//! flushes the archive and the exporter within the shutdown bound.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use opentelemetry::trace::{SpanContext, TraceContextExt, TracerProvider as _};
use opentelemetry::{Context, KeyValue, global};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::resource::EnvResourceDetector;
use opentelemetry_sdk::trace::{
    SdkTracerProvider, SimpleSpanProcessor, Span, SpanData, SpanExporter, SpanProcessor,
};
use tokio::runtime::Runtime;

use crate::archive::ArchiveProcessor;
use crate::attributes::{AGENTO_MODULE, AGENTO_RUN_ID, OPENINFERENCE_PROJECT_NAME};
use crate::carrier::{Carrier, CarrierRead};
use crate::config::Config;
use crate::health::{Destinations, Health, HealthReport};
use crate::run::RunId;
use crate::secrets::{SecretsStage, scrub};
use crate::span::{SpanGuard, remember_panic};
use crate::{otlp, signals, tracer};

/// The event put on a new root span when a carrier could not be used.
pub const CARRIER_IGNORED_EVENT: &str = "agento.carrier.ignored";

static ACTIVE: Mutex<Option<Arc<Inner>>> = Mutex::new(None);

/// Whether a [`Telemetry`] is active in this process.
pub fn is_active() -> bool {
    ACTIVE.lock().unwrap_or_else(|e| e.into_inner()).is_some()
}

/// The run the active telemetry records, and where its archive is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInfo {
    /// The run id.
    pub run_id: RunId,
    /// The archive file, when archiving is on.
    pub archive: Option<PathBuf>,
}

/// The run of the active [`Telemetry`], if one is active.
///
/// ```
/// assert!(agento_runtime::telemetry::current_run().is_none());
/// ```
pub fn current_run() -> Option<RunInfo> {
    ACTIVE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .map(|inner| RunInfo {
            run_id: inner.run_id.clone(),
            archive: inner.archive_path.clone(),
        })
}

static LAST_REPORT: Mutex<Option<HealthReport>> = Mutex::new(None);

/// The final counters of the telemetry shut down last in this process: a
/// program whose telemetry is shut down for it (`#[agento_module]`) learns
/// here whether every span reached the archive.
pub fn last_report() -> Option<HealthReport> {
    LAST_REPORT
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}

/// Set once a signal ends the process: telemetry started from then on (a
/// module that begins while the exit flush runs) records nothing.
static TERMINATING: AtomicBool = AtomicBool::new(false);

/// A tracer for `module`'s spans on the active telemetry's provider (a module
/// nested in an active run), if telemetry is active.
pub(crate) fn module_tracer(module: &str) -> Option<opentelemetry_sdk::trace::SdkTracer> {
    let active = ACTIVE.lock().unwrap_or_else(|e| e.into_inner()).clone()?;
    let provider = active.provider.as_ref()?;
    Some(provider.tracer_with_scope(tracer::scope(module)))
}

/// Shuts the active telemetry down (the signal path).
pub(crate) fn shutdown_active() {
    TERMINATING.store(true, Ordering::Release);
    let active = ACTIVE.lock().unwrap_or_else(|e| e.into_inner()).clone();
    if let Some(inner) = active {
        inner.shutdown();
    }
}

fn warn(message: &str) {
    crate::stderr::line(&format!("agento: warning: {}", scrub(message)));
}

type ProcessorHook = Box<dyn FnOnce(&mut Vec<Box<dyn SpanProcessor>>) + Send>;

/// Configures a [`Telemetry`].
///
/// ```no_run
/// let telemetry = agento_runtime::Telemetry::builder()
///     .module("1_01_JSON_Goal_to_PlanStructure")
///     .new_run(true)
///     .init();
/// println!("archiving to {:?}", telemetry.archive_path());
/// ```
pub struct TelemetryBuilder {
    module: Cow<'static, str>,
    new_run: bool,
    config: Option<Config>,
    extra: Vec<ProcessorHook>,
    signals: bool,
    archive: Option<bool>,
    otlp: Option<bool>,
}

impl fmt::Debug for TelemetryBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelemetryBuilder")
            .field("module", &self.module)
            .field("new_run", &self.new_run)
            .field("extra_processors", &self.extra.len())
            .field("signals", &self.signals)
            .finish_non_exhaustive()
    }
}

impl TelemetryBuilder {
    /// `agento.module` (default `agento`).
    #[must_use]
    pub fn module(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.module = name.into();
        self
    }

    /// Start a new run, ignoring any carrier (the first stage). Default `false`:
    /// join the run the carrier names, or start one when there is none.
    #[must_use]
    pub fn new_run(mut self, new_run: bool) -> Self {
        self.new_run = new_run;
        self
    }

    /// Use `config` instead of reading the environment.
    #[must_use]
    pub fn config(mut self, config: Config) -> Self {
        self.config = Some(config);
        self
    }

    /// Also send spans to `exporter`, synchronously as each span ends (scrubbed
    /// first, each module's under its resource, as the OTLP path sends them).
    /// Meant for tests with the SDK's in-memory exporter.
    #[must_use]
    pub fn with_exporter<E: SpanExporter + 'static>(self, exporter: E) -> Self {
        self.with_span_processor(SimpleSpanProcessor::new(crate::resources::PerModule::new(
            exporter,
        )))
    }

    /// Also run `processor` on every span. It sits behind the secrets stage
    /// ([`SecretsStage`]): every span it receives at its end is already
    /// scrubbed.
    #[must_use]
    pub fn with_span_processor<P: SpanProcessor + 'static>(mut self, processor: P) -> Self {
        self.extra.push(Box::new(move |processors| {
            processors.push(Box::new(SecretsStage::new(processor)))
        }));
        self
    }

    /// Handle SIGTERM, SIGINT, SIGHUP and SIGQUIT (default `true`).
    #[must_use]
    pub fn handle_signals(mut self, handle: bool) -> Self {
        self.signals = handle;
        self
    }

    /// Override `AGENTO_ARCHIVE`.
    #[must_use]
    pub fn archive(mut self, enabled: bool) -> Self {
        self.archive = Some(enabled);
        self
    }

    /// Override `OTEL_TRACES_EXPORTER` (whether to stream over OTLP).
    #[must_use]
    pub fn otlp(mut self, enabled: bool) -> Self {
        self.otlp = Some(enabled);
        self
    }

    /// Sets telemetry up. Never fails: a part that cannot start (an unwritable
    /// data directory, a bad exporter setting) is reported on stderr and left
    /// out, and the rest works.
    pub fn init(self) -> Telemetry {
        let mut config = self.config.unwrap_or_else(Config::from_env);
        for warning in &config.warnings {
            warn(warning);
        }
        if let Some(archive) = self.archive {
            config.archive_enabled = archive;
        }
        if let Some(otlp) = self.otlp {
            config.otlp_enabled = otlp;
        }
        if TERMINATING.load(Ordering::Acquire) {
            config.sdk_disabled = true;
        }
        let mut start = RunStart::resolve(&config, self.new_run);
        for note in &start.notes {
            warn(note);
        }
        let mut claimed = None;
        if !start.joined && config.archive_enabled && !config.sdk_disabled {
            match RunId::claim(&config.data_dir) {
                Ok((run_id, path)) => {
                    start.run_id = run_id;
                    claimed = Some(path);
                }
                Err(error) => warn(&format!(
                    "the run archive is off: cannot create it in {}: {error}",
                    config.data_dir.display()
                )),
            }
        }
        let health = Arc::new(Health::default());
        let mut inner = Inner {
            module: self.module.into_owned(),
            run_id: start.run_id,
            parent: start.parent,
            joined: start.joined,
            notes: start.notes,
            archive_path: claimed,
            provider: None,
            otlp_runtime: Mutex::new(None),
            export_state: None,
            health,
            done: AtomicBool::new(false),
            config,
        };
        if !inner.config.sdk_disabled {
            inner.build_provider(self.extra);
            crate::metrics::start(&inner.config, inner.resource())
                .iter()
                .for_each(|w| warn(w));
        }
        if self.signals
            && let Err(error) = signals::install()
        {
            warn(&error);
        }
        install_panic_hook();
        let inner = Arc::new(inner);
        let previous = ACTIVE
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replace(Arc::clone(&inner));
        if let Some(previous) = previous {
            previous.shutdown();
            *ACTIVE.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::clone(&inner));
        }
        if let Some(provider) = &inner.provider {
            tracer::install(Some(
                provider.tracer_with_scope(tracer::scope(&inner.module)),
            ));
            global::set_tracer_provider(provider.clone());
        }
        Telemetry { inner }
    }
}

/// Where a run starts: its id and the parent context of this process's spans.
struct RunStart {
    run_id: RunId,
    parent: Context,
    joined: bool,
    notes: Vec<String>,
}

impl RunStart {
    fn resolve(config: &Config, new_run: bool) -> Self {
        let fresh = |notes: Vec<String>| Self {
            run_id: RunId::at(chrono::Utc::now()),
            parent: Context::new(),
            joined: false,
            notes,
        };
        if new_run {
            return fresh(Vec::new());
        }
        let from_file = Carrier::read(&config.carrier_path);
        if let Some(traceparent) = &config.traceparent {
            let Some(parent) = Carrier::extract(traceparent, config.tracestate.as_deref()) else {
                return fresh(vec![format!(
                    "TRACEPARENT={traceparent:?} is not a valid W3C traceparent; starting a new run"
                )]);
            };
            let trace_id = parent.span().span_context().trace_id();
            let run_id = match from_file {
                CarrierRead::Loaded {
                    context, run_id, ..
                } if context.span().span_context().trace_id() == trace_id => run_id,
                _ => RunId::at(chrono::Utc::now()),
            };
            return Self {
                run_id,
                parent,
                joined: true,
                notes: Vec::new(),
            };
        }
        match from_file {
            CarrierRead::Missing => fresh(Vec::new()),
            CarrierRead::Loaded {
                context, run_id, ..
            } => Self {
                run_id,
                parent: context,
                joined: true,
                notes: Vec::new(),
            },
            CarrierRead::Invalid(reason) => fresh(vec![format!(
                "ignoring the context carrier {}: {reason}; starting a new run",
                config.carrier_path.display()
            )]),
        }
    }
}

struct Inner {
    config: Config,
    module: String,
    run_id: RunId,
    parent: Context,
    joined: bool,
    notes: Vec<String>,
    archive_path: Option<PathBuf>,
    provider: Option<SdkTracerProvider>,
    otlp_runtime: Mutex<Option<Runtime>>,
    export_state: Option<Arc<otlp::ExportState>>,
    health: Arc<Health>,
    done: AtomicBool,
}

impl Inner {
    fn resource(&self) -> Resource {
        let mut builder = Resource::builder_empty()
            .with_attributes([
                KeyValue::new("service.name", "agento"),
                KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
                KeyValue::new("deployment.environment", self.config.environment.clone()),
                KeyValue::new("service.instance.id", uuid::Uuid::new_v4().to_string()),
                KeyValue::new(OPENINFERENCE_PROJECT_NAME, "agento"),
            ])
            .with_detector(Box::new(EnvResourceDetector::new()));
        if let Ok(service) = std::env::var("OTEL_SERVICE_NAME")
            && !service.trim().is_empty()
        {
            builder = builder.with_attribute(KeyValue::new("service.name", service));
        }
        let resource = builder
            .with_attributes([
                KeyValue::new(AGENTO_MODULE, self.module.clone()),
                KeyValue::new(AGENTO_RUN_ID, self.run_id.as_str().to_owned()),
            ])
            .build();
        // `OTEL_RESOURCE_ATTRIBUTES='=x'` gives a key-less attribute (the
        // configuration warned about it): leave it out.
        Resource::builder_empty()
            .with_attributes(
                resource
                    .iter()
                    .filter(|(key, _)| !key.as_str().trim().is_empty())
                    .map(|(key, value)| KeyValue::new(key.clone(), value.clone())),
            )
            .build()
    }

    fn build_provider(&mut self, extra: Vec<ProcessorHook>) {
        let resource = self.resource();
        let mut processors: Vec<Box<dyn SpanProcessor>> = Vec::new();
        if let Some(path) = self
            .archive_path
            .take()
            .or_else(|| self.joined_archive_path())
        {
            match ArchiveProcessor::start(
                &path,
                &resource,
                self.config.archive_buffer_spans,
                Arc::clone(&self.health),
            ) {
                Ok(archive) => {
                    self.archive_path = Some(archive.path().to_owned());
                    processors.push(Box::new(archive));
                }
                Err(error) => warn(&format!(
                    "the run archive is off: cannot open {}: {error}",
                    path.display()
                )),
            }
        }
        if self.config.otlp_enabled {
            match otlp::build(&self.config, &self.health) {
                Ok(pipeline) => {
                    processors.push(Box::new(pipeline.processor));
                    *self.otlp_runtime.lock().unwrap_or_else(|e| e.into_inner()) =
                        Some(pipeline.runtime);
                    self.export_state = Some(pipeline.state);
                }
                Err(error) => warn(&format!("live export is off: {error}")),
            }
        }
        for hook in extra {
            hook(&mut processors);
        }
        let fanout = Fanout {
            processors,
            health: Arc::clone(&self.health),
        };
        self.provider = Some(
            SdkTracerProvider::builder()
                .with_resource(resource)
                .with_span_processor(fanout)
                .build(),
        );
    }

    /// The archive of the joined run, when this process joined one.
    fn joined_archive_path(&self) -> Option<PathBuf> {
        if !self.joined || !self.config.archive_enabled {
            return None;
        }
        match std::fs::create_dir_all(&self.config.data_dir) {
            Ok(()) => Some(self.config.data_dir.join(self.run_id.archive_file_name())),
            Err(error) => {
                warn(&format!("the run archive is off: {error}"));
                None
            }
        }
    }

    fn shutdown(&self) {
        if self.done.swap(true, Ordering::AcqRel) {
            return;
        }
        {
            let mut active = ACTIVE.lock().unwrap_or_else(|e| e.into_inner());
            if active
                .as_ref()
                .is_some_and(|a| std::ptr::eq(Arc::as_ptr(a), self))
            {
                *active = None;
                tracer::install(None);
                global::set_tracer_provider(opentelemetry::trace::noop::NoopTracerProvider::new());
            }
        }
        if let Some(state) = &self.export_state {
            state.begin_shutdown();
        }
        // Traces and metrics share one bound: metrics get what the traces left.
        let deadline = Instant::now() + self.config.shutdown_timeout;
        if let Some(provider) = &self.provider {
            let _ = provider.shutdown_with_timeout(self.config.shutdown_timeout);
        }
        // A collector the traces could not reach gets no last metrics export.
        let metrics_bound = if self.health.snapshot().collector_unreachable {
            Duration::ZERO
        } else {
            deadline.saturating_duration_since(Instant::now())
        };
        crate::metrics::shutdown(metrics_bound);
        if let Some(runtime) = self
            .otlp_runtime
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            runtime.shutdown_background();
        }
        let report = self.health.snapshot();
        if report.has_losses() || self.config.report_always {
            let line = report.exit_line(Destinations {
                live: self
                    .config
                    .otlp_enabled
                    .then(|| (self.config.endpoint.as_str(), self.config.protocol.as_str())),
                archive: self.archive_path.as_deref(),
            });
            crate::stderr::line(&format!("agento: telemetry: {}", scrub(&line)));
        }
        *LAST_REPORT.lock().unwrap_or_else(|e| e.into_inner()) = Some(report);
    }
}

/// The one processor the SDK sees: counts ended spans and hands each span to
/// the archive, the OTLP path and any extra processor.
#[derive(Debug)]
struct Fanout {
    processors: Vec<Box<dyn SpanProcessor>>,
    health: Arc<Health>,
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

fn install_panic_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic with a non-text payload".to_owned());
            let location = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            remember_panic(format!("panicked: {message}{location}"));
            previous(info);
        }));
    });
}

/// Active telemetry; flushes and shuts down when dropped.
pub struct Telemetry {
    inner: Arc<Inner>,
}

impl fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Telemetry")
            .field("module", &self.inner.module)
            .field("run_id", &self.inner.run_id)
            .field("archive", &self.inner.archive_path)
            .finish_non_exhaustive()
    }
}

impl Telemetry {
    /// A builder with the defaults.
    pub fn builder() -> TelemetryBuilder {
        TelemetryBuilder {
            module: Cow::Borrowed("agento"),
            new_run: false,
            config: None,
            extra: Vec::new(),
            signals: true,
            archive: None,
            otlp: None,
        }
    }

    /// The run id.
    pub fn run_id(&self) -> &RunId {
        &self.inner.run_id
    }

    /// The archive file, when archiving is on.
    pub fn archive_path(&self) -> Option<&Path> {
        self.inner.archive_path.as_deref()
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The context this process's top span is a child of: the carried root, or
    /// an empty context for a new run.
    pub fn parent_context(&self) -> Context {
        self.inner.parent.clone()
    }

    /// The root context to hand on to the next stage: `own_top` when this
    /// process started the run, the carried root otherwise.
    pub fn carrier_context(&self, own_top: &Context) -> Context {
        if self.inner.joined {
            self.inner.parent.clone()
        } else {
            own_top.clone()
        }
    }

    /// Adds what the start of this run has to say to the process's top span:
    /// `agento.run_id`, and an event for each carrier problem.
    pub fn annotate(&self, span: &SpanGuard) {
        span.set_attribute(KeyValue::new(
            AGENTO_RUN_ID,
            self.inner.run_id.as_str().to_owned(),
        ));
        for note in &self.inner.notes {
            span.add_event(
                CARRIER_IGNORED_EVENT,
                vec![KeyValue::new("message", note.clone())],
            );
        }
    }

    /// Writes the carrier for the next stage (atomically); failures are warnings.
    pub fn write_carrier(&self, root: &Context) {
        if self.inner.config.sdk_disabled || !root.span().span_context().is_valid() {
            return;
        }
        let carrier = Carrier::for_context(root, &self.inner.run_id);
        if let Err(error) = carrier.write(&self.inner.config.carrier_path) {
            warn(&format!(
                "cannot write the context carrier {}: {error}",
                self.inner.config.carrier_path.display()
            ));
        }
    }

    /// The span context of the carried root, when this process joined a run.
    pub fn joined_root(&self) -> Option<SpanContext> {
        self.inner
            .joined
            .then(|| self.inner.parent.span().span_context().clone())
    }

    /// The SDK tracer provider behind this telemetry (`None` with
    /// `OTEL_SDK_DISABLED`), for code that wants its own tracer on the same
    /// pipeline — a `tracing-opentelemetry` layer, say.
    ///
    /// ```no_run
    /// use opentelemetry::trace::TracerProvider as _;
    /// let telemetry = agento_runtime::Telemetry::builder().init();
    /// let tracer = telemetry.tracer_provider().map(|p| p.tracer("my-crate"));
    /// ```
    pub fn tracer_provider(&self) -> Option<&SdkTracerProvider> {
        self.inner.provider.as_ref()
    }

    /// Counters of ended, archived, exported and dropped spans.
    pub fn health(&self) -> HealthReport {
        self.inner.health.snapshot()
    }

    /// Flushes the archive (all spans ended so far are in the file on return).
    pub fn flush(&self) {
        if let Some(provider) = &self.inner.provider {
            let _ = provider.force_flush();
        }
    }

    /// Flushes and shuts down (also done on drop); prints the telemetry report
    /// when something was lost or `AGENTO_TELEMETRY_REPORT=always`. Returns the
    /// final counters.
    pub fn shutdown(self) -> HealthReport {
        self.inner.shutdown();
        self.inner.health.snapshot()
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        self.inner.shutdown();
    }
}
