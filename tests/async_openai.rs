//! The `async-openai` feature: `#[llm_span]` records async-openai's own
//! Chat Completions reply and stream chunk types, parsed from the JSON of
//! OpenAI's API reference (the chat completion object and chunk objects).

#![cfg(feature = "async-openai")]

use agento::llm_span;
use async_openai::types::chat::{CreateChatCompletionResponse, CreateChatCompletionStreamResponse};
use futures_util::stream::{self, Stream, StreamExt};
use opentelemetry::trace::Status;
use opentelemetry::{Array, Value};

mod common;
use common::{attr, record};

const COMPLETION: &str = r#"{
  "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
  "object": "chat.completion",
  "created": 1741570283,
  "model": "gpt-4o-2024-08-06",
  "choices": [{
    "index": 0,
    "message": {"role": "assistant", "content": "The image shows a wooden boardwalk.", "refusal": null, "annotations": []},
    "logprobs": null,
    "finish_reason": "stop"
  }],
  "usage": {
    "prompt_tokens": 1117, "completion_tokens": 46, "total_tokens": 1163,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
  },
  "service_tier": "default",
  "system_fingerprint": "fp_fc9f1d7035"
}"#;

const CHUNKS: [&str; 4] = [
    r#"{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":null}"#,
    r#"{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}],"usage":null}"#,
    r#"{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}"#,
    r#"{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":1,"total_tokens":10}}"#,
];

#[derive(Debug)]
struct ApiError;

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("api error")
    }
}

#[llm_span(system = "openai", model = "gpt-4o")]
fn complete() -> Result<CreateChatCompletionResponse, ApiError> {
    Ok(serde_json::from_str(COMPLETION).expect("the reference JSON parses"))
}

#[llm_span(system = "openai", model = "gpt-4o-mini")]
async fn complete_stream()
-> Result<impl Stream<Item = Result<CreateChatCompletionStreamResponse, ApiError>>, ApiError> {
    Ok(stream::iter(CHUNKS.map(|chunk| {
        Ok(serde_json::from_str(chunk).expect("the reference JSON parses"))
    })))
}

#[test]
fn a_chat_completion_response_is_recorded_as_it_is() {
    let ((), spans) = record(|| {
        complete().expect("reply");
    });
    let span = &spans[0];
    assert_eq!(span.status, Status::Ok);
    assert_eq!(
        attr(span, "gen_ai.response.content"),
        Some(Value::from("The image shows a wooden boardwalk."))
    );
    assert_eq!(
        attr(span, "gen_ai.response.model"),
        Some(Value::from("gpt-4o-2024-08-06"))
    );
    assert_eq!(
        attr(span, "gen_ai.response.id"),
        Some(Value::from("chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG"))
    );
    assert_eq!(
        attr(span, "gen_ai.response.finish_reasons"),
        Some(Value::Array(Array::String(vec!["stop".into()])))
    );
    assert_eq!(
        attr(span, "gen_ai.usage.input_tokens"),
        Some(Value::I64(1117))
    );
    assert_eq!(
        attr(span, "gen_ai.usage.output_tokens"),
        Some(Value::I64(46))
    );
    assert_eq!(
        attr(span, "gen_ai.usage.cache_read.input_tokens"),
        Some(Value::I64(0))
    );
}

#[test]
fn a_chat_completion_stream_is_recorded_chunk_by_chunk() {
    let ((), spans) = record(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let chunks: Vec<_> = complete_stream().await.expect("stream").collect().await;
            assert_eq!(chunks.len(), 4);
        });
    });
    let span = &spans[0];
    assert_eq!(span.status, Status::Ok);
    assert_eq!(
        attr(span, "gen_ai.response.content"),
        Some(Value::from("Hello"))
    );
    assert_eq!(attr(span, "agento.response.chunks"), Some(Value::I64(4)));
    assert_eq!(
        attr(span, "gen_ai.response.model"),
        Some(Value::from("gpt-4o-mini"))
    );
    assert_eq!(
        attr(span, "gen_ai.response.finish_reasons"),
        Some(Value::Array(Array::String(vec!["stop".into()])))
    );
    assert_eq!(attr(span, "gen_ai.usage.input_tokens"), Some(Value::I64(9)));
    assert_eq!(
        attr(span, "gen_ai.usage.output_tokens"),
        Some(Value::I64(1))
    );
}
