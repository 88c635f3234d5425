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

/// The bar of the loop in progress and the text streamed by its current call
/// (shown under the bar).
static STREAMING: std::sync::Mutex<Option<(ProgressBar, String, String)>> =
    std::sync::Mutex::new(None);

/// How much of a streamed reply's tail shows under the progress line.
const STREAM_TAIL_CHARS: usize = 100;

impl Console {
    /// A streamed call starts: its text will show under the progress line.
    pub fn stream_start(&self) {
        if let Some((_, _, text)) = STREAMING.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            text.clear();
        }
    }

    /// Text of the current streamed call arrived: on a terminal it shows
    /// under the progress line as it arrives (plain output shows nothing).
    pub fn stream_text(&self, delta: &str) {
        if self.mode != Mode::Bars {
            return;
        }
        let mut streaming = STREAMING.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((bar, what, text)) = streaming.as_mut() {
            text.push_str(delta);
            let skip = text.chars().count().saturating_sub(STREAM_TAIL_CHARS);
            let tail: String = text
                .chars()
                .skip(skip)
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            bar.set_message(format!("{what}\n    … {tail}"));
        }
    }

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
            Some(bar) => {
                bar.set_message(what.to_owned());
                *STREAMING.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some((bar.clone(), what.to_owned(), String::new()));
            }
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
            STREAMING.lock().unwrap_or_else(|e| e.into_inner()).take();
            bar.finish_and_clear();
        }
    }
}
