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

use super::config::{AnswerMode, Failure};
use super::errors::{error, request_id, unsupported_temperature};
use super::{Shared, content, wire};
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
    /// The request set `temperature`.
    temperature: bool,
    /// JSON mode (Gemini `responseMimeType: application/json`): the reply is
    /// pure JSON.
    json: bool,
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
    /// Blocked or safety-stopped.
    mode: AnswerMode,
}

impl Generated {
    /// Blocked or safety-stopped: no text, the vendor's blocking finish.
    fn blocked(&self) -> bool {
        self.mode != AnswerMode::Normal
    }
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
    if behaviour.reject_temperature && ask.temperature {
        counters.rejected.fetch_add(1, Ordering::Relaxed);
        return unsupported_temperature(vendor);
    }
    let generated = generate(shared, vendor, &ask);
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
        let blocked = generated.blocked();
        let answer = super::stream::Streamed {
            vendor,
            model,
            text: if blocked { "" } else { &generated.text },
            input_tokens: generated.input_tokens,
            output_tokens: generated.output_tokens,
            cut: generated.cut,
            blocked,
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
    let mut response = axum::Json(body).into_response();
    request_id(vendor, &mut response);
    response
}

/// The answer to `ask` under `vendor`'s behaviour: the reply to the prompt
/// (or a broken plan), JSON only in JSON mode, cut at the output limit (or
/// at half of it for the first answers of a cut-off behaviour), padded for a
/// huge-reply behaviour.
fn generate(shared: &Shared, vendor: Vendor, ask: &Ask) -> Generated {
    let behaviour = shared.config.vendor(vendor);
    let counters = shared.counters(vendor);
    let mut text =
        if behaviour.broken_plan && content::marker(&ask.prompt) == Some(agento::StepType::Plan) {
            content::broken_plan()
        } else {
            content::reply(&ask.prompt, &shared.verdicts)
        };
    if ask.json {
        text = content::json_only(&text);
    }
    let (mut text, mut output_tokens, mut cut) = content::limit(text, ask.max_tokens);
    if counters.answered.fetch_add(1, Ordering::Relaxed) < behaviour.cut_first {
        let half = content::tokens(&text) / 2;
        (text, output_tokens, cut) = content::limit(text, Some(half.max(1)));
    }
    if let Some(bytes) = behaviour.huge_reply_bytes {
        // A misbehaving server: padded past any token limit.
        text = content::pad(text, bytes);
        output_tokens = content::tokens(&text);
    }
    Generated {
        input_tokens: content::tokens(&ask.prompt),
        text,
        output_tokens,
        cut,
        mode: behaviour.mode,
    }
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
        Failure::Overloaded => ("Overloaded", None),
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

/// The text of the last `user` message of a Chat Completions or Messages
/// request.
fn last_user_text(value: &Value) -> Option<String> {
    value
        .get("messages")?
        .as_array()?
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))?
        .get("content")
        .and_then(text_of)
}

/// The non-empty `model` of a Chat Completions or Messages request.
fn model_of(value: &Value) -> Option<&str> {
    value
        .get("model")
        .and_then(Value::as_str)
        .filter(|model| !model.is_empty())
}

/// Whether a sampling temperature is set, refused outside `0..=max`.
fn temperature(value: &Value, pointer: &str, max: f64) -> Result<bool, Refusal> {
    match value.pointer(pointer) {
        None | Some(Value::Null) => Ok(false),
        Some(t) => match t.as_f64() {
            Some(t) if (0.0..=max).contains(&t) => Ok(true),
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

/// The key of an `Authorization: Bearer <key>` header, when there is one.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .filter(|key| !key.trim().is_empty())
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

/// A handler of an endpoint without path parameters: `$ask` reads the
/// request, `$answer` shapes the reply of `$vendor`.
macro_rules! endpoint {
    ($(#[$doc:meta])* $name:ident, $vendor:ident, $ask:ident, $answer:ident) => {
        $(#[$doc])*
        pub(super) async fn $name(
            State(shared): State<Arc<Shared>>,
            headers: HeaderMap,
            body: Result<Bytes, BytesRejection>,
        ) -> Response {
            respond(&shared, Vendor::$vendor, $ask(&headers, body), $answer).await
        }
    };
}

/// `POST /v1beta/models/{model}:generateContent` (and `/v1/…`, which
/// google-genai calls by default).
pub(super) async fn gemini(
    State(shared): State<Arc<Shared>>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    respond(
        &shared,
        Vendor::Gemini,
        gemini_ask(path, &headers, body),
        gemini_answer,
    )
    .await
}

/// The parts of a Gemini request the simulator reads, or why it is refused.
fn gemini_ask(
    path: Result<Path<String>, PathRejection>,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Ask, Refusal> {
    if !has(headers, "x-goog-api-key") {
        return Err(Refusal::unauthorised(
            "Method doesn't allow unregistered callers (callers without established identity). \
             Please use API Key or other form of API consumer identity to call this API.",
        ));
    }
    let Path(model_action) = path.map_err(|rejection| Refusal::invalid(rejection.body_text()))?;
    let (model, stream) = model_action
        .strip_suffix(":generateContent")
        .map(|model| (model, false))
        .or_else(|| {
            model_action
                .strip_suffix(":streamGenerateContent")
                .map(|model| (model, true))
        })
        .ok_or_else(|| Refusal {
            status: StatusCode::NOT_FOUND,
            message: format!(
                "unknown method {model_action}: only models/{{model}}:generateContent and :streamGenerateContent are served"
            ),
        })?;
    if model.is_empty() {
        return Err(Refusal::invalid("the model name is empty"));
    }
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
    let temperature = temperature(&value, "/generationConfig/temperature", 2.0)?;
    let json = config.get("responseMimeType").and_then(Value::as_str) == Some("application/json");
    Ok(Ask {
        prompt,
        model: model.to_owned(),
        max_tokens: positive(config, "maxOutputTokens")?,
        temperature,
        json,
        stream,
    })
}

/// The Gemini response body of `answer` to `ask`, number `sequence`.
fn gemini_answer(ask: &Ask, answer: &Generated, sequence: u64) -> Value {
    let mut usage = if answer.mode == AnswerMode::Normal {
        wire::usage(Vendor::Gemini, answer.input_tokens, answer.output_tokens)
    } else {
        json!({"promptTokenCount": answer.input_tokens, "totalTokenCount": answer.input_tokens})
    };
    usage["promptTokensDetails"] = json!([{"modality": "TEXT", "tokenCount": answer.input_tokens}]);
    let mut body = json!({
        "modelVersion": ask.model,
        "responseId": wire::response_id(Vendor::Gemini, sequence),
        "usageMetadata": usage,
    });
    match answer.mode {
        AnswerMode::Blocked => {
            body["promptFeedback"] = json!({"blockReason": "PROHIBITED_CONTENT"});
        }
        AnswerMode::Safety => {
            body["candidates"] = json!([{
                "finishReason": wire::finish_reason(Vendor::Gemini, true, answer.cut),
                "index": 0,
                "safetyRatings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": true}],
            }]);
        }
        AnswerMode::Normal => {
            body["candidates"] = json!([{
                "content": {"role": "model", "parts": [{"text": answer.text}]},
                "finishReason": wire::finish_reason(Vendor::Gemini, false, answer.cut),
                "index": 0,
            }]);
        }
    }
    body
}

endpoint!(
    /// `POST /v1/chat/completions`.
    openai,
    OpenAi,
    openai_ask,
    openai_answer
);

/// The parts of an OpenAI request the simulator reads, or why it is refused.
fn openai_ask(headers: &HeaderMap, body: Result<Bytes, BytesRejection>) -> Result<Ask, Refusal> {
    if bearer(headers).is_none() {
        return Err(Refusal::unauthorised(
            "You didn't provide an API key. You need to provide your API key in an \
             Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        ));
    }
    let value = parse(body)?;
    let model =
        model_of(&value).ok_or_else(|| Refusal::invalid("you must provide a model parameter"))?;
    let prompt = last_user_text(&value)
        .ok_or_else(|| Refusal::invalid("messages must hold a user message with content"))?;
    let temperature = temperature(&value, "/temperature", 2.0)?;
    let max_tokens = match positive(&value, "max_completion_tokens")? {
        Some(max) => Some(max),
        None => positive(&value, "max_tokens")?,
    };
    Ok(Ask {
        prompt,
        model: model.to_owned(),
        max_tokens,
        temperature,
        json: false,
        stream: value.get("stream") == Some(&Value::Bool(true)),
    })
}

/// The OpenAI response body of `answer` to `ask`, number `sequence`.
fn openai_answer(ask: &Ask, answer: &Generated, sequence: u64) -> Value {
    let blocked = answer.blocked();
    let finish = wire::finish_reason(Vendor::OpenAi, blocked, answer.cut);
    let content = (!blocked).then_some(answer.text.as_str());
    json!({
        "id": wire::response_id(Vendor::OpenAi, sequence),
        "object": "chat.completion",
        "created": 1_764_000_000 + sequence,
        "model": snapshot(&ask.model, "2025-04-14"),
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": null, "annotations": []},
            "logprobs": null,
            "finish_reason": finish,
        }],
        "usage": wire::usage(Vendor::OpenAi, answer.input_tokens, answer.output_tokens),
        "service_tier": "default",
        "system_fingerprint": "fp_agento_sim",
    })
}

endpoint!(
    /// `POST /v1/messages`.
    anthropic,
    Anthropic,
    anthropic_ask,
    anthropic_answer
);

/// The parts of an Anthropic request the simulator reads, or why it is refused.
fn anthropic_ask(headers: &HeaderMap, body: Result<Bytes, BytesRejection>) -> Result<Ask, Refusal> {
    if !has(headers, "x-api-key") && bearer(headers).is_none() {
        return Err(Refusal::unauthorised(
            "x-api-key or Authorization: Bearer header is required",
        ));
    }
    if !has(headers, "anthropic-version") {
        return Err(Refusal::invalid("anthropic-version: header is required"));
    }
    let value = parse(body)?;
    let model = model_of(&value).ok_or_else(|| Refusal::invalid("model: Field required"))?;
    let max_tokens = positive(&value, "max_tokens")?
        .ok_or_else(|| Refusal::invalid("max_tokens: Field required"))?;
    let prompt = last_user_text(&value)
        .ok_or_else(|| Refusal::invalid("messages: at least one user message is required"))?;
    let temperature = temperature(&value, "/temperature", 1.0)?;
    Ok(Ask {
        prompt,
        model: model.to_owned(),
        max_tokens: Some(max_tokens),
        temperature,
        json: false,
        stream: value.get("stream") == Some(&Value::Bool(true)),
    })
}

/// The Anthropic response body of `answer` to `ask`, number `sequence`.
fn anthropic_answer(ask: &Ask, answer: &Generated, sequence: u64) -> Value {
    let blocked = answer.blocked();
    let stop = wire::finish_reason(Vendor::Anthropic, blocked, answer.cut);
    let mut usage = wire::usage(Vendor::Anthropic, answer.input_tokens, answer.output_tokens);
    usage["service_tier"] = json!("standard");
    let content = if blocked {
        json!([])
    } else {
        json!([{"type": "text", "text": answer.text, "citations": null}])
    };
    json!({
        "id": wire::response_id(Vendor::Anthropic, sequence),
        "type": "message",
        "role": "assistant",
        "model": snapshot(&ask.model, "20250929"),
        "content": content,
        "stop_reason": stop,
        "stop_sequence": null,
        "usage": usage,
    })
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
