//! Clients of the three vendors' HTTP APIs (Gemini `generateContent`, OpenAI
//! Chat Completions, Anthropic Messages), one shared [`Reply`] type and one
//! typed [`VendorError`].
//!
//! The clients are not instrumented themselves: the stages put
//! `#[retry_spans]`/`#[llm_span]` on their own thin call functions, so that the
//! span names say what a call is for.
//!
//! ```no_run
//! # async fn demo() -> Result<(), agento_pipeline::vendors::VendorError> {
//! use agento_pipeline::vendors::{ChatRequest, Vendors, VendorsConfig};
//! let vendors = Vendors::new(VendorsConfig::offline("http://127.0.0.1:8080").expect("settings"))?;
//! let reply = vendors.gemini.chat(&ChatRequest::new("Say hello")).await?;
//! println!("{}", reply.text);
//! # Ok(()) }
//! ```

mod anthropic;
mod client;
mod config;
mod error;
mod gemini;
mod http;
mod openai;
mod params;
pub mod stream;
mod usage;

use agento::{LlmResponse, TokenUsage};

pub use anthropic::AnthropicClient;
pub use config::{ConfigError, VendorConfig, VendorsConfig};
pub use error::VendorError;
pub use gemini::GeminiClient;
pub use openai::OpenAiClient;
use params::resolve;
pub use params::{CallParams, TemperatureSetting, Wanted};
pub use stream::{Chunk, ChunkStream};
pub use usage::{
    AnthropicUsage, GeminiUsage, OpenAiCompletionDetails, OpenAiPromptDetails, OpenAiUsage, Usage,
};

/// One of the three vendors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Vendor {
    /// Google Gemini.
    Gemini,
    /// OpenAI.
    OpenAi,
    /// Anthropic.
    Anthropic,
}

impl Vendor {
    /// The `gen_ai.system` value.
    ///
    /// ```
    /// assert_eq!(agento_pipeline::vendors::Vendor::OpenAi.as_str(), "openai");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Gemini => "gemini",
            Self::OpenAi => "openai",
            Self::Anthropic => "anthropic",
        }
    }

    /// All three, in pipeline order of first use.
    pub const ALL: [Self; 3] = [Self::Gemini, Self::OpenAi, Self::Anthropic];
}

impl std::fmt::Display for Vendor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Gemini => "Gemini",
            Self::OpenAi => "OpenAI",
            Self::Anthropic => "Anthropic",
        })
    }
}

/// What one call asks for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChatRequest<'a> {
    /// The system instruction, if any.
    pub system: Option<&'a str>,
    /// The user prompt.
    pub prompt: &'a str,
    /// Sampling temperature.
    pub temperature: Option<f64>,
    /// Output token limit.
    pub max_tokens: Option<u32>,
    /// Ask for JSON matching this JSON Schema (Gemini's
    /// `responseMimeType`/`responseJsonSchema`; the other clients ignore it).
    pub json_schema: Option<&'a serde_json::Value>,
}

impl<'a> ChatRequest<'a> {
    /// A request with only a prompt.
    ///
    /// ```
    /// let r = agento_pipeline::vendors::ChatRequest::new("hi");
    /// assert_eq!(r.prompt, "hi");
    /// ```
    pub const fn new(prompt: &'a str) -> Self {
        Self {
            system: None,
            prompt,
            temperature: None,
            max_tokens: None,
            json_schema: None,
        }
    }

    /// A request with `system`, `prompt` and the resolved `params`.
    ///
    /// ```
    /// use agento_pipeline::vendors::{CallParams, ChatRequest};
    /// let params = CallParams { temperature: Some(0.2), max_tokens: None };
    /// assert_eq!(ChatRequest::with(Some("be brief"), "hi", params).temperature, Some(0.2));
    /// ```
    pub const fn with(system: Option<&'a str>, prompt: &'a str, params: CallParams) -> Self {
        Self {
            system,
            prompt,
            temperature: params.temperature,
            max_tokens: params.max_tokens,
            json_schema: None,
        }
    }
}

/// Finish reasons meaning the answer was cut off at the output limit.
const CUT_OFF_REASONS: [&str; 3] = ["length", "max_tokens", "MAX_TOKENS"];

/// One vendor answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Which vendor answered.
    pub vendor: Vendor,
    /// The generated text.
    pub text: String,
    /// The model that answered.
    pub model: String,
    /// Why generation stopped, as the vendor says it.
    pub finish_reasons: Vec<String>,
    /// The vendor's response id.
    pub id: Option<String>,
    /// Token usage.
    pub usage: Usage,
}

impl Reply {
    /// Whether the answer was cut off at the output limit (OpenAI `length`,
    /// Anthropic `max_tokens`, Gemini `MAX_TOKENS`).
    pub fn is_cut_off(&self) -> bool {
        self.finish_reasons
            .iter()
            .any(|reason| CUT_OFF_REASONS.contains(&reason.as_str()))
    }
}

/// `reply`, or [`VendorError::Blocked`] when a finish reason says its vendor
/// blocked the answer (Gemini: any but a normal finish, OpenAI:
/// `content_filter`, Anthropic: `refusal`); whole and streamed replies alike.
fn blocked_if(reply: Reply, detail: Option<String>) -> Result<Reply, VendorError> {
    let blocked = reply
        .finish_reasons
        .iter()
        .find(|reason| match reply.vendor {
            Vendor::Gemini => !gemini::NORMAL_FINISH.contains(&reason.as_str()),
            Vendor::OpenAi => *reason == "content_filter",
            Vendor::Anthropic => *reason == "refusal",
        });
    match blocked {
        Some(reason) => Err(VendorError::Blocked {
            vendor: reply.vendor,
            reason: reason.clone(),
            prompt: false,
            detail,
            reply: Box::new(reply),
        }),
        None => Ok(reply),
    }
}

impl LlmResponse for Reply {
    fn text(&self) -> &str {
        &self.text
    }
    fn usage(&self) -> Option<&dyn TokenUsage> {
        Some(self.usage.as_token_usage())
    }
    fn response_model(&self) -> Option<&str> {
        Some(&self.model)
    }
    fn finish_reasons(&self) -> &[String] {
        &self.finish_reasons
    }
    fn response_id(&self) -> Option<&str> {
        self.id.as_deref()
    }
}

/// `$use` with `$client` bound to the client of `$vendor` in `$vendors`
/// (the clients are different types, so the choice is a `match`).
macro_rules! on_client {
    ($vendors:expr, $vendor:expr, $client:ident => $use:expr) => {
        match $vendor {
            Vendor::Gemini => {
                let $client = &$vendors.gemini;
                $use
            }
            Vendor::OpenAi => {
                let $client = &$vendors.openai;
                $use
            }
            Vendor::Anthropic => {
                let $client = &$vendors.anthropic;
                $use
            }
        }
    };
}

/// The three clients.
#[derive(Debug, Clone)]
pub struct Vendors {
    /// Gemini.
    pub gemini: GeminiClient,
    /// OpenAI.
    pub openai: OpenAiClient,
    /// Anthropic.
    pub anthropic: AnthropicClient,
}

impl Vendors {
    /// The parameters a call that wants `wanted` sends to `vendor`'s
    /// configured model: the model's temperature rule (OpenAI's reasoning
    /// models and Anthropic's take none) and `<VENDOR>_TEMPERATURE`
    /// ([`TemperatureSetting`]) applied.
    pub fn params(&self, vendor: Vendor, wanted: Wanted) -> CallParams {
        let config = &self.connection(vendor).config;
        resolve(vendor, &config.model, config.temperature, wanted)
    }

    /// The model `vendor`'s client asks.
    pub fn model(&self, vendor: Vendor) -> &str {
        &self.connection(vendor).config.model
    }

    /// One whole call of `vendor`.
    pub async fn chat(
        &self,
        vendor: Vendor,
        request: &ChatRequest<'_>,
    ) -> Result<Reply, VendorError> {
        on_client!(self, vendor, client => client.chat(request).await)
    }

    /// One streamed call of `vendor`.
    pub async fn chat_stream(
        &self,
        vendor: Vendor,
        request: &ChatRequest<'_>,
    ) -> Result<ChunkStream, VendorError> {
        on_client!(self, vendor, client => client.chat_stream(request).await)
    }

    fn connection(&self, vendor: Vendor) -> &client::Connection {
        on_client!(self, vendor, client => &client.connection)
    }

    /// Builds the three clients.
    pub fn new(config: VendorsConfig) -> Result<Self, VendorError> {
        Ok(Self {
            gemini: GeminiClient::new(config.gemini)?,
            openai: OpenAiClient::new(config.openai)?,
            anthropic: AnthropicClient::new(config.anthropic)?,
        })
    }
}
