//! The three Agento stages. Each stage's entry is an `#[agento_module]`
//! function, so that its own binary and `agento run` run the same code: the
//! binary's process owns telemetry and joins the run through the context
//! carrier; inside `agento run` the stages nest under one `agento.pipeline`.
//!
//! A stage receives the process's [`Pipeline`] from its caller (the binary
//! or `agento run`): the vendor clients, the data directory, the goal file,
//! the console.
//!
//! Stages hand work on through files in the run's own folder,
//! `<data dir>/runs/<run id>/`, which a stage binary finds through the run id
//! the context carrier names; so two runs in one data directory never read
//! each other's work. Each stage then publishes its output atomically as the
//! "latest" copy under the well-known name in the data directory
//! (`plan_structure.json`, `project_plan.json`, `RevisedPlan.json`).

mod calls;
mod error;
pub mod ingest;
pub mod plan_structure;
mod prompts;
pub mod revise;
mod streaming;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use serde::Serialize;

pub use error::PipelineError;

use agento::RunInfo;

use crate::console::Console;
use crate::files::{read_json, scrubbed_json, write_json_atomic};
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
/// The folder of the data directory that holds one folder of work files per run.
pub const RUNS_DIR: &str = "runs";

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
    /// Whether this process runs one stage (a stage binary) rather than the
    /// whole run: only then may a stage whose run folder lacks its input
    /// fall back to the latest copy.
    pub single_stage: bool,
    /// Whether the LLM calls stream (`--stream`).
    pub stream: bool,
}

impl Pipeline {
    /// The LLM calls over this pipeline's clients.
    const fn calls(&self) -> calls::Calls<'_> {
        calls::Calls { pipeline: self }
    }

    /// The data directory of `AGENTO_DATA_DIR` (default `./data`), as the
    /// runtime reads it.
    pub fn data_dir_from_env() -> PathBuf {
        agento::Config::from_env().data_dir
    }

    /// Notes the run the active telemetry records (once).
    pub fn note_run(&self) {
        if let Some(run) = agento::current_run() {
            let _ = self.run.set(run);
        }
    }

    /// Starts stage `number` (`name`): notes the run, says what the stage
    /// does; returns when it started.
    fn begin_stage(&self, number: u8, name: &str, does: &str) -> Instant {
        self.note_run();
        self.console
            .say(&format!("stage {number}/3 {name}: {does}"));
        Instant::now()
    }

    /// Ends stage `name`, begun at `started`: records its time and says
    /// which `output` it wrote to `path`.
    fn end_stage(&self, name: &str, started: Instant, output: &str, path: &Path) {
        self.report.stage_time(name, started.elapsed());
        self.console
            .say(&format!("  {output} → {}", Self::show(path)));
    }

    /// The run this process recorded, once a stage has started.
    pub fn run(&self) -> Option<&RunInfo> {
        self.run.get()
    }

    /// The "latest" copy of output `file`: the well-known name in the data
    /// directory, replaced atomically by every run that gets that far.
    pub fn latest(&self, file: &str) -> PathBuf {
        self.data_dir.join(file)
    }

    /// This run's folder of work files, `<data dir>/runs/<run id>` (the run
    /// id is checked by [`RunId::parse`](agento::RunId::parse), so it
    /// never names a path outside the data directory).
    pub fn run_dir(&self) -> Result<PathBuf, PipelineError> {
        self.run()
            .map(|run| self.data_dir.join(RUNS_DIR).join(run.run_id.as_str()))
            .ok_or(PipelineError::NoRun)
    }

    /// This run's copy of output `file`.
    pub fn work_file(&self, file: &str) -> Result<PathBuf, PipelineError> {
        Ok(self.run_dir()?.join(file))
    }

    /// Writes stage output `file`, registered secrets scrubbed: this run's
    /// copy, then the latest copy (each atomically). Returns this run's copy.
    pub fn write_output<T: Serialize + ?Sized>(
        &self,
        file: &str,
        value: &T,
    ) -> Result<PathBuf, PipelineError> {
        let path = self.work_file(file)?;
        let value = serde_json::to_value(value).map_err(|error| {
            PipelineError::Output(crate::files::FileError {
                path: path.clone(),
                reason: format!("cannot encode: {error}"),
            })
        })?;
        let value = scrubbed_json(value);
        write_json_atomic(&path, &value).map_err(PipelineError::Output)?;
        write_json_atomic(&self.latest(file), &value).map_err(PipelineError::Output)?;
        Ok(path)
    }

    /// Reads stage input `file` (`what` names it in errors) from this run's
    /// folder. A stage binary whose run has no copy (its run came from
    /// `TRACEPARENT` alone, or the earlier stage ran before run folders
    /// existed) reads the latest copy instead and says so; `agento run`
    /// never does.
    pub fn read_input(
        &self,
        file: &str,
        what: &str,
    ) -> Result<(PathBuf, serde_json::Value), PipelineError> {
        let own = self.work_file(file)?;
        let path = if self.single_stage && !own.exists() {
            let latest = self.latest(file);
            self.console.say(&format!(
                "  this run has no {} of its own: reading the latest copy {}",
                Self::show(&own),
                Self::show(&latest)
            ));
            latest
        } else {
            own
        };
        let value = read_json(&path, what, "run the previous stage first?")
            .map_err(PipelineError::Input)?;
        Ok((path, value))
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
