//! Attribute names of the memo's convention and of the Agento pipeline's
//! evaluation contract, in one place. Which conventions are recorded (the
//! memo's, OpenInference's, the current GenAI registry's) is chosen by
//! `AGENTO_SEMCONV`.
//!
//! ```
//! use agento_runtime::attributes::{GEN_AI_SYSTEM, OPENINFERENCE_SPAN_KIND};
//! assert_eq!(GEN_AI_SYSTEM, "gen_ai.system");
//! assert_eq!(OPENINFERENCE_SPAN_KIND, "openinference.span.kind");
//! ```

/// The vendor of an LLM call (`gemini`, `openai`, `anthropic`, …).
pub const GEN_AI_SYSTEM: &str = "gen_ai.system";
/// The operation, `chat` for every call of this pipeline.
pub const GEN_AI_OPERATION_NAME: &str = "gen_ai.operation.name";
/// The model the request asked for.
pub const GEN_AI_REQUEST_MODEL: &str = "gen_ai.request.model";
/// The sampling temperature of the request, when set.
pub const GEN_AI_REQUEST_TEMPERATURE: &str = "gen_ai.request.temperature";
/// The output token limit of the request, when set.
pub const GEN_AI_REQUEST_MAX_TOKENS: &str = "gen_ai.request.max_tokens";
/// The model the vendor says answered.
pub const GEN_AI_RESPONSE_MODEL: &str = "gen_ai.response.model";
/// Why generation stopped, one entry per choice (a string array).
pub const GEN_AI_RESPONSE_FINISH_REASONS: &str = "gen_ai.response.finish_reasons";
/// The vendor's response id, when it reports one.
pub const GEN_AI_RESPONSE_ID: &str = "gen_ai.response.id";
/// The response text (truncated, see [`crate::truncate`]).
pub const GEN_AI_RESPONSE_CONTENT: &str = "gen_ai.response.content";
/// Set to `true` when [`GEN_AI_RESPONSE_CONTENT`] was truncated.
pub const GEN_AI_RESPONSE_TRUNCATED: &str = "gen_ai.response.truncated";
/// `true` on the span of a streaming request.
pub const GEN_AI_REQUEST_STREAM: &str = "gen_ai.request.stream";
/// Seconds from the request to the first chunk of a streamed response.
pub const GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: &str = "gen_ai.response.time_to_first_chunk";
/// How many chunks a streamed response had (no registry name exists).
pub const AGENTO_RESPONSE_CHUNKS: &str = "agento.response.chunks";
/// The prompt text (truncated and scrubbed).
pub const GEN_AI_PROMPT: &str = "gen_ai.prompt";
/// Input (prompt) tokens.
pub const GEN_AI_USAGE_INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
/// Output (completion) tokens.
pub const GEN_AI_USAGE_OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";
/// Input tokens served from the vendor's prompt cache.
pub const GEN_AI_USAGE_CACHED_INPUT_TOKENS: &str = "gen_ai.usage.cache_read.input_tokens";
/// Input tokens written to the vendor's prompt cache (Anthropic).
pub const GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: &str =
    "gen_ai.usage.cache_creation.input_tokens";
/// Reasoning ("thinking") tokens, a part of the output tokens.
pub const GEN_AI_USAGE_REASONING_TOKENS: &str = "gen_ai.usage.reasoning_tokens";

/// The OpenInference span kind (`AGENT`, `CHAIN`, `LLM`, `TOOL`, `EVALUATOR`).
pub const OPENINFERENCE_SPAN_KIND: &str = "openinference.span.kind";
/// The resource attribute Arize Phoenix groups projects by.
pub const OPENINFERENCE_PROJECT_NAME: &str = "openinference.project.name";

/// The error class of a failed operation.
pub const ERROR_TYPE: &str = "error.type";
/// The attempt number (from 0) of a retried call.
pub const RETRY_ATTEMPT: &str = "retry.attempt";
/// How many attempts a retried call may make.
pub const RETRY_MAX_ATTEMPTS: &str = "retry.max_attempts";

/// The resource attribute naming the stage (module) that produced a span.
pub const AGENTO_MODULE: &str = "agento.module";
/// The id of the pipeline run; identical for every stage of one run.
pub const AGENTO_RUN_ID: &str = "agento.run_id";
/// The workflow step kind (`plan`, `draft`, `critique`, …).
pub const AGENTO_STEP_TYPE: &str = "agento.step_type";
/// The outline step a span works on.
pub const AGENTO_STEP_NAME: &str = "agento.step_name";
/// The goal, repeated on plan, draft and critique spans.
pub const AGENTO_USER_GOAL: &str = "agento.user_goal";
/// Why a text was truncated (`size_limit`).
pub const AGENTO_RESPONSE_TRUNCATED_REASON: &str = "agento.response.truncated_reason";
/// The length in characters of a response before truncation.
pub const AGENTO_RESPONSE_LENGTH: &str = "agento.response.length";

/// The goal on the root and first module span (read by evaluators).
pub const USER_GOAL: &str = "user_goal";
/// The final plan JSON on the final module span (read by evaluators).
pub const AGENT_FINAL_RESPONSE: &str = "agent.final_response";
/// The expected answer, when the goal file supplies one (read by evaluators).
pub const EXPECTED_RESPONSE: &str = "expected_response";

/// Draft spans: the step's evaluation criteria.
pub const AGENTO_CRITERIA: &str = "agento.criteria";
/// Draft spans: what the outline asked the step to contain.
pub const AGENTO_INSTRUCTIONS: &str = "agento.instructions";
/// Critique spans: the draft being critiqued.
pub const AGENTO_DRAFT_CONTENT: &str = "agento.draft_content";
/// Verdict spans: the parsed verdict (`YES`, `NO`).
pub const AGENTO_VERDICT: &str = "agento.verdict";
/// Accepted and timed-out revisions: the critique's request.
pub const AGENTO_REVISION_REQUEST: &str = "agento.revision_request";
/// Accepted revisions: the content that replaced the draft.
pub const AGENTO_FINAL_CONTENT: &str = "agento.final_content";
/// Accepted and timed-out revisions: iterations used.
pub const AGENTO_ITERATIONS_TAKEN: &str = "agento.iterations_taken";
/// Timed-out revisions: the last draft that was refused.
pub const AGENTO_LAST_ATTEMPTED_DRAFT: &str = "agento.last_attempted_draft";
/// Timed-out revisions: the last critique.
pub const AGENTO_FINAL_CRITIQUE: &str = "agento.final_critique";
/// The holistic review: the final plan it reviewed.
pub const AGENTO_FINAL_PLAN_CONTENT: &str = "agento.final_plan_content";

pub use crate::semconv::SEMCONV_OPT_IN_VAR;

/// `true` on an LLM attempt span whose reply was cut off at the output limit.
pub const AGENTO_RESPONSE_INCOMPLETE: &str = "agento.response.incomplete";
/// On a failed LLM attempt span: the delay in seconds the vendor asked for
/// before a retry (`Retry-After`, `retry-after-ms`, Gemini's `RetryInfo`).
pub const AGENTO_RETRY_AFTER_SECS: &str = "agento.retry.after_secs";

/// OpenInference's names (what Arize Phoenix reads), recorded when
/// `AGENTO_SEMCONV` lists `openinference` (the default).
///
/// ```
/// assert_eq!(agento_runtime::attributes::openinference::LLM_MODEL_NAME, "llm.model_name");
/// ```
pub mod openinference {
    pub use crate::semconv::openinference::{
        INPUT_MIME_TYPE, INPUT_VALUE, LLM_INVOCATION_PARAMETERS, LLM_MODEL_NAME, LLM_PROVIDER,
        LLM_SYSTEM, LLM_TOKEN_COUNT_COMPLETION, LLM_TOKEN_COUNT_COMPLETION_DETAILS_REASONING,
        LLM_TOKEN_COUNT_PROMPT, LLM_TOKEN_COUNT_PROMPT_DETAILS_CACHE_READ,
        LLM_TOKEN_COUNT_PROMPT_DETAILS_CACHE_WRITE, LLM_TOKEN_COUNT_TOTAL, MIME_JSON, MIME_TEXT,
        OUTPUT_MIME_TYPE, OUTPUT_VALUE,
    };
}

/// The current OpenTelemetry GenAI registry's names that the memo's lack,
/// recorded when `AGENTO_SEMCONV` lists `genai` (the default).
///
/// ```
/// assert_eq!(agento_runtime::attributes::genai::GEN_AI_PROVIDER_NAME, "gen_ai.provider.name");
/// ```
pub mod genai {
    pub use crate::semconv::genai::{
        GEN_AI_CONVERSATION_ID, GEN_AI_INPUT_MESSAGES, GEN_AI_OUTPUT_MESSAGES,
        GEN_AI_PROVIDER_NAME, GEN_AI_SYSTEM_INSTRUCTIONS, GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
    };
}
