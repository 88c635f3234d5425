//! Token usage as each vendor reports it, behind one [`TokenUsage`] trait.
//!
//! The structs deserialize straight from the vendors' JSON (`usageMetadata` of
//! Gemini, `usage` of OpenAI and Anthropic).
//!
//! ```
//! use agento_runtime::usage::{OpenAiUsage, TokenUsage};
//! let usage: OpenAiUsage = serde_json::from_str(
//!     r#"{"prompt_tokens": 12, "completion_tokens": 30,
//!         "completion_tokens_details": {"reasoning_tokens": 8}}"#,
//! ).unwrap();
//! assert_eq!(usage.input_tokens(), Some(12));
//! assert_eq!(usage.reasoning_tokens(), Some(8));
//! ```

use opentelemetry::KeyValue;
use serde::{Deserialize, Serialize};

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
    /// use agento_runtime::usage::{AnthropicUsage, TokenUsage};
    /// let usage = AnthropicUsage { input_tokens: 5, output_tokens: 7, ..Default::default() };
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
        self.push_key_values(memo, &mut out);
        out
    }

    /// Pushes the token counts under the names of every convention `semconv`
    /// turns on: `gen_ai.usage.*` (memo, genai) and `llm.token_count.*`
    /// (OpenInference, with `total` = input + output).
    ///
    /// ```
    /// use agento_runtime::semconv::Semconv;
    /// use agento_runtime::usage::{OpenAiUsage, TokenUsage};
    /// let usage = OpenAiUsage { prompt_tokens: 5, completion_tokens: 7, ..Default::default() };
    /// let mut out = Vec::new();
    /// usage.push_key_values(Semconv::parse(Some("openinference"), None, None).unwrap(), &mut out);
    /// assert_eq!(out.len(), 3); // prompt, completion, total
    /// ```
    fn push_key_values(&self, semconv: Semconv, out: &mut Vec<KeyValue>) {
        let mut push = |key: &'static str, count: Option<u64>| {
            if let Some(count) = count {
                out.push(KeyValue::new(key, i64::try_from(count).unwrap_or(i64::MAX)));
            }
        };
        let (input, output) = (self.input_tokens(), self.output_tokens());
        if semconv.memo || semconv.genai {
            push(GEN_AI_USAGE_INPUT_TOKENS, input);
            push(GEN_AI_USAGE_OUTPUT_TOKENS, output);
            push(GEN_AI_USAGE_CACHED_INPUT_TOKENS, self.cached_input_tokens());
            push(
                GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
                self.cache_creation_input_tokens(),
            );
        }
        if semconv.memo {
            push(GEN_AI_USAGE_REASONING_TOKENS, self.reasoning_tokens());
        }
        if semconv.genai {
            push(
                genai::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
                self.reasoning_tokens(),
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
                self.cached_input_tokens(),
            );
            push(
                oi::LLM_TOKEN_COUNT_PROMPT_DETAILS_CACHE_WRITE,
                self.cache_creation_input_tokens(),
            );
            push(
                oi::LLM_TOKEN_COUNT_COMPLETION_DETAILS_REASONING,
                self.reasoning_tokens(),
            );
        }
    }
}

/// Gemini's `usageMetadata`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GeminiUsage {
    /// Prompt tokens (cached ones included).
    pub prompt_token_count: u64,
    /// Tokens of the returned candidates.
    pub candidates_token_count: u64,
    /// Thinking tokens (billed as output).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thoughts_token_count: Option<u64>,
    /// Prompt tokens served from the context cache.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached_content_token_count: Option<u64>,
    /// The vendor's total.
    pub total_token_count: u64,
}

impl TokenUsage for GeminiUsage {
    fn input_tokens(&self) -> Option<u64> {
        Some(self.prompt_token_count)
    }
    fn output_tokens(&self) -> Option<u64> {
        Some(self.candidates_token_count + self.thoughts_token_count.unwrap_or(0))
    }
    fn cached_input_tokens(&self) -> Option<u64> {
        self.cached_content_token_count
    }
    fn reasoning_tokens(&self) -> Option<u64> {
        self.thoughts_token_count
    }
}

/// OpenAI's `usage` (Chat Completions).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OpenAiUsage {
    /// Prompt tokens (cached ones included).
    pub prompt_tokens: u64,
    /// Completion tokens (reasoning ones included).
    pub completion_tokens: u64,
    /// The vendor's total.
    pub total_tokens: u64,
    /// Details of the prompt tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_details: Option<OpenAiPromptDetails>,
    /// Details of the completion tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion_tokens_details: Option<OpenAiCompletionDetails>,
}

/// `usage.prompt_tokens_details` of OpenAI.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OpenAiPromptDetails {
    /// Prompt tokens served from the prompt cache.
    pub cached_tokens: Option<u64>,
}

/// `usage.completion_tokens_details` of OpenAI.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OpenAiCompletionDetails {
    /// Reasoning tokens.
    pub reasoning_tokens: Option<u64>,
}

impl TokenUsage for OpenAiUsage {
    fn input_tokens(&self) -> Option<u64> {
        Some(self.prompt_tokens)
    }
    fn output_tokens(&self) -> Option<u64> {
        Some(self.completion_tokens)
    }
    fn cached_input_tokens(&self) -> Option<u64> {
        self.prompt_tokens_details.as_ref()?.cached_tokens
    }
    fn reasoning_tokens(&self) -> Option<u64> {
        self.completion_tokens_details.as_ref()?.reasoning_tokens
    }
}

/// Anthropic's `usage` (Messages). Anthropic counts cache reads and writes
/// apart from `input_tokens`; [`TokenUsage::input_tokens`] adds them up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AnthropicUsage {
    /// Uncached input tokens.
    pub input_tokens: u64,
    /// Output tokens (thinking included).
    pub output_tokens: u64,
    /// Input tokens written to the cache.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_creation_input_tokens: Option<u64>,
    /// Input tokens read from the cache.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_read_input_tokens: Option<u64>,
}

impl TokenUsage for AnthropicUsage {
    fn input_tokens(&self) -> Option<u64> {
        Some(
            self.input_tokens
                + self.cache_creation_input_tokens.unwrap_or(0)
                + self.cache_read_input_tokens.unwrap_or(0),
        )
    }
    fn output_tokens(&self) -> Option<u64> {
        Some(self.output_tokens)
    }
    fn cached_input_tokens(&self) -> Option<u64> {
        self.cache_read_input_tokens
    }
    fn cache_creation_input_tokens(&self) -> Option<u64> {
        self.cache_creation_input_tokens
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::Value;

    fn get(kvs: &[KeyValue], key: &str) -> Option<Value> {
        kvs.iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.clone())
    }

    #[test]
    fn gemini_counts_thoughts_as_output() {
        let usage: GeminiUsage = serde_json::from_str(
            r#"{"promptTokenCount":100,"candidatesTokenCount":40,"thoughtsTokenCount":25,
                "cachedContentTokenCount":60,"totalTokenCount":165}"#,
        )
        .unwrap();
        let kvs = usage.key_values();
        assert_eq!(get(&kvs, GEN_AI_USAGE_INPUT_TOKENS), Some(Value::I64(100)));
        assert_eq!(get(&kvs, GEN_AI_USAGE_OUTPUT_TOKENS), Some(Value::I64(65)));
        assert_eq!(
            get(&kvs, GEN_AI_USAGE_REASONING_TOKENS),
            Some(Value::I64(25))
        );
        assert_eq!(
            get(&kvs, GEN_AI_USAGE_CACHED_INPUT_TOKENS),
            Some(Value::I64(60))
        );
    }

    #[test]
    fn openai_details_are_optional() {
        let usage: OpenAiUsage =
            serde_json::from_str(r#"{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}"#)
                .unwrap();
        let kvs = usage.key_values();
        assert_eq!(kvs.len(), 2);
        assert_eq!(get(&kvs, GEN_AI_USAGE_OUTPUT_TOKENS), Some(Value::I64(3)));
        let usage: OpenAiUsage = serde_json::from_str(
            r#"{"prompt_tokens":9,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":4}}"#,
        )
        .unwrap();
        assert_eq!(usage.cached_input_tokens(), Some(4));
    }

    #[test]
    fn anthropic_input_includes_cache_reads_and_writes() {
        let usage: AnthropicUsage = serde_json::from_str(
            r#"{"input_tokens":10,"output_tokens":20,"cache_creation_input_tokens":5,"cache_read_input_tokens":7}"#,
        )
        .unwrap();
        assert_eq!(usage.input_tokens(), Some(22));
        let kvs = usage.key_values();
        assert_eq!(
            get(&kvs, GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS),
            Some(Value::I64(5))
        );
        assert_eq!(
            get(&kvs, GEN_AI_USAGE_CACHED_INPUT_TOKENS),
            Some(Value::I64(7))
        );
    }
}
