//! [`TelemetryBuilder`]: what to set up, and [`TelemetryBuilder::init`], which
//! sets it up.

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use opentelemetry::global;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{SimpleSpanProcessor, SpanExporter, SpanProcessor};

use super::pipeline::{self, ProcessorHook};
use super::run_start::RunStart;
use super::session::Session;
use super::{Telemetry, active, panic_hook, resource, warn};
use crate::config::Config;
use crate::end_hook::Hooked;
use crate::health::Health;
use crate::outbound::SecretsStage;
use crate::run::RunId;
use crate::{signals, tracer};

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
    /// The defaults ([`Telemetry::builder`]).
    pub(super) fn new() -> Self {
        Self {
            module: Cow::Borrowed("agento"),
            new_run: false,
            config: None,
            extra: Vec::new(),
            signals: true,
            archive: None,
            otlp: None,
        }
    }

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
    /// (see [`secrets`](crate::secrets)): every span it receives at its end is
    /// already scrubbed.
    #[must_use]
    pub fn with_span_processor<P: SpanProcessor + 'static>(mut self, processor: P) -> Self {
        self.extra.push(Box::new(move |processors| {
            processors.push(Box::new(Hooked::new(processor, SecretsStage)))
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
    pub fn init(mut self) -> Telemetry {
        let config = self.settled_config();
        let mut start = RunStart::resolve(&config, self.new_run);
        for note in &start.notes {
            warn(note);
        }
        let claimed = claim_archive(&config, &mut start);
        let module = self.module.into_owned();
        let health = Arc::new(Health::default());
        let mut built = None;
        if !config.sdk_disabled {
            let archive = claimed.or_else(|| start.joined_archive(&config));
            let resource = resource::build(&config, &module, &start.run_id);
            built = Some(pipeline::build(
                &config,
                resource.clone(),
                archive,
                &health,
                self.extra,
            ));
            crate::metrics::start(&config, resource)
                .iter()
                .for_each(|w| warn(w));
        }
        let (provider, archive_path, otlp_runtime, export_state) = match built {
            Some(built) => (
                Some(built.provider),
                built.archive_path,
                built.otlp_runtime,
                built.export_state,
            ),
            None => (None, None, None, None),
        };
        if self.signals
            && let Err(error) = signals::install(active::shutdown_active)
        {
            warn(&error);
        }
        panic_hook::install();
        let session = Arc::new(Session {
            config,
            module,
            run_id: start.run_id,
            parent: start.parent,
            joined: start.joined,
            notes: start.notes,
            archive_path,
            provider,
            otlp_runtime: Mutex::new(otlp_runtime),
            export_state,
            health,
            done: AtomicBool::new(false),
        });
        active::activate(&session);
        if let Some(provider) = &session.provider {
            tracer::install(Some(
                provider.tracer_with_scope(tracer::scope(&session.module)),
            ));
            global::set_tracer_provider(provider.clone());
        }
        Telemetry { inner: session }
    }

    /// The configuration with this builder's overrides, its warnings printed;
    /// everything off once the process is terminating.
    fn settled_config(&mut self) -> Config {
        let mut config = self.config.take().unwrap_or_else(Config::from_env);
        for warning in &config.warnings {
            warn(warning);
        }
        if let Some(archive) = self.archive {
            config.archive_enabled = archive;
        }
        if let Some(otlp) = self.otlp {
            config.otlp_enabled = otlp;
        }
        if active::terminating() {
            config.sdk_disabled = true;
        }
        config
    }
}

/// A new run's archive, claimed under a fresh run id (which `start` takes);
/// `None` when the run is joined, the archive is off, or it cannot be created
/// (said on stderr).
fn claim_archive(config: &Config, start: &mut RunStart) -> Option<PathBuf> {
    if start.joined || !config.archive_enabled || config.sdk_disabled {
        return None;
    }
    match RunId::claim(&config.data_dir) {
        Ok((run_id, path)) => {
            start.run_id = run_id;
            Some(path)
        }
        Err(error) => {
            warn(&format!(
                "the run archive is off: cannot create it in {}: {error}",
                config.data_dir.display()
            ));
            None
        }
    }
}
