//! The run archive: every span of this process appended to
//! `agento_run_<run id>.otlp.json` in the Collector `file` exporter's format,
//! and the reader that loads it back ([`load`], [`parse`], [`read`],
//! [`latest`]) into traces and span trees.
//!
//! The writer, installed by [`Telemetry`](crate::Telemetry), is a span
//! processor with no lossy queue: a span's end puts the span in a bounded
//! buffer and only waits (back-pressure) when the buffer is full; a writer
//! thread scrubs, cuts large texts, encodes and appends whole lines under an
//! advisory file lock, so processes sharing one archive never interleave.
//!
//! The reader is total: any bytes give an [`Archive`], a line that cannot be
//! read is kept in [`Archive::bad_lines`] with its number.
//!
//! ```
//! let span = r#"{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"root"}"#;
//! let line = format!("{{\"resourceSpans\":[{{\"scopeSpans\":[{{\"spans\":[{span}]}}]}}]}}\n");
//! let archive = agento_runtime::archive::parse(line.as_bytes());
//! assert_eq!(archive.traces[0].spans[0].name, "root");
//! ```

pub(crate) mod encode;
mod read;

pub use read::{
    Archive, Attr, LoadError, Placed, SpanRecord, Trace, Tree, count_spans, latest, load, parse,
    read,
};

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

use opentelemetry::Context;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};

use crate::health::Health;
use crate::outbound::prepare_span;
use crate::secrets::global_scrubber;

/// The writer wakes at least this often, so ended spans reach the file soon.
const WRITE_INTERVAL: Duration = Duration::from_millis(200);
/// Spans per archive line: small enough that a full disk loses little (see
/// [`write_batch`]), large enough that the resource, repeated on each line,
/// costs next to nothing.
const SPANS_PER_LINE: usize = 32;
/// Bytes encoded before they are appended (see [`write_batch`]).
const WRITE_BYTES: usize = 256 * 1024;
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
    /// The processor the writer hands each span on to, scrubbed and cut,
    /// before it encodes it (the OTLP path): so the thread that ends a span
    /// neither copies it nor queues it twice.
    forward: RwLock<Option<Box<dyn SpanProcessor>>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the forward processor, if there is one.
    fn forward<T>(&self, f: impl FnOnce(&dyn SpanProcessor) -> T) -> Option<T> {
        let forward = self.forward.read().unwrap_or_else(|e| e.into_inner());
        forward.as_deref().map(f)
    }
}

/// A span processor that appends every ended span to the run archive.
#[derive(Debug)]
pub(crate) struct ArchiveProcessor {
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
            forward: RwLock::new(None),
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

    /// Hands every span on to `processor` too, from the writer thread, once
    /// it is scrubbed and its large texts are cut (before the GenAI message
    /// attributes are wrapped for the file). Flushes and shutdowns reach
    /// `processor` after the archive's own.
    pub fn forward_to(&self, processor: Box<dyn SpanProcessor>) {
        *self
            .shared
            .forward
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Some(processor);
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
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.shared.forward(|forward| forward.on_start(span, cx));
    }

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
            let mut span = span;
            prepare_span(&mut span, &global_scrubber());
            self.shared.forward(|forward| forward.on_end(span));
            return;
        }
        state.pending.push(span);
        if state.pending.len() == WAKE_AT {
            self.shared.work.notify_one();
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        let archived = self.flush();
        let forwarded = self.shared.forward(|forward| forward.force_flush());
        archived.and(forwarded.unwrap_or(Ok(())))
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        // The archive is local: it is always written completely, whatever the
        // timeout for the network exporters says.
        self.shared.lock().shutdown = true;
        self.shared.work.notify_one();
        let writer = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take();
        let archived = match writer {
            Some(writer) => writer
                .join()
                .map_err(|_| OTelSdkError::InternalFailure("the archive writer panicked".into())),
            None => Ok(()),
        };
        let forwarded = self
            .shared
            .forward(|forward| forward.shutdown_with_timeout(timeout));
        archived.and(forwarded.unwrap_or(Ok(())))
    }

    fn set_resource(&mut self, resource: &Resource) {
        let mut forward = self
            .shared
            .forward
            .write()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(forward) = forward.as_mut() {
            forward.set_resource(resource);
        }
    }
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
            let scrubber = global_scrubber();
            batch
                .iter_mut()
                .for_each(|span| prepare_span(span, &scrubber));
            shared.forward(|forward| {
                for span in &batch {
                    forward.on_end(span.clone());
                }
            });
            batch.iter_mut().for_each(crate::messages::expand);
            write_batch(
                shared,
                file,
                resources,
                std::mem::take(&mut batch),
                &mut line_buffer,
            );
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

/// Encodes `batch` (lines of at most [`SPANS_PER_LINE`] spans) and appends it
/// [`WRITE_BYTES`] at a time: what the encoder wrote is still in the CPU cache
/// when the kernel copies it into the file (a whole batch of LLM spans, tens
/// of megabytes, would be read back from memory). When a write fails (a full
/// disk, a file-size limit), its lines are appended one by one until one
/// fails, so that as many spans as fit are archived, and the batch stops
/// there; the counts go to [`Health`].
fn write_batch(
    shared: &Shared,
    file: &File,
    resources: &mut encode::ArchiveResources,
    batch: Vec<SpanData>,
    buffer: &mut Vec<u8>,
) {
    let count = batch.len() as u64;
    let mut archived = 0;
    // (end of the line in `buffer`, spans on it)
    let mut lines: Vec<(usize, u64)> = Vec::new();
    let mut spans = batch.into_iter().peekable();
    while spans.peek().is_some() {
        buffer.clear();
        lines.clear();
        while buffer.len() < WRITE_BYTES {
            let chunk: Vec<SpanData> = spans.by_ref().take(SPANS_PER_LINE).collect();
            let in_chunk = chunk.len() as u64;
            if in_chunk == 0 {
                break;
            }
            if let Err(error) = encode::encode_line(chunk, resources, buffer) {
                shared.health.archived(archived);
                shared
                    .health
                    .archive_failed(count - archived, &error.to_string());
                return;
            }
            lines.push((buffer.len(), in_chunk));
        }
        if let Err(error) = append_lines(file, buffer, &lines, &mut archived) {
            shared.health.archived(archived);
            shared
                .health
                .archive_failed(count - archived, &error.to_string());
            return;
        }
    }
    shared.health.archived(archived);
}

/// Appends `buffer` (whose lines end at `lines`) in one write or, when that
/// fails, line by line until one fails; adds the spans appended to `archived`.
fn append_lines(
    file: &File,
    buffer: &[u8],
    lines: &[(usize, u64)],
    archived: &mut u64,
) -> std::io::Result<()> {
    let Err(error) = append_locked(file, buffer) else {
        *archived += lines.iter().map(|(_, spans)| spans).sum::<u64>();
        return Ok(());
    };
    let mut start = 0;
    for &(end, in_line) in lines {
        if append_locked(file, &buffer[start..end]).is_err() {
            break;
        }
        *archived += in_line;
        start = end;
    }
    Err(error)
}

/// Appends `bytes` (whole lines) under an exclusive advisory lock. A write
/// that fails part-way (a full disk, a file-size limit) is cut back to where
/// the file ended before it, so the file always ends with a complete line and
/// the next append starts a line of its own.
fn append_locked(mut file: &File, bytes: &[u8]) -> std::io::Result<()> {
    file.lock()?;
    let written = file.metadata().and_then(|before| {
        file.write_all(bytes).inspect_err(|_| {
            // Best effort: shrinking needs no space; if even this fails, the
            // error reported is still the write's.
            let _ = file.set_len(before.len());
        })
    });
    let unlocked = file.unlock();
    written.and(unlocked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_append_leaves_no_partial_line() {
        let dir = std::env::temp_dir().join(format!("agento-append-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("archive.otlp.json");
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap();
        append_locked(&file, b"{\"line\":1}\n").unwrap();
        // /dev/full-like failure: a read-only handle cannot be written.
        let read_only = File::open(&path).unwrap();
        assert!(append_locked(&read_only, b"{\"line\":2}\n").is_err());
        append_locked(&file, b"{\"line\":3}\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"line\":1}\n{\"line\":3}\n"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
