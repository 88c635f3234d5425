//! The three simulated endpoints: each checks its vendor's headers, reads
//! its vendor's request JSON and answers in its vendor's response JSON.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::config::Failure;
use super::errors::error;
use super::{Shared, content};
use crate::vendors::Vendor;

/// A request refused before it reaches the model.
struct Refusal {
    status: StatusCode,
    message: String,
}

impl Refusal {
    fn unauthorised(message: &str) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            message: message.to_owned(),
        }
    }

    fn invalid(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }
}

impl From<BytesRejection> for Refusal {
    fn from(rejection: BytesRejection) -> Self {
        Self {
            status: rejection.status(),
            message: rejection.body_text(),
        }
    }
}

/// The parts of a request the simulator looks at.
struct Ask {
    prompt: String,
    model: String,
    max_tokens: Option<u64>,
    /// Answer as server-sent events.
    stream: bool,
}

/// The generated answer to an [`Ask`].
struct Generated {
    text: String,
    input_tokens: u64,
    output_tokens: u64,
    /// Stopped at `max_tokens`.
    cut: bool,
}

/// Builds a vendor's response JSON from the ask, the answer and a sequence
/// number (for ids).
type Shape = fn(&Ask, &Generated, u64) -> Value;

/// Answers one call: latency, then the refusal of an invalid request, then
/// the injected behaviour, then the reply in `shape`.
async fn respond(
    shared: &Shared,
    vendor: Vendor,
    ask: Result<Ask, Refusal>,
    shape: Shape,
) -> Response {
    let behaviour = shared.config.vendor(vendor);
    let counters = shared.counters(vendor);
    counters.requests.fetch_add(1, Ordering::Relaxed);
    if !behaviour.latency.is_zero() {
        tokio::time::sleep(behaviour.latency).await;
    }
    let ask = match ask {
        Ok(ask) => ask,
        Err(refusal) => {
            counters.rejected.fetch_add(1, Ordering::Relaxed);
            return error(vendor, refusal.status, &refusal.message, None);
        }
    };
    let valid = counters.valid.fetch_add(1, Ordering::Relaxed);
    if behaviour.fail_always || valid < behaviour.fail_first {
        counters.failed.fetch_add(1, Ordering::Relaxed);
        return injected(vendor, behaviour.failure);
    }
    let mut text = if behaviour.broken_plan && content::marker(&ask.prompt) == Some("plan") {
        content::broken_plan()
    } else {
        content::reply(&ask.prompt, &shared.verdicts)
    };
    if let Some(bytes) = behaviour.huge_reply_bytes {
        text = content::pad(text, bytes);
    }
    let (text, output_tokens, cut) = content::limit(text, ask.max_tokens);
    let generated = Generated {
        input_tokens: content::tokens(&ask.prompt),
        text,
        output_tokens,
        cut,
    };
    let sequence = shared.sequence.fetch_add(1, Ordering::Relaxed);
    let body = shape(&ask, &generated, sequence);
    if ask.stream {
        let model = match vendor {
            Vendor::Gemini => body.pointer("/modelVersion"),
            _ => body.get("model"),
        }
        .and_then(Value::as_str)
        .unwrap_or(&ask.model)
        .to_owned();
        let answer = super::stream::Streamed {
            vendor,
            model,
            text: &generated.text,
            input_tokens: generated.input_tokens,
            output_tokens: generated.output_tokens,
            cut: generated.cut,
            sequence,
        };
        return super::stream::respond(&answer, behaviour);
    }
    if behaviour.malformed_json {
        return (
            [(header::CONTENT_TYPE, "application/json")],
            malformed(&body),
        )
            .into_response();
    }
    axum::Json(body).into_response()
}

/// The injected failure, in the vendor's error shape.
fn injected(vendor: Vendor, failure: Failure) -> Response {
    let (message, retry_after) = match failure {
        Failure::Unavailable => ("the model is overloaded, try again later", None),
        Failure::RateLimited { retry_after_secs } => (
            "rate limit reached, retry after the given delay",
            Some(retry_after_secs),
        ),
        Failure::ServerError => ("an internal error occurred", None),
        Failure::BadRequest => ("the request is invalid", None),
    };
    let status = StatusCode::from_u16(failure.status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    error(vendor, status, message, retry_after)
}

/// The first half of `body`'s JSON: what a connection cut mid-answer leaves.
fn malformed(body: &Value) -> String {
    let whole = body.to_string();
    let half = whole.len() / 2;
    let end = (0..=half)
        .rev()
        .find(|&i| whole.is_char_boundary(i))
        .unwrap_or(0);
    whole[..end].to_owned()
}

fn parse(body: Result<Bytes, BytesRejection>) -> Result<Value, Refusal> {
    let body = body?;
    let value: Value = serde_json::from_slice(&body).map_err(|error| {
        Refusal::invalid(format!("the request body is not valid JSON: {error}"))
    })?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(Refusal::invalid("the request body must be a JSON object"))
    }
}

/// Text content as the vendors accept it: a string, or a list of parts
/// with `text` fields.
fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Array(parts) => {
            let texts: Vec<&str> = parts
                .iter()
                .filter_map(|part| part.get("text")?.as_str())
                .collect();
            (!texts.is_empty()).then(|| texts.concat())
        }
        _ => None,
    }
}

/// A sampling temperature within `0..=max`, if any.
fn temperature(value: &Value, pointer: &str, max: f64) -> Result<(), Refusal> {
    match value.pointer(pointer) {
        None | Some(Value::Null) => Ok(()),
        Some(t) => match t.as_f64() {
            Some(t) if (0.0..=max).contains(&t) => Ok(()),
            _ => Err(Refusal::invalid(format!(
                "{}: must be a number between 0 and {max}, got {t}",
                pointer.trim_start_matches('/').replace('/', ".")
            ))),
        },
    }
}

fn positive(value: &Value, name: &str) -> Result<Option<u64>, Refusal> {
    match value.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(n) => match n.as_u64() {
            Some(n) if n > 0 => Ok(Some(n)),
            _ => Err(Refusal::invalid(format!(
                "{name}: must be a positive integer, got {n}"
            ))),
        },
    }
}

fn has(headers: &HeaderMap, name: &str) -> bool {
    headers.get(name).is_some_and(|value| !value.is_empty())
}

/// A model name with the dated snapshot suffix the vendor answers with,
/// unless the request already named a snapshot.
fn snapshot(model: &str, date: &str) -> String {
    let dated = model
        .rsplit('-')
        .next()
        .is_some_and(|last| last.len() == 8 && last.bytes().all(|b| b.is_ascii_digit()))
        || model.ends_with(date);
    if dated {
        model.to_owned()
    } else {
        format!("{model}-{date}")
    }
}

/// `POST /v1beta/models/{model}:generateContent`.
pub(super) async fn gemini(
    State(shared): State<Arc<Shared>>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let ask = (|| {
        if !has(&headers, "x-goog-api-key") {
            return Err(Refusal::unauthorised(
                "Method doesn't allow unregistered callers (callers without established identity). \
                 Please use API Key or other form of API consumer identity to call this API.",
            ));
        }
        let Path(model_action) =
            path.map_err(|rejection| Refusal::invalid(rejection.body_text()))?;
        let (model, stream) = model_action
            .strip_suffix(":generateContent")
            .map(|model| (model, false))
            .or_else(|| {
                model_action
                    .strip_suffix(":streamGenerateContent")
                    .map(|model| (model, true))
            })
            .filter(|(model, _)| !model.is_empty())
            .ok_or_else(|| {
                Refusal::invalid(format!(
                    "unknown method {model_action}: only models/{{model}}:generateContent and :streamGenerateContent are served"
                ))
            })?;
        let value = parse(body)?;
        let prompt = value
            .pointer("/contents/0/parts")
            .and_then(text_of)
            .ok_or_else(|| Refusal::invalid("contents[0].parts must hold text"))?;
        let config = match value.get("generationConfig") {
            None | Some(Value::Null) => &Value::Null,
            Some(config) if config.is_object() => config,
            Some(_) => return Err(Refusal::invalid("generationConfig must be an object")),
        };
        temperature(&value, "/generationConfig/temperature", 2.0)?;
        Ok(Ask {
            prompt,
            model: model.to_owned(),
            max_tokens: positive(config, "maxOutputTokens")?,
            stream,
        })
    })();
    respond(&shared, Vendor::Gemini, ask, |ask, answer, sequence| {
        json!({
            "candidates": [{
                "content": {"role": "model", "parts": [{"text": answer.text}]},
                "finishReason": if answer.cut { "MAX_TOKENS" } else { "STOP" },
                "index": 0,
            }],
            "usageMetadata": {
                "promptTokenCount": answer.input_tokens,
                "candidatesTokenCount": answer.output_tokens,
                "totalTokenCount": answer.input_tokens + answer.output_tokens,
            },
            "modelVersion": ask.model,
            "responseId": format!("sim-gemini-{sequence:08}"),
        })
    })
    .await
}

/// `POST /v1/chat/completions`.
pub(super) async fn openai(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let ask = (|| {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|key| !key.trim().is_empty());
        if !bearer {
            return Err(Refusal::unauthorised(
                "You didn't provide an API key. You need to provide your API key in an \
                 Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            ));
        }
        let value = parse(body)?;
        let model = value
            .get("model")
            .and_then(Value::as_str)
            .filter(|model| !model.is_empty())
            .ok_or_else(|| Refusal::invalid("you must provide a model parameter"))?;
        let prompt = value
            .get("messages")
            .and_then(Value::as_array)
            .and_then(|messages| {
                messages
                    .iter()
                    .rev()
                    .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
            })
            .and_then(|message| message.get("content").and_then(text_of))
            .ok_or_else(|| Refusal::invalid("messages must hold a user message with content"))?;
        temperature(&value, "/temperature", 2.0)?;
        let max_tokens = match positive(&value, "max_completion_tokens")? {
            Some(max) => Some(max),
            None => positive(&value, "max_tokens")?,
        };
        Ok(Ask {
            prompt,
            model: model.to_owned(),
            max_tokens,
            stream: value.get("stream") == Some(&Value::Bool(true)),
        })
    })();
    respond(&shared, Vendor::OpenAi, ask, |ask, answer, sequence| {
        json!({
            "id": format!("chatcmpl-sim{sequence:08}"),
            "object": "chat.completion",
            "created": 1_764_000_000 + sequence,
            "model": snapshot(&ask.model, "2025-04-14"),
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": answer.text, "refusal": null},
                "logprobs": null,
                "finish_reason": if answer.cut { "length" } else { "stop" },
            }],
            "usage": {
                "prompt_tokens": answer.input_tokens,
                "completion_tokens": answer.output_tokens,
                "total_tokens": answer.input_tokens + answer.output_tokens,
                "prompt_tokens_details": {"cached_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0},
            },
            "system_fingerprint": "fp_agento_sim",
        })
    })
    .await
}

/// `POST /v1/messages`.
pub(super) async fn anthropic(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let ask = (|| {
        if !has(&headers, "x-api-key") {
            return Err(Refusal::unauthorised("x-api-key header is required"));
        }
        if !has(&headers, "anthropic-version") {
            return Err(Refusal::invalid("anthropic-version: header is required"));
        }
        let value = parse(body)?;
        let model = value
            .get("model")
            .and_then(Value::as_str)
            .filter(|model| !model.is_empty())
            .ok_or_else(|| Refusal::invalid("model: Field required"))?;
        let max_tokens = positive(&value, "max_tokens")?
            .ok_or_else(|| Refusal::invalid("max_tokens: Field required"))?;
        let prompt = value
            .get("messages")
            .and_then(Value::as_array)
            .and_then(|messages| {
                messages
                    .iter()
                    .rev()
                    .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
            })
            .and_then(|message| message.get("content").and_then(text_of))
            .ok_or_else(|| Refusal::invalid("messages: at least one user message is required"))?;
        temperature(&value, "/temperature", 1.0)?;
        Ok(Ask {
            prompt,
            model: model.to_owned(),
            max_tokens: Some(max_tokens),
            stream: value.get("stream") == Some(&Value::Bool(true)),
        })
    })();
    respond(&shared, Vendor::Anthropic, ask, |ask, answer, sequence| {
        json!({
            "id": format!("msg_sim{sequence:020}"),
            "type": "message",
            "role": "assistant",
            "model": snapshot(&ask.model, "20250929"),
            "content": [{"type": "text", "text": answer.text}],
            "stop_reason": if answer.cut { "max_tokens" } else { "end_turn" },
            "stop_sequence": null,
            "usage": {
                "input_tokens": answer.input_tokens,
                "output_tokens": answer.output_tokens,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
            },
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_are_added_once() {
        assert_eq!(snapshot("gpt-4.1", "2025-04-14"), "gpt-4.1-2025-04-14");
        assert_eq!(
            snapshot("gpt-4.1-2025-04-14", "2025-04-14"),
            "gpt-4.1-2025-04-14"
        );
        assert_eq!(
            snapshot("claude-sonnet-4-5", "20250929"),
            "claude-sonnet-4-5-20250929"
        );
        assert_eq!(
            snapshot("claude-sonnet-4-5-20250929", "20250929"),
            "claude-sonnet-4-5-20250929"
        );
    }

    #[test]
    fn a_malformed_body_is_cut_on_a_character_boundary() {
        let body = json!({"text": "ééééééééé"});
        let cut = malformed(&body);
        assert!(serde_json::from_str::<Value>(&cut).is_err());
        assert!(body.to_string().starts_with(&cut));
    }
}
