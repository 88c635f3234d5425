//! Telemetry health: how many spans ended, were archived, exported, dropped.
//!
//! The SDK has no public drop counter, so we count at our own boundaries: spans
//! handed to the OTLP batch processor, spans its exporter delivered or failed
//! to deliver. What was handed over but never reached the exporter was dropped
//! by the batch queue.

use std::fmt;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Live counters, shared by the processors and exporters of one [`Telemetry`](crate::Telemetry).
#[derive(Debug, Default)]
pub(crate) struct Health {
    ended: AtomicU64,
    archived: AtomicU64,
    archive_failed: AtomicU64,
    archive_waits: AtomicU64,
    otlp_queued: AtomicU64,
    exported: AtomicU64,
    export_failed: AtomicU64,
    unreachable: AtomicBool,
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

    /// The collector could not be reached (nothing listens at the endpoint).
    pub fn collector_unreachable(&self) {
        self.unreachable.store(true, Ordering::Relaxed);
    }

    /// An export reached the collector (it listens after all).
    pub fn collector_reached(&self) {
        self.unreachable.store(false, Ordering::Relaxed);
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
            collector_unreachable: self.unreachable.load(Ordering::Relaxed),
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
        .get_or_insert_with(|| crate::secrets::scrub(error).into_owned());
}

/// A snapshot of the telemetry's counters.
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
    /// Whether an export failed because nothing listened at the endpoint.
    pub collector_unreachable: bool,
    /// The first archive error.
    pub first_archive_error: Option<String>,
    /// The first export error.
    pub first_export_error: Option<String>,
}

/// Where the spans of a run went: the live export (endpoint and protocol, when
/// on) and the archive file (when on). Used to word the exit line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Destinations<'a> {
    /// The collector endpoint and the OTLP protocol, when live export is on.
    pub live: Option<(&'a str, &'a str)>,
    /// The archive file, when archiving is on.
    pub archive: Option<&'a Path>,
}

impl HealthReport {
    /// Spans that did not reach the collector (failed or dropped).
    pub fn not_exported(&self) -> u64 {
        self.export_failed + self.dropped
    }

    /// Whether anything was dropped or failed.
    pub fn has_losses(&self) -> bool {
        self.dropped > 0 || self.export_failed > 0 || self.archive_failed > 0
    }

    /// The line printed at exit (without the `agento: telemetry:` prefix).
    /// With no collector listening it reads at a glance; a collector that
    /// went away mid-run is named as such (see the tests).
    pub(crate) fn exit_line(&self, to: Destinations<'_>) -> String {
        match to.live {
            Some((endpoint, protocol)) if self.collector_unreachable && self.not_exported() > 0 => {
                let archive = match to.archive {
                    Some(path) if self.archived == self.ended && self.archive_failed == 0 => {
                        format!(
                            "the archive {} has all {} spans",
                            path.display(),
                            self.ended
                        )
                    }
                    Some(path) => format!(
                        "the archive {} has {} of {} spans",
                        path.display(),
                        self.archived,
                        self.ended
                    ),
                    None => "no archive was written (AGENTO_ARCHIVE=off)".to_owned(),
                };
                if self.exported == 0 {
                    format!(
                        "no collector listens at {endpoint} (OTLP {protocol}): {} spans were not \
                         exported; {archive}. To stop trying, set OTEL_TRACES_EXPORTER=none",
                        self.not_exported()
                    )
                } else {
                    format!(
                        "the collector at {endpoint} (OTLP {protocol}) stopped listening: {} of \
                         {} spans were not exported; {archive}",
                        self.not_exported(),
                        self.otlp_queued
                    )
                }
            }
            live => {
                let archive = to.archive.map_or_else(
                    || "no archive".to_owned(),
                    |path| format!("archive {}", path.display()),
                );
                let endpoint = live.map_or_else(
                    || "no live export".to_owned(),
                    |(endpoint, protocol)| format!("collector {endpoint} ({protocol})"),
                );
                format!("{self}; {archive}; {endpoint}")
            }
        }
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{Destinations, Health, HealthReport};

    #[test]
    fn counters_add_up() {
        let health = Health::default();
        health.ended(3);
        health.archived(3);
        let report = health.snapshot();
        assert_eq!((report.ended, report.archived, report.dropped), (3, 3, 0));
    }

    #[test]
    fn with_no_collector_listening_the_exit_line_reads_at_a_glance() {
        let report = HealthReport {
            ended: 67,
            archived: 67,
            otlp_queued: 67,
            export_failed: 67,
            collector_unreachable: true,
            ..HealthReport::default()
        };
        let line = report.exit_line(Destinations {
            live: Some(("http://127.0.0.1:9", "grpc")),
            archive: Some(Path::new("data/agento_run_x.otlp.json")),
        });
        assert_eq!(
            line,
            "no collector listens at http://127.0.0.1:9 (OTLP grpc): 67 spans were not \
             exported; the archive data/agento_run_x.otlp.json has all 67 spans. To stop trying, \
             set OTEL_TRACES_EXPORTER=none"
        );
    }

    #[test]
    fn a_collector_that_went_away_is_named_as_such() {
        let report = HealthReport {
            ended: 67,
            archived: 67,
            otlp_queued: 67,
            exported: 40,
            export_failed: 27,
            collector_unreachable: true,
            ..HealthReport::default()
        };
        let line = report.exit_line(Destinations {
            live: Some(("http://127.0.0.1:9", "grpc")),
            archive: Some(Path::new("run.otlp.json")),
        });
        assert_eq!(
            line,
            "the collector at http://127.0.0.1:9 (OTLP grpc) stopped listening: \
             27 of 67 spans were not exported; the archive run.otlp.json has all 67 spans"
        );
    }
}
