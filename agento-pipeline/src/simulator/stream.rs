//! Streamed answers of the simulator: the same reply as a non-streamed call,
//! cut into chunks and sent as each vendor's server-sent events (OpenAI
//! `chat.completion.chunk`s with the usage last and `[DONE]`; Anthropic
//! `message_start` … `message_stop`; Gemini one `GenerateContentResponse` per
//! event). The behaviour's stream modes add a slow first chunk, an error
//! event after N chunks, or a stall after N chunks.

use std::convert::Infallible;

use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::{Value, json};

use super::config::VendorBehaviour;
use super::wire;
use crate::vendors::Vendor;

/// The most characters one chunk carries.
pub const CHUNK_CHARS: usize = 48;

/// What a streamed answer says.
pub(super) struct Streamed<'a> {
    pub vendor: Vendor,
    pub model: String,
    pub text: &'a str,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cut: bool,
    /// Blocked or safety-stopped: the vendor's blocking finish.
    pub blocked: bool,
    pub sequence: u64,
}

/// `text` in pieces of at most [`CHUNK_CHARS`] characters (one empty piece
/// for an empty text).
pub fn pieces(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (count, (index, _)) in text.char_indices().enumerate() {
        if count > 0 && count % CHUNK_CHARS == 0 {
            out.push(&text[start..index]);
            start = index;
        }
    }
    out.push(&text[start..]);
    out
}

fn data(value: &Value) -> Event {
    Event::default().data(value.to_string())
}

fn named(name: &str, value: &Value) -> Event {
    Event::default().event(name).data(value.to_string())
}

/// The events before, per and after the text pieces, and the error event.
type Events = (Vec<Event>, Vec<Event>, Vec<Event>, Event);

/// The events of `answer` in its vendor's grammar.
fn events(answer: &Streamed<'_>) -> Events {
    let pieces = pieces(answer.text);
    match answer.vendor {
        Vendor::OpenAi => openai(answer, &pieces),
        Vendor::Anthropic => anthropic(answer, &pieces),
        Vendor::Gemini => gemini(answer, &pieces),
    }
}

/// `chat.completion.chunk`s, the usage in a last chunk without choices, then `[DONE]`.
fn openai(answer: &Streamed<'_>, pieces: &[&str]) -> Events {
    let id = wire::response_id(Vendor::OpenAi, answer.sequence);
    let created = 1_764_000_000 + answer.sequence;
    let chunk = |choices: Value, usage: Value| {
        data(&json!({
            "id": id, "object": "chat.completion.chunk", "created": created,
            "model": answer.model, "system_fingerprint": "fp_agento_sim",
            "choices": choices, "usage": usage,
        }))
    };
    let choice = |delta: Value, finish: Value| {
        chunk(
            json!([{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]),
            Value::Null,
        )
    };
    let body = pieces
        .iter()
        .enumerate()
        .map(|(i, piece)| {
            let delta = if i == 0 {
                json!({"role": "assistant", "content": piece, "refusal": null})
            } else {
                json!({"content": piece})
            };
            choice(delta, Value::Null)
        })
        .collect();
    let finish = wire::finish_reason(Vendor::OpenAi, answer.blocked, answer.cut);
    let after = vec![
        choice(json!({}), json!(finish)),
        chunk(
            json!([]),
            wire::usage(Vendor::OpenAi, answer.input_tokens, answer.output_tokens),
        ),
        Event::default().data("[DONE]"),
    ];
    let error = data(&json!({"error": {
        "message": "The server had an error while processing your request.",
        "type": "server_error", "param": null, "code": null,
    }}));
    (Vec::new(), body, after, error)
}

/// `message_start` … `content_block_delta`s … `message_delta` (the usage), `message_stop`.
fn anthropic(answer: &Streamed<'_>, pieces: &[&str]) -> Events {
    let usage = wire::usage(Vendor::Anthropic, answer.input_tokens, 1);
    let before = vec![
        named(
            "message_start",
            &json!({"type": "message_start", "message": {
                "id": wire::response_id(Vendor::Anthropic, answer.sequence), "type": "message",
                "role": "assistant", "model": answer.model, "content": [],
                "stop_reason": null, "stop_sequence": null, "usage": usage,
            }}),
        ),
        named(
            "content_block_start",
            &json!({"type": "content_block_start", "index": 0,
                    "content_block": {"type": "text", "text": ""}}),
        ),
        named("ping", &json!({"type": "ping"})),
    ];
    let body = pieces
        .iter()
        .map(|piece| {
            named(
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": 0,
                        "delta": {"type": "text_delta", "text": piece}}),
            )
        })
        .collect();
    let stop = wire::finish_reason(Vendor::Anthropic, answer.blocked, answer.cut);
    let after = vec![
        named(
            "content_block_stop",
            &json!({"type": "content_block_stop", "index": 0}),
        ),
        named(
            "message_delta",
            &json!({"type": "message_delta",
                    "delta": {"stop_reason": stop, "stop_sequence": null},
                    "usage": {"output_tokens": answer.output_tokens}}),
        ),
        named("message_stop", &json!({"type": "message_stop"})),
    ];
    let error = named(
        "error",
        &json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
    );
    (before, body, after, error)
}

/// One `GenerateContentResponse` per piece, the finish and whole usage on the last.
fn gemini(answer: &Streamed<'_>, pieces: &[&str]) -> Events {
    let last = pieces.len() - 1;
    let body = pieces
        .iter()
        .enumerate()
        .map(|(i, piece)| {
            let mut candidate =
                json!({"content": {"parts": [{"text": piece}], "role": "model"}, "index": 0});
            let mut usage = json!({"promptTokenCount": answer.input_tokens});
            if i == last {
                candidate["finishReason"] = json!(wire::finish_reason(
                    Vendor::Gemini,
                    answer.blocked,
                    answer.cut
                ));
                usage = wire::usage(Vendor::Gemini, answer.input_tokens, answer.output_tokens);
            }
            data(&json!({
                "candidates": [candidate], "usageMetadata": usage,
                "modelVersion": answer.model,
                "responseId": wire::response_id(Vendor::Gemini, answer.sequence),
            }))
        })
        .collect();
    let error = data(&json!({"error": {
        "code": 503, "message": "The model is overloaded. Please try again later.",
        "status": "UNAVAILABLE",
    }}));
    (Vec::new(), body, Vec::new(), error)
}

/// The streamed answer, with the behaviour's stream modes.
pub(super) fn respond(answer: &Streamed<'_>, behaviour: &VendorBehaviour) -> Response {
    let (before, body, after, error) = events(answer);
    let limit = match (behaviour.stream_error_after, behaviour.stream_stall_after) {
        (Some(n), _) | (None, Some(n)) => usize::try_from(n).unwrap_or(usize::MAX),
        (None, None) => usize::MAX,
    };
    let mut sent: Vec<Event> = before;
    let interrupted = limit < body.len();
    sent.extend(body.into_iter().take(limit));
    if !interrupted {
        sent.extend(after);
    } else if behaviour.stream_error_after.is_some() {
        sent.push(error);
    }
    let first_delay = behaviour.first_chunk_delay;
    let events = futures_util::stream::iter(sent.into_iter().enumerate()).then(
        move |(index, event)| async move {
            if index == 0 && !first_delay.is_zero() {
                tokio::time::sleep(first_delay).await;
            }
            Ok::<_, Infallible>(event)
        },
    );
    let stall = interrupted && behaviour.stream_error_after.is_none();
    if stall {
        Sse::new(events.chain(futures_util::stream::pending()).boxed()).into_response()
    } else {
        Sse::new(events.boxed()).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_cut_on_characters_and_rejoin() {
        let text = "é".repeat(CHUNK_CHARS * 2 + 3);
        let cut = pieces(&text);
        assert_eq!(cut.len(), 3);
        assert_eq!(cut[0].chars().count(), CHUNK_CHARS);
        assert_eq!(cut.concat(), text);
        assert_eq!(pieces(""), [""]);
    }
}
