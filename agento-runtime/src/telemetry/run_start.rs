//! Where a run starts: the run the carrier or `TRACEPARENT` names, or a new one.

use opentelemetry::Context;
use opentelemetry::trace::TraceContextExt;
use std::path::PathBuf;

use super::warn;
use crate::carrier::{Carrier, CarrierRead};
use crate::config::Config;
use crate::run::RunId;

/// Where a run starts: its id and the parent context of this process's spans.
pub(super) struct RunStart {
    pub(super) run_id: RunId,
    pub(super) parent: Context,
    pub(super) joined: bool,
    pub(super) notes: Vec<String>,
}

impl RunStart {
    /// A new run when `new_run`; otherwise the run `TRACEPARENT` or the
    /// carrier file names, or a new one (with a note) when neither is usable.
    pub(super) fn resolve(config: &Config, new_run: bool) -> Self {
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

    /// The archive of the joined run, when this process joined one.
    pub(super) fn joined_archive(&self, config: &Config) -> Option<PathBuf> {
        if !self.joined || !config.archive_enabled {
            return None;
        }
        match std::fs::create_dir_all(&config.data_dir) {
            Ok(()) => Some(config.data_dir.join(self.run_id.archive_file_name())),
            Err(error) => {
                warn(&format!("the run archive is off: {error}"));
                None
            }
        }
    }
}
