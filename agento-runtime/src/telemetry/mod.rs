//! Telemetry setup: a builder that returns a guard.
//!
//! [`Telemetry::builder`] reads the environment ([`Config`]), joins the run named
//! by the context carrier or starts a new one, builds the resource, the run
//! archive and the OTLP path, installs the SIGTERM/SIGINT/SIGHUP/SIGQUIT handler and a panic
//! hook, and returns a [`Telemetry`]. Dropping it, or [`Telemetry::shutdown`],
//! flushes the archive and the exporter within the shutdown bound.

mod active;
mod builder;
mod fanout;
mod panic_hook;
mod pipeline;
mod resource;
mod run_start;
mod session;

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use opentelemetry::trace::TraceContextExt;
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::SdkTracerProvider;

pub(crate) use active::module_tracer;
pub use active::{RunInfo, current_run, is_active, last_report};
pub use builder::TelemetryBuilder;

use crate::attributes::AGENTO_RUN_ID;
use crate::carrier::Carrier;
use crate::config::Config;
use crate::health::HealthReport;
use crate::run::RunId;
use crate::span::SpanGuard;
use crate::stderr::warn;
use session::Session;

/// The event put on a new root span when a carrier could not be used.
pub const CARRIER_IGNORED_EVENT: &str = "agento.carrier.ignored";

/// Active telemetry; flushes and shuts down when dropped.
///
/// [`Telemetry::builder`] reads the environment ([`Config`]), joins the run
/// named by the context carrier or starts a new one, builds the resource, the
/// run archive and the OTLP path, installs the SIGTERM/SIGINT/SIGHUP/SIGQUIT
/// handler and a panic hook. Dropping the guard, or [`Telemetry::shutdown`],
/// flushes the archive and the exporter within the shutdown bound.
/// `#[agento_module]` does all of this for a stage's entry function.
///
/// ```no_run
/// use agento_runtime::{SpanGuard, SpanKind, Telemetry};
///
/// let telemetry = Telemetry::builder().module("example").new_run(true).init();
/// {
///     let step = SpanGuard::start("generate_plan_structure", SpanKind::Chain);
///     step.set_text("agento.user_goal", "Open a bakery");
///     step.set_ok();
/// }
/// let report = telemetry.shutdown();
/// assert_eq!(report.ended, report.archived);
/// ```
pub struct Telemetry {
    inner: Arc<Session>,
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
        TelemetryBuilder::new()
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
