//! Gemini `models.generateContent` (REST; key in the `x-goog-api-key` header).
//!
//! A blocked prompt (`promptFeedback.blockReason`) or an answer stopped for
//! safety, recitation or prohibited content is [`VendorError::Blocked`]
//! naming the reason, with the usage and response id Gemini did send.

use reqwest::RequestBuilder;
use serde::{Deserialize, Serialize};

use super::client::{Api, vendor_client};
use super::http::secret_header;
use super::{ChatRequest, GeminiUsage, Reply, Usage, Vendor, VendorConfig, VendorError};

vendor_client!(
    /// A Gemini client.
    GeminiClient,
    Gemini
);

/// Gemini's `generateContent` API.
struct Gemini;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Body<'a> {
    contents: [Content<'a>; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    system_instruction: Option<Instruction<'a>>,
    generation_config: GenerationConfig<'a>,
}

#[derive(Serialize)]
struct Content<'a> {
    role: &'static str,
    parts: [Part<'a>; 1],
}

#[derive(Serialize)]
struct Instruction<'a> {
    parts: [Part<'a>; 1],
}

#[derive(Serialize)]
struct Part<'a> {
    text: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GenerationConfig<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_output_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_mime_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_json_schema: Option<&'a serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    #[serde(default)]
    candidates: Vec<Candidate>,
    #[serde(default)]
    usage_metadata: GeminiUsage,
    model_version: Option<String>,
    response_id: Option<String>,
    prompt_feedback: Option<PromptFeedback>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromptFeedback {
    block_reason: Option<String>,
    block_reason_message: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    content: Option<AnswerContent>,
    finish_reason: Option<String>,
    finish_message: Option<String>,
}

/// Finish reasons that end an answer normally (or at the token limit).
pub(super) const NORMAL_FINISH: [&str; 3] = ["STOP", "MAX_TOKENS", "FINISH_REASON_UNSPECIFIED"];

#[derive(Deserialize)]
struct AnswerContent {
    #[serde(default)]
    parts: Vec<AnswerPart>,
}

#[derive(Deserialize)]
struct AnswerPart {
    #[serde(default)]
    text: String,
}

impl Api for Gemini {
    const VENDOR: Vendor = Vendor::Gemini;
    type Answer = Answer;

    /// `stream` calls `streamGenerateContent?alt=sse` instead.
    fn url(config: &VendorConfig, stream: bool) -> String {
        let method = if stream {
            "streamGenerateContent?alt=sse"
        } else {
            "generateContent"
        };
        format!(
            "{}/v1beta/models/{}:{method}",
            config.base_url, config.model
        )
    }

    fn authorize(http: RequestBuilder, key: &str) -> Result<RequestBuilder, VendorError> {
        Ok(http.header("x-goog-api-key", secret_header(Vendor::Gemini, key)?))
    }

    fn body(
        _config: &VendorConfig,
        request: &ChatRequest<'_>,
        _stream: bool,
    ) -> serde_json::Result<serde_json::Value> {
        serde_json::to_value(Body {
            contents: [Content {
                role: "user",
                parts: [Part {
                    text: request.prompt,
                }],
            }],
            system_instruction: request.system.map(|text| Instruction {
                parts: [Part { text }],
            }),
            generation_config: GenerationConfig {
                temperature: request.temperature,
                max_output_tokens: request.max_tokens,
                response_mime_type: request.json_schema.map(|_| "application/json"),
                response_json_schema: request.json_schema,
            },
        })
    }

    fn reply(answer: Answer, model: &str) -> Result<Reply, VendorError> {
        let first = answer.candidates.first();
        let text = first
            .and_then(|c| c.content.as_ref())
            .map(|content| content.parts.iter().map(|p| p.text.as_str()).collect())
            .unwrap_or_default();
        let blocked = match (&answer.prompt_feedback, first) {
            (
                Some(PromptFeedback {
                    block_reason: Some(reason),
                    block_reason_message,
                }),
                _,
            ) => Some((reason.clone(), true, block_reason_message.clone())),
            (
                _,
                Some(Candidate {
                    finish_reason: Some(reason),
                    finish_message,
                    ..
                }),
            ) if !NORMAL_FINISH.contains(&reason.as_str()) => {
                Some((reason.clone(), false, finish_message.clone()))
            }
            (_, None) => {
                return Err(VendorError::Decode {
                    vendor: Vendor::Gemini,
                    message: "the answer has no candidates and no block reason".to_owned(),
                });
            }
            _ => None,
        };
        let reply = Reply {
            vendor: Vendor::Gemini,
            text,
            model: answer.model_version.unwrap_or_else(|| model.to_owned()),
            finish_reasons: answer
                .candidates
                .iter()
                .filter_map(|c| c.finish_reason.clone())
                .collect(),
            id: answer.response_id,
            usage: Usage::Gemini(answer.usage_metadata),
        };
        match blocked {
            Some((reason, prompt, detail)) => Err(VendorError::Blocked {
                vendor: Vendor::Gemini,
                reason,
                prompt,
                detail,
                reply: Box::new(reply),
            }),
            None => Ok(reply),
        }
    }
}
