//! The Agento planning pipeline — goal → plan structure → drafted plan →
//! revised plan, across Gemini, OpenAI and Anthropic — instrumented with the
//! `agento` macros; its vendor clients, its offline vendor simulator and the
//! `agento` command line.
//!
//! The pieces are usable on their own, e.g. the strict reading of a model's
//! verdict in the revise loop:
//!
//! ```
//! use agento_pipeline::verdict::Verdict;
//!
//! assert!(Verdict::parse("YES - the draft meets every criterion").accepted());
//! assert!(!Verdict::parse("I would say yes").accepted());
//! ```

#![warn(missing_docs)]

pub mod cli;
mod console;
mod files;
mod goal;
pub mod plan;
mod report;
pub mod simulator;
mod stages;
pub mod trace;
pub mod vendors;
pub mod verdict;
