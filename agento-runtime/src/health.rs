//! Telemetry health: how many spans ended, were archived, exported, dropped.
//!
//! The SDK has no public drop counter, so we count at our own boundaries: spans
//! handed to the OTLP batch processor, spans its exporter delivered or failed
//! to deliver. What was handed over but never reached the exporter was dropped
//! by the batch queue.
//!
//! ```
//! let health = agento_runtime::health::Health::default();
//! health.ended(3);
//! health.archived(3);
//! let report = health.snapshot();
//! assert_eq!((report.ended, report.archived, report.dropped), (3, 3, 0));
//! ```

use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Live counters, shared by the processors and exporters of one [`Telemetry`](crate::Telemetry).
#[derive(Debug, Default)]
pub struct Health {
    ended: AtomicU64,
    archived: AtomicU64,
    archive_failed: AtomicU64,
    archive_waits: AtomicU64,
    otlp_queued: AtomicU64,
    exported: AtomicU64,
    export_failed: AtomicU64,
    first_archive_error: Mutex<Option<String>>,
    first_export_error: Mutex<Option<String>>,
}

impl Health {
    /// `n` spans ended.
    pub fn ended(&self, n: u64) {
        self.ended.fetch_add(n, Ordering::Relaxed);
    }
    /// `n` spans written to the archive.
    pub fn archived(&self, n: u64) {
        self.archived.fetch_add(n, Ordering::Relaxed);
    }
    /// `n` spans could not be written to the archive.
    pub fn archive_failed(&self, n: u64, error: &str) {
        self.archive_failed.fetch_add(n, Ordering::Relaxed);
        remember(&self.first_archive_error, error);
    }
    /// A span's end waited for the archive writer (back-pressure).
    pub fn archive_waited(&self) {
        self.archive_waits.fetch_add(1, Ordering::Relaxed);
    }
    /// `n` spans handed to the OTLP batch processor.
    pub fn otlp_queued(&self, n: u64) {
        self.otlp_queued.fetch_add(n, Ordering::Relaxed);
    }
    /// `n` spans delivered to the collector.
    pub fn exported(&self, n: u64) {
        self.exported.fetch_add(n, Ordering::Relaxed);
    }
    /// `n` spans the exporter failed to deliver.
    pub fn export_failed(&self, n: u64, error: &str) {
        self.export_failed.fetch_add(n, Ordering::Relaxed);
        remember(&self.first_export_error, error);
    }

    /// The counters now.
    pub fn snapshot(&self) -> HealthReport {
        let queued = self.otlp_queued.load(Ordering::Relaxed);
        let exported = self.exported.load(Ordering::Relaxed);
        let export_failed = self.export_failed.load(Ordering::Relaxed);
        HealthReport {
            ended: self.ended.load(Ordering::Relaxed),
            archived: self.archived.load(Ordering::Relaxed),
            archive_failed: self.archive_failed.load(Ordering::Relaxed),
            archive_waits: self.archive_waits.load(Ordering::Relaxed),
            otlp_queued: queued,
            exported,
            export_failed,
            dropped: queued.saturating_sub(exported + export_failed),
            first_archive_error: self
                .first_archive_error
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
            first_export_error: self
                .first_export_error
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        }
    }
}

fn remember(slot: &Mutex<Option<String>>, error: &str) {
    slot.lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(|| crate::scrub::scrub(error).into_owned());
}

/// A snapshot of [`Health`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HealthReport {
    /// Spans ended.
    pub ended: u64,
    /// Spans written to the archive.
    pub archived: u64,
    /// Spans the archive could not write.
    pub archive_failed: u64,
    /// Times a span's end waited for the archive writer.
    pub archive_waits: u64,
    /// Spans handed to the OTLP path.
    pub otlp_queued: u64,
    /// Spans delivered to the collector.
    pub exported: u64,
    /// Spans the exporter failed to deliver.
    pub export_failed: u64,
    /// Spans the OTLP batch queue dropped (queued − exported − failed, after shutdown).
    pub dropped: u64,
    /// The first archive error.
    pub first_archive_error: Option<String>,
    /// The first export error.
    pub first_export_error: Option<String>,
}

impl HealthReport {
    /// Whether anything was dropped or failed.
    pub fn has_losses(&self) -> bool {
        self.dropped > 0 || self.export_failed > 0 || self.archive_failed > 0
    }
}

impl fmt::Display for HealthReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} spans ended, {} archived", self.ended, self.archived)?;
        if self.archive_failed > 0 {
            write!(f, ", {} NOT archived", self.archive_failed)?;
        }
        if let Some(error) = &self.first_archive_error {
            write!(f, " (archive: {error})")?;
        }
        if self.otlp_queued > 0 {
            write!(f, ", {} exported", self.exported)?;
            if self.export_failed > 0 || self.dropped > 0 {
                write!(
                    f,
                    ", {} not exported ({} failed, {} dropped by the queue)",
                    self.export_failed + self.dropped,
                    self.export_failed,
                    self.dropped
                )?;
            }
            if let Some(error) = &self.first_export_error {
                write!(f, " (collector: {error})")?;
            }
        }
        Ok(())
    }
}
