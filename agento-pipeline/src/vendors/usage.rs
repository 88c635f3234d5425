//! Token usage as each vendor reports it (`usageMetadata` of Gemini, `usage`
//! of OpenAI and Anthropic), deserialized straight from the vendors' JSON and
//! read through the runtime's [`TokenUsage`].
//!
//! ```
//! use agento::TokenUsage;
//! use agento_pipeline::vendors::OpenAiUsage;
//! let usage: OpenAiUsage = serde_json::from_str(
//!     r#"{"prompt_tokens": 12, "completion_tokens": 30,
//!         "completion_tokens_details": {"reasoning_tokens": 8}}"#,
//! ).unwrap();
//! assert_eq!(usage.input_tokens(), Some(12));
//! assert_eq!(usage.reasoning_tokens(), Some(8));
//! ```

use agento::TokenUsage;
use serde::{Deserialize, Serialize};

/// Token usage as the vendor reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Usage {
    /// Gemini's `usageMetadata`.
    Gemini(GeminiUsage),
    /// OpenAI's `usage`.
    OpenAi(OpenAiUsage),
    /// Anthropic's `usage`.
    Anthropic(AnthropicUsage),
}

impl Usage {
    /// The counts behind the common trait.
    pub fn as_token_usage(&self) -> &dyn TokenUsage {
        match self {
            Self::Gemini(usage) => usage,
            Self::OpenAi(usage) => usage,
            Self::Anthropic(usage) => usage,
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
    use agento::attributes::{
        GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, GEN_AI_USAGE_CACHED_INPUT_TOKENS,
        GEN_AI_USAGE_INPUT_TOKENS, GEN_AI_USAGE_OUTPUT_TOKENS, GEN_AI_USAGE_REASONING_TOKENS,
    };
    use agento::opentelemetry::{KeyValue, Value};

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
