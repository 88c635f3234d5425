//! The three Agento stages. Each stage's entry is an `#[agento_module]`
//! function, so that its own binary and `agento run` run the same code: the
//! binary's process owns telemetry and joins the run through the context
//! carrier; inside `agento run` the stages nest under one `agento.pipeline`.
//!
//! A stage reads the process's [`Pipeline`] (installed once by the binary):
//! the vendor clients, the data directory, the goal file, the console.

mod calls;
mod error;
pub mod ingest;
pub mod plan_structure;
mod prompts;
pub mod revise;
mod streaming;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub use error::PipelineError;

use agento::runtime::telemetry::RunInfo;

use crate::console::Console;
use crate::report::Recorder;
use crate::vendors::Vendors;

/// The module name of stage 1.
pub const STAGE_1: &str = "1_01_JSON_Goal_to_PlanStructure";
/// The module name of stage 2.
pub const STAGE_2: &str = "1_05_Ingest-PlanStructure-to-Plan";
/// The module name of stage 3.
pub const STAGE_3: &str = "2_Revise-Plan-Stable";

/// Stage 1's output.
pub const PLAN_STRUCTURE_FILE: &str = "plan_structure.json";
/// Stage 2's output.
pub const PROJECT_PLAN_FILE: &str = "project_plan.json";
/// Stage 3's output.
pub const REVISED_PLAN_FILE: &str = "RevisedPlan.json";

/// Everything a stage needs from the process that runs it.
#[derive(Debug)]
pub struct Pipeline {
    /// The vendor clients.
    pub vendors: Vendors,
    /// Where stage outputs go (`AGENTO_DATA_DIR`, default `./data`).
    pub data_dir: PathBuf,
    /// The goal file stage 1 reads.
    pub goal_path: PathBuf,
    /// The console.
    pub console: Console,
    /// What the run did.
    pub report: Recorder,
    /// The run being recorded, noted by the first stage that runs.
    pub run: OnceLock<RunInfo>,
    /// Whether the LLM calls stream (`--stream`).
    pub stream: bool,
}

static PIPELINE: OnceLock<Pipeline> = OnceLock::new();

impl Pipeline {
    /// Installs the pipeline of this process (once; later calls are ignored
    /// and return `false`).
    pub fn install(self) -> bool {
        PIPELINE.set(self).is_ok()
    }

    /// The pipeline of this process.
    pub fn get() -> Result<&'static Self, PipelineError> {
        PIPELINE.get().ok_or(PipelineError::NotInstalled)
    }

    /// The data directory of `AGENTO_DATA_DIR` (default `./data`), as the
    /// runtime reads it.
    pub fn data_dir_from_env() -> PathBuf {
        agento::runtime::config::Config::from_env().data_dir
    }

    /// Notes the run the active telemetry records (once).
    pub fn note_run(&self) {
        if let Some(run) = agento::runtime::telemetry::current_run() {
            let _ = self.run.set(run);
        }
    }

    /// The run this process recorded, once a stage has started.
    pub fn run(&self) -> Option<&RunInfo> {
        self.run.get()
    }

    /// The path of output `file` in the data directory.
    pub fn output(&self, file: &str) -> PathBuf {
        self.data_dir.join(file)
    }

    /// `path` relative to the current directory when it is inside it.
    pub fn show(path: &Path) -> String {
        std::env::current_dir()
            .ok()
            .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_owned))
            .unwrap_or_else(|| path.to_owned())
            .display()
            .to_string()
    }
}
