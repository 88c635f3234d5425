//! OpenTelemetry for LLM pipelines, as attribute macros.
//!
//! Depend on this one crate. It re-exports the macros of `agento-macros` and
//! the runtime of `agento-runtime`:
//!
//! - [`macro@agento_module`] on a stage's entry (`main` or `run`): telemetry
//!   setup, the module span, the context carrier in and out, flush, exit code;
//! - [`macro@llm_span`] on an LLM call: a CLIENT span with the `gen_ai.*`
//!   attributes, token counts and truncated content;
//! - [`macro@retry_spans`] above `#[llm_span]`: one span per attempt under a
//!   `*.with_retry` span, with backoff;
//! - [`macro@step`] on a workflow step: a span with chosen arguments.
//!
//! ```no_run
//! use agento::{LlmResponse, agento_module, llm_span, retry_spans, step};
//!
//! struct Reply(String);
//! impl LlmResponse for Reply {
//!     fn text(&self) -> &str { &self.0 }
//! }
//!
//! #[retry_spans(max = 3, backoff = "none")]
//! #[llm_span(system = "gemini", model = "gemini-2.5-pro", temperature = 0.1, prompt = goal)]
//! fn generate_plan_structure(goal: &str) -> Result<Reply, std::io::Error> {
//!     Ok(Reply(format!("{{\"Title\": \"{goal}\"}}")))
//! }
//!
//! #[step(fields(goal))]
//! fn plan(goal: &str) -> Result<String, std::io::Error> {
//!     Ok(generate_plan_structure(goal)?.0)
//! }
//!
//! #[agento_module(name = "1_01_JSON_Goal_to_PlanStructure", first, goal = "Open a bakery")]
//! fn main() -> Result<(), std::io::Error> {
//!     println!("{}", plan("Open a bakery")?);
//!     Ok(())
//! }
//! ```
//!
//! Besides the macros, the crate names what a pipeline author uses:
//!
//! - set-up by hand and the run: [`Telemetry`] and [`TelemetryBuilder`]
//!   (what `#[agento_module]` does for you), [`Config`], [`RunId`],
//!   [`current_run`], [`last_report`], [`HealthReport`];
//! - what the macros ask of your types: [`LlmResponse`] (a reply),
//!   [`LlmChunk`] (a streamed chunk), [`TokenUsage`] or [`TokenCounts`],
//!   [`ErrorInfo`] (optional facts about an error), [`StepField`];
//! - recording by hand: [`SpanGuard`], [`StepType`], [`IoValue`],
//!   [`Conversation`], [`record_text`], [`record_error`], [`record_streamed`],
//!   [`record_user_goal`], [`record_final_response`], …;
//! - [`archive`] reads run archives back, [`attributes`] holds the attribute
//!   keys, [`secrets`] the scrubber every recorded text goes through,
//!   [`truncate`] the size rule, [`carrier`] the context carrier file,
//!   [`backoff`] the retry delays, [`metrics`] the GenAI client metrics;
//! - [`opentelemetry`] and [`opentelemetry_sdk`], the versions this crate is
//!   built with.
//!
//! Telemetry code is generated with the `enabled` feature, on by default.
//! `default-features = false` compiles it out: the macros still check their
//! arguments and leave the functions as they are. Features are additive, so a
//! library can depend on `agento` with `default-features = false` and still
//! record spans in an application that enables it.

#![warn(missing_docs)]

pub use agento_macros::{agento_module, llm_span, retry_spans, step};
pub use agento_runtime::{
    Config, Conversation, ErrorInfo, ErrorReport, HealthReport, IoValue, LlmChunk, LlmResponse,
    ModuleOutcome, Protocol, RunId, RunInfo, SpanGuard, SpanKind, StepField, StepType, Telemetry,
    TelemetryBuilder, TokenCounts, TokenUsage, UnknownStepType, current_run, last_report,
    record_error, record_expected_response, record_final_response, record_module_input,
    record_module_output, record_streamed, record_text, record_user_goal,
};
pub use agento_runtime::{archive, attributes, backoff, carrier, metrics, secrets, truncate};

/// Re-exported so that users and generated code use the same versions.
pub use agento_runtime::{opentelemetry, opentelemetry_sdk};

/// What macro-generated code names. Not a public API: it changes without notice.
#[doc(hidden)]
pub mod __private {
    pub use agento_runtime::__private::*;
}
