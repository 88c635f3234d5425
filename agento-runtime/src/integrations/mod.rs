//! `LlmResponse`, `LlmChunk` and `TokenUsage` for the reply types of widely
//! used Rust LLM clients, behind one cargo feature each (Rust's orphan rule
//! lets only this crate, which defines the traits, implement them for another
//! crate's types):
//!
//! | feature | crate | types |
//! |---|---|---|
//! | `async-openai` | [`async-openai`](https://crates.io/crates/async-openai) (types only) | `CreateChatCompletionResponse` (`LlmResponse`), `CreateChatCompletionStreamResponse` (`LlmChunk`), `CompletionUsage` (`TokenUsage`) |

#[cfg(feature = "async-openai")]
pub mod async_openai;
