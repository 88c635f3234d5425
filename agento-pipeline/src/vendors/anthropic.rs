//! Anthropic Messages (`POST {base}/v1/messages`, `x-api-key`,
//! `anthropic-version`). A `refusal` stop is [`VendorError::Blocked`].

use serde::{Deserialize, Serialize};

use super::http::{Exchange, Prepared, client, key, secret_header};
use super::{
    AnthropicUsage, ChatRequest, Reply, Usage, Vendor, VendorConfig, VendorError, blocked_if,
};

/// The API version sent in `anthropic-version`.
pub const API_VERSION: &str = "2023-06-01";
/// `max_tokens` is required by the API; used when the request sets none.
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// An Anthropic client.
#[derive(Debug, Clone)]
pub struct AnthropicClient {
    pub(super) config: VendorConfig,
    http: reqwest::Client,
}

#[derive(Serialize)]
struct Body<'a> {
    model: &'a str,
    max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<&'a str>,
    messages: [Message<'a>; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
}

#[derive(Serialize)]
struct Message<'a> {
    role: &'static str,
    content: &'a str,
}

#[derive(Deserialize)]
struct Answer {
    id: Option<String>,
    model: Option<String>,
    #[serde(default)]
    content: Vec<Block>,
    stop_reason: Option<String>,
    #[serde(default)]
    usage: AnthropicUsage,
}

#[derive(Deserialize)]
struct Block {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: String,
}

impl AnthropicClient {
    /// A client for `config`.
    pub fn new(config: VendorConfig) -> Result<Self, VendorError> {
        let http = client(Vendor::Anthropic, config.timeout)?;
        Ok(Self { config, http })
    }

    /// The model this client asks.
    pub fn model(&self) -> &str {
        &self.config.model
    }

    /// The HTTP request and JSON body of one message; `stream` asks for
    /// server-sent events (`stream: true`).
    pub(super) fn prepare<'a>(
        &'a self,
        request: &ChatRequest<'_>,
        stream: bool,
    ) -> Result<Prepared<'a>, VendorError> {
        let key = key(Vendor::Anthropic, self.config.api_key.as_deref())?;
        let body = Body {
            model: &self.config.model,
            max_tokens: request.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
            system: request.system,
            messages: [Message {
                role: "user",
                content: request.prompt,
            }],
            temperature: request.temperature,
        };
        let mut body = serde_json::to_value(&body).map_err(|error| VendorError::Setup {
            vendor: Vendor::Anthropic,
            message: error.to_string(),
        })?;
        if stream {
            body["stream"] = true.into();
        }
        let http = self
            .http
            .post(format!("{}/v1/messages", self.config.base_url))
            .header("x-api-key", secret_header(Vendor::Anthropic, key)?)
            .header("anthropic-version", API_VERSION);
        Ok(Prepared {
            http,
            body,
            exchange: Exchange {
                vendor: Vendor::Anthropic,
                key,
                config: &self.config,
            },
        })
    }

    /// One Messages call.
    pub async fn chat(&self, request: &ChatRequest<'_>) -> Result<Reply, VendorError> {
        let answer: Answer = self.prepare(request, false)?.post().await?;
        let reply = Reply {
            vendor: Vendor::Anthropic,
            text: answer
                .content
                .iter()
                .filter(|block| block.kind == "text")
                .map(|block| block.text.as_str())
                .collect(),
            model: answer.model.unwrap_or_else(|| self.config.model.clone()),
            finish_reasons: answer.stop_reason.into_iter().collect(),
            id: answer.id,
            usage: Usage::Anthropic(answer.usage),
        };
        blocked_if(reply, "refusal", None)
    }
}
