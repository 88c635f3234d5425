//! Looking at runs: `agento trace show | report | validate`. All three read
//! archives written by agento or by the contrib collector's `file` exporter
//! (the same format), including files that hold several traces.

mod archive;
pub mod report;
pub mod show;
pub mod validate;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

pub use archive::{Archive, Attr, LoadError, SpanRecord, Trace, count_spans, latest, load};

/// `agento trace ...`.
#[derive(Debug, Subcommand)]
pub enum TraceCommand {
    /// The span tree: kinds, durations, statuses, vendors, tokens, retries.
    Show {
        /// The archive.
        #[arg(required_unless_present = "latest")]
        file: Option<PathBuf>,
        /// Use the newest archive in $AGENTO_DATA_DIR (default ./data).
        #[arg(long, conflicts_with = "file")]
        latest: bool,
        /// The trace to show, when the file holds several (a prefix of its id).
        #[arg(long)]
        trace: Option<String>,
        /// Also print every attribute.
        #[arg(long)]
        attrs: bool,
        /// Print a machine-readable summary instead.
        #[arg(long)]
        json: bool,
    },
    /// A self-contained HTML report: waterfall, tokens and latency, the plan before and after.
    Report {
        /// The archive.
        #[arg(required_unless_present = "latest")]
        file: Option<PathBuf>,
        /// Use the newest archive in $AGENTO_DATA_DIR (default ./data).
        #[arg(long, conflicts_with = "file")]
        latest: bool,
        /// Where to write the HTML.
        #[arg(short, long, default_value = "run.html")]
        output: PathBuf,
        /// The trace to report, when the file holds several.
        #[arg(long)]
        trace: Option<String>,
    },
    /// Checks an archive against the trace contract; exit 1 on any violation.
    Validate {
        /// The archive.
        #[arg(required_unless_present = "latest")]
        file: Option<PathBuf>,
        /// Use the newest archive in $AGENTO_DATA_DIR (default ./data).
        #[arg(long, conflicts_with = "file")]
        latest: bool,
        /// The trace to check, when the file holds several.
        #[arg(long)]
        trace: Option<String>,
    },
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {}", message.trim_end());
    ExitCode::from(2)
}

/// The archive named on the command line, or with `--latest` the newest in
/// the data directory.
fn resolve(file: Option<PathBuf>) -> Result<PathBuf, String> {
    if let Some(path) = file {
        return Ok(path);
    }
    let dir = agento::runtime::config::Config::from_env().data_dir;
    latest(&dir).ok_or_else(|| format!("no agento_run_*.otlp.json in {}", dir.display()))
}

/// Loads the archive `file` (or the newest, for `--latest`), picks the trace
/// `id` in it, and runs `f` on both; errors are reported with exit code 2.
fn with_trace(
    file: Option<PathBuf>,
    id: Option<&str>,
    f: impl FnOnce(&Archive, &Trace) -> ExitCode,
) -> ExitCode {
    let archive = match resolve(file).and_then(|path| load(&path).map_err(|e| e.to_string())) {
        Ok(archive) => archive,
        Err(message) => return fail(&message),
    };
    match archive.pick(id) {
        Ok(trace) => f(&archive, trace),
        Err(message) => fail(&message),
    }
}

/// Runs a `trace` subcommand.
pub fn run(command: TraceCommand) -> ExitCode {
    match command {
        TraceCommand::Show {
            file,
            latest: _,
            trace,
            attrs,
            json,
        } => with_trace(file, trace.as_deref(), |archive, trace| {
            for (line, error) in &archive.bad_lines {
                eprintln!(
                    "warning: {}: line {line} is not valid: {error}",
                    archive.path.display()
                );
            }
            if json {
                println!("{:#}", show::summary(trace));
            } else {
                let style = show::Style {
                    colour: std::io::stdout().is_terminal(),
                    attrs,
                };
                print!("{}", show::render(trace, style));
            }
            ExitCode::SUCCESS
        }),
        TraceCommand::Report {
            file,
            latest: _,
            output,
            trace,
        } => with_trace(file, trace.as_deref(), |_, trace| {
            match std::fs::write(&output, report::render(trace)) {
                Ok(()) => {
                    eprintln!("report of trace {} → {}", trace.id, output.display());
                    ExitCode::SUCCESS
                }
                Err(error) => fail(&format!("cannot write {}: {error}", output.display())),
            }
        }),
        TraceCommand::Validate {
            file,
            latest: _,
            trace,
        } => with_trace(file, trace.as_deref(), |archive, trace| {
            let violations = validate::validate(archive, trace);
            if violations.is_empty() {
                println!(
                    "{}: trace {} ({} spans) follows the trace contract",
                    archive.path.display(),
                    trace.id,
                    trace.spans.len()
                );
                ExitCode::SUCCESS
            } else {
                for violation in &violations {
                    println!("{violation}");
                }
                println!("{} violation(s) of the trace contract", violations.len());
                ExitCode::FAILURE
            }
        }),
    }
}
