//! Streaming calls of the three vendors over server-sent events, parsed by
//! `eventsource-stream` from reqwest's byte stream:
//!
//! - OpenAI Chat Completions with `stream: true` and
//!   `stream_options.include_usage` (usage in the last chunk, then `[DONE]`);
//! - Anthropic Messages with `stream: true` (`message_start`,
//!   `content_block_delta`, `message_delta` with the usage, `message_stop`,
//!   `error`);
//! - Gemini `:streamGenerateContent?alt=sse` (one `GenerateContentResponse`
//!   per event, the usage on the last).
//!
//! Each yields [`Chunk`]s. An `error` event or a stream cut before its end is
//! a [`VendorError::Connect`] ("the stream broke off"); no event within the
//! client's timeout is a [`VendorError::Timeout`].
//!
//! ```no_run
//! # async fn demo(vendors: agento_pipeline::vendors::Vendors) -> Result<(), agento_pipeline::vendors::VendorError> {
//! use agento_pipeline::vendors::ChatRequest;
//! use futures_util::StreamExt;
//! let mut chunks = vendors.openai.chat_stream(&ChatRequest::new("Say hello")).await?;
//! while let Some(chunk) = chunks.next().await {
//!     print!("{}", chunk?.text);
//! }
//! # Ok(()) }
//! ```

use std::pin::Pin;

use agento::{LlmChunk, TokenUsage};
use eventsource_stream::{Event, Eventsource};
use futures_util::{Stream, StreamExt};
use serde::Deserialize;
use serde_json::Value;

use super::http::Prepared;
use super::{
    AnthropicUsage, GeminiUsage, OpenAiUsage, Reply, Usage, Vendor, VendorConfig, VendorError,
    blocked_if,
};

/// One chunk of a streamed reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// Which vendor sent it.
    pub vendor: Vendor,
    /// The text it adds.
    pub text: String,
    /// The usage so far, on the chunks that carry it.
    pub usage: Option<Usage>,
    /// Why generation stopped, on the chunk that says it.
    pub finish_reason: Option<String>,
    /// The model that answers, when the chunk names it.
    pub model: Option<String>,
    /// The response id, when the chunk names it.
    pub id: Option<String>,
}

impl LlmChunk for Chunk {
    fn text_delta(&self) -> &str {
        &self.text
    }
    fn usage(&self) -> Option<&dyn TokenUsage> {
        self.usage.as_ref().map(Usage::as_token_usage)
    }
    fn finish_reason(&self) -> Option<&str> {
        self.finish_reason.as_deref()
    }
    fn response_model(&self) -> Option<&str> {
        self.model.as_deref()
    }
    fn response_id(&self) -> Option<&str> {
        self.id.as_deref()
    }
}

/// A streamed reply: its chunks, or the error that cut it.
pub type ChunkStream = Pin<Box<dyn Stream<Item = Result<Chunk, VendorError>> + Send>>;

/// Collects a streamed reply into one [`Reply`], handing each text delta to
/// `on_text` as it arrives; a blocked answer is [`VendorError::Blocked`], as
/// for a whole reply. `model` is the model asked for (used when no
/// chunk names one).
pub async fn collect(
    vendor: Vendor,
    model: &str,
    mut chunks: impl Stream<Item = Result<Chunk, VendorError>> + Unpin,
    mut on_text: impl FnMut(&str),
) -> Result<Reply, VendorError> {
    let mut reply = Reply {
        vendor,
        text: String::new(),
        model: model.to_owned(),
        finish_reasons: Vec::new(),
        id: None,
        usage: match vendor {
            Vendor::Gemini => Usage::Gemini(GeminiUsage::default()),
            Vendor::OpenAi => Usage::OpenAi(OpenAiUsage::default()),
            Vendor::Anthropic => Usage::Anthropic(AnthropicUsage::default()),
        },
    };
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk?;
        on_text(&chunk.text);
        reply.text.push_str(&chunk.text);
        if let Some(usage) = chunk.usage {
            reply.usage = usage;
        }
        reply.finish_reasons.extend(chunk.finish_reason);
        if let Some(model) = chunk.model {
            reply.model = model;
        }
        if reply.id.is_none() {
            reply.id = chunk.id;
        }
    }
    blocked_if(reply, None)
}

/// Sends the prepared call and turns its event stream into chunks.
pub(super) async fn open(
    prepared: Prepared<'_>,
    parser: Parser,
) -> Result<ChunkStream, VendorError> {
    let response = prepared
        .exchange
        .send(prepared.http, &prepared.body)
        .await?;
    let state = State {
        events: Box::pin(response.bytes_stream().eventsource()),
        parser,
        vendor: prepared.exchange.vendor,
        key: prepared.exchange.key.to_owned(),
        config: prepared.exchange.config.clone(),
        done: false,
    };
    Ok(Box::pin(futures_util::stream::unfold(state, next)))
}

type Events = Pin<
    Box<
        dyn Stream<Item = Result<Event, eventsource_stream::EventStreamError<reqwest::Error>>>
            + Send,
    >,
>;

/// The event stream of one call and what its parser knows so far.
struct State {
    events: Events,
    parser: Parser,
    vendor: Vendor,
    key: String,
    config: VendorConfig,
    done: bool,
}

impl State {
    fn exchange(&self) -> super::http::Exchange<'_> {
        super::http::Exchange {
            vendor: self.vendor,
            key: &self.key,
            config: &self.config,
        }
    }

    fn broke_off(&self, message: &str) -> VendorError {
        VendorError::Connect {
            vendor: self.vendor,
            message: format!("the stream broke off: {}", self.exchange().clean(message)),
        }
    }
}

/// The next chunk (or error) of the stream.
async fn next(mut state: State) -> Option<(Result<Chunk, VendorError>, State)> {
    loop {
        if state.done {
            return None;
        }
        let timeout = state.config.timeout;
        let event = match tokio::time::timeout(timeout, state.events.next()).await {
            Err(_) => {
                state.done = true;
                let error = VendorError::Timeout {
                    vendor: state.vendor,
                    timeout,
                };
                return Some((Err(error), state));
            }
            Ok(None) => {
                state.done = true;
                if state.parser.complete() {
                    return None;
                }
                let error = state.broke_off("the connection closed before the end of the reply");
                return Some((Err(error), state));
            }
            Ok(Some(Err(eventsource_stream::EventStreamError::Transport(error)))) => {
                state.done = true;
                let error = match state.exchange().transport(&error) {
                    timeout @ VendorError::Timeout { .. } => timeout,
                    other => state.broke_off(&other.to_string()),
                };
                return Some((Err(error), state));
            }
            Ok(Some(Err(error))) => {
                state.done = true;
                let error = state.broke_off(&error.to_string());
                return Some((Err(error), state));
            }
            Ok(Some(Ok(event))) => event,
        };
        match state.parser.parse(&event) {
            Ok(Step::Chunk(chunk)) => return Some((Ok(chunk), state)),
            Ok(Step::Skip) => {}
            Ok(Step::End) => {
                state.done = true;
                return None;
            }
            Err(Failure::Vendor(message)) => {
                state.done = true;
                let message = super::http::vendor_message(&message)
                    .unwrap_or("the vendor sent an error event");
                let error = state.broke_off(message);
                return Some((Err(error), state));
            }
            Err(Failure::Decode(message)) => {
                state.done = true;
                let error = VendorError::Decode {
                    vendor: state.vendor,
                    message: state.exchange().clean(&message),
                };
                return Some((Err(error), state));
            }
        }
    }
}

/// What one event means.
enum Step {
    Chunk(Chunk),
    Skip,
    End,
}

/// An event that ends the stream in error.
enum Failure {
    /// The vendor's error event (its JSON).
    Vendor(Value),
    /// An event that is not what the API documents.
    Decode(String),
}

/// Each vendor's event grammar, with what it has seen so far.
pub(super) enum Parser {
    OpenAi {
        done: bool,
    },
    Anthropic {
        usage: AnthropicUsage,
        stopped: bool,
    },
    Gemini {
        finished: bool,
    },
}

#[derive(Deserialize)]
struct OpenAiChunk {
    id: Option<String>,
    model: Option<String>,
    #[serde(default)]
    choices: Vec<OpenAiChoice>,
    usage: Option<OpenAiUsage>,
}

#[derive(Deserialize)]
struct OpenAiChoice {
    #[serde(default)]
    delta: OpenAiDelta,
    finish_reason: Option<String>,
}

#[derive(Deserialize, Default)]
struct OpenAiDelta {
    content: Option<String>,
}

#[derive(Deserialize)]
struct GeminiChunk {
    #[serde(default)]
    candidates: Vec<GeminiCandidate>,
    #[serde(rename = "usageMetadata")]
    usage_metadata: Option<GeminiUsage>,
    #[serde(rename = "modelVersion")]
    model_version: Option<String>,
    #[serde(rename = "responseId")]
    response_id: Option<String>,
}

#[derive(Deserialize)]
struct GeminiCandidate {
    content: Option<GeminiContent>,
    #[serde(rename = "finishReason")]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct GeminiContent {
    #[serde(default)]
    parts: Vec<GeminiPart>,
}

#[derive(Deserialize)]
struct GeminiPart {
    #[serde(default)]
    text: String,
}

fn json<T: serde::de::DeserializeOwned>(data: &str) -> Result<T, Failure> {
    serde_json::from_str(data)
        .map_err(|error| Failure::Decode(format!("an event is not the documented JSON: {error}")))
}

/// A chunk event of OpenAI or Gemini: its JSON as `T`, or the error it
/// carries instead.
fn chunk_event<T: serde::de::DeserializeOwned>(data: &str) -> Result<T, Failure> {
    let value: Value = json(data)?;
    if value.get("error").is_some() {
        return Err(Failure::Vendor(value));
    }
    serde_json::from_value(value)
        .map_err(|error| Failure::Decode(format!("a chunk is not the documented JSON: {error}")))
}

impl Parser {
    pub(super) fn new(vendor: Vendor) -> Self {
        match vendor {
            Vendor::OpenAi => Self::OpenAi { done: false },
            Vendor::Anthropic => Self::Anthropic {
                usage: AnthropicUsage::default(),
                stopped: false,
            },
            Vendor::Gemini => Self::Gemini { finished: false },
        }
    }

    /// Whether the stream may end here.
    fn complete(&self) -> bool {
        match self {
            Self::OpenAi { done } => *done,
            Self::Anthropic { stopped, .. } => *stopped,
            Self::Gemini { finished } => *finished,
        }
    }

    fn parse(&mut self, event: &Event) -> Result<Step, Failure> {
        match self {
            Self::OpenAi { done } => openai_event(event, done),
            Self::Anthropic { usage, stopped } => anthropic_event(event, usage, stopped),
            Self::Gemini { finished } => gemini_event(event, finished),
        }
    }
}

/// One OpenAI event: a chunk, or `[DONE]` (the end).
fn openai_event(event: &Event, done: &mut bool) -> Result<Step, Failure> {
    if event.data.trim() == "[DONE]" {
        *done = true;
        return Ok(Step::End);
    }
    let chunk: OpenAiChunk = chunk_event(&event.data)?;
    let first = chunk.choices.first();
    Ok(Step::Chunk(Chunk {
        vendor: Vendor::OpenAi,
        text: first
            .and_then(|c| c.delta.content.clone())
            .unwrap_or_default(),
        usage: chunk.usage.map(Usage::OpenAi),
        finish_reason: first.and_then(|c| c.finish_reason.clone()),
        model: chunk.model,
        id: chunk.id,
    }))
}

/// One Anthropic event: the usage starts in `message_start` and grows in
/// `message_delta`; `message_stop` ends the stream.
fn anthropic_event(
    event: &Event,
    usage: &mut AnthropicUsage,
    stopped: &mut bool,
) -> Result<Step, Failure> {
    let value: Value = match event.event.as_str() {
        "ping" | "content_block_start" | "content_block_stop" => return Ok(Step::Skip),
        "message_stop" => {
            *stopped = true;
            return Ok(Step::End);
        }
        _ => json(&event.data)?,
    };
    let text = |pointer: &str| {
        value
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let count = |pointer: &str| value.pointer(pointer).and_then(Value::as_u64);
    match event.event.as_str() {
        "error" => Err(Failure::Vendor(value)),
        "message_start" => {
            if let Some(start) = value.pointer("/message/usage") {
                *usage = serde_json::from_value(start.clone()).unwrap_or_default();
            }
            Ok(Step::Chunk(Chunk {
                vendor: Vendor::Anthropic,
                text: String::new(),
                usage: Some(Usage::Anthropic(usage.clone())),
                finish_reason: None,
                model: text("/message/model"),
                id: text("/message/id"),
            }))
        }
        "content_block_delta" => Ok(Step::Chunk(Chunk {
            vendor: Vendor::Anthropic,
            text: text("/delta/text").unwrap_or_default(),
            usage: None,
            finish_reason: None,
            model: None,
            id: None,
        })),
        "message_delta" => {
            if let Some(output) = count("/usage/output_tokens") {
                usage.output_tokens = output;
            }
            if let Some(input) = count("/usage/input_tokens").filter(|n| *n > 0) {
                usage.input_tokens = input;
            }
            Ok(Step::Chunk(Chunk {
                vendor: Vendor::Anthropic,
                text: String::new(),
                usage: Some(Usage::Anthropic(usage.clone())),
                finish_reason: text("/delta/stop_reason"),
                model: None,
                id: None,
            }))
        }
        _ => Ok(Step::Skip),
    }
}

/// One Gemini event: a `GenerateContentResponse`; the one with a finish
/// reason is the last.
fn gemini_event(event: &Event, finished: &mut bool) -> Result<Step, Failure> {
    let chunk: GeminiChunk = chunk_event(&event.data)?;
    let first = chunk.candidates.first();
    let finish_reason = first.and_then(|c| c.finish_reason.clone());
    *finished |= finish_reason.is_some();
    Ok(Step::Chunk(Chunk {
        vendor: Vendor::Gemini,
        text: first
            .and_then(|c| c.content.as_ref())
            .map(|c| c.parts.iter().map(|p| p.text.as_str()).collect())
            .unwrap_or_default(),
        usage: chunk.usage_metadata.map(Usage::Gemini),
        finish_reason,
        model: chunk.model_version,
        id: chunk.response_id,
    }))
}
