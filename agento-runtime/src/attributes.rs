//! Attribute names of the telemetry contract, in one place.
//!
//! The GenAI semantic conventions moved to their own repository and renamed some
//! attributes. We always emit the names the evaluators read today (`gen_ai.system`,
//! …); with `OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental` the current
//! names are emitted as well (see [`latest_gen_ai_names`]).
//!
//! ```
//! use agento_runtime::attributes::{GEN_AI_SYSTEM, OPENINFERENCE_SPAN_KIND};
//! assert_eq!(GEN_AI_SYSTEM, "gen_ai.system");
//! assert_eq!(OPENINFERENCE_SPAN_KIND, "openinference.span.kind");
//! ```

use std::sync::OnceLock;

/// The vendor of an LLM call (`gemini`, `openai`, `anthropic`, …).
pub const GEN_AI_SYSTEM: &str = "gen_ai.system";
/// The current name of [`GEN_AI_SYSTEM`] (emitted on opt-in).
pub const GEN_AI_PROVIDER_NAME: &str = "gen_ai.provider.name";
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

/// The variable that opts in to the latest GenAI attribute names.
pub const SEMCONV_OPT_IN_VAR: &str = "OTEL_SEMCONV_STABILITY_OPT_IN";

/// Whether `OTEL_SEMCONV_STABILITY_OPT_IN` lists `gen_ai_latest_experimental`.
///
/// Read once per process.
///
/// ```
/// // Unset in doc tests: only the established names are emitted.
/// assert!(!agento_runtime::attributes::latest_gen_ai_names());
/// ```
pub fn latest_gen_ai_names() -> bool {
    static OPT_IN: OnceLock<bool> = OnceLock::new();
    *OPT_IN
        .get_or_init(|| std::env::var(SEMCONV_OPT_IN_VAR).is_ok_and(|value| opt_in_listed(&value)))
}

fn opt_in_listed(value: &str) -> bool {
    value
        .split(',')
        .any(|item| item.trim() == "gen_ai_latest_experimental")
}

#[cfg(test)]
mod tests {
    use super::opt_in_listed;

    #[test]
    fn opt_in_is_one_item_of_a_comma_separated_list() {
        assert!(opt_in_listed("gen_ai_latest_experimental"));
        assert!(opt_in_listed("http, gen_ai_latest_experimental"));
        assert!(!opt_in_listed("gen_ai_latest"));
        assert!(!opt_in_listed(""));
    }
}
