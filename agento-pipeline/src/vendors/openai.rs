//! OpenAI Chat Completions (`POST {base}/chat/completions`, Bearer key); also
//! any OpenAI-compatible server named by `OPENAI_BASE_URL`. A
//! `content_filter` finish is [`VendorError::Blocked`].

use reqwest::header::AUTHORIZATION;
use serde::{Deserialize, Serialize};

use super::http::{Exchange, Prepared, client, key, secret_header};
use super::{
    ChatRequest, OpenAiUsage, Reply, Usage, Vendor, VendorConfig, VendorError, blocked_if,
};

/// An OpenAI client.
#[derive(Debug, Clone)]
pub struct OpenAiClient {
    pub(super) config: VendorConfig,
    http: reqwest::Client,
}

#[derive(Serialize)]
struct Body<'a> {
    model: &'a str,
    messages: Vec<Message<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_completion_tokens: Option<u32>,
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
    choices: Vec<Choice>,
    #[serde(default)]
    usage: OpenAiUsage,
}

#[derive(Deserialize)]
struct Choice {
    message: AnswerMessage,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct AnswerMessage {
    content: Option<String>,
    refusal: Option<String>,
}

impl OpenAiClient {
    /// A client for `config`.
    pub fn new(config: VendorConfig) -> Result<Self, VendorError> {
        let http = client(Vendor::OpenAi, config.timeout)?;
        Ok(Self { config, http })
    }

    /// The model this client asks.
    pub fn model(&self) -> &str {
        &self.config.model
    }

    /// The HTTP request and JSON body of one chat completion; `stream` asks
    /// for server-sent events with the usage in the last chunk
    /// (`stream: true`, `stream_options.include_usage`).
    pub(super) fn prepare<'a>(
        &'a self,
        request: &ChatRequest<'_>,
        stream: bool,
    ) -> Result<Prepared<'a>, VendorError> {
        let key = key(Vendor::OpenAi, self.config.api_key.as_deref())?;
        let mut messages = Vec::with_capacity(2);
        if let Some(system) = request.system {
            messages.push(Message {
                role: "system",
                content: system,
            });
        }
        messages.push(Message {
            role: "user",
            content: request.prompt,
        });
        let body = Body {
            model: &self.config.model,
            messages,
            temperature: request.temperature,
            max_completion_tokens: request.max_tokens,
        };
        let mut body = serde_json::to_value(&body).map_err(|error| VendorError::Setup {
            vendor: Vendor::OpenAi,
            message: error.to_string(),
        })?;
        if stream {
            body["stream"] = true.into();
            body["stream_options"] = serde_json::json!({"include_usage": true});
        }
        let http = self
            .http
            .post(format!("{}/chat/completions", self.config.base_url))
            .header(
                AUTHORIZATION,
                secret_header(Vendor::OpenAi, &format!("Bearer {key}"))?,
            );
        Ok(Prepared {
            http,
            body,
            exchange: Exchange {
                vendor: Vendor::OpenAi,
                key,
                config: &self.config,
            },
        })
    }

    /// One chat completion.
    pub async fn chat(&self, request: &ChatRequest<'_>) -> Result<Reply, VendorError> {
        let answer: Answer = self.prepare(request, false)?.post().await?;
        let Some(first) = answer.choices.first() else {
            return Err(VendorError::Decode {
                vendor: Vendor::OpenAi,
                message: "the answer has no choices".to_owned(),
            });
        };
        let reply = Reply {
            vendor: Vendor::OpenAi,
            text: first.message.content.clone().unwrap_or_default(),
            model: answer.model.unwrap_or_else(|| self.config.model.clone()),
            finish_reasons: answer
                .choices
                .iter()
                .filter_map(|c| c.finish_reason.clone())
                .collect(),
            id: answer.id,
            usage: Usage::OpenAi(answer.usage),
        };
        blocked_if(reply, "content_filter", first.message.refusal.clone())
    }
}
