//! Looking at runs: `agento trace show | report | validate`. All three read
//! archives written by agento or by the contrib collector's `file` exporter
//! (the same format), including files that hold several traces, with the
//! runtime's reader ([`agento::archive`]). They are total on
//! any input: unreadable lines are reported by number and skipped, parent-id
//! cycles and unreachable spans are named, no walk recurses on depth.

mod output;
pub mod report;
pub mod show;
pub mod validate;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

pub use agento::archive::{Archive, Attr, LoadError, SpanRecord, Trace, load, parse};
pub(crate) use agento::archive::{Placed, Tree, count_spans, latest};
use validate::Contract;

/// Which trace to look at: an archive file (or the newest) and, when it
/// holds several, which of its traces.
#[derive(Debug, Args)]
pub(crate) struct TraceArgs {
    /// The archive.
    #[arg(required_unless_present = "latest")]
    file: Option<PathBuf>,
    /// Use the newest archive in $AGENTO_DATA_DIR (default ./data).
    #[arg(long, conflicts_with = "file")]
    latest: bool,
    /// The trace, when the file holds several (a prefix of its id).
    #[arg(long)]
    trace: Option<String>,
}

/// `agento trace ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum TraceCommand {
    /// The span tree: kinds, durations, statuses, vendors, tokens, retries.
    Show {
        /// Which trace.
        #[command(flatten)]
        which: TraceArgs,
        /// Also print every attribute.
        #[arg(long)]
        attrs: bool,
        /// Print a machine-readable summary instead.
        #[arg(long)]
        json: bool,
    },
    /// A self-contained HTML report: waterfall, tokens and latency, the plan before and after.
    Report {
        /// Which trace.
        #[command(flatten)]
        which: TraceArgs,
        /// Where to write the HTML.
        #[arg(short, long, default_value = "run.html")]
        output: PathBuf,
    },
    /// Checks an archive against the trace contract; exit 1 on any violation.
    Validate {
        /// Which trace.
        #[command(flatten)]
        which: TraceArgs,
        /// `general` (any application), `agento` (the pipeline's contract on
        /// top), or `auto`: `agento` when the trace is an Agento pipeline run.
        #[arg(long, value_enum, default_value_t = Contract::Auto)]
        contract: Contract,
    },
}

/// The archive named on the command line, or with `--latest` the newest in
/// the data directory.
fn resolve(file: Option<PathBuf>) -> Result<PathBuf, String> {
    if let Some(path) = file {
        return Ok(path);
    }
    let dir = agento::Config::from_env().data_dir;
    latest(&dir).ok_or_else(|| format!("no agento_run_*.otlp.json in {}", dir.display()))
}

/// Loads the archive `which` names (or the newest, for `--latest`), reports
/// its unreadable lines on stderr, picks the trace in it, and runs `f` on
/// both; errors are reported with exit code 2.
fn with_trace(which: TraceArgs, f: impl FnOnce(&Archive, &Trace) -> ExitCode) -> ExitCode {
    let archive = match resolve(which.file).and_then(|path| load(&path).map_err(|e| e.to_string()))
    {
        Ok(archive) => archive,
        Err(message) => return output::fail(&message),
    };
    for (line, error) in &archive.bad_lines {
        output::warn(&format!(
            "warning: {}: line {line} skipped: {error}",
            archive.path.display()
        ));
    }
    match pick(&archive, which.trace.as_deref()) {
        Ok(trace) => f(&archive, trace),
        Err(message) => output::fail(&message),
    }
}

/// The trace `id` of `archive` (a prefix is enough), or the only one.
fn pick<'a>(archive: &'a Archive, id: Option<&str>) -> Result<&'a Trace, String> {
    let path = archive.path.display();
    match id {
        Some(id) => {
            let id = id.to_ascii_lowercase();
            let found: Vec<&Trace> = archive
                .traces
                .iter()
                .filter(|t| t.id.starts_with(&id))
                .collect();
            match found.as_slice() {
                [one] => Ok(one),
                [] => Err(format!("no trace {id} in {path}")),
                _ => Err(format!("{id} matches several traces; give more of the id")),
            }
        }
        None => match archive.traces.as_slice() {
            [one] => Ok(one),
            [] if archive.bad_lines.is_empty() => Err(format!("{path} holds no spans")),
            [] => Err(format!(
                "{path} holds no readable spans ({} line(s) skipped, see above)",
                archive.bad_lines.len()
            )),
            many => {
                let mut text = format!(
                    "{path} holds {} traces; choose one with --trace ID:\n",
                    many.len()
                );
                for trace in many {
                    let root = trace
                        .roots()
                        .first()
                        .map_or("(no root)", |r| r.name.as_str())
                        .to_owned();
                    text.push_str(&format!(
                        "  {}  {} spans  root {root}\n",
                        trace.id,
                        trace.spans.len()
                    ));
                }
                Err(text)
            }
        },
    }
}

/// Runs a `trace` subcommand.
pub(crate) fn run(command: TraceCommand) -> ExitCode {
    match command {
        TraceCommand::Show { which, attrs, json } => with_trace(which, |_, trace| {
            let text = if json {
                format!("{:#}\n", show::summary(trace))
            } else {
                let style = show::Style {
                    colour: std::io::stdout().is_terminal(),
                    attrs,
                };
                show::render(trace, style)
            };
            output::print(&text, ExitCode::SUCCESS)
        }),
        TraceCommand::Report { which, output } => {
            with_trace(which, |_, trace| {
                match std::fs::write(&output, report::render(trace)) {
                    Ok(()) => {
                        output::warn(&format!(
                            "report of trace {} → {}",
                            trace.id,
                            output.display()
                        ));
                        ExitCode::SUCCESS
                    }
                    Err(error) => {
                        output::fail(&format!("cannot write {}: {error}", output.display()))
                    }
                }
            })
        }
        TraceCommand::Validate { which, contract } => with_trace(which, |archive, trace| {
            let contract = contract.resolve(trace);
            let violations = validate::validate_with(archive, trace, contract);
            if violations.is_empty() {
                let text = format!(
                    "{}: trace {} ({} spans) follows the {contract} trace contract\n",
                    archive.path.display(),
                    trace.id,
                    trace.spans.len()
                );
                output::print(&text, ExitCode::SUCCESS)
            } else {
                let mut text = String::new();
                for violation in &violations {
                    text.push_str(&format!("{violation}\n"));
                }
                text.push_str(&format!(
                    "{} violation(s) of the {contract} trace contract\n",
                    violations.len()
                ));
                output::print(&text, ExitCode::FAILURE)
            }
        }),
    }
}
