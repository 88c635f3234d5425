//! The Agento planning pipeline — goal → plan structure → drafted plan →
//! revised plan, across Gemini, OpenAI and Anthropic — instrumented with the
//! `agento` macros; its vendor clients, its offline vendor simulator and the
//! `agento` command line.
//!
//! ```no_run
//! // The whole pipeline offline, as `agento run --offline` does it:
//! // see `agento_pipeline::cli`.
//! ```

pub mod cli;
pub mod console;
pub mod files;
pub mod goal;
pub mod plan;
pub mod report;
pub mod simulator;
pub mod stages;
pub mod trace;
pub mod vendors;
pub mod verdict;
