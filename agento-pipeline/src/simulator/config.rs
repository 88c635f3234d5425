//! How each simulated vendor behaves: latency, injected failures, malformed
//! or huge replies. Read from `AGENTO_SIM_<VENDOR>_*` variables.

use std::path::PathBuf;
use std::time::Duration;

use crate::vendors::Vendor;

/// The failure injected into the first calls of a vendor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// 503 Service Unavailable.
    Unavailable,
    /// 429 Too Many Requests with a Retry-After of this many seconds.
    RateLimited {
        /// The Retry-After, in seconds.
        retry_after_secs: u64,
    },
    /// 500 Internal Server Error.
    ServerError,
    /// 400 Bad Request (not retryable).
    BadRequest,
    /// 529 `overloaded_error` (Anthropic's overload status).
    Overloaded,
}

/// How a vendor answers a valid request that does not fail.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AnswerMode {
    /// A normal answer.
    #[default]
    Normal,
    /// The prompt is blocked: Gemini `promptFeedback.blockReason:
    /// PROHIBITED_CONTENT` with no candidates, OpenAI `content_filter`,
    /// Anthropic `refusal`.
    Blocked,
    /// The answer is stopped for safety: Gemini `finishReason: SAFETY` with no
    /// parts, OpenAI `content_filter`, Anthropic `refusal`.
    Safety,
}

impl Failure {
    /// The HTTP status.
    pub const fn status(self) -> u16 {
        match self {
            Self::Unavailable => 503,
            Self::RateLimited { .. } => 429,
            Self::ServerError => 500,
            Self::BadRequest => 400,
            Self::Overloaded => 529,
        }
    }
}

/// How one vendor behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorBehaviour {
    /// Delay before each answer.
    pub latency: Duration,
    /// How many of the first calls fail with [`failure`](Self::failure).
    pub fail_first: u32,
    /// Every call fails with [`failure`](Self::failure).
    pub fail_always: bool,
    /// The failure to inject.
    pub failure: Failure,
    /// Answer with a body that is not valid JSON.
    pub malformed_json: bool,
    /// Pad every reply's text to at least this many bytes.
    pub huge_reply_bytes: Option<usize>,
    /// Answer plan prompts with a plan whose fields have the wrong types.
    pub broken_plan: bool,
    /// Blocked or safety-stopped answers.
    pub mode: AnswerMode,
    /// How many of the first answers are cut off at half their length with
    /// the vendor's cut-off finish reason.
    pub cut_first: u32,
    /// Answer 400 to any request that sets `temperature`, as models that do
    /// not take it do.
    pub reject_temperature: bool,
    /// Streamed answers: the delay before the first event.
    pub first_chunk_delay: Duration,
    /// Streamed answers: send the vendor's error event after this many text chunks.
    pub stream_error_after: Option<u32>,
    /// Streamed answers: stop sending (connection left open) after this many text chunks.
    pub stream_stall_after: Option<u32>,
}

impl Default for VendorBehaviour {
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            fail_first: 0,
            fail_always: false,
            failure: Failure::Unavailable,
            malformed_json: false,
            huge_reply_bytes: None,
            broken_plan: false,
            mode: AnswerMode::Normal,
            cut_first: 0,
            reject_temperature: false,
            first_chunk_delay: Duration::ZERO,
            stream_error_after: None,
            stream_stall_after: None,
        }
    }
}

/// How the three simulated vendors behave (all well-behaved by default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimulatorConfig {
    /// Gemini.
    pub gemini: VendorBehaviour,
    /// OpenAI.
    pub openai: VendorBehaviour,
    /// Anthropic.
    pub anthropic: VendorBehaviour,
    /// Append every request (vendor, path, headers with key values hidden,
    /// JSON body) as one JSON line to this file (`AGENTO_SIM_RECORD`).
    pub record: Option<PathBuf>,
    /// Connection cap and request time limits.
    pub limits: super::serve::Limits,
}

impl SimulatorConfig {
    /// The behaviour of `vendor`.
    pub fn vendor(&self, vendor: Vendor) -> &VendorBehaviour {
        match vendor {
            Vendor::Gemini => &self.gemini,
            Vendor::OpenAi => &self.openai,
            Vendor::Anthropic => &self.anthropic,
        }
    }

    /// Reads `AGENTO_SIM_<GEMINI|OPENAI|ANTHROPIC>_<SETTING>` from the environment.
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup`:
    /// `LATENCY_MS`, `FAIL_FIRST`, `FAIL_ALWAYS=1`, `FAILURE=503|429|500|400`,
    /// `FAILURE=529` (overloaded), `RETRY_AFTER_SECS` (for 429, default 1:
    /// a `Retry-After` header, for Gemini a `RetryInfo` in the body),
    /// `MALFORMED=1`, `HUGE_BYTES`, `BROKEN_PLAN=1` (a plan with fields of the
    /// wrong types, in prose), `MODE=blocked|safety`, `CUT_FIRST=N`,
    /// `REJECT_TEMPERATURE=1`; and `AGENTO_SIM_RECORD=<file>`,
    /// `AGENTO_SIM_MAX_CONNECTIONS`, `AGENTO_SIM_HEADER_TIMEOUT_MS`,
    /// `AGENTO_SIM_REQUEST_TIMEOUT_MS`;
    /// for streamed answers `FIRST_CHUNK_MS` (delay before the first event),
    /// `STREAM_ERROR_AFTER=N` (the vendor's error event after N text chunks),
    /// `STREAM_STALL_AFTER=N` (nothing more after N text chunks).
    ///
    /// ```
    /// use agento_pipeline::simulator::{Failure, SimulatorConfig};
    /// let c = SimulatorConfig::from_lookup(|name| match name {
    ///     "AGENTO_SIM_GEMINI_FAIL_FIRST" => Some("1".into()),
    ///     "AGENTO_SIM_GEMINI_FAILURE" => Some("429".into()),
    ///     _ => None,
    /// }).unwrap();
    /// assert_eq!(c.gemini.fail_first, 1);
    /// assert_eq!(c.gemini.failure, Failure::RateLimited { retry_after_secs: 1 });
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let one = |prefix: &str| {
            Settings {
                lookup: &lookup,
                prefix,
            }
            .behaviour()
        };
        Ok(Self {
            gemini: one("GEMINI")?,
            openai: one("OPENAI")?,
            anthropic: one("ANTHROPIC")?,
            record: lookup("AGENTO_SIM_RECORD")
                .filter(|v| !v.trim().is_empty())
                .map(PathBuf::from),
            limits: limits(&lookup)?,
        })
    }
}

/// One vendor's `AGENTO_SIM_<VENDOR>_*` variables.
struct Settings<'a, F> {
    lookup: &'a F,
    prefix: &'a str,
}

impl<F: Fn(&str) -> Option<String>> Settings<'_, F> {
    /// The variable of `setting`, when set (not blank), with its name.
    fn get(&self, setting: &str) -> Option<(String, String)> {
        let name = format!("AGENTO_SIM_{}_{setting}", self.prefix);
        (self.lookup)(&name)
            .filter(|v| !v.trim().is_empty())
            .map(|v| (name, v))
    }

    /// A whole number, when set.
    fn number(&self, setting: &str) -> Result<Option<u64>, String> {
        self.get(setting)
            .map(|(name, value)| {
                value
                    .trim()
                    .parse::<u64>()
                    .map_err(|_| format!("{name}={value} is not a whole number"))
            })
            .transpose()
    }

    /// A count, when set (saturating at `u32::MAX`).
    fn count(&self, setting: &str) -> Result<Option<u32>, String> {
        Ok(self
            .number(setting)?
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX)))
    }

    /// Whether a flag is on (`1`, `true`, `yes`).
    fn flag(&self, setting: &str) -> bool {
        self.get(setting)
            .is_some_and(|(_, v)| matches!(v.trim(), "1" | "true" | "yes"))
    }

    /// One of `choices` by its name, `default` when unset.
    fn choice<T: Copy>(
        &self,
        setting: &str,
        default: T,
        choices: &[(&str, T)],
    ) -> Result<T, String> {
        let Some((name, value)) = self.get(setting) else {
            return Ok(default);
        };
        let value = value.trim();
        choices
            .iter()
            .find(|(key, _)| *key == value)
            .map(|&(_, choice)| choice)
            .ok_or_else(|| {
                let names: Vec<&str> = choices.iter().map(|(key, _)| *key).collect();
                format!("{name}={value} is not one of {}", names.join(", "))
            })
    }

    /// The behaviour these variables describe.
    fn behaviour(&self) -> Result<VendorBehaviour, String> {
        let retry_after_secs = self.number("RETRY_AFTER_SECS")?.unwrap_or(1);
        let failure = self.choice(
            "FAILURE",
            Failure::Unavailable,
            &[
                ("503", Failure::Unavailable),
                ("429", Failure::RateLimited { retry_after_secs }),
                ("500", Failure::ServerError),
                ("400", Failure::BadRequest),
                ("529", Failure::Overloaded),
            ],
        )?;
        let mode = self.choice(
            "MODE",
            AnswerMode::Normal,
            &[
                ("normal", AnswerMode::Normal),
                ("blocked", AnswerMode::Blocked),
                ("safety", AnswerMode::Safety),
            ],
        )?;
        Ok(VendorBehaviour {
            latency: Duration::from_millis(self.number("LATENCY_MS")?.unwrap_or(0)),
            fail_first: self.count("FAIL_FIRST")?.unwrap_or(0),
            fail_always: self.flag("FAIL_ALWAYS"),
            failure,
            malformed_json: self.flag("MALFORMED"),
            huge_reply_bytes: self
                .number("HUGE_BYTES")?
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
            broken_plan: self.flag("BROKEN_PLAN"),
            mode,
            cut_first: self.count("CUT_FIRST")?.unwrap_or(0),
            reject_temperature: self.flag("REJECT_TEMPERATURE"),
            first_chunk_delay: Duration::from_millis(self.number("FIRST_CHUNK_MS")?.unwrap_or(0)),
            stream_error_after: self.count("STREAM_ERROR_AFTER")?,
            stream_stall_after: self.count("STREAM_STALL_AFTER")?,
        })
    }
}

/// The connection cap and time limits from their variables.
fn limits(lookup: &impl Fn(&str) -> Option<String>) -> Result<super::serve::Limits, String> {
    let defaults = super::serve::Limits::default();
    let number = |name: &str| -> Result<Option<u64>, String> {
        lookup(name)
            .filter(|v| !v.trim().is_empty())
            .map(|value| match value.trim().parse::<u64>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(format!("{name}={value} is not a positive whole number")),
            })
            .transpose()
    };
    Ok(super::serve::Limits {
        max_connections: number("AGENTO_SIM_MAX_CONNECTIONS")?
            .map_or(defaults.max_connections, |n| {
                usize::try_from(n).unwrap_or(usize::MAX)
            }),
        header_timeout: number("AGENTO_SIM_HEADER_TIMEOUT_MS")?
            .map_or(defaults.header_timeout, Duration::from_millis),
        request_timeout: number("AGENTO_SIM_REQUEST_TIMEOUT_MS")?
            .map_or(defaults.request_timeout, Duration::from_millis),
    })
}
