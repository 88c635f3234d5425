//! The run archive: every span of this process appended to
//! `agento_run_<run id>.otlp.json` in the Collector `file` exporter's format.
//!
//! [`ArchiveProcessor`] is a span processor with no lossy queue: a span's end
//! puts the span in a bounded buffer and only waits (back-pressure) when the
//! buffer is full; a writer thread scrubs, encodes and appends whole lines under
//! an advisory file lock, so processes sharing one archive never interleave.

pub mod encode;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use opentelemetry::Context;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};

use crate::health::Health;
use crate::redact::scrub_span;
use crate::scrub::global_scrubber;

/// The writer wakes at least this often, so ended spans reach the file soon.
const WRITE_INTERVAL: Duration = Duration::from_millis(200);
/// The writer wakes early once this many spans wait.
const WAKE_AT: usize = 512;

#[derive(Debug, Default)]
struct State {
    pending: Vec<SpanData>,
    flush_requested: u64,
    flushed: u64,
    shutdown: bool,
    stopped: bool,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    work: Condvar,
    progress: Condvar,
    capacity: usize,
    health: Arc<Health>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A span processor that appends every ended span to the run archive.
#[derive(Debug)]
pub struct ArchiveProcessor {
    shared: Arc<Shared>,
    writer: Mutex<Option<JoinHandle<()>>>,
    path: PathBuf,
}

impl ArchiveProcessor {
    /// Starts the writer thread for the archive at `path` (created if missing,
    /// appended to otherwise). `capacity` bounds the spans waiting to be written.
    pub fn start(
        path: &Path,
        resource: &Resource,
        capacity: usize,
        health: Arc<Health>,
    ) -> std::io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            work: Condvar::new(),
            progress: Condvar::new(),
            capacity: capacity.max(1),
            health,
        });
        let mut resources = encode::ArchiveResources::new(resource);
        let writer_shared = Arc::clone(&shared);
        let writer = std::thread::Builder::new()
            .name("agento-archive".into())
            .spawn(move || write_loop(&writer_shared, &file, &mut resources))?;
        Ok(Self {
            shared,
            writer: Mutex::new(Some(writer)),
            path: path.to_owned(),
        })
    }

    /// The archive file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn flush(&self) -> OTelSdkResult {
        let mut state = self.shared.lock();
        if state.stopped {
            return Ok(());
        }
        state.flush_requested += 1;
        let target = state.flush_requested;
        self.shared.work.notify_one();
        while state.flushed < target && !state.stopped {
            state = self
                .shared
                .progress
                .wait(state)
                .unwrap_or_else(|e| e.into_inner());
        }
        Ok(())
    }
}

impl SpanProcessor for ArchiveProcessor {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        let mut state = self.shared.lock();
        if state.pending.len() >= self.shared.capacity && !state.stopped {
            self.shared.health.archive_waited();
            self.shared.work.notify_one();
            while state.pending.len() >= self.shared.capacity && !state.stopped {
                state = self
                    .shared
                    .progress
                    .wait(state)
                    .unwrap_or_else(|e| e.into_inner());
            }
        }
        if state.stopped {
            drop(state);
            self.shared
                .health
                .archive_failed(1, "the archive writer had already stopped");
            return;
        }
        state.pending.push(span);
        if state.pending.len() == WAKE_AT {
            self.shared.work.notify_one();
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.flush()
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        // The archive is local: it is always written completely, whatever the
        // timeout for the network exporters says.
        self.shared.lock().shutdown = true;
        self.shared.work.notify_one();
        let writer = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take();
        match writer {
            Some(writer) => writer
                .join()
                .map_err(|_| OTelSdkError::InternalFailure("the archive writer panicked".into())),
            None => Ok(()),
        }
    }

    fn set_resource(&mut self, _resource: &Resource) {}
}

fn write_loop(shared: &Shared, file: &File, resources: &mut encode::ArchiveResources) {
    let mut line_buffer = Vec::new();
    let mut batch = Vec::new();
    loop {
        let (flush_target, finished) = {
            let mut state = shared.lock();
            while state.pending.is_empty()
                && state.flush_requested == state.flushed
                && !state.shutdown
            {
                let (next, _) = shared
                    .work
                    .wait_timeout(state, WRITE_INTERVAL)
                    .unwrap_or_else(|e| e.into_inner());
                state = next;
                if !state.pending.is_empty() {
                    break;
                }
            }
            std::mem::swap(&mut batch, &mut state.pending);
            shared.progress.notify_all();
            (state.flush_requested, state.shutdown && batch.is_empty())
        };
        if !batch.is_empty() {
            let count = batch.len() as u64;
            let scrubber = global_scrubber();
            batch.iter_mut().for_each(|span| {
                scrub_span(span, &scrubber);
                crate::messages::expand(span);
            });
            line_buffer.clear();
            let written = encode::encode_lines_per_module(
                std::mem::take(&mut batch),
                resources,
                &mut line_buffer,
            )
            .map_err(|error| error.to_string())
            .and_then(|()| append_locked(file, &line_buffer).map_err(|error| error.to_string()));
            match written {
                Ok(()) => shared.health.archived(count),
                Err(error) => shared.health.archive_failed(count, &error),
            }
        }
        let mut state = shared.lock();
        state.flushed = state.flushed.max(flush_target);
        if finished || (state.shutdown && state.pending.is_empty()) {
            state.stopped = true;
            state.flushed = state.flush_requested;
            shared.progress.notify_all();
            return;
        }
        shared.progress.notify_all();
    }
}

/// Appends `bytes` (whole lines) under an exclusive advisory lock.
fn append_locked(mut file: &File, bytes: &[u8]) -> std::io::Result<()> {
    file.lock()?;
    let written = file.write_all(bytes);
    let unlocked = file.unlock();
    written.and(unlocked)
}
