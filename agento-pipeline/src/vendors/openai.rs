//! OpenAI Chat Completions (`POST {base}/chat/completions`, Bearer key); also
//! any OpenAI-compatible server named by `OPENAI_BASE_URL`. A
//! `content_filter` finish is [`VendorError::Blocked`].

use reqwest::RequestBuilder;
use reqwest::header::AUTHORIZATION;
use serde::{Deserialize, Serialize};

use super::client::{Api, Message, vendor_client};
use super::http::secret_header;
use super::{
    ChatRequest, OpenAiUsage, Reply, Usage, Vendor, VendorConfig, VendorError, blocked_if,
};

vendor_client!(
    /// An OpenAI client.
    OpenAiClient,
    OpenAi
);

/// OpenAI's Chat Completions API.
struct OpenAi;

#[derive(Serialize)]
struct Body<'a> {
    model: &'a str,
    messages: Vec<Message<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_completion_tokens: Option<u32>,
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

impl Api for OpenAi {
    const VENDOR: Vendor = Vendor::OpenAi;
    type Answer = Answer;

    fn url(config: &VendorConfig, _stream: bool) -> String {
        format!("{}/chat/completions", config.base_url)
    }

    fn authorize(http: RequestBuilder, key: &str) -> Result<RequestBuilder, VendorError> {
        Ok(http.header(
            AUTHORIZATION,
            secret_header(Vendor::OpenAi, &format!("Bearer {key}"))?,
        ))
    }

    /// `stream` asks for server-sent events with the usage in the last chunk
    /// (`stream: true`, `stream_options.include_usage`).
    fn body(
        config: &VendorConfig,
        request: &ChatRequest<'_>,
        stream: bool,
    ) -> serde_json::Result<serde_json::Value> {
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
        let mut body = serde_json::to_value(Body {
            model: &config.model,
            messages,
            temperature: request.temperature,
            max_completion_tokens: request.max_tokens,
        })?;
        if stream {
            body["stream"] = true.into();
            body["stream_options"] = serde_json::json!({"include_usage": true});
        }
        Ok(body)
    }

    fn reply(answer: Answer, model: &str) -> Result<Reply, VendorError> {
        let Some(first) = answer.choices.first() else {
            return Err(VendorError::Decode {
                vendor: Vendor::OpenAi,
                message: "the answer has no choices".to_owned(),
            });
        };
        let reply = Reply {
            vendor: Vendor::OpenAi,
            text: first.message.content.clone().unwrap_or_default(),
            model: answer.model.unwrap_or_else(|| model.to_owned()),
            finish_reasons: answer
                .choices
                .iter()
                .filter_map(|c| c.finish_reason.clone())
                .collect(),
            id: answer.id,
            usage: Usage::OpenAi(answer.usage),
        };
        blocked_if(reply, first.message.refusal.clone())
    }
}
