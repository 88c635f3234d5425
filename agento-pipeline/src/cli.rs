//! The command line: `agento run`, `agento simulate`, `agento trace`, and the
//! stage binaries, which share the arguments of `agento run` and [`run_stage`].

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use agento::agento_module;
use clap::{Args, Parser, Subcommand};
use serde_json::json;

use crate::console::{Console, err_line, out_json, out_line};
use crate::report::{Recorder, RunReport};
use crate::simulator::{Simulator, SimulatorConfig};
use crate::stages::{self, Pipeline, PipelineError};
use crate::vendors::{Vendors, VendorsConfig};

/// `agento`: run the Agento pipeline with full OpenTelemetry tracing.
#[derive(Debug, Parser)]
#[command(name = "agento", version, about, long_about = None)]
struct Cli {
    /// What to do.
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Run the three stages in one process under one root span.
    Run(RunArgs),
    /// Serve the offline vendor simulator (Gemini, OpenAI and Anthropic APIs).
    Simulate(SimulateArgs),
    /// Look at a run's trace archive.
    #[command(subcommand)]
    Trace(crate::trace::TraceCommand),
}

/// Where the vendors are and which models to ask.
#[derive(Debug, Clone, Args)]
struct VendorArgs {
    /// Use the built-in vendor simulator instead of the real APIs (no keys, no network).
    #[arg(long)]
    offline: bool,
    /// The Gemini model [env: GEMINI_MODEL; default gemini-3.8-flash].
    #[arg(long)]
    gemini_model: Option<String>,
    /// The OpenAI model [env: OPENAI_MODEL; default gpt-5.5].
    #[arg(long)]
    openai_model: Option<String>,
    /// The Anthropic model [env: ANTHROPIC_MODEL; default claude-sonnet-5-5].
    #[arg(long)]
    anthropic_model: Option<String>,
    /// Print errors only.
    #[arg(long, short)]
    quiet: bool,
}

/// `agento run`.
#[derive(Debug, Clone, Args)]
struct RunArgs {
    /// The goal file: {"goal": "...", "expected_response": "..."}.
    #[arg(long, default_value = "project_goal.json")]
    goal: PathBuf,
    /// Print a machine-readable summary on stdout.
    #[arg(long)]
    json: bool,
    /// Stream every LLM call (server-sent events); on a terminal the current
    /// call's text shows as it arrives.
    #[arg(long)]
    stream: bool,
    /// Vendors and console.
    #[command(flatten)]
    vendors: VendorArgs,
}

/// The arguments of each stage binary: those of `agento run`.
#[derive(Debug, Parser)]
#[command(
    version,
    about = "One stage of the Agento pipeline; stages hand the trace on through $AGENTO_DATA_DIR/trace.context"
)]
struct StageArgs {
    /// As for `agento run`.
    #[command(flatten)]
    run: RunArgs,
}

/// `agento simulate`.
#[derive(Debug, Clone, Args)]
struct SimulateArgs {
    /// The port on 127.0.0.1 (0: a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
}

/// Runs the `agento` command line.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => run_pipeline(&args, Which::All),
        Command::Simulate(args) => simulate(&args),
        Command::Trace(command) => crate::trace::run(command),
    }
}

/// Which stages a process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// All three, under one root span (`agento run`).
    All,
    /// Stage 1 only.
    PlanStructure,
    /// Stage 2 only.
    Ingest,
    /// Stage 3 only.
    Revise,
}

/// The `main` of a stage binary.
pub fn run_stage(which: Which) -> ExitCode {
    let args = StageArgs::parse();
    run_pipeline(&args.run, which)
}

fn tokio() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| format!("cannot start the async runtime: {error}"))
}

fn simulate(args: &SimulateArgs) -> ExitCode {
    let served = tokio().and_then(|runtime| {
        runtime.block_on(async {
            let config = SimulatorConfig::from_env()?;
            let simulator = Simulator::start(config, args.port)
                .await
                .map_err(|error| format!("cannot listen on 127.0.0.1:{}: {error}", args.port))?;
            out_line(&simulator.base_url());
            err_line(&format!(
                "agento: vendor simulator at {} (Gemini /v1beta, OpenAI /v1, Anthropic /v1/messages); Ctrl-C stops it",
                simulator.base_url()
            ));
            simulator.wait().await;
            Ok(())
        })
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            err_line(&format!("error: {error}"));
            ExitCode::from(2)
        }
    }
}

/// Sets the pipeline up (vendors, simulator), runs `which` and reports.
fn run_pipeline(args: &RunArgs, which: Which) -> ExitCode {
    let runtime = match tokio() {
        Ok(runtime) => runtime,
        Err(error) => {
            err_line(&format!("error: {error}"));
            return ExitCode::from(2);
        }
    };
    runtime.block_on(async {
        let (simulator, vendors) = match connect(&args.vendors).await {
            Ok(connected) => connected,
            Err(error) => {
                err_line(&format!("error: {error}"));
                return ExitCode::from(2);
            }
        };
        let console = Console::detect(args.vendors.quiet || args.json);
        if let Some(simulator) = &simulator {
            console.say(&format!(
                "offline: vendor simulator at {}",
                simulator.base_url()
            ));
        }
        let pipeline = Pipeline {
            vendors,
            data_dir: Pipeline::data_dir_from_env(),
            goal_path: args.goal.clone(),
            console,
            report: Recorder::default(),
            run: std::sync::OnceLock::new(),
            single_stage: which != Which::All,
            stream: args.stream,
        };
        let started = Instant::now();
        let outcome = match which {
            Which::All => whole_run(&pipeline).await.map(drop),
            Which::PlanStructure => stages::plan_structure::run(&pipeline).await.map(drop),
            Which::Ingest => stages::ingest::run(&pipeline).await.map(drop),
            Which::Revise => stages::revise::run(&pipeline).await.map(drop),
        };
        let elapsed = started.elapsed();
        if let Some(simulator) = simulator {
            simulator.shutdown().await;
        }
        finish(&pipeline, args, &outcome, elapsed)
    })
}

/// The vendor clients `args` ask for, and the simulator they call when
/// `--offline` (started here); or why they cannot be set up.
async fn connect(args: &VendorArgs) -> Result<(Option<Simulator>, Vendors), String> {
    let simulator = if args.offline {
        let config = SimulatorConfig::from_env()?;
        let simulator = Simulator::start(config, 0)
            .await
            .map_err(|error| format!("cannot start the vendor simulator: {error}"))?;
        Some(simulator)
    } else {
        None
    };
    let config = match &simulator {
        Some(simulator) => VendorsConfig::offline(&simulator.base_url()),
        None => VendorsConfig::from_env(),
    }
    .map_err(|e| e.to_string())?
    .with_models(
        args.gemini_model.clone(),
        args.openai_model.clone(),
        args.anthropic_model.clone(),
    );
    let vendors = Vendors::new(config).map_err(|e| e.to_string())?;
    Ok((simulator, vendors))
}

/// `agento run`: the three stages under one `agento.pipeline` root. The root
/// belongs to the first stage's module, as when the stages run as three
/// binaries (there the first stage's span is the root): both ways give the
/// same three module resources.
#[agento_module(name = "1_01_JSON_Goal_to_PlanStructure", root)]
async fn whole_run(pipeline: &Pipeline) -> Result<(), PipelineError> {
    pipeline.note_run();
    stages::plan_structure::run(pipeline).await?;
    stages::ingest::run(pipeline).await?;
    stages::revise::run(pipeline).await?;
    Ok(())
}

/// Prints the outcome (and the `--json` summary); the exit code.
fn finish(
    pipeline: &Pipeline,
    args: &RunArgs,
    outcome: &Result<(), PipelineError>,
    elapsed: std::time::Duration,
) -> ExitCode {
    let report = pipeline.report.snapshot();
    let run = pipeline.run();
    let archive = run.and_then(|run| run.archive.clone());
    let spans = archive.as_deref().map(crate::trace::count_spans);
    let telemetry = agento::last_report();
    let archive_incomplete = telemetry.as_ref().filter(|t| t.archive_failed > 0);
    if args.json {
        let summary = json!({
            "outcome": if outcome.is_ok() { "ok" } else { "failed" },
            "error": outcome.as_ref().err().map(ToString::to_string),
            "run_id": run.map(|run| run.run_id.to_string()),
            "archive": archive.as_ref().map(|p| p.display().to_string()),
            "run_folder": pipeline.run_dir().ok().map(|p| p.display().to_string()),
            "spans": spans,
            "archive_complete": archive_incomplete.is_none(),
            "wall_ms": elapsed.as_millis(),
            "stage_ms": report.stage_ms,
            "tokens": report.tokens,
            "steps": report.steps,
        });
        out_json(&summary);
    }
    if let (Some(lost), Some(archive)) = (archive_incomplete, &archive) {
        eprintln!(
            "error: the trace archive {} is incomplete: {} of {} spans were archived, {} could not \
             be written ({})",
            Pipeline::show(archive),
            lost.archived,
            lost.ended,
            lost.archive_failed,
            lost.first_archive_error
                .as_deref()
                .unwrap_or("unknown error")
        );
    }
    match outcome {
        Ok(()) => {
            say_done(pipeline, &report, elapsed, archive.as_deref(), spans);
            if archive_incomplete.is_some() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(error) => {
            err_line(&format!("error: {error}"));
            if let Some(archive) = &archive {
                err_line(&format!(
                    "the trace of the failed run is in {}",
                    Pipeline::show(archive)
                ));
            }
            ExitCode::FAILURE
        }
    }
}

/// Says how a successful run went: time and tokens per vendor, and where its
/// trace archive is.
fn say_done(
    pipeline: &Pipeline,
    report: &RunReport,
    elapsed: std::time::Duration,
    archive: Option<&Path>,
    spans: Option<usize>,
) {
    let tokens: Vec<String> = report
        .tokens
        .iter()
        .map(|(vendor, t)| {
            format!(
                "{vendor} {} calls, {}→{} tokens",
                t.calls, t.input_tokens, t.output_tokens
            )
        })
        .collect();
    pipeline.console.say(&format!(
        "done in {:.1}s: {}",
        elapsed.as_secs_f64(),
        tokens.join("; ")
    ));
    if let Some(archive) = archive {
        pipeline.console.say(&format!(
            "trace archive: {} ({} spans) — look at it with `agento trace show {}`",
            Pipeline::show(archive),
            spans.unwrap_or(0),
            Pipeline::show(archive)
        ));
    }
}
