//! Gemini `models.generateContent` (REST; key in the `x-goog-api-key` header).

use agento::runtime::usage::GeminiUsage;
use serde::{Deserialize, Serialize};

use super::http::{Exchange, Prepared, client, key, secret_header};
use super::{ChatRequest, Reply, Usage, Vendor, VendorConfig, VendorError};

/// A Gemini client.
#[derive(Debug, Clone)]
pub struct GeminiClient {
    config: VendorConfig,
    http: reqwest::Client,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Body<'a> {
    contents: [Content<'a>; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    system_instruction: Option<Instruction<'a>>,
    generation_config: GenerationConfig,
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
struct GenerationConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_output_tokens: Option<u32>,
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
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    content: Option<AnswerContent>,
    finish_reason: Option<String>,
}

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

fn error_message(body: &serde_json::Value) -> Option<String> {
    body.pointer("/error/message")?.as_str().map(str::to_owned)
}

impl GeminiClient {
    /// A client for `config`.
    pub fn new(config: VendorConfig) -> Result<Self, VendorError> {
        let http = client(Vendor::Gemini, config.timeout)?;
        Ok(Self { config, http })
    }

    /// The model this client asks.
    pub fn model(&self) -> &str {
        &self.config.model
    }

    /// The HTTP request and JSON body of one `generateContent` call; `stream`
    /// calls `streamGenerateContent?alt=sse` instead.
    pub(super) fn prepare<'a>(
        &'a self,
        request: &ChatRequest<'_>,
        stream: bool,
    ) -> Result<Prepared<'a>, VendorError> {
        let key = key(Vendor::Gemini, self.config.api_key.as_deref())?;
        let method = if stream {
            "streamGenerateContent?alt=sse"
        } else {
            "generateContent"
        };
        let url = format!(
            "{}/v1beta/models/{}:{method}",
            self.config.base_url, self.config.model
        );
        let body = Body {
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
            },
        };
        let body = serde_json::to_value(&body).map_err(|error| VendorError::Setup {
            vendor: Vendor::Gemini,
            message: error.to_string(),
        })?;
        let http = self
            .http
            .post(url)
            .header("x-goog-api-key", secret_header(Vendor::Gemini, key)?);
        Ok(Prepared {
            http,
            body,
            exchange: Exchange {
                vendor: Vendor::Gemini,
                key,
                timeout: self.config.timeout,
                error_message,
            },
        })
    }

    /// One `generateContent` call.
    pub async fn chat(&self, request: &ChatRequest<'_>) -> Result<Reply, VendorError> {
        let prepared = self.prepare(request, false)?;
        let answer: Answer = prepared
            .exchange
            .post(prepared.http, &prepared.body)
            .await?;
        let Some(first) = answer.candidates.first() else {
            return Err(VendorError::Decode {
                vendor: Vendor::Gemini,
                message: "the answer has no candidates".to_owned(),
            });
        };
        let text = first
            .content
            .as_ref()
            .map(|content| content.parts.iter().map(|p| p.text.as_str()).collect())
            .unwrap_or_default();
        Ok(Reply {
            vendor: Vendor::Gemini,
            text,
            model: answer
                .model_version
                .unwrap_or_else(|| self.config.model.clone()),
            finish_reasons: answer
                .candidates
                .iter()
                .filter_map(|c| c.finish_reason.clone())
                .collect(),
            id: answer.response_id,
            usage: Usage::Gemini(answer.usage_metadata),
        })
    }
}
