//! One telemetry's state, its shutdown within the bound, and the exit report.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry::{Context, global};
use opentelemetry_sdk::trace::SdkTracerProvider;
use tokio::runtime::Runtime;

use super::active;
use crate::config::Config;
use crate::health::{Destinations, Health};
use crate::otlp;
use crate::run::RunId;
use crate::secrets::scrub;
use crate::tracer;

/// What a [`Telemetry`](super::Telemetry) holds, shared with the process's
/// active slot (the signal path shuts it down from there).
pub(super) struct Session {
    pub(super) config: Config,
    pub(super) module: String,
    pub(super) run_id: RunId,
    pub(super) parent: Context,
    pub(super) joined: bool,
    pub(super) notes: Vec<String>,
    pub(super) archive_path: Option<PathBuf>,
    pub(super) provider: Option<SdkTracerProvider>,
    pub(super) otlp_runtime: Mutex<Option<Runtime>>,
    pub(super) export_state: Option<Arc<otlp::ExportState>>,
    pub(super) health: Arc<Health>,
    pub(super) done: AtomicBool,
}

impl Session {
    /// Flushes and shuts everything down once (later calls do nothing): the
    /// traces, then the metrics in what is left of the bound; prints the exit
    /// report when something was lost or `AGENTO_TELEMETRY_REPORT=always`.
    pub(super) fn shutdown(&self) {
        if self.done.swap(true, Ordering::AcqRel) {
            return;
        }
        active::deactivate(self, || {
            tracer::install(None);
            global::set_tracer_provider(opentelemetry::trace::noop::NoopTracerProvider::new());
        });
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
        active::set_last_report(report);
    }
}
