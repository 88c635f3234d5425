//! Where the vendors are and which models to ask: environment variables, a
//! `.env` file, command-line flags.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use super::Vendor;
use super::params::{TemperatureSetting, temperature_var};

/// The default per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// The longest per-request timeout `AGENTO_LLM_TIMEOUT_SECS` may set (a day).
pub const MAX_TIMEOUT: Duration = Duration::from_secs(86_400);
/// The default of `AGENTO_MAX_REPLY_BYTES`: 16 MiB.
pub const DEFAULT_MAX_REPLY_BYTES: usize = 16 * 1024 * 1024;
/// The default of `AGENTO_MAX_RETRY_WAIT_SECS`.
pub const DEFAULT_MAX_RETRY_WAIT: Duration = Duration::from_secs(60);
/// The longest wait `AGENTO_MAX_RETRY_WAIT_SECS` may allow: the retry
/// driver's own ceiling on any delay.
pub const MAX_RETRY_WAIT: Duration = agento::backoff::MAX_DELAY;

/// The settings of one vendor's client.
#[derive(Clone, PartialEq)]
pub struct VendorConfig {
    /// The API's base URL (`https://api.openai.com/v1`, an OpenAI-compatible server, the simulator).
    pub base_url: String,
    /// The API key, when set.
    pub api_key: Option<String>,
    /// The model to ask.
    pub model: String,
    /// The per-request timeout.
    pub timeout: Duration,
    /// `<VENDOR>_TEMPERATURE`: the model's rule, never, or a fixed value.
    pub temperature: TemperatureSetting,
    /// Replies larger than this are refused (`AGENTO_MAX_REPLY_BYTES`).
    pub max_reply_bytes: usize,
    /// The longest delay a vendor may ask for before a retry
    /// (`AGENTO_MAX_RETRY_WAIT_SECS`); a longer one fails the call.
    pub max_retry_wait: Duration,
}

impl VendorConfig {
    /// A configuration with the defaults for everything but the place, key
    /// and model.
    ///
    /// ```
    /// use agento_pipeline::vendors::VendorConfig;
    /// let c = VendorConfig::new("http://127.0.0.1:9", Some("k".into()), "gpt-5.5");
    /// assert_eq!(c.max_reply_bytes, 16 * 1024 * 1024);
    /// ```
    pub fn new(base_url: &str, api_key: Option<String>, model: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key,
            model: model.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            temperature: TemperatureSetting::ByModel,
            max_reply_bytes: DEFAULT_MAX_REPLY_BYTES,
            max_retry_wait: DEFAULT_MAX_RETRY_WAIT,
        }
    }
}

impl std::fmt::Debug for VendorConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VendorConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "[REDACTED]"))
            .field("model", &self.model)
            .field("timeout", &self.timeout)
            .field("temperature", &self.temperature)
            .field("max_reply_bytes", &self.max_reply_bytes)
            .field("max_retry_wait", &self.max_retry_wait)
            .finish()
    }
}

/// A setting that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// The settings of the three clients.
#[derive(Debug, Clone, PartialEq)]
pub struct VendorsConfig {
    /// Gemini.
    pub gemini: VendorConfig,
    /// OpenAI.
    pub openai: VendorConfig,
    /// Anthropic.
    pub anthropic: VendorConfig,
}

struct Names {
    key: &'static str,
    base_url: &'static str,
    model: &'static str,
    default_base_url: &'static str,
    default_model: &'static str,
}

const fn names(vendor: Vendor) -> Names {
    match vendor {
        Vendor::Gemini => Names {
            key: "GEMINI_API_KEY",
            base_url: "GEMINI_BASE_URL",
            model: "GEMINI_MODEL",
            default_base_url: "https://generativelanguage.googleapis.com",
            default_model: "gemini-3.8-flash",
        },
        Vendor::OpenAi => Names {
            key: "OPENAI_API_KEY",
            base_url: "OPENAI_BASE_URL",
            model: "OPENAI_MODEL",
            default_base_url: "https://api.openai.com/v1",
            default_model: "gpt-5.5",
        },
        Vendor::Anthropic => Names {
            key: "ANTHROPIC_API_KEY",
            base_url: "ANTHROPIC_BASE_URL",
            model: "ANTHROPIC_MODEL",
            default_base_url: "https://api.anthropic.com",
            default_model: "claude-sonnet-5-5",
        },
    }
}

/// The variable naming the API key of `vendor`.
pub const fn key_var(vendor: Vendor) -> &'static str {
    names(vendor).key
}

impl VendorsConfig {
    /// Reads the environment, then a `.env` file in the current directory for
    /// what the environment does not set (the environment wins). Keys found in
    /// `.env` are registered with the scrubber, so they never reach a span.
    pub fn from_env() -> Result<Self, ConfigError> {
        let file = read_dotenv(Path::new(".env"))?;
        Self::from_lookup(|name| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .or_else(|| file.get(name).cloned())
        })
    }

    /// Reads the settings through `lookup`.
    ///
    /// ```
    /// use agento_pipeline::vendors::VendorsConfig;
    /// let c = VendorsConfig::from_lookup(|name| (name == "OPENAI_MODEL").then(|| "gpt-4o".to_owned())).unwrap();
    /// assert_eq!(c.openai.model, "gpt-4o");
    /// assert_eq!(c.gemini.model, "gemini-3.8-flash");
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let limits = Limits::from_lookup(&lookup)?;
        let one = |vendor| -> Result<VendorConfig, ConfigError> {
            let n = names(vendor);
            let var = temperature_var(vendor);
            let temperature = match lookup(var) {
                None => TemperatureSetting::ByModel,
                Some(value) => TemperatureSetting::parse(&value)
                    .map_err(|problem| ConfigError(format!("{var}={problem}")))?,
            };
            Ok(VendorConfig {
                base_url: lookup(n.base_url)
                    .unwrap_or_else(|| n.default_base_url.to_owned())
                    .trim_end_matches('/')
                    .to_owned(),
                api_key: lookup(n.key).filter(|key| !key.trim().is_empty()),
                model: lookup(n.model).unwrap_or_else(|| n.default_model.to_owned()),
                timeout: limits.timeout,
                temperature,
                max_reply_bytes: limits.max_reply_bytes,
                max_retry_wait: limits.max_retry_wait,
            })
        };
        Ok(Self {
            gemini: one(Vendor::Gemini)?,
            openai: one(Vendor::OpenAi)?,
            anthropic: one(Vendor::Anthropic)?,
        })
    }

    /// All three vendors at the offline simulator at `base_url`, with
    /// placeholder keys; models and timeout as the environment sets them.
    pub fn offline(base_url: &str) -> Result<Self, ConfigError> {
        let env = Self::from_lookup(|name| std::env::var(name).ok())?;
        let at = |mut config: VendorConfig, url: String| {
            config.base_url = url;
            config.api_key = Some("offline-simulator".to_owned());
            config
        };
        Ok(Self {
            gemini: at(env.gemini, base_url.to_owned()),
            openai: at(env.openai, format!("{base_url}/v1")),
            anthropic: at(env.anthropic, base_url.to_owned()),
        })
    }

    /// Replaces the models that are `Some`.
    #[must_use]
    pub fn with_models(
        mut self,
        gemini: Option<String>,
        openai: Option<String>,
        anthropic: Option<String>,
    ) -> Self {
        if let Some(model) = gemini {
            self.gemini.model = model;
        }
        if let Some(model) = openai {
            self.openai.model = model;
        }
        if let Some(model) = anthropic {
            self.anthropic.model = model;
        }
        self
    }
}

/// The limits every client shares.
struct Limits {
    timeout: Duration,
    max_reply_bytes: usize,
    max_retry_wait: Duration,
}

impl Limits {
    fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let timeout = seconds(
            lookup,
            "AGENTO_LLM_TIMEOUT_SECS",
            DEFAULT_TIMEOUT,
            MAX_TIMEOUT,
            false,
        )?;
        let max_retry_wait = seconds(
            lookup,
            "AGENTO_MAX_RETRY_WAIT_SECS",
            DEFAULT_MAX_RETRY_WAIT,
            MAX_RETRY_WAIT,
            true,
        )?;
        let max_reply_bytes = match lookup("AGENTO_MAX_REPLY_BYTES") {
            None => DEFAULT_MAX_REPLY_BYTES,
            Some(value) => match value.trim().parse::<u64>() {
                Ok(bytes) if bytes >= 1024 => usize::try_from(bytes).unwrap_or(usize::MAX),
                _ => {
                    return Err(ConfigError(format!(
                        "AGENTO_MAX_REPLY_BYTES={value} is not a whole number of bytes (at least 1024)"
                    )));
                }
            },
        };
        Ok(Self {
            timeout,
            max_reply_bytes,
            max_retry_wait,
        })
    }
}

/// A duration in seconds from variable `var`: `default` when unset, an error
/// when not a number (or not positive, unless `zero_ok`), and `max` with a
/// warning naming the variable when larger.
fn seconds(
    lookup: &impl Fn(&str) -> Option<String>,
    var: &str,
    default: Duration,
    max: Duration,
    zero_ok: bool,
) -> Result<Duration, ConfigError> {
    let Some(value) = lookup(var) else {
        return Ok(default);
    };
    let secs = value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|secs| !secs.is_nan() && (*secs > 0.0 || (zero_ok && *secs == 0.0)));
    let Some(secs) = secs else {
        let what = if zero_ok {
            "a number of seconds (0 or more)"
        } else {
            "a positive number of seconds"
        };
        return Err(ConfigError(format!("{var}={value} is not {what}")));
    };
    match Duration::try_from_secs_f64(secs) {
        Ok(duration) if duration <= max => Ok(duration),
        _ => {
            eprintln!(
                "warning: {var}={} is more than the maximum of {} s; using {} s",
                value.trim(),
                max.as_secs(),
                max.as_secs()
            );
            Ok(max)
        }
    }
}

/// The variables of a `.env` file (none when there is no file). Secret-looking
/// values are registered with the scrubber.
fn read_dotenv(path: &Path) -> Result<HashMap<String, String>, ConfigError> {
    let iter = match dotenvy::from_path_iter(path) {
        Ok(iter) => iter,
        Err(error) if error.not_found() => return Ok(HashMap::new()),
        Err(error) => {
            return Err(ConfigError(format!(
                "cannot read {}: {error}",
                path.display()
            )));
        }
    };
    let mut vars = HashMap::new();
    for item in iter {
        let (name, value) =
            item.map_err(|error| ConfigError(format!("{} is not valid: {error}", path.display())))?;
        if agento::secrets::is_secret_var(&name) {
            agento::secrets::register_secret(&value);
        }
        vars.insert(name, value);
    }
    Ok(vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotenv_fills_in_what_the_environment_lacks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(
            &path,
            "GEMINI_API_KEY=from-file-key-123\nOPENAI_MODEL=gpt-file\n",
        )
        .unwrap();
        let file = read_dotenv(&path).unwrap();
        let config = VendorsConfig::from_lookup(|name| {
            (name == "OPENAI_MODEL")
                .then(|| "gpt-env".to_owned())
                .or_else(|| file.get(name).cloned())
        })
        .unwrap();
        assert_eq!(config.openai.model, "gpt-env");
        assert_eq!(config.gemini.api_key.as_deref(), Some("from-file-key-123"));
        assert_eq!(
            agento::secrets::scrub("k=from-file-key-123"),
            "k=[REDACTED]"
        );
        assert!(!format!("{config:?}").contains("from-file-key-123"));
    }

    #[test]
    fn a_bad_timeout_is_an_error() {
        let error = VendorsConfig::from_lookup(|name| {
            (name == "AGENTO_LLM_TIMEOUT_SECS").then(|| "soon".to_owned())
        })
        .unwrap_err();
        assert!(error.0.contains("AGENTO_LLM_TIMEOUT_SECS=soon"));
    }

    #[test]
    fn huge_timeouts_are_capped_not_a_panic() {
        for value in ["1e300", "18446744073709551615", "inf"] {
            let config = VendorsConfig::from_lookup(|name| {
                (name == "AGENTO_LLM_TIMEOUT_SECS").then(|| value.to_owned())
            })
            .unwrap();
            assert_eq!(config.openai.timeout, MAX_TIMEOUT, "{value}");
        }
        for value in ["0", "-1", "NaN"] {
            assert!(
                VendorsConfig::from_lookup(|name| {
                    (name == "AGENTO_LLM_TIMEOUT_SECS").then(|| value.to_owned())
                })
                .is_err(),
                "{value}"
            );
        }
    }

    #[test]
    fn temperature_overrides_per_vendor() {
        let config = VendorsConfig::from_lookup(|name| match name {
            "ANTHROPIC_TEMPERATURE" => Some("none".to_owned()),
            "OPENAI_TEMPERATURE" => Some("0.5".to_owned()),
            _ => None,
        })
        .unwrap();
        assert_eq!(config.anthropic.temperature, TemperatureSetting::Never);
        assert_eq!(config.openai.temperature, TemperatureSetting::Fixed(0.5));
        assert_eq!(config.gemini.temperature, TemperatureSetting::ByModel);
        let error = VendorsConfig::from_lookup(|name| {
            (name == "GEMINI_TEMPERATURE").then(|| "hot".to_owned())
        })
        .unwrap_err();
        assert!(error.0.starts_with("GEMINI_TEMPERATURE=hot"), "{error}");
    }
}
