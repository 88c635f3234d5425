//! What a run did, for the console and `--json`: tokens and time per vendor,
//! the outcome of each step, the time of each stage.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use agento::LlmResponse;
use serde::Serialize;

use crate::vendors::Reply;

/// Totals of one vendor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VendorTotals {
    /// Successful calls.
    pub calls: u64,
    /// Input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
}

/// The outcome of one step of a stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepOutcome {
    /// The stage's module name.
    pub stage: String,
    /// The outline step.
    pub step: String,
    /// What happened (`drafted`, `critiqued`, `accepted after 2 iterations`, …).
    pub outcome: String,
}

/// What one run did so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunReport {
    /// Totals per vendor (`gemini`, `openai`, `anthropic`).
    pub tokens: BTreeMap<&'static str, VendorTotals>,
    /// Step outcomes, in order.
    pub steps: Vec<StepOutcome>,
    /// Milliseconds per stage.
    pub stage_ms: BTreeMap<String, u128>,
}

/// A [`RunReport`] filled in from several tasks.
#[derive(Debug, Default)]
pub struct Recorder(Mutex<RunReport>);

impl Recorder {
    fn with<R>(&self, f: impl FnOnce(&mut RunReport) -> R) -> R {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Counts one reply.
    pub fn reply(&self, reply: &Reply) {
        let usage = reply.usage();
        self.with(|report| {
            let totals = report.tokens.entry(reply.vendor.as_str()).or_default();
            totals.calls += 1;
            if let Some(usage) = usage {
                totals.input_tokens += usage.input_tokens().unwrap_or(0);
                totals.output_tokens += usage.output_tokens().unwrap_or(0);
            }
        });
    }

    /// Records a step outcome.
    pub fn step(&self, stage: &str, step: &str, outcome: impl Into<String>) {
        let outcome = StepOutcome {
            stage: stage.to_owned(),
            step: step.to_owned(),
            outcome: outcome.into(),
        };
        self.with(|report| report.steps.push(outcome));
    }

    /// Records how long a stage took.
    pub fn stage_time(&self, stage: &str, time: Duration) {
        self.with(|report| {
            report.stage_ms.insert(stage.to_owned(), time.as_millis());
        });
    }

    /// The report so far.
    pub fn snapshot(&self) -> RunReport {
        self.with(|report| report.clone())
    }
}
