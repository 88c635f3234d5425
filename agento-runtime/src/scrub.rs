//! Secret scrubbing (memo §10): API keys and bearer tokens never reach an
//! attribute, an event or an error message.
//!
//! A [`Scrubber`] replaces
//! - the values of every `*_API_KEY` and `*_TOKEN` environment variable present
//!   when it is built (values shorter than [`MIN_SECRET_LEN`] are ignored),
//! - secrets registered with [`register_secret`] (a key read from a `.env` file),
//! - and the shapes `sk-…` (OpenAI, Anthropic), `AIza…` (Google) and `Bearer …`,
//!
//! with [`REDACTED`]. The runtime applies [`scrub`] to every span it exports or
//! archives, off the calling thread.
//!
//! ```
//! use agento_runtime::scrub::Scrubber;
//! let scrubber = Scrubber::with_secrets(["hunter2-secret-value"]);
//! assert_eq!(
//!     scrubber.scrub("key=hunter2-secret-value, auth: Bearer abc.def"),
//!     "key=[REDACTED], auth: Bearer [REDACTED]"
//! );
//! ```

use std::borrow::Cow;
use std::sync::{Arc, RwLock};

use regex::{Captures, Regex};

/// What a secret is replaced with.
pub const REDACTED: &str = "[REDACTED]";
/// Environment values shorter than this are not treated as secrets (they would
/// match ordinary text).
pub const MIN_SECRET_LEN: usize = 6;

const SHAPES: &str = r"(?P<bearer>(?i:bearer)\s+)[A-Za-z0-9._~+/=\-]{4,}|sk-[A-Za-z0-9_\-]{8,}|AIza[0-9A-Za-z_\-]{20,}";

/// Replaces secrets in text. Build one with [`Scrubber::from_env`] or
/// [`Scrubber::with_secrets`]; most code calls the process-wide [`scrub`].
#[derive(Debug, Clone)]
pub struct Scrubber {
    pattern: Regex,
    secrets: Vec<String>,
}

impl Scrubber {
    /// A scrubber for the secret shapes and the given literal secrets.
    ///
    /// ```
    /// let s = agento_runtime::scrub::Scrubber::with_secrets(Vec::<String>::new());
    /// assert_eq!(s.scrub("sk-abcdefghijkl"), "[REDACTED]");
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
        secrets.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
        secrets.dedup();
        let literals = secrets.iter().map(|secret| regex::escape(secret));
        let alternatives: Vec<String> = literals.chain([SHAPES.to_owned()]).collect();
        let pattern = Regex::new(&alternatives.join("|"))
            .unwrap_or_else(|_| Regex::new(SHAPES).expect("the built-in shapes are a valid regex"));
        Self { pattern, secrets }
    }

    /// A scrubber for the secret shapes and the values of the `*_API_KEY` and
    /// `*_TOKEN` variables of this process's environment.
    pub fn from_env() -> Self {
        Self::with_secrets(env_secrets())
    }

    /// This scrubber plus one more literal secret.
    #[must_use]
    pub fn and_secret(&self, secret: &str) -> Self {
        Self::with_secrets(self.secrets.iter().map(String::as_str).chain([secret]))
    }

    /// Whether `text` holds anything this scrubber would replace.
    pub fn finds_secret(&self, text: &str) -> bool {
        self.pattern.is_match(text)
    }

    /// `text` with every secret replaced by [`REDACTED`]; borrowed when clean.
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        self.pattern.replace_all(text, |caps: &Captures<'_>| {
            caps.name("bearer").map_or_else(
                || REDACTED.to_owned(),
                |prefix| format!("{}{REDACTED}", prefix.as_str()),
            )
        })
    }
}

/// Names of environment variables whose values are secrets.
pub fn is_secret_var(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper.ends_with("_API_KEY") || upper.ends_with("_TOKEN")
}

fn env_secrets() -> Vec<String> {
    std::env::vars_os()
        .filter_map(|(name, value)| {
            let name = name.to_str()?;
            is_secret_var(name).then(|| value.to_str().map(str::to_owned))?
        })
        .collect()
}

fn global() -> &'static RwLock<Option<Arc<Scrubber>>> {
    static GLOBAL: RwLock<Option<Arc<Scrubber>>> = RwLock::new(None);
    &GLOBAL
}

/// The process-wide scrubber, built from the environment on first use.
pub fn global_scrubber() -> Arc<Scrubber> {
    if let Some(scrubber) = global().read().unwrap_or_else(|e| e.into_inner()).as_ref() {
        return Arc::clone(scrubber);
    }
    let mut slot = global().write().unwrap_or_else(|e| e.into_inner());
    Arc::clone(slot.get_or_insert_with(|| Arc::new(Scrubber::from_env())))
}

/// Adds a secret to the process-wide scrubber, for keys that do not come from
/// the environment (a `.env` file, a vault).
///
/// ```
/// agento_runtime::scrub::register_secret("my-vault-token-123");
/// assert_eq!(agento_runtime::scrub::scrub("t=my-vault-token-123"), "t=[REDACTED]");
/// ```
pub fn register_secret(secret: &str) {
    let current = global_scrubber();
    let updated = Arc::new(current.and_secret(secret));
    *global().write().unwrap_or_else(|e| e.into_inner()) = Some(updated);
}

/// Rebuilds the process-wide scrubber from the environment (after loading a
/// `.env` file into it, say). Secrets added by [`register_secret`] are kept.
pub fn refresh_from_env() {
    let current = global_scrubber();
    let secrets = current.secrets.iter().cloned().chain(env_secrets());
    *global().write().unwrap_or_else(|e| e.into_inner()) =
        Some(Arc::new(Scrubber::with_secrets(secrets)));
}

/// Scrubs `text` with the process-wide scrubber.
///
/// ```
/// assert_eq!(agento_runtime::scrub::scrub("AIzaSyA1234567890abcdefghij"), "[REDACTED]");
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
    fn each_shape_is_replaced() {
        let s = Scrubber::with_secrets(Vec::<String>::new());
        assert_eq!(
            s.scrub("key sk-proj-AbC123_xyz-789 end"),
            "key [REDACTED] end"
        );
        assert_eq!(s.scrub("sk-ant-api03-abcdefghij"), "[REDACTED]");
        assert_eq!(s.scrub("AIzaSyD-abcdefghijklmnopqrstuv"), "[REDACTED]");
        assert_eq!(
            s.scrub("Authorization: Bearer eyJhbGci.OiJI-UzI1"),
            "Authorization: Bearer [REDACTED]"
        );
        assert_eq!(
            s.scrub("authorization: bearer tok_12345"),
            "authorization: bearer [REDACTED]"
        );
    }

    #[test]
    fn ordinary_text_is_untouched_and_borrowed() {
        let s = Scrubber::with_secrets(Vec::<String>::new());
        for text in [
            "a task-based plan",
            "sk-short",
            "AIza",
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
    fn short_values_are_not_secrets() {
        let s = Scrubber::with_secrets(["1", "abc"]);
        assert_eq!(s.scrub("1 abc"), "1 abc");
    }

    #[test]
    fn secret_variable_names() {
        assert!(is_secret_var("OPENAI_API_KEY"));
        assert!(is_secret_var("GITHUB_TOKEN"));
        assert!(is_secret_var("my_api_key"));
        assert!(!is_secret_var("TOKENIZER"));
        assert!(!is_secret_var("API_KEY_FILE"));
    }
}
