//! The offline vendor simulator: the Gemini, OpenAI and Anthropic HTTP APIs on
//! 127.0.0.1 with realistic JSON bodies (token usage, finish reasons, model
//! names, ids) and deterministic content derived from the request.
//!
//! `agento run --offline` starts one in-process on a free port; `agento
//! simulate --port N` serves one on its own. Each vendor can be made slow,
//! flaky, malformed or verbose ([`SimulatorConfig`]).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use agento_pipeline::simulator::{Simulator, SimulatorConfig};
//! let simulator = Simulator::start(SimulatorConfig::default(), 0).await?;
//! println!("vendors at {}", simulator.base_url());
//! simulator.shutdown().await;
//! # Ok(()) }
//! ```

mod config;
pub mod content;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{Failure, SimulatorConfig, VendorBehaviour};

use crate::vendors::Vendor;

/// Calls the simulator answered, per vendor.
#[derive(Debug, Default)]
struct Counters {
    calls: [AtomicU32; 3],
    failed: [AtomicU32; 3],
    sequence: AtomicU64,
}

fn index(vendor: Vendor) -> usize {
    match vendor {
        Vendor::Gemini => 0,
        Vendor::OpenAi => 1,
        Vendor::Anthropic => 2,
    }
}

#[derive(Debug)]
struct Shared {
    config: SimulatorConfig,
    counters: Counters,
}

/// How many calls each vendor answered, and how many of them were failures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimulatorStats {
    /// Calls per vendor (Gemini, OpenAI, Anthropic).
    pub calls: [u32; 3],
    /// Injected failures per vendor.
    pub failed: [u32; 3],
}

/// A running simulator.
#[derive(Debug)]
pub struct Simulator {
    address: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Simulator {
    /// Serves on `127.0.0.1:port` (`0`: a free port) until shut down.
    pub async fn start(config: SimulatorConfig, port: u16) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Shared {
            config,
            counters: Counters::default(),
        });
        let app = Router::new()
            .route("/v1beta/models/{model}", post(gemini))
            .route("/v1/chat/completions", post(openai))
            .route("/v1/messages", post(anthropic))
            .with_state(Arc::clone(&shared));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(error) = served {
                eprintln!("agento: the vendor simulator stopped: {error}");
            }
        });
        Ok(Self {
            address,
            shared,
            stop: Some(stop),
            task,
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Calls answered so far.
    pub fn stats(&self) -> SimulatorStats {
        let load =
            |counters: &[AtomicU32; 3]| counters.each_ref().map(|c| c.load(Ordering::Relaxed));
        SimulatorStats {
            calls: load(&self.shared.counters.calls),
            failed: load(&self.shared.counters.failed),
        }
    }

    /// Stops serving and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }

    /// Serves until the process is stopped (for `agento simulate`).
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

/// The parts of a request the simulator looks at.
struct Ask {
    prompt: String,
    model: String,
    max_tokens: Option<u64>,
}

/// Answers one call of `vendor`: authentication, injected behaviour, then
/// the reply built by `answer`.
async fn respond(
    shared: &Shared,
    vendor: Vendor,
    authorised: bool,
    ask: Result<Ask, String>,
    answer: fn(&Ask, String, u64) -> Value,
) -> Response {
    let behaviour = shared.config.vendor(vendor);
    let slot = index(vendor);
    let call = shared.counters.calls[slot].fetch_add(1, Ordering::Relaxed);
    if !behaviour.latency.is_zero() {
        tokio::time::sleep(behaviour.latency).await;
    }
    if !authorised {
        return error(
            vendor,
            StatusCode::UNAUTHORIZED,
            "missing or malformed API key header",
            None,
        );
    }
    let ask = match ask {
        Ok(ask) => ask,
        Err(message) => return error(vendor, StatusCode::BAD_REQUEST, &message, None),
    };
    if behaviour.fail_always || call < behaviour.fail_first {
        shared.counters.failed[slot].fetch_add(1, Ordering::Relaxed);
        let failure = behaviour.failure;
        let status =
            StatusCode::from_u16(failure.status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let retry_after = match failure {
            Failure::RateLimited { retry_after_secs } => Some(retry_after_secs),
            _ => None,
        };
        let message = match failure {
            Failure::Unavailable => "the model is overloaded, try again later",
            Failure::RateLimited { .. } => "rate limit reached, retry after the given delay",
            Failure::ServerError => "an internal error occurred",
            Failure::BadRequest => "the request is invalid",
        };
        return error(vendor, status, message, retry_after);
    }
    if behaviour.malformed_json {
        return (
            [(header::CONTENT_TYPE, "application/json")],
            "{\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"unterminated",
        )
            .into_response();
    }
    let mut text = if behaviour.broken_plan && content::marker(&ask.prompt) == Some("plan") {
        content::broken_plan()
    } else {
        content::reply(&ask.prompt)
    };
    if let Some(bytes) = behaviour.huge_reply_bytes {
        text = content::pad(text, bytes);
    }
    let sequence = shared.counters.sequence.fetch_add(1, Ordering::Relaxed);
    axum::Json(answer(&ask, text, sequence)).into_response()
}

/// An error in the vendor's own shape.
fn error(vendor: Vendor, status: StatusCode, message: &str, retry_after: Option<u64>) -> Response {
    let body = match vendor {
        Vendor::Gemini => json!({"error": {"code": status.as_u16(), "message": message,
            "status": status.canonical_reason().unwrap_or("ERROR").to_uppercase().replace(' ', "_")}}),
        Vendor::OpenAi => {
            json!({"error": {"message": message, "type": "simulated_error", "code": status.as_u16()}})
        }
        Vendor::Anthropic => {
            json!({"type": "error", "error": {"type": "simulated_error", "message": message}})
        }
    };
    let mut response = (status, axum::Json(body)).into_response();
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

fn parse(body: &Bytes) -> Result<Value, String> {
    serde_json::from_slice(body).map_err(|error| format!("the body is not JSON: {error}"))
}

fn text_at(value: &Value, pointer: &str) -> Option<String> {
    value.pointer(pointer)?.as_str().map(str::to_owned)
}

async fn gemini(
    State(shared): State<Arc<Shared>>,
    Path(model_action): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let authorised = headers.get("x-goog-api-key").is_some_and(|k| !k.is_empty());
    let ask = model_action
        .strip_suffix(":generateContent")
        .ok_or_else(|| format!("unknown method {model_action}: only :generateContent is simulated"))
        .and_then(|model| {
            let value = parse(&body)?;
            let prompt = text_at(&value, "/contents/0/parts/0/text")
                .ok_or("contents[0].parts[0].text is missing")?;
            Ok(Ask {
                prompt,
                model: model.to_owned(),
                max_tokens: value
                    .pointer("/generationConfig/maxOutputTokens")
                    .and_then(Value::as_u64),
            })
        });
    respond(
        &shared,
        Vendor::Gemini,
        authorised,
        ask,
        |ask, text, sequence| {
            let (input, output) = (content::tokens(&ask.prompt), content::tokens(&text));
            let finish = if ask.max_tokens.is_some_and(|max| output > max) {
                "MAX_TOKENS"
            } else {
                "STOP"
            };
            json!({
                "candidates": [{"content": {"role": "model", "parts": [{"text": text}]},
                                "finishReason": finish, "index": 0}],
                "usageMetadata": {"promptTokenCount": input, "candidatesTokenCount": output,
                                  "totalTokenCount": input + output},
                "modelVersion": format!("{}-001", ask.model),
                "responseId": format!("sim-gemini-{sequence}"),
            })
        },
    )
    .await
}

async fn openai(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let authorised = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer ") && v.len() > 7);
    let ask = parse(&body).and_then(|value| {
        let messages = value
            .get("messages")
            .and_then(Value::as_array)
            .ok_or("messages is missing")?;
        let prompt = messages
            .iter()
            .rev()
            .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
            .and_then(|m| m.get("content").and_then(Value::as_str))
            .ok_or("no user message")?
            .to_owned();
        Ok(Ask {
            prompt,
            model: text_at(&value, "/model").ok_or("model is missing")?,
            max_tokens: value.get("max_completion_tokens").and_then(Value::as_u64),
        })
    });
    respond(
        &shared,
        Vendor::OpenAi,
        authorised,
        ask,
        |ask, text, sequence| {
            let (input, output) = (content::tokens(&ask.prompt), content::tokens(&text));
            let finish = if ask.max_tokens.is_some_and(|max| output > max) {
                "length"
            } else {
                "stop"
            };
            json!({
                "id": format!("chatcmpl-sim{sequence}"),
                "object": "chat.completion",
                "created": 1_764_000_000 + sequence,
                "model": format!("{}-2025-04-14", ask.model),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                             "finish_reason": finish}],
                "usage": {"prompt_tokens": input, "completion_tokens": output,
                          "total_tokens": input + output,
                          "prompt_tokens_details": {"cached_tokens": 0},
                          "completion_tokens_details": {"reasoning_tokens": 0}},
            })
        },
    )
    .await
}

async fn anthropic(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let authorised = headers.get("x-api-key").is_some_and(|k| !k.is_empty())
        && headers.get("anthropic-version").is_some();
    let ask = parse(&body).and_then(|value| {
        let prompt =
            text_at(&value, "/messages/0/content").ok_or("messages[0].content is missing")?;
        let max_tokens = value
            .get("max_tokens")
            .and_then(Value::as_u64)
            .ok_or("max_tokens: Field required")?;
        Ok(Ask {
            prompt,
            model: text_at(&value, "/model").ok_or("model: Field required")?,
            max_tokens: Some(max_tokens),
        })
    });
    respond(
        &shared,
        Vendor::Anthropic,
        authorised,
        ask,
        |ask, text, sequence| {
            let (input, output) = (content::tokens(&ask.prompt), content::tokens(&text));
            let stop = if ask.max_tokens.is_some_and(|max| output > max) {
                "max_tokens"
            } else {
                "end_turn"
            };
            json!({
                "id": format!("msg_sim{sequence:016}"),
                "type": "message",
                "role": "assistant",
                "model": format!("{}-20250929", ask.model),
                "content": [{"type": "text", "text": text}],
                "stop_reason": stop,
                "stop_sequence": null,
                "usage": {"input_tokens": input, "output_tokens": output,
                          "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
            })
        },
    )
    .await
}
