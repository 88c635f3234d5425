//! Model parameters by model: which sampling and length parameters a model
//! takes, and the per-vendor override variables.
//!
//! | vendor | models | `temperature` | output limit |
//! |---|---|---|---|
//! | Gemini | all | sent | `generationConfig.maxOutputTokens` |
//! | OpenAI | reasoning models (`o1`, `o3`, `o4-*`, `gpt-5*`, `gpt-6*`, not `*-chat-latest`) | not sent | `max_completion_tokens` |
//! | OpenAI | others (`gpt-4.1`, `gpt-4o`, …) | sent | `max_completion_tokens` |
//! | Anthropic | all (the official SDK's `MessageCreateParams` has no `temperature` since 2.x) | not sent | `max_tokens` (required) |
//!
//! `<VENDOR>_TEMPERATURE` overrides the rule: `none` never sends it, a number
//! always sends that number.

use super::Vendor;

/// What a call would like, before the model's rules apply.
///
/// ```
/// use agento_pipeline::vendors::Wanted;
/// let w = Wanted::new(0.3).with_max_tokens(2048);
/// assert_eq!(w.max_tokens, Some(2048));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Wanted {
    /// The temperature the call is tuned for.
    pub temperature: f64,
    /// The output limit, if the call sets one.
    pub max_tokens: Option<u32>,
}

impl Wanted {
    /// A call tuned for `temperature`, with the vendor's default output limit.
    pub const fn new(temperature: f64) -> Self {
        Self {
            temperature,
            max_tokens: None,
        }
    }

    /// The same with an output limit.
    #[must_use]
    pub const fn with_max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = Some(max_tokens);
        self
    }
}

/// The parameters one call sends, resolved for its model: used both for the
/// request and for the span's `gen_ai.request.*` attributes.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CallParams {
    /// Sampling temperature, when the model takes it.
    pub temperature: Option<f64>,
    /// Output token limit, when set.
    pub max_tokens: Option<u32>,
}

/// A `<VENDOR>_TEMPERATURE` setting.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum TemperatureSetting {
    /// The model's rule (the default).
    #[default]
    ByModel,
    /// Never send `temperature` (`none`).
    Never,
    /// Always send this value.
    Fixed(f64),
}

impl TemperatureSetting {
    /// Parses a variable's value: `none`, or a number from 0 to 2.
    ///
    /// ```
    /// use agento_pipeline::vendors::TemperatureSetting;
    /// assert_eq!(TemperatureSetting::parse("none"), Ok(TemperatureSetting::Never));
    /// assert_eq!(TemperatureSetting::parse("0.5"), Ok(TemperatureSetting::Fixed(0.5)));
    /// assert!(TemperatureSetting::parse("hot").is_err());
    /// ```
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        if value.eq_ignore_ascii_case("none") || value.eq_ignore_ascii_case("off") {
            return Ok(Self::Never);
        }
        match value.parse::<f64>() {
            Ok(t) if (0.0..=2.0).contains(&t) => Ok(Self::Fixed(t)),
            _ => Err(format!(
                "{value} is neither `none` nor a number from 0 to 2"
            )),
        }
    }
}

/// The variable overriding `vendor`'s temperature rule.
pub(crate) const fn temperature_var(vendor: Vendor) -> &'static str {
    match vendor {
        Vendor::Gemini => "GEMINI_TEMPERATURE",
        Vendor::OpenAi => "OPENAI_TEMPERATURE",
        Vendor::Anthropic => "ANTHROPIC_TEMPERATURE",
    }
}

/// Whether `model` of `vendor` takes `temperature`.
pub(crate) fn takes_temperature(vendor: Vendor, model: &str) -> bool {
    match vendor {
        Vendor::Gemini => true,
        Vendor::OpenAi => !openai_reasoning(model),
        Vendor::Anthropic => false,
    }
}

/// OpenAI's reasoning models: no sampling parameters.
fn openai_reasoning(model: &str) -> bool {
    let model = model.rsplit('/').next().unwrap_or(model);
    if model.contains("-chat-latest") {
        return false;
    }
    ["o1", "o3", "o4", "gpt-5", "gpt-6", "gpt-7"]
        .iter()
        .any(|family| {
            model == *family
                || model
                    .strip_prefix(family)
                    .is_some_and(|rest| rest.starts_with(['-', '.']))
        })
}

/// Resolves what a call wants against `model`'s rules and `setting`; a call
/// to Anthropic without an output limit gets the one the API requires.
pub(crate) fn resolve(
    vendor: Vendor,
    model: &str,
    setting: TemperatureSetting,
    wanted: Wanted,
) -> CallParams {
    let temperature = match setting {
        TemperatureSetting::ByModel => {
            takes_temperature(vendor, model).then_some(wanted.temperature)
        }
        TemperatureSetting::Never => None,
        TemperatureSetting::Fixed(t) => Some(t),
    };
    // Anthropic requires an output limit: the one it is sent is the one the
    // span records.
    let required = match vendor {
        Vendor::Anthropic => Some(super::anthropic::DEFAULT_MAX_TOKENS),
        Vendor::Gemini | Vendor::OpenAi => None,
    };
    CallParams {
        temperature,
        max_tokens: wanted.max_tokens.or(required),
    }
}

/// The parameter a 400 message says the model does not take, when it is one
/// an override variable can leave out (`temperature`).
pub(crate) fn unsupported_parameter(message: &str) -> Option<&'static str> {
    let lower = message.to_ascii_lowercase();
    let refuses = [
        "unsupported",
        "not supported",
        "not permitted",
        "unknown name",
        "does not support",
        "invalid json payload",
    ]
    .iter()
    .any(|phrase| lower.contains(phrase));
    if !refuses {
        return None;
    }
    lower.contains("temperature").then_some("temperature")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temperature_by_vendor_and_model() {
        assert!(!takes_temperature(Vendor::OpenAi, "gpt-5.5"));
        assert!(takes_temperature(Vendor::OpenAi, "gpt-4.1"));
        assert!(!takes_temperature(Vendor::Anthropic, "claude-sonnet-5-5"));
        assert!(takes_temperature(Vendor::Gemini, "gemini-3.8-flash"));
    }

    #[test]
    fn resolve_applies_the_rule_and_the_setting() {
        let p = resolve(
            Vendor::OpenAi,
            "gpt-5.5",
            TemperatureSetting::ByModel,
            Wanted::new(0.3),
        );
        assert_eq!(
            p,
            CallParams {
                temperature: None,
                max_tokens: None
            }
        );
        let p = resolve(
            Vendor::OpenAi,
            "gpt-5.5",
            TemperatureSetting::Fixed(1.0),
            Wanted::new(0.3),
        );
        assert_eq!(p.temperature, Some(1.0));
    }

    #[test]
    fn anthropic_calls_always_carry_the_output_limit_they_send() {
        let wanted = Wanted::new(0.3);
        let anthropic = resolve(
            Vendor::Anthropic,
            "claude-sonnet-5-5",
            TemperatureSetting::ByModel,
            wanted,
        );
        assert_eq!(
            anthropic.max_tokens,
            Some(super::super::anthropic::DEFAULT_MAX_TOKENS)
        );
        let gemini = resolve(
            Vendor::Gemini,
            "gemini-3.8-flash",
            TemperatureSetting::ByModel,
            wanted,
        );
        assert_eq!(gemini.max_tokens, None);
        let set = resolve(
            Vendor::Anthropic,
            "claude-sonnet-5-5",
            TemperatureSetting::ByModel,
            wanted.with_max_tokens(10),
        );
        assert_eq!(set.max_tokens, Some(10));
    }

    #[test]
    fn unsupported_parameter_names_temperature_only() {
        assert_eq!(
            unsupported_parameter(
                "Unsupported parameter: 'temperature' is not supported with this model."
            ),
            Some("temperature")
        );
        assert_eq!(
            unsupported_parameter("temperature: Extra inputs are not permitted"),
            Some("temperature")
        );
        assert_eq!(unsupported_parameter("messages: field required"), None);
    }

    #[test]
    fn openai_reasoning_families() {
        for model in [
            "o1",
            "o3-mini",
            "o4-mini-2025-04-16",
            "gpt-5",
            "gpt-5.5",
            "gpt-6-astra",
        ] {
            assert!(openai_reasoning(model), "{model}");
        }
        for model in [
            "gpt-4.1",
            "gpt-4o-mini",
            "gpt-5-chat-latest",
            "gpt-3.5-turbo",
            "o1x",
        ] {
            assert!(!openai_reasoning(model), "{model}");
        }
    }
}
