//! The runtime of the agento framework: telemetry setup, the per-run OTLP-JSON
//! archive, live OTLP export, the context carrier between stages, and the
//! helpers the `agento` macros expand to.
//!
//! Most users depend on the `agento` facade crate and never name this one.
//!
//! ```no_run
//! use agento_runtime::{SpanGuard, SpanKind, Telemetry};
//!
//! let telemetry = Telemetry::builder().module("example").new_run(true).init();
//! {
//!     let step = SpanGuard::start("generate_plan_structure", SpanKind::Chain);
//!     step.set_text("agento.user_goal", "Open a bakery");
//!     step.set_ok();
//! }
//! let report = telemetry.shutdown();
//! assert_eq!(report.ended, report.archived);
//! ```

#![warn(missing_docs)]

pub mod archive;
mod attempt;
pub mod attributes;
pub mod backoff;
pub mod carrier;
pub mod config;
pub mod contract;
pub mod envvar;
pub mod error;
pub mod field;
pub mod health;
mod http_client;
pub mod integrations;
pub mod io;
pub mod llm;
mod messages;
pub mod metrics;
pub mod module;
mod otlp;
mod registry;
mod resources;
pub mod response;
pub mod retry;
pub mod run;
pub mod secrets;
pub mod semconv;
mod signals;
pub mod span;
mod stderr;
pub mod stream;
pub mod telemetry;
mod tracer;
pub mod truncate;
pub mod usage;

/// The former name of [`secrets`], kept for existing callers.
#[doc(hidden)]
pub use secrets as scrub;

pub use attempt::AttemptMarker;
pub use backoff::Backoff;
pub use contract::StepType;
pub use error::{ErrorInfo, ErrorReport, record_error};
pub use field::{MaxTokens, StepField, Temperature};
pub use llm::{LlmRequest, LlmSpec};
pub use module::{
    ModuleOutcome, ModuleRole, ModuleRun, ModuleSpec, record_expected_response,
    record_final_response, record_module_input, record_module_output, record_user_goal,
};
pub use response::LlmResponse;
pub use retry::{Attempt, Retry, RetrySpec, RetryStep};
pub use run::RunId;
pub use span::{SpanGuard, SpanKind, record_text};
pub use stream::{LlmChunk, LlmStream};
pub use telemetry::{Telemetry, TelemetryBuilder};
pub use tracer::SCOPE_NAME;
pub use usage::TokenUsage;

/// Re-exported so that users and generated code use the same versions.
pub use opentelemetry;
pub use opentelemetry_sdk;
