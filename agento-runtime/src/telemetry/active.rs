//! The process's active telemetry, and what outlives it: the last shutdown's
//! counters and whether a signal is ending the process.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracer;

use super::session::Session;
use crate::health::HealthReport;
use crate::run::RunId;
use crate::tracer;

static ACTIVE: Mutex<Option<Arc<Session>>> = Mutex::new(None);

static LAST_REPORT: Mutex<Option<HealthReport>> = Mutex::new(None);

/// Set once a signal ends the process: telemetry started from then on (a
/// module that begins while the exit flush runs) records nothing.
static TERMINATING: AtomicBool = AtomicBool::new(false);

/// Whether a [`Telemetry`](super::Telemetry) is active in this process.
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

/// The run of the active [`Telemetry`](super::Telemetry), if one is active.
///
/// ```
/// assert!(agento_runtime::current_run().is_none());
/// ```
pub fn current_run() -> Option<RunInfo> {
    ACTIVE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .map(|session| RunInfo {
            run_id: session.run_id.clone(),
            archive: session.archive_path.clone(),
        })
}

/// The final counters of the telemetry shut down last in this process: a
/// program whose telemetry is shut down for it (`#[agento_module]`) learns
/// here whether every span reached the archive.
///
/// ```
/// // No telemetry was shut down in this process yet.
/// assert!(agento_runtime::last_report().is_none());
/// ```
pub fn last_report() -> Option<HealthReport> {
    LAST_REPORT
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}

/// Keeps `report` as the last shutdown's counters.
pub(super) fn set_last_report(report: HealthReport) {
    *LAST_REPORT.lock().unwrap_or_else(|e| e.into_inner()) = Some(report);
}

/// Whether a signal is ending the process.
pub(super) fn terminating() -> bool {
    TERMINATING.load(Ordering::Acquire)
}

/// Makes `session` the active telemetry, shutting down the one it replaces.
pub(super) fn activate(session: &Arc<Session>) {
    let previous = ACTIVE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .replace(Arc::clone(session));
    if let Some(previous) = previous {
        previous.shutdown();
        *ACTIVE.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::clone(session));
    }
}

/// Clears the active telemetry when it is `session`, running `uninstall`
/// before anything else can become active.
pub(super) fn deactivate(session: &Session, uninstall: impl FnOnce()) {
    let mut active = ACTIVE.lock().unwrap_or_else(|e| e.into_inner());
    if active
        .as_ref()
        .is_some_and(|a| std::ptr::eq(Arc::as_ptr(a), session))
    {
        *active = None;
        uninstall();
    }
}

/// A tracer for `module`'s spans on the active telemetry's provider (a module
/// nested in an active run), if telemetry is active.
pub(crate) fn module_tracer(module: &str) -> Option<SdkTracer> {
    let active = ACTIVE.lock().unwrap_or_else(|e| e.into_inner()).clone()?;
    let provider = active.provider.as_ref()?;
    Some(provider.tracer_with_scope(tracer::scope(module)))
}

/// Shuts the active telemetry down (the signal path).
pub(super) fn shutdown_active() {
    TERMINATING.store(true, Ordering::Release);
    let active = ACTIVE.lock().unwrap_or_else(|e| e.into_inner()).clone();
    if let Some(session) = active {
        session.shutdown();
    }
}
