//! Token usage behind one [`TokenUsage`] trait, which each client's usage
//! type implements (the vendors' own shapes live with their clients), and
//! [`TokenCounts`], counts given field by field.
//!
//! ```
//! use agento_runtime::{TokenCounts, TokenUsage};
//! let usage = TokenCounts { reasoning: Some(8), ..TokenCounts::new(12, 30) };
//! assert_eq!(usage.input_tokens(), Some(12));
//! assert_eq!(usage.reasoning_tokens(), Some(8));
//! ```

use opentelemetry::KeyValue;

use crate::attributes::{
    GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, GEN_AI_USAGE_CACHED_INPUT_TOKENS,
    GEN_AI_USAGE_INPUT_TOKENS, GEN_AI_USAGE_OUTPUT_TOKENS, GEN_AI_USAGE_REASONING_TOKENS,
};
use crate::semconv::{Semconv, genai, openinference as oi};

/// Token counts of one LLM call.
///
/// `input_tokens` counts every prompt token, cached ones included;
/// `output_tokens` counts every generated token, reasoning included.
pub trait TokenUsage {
    /// All input (prompt) tokens.
    fn input_tokens(&self) -> Option<u64>;
    /// All output tokens.
    fn output_tokens(&self) -> Option<u64>;
    /// Input tokens read from the vendor's prompt cache.
    fn cached_input_tokens(&self) -> Option<u64> {
        None
    }
    /// Input tokens written to the vendor's prompt cache.
    fn cache_creation_input_tokens(&self) -> Option<u64> {
        None
    }
    /// Reasoning ("thinking") tokens, a part of the output tokens.
    fn reasoning_tokens(&self) -> Option<u64> {
        None
    }

    /// The memo's `gen_ai.usage.*` attributes for these counts (absent counts are skipped).
    ///
    /// ```
    /// use agento_runtime::{TokenCounts, TokenUsage};
    /// let usage = TokenCounts::new(5, 7);
    /// assert_eq!(usage.key_values().len(), 2);
    /// ```
    fn key_values(&self) -> Vec<KeyValue> {
        let mut out = Vec::with_capacity(5);
        let memo = Semconv {
            memo: true,
            openinference: false,
            genai: false,
            content: true,
        };
        push_key_values(self, memo, &mut out);
        out
    }
}

/// Pushes the token counts under the names of every convention `semconv`
/// turns on: `gen_ai.usage.*` (memo, genai) and `llm.token_count.*`
/// (OpenInference, with `total` = input + output).
pub(crate) fn push_key_values<U: TokenUsage + ?Sized>(
    usage: &U,
    semconv: Semconv,
    out: &mut Vec<KeyValue>,
) {
    let mut push = |key: &'static str, count: Option<u64>| {
        if let Some(count) = count {
            out.push(KeyValue::new(key, i64::try_from(count).unwrap_or(i64::MAX)));
        }
    };
    let (input, output) = (usage.input_tokens(), usage.output_tokens());
    if semconv.memo || semconv.genai {
        push(GEN_AI_USAGE_INPUT_TOKENS, input);
        push(GEN_AI_USAGE_OUTPUT_TOKENS, output);
        push(
            GEN_AI_USAGE_CACHED_INPUT_TOKENS,
            usage.cached_input_tokens(),
        );
        push(
            GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
            usage.cache_creation_input_tokens(),
        );
    }
    if semconv.memo {
        push(GEN_AI_USAGE_REASONING_TOKENS, usage.reasoning_tokens());
    }
    if semconv.genai {
        push(
            genai::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
            usage.reasoning_tokens(),
        );
    }
    if semconv.openinference {
        push(oi::LLM_TOKEN_COUNT_PROMPT, input);
        push(oi::LLM_TOKEN_COUNT_COMPLETION, output);
        push(
            oi::LLM_TOKEN_COUNT_TOTAL,
            input.zip(output).map(|(i, o)| i.saturating_add(o)),
        );
        push(
            oi::LLM_TOKEN_COUNT_PROMPT_DETAILS_CACHE_READ,
            usage.cached_input_tokens(),
        );
        push(
            oi::LLM_TOKEN_COUNT_PROMPT_DETAILS_CACHE_WRITE,
            usage.cache_creation_input_tokens(),
        );
        push(
            oi::LLM_TOKEN_COUNT_COMPLETION_DETAILS_REASONING,
            usage.reasoning_tokens(),
        );
    }
}

/// Token counts given field by field: the [`TokenUsage`] of a reply type
/// whose vendor has no usage type of its own (and of tests).
///
/// ```
/// use agento_runtime::{TokenCounts, TokenUsage};
/// let usage = TokenCounts { cached_input: Some(4), ..TokenCounts::new(9, 3) };
/// assert_eq!(usage.key_values().len(), 3);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenCounts {
    /// All input (prompt) tokens.
    pub input: Option<u64>,
    /// All output tokens.
    pub output: Option<u64>,
    /// Input tokens read from the prompt cache.
    pub cached_input: Option<u64>,
    /// Input tokens written to the prompt cache.
    pub cache_creation_input: Option<u64>,
    /// Reasoning tokens, a part of the output tokens.
    pub reasoning: Option<u64>,
}

impl TokenCounts {
    /// `input` and `output` tokens, nothing else reported.
    pub const fn new(input: u64, output: u64) -> Self {
        Self {
            input: Some(input),
            output: Some(output),
            cached_input: None,
            cache_creation_input: None,
            reasoning: None,
        }
    }

    /// Takes every count `usage` reports, keeping the others (a stream's
    /// counts, merged from the chunks that carry them).
    pub(crate) fn merge(&mut self, usage: &dyn TokenUsage) {
        let take = |slot: &mut Option<u64>, value: Option<u64>| {
            if value.is_some() {
                *slot = value;
            }
        };
        take(&mut self.input, usage.input_tokens());
        take(&mut self.output, usage.output_tokens());
        take(&mut self.cached_input, usage.cached_input_tokens());
        take(
            &mut self.cache_creation_input,
            usage.cache_creation_input_tokens(),
        );
        take(&mut self.reasoning, usage.reasoning_tokens());
    }
}

impl TokenUsage for TokenCounts {
    fn input_tokens(&self) -> Option<u64> {
        self.input
    }
    fn output_tokens(&self) -> Option<u64> {
        self.output
    }
    fn cached_input_tokens(&self) -> Option<u64> {
        self.cached_input
    }
    fn cache_creation_input_tokens(&self) -> Option<u64> {
        self.cache_creation_input
    }
    fn reasoning_tokens(&self) -> Option<u64> {
        self.reasoning
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::semconv::Semconv;
    use opentelemetry::Value;

    fn get(kvs: &[KeyValue], key: &str) -> Option<Value> {
        kvs.iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.clone())
    }

    #[test]
    fn memo_names_skip_absent_counts() {
        let usage = TokenCounts {
            reasoning: Some(25),
            cache_creation_input: Some(5),
            ..TokenCounts::new(100, 65)
        };
        let kvs = usage.key_values();
        assert_eq!(get(&kvs, GEN_AI_USAGE_INPUT_TOKENS), Some(Value::I64(100)));
        assert_eq!(get(&kvs, GEN_AI_USAGE_OUTPUT_TOKENS), Some(Value::I64(65)));
        assert_eq!(
            get(&kvs, GEN_AI_USAGE_REASONING_TOKENS),
            Some(Value::I64(25))
        );
        assert_eq!(
            get(&kvs, GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS),
            Some(Value::I64(5))
        );
        assert_eq!(get(&kvs, GEN_AI_USAGE_CACHED_INPUT_TOKENS), None);
        assert_eq!(kvs.len(), 4);
    }

    #[test]
    fn openinference_adds_a_total() {
        let mut out = Vec::new();
        let semconv = Semconv::parse(Some("openinference"), None, None).unwrap();
        push_key_values(&TokenCounts::new(5, 7), semconv, &mut out);
        assert_eq!(get(&out, oi::LLM_TOKEN_COUNT_TOTAL), Some(Value::I64(12)));
        assert_eq!(out.len(), 3);
    }
}
