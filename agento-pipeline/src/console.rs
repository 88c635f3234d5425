//! What the pipeline tells the person running it: one line per thing it does,
//! a progress bar over steps and iterations on a terminal (indicatif), plain
//! lines otherwise, nothing but errors with `--quiet`. Everything goes to
//! stderr; stdout is left for `--json`.
//!
//! Every line is made safe for a terminal first ([`clean`]): registered
//! secrets scrubbed, control and bidirectional-override characters escaped.
//! A console that cannot be written to (a closed pipe: `agento run | head -1`)
//! ends console output quietly; the run goes on ([`err_line`], [`out_line`]).

use std::borrow::Cow;
use std::io::{IsTerminal, Write};
use std::sync::{Mutex, MutexGuard};
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
    /// The bar of the loop in progress, what it is at, and the text streamed
    /// by its current call (shown under the bar).
    streaming: Mutex<Option<(ProgressBar, String, String)>>,
}

/// Progress over the steps of one loop.
#[derive(Debug)]
pub struct Progress<'a> {
    console: &'a Console,
    bar: Option<ProgressBar>,
    label: &'static str,
    total: u64,
}

/// How much of a streamed reply's tail shows under the progress line.
const STREAM_TAIL_CHARS: usize = 100;

impl Console {
    /// A streamed call starts: its text will show under the progress line.
    pub fn stream_start(&self) {
        if let Some((_, _, text)) = self.streaming().as_mut() {
            text.clear();
        }
    }

    /// Text of the current streamed call arrived: on a terminal it shows
    /// under the progress line as it arrives (plain output shows nothing).
    pub fn stream_text(&self, delta: &str) {
        if self.mode != Mode::Bars {
            return;
        }
        if let Some((bar, what, text)) = self.streaming().as_mut() {
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
        Self {
            mode,
            streaming: Mutex::new(None),
        }
    }

    /// The streamed text's place under the progress bar (a panic while it
    /// was held left nothing half-written that matters).
    fn streaming(&self) -> MutexGuard<'_, Option<(ProgressBar, String, String)>> {
        self.streaming.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Says something (cleaned, see [`clean`]).
    pub fn say(&self, text: &str) {
        if self.mode != Mode::Quiet {
            err_line(text);
        }
    }

    /// Starts progress over `total` items of `label` (steps, iterations).
    pub fn progress(&self, label: &'static str, total: usize) -> Progress<'_> {
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
            console: self,
            bar,
            label,
            total,
        }
    }
}

impl Progress<'_> {
    /// Item `index` (from 0) is starting; `what` says which.
    pub fn start(&self, index: usize, what: &str) {
        match &self.bar {
            Some(bar) => {
                let what = clean(what).into_owned();
                bar.set_message(what.clone());
                *self.console.streaming() = Some((bar.clone(), what, String::new()));
            }
            None if self.console.mode == Mode::Plain => {
                err_line(&format!(
                    "  [{}/{}] {} {what}",
                    index + 1,
                    self.total,
                    self.label
                ));
            }
            None => {}
        }
    }

    /// Item done, with a note on how it went.
    pub fn done(&self, note: &str) {
        match &self.bar {
            Some(bar) => {
                bar.inc(1);
                bar.println(format!("  ✓ {}", clean(note)));
            }
            None if self.console.mode == Mode::Plain => err_line(&format!("      {note}")),
            None => {}
        }
    }
}

impl Drop for Progress<'_> {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            self.console.streaming().take();
            bar.finish_and_clear();
        }
    }
}

/// Writes `text` ([`clean`]ed) and a newline to stderr. A write that fails
/// (a closed pipe, a full device) is dropped: console output is a courtesy,
/// the run must not die of it.
pub fn err_line(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{}", clean(text));
}

/// Writes `text` ([`clean`]ed) and a newline to stdout; a write that fails is
/// dropped, as in [`err_line`].
pub fn out_line(text: &str) {
    out_raw(&clean(text));
}

/// Writes `value` as pretty JSON and a newline to stdout (`--json`): secrets
/// scrubbed, bidirectional formatting characters written as JSON `\uXXXX`
/// escapes (JSON escapes control characters itself); a write that fails is
/// dropped, as in [`err_line`].
pub fn out_json(value: &serde_json::Value) {
    out_raw(&json_text(value));
}

/// The text [`out_json`] writes.
fn json_text(value: &serde_json::Value) -> String {
    let json = format!("{:#}", crate::files::scrubbed_json(value.clone()));
    let mut escaped = String::with_capacity(json.len());
    for c in json.chars() {
        if is_bidi(c) {
            escaped.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            escaped.push(c);
        }
    }
    escaped
}

fn out_raw(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{text}").and_then(|()| stdout.flush());
}

/// `text` safe to print on a terminal: registered secrets and token shapes
/// scrubbed ([`agento::secrets::scrub`]), then every control character
/// but the tab and every bidirectional formatting character (U+202A–U+202E,
/// U+2066–U+2069, U+200E, U+200F, U+061C) escaped as `\n`, `\r` or `\u{…}`,
/// so that text from a goal or a model can neither forge lines nor reorder
/// what the terminal shows. The archive keeps the text as it was.
pub fn clean(text: &str) -> Cow<'_, str> {
    let scrubbed = agento::secrets::scrub(text);
    if !scrubbed.chars().any(needs_escape) {
        return scrubbed;
    }
    let mut escaped = String::with_capacity(scrubbed.len() + 16);
    for c in scrubbed.chars() {
        match c {
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            c if needs_escape(c) => escaped.extend(c.escape_unicode()),
            c => escaped.push(c),
        }
    }
    Cow::Owned(escaped)
}

/// Whether [`clean`] escapes `c`.
fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\t') || is_bidi(c)
}

/// Whether `c` is a bidirectional formatting character.
fn is_bidi(c: char) -> bool {
    matches!(
        c,
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_escapes_controls_and_bidi_but_keeps_tabs() {
        assert_eq!(clean("plan \u{202e}txt.exe"), "plan \\u{202e}txt.exe");
        assert_eq!(clean("two\nlines\x1b[31m"), "two\\nlines\\u{1b}[31m");
        assert_eq!(clean("Café\tplan"), "Café\tplan");
    }

    #[test]
    fn bidi_and_controls_are_escaped_and_plain_text_is_not_copied() {
        for (raw, shown) in [
            ("\u{202e}", "\\u{202e}"),
            ("\u{2066}x\u{2069}", "\\u{2066}x\\u{2069}"),
            ("\u{200f}\u{061c}", "\\u{200f}\\u{61c}"),
            ("a\rb", "a\\rb"),
            ("\u{7}\u{9b}", "\\u{7}\\u{9b}"),
        ] {
            assert_eq!(clean(raw), shown, "{raw:?}");
        }
        assert!(matches!(
            clean("plain ✓ text"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn json_escapes_keep_the_json_valid() {
        let value = serde_json::json!({"goal": "a\u{202e}b\nc", "n": [1, 2]});
        let escaped = super::json_text(&value);
        assert!(!escaped.contains('\u{202e}'), "{escaped}");
        agento::secrets::register_secret("console-json-secret-9f8e7d6c5b");
        let secret = serde_json::json!({"error": "key console-json-secret-9f8e7d6c5b refused"});
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&super::json_text(&secret)).unwrap(),
            serde_json::json!({"error": "key [REDACTED] refused"})
        );
        assert!(escaped.contains("a\\u202eb\\nc"), "{escaped}");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&escaped).unwrap(),
            value
        );
    }

    #[test]
    fn registered_secrets_are_scrubbed() {
        agento::secrets::register_secret("console-test-secret-5a4b3c2d1e");
        let shown = clean("goal: console-test-secret-5a4b3c2d1e\u{202e}");
        assert_eq!(shown, "goal: [REDACTED]\\u{202e}");
    }
}
