//! Which attribute conventions a process records, and the names of the two
//! conventions besides the memo's own (see [`crate::attributes`]).
//!
//! - `memo`: the names Lake Merritt's packs read (`gen_ai.system`,
//!   `gen_ai.prompt`, `gen_ai.response.content`, `user_goal`,
//!   `agent.final_response`, the truncation markers …).
//! - `openinference`: the OpenInference semantic conventions that Arize
//!   Phoenix reads (`input.value`, `llm.input_messages.N.message.*`, …), as
//!   written in `spec/semantic_conventions.md` of Arize-ai/openinference and its
//!   Python package `openinference-semantic-conventions` 0.1.42.
//! - `genai`: the OpenTelemetry GenAI registry of semantic conventions
//!   v1.41.0 (`model/gen-ai/registry.yaml`, the last release before the GenAI
//!   conventions moved to their own repository).
//!
//! `AGENTO_SEMCONV` lists the conventions (comma separated, default all three);
//! `OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental` adds `genai`;
//! `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=false` leaves every text
//! (prompts, replies, goals, plans, inputs and outputs) out of all of them.

use std::sync::OnceLock;

/// The variable that opts in to the latest GenAI attribute names (adds the
/// `genai` convention).
pub const SEMCONV_OPT_IN_VAR: &str = "OTEL_SEMCONV_STABILITY_OPT_IN";

/// The variable listing the conventions to record.
pub const SEMCONV_VAR: &str = "AGENTO_SEMCONV";
/// The variable of the OpenTelemetry GenAI instrumentations that turns content
/// capture off (`false`).
pub const CAPTURE_CONTENT_VAR: &str = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT";

/// The conventions one process records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Semconv {
    /// The memo's names.
    pub memo: bool,
    /// OpenInference (Phoenix, Arize).
    pub openinference: bool,
    /// The OpenTelemetry GenAI registry.
    pub genai: bool,
    /// Whether texts (prompts, replies, goals, plans) are recorded at all.
    pub content: bool,
}

impl Default for Semconv {
    fn default() -> Self {
        Self {
            memo: true,
            openinference: true,
            genai: true,
            content: true,
        }
    }
}

impl Semconv {
    /// Reads `AGENTO_SEMCONV`, `OTEL_SEMCONV_STABILITY_OPT_IN` and
    /// `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` (values as given).
    /// An unknown convention name is an error that lists the known ones.
    pub fn parse(
        semconv: Option<&str>,
        opt_in: Option<&str>,
        capture: Option<&str>,
    ) -> Result<Self, String> {
        let mut chosen = Self::default();
        if let Some(list) = semconv.filter(|list| !list.trim().is_empty()) {
            chosen.memo = false;
            chosen.openinference = false;
            chosen.genai = false;
            for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
                match item.to_ascii_lowercase().as_str() {
                    "memo" => chosen.memo = true,
                    "openinference" => chosen.openinference = true,
                    "genai" => chosen.genai = true,
                    _ => {
                        return Err(format!(
                            "{SEMCONV_VAR}: unknown convention {item:?}; expected a comma list of memo, openinference, genai"
                        ));
                    }
                }
            }
        }
        if opt_in.is_some_and(|value| {
            value
                .split(',')
                .any(|item| item.trim() == "gen_ai_latest_experimental")
        }) {
            chosen.genai = true;
        }
        if let Some(capture) = capture {
            match capture.trim().to_ascii_lowercase().as_str() {
                "false" | "0" | "no" | "off" => chosen.content = false,
                "" | "true" | "1" | "yes" | "on" => {}
                other => {
                    return Err(format!(
                        "{CAPTURE_CONTENT_VAR}: {other:?} is neither true nor false"
                    ));
                }
            }
        }
        Ok(chosen)
    }

    /// The process's choice, read from the environment once. A bad value is
    /// reported on stderr once and the default (all conventions, content on)
    /// is used for that variable's part.
    pub fn current() -> Self {
        static CURRENT: OnceLock<Semconv> = OnceLock::new();
        *CURRENT.get_or_init(|| {
            let var = |name: &str| std::env::var(name).ok();
            let opt_in = var(SEMCONV_OPT_IN_VAR);
            let capture = var(CAPTURE_CONTENT_VAR);
            Self::parse(
                var(SEMCONV_VAR).as_deref(),
                opt_in.as_deref(),
                capture.as_deref(),
            )
            .unwrap_or_else(|error| {
                crate::stderr::warn(&format!("{error}; using the default"));
                let content = Self::parse(None, None, capture.as_deref())
                    .map_or(true, |semconv| semconv.content);
                Self {
                    content,
                    ..Self::default()
                }
            })
        })
    }

    /// Whether `input.value` / `output.value` are recorded (OpenInference with content).
    pub fn io(self) -> bool {
        self.openinference && self.content
    }
}

/// OpenInference attribute names (Arize-ai/openinference, `spec/semantic_conventions.md`;
/// `openinference.semconv.trace.SpanAttributes` and `MessageAttributes`).
pub mod openinference {
    /// The input of a span, as text or JSON.
    pub const INPUT_VALUE: &str = "input.value";
    /// `text/plain` or `application/json`.
    pub const INPUT_MIME_TYPE: &str = "input.mime_type";
    /// The output of a span, as text or JSON.
    pub const OUTPUT_VALUE: &str = "output.value";
    /// `text/plain` or `application/json`.
    pub const OUTPUT_MIME_TYPE: &str = "output.mime_type";
    /// The model name (the response model when known).
    pub const LLM_MODEL_NAME: &str = "llm.model_name";
    /// The hosting provider (`google`, `openai`, `anthropic`).
    pub const LLM_PROVIDER: &str = "llm.provider";
    /// The AI product (`openai`, `anthropic`).
    pub const LLM_SYSTEM: &str = "llm.system";
    /// The request parameters as a JSON object.
    pub const LLM_INVOCATION_PARAMETERS: &str = "llm.invocation_parameters";
    /// Prompt tokens.
    pub const LLM_TOKEN_COUNT_PROMPT: &str = "llm.token_count.prompt";
    /// Completion tokens.
    pub const LLM_TOKEN_COUNT_COMPLETION: &str = "llm.token_count.completion";
    /// Prompt + completion tokens.
    pub const LLM_TOKEN_COUNT_TOTAL: &str = "llm.token_count.total";
    /// Prompt tokens read from the cache.
    pub const LLM_TOKEN_COUNT_PROMPT_DETAILS_CACHE_READ: &str =
        "llm.token_count.prompt_details.cache_read";
    /// Prompt tokens written to the cache.
    pub const LLM_TOKEN_COUNT_PROMPT_DETAILS_CACHE_WRITE: &str =
        "llm.token_count.prompt_details.cache_write";
    /// Reasoning tokens of the completion.
    pub const LLM_TOKEN_COUNT_COMPLETION_DETAILS_REASONING: &str =
        "llm.token_count.completion_details.reasoning";
    /// `OpenInferenceMimeTypeValues.TEXT`.
    pub const MIME_TEXT: &str = "text/plain";
    /// `OpenInferenceMimeTypeValues.JSON`.
    pub const MIME_JSON: &str = "application/json";

    /// `llm.provider` for a `#[llm_span(system = ...)]` vendor
    /// (`OpenInferenceLLMProviderValues`; Gemini is `google`, as the official
    /// google-genai instrumentation records it).
    pub fn provider(system: &str) -> &str {
        match system {
            "gemini" | "google" | "vertexai" => "google",
            other => other,
        }
    }

    /// `llm.system` (`OpenInferenceLLMSystemValues`), for the vendors that
    /// value list has; Gemini's API has none (the google-genai
    /// instrumentation records no `llm.system`).
    pub fn system(system: &str) -> Option<&str> {
        match system {
            "openai" | "anthropic" | "cohere" | "mistralai" => Some(system),
            _ => None,
        }
    }
}

/// OpenTelemetry GenAI registry names (semantic conventions v1.41.0,
/// `model/gen-ai/registry.yaml`) that the memo's names lack.
pub mod genai {
    /// The provider (`gcp.gemini`, `openai`, `anthropic`).
    pub const GEN_AI_PROVIDER_NAME: &str = "gen_ai.provider.name";
    /// The chat history sent, as JSON (`gen-ai-input-messages.json`).
    pub const GEN_AI_INPUT_MESSAGES: &str = "gen_ai.input.messages";
    /// The messages returned, as JSON (`gen-ai-output-messages.json`).
    pub const GEN_AI_OUTPUT_MESSAGES: &str = "gen_ai.output.messages";
    /// The system instructions sent apart from the chat history, as JSON.
    pub const GEN_AI_SYSTEM_INSTRUCTIONS: &str = "gen_ai.system_instructions";
    /// Reasoning tokens of the output.
    pub const GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: &str = "gen_ai.usage.reasoning.output_tokens";
    /// The conversation (session, thread) a call belongs to.
    pub const GEN_AI_CONVERSATION_ID: &str = "gen_ai.conversation.id";

    /// `gen_ai.provider.name` for a `#[llm_span(system = ...)]` vendor: the
    /// registry's member (`gcp.gemini` for the Gemini API), or the name as given.
    pub fn provider(system: &str) -> &str {
        match system {
            "gemini" => "gcp.gemini",
            "vertexai" | "vertex_ai" => "gcp.vertex_ai",
            other => other,
        }
    }

    /// The registry's `finish_reason` of an output message (`stop`,
    /// `length`, `content_filter`, `tool_call`, `error`) for a vendor's own
    /// value; unknown values pass through in lower case.
    pub fn finish_reason(vendor: &str) -> String {
        match vendor.to_ascii_lowercase().as_str() {
            "stop" | "end_turn" | "stop_sequence" | "finish_reason_unspecified" => "stop".into(),
            "length" | "max_tokens" => "length".into(),
            "content_filter" | "safety" | "recitation" | "blocklist" | "prohibited_content"
            | "spii" | "refusal" => "content_filter".into(),
            "tool_calls" | "tool_use" | "function_call" => "tool_call".into(),
            other => other.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conventions_are_parsed_by_name() {
        let only_phoenix = Semconv::parse(Some("openinference"), None, None).unwrap();
        assert!(only_phoenix.openinference && !only_phoenix.memo && !only_phoenix.genai);
        assert!(Semconv::parse(Some("memo,phoenix"), None, None).is_err());
    }

    #[test]
    fn default_is_all_three_with_content() {
        assert_eq!(Semconv::parse(None, None, None), Ok(Semconv::default()));
        assert_eq!(
            Semconv::parse(Some(" "), None, None),
            Ok(Semconv::default())
        );
    }

    #[test]
    fn a_list_picks_conventions_and_opt_in_adds_genai() {
        let memo = Semconv::parse(Some("memo"), None, None).unwrap();
        assert!(memo.memo && !memo.openinference && !memo.genai);
        let both = Semconv::parse(Some("memo, GenAI"), None, None).unwrap();
        assert!(both.memo && both.genai && !both.openinference);
        let opted =
            Semconv::parse(Some("memo"), Some("http,gen_ai_latest_experimental"), None).unwrap();
        assert!(opted.genai);
        assert!(
            !Semconv::parse(Some("memo"), Some("gen_ai_latest"), None)
                .unwrap()
                .genai
        );
    }

    #[test]
    fn content_capture_follows_the_genai_variable() {
        assert!(!Semconv::parse(None, None, Some("false")).unwrap().content);
        assert!(!Semconv::parse(None, None, Some("FALSE")).unwrap().io());
        assert!(Semconv::parse(None, None, Some("true")).unwrap().content);
        let error = Semconv::parse(None, None, Some("maybe")).unwrap_err();
        assert!(error.contains(CAPTURE_CONTENT_VAR), "{error}");
    }

    #[test]
    fn unknown_names_are_errors_that_list_the_known_ones() {
        let error = Semconv::parse(Some("memo,otel"), None, None).unwrap_err();
        assert!(
            error.contains("\"otel\"") && error.contains("openinference"),
            "{error}"
        );
    }

    #[test]
    fn vendor_values_follow_the_registries() {
        assert_eq!(genai::provider("gemini"), "gcp.gemini");
        assert_eq!(genai::provider("openai"), "openai");
        assert_eq!(genai::provider("anthropic"), "anthropic");
        assert_eq!(openinference::provider("gemini"), "google");
        assert_eq!(openinference::system("gemini"), None);
        assert_eq!(openinference::system("anthropic"), Some("anthropic"));
        assert_eq!(genai::finish_reason("STOP"), "stop");
        assert_eq!(genai::finish_reason("end_turn"), "stop");
        assert_eq!(genai::finish_reason("MAX_TOKENS"), "length");
    }
}
