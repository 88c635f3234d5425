//! The runtime of the agento framework: telemetry setup, the per-run OTLP-JSON
//! archive, live OTLP export, the context carrier between stages, and the
//! helpers the `agento` macros expand to.
//!
//! Most users depend on the `agento` facade crate, which re-exports this
//! crate's public API, and never name this one. What is public:
//!
//! - set-up: [`Telemetry`], [`TelemetryBuilder`], [`Config`], [`Protocol`],
//!   the run ([`RunId`], [`RunInfo`], [`current_run`], [`last_report`],
//!   [`HealthReport`]);
//! - what an instrumented function's types implement: [`LlmResponse`],
//!   [`LlmChunk`], [`TokenUsage`] (or [`TokenCounts`]), [`ErrorInfo`],
//!   [`StepField`], [`ModuleOutcome`];
//! - recording by hand: [`SpanGuard`], [`SpanKind`], [`StepType`],
//!   [`IoValue`], [`Conversation`], [`record_text`], [`record_error`],
//!   [`record_streamed`] and the `record_*` functions of a module run;
//! - small modules: [`archive`] (reading run archives back), [`attributes`]
//!   (the attribute keys), [`backoff`], [`carrier`] (the context carrier file),
//!   [`metrics`], [`secrets`] (the scrubber), [`truncate`] (the size rule).
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
mod config;
mod contract;
mod end_hook;
mod envvar;
mod error;
mod field;
mod health;
mod http_client;
mod integrations;
mod io;
mod llm;
mod messages;
pub mod metrics;
mod module;
mod otlp;
mod outbound;
mod registry;
mod request_size;
mod resources;
mod response;
mod retry;
mod run;
pub mod secrets;
mod semconv;
mod shared_text;
mod signals;
mod span;
mod stderr;
mod stream;
mod telemetry;
mod tracer;
pub mod truncate;
mod usage;

pub use config::{Config, Protocol};
pub use contract::{StepType, UnknownStepType};
pub use error::{ErrorInfo, ErrorReport, record_error};
pub use field::StepField;
pub use health::HealthReport;
pub use io::IoValue;
pub use llm::Conversation;
pub use module::{
    ModuleOutcome, record_expected_response, record_final_response, record_module_input,
    record_module_output, record_user_goal,
};
pub use response::LlmResponse;
pub use run::RunId;
pub use span::{SpanGuard, SpanKind, record_text};
pub use stream::{LlmChunk, record_streamed};
pub use telemetry::{RunInfo, Telemetry, TelemetryBuilder, current_run, last_report};
pub use usage::{TokenCounts, TokenUsage};

/// Re-exported so that users and generated code use the same versions.
pub use opentelemetry;
pub use opentelemetry_sdk;

/// What the `agento` macros' generated code, the facade and this crate's
/// benches name. Not a public API: it changes without notice.
#[doc(hidden)]
pub mod __private {
    pub use crate::StepField;
    pub use crate::archive::encode::{ArchiveResources, encode_line};
    pub use crate::attributes;
    pub use crate::backoff::Backoff;
    pub use crate::error::probe;
    pub use crate::field::{MaxTokens, Temperature};
    pub use crate::llm::{LlmRequest, LlmSpec};
    pub use crate::module::probe as outcome_probe;
    pub use crate::module::{ModuleRole, ModuleRun, ModuleSpec};
    pub use crate::retry::{Retry, RetrySpec, RetryStep, sleep};
    pub use crate::span::{SpanGuard, SpanKind};
    pub use crate::stream::{LlmStream, Peeked, Stream, mark_streaming};
    pub use opentelemetry::context::FutureExt;
    pub use opentelemetry::trace::SpanKind as OtelSpanKind;
    pub use opentelemetry::{Key, KeyValue};

    /// How `#[step]` renders its arguments and return value.
    pub mod io {
        pub use crate::io::{Inputs, IoProbe, ViaDebug, ViaNothing, ViaSerialize, enabled};
    }
}
