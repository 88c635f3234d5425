//! [`PipelineError`]: why a stage failed, with `error.type` for its span.

use std::borrow::Cow;

use agento::ErrorInfo;

use crate::files::FileError;
use crate::goal::GoalError;
use crate::plan::PlanError;
use crate::vendors::VendorError;

/// Why a stage failed.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The goal file cannot be used.
    #[error("bad goal: {0}")]
    Goal(#[from] GoalError),
    /// A stage input is missing or invalid.
    #[error("bad input {0}")]
    Input(FileError),
    /// A stage output cannot be written.
    #[error("cannot write output {0}")]
    Output(FileError),
    /// A vendor call failed (after its retries).
    #[error(transparent)]
    Vendor(#[from] VendorError),
    /// The model's plan is not usable.
    #[error("the plan from {model} is not usable: {error}")]
    Plan {
        /// The model that wrote it.
        model: String,
        /// What is wrong.
        error: PlanError,
    },
    /// The input of a later stage is not what the earlier stage writes.
    #[error("{path}: {reason}")]
    Shape {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A stage ran before the run it belongs to was known (no active telemetry).
    #[error("the stage does not know its run, so it cannot find its run folder")]
    NoRun,
}

impl ErrorInfo for PipelineError {
    fn error_type(&self) -> Cow<'static, str> {
        match self {
            Self::Goal(_) => "bad_goal".into(),
            Self::Input(_) | Self::Shape { .. } => "bad_input".into(),
            Self::Output(_) => "output".into(),
            Self::Vendor(error) => error.error_type(),
            Self::Plan { .. } => "bad_plan".into(),
            Self::NoRun => "setup".into(),
        }
    }
}
