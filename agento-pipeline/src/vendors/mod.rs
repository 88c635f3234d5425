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
mod config;
mod error;
mod gemini;
mod http;
mod openai;
pub mod stream;

use agento::runtime::usage::{AnthropicUsage, GeminiUsage, OpenAiUsage};
use agento::{LlmResponse, TokenUsage};

pub use anthropic::AnthropicClient;
pub use config::{ConfigError, VendorConfig, VendorsConfig};
pub use error::VendorError;
pub use gemini::GeminiClient;
pub use openai::OpenAiClient;
pub use stream::{Chunk, ChunkStream};

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
        }
    }
}

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
    /// Builds the three clients.
    pub fn new(config: VendorsConfig) -> Result<Self, VendorError> {
        Ok(Self {
            gemini: GeminiClient::new(config.gemini)?,
            openai: OpenAiClient::new(config.openai)?,
            anthropic: AnthropicClient::new(config.anthropic)?,
        })
    }
}
