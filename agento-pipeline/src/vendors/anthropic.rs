//! Anthropic Messages (`POST {base}/v1/messages`, `x-api-key`,
//! `anthropic-version`). A `refusal` stop is [`VendorError::Blocked`].

use reqwest::RequestBuilder;
use serde::{Deserialize, Serialize};

use super::client::{Api, Message, vendor_client};
use super::http::secret_header;
use super::{
    AnthropicUsage, ChatRequest, Reply, Usage, Vendor, VendorConfig, VendorError, blocked_if,
};

/// The API version sent in `anthropic-version`.
pub const API_VERSION: &str = "2023-06-01";
/// `max_tokens` is required by the API; used when the request sets none.
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

vendor_client!(
    /// An Anthropic client.
    AnthropicClient,
    Anthropic
);

/// Anthropic's Messages API.
struct Anthropic;

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

impl Api for Anthropic {
    const VENDOR: Vendor = Vendor::Anthropic;
    type Answer = Answer;

    fn url(config: &VendorConfig, _stream: bool) -> String {
        format!("{}/v1/messages", config.base_url)
    }

    fn authorize(http: RequestBuilder, key: &str) -> Result<RequestBuilder, VendorError> {
        Ok(http
            .header("x-api-key", secret_header(Vendor::Anthropic, key)?)
            .header("anthropic-version", API_VERSION))
    }

    /// `stream` asks for server-sent events (`stream: true`).
    fn body(
        config: &VendorConfig,
        request: &ChatRequest<'_>,
        stream: bool,
    ) -> serde_json::Result<serde_json::Value> {
        let mut body = serde_json::to_value(Body {
            model: &config.model,
            max_tokens: request.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
            system: request.system,
            messages: [Message {
                role: "user",
                content: request.prompt,
            }],
            temperature: request.temperature,
        })?;
        if stream {
            body["stream"] = true.into();
        }
        Ok(body)
    }

    fn reply(answer: Answer, model: &str) -> Result<Reply, VendorError> {
        let reply = Reply {
            vendor: Vendor::Anthropic,
            text: answer
                .content
                .iter()
                .filter(|block| block.kind == "text")
                .map(|block| block.text.as_str())
                .collect(),
            model: answer.model.unwrap_or_else(|| model.to_owned()),
            finish_reasons: answer.stop_reason.into_iter().collect(),
            id: answer.id,
            usage: Usage::Anthropic(answer.usage),
        };
        blocked_if(reply, None)
    }
}
