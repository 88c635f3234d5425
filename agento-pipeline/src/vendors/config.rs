//! Where the vendors are and which models to ask: environment variables, a
//! `.env` file, command-line flags.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use super::Vendor;

/// The default per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// The settings of one vendor's client.
#[derive(Clone, PartialEq, Eq)]
pub struct VendorConfig {
    /// The API's base URL (`https://api.openai.com/v1`, an OpenAI-compatible server, the simulator).
    pub base_url: String,
    /// The API key, when set.
    pub api_key: Option<String>,
    /// The model to ask.
    pub model: String,
    /// The per-request timeout.
    pub timeout: Duration,
}

impl std::fmt::Debug for VendorConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VendorConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "[REDACTED]"))
            .field("model", &self.model)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A setting that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// The settings of the three clients.
#[derive(Debug, Clone, PartialEq, Eq)]
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
            default_model: "gemini-2.5-pro",
        },
        Vendor::OpenAi => Names {
            key: "OPENAI_API_KEY",
            base_url: "OPENAI_BASE_URL",
            model: "OPENAI_MODEL",
            default_base_url: "https://api.openai.com/v1",
            default_model: "gpt-4.1",
        },
        Vendor::Anthropic => Names {
            key: "ANTHROPIC_API_KEY",
            base_url: "ANTHROPIC_BASE_URL",
            model: "ANTHROPIC_MODEL",
            default_base_url: "https://api.anthropic.com",
            default_model: "claude-sonnet-4-5",
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
    /// assert_eq!(c.gemini.model, "gemini-2.5-pro");
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let timeout = match lookup("AGENTO_LLM_TIMEOUT_SECS") {
            None => DEFAULT_TIMEOUT,
            Some(value) => match value.trim().parse::<f64>() {
                Ok(secs) if secs > 0.0 && secs.is_finite() => Duration::from_secs_f64(secs),
                _ => {
                    return Err(ConfigError(format!(
                        "AGENTO_LLM_TIMEOUT_SECS={value} is not a positive number of seconds"
                    )));
                }
            },
        };
        Ok(Self::build(lookup, timeout))
    }

    fn build(lookup: impl Fn(&str) -> Option<String>, timeout: Duration) -> Self {
        let one = |vendor| {
            let n = names(vendor);
            VendorConfig {
                base_url: lookup(n.base_url)
                    .unwrap_or_else(|| n.default_base_url.to_owned())
                    .trim_end_matches('/')
                    .to_owned(),
                api_key: lookup(n.key).filter(|key| !key.trim().is_empty()),
                model: lookup(n.model).unwrap_or_else(|| n.default_model.to_owned()),
                timeout,
            }
        };
        Self {
            gemini: one(Vendor::Gemini),
            openai: one(Vendor::OpenAi),
            anthropic: one(Vendor::Anthropic),
        }
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
        if agento::runtime::scrub::is_secret_var(&name) {
            agento::runtime::scrub::register_secret(&value);
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
            agento::runtime::scrub::scrub("k=from-file-key-123"),
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
}
