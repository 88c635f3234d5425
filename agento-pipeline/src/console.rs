//! What the pipeline tells the person running it: one line per thing it does,
//! a progress bar over steps and iterations on a terminal (indicatif), plain
//! lines otherwise, nothing but errors with `--quiet`. Everything goes to
//! stderr; stdout is left for `--json`.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// How much to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Errors only.
    Quiet,
    /// Plain lines (not a terminal).
    Plain,
    /// Progress bars (a terminal).
    Bars,
}

/// The console of one run.
#[derive(Debug)]
pub struct Console {
    mode: Mode,
}

/// Progress over the steps of one loop.
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
    mode: Mode,
    label: &'static str,
    total: u64,
}

impl Console {
    /// Bars on a terminal, plain lines otherwise; `quiet` shows errors only.
    pub fn detect(quiet: bool) -> Self {
        let mode = if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Bars
        } else {
            Mode::Plain
        };
        Self { mode }
    }

    /// A console of the given mode.
    pub const fn new(mode: Mode) -> Self {
        Self { mode }
    }

    /// Says something.
    pub fn say(&self, text: &str) {
        if self.mode != Mode::Quiet {
            eprintln!("{text}");
        }
    }

    /// Starts progress over `total` items of `label` (steps, iterations).
    pub fn progress(&self, label: &'static str, total: usize) -> Progress {
        let total = u64::try_from(total).unwrap_or(u64::MAX);
        let bar = (self.mode == Mode::Bars).then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "  {bar:30.cyan/blue} {pos}/{len} {prefix} {wide_msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.set_prefix(label);
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress {
            bar,
            mode: self.mode,
            label,
            total,
        }
    }
}

impl Progress {
    /// Item `index` (from 0) is starting; `what` says which.
    pub fn start(&self, index: usize, what: &str) {
        match &self.bar {
            Some(bar) => bar.set_message(what.to_owned()),
            None if self.mode == Mode::Plain => {
                eprintln!("  [{}/{}] {} {what}", index + 1, self.total, self.label);
            }
            None => {}
        }
    }

    /// Item done, with a note on how it went.
    pub fn done(&self, note: &str) {
        match &self.bar {
            Some(bar) => {
                bar.inc(1);
                bar.println(format!("  ✓ {note}"));
            }
            None if self.mode == Mode::Plain => eprintln!("      {note}"),
            None => {}
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
