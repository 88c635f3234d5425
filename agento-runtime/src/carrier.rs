//! The context carrier between stages (memo §5.2, `trace.context`).
//!
//! A JSON file with the W3C `traceparent`/`tracestate` of the run's root span,
//! the run id and the archive file name, written atomically (temporary file +
//! rename). Parsing of `traceparent` is the SDK's [`TraceContextPropagator`].
//!
//! ```
//! use agento_runtime::carrier::{Carrier, CarrierRead};
//! let dir = std::env::temp_dir().join(format!("agento-doc-{}", std::process::id()));
//! let path = dir.join("trace.context");
//! assert!(matches!(Carrier::read(&path), CarrierRead::Missing));
//! ```

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::path::Path;

use opentelemetry::Context;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use serde::{Deserialize, Serialize};

use crate::run::RunId;

/// The carrier format version this runtime writes and reads.
pub const VERSION: u32 = 1;
/// Larger files are not carriers (and are not read into memory).
pub const MAX_BYTES: u64 = 64 * 1024;

/// The content of a carrier file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Carrier {
    /// [`VERSION`].
    pub version: u32,
    /// W3C `traceparent` of the run's root span.
    pub traceparent: String,
    /// W3C `tracestate`, when not empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracestate: Option<String>,
    /// The run id.
    pub run_id: String,
    /// The archive file name (in the data directory).
    pub archive: String,
}

/// What reading a carrier found.
#[derive(Debug)]
pub enum CarrierRead {
    /// No carrier file.
    Missing,
    /// A valid carrier and the context it carries.
    Loaded {
        /// The file's content.
        carrier: Carrier,
        /// The remote parent context.
        context: Context,
        /// The run id.
        run_id: RunId,
    },
    /// A file that is not a valid carrier, and why.
    Invalid(String),
}

impl Carrier {
    /// A carrier for the span active in `cx`, in run `run_id`.
    pub fn for_context(cx: &Context, run_id: &RunId) -> Self {
        let mut fields = HashMap::new();
        TraceContextPropagator::new().inject_context(cx, &mut fields);
        Self {
            version: VERSION,
            traceparent: fields.remove("traceparent").unwrap_or_default(),
            tracestate: fields
                .remove("tracestate")
                .filter(|state| !state.is_empty()),
            run_id: run_id.as_str().to_owned(),
            archive: run_id.archive_file_name(),
        }
    }

    /// Extracts the remote context from W3C header values; `None` when they do
    /// not describe a valid span.
    pub fn extract(traceparent: &str, tracestate: Option<&str>) -> Option<Context> {
        let mut fields = HashMap::new();
        fields.insert("traceparent".to_owned(), traceparent.to_owned());
        if let Some(state) = tracestate {
            fields.insert("tracestate".to_owned(), state.to_owned());
        }
        let cx = TraceContextPropagator::new().extract(&fields);
        cx.span().span_context().is_valid().then_some(cx)
    }

    /// Reads and validates the carrier at `path`. Never panics: anything wrong
    /// is [`CarrierRead::Invalid`] with the reason.
    pub fn read(path: &Path) -> CarrierRead {
        let file = match std::fs::File::open(path) {
            Ok(file) => file,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return CarrierRead::Missing,
            Err(error) => return CarrierRead::Invalid(format!("cannot read it: {error}")),
        };
        let mut bytes = Vec::new();
        if let Err(error) = file.take(MAX_BYTES + 1).read_to_end(&mut bytes) {
            return CarrierRead::Invalid(format!("cannot read it: {error}"));
        }
        if bytes.len() as u64 > MAX_BYTES {
            return CarrierRead::Invalid(format!("it is larger than {MAX_BYTES} bytes"));
        }
        Self::parse(&bytes)
    }

    /// Validates carrier bytes (see [`read`](Self::read)).
    pub fn parse(bytes: &[u8]) -> CarrierRead {
        let carrier: Self = match serde_json::from_slice(bytes) {
            Ok(carrier) => carrier,
            Err(error) => return CarrierRead::Invalid(format!("it is not carrier JSON: {error}")),
        };
        if carrier.version != VERSION {
            return CarrierRead::Invalid(format!(
                "it has version {}, this program reads version {VERSION}",
                carrier.version
            ));
        }
        let Some(run_id) = RunId::parse(&carrier.run_id) else {
            return CarrierRead::Invalid(format!(
                "its run id {:?} is not a run id",
                carrier.run_id
            ));
        };
        if carrier.archive != run_id.archive_file_name() {
            return CarrierRead::Invalid(format!(
                "its archive name {:?} does not belong to run {run_id}",
                carrier.archive
            ));
        }
        let Some(context) = Self::extract(&carrier.traceparent, carrier.tracestate.as_deref())
        else {
            return CarrierRead::Invalid(format!(
                "its traceparent {:?} is not a valid W3C traceparent",
                carrier.traceparent
            ));
        };
        CarrierRead::Loaded {
            carrier,
            context,
            run_id,
        }
    }

    /// Writes the carrier to `path` atomically: a temporary file in the same
    /// directory, synced, then renamed over `path`.
    pub fn write(&self, path: &Path) -> io::Result<()> {
        let dir = path
            .parent()
            .filter(|dir| !dir.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let name = path.file_name().map_or_else(
            || "trace.context".into(),
            |n| n.to_string_lossy().into_owned(),
        );
        let temporary = dir.join(format!(
            ".{name}.{}.{}.tmp",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        let mut file = std::fs::File::create(&temporary)?;
        let written = serde_json::to_vec_pretty(self)
            .map_err(io::Error::other)
            .and_then(|json| file.write_all(&json))
            .and_then(|()| file.sync_all())
            .and_then(|()| std::fs::rename(&temporary, path));
        if written.is_err() {
            let _ = std::fs::remove_file(&temporary);
        }
        written
    }
}
