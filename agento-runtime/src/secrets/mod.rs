//! The secrets stage: the one place that decides what is a secret and
//! replaces it with [`REDACTED`] (memo §10).
//!
//! A secret is
//! - the value of every environment variable named like a credential
//!   ([`is_secret_var`]: `*_API_KEY`, `*_TOKEN`, `*_SECRET`, …) present when the
//!   process-wide scrubber is first used (values shorter than
//!   [`MIN_SECRET_LEN`] are ignored),
//! - a value given to [`register_secret`] (a key read from a `.env` file),
//! - or a well-known credential shape, matched on word boundaries: OpenAI
//!   `sk-`/`sk-proj-`, Anthropic `sk-ant-`, Google `AIza…`, GitHub
//!   `ghp_`/`gho_`/`github_pat_`, Slack `xox[abprs]-`, AWS `AKIA…`, JSON Web
//!   Tokens, and `Bearer <token>` (in an `Authorization` header, or any token
//!   with a digit — "bearer bonds" stays).
//!
//! Where it runs:
//! - **before truncation**: [`crate::truncate::truncate`] scrubs a text it has
//!   to cut, and span texts are cut only after their span is scrubbed, so a
//!   secret straddling the cut never leaves a prefix behind;
//! - **before every span processor**: the runtime's archive and OTLP paths scrub
//!   each span (and cut its large texts) on their own worker threads before
//!   encoding it, and every processor a user adds with
//!   [`with_span_processor`](crate::TelemetryBuilder::with_span_processor) or
//!   [`with_exporter`](crate::TelemetryBuilder::with_exporter) is wrapped in a
//!   secrets stage, which scrubs the span before the processor sees it. The
//!   thread that ends a span pays for scrubbing only when such a processor is
//!   installed;
//! - on messages the runtime prints (warnings, the telemetry report) and on
//!   anything a caller passes to [`scrub`].
//!
//! ```
//! use agento_runtime::secrets::Scrubber;
//! let scrubber = Scrubber::with_secrets(["hunter2-secret-value"]);
//! assert_eq!(
//!     scrubber.scrub("key=hunter2-secret-value, Authorization: Bearer abc.def"),
//!     "key=[REDACTED], Authorization: Bearer [REDACTED]"
//! );
//! assert_eq!(scrubber.scrub("risk-assessment of bearer bonds"), "risk-assessment of bearer bonds");
//! ```

mod patterns;
mod spans;

use std::borrow::Cow;
use std::sync::{Arc, LazyLock, Mutex, RwLock};

use regex::Regex;

pub(crate) use spans::scrub_span;

/// What a secret is replaced with.
pub const REDACTED: &str = "[REDACTED]";
/// Values shorter than this are not treated as secrets (they would match
/// ordinary text).
pub const MIN_SECRET_LEN: usize = 6;

/// Endings of environment variable names whose values are secrets.
const SECRET_VAR_SUFFIXES: &[&str] = &[
    "_API_KEY",
    "_APIKEY",
    "_TOKEN",
    "_SECRET",
    "_SECRET_KEY",
    "_ACCESS_KEY",
    "_PRIVATE_KEY",
    "_PASSWORD",
];

/// Replaces secrets in text: the literal secrets it was built with, then the
/// credential shapes. Most code calls the process-wide [`scrub`].
#[derive(Debug, Clone)]
pub struct Scrubber {
    literals: Option<Regex>,
    secrets: Vec<String>,
}

impl Scrubber {
    /// A scrubber for the credential shapes and the given literal secrets
    /// (values shorter than [`MIN_SECRET_LEN`] are left out).
    ///
    /// ```
    /// let s = agento_runtime::secrets::Scrubber::with_secrets(Vec::<String>::new());
    /// assert_eq!(s.scrub("sk-abcdefghijklmnop0123"), "[REDACTED]");
    /// ```
    pub fn with_secrets<I, S>(secrets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut secrets: Vec<String> = secrets
            .into_iter()
            .map(Into::into)
            .filter(|secret| secret.len() >= MIN_SECRET_LEN)
            .collect();
        // Longest first, so that a secret containing another is replaced whole.
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        secrets.dedup();
        let literals = (!secrets.is_empty()).then(|| {
            let alternatives: Vec<String> = secrets.iter().map(|s| regex::escape(s)).collect();
            Regex::new(&alternatives.join("|"))
        });
        Self {
            literals: literals.and_then(Result::ok),
            secrets,
        }
    }

    /// A scrubber for the credential shapes and the values of this process's
    /// credential variables ([`is_secret_var`]).
    pub fn from_env() -> Self {
        Self::with_secrets(env_secrets())
    }

    /// This scrubber plus one more literal secret.
    #[must_use]
    pub fn and_secret(&self, secret: &str) -> Self {
        Self::with_secrets(self.secrets.iter().map(String::as_str).chain([secret]))
    }

    /// `text` with every secret replaced by [`REDACTED`]; borrowed when clean.
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let literal_free = match &self.literals {
            Some(literals) => literals.replace_all(text, REDACTED),
            None => Cow::Borrowed(text),
        };
        match literal_free {
            Cow::Borrowed(text) => patterns::scrub_shapes(text),
            Cow::Owned(text) => Cow::Owned(patterns::scrub_shapes(&text).into_owned()),
        }
    }
}

/// Whether the value of the environment variable `name` is a secret: its name
/// ends in `_API_KEY`, `_APIKEY`, `_TOKEN`, `_SECRET`, `_SECRET_KEY`,
/// `_ACCESS_KEY`, `_PRIVATE_KEY` or `_PASSWORD` (any case).
///
/// ```
/// use agento_runtime::secrets::is_secret_var;
/// assert!(is_secret_var("OPENAI_API_KEY") && is_secret_var("github_token"));
/// assert!(!is_secret_var("TOKENIZER"));
/// ```
pub fn is_secret_var(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_VAR_SUFFIXES
        .iter()
        .any(|suffix| upper.ends_with(suffix))
}

fn env_secrets() -> Vec<String> {
    std::env::vars_os()
        .filter_map(|(name, value)| {
            let name = name.to_str()?;
            is_secret_var(name).then(|| value.to_str().map(str::to_owned))?
        })
        .collect()
}

/// The process-wide scrubber, built from the environment on first use.
static GLOBAL: LazyLock<RwLock<Arc<Scrubber>>> =
    LazyLock::new(|| RwLock::new(Arc::new(Scrubber::from_env())));
/// Serialises [`register_secret`]: read, extend and store happen as one step.
static REGISTERING: Mutex<()> = Mutex::new(());

/// The process-wide scrubber.
pub(crate) fn global_scrubber() -> Arc<Scrubber> {
    Arc::clone(&GLOBAL.read().unwrap_or_else(|e| e.into_inner()))
}

/// Adds a secret to the process-wide scrubber, for keys that do not come from
/// the environment (a `.env` file, a vault). Safe to call from many threads at
/// once: every registered secret is kept.
///
/// ```
/// agento_runtime::secrets::register_secret("my-vault-token-123");
/// assert_eq!(agento_runtime::secrets::scrub("t=my-vault-token-123"), "t=[REDACTED]");
/// ```
pub fn register_secret(secret: &str) {
    let _one_at_a_time = REGISTERING.lock().unwrap_or_else(|e| e.into_inner());
    let updated = Arc::new(global_scrubber().and_secret(secret));
    *GLOBAL.write().unwrap_or_else(|e| e.into_inner()) = updated;
}

/// Scrubs `text` with the process-wide scrubber.
///
/// ```
/// assert_eq!(agento_runtime::secrets::scrub("AIzaSyA1234567890abcdefghij"), "[REDACTED]");
/// ```
pub fn scrub(text: &str) -> Cow<'_, str> {
    match global_scrubber().scrub(text) {
        Cow::Borrowed(_) => Cow::Borrowed(text),
        Cow::Owned(owned) => Cow::Owned(owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_text_is_untouched_and_borrowed() {
        let s = Scrubber::with_secrets(Vec::<String>::new());
        for text in [
            "a task-based plan",
            "risk-assessment and task-management of bearer bonds",
            "the bearer of news",
            "ask-me",
        ] {
            assert!(matches!(s.scrub(text), Cow::Borrowed(_)), "{text}");
        }
    }

    #[test]
    fn literal_secrets_are_replaced_everywhere_and_regex_escaped() {
        let s = Scrubber::with_secrets(["a.b*c+secret", "k3y-value-42"]);
        assert_eq!(
            s.scrub("x a.b*c+secret y k3y-value-42 z k3y-value-42"),
            "x [REDACTED] y [REDACTED] z [REDACTED]"
        );
        assert_eq!(s.scrub("aXb*c+secret"), "aXb*c+secret");
    }

    #[test]
    fn a_literal_inside_a_rejected_bearer_phrase_is_still_replaced() {
        let s = Scrubber::with_secrets(["PlainLettersSecret"]);
        assert_eq!(s.scrub("bearer PlainLettersSecret"), "bearer [REDACTED]");
    }

    #[test]
    fn short_values_are_not_secrets() {
        let s = Scrubber::with_secrets(["1", "abc"]);
        assert_eq!(s.scrub("1 abc"), "1 abc");
    }

    #[test]
    fn secret_variable_names() {
        for name in [
            "OPENAI_API_KEY",
            "GITHUB_TOKEN",
            "my_api_key",
            "CLIENT_SECRET",
            "AWS_SECRET_ACCESS_KEY",
            "DB_PASSWORD",
        ] {
            assert!(is_secret_var(name), "{name}");
        }
        for name in ["TOKENIZER", "API_KEY_FILE", "SECRETS_DIR", "PATH"] {
            assert!(!is_secret_var(name), "{name}");
        }
    }

    #[test]
    fn concurrent_registrations_lose_no_secret() {
        let secrets: Vec<String> = (0..64)
            .map(|i| format!("concurrent-secret-{i:03}"))
            .collect();
        std::thread::scope(|scope| {
            for chunk in secrets.chunks(4) {
                scope.spawn(move || chunk.iter().for_each(|s| register_secret(s)));
            }
        });
        let text = secrets.join(" ");
        let clean = scrub(&text);
        assert_eq!(clean, vec![REDACTED; secrets.len()].join(" "), "{clean}");
    }
}
