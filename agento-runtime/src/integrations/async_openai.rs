//! async-openai's Chat Completions types, recorded as they are: a function
//! returning `Result<CreateChatCompletionResponse, OpenAIError>` or a stream
//! of `Result<CreateChatCompletionStreamResponse, OpenAIError>` takes
//! `#[llm_span]` without a newtype.
//!
//! ```
//! use agento_runtime::LlmResponse;
//! use async_openai::types::chat::CreateChatCompletionResponse;
//! let reply: CreateChatCompletionResponse = serde_json::from_str(r#"{
//!   "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-2024-08-06",
//!   "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}],
//!   "usage": {"prompt_tokens": 9, "completion_tokens": 1, "total_tokens": 10}
//! }"#).unwrap();
//! assert_eq!(reply.text(), "Hi");
//! assert_eq!(reply.finish_reason_names(), Some(vec!["stop"]));
//! ```

use async_openai::types::chat::{
    CompletionUsage, CreateChatCompletionResponse, CreateChatCompletionStreamResponse, FinishReason,
};

use crate::response::LlmResponse;
use crate::stream::LlmChunk;
use crate::usage::TokenUsage;

/// The API's name of a finish reason.
const fn name(reason: FinishReason) -> &'static str {
    match reason {
        FinishReason::Stop => "stop",
        FinishReason::Length => "length",
        FinishReason::ToolCalls => "tool_calls",
        FinishReason::ContentFilter => "content_filter",
        FinishReason::FunctionCall => "function_call",
    }
}

impl TokenUsage for CompletionUsage {
    fn input_tokens(&self) -> Option<u64> {
        Some(u64::from(self.prompt_tokens))
    }
    fn output_tokens(&self) -> Option<u64> {
        Some(u64::from(self.completion_tokens))
    }
    fn cached_input_tokens(&self) -> Option<u64> {
        self.prompt_tokens_details
            .as_ref()?
            .cached_tokens
            .map(u64::from)
    }
    fn reasoning_tokens(&self) -> Option<u64> {
        self.completion_tokens_details
            .as_ref()?
            .reasoning_tokens
            .map(u64::from)
    }
}

impl LlmResponse for CreateChatCompletionResponse {
    /// The first choice's content.
    fn text(&self) -> &str {
        self.choices
            .first()
            .and_then(|c| c.message.content.as_deref())
            .unwrap_or_default()
    }
    fn usage(&self) -> Option<&dyn TokenUsage> {
        self.usage.as_ref().map(|u| u as &dyn TokenUsage)
    }
    fn response_model(&self) -> Option<&str> {
        Some(&self.model)
    }
    fn response_id(&self) -> Option<&str> {
        Some(&self.id)
    }
    fn finish_reason_names(&self) -> Option<Vec<&str>> {
        Some(
            self.choices
                .iter()
                .filter_map(|c| c.finish_reason.map(name))
                .collect(),
        )
    }
}

impl LlmChunk for CreateChatCompletionStreamResponse {
    /// The first choice's delta.
    fn text_delta(&self) -> &str {
        self.choices
            .first()
            .and_then(|c| c.delta.content.as_deref())
            .unwrap_or_default()
    }
    fn usage(&self) -> Option<&dyn TokenUsage> {
        self.usage.as_ref().map(|u| u as &dyn TokenUsage)
    }
    fn finish_reason(&self) -> Option<&str> {
        self.choices.first()?.finish_reason.map(name)
    }
    fn response_model(&self) -> Option<&str> {
        Some(&self.model)
    }
    fn response_id(&self) -> Option<&str> {
        Some(&self.id)
    }
}
