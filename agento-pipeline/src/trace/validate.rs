//! `agento trace validate`: an archive checked against a trace contract.
//!
//! The [general](Contract::General) contract holds for any application's
//! trace: readable lines, well-formed ids, one root that reaches every span
//! (no missing parents, no parent-id cycles, no duplicate span ids), LLM spans
//! that name their model and provider in at least one convention, texts within
//! the truncation bound, no attribute without a key. The
//! [Agento](Contract::Agento) contract adds the pipeline's own: token counts,
//! response models, finish reasons, step types, `user_goal`,
//! `agent.final_response`, `error.type` on errors.

use std::collections::HashSet;

use agento::StepType;
use agento::attributes::{
    AGENT_FINAL_RESPONSE, AGENTO_STEP_TYPE, ERROR_TYPE, GEN_AI_OPERATION_NAME,
    GEN_AI_REQUEST_MODEL, GEN_AI_RESPONSE_FINISH_REASONS, GEN_AI_RESPONSE_MODEL, GEN_AI_SYSTEM,
    GEN_AI_USAGE_INPUT_TOKENS, GEN_AI_USAGE_OUTPUT_TOKENS, USER_GOAL,
};
use agento::attributes::{genai, openinference as oi};

use super::{Archive, Attr, SpanRecord, Trace, Tree};
use crate::stages::{STAGE_1, STAGE_2, STAGE_3};

/// The longest text an attribute may hold: 8000 characters + the marker.
pub(crate) const MAX_TEXT_CHARS: usize = 8192;

/// Attribute keys that name an LLM span's model, in any convention
/// (OpenTelemetry GenAI, OpenInference).
pub(crate) const MODEL_KEYS: [&str; 3] = [
    GEN_AI_REQUEST_MODEL,
    GEN_AI_RESPONSE_MODEL,
    oi::LLM_MODEL_NAME,
];

/// Attribute keys that name an LLM span's provider, in any convention.
pub(crate) const PROVIDER_KEYS: [&str; 4] = [
    genai::GEN_AI_PROVIDER_NAME,
    GEN_AI_SYSTEM,
    oi::LLM_PROVIDER,
    oi::LLM_SYSTEM,
];

/// Which contract a trace is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Contract {
    /// `agento` for an Agento pipeline run (see [`is_pipeline_run`]), else `general`.
    Auto,
    /// What every application's trace must follow.
    General,
    /// The general contract and the Agento pipeline's.
    Agento,
}

impl Contract {
    /// `General` or `Agento`: `Auto` decided for `trace`.
    pub fn resolve(self, trace: &Trace) -> Self {
        match self {
            Self::Auto if is_pipeline_run(trace) => Self::Agento,
            Self::Auto => Self::General,
            chosen => chosen,
        }
    }
}

impl std::fmt::Display for Contract {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::General => "general",
            Self::Agento => "agento",
        })
    }
}

/// Whether `trace` is an Agento pipeline run: a span written by one of the
/// pipeline's stages (its `agento.module` resource) or a stage's module span.
pub fn is_pipeline_run(trace: &Trace) -> bool {
    let stages = [STAGE_1, STAGE_2, STAGE_3];
    trace.spans.iter().any(|s| {
        s.module.as_deref().is_some_and(|m| stages.contains(&m))
            || s.name
                .strip_prefix("agento.module.")
                .is_some_and(|m| stages.contains(&m))
    })
}

/// One way the trace breaks the contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The span (`name (span id)`), or `-` for the whole file or trace.
    pub at: String,
    /// What is wrong.
    pub problem: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.at, self.problem)
    }
}

/// Checks the file's lines, then `trace`, against the contract [`Contract::Auto`] picks.
pub fn validate(archive: &Archive, trace: &Trace) -> Vec<Violation> {
    validate_with(archive, trace, Contract::Auto)
}

/// Checks the file's lines, then `trace`, against `contract`.
pub fn validate_with(archive: &Archive, trace: &Trace, contract: Contract) -> Vec<Violation> {
    let mut out: Vec<Violation> = archive
        .bad_lines
        .iter()
        .map(|(line, error)| Violation {
            at: format!("line {line}"),
            problem: format!("not an OTLP ExportTraceServiceRequest: {error}"),
        })
        .collect();
    out.extend(validate_trace(trace, contract));
    out
}

/// Checks one trace against `contract`.
pub(crate) fn validate_trace(trace: &Trace, contract: Contract) -> Vec<Violation> {
    let tree = trace.tree();
    let mut out = general(trace, &tree);
    if contract.resolve(trace) == Contract::Agento {
        out.extend(agento(trace, &tree));
    }
    out
}

fn violation(at: impl Into<String>, problem: impl Into<String>) -> Violation {
    Violation {
        at: at.into(),
        problem: problem.into(),
    }
}

fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len
        && text.bytes().all(|b| b.is_ascii_hexdigit())
        && text.bytes().any(|b| b != b'0')
}

/// The structure, ids, conventions and sizes every trace must have.
fn general(trace: &Trace, tree: &Tree) -> Vec<Violation> {
    let mut out = Vec::new();
    let roots = trace.roots();
    if roots.len() != 1 {
        let names: Vec<String> = roots.iter().map(|r| r.label()).collect();
        out.push(violation(
            "-",
            format!(
                "expected exactly one root span, found {}: {}",
                roots.len(),
                names.join(", ")
            ),
        ));
    }
    if !is_hex(&trace.id, 32) {
        out.push(violation(
            "-",
            format!(
                "trace id {:?} is not 32 hex digits (not all zero)",
                trace.id
            ),
        ));
    }
    for cycle in tree.cycles() {
        out.push(violation(
            "-",
            format!(
                "parent ids form a cycle: {}",
                super::show::cycle_text(trace, cycle)
            ),
        ));
    }
    for &i in tree.duplicates() {
        out.push(violation(
            trace.spans[i].label(),
            "its span id is already another span's",
        ));
    }
    let reached: HashSet<usize> = match roots.as_slice() {
        [_] => {
            let root = tree
                .tops()
                .iter()
                .copied()
                .find(|&i| trace.spans[i].parent_span_id.is_empty());
            root.map(|r| tree.subtree(r).iter().map(|p| p.index).collect())
                .unwrap_or_default()
        }
        _ => tree.reachable().iter().map(|p| p.index).collect(),
    };
    for (i, span) in trace.spans.iter().enumerate() {
        general_span(span, i, tree, &reached, &mut out);
    }
    out
}

/// The ids, place in the tree, sizes and conventions of span `i`.
fn general_span(
    span: &SpanRecord,
    i: usize,
    tree: &Tree,
    reached: &HashSet<usize>,
    out: &mut Vec<Violation>,
) {
    let at = span.label();
    if !is_hex(&span.span_id, 16) {
        out.push(violation(
            at.clone(),
            "its span id is not 16 hex digits (not all zero)",
        ));
    }
    if !span.parent_span_id.is_empty() {
        if !is_hex(&span.parent_span_id, 16) {
            out.push(violation(
                at.clone(),
                "its parent span id is not 16 hex digits (not all zero)",
            ));
        } else if tree.parent(i).is_none() {
            out.push(violation(
                at.clone(),
                format!("its parent {} is not in the file", span.parent_span_id),
            ));
        }
    }
    if !reached.contains(&i) {
        out.push(violation(at.clone(), "not reachable from the root"));
    }
    if span.attributes.iter().any(|(key, _)| key.is_empty()) {
        out.push(violation(
            at.clone(),
            format!("an attribute without a key (line {})", span.line),
        ));
    }
    for (key, value) in &span.attributes {
        if let Some(text) = value.as_text() {
            let chars = text.chars().count();
            if chars > MAX_TEXT_CHARS {
                out.push(violation(
                    at.clone(),
                    format!("`{key}` holds {chars} characters, over the {MAX_TEXT_CHARS} limit"),
                ));
            }
        }
    }
    if span.is_llm_call() {
        if !MODEL_KEYS.iter().any(|k| span.text(k).is_some()) {
            out.push(violation(
                at.clone(),
                format!("LLM span without a model (one of {MODEL_KEYS:?})"),
            ));
        }
        if !PROVIDER_KEYS.iter().any(|k| span.text(k).is_some()) {
            out.push(violation(
                at,
                format!("LLM span without a provider (one of {PROVIDER_KEYS:?})"),
            ));
        }
    }
}

/// The Agento pipeline's own contract.
fn agento(trace: &Trace, tree: &Tree) -> Vec<Violation> {
    let mut out = Vec::new();
    for span in &trace.spans {
        agento_span(span, &mut out);
    }
    let roots = trace.roots();
    if let [root] = roots.as_slice() {
        let is_first_module =
            |s: &SpanRecord| s.oi_kind() == "AGENT" && s.text(USER_GOAL).is_some();
        let first_child = tree
            .tops()
            .iter()
            .find(|&&i| trace.spans[i].parent_span_id.is_empty())
            .and_then(|&r| tree.children(r).first())
            .map(|&c| &trace.spans[c]);
        if !is_first_module(root) && !first_child.is_some_and(is_first_module) {
            out.push(violation(
                root.label(),
                "neither the root nor its first child is an AGENT span with `user_goal`",
            ));
        }
    }
    let finals = trace
        .spans
        .iter()
        .filter(|s| s.attr(AGENT_FINAL_RESPONSE).is_some())
        .count();
    if finals != 1 {
        out.push(violation(
            "-",
            format!("expected exactly one span with `agent.final_response`, found {finals}"),
        ));
    }
    out
}

fn agento_span(span: &SpanRecord, out: &mut Vec<Violation>) {
    let at = span.label();
    if span.status_code == 2 && span.attr(ERROR_TYPE).is_none() {
        out.push(violation(at.clone(), "status ERROR without `error.type`"));
    }
    if let Some(step_type) = span.text(AGENTO_STEP_TYPE)
        && step_type.parse::<StepType>().is_err()
    {
        let known: Vec<&str> = StepType::ALL.iter().map(|t| t.as_str()).collect();
        out.push(violation(
            at.clone(),
            format!("`agento.step_type` {step_type:?} is not one of {known:?}"),
        ));
    }
    if !span.is_llm_call() {
        return;
    }
    for key in [GEN_AI_SYSTEM, GEN_AI_OPERATION_NAME, GEN_AI_REQUEST_MODEL] {
        if span.text(key).is_none() {
            out.push(violation(at.clone(), format!("LLM span without `{key}`")));
        }
    }
    if span.status_code == 2 {
        return;
    }
    if span.text(GEN_AI_RESPONSE_MODEL).is_none() {
        out.push(violation(
            at.clone(),
            "LLM span without `gen_ai.response.model`",
        ));
    }
    for key in [GEN_AI_USAGE_INPUT_TOKENS, GEN_AI_USAGE_OUTPUT_TOKENS] {
        if span.int(key).is_none() {
            out.push(violation(
                at.clone(),
                format!("LLM span without an integer `{key}`"),
            ));
        }
    }
    if !matches!(
        span.attr(GEN_AI_RESPONSE_FINISH_REASONS),
        Some(Attr::List(_))
    ) {
        out.push(violation(
            at,
            "LLM span without the `gen_ai.response.finish_reasons` array",
        ));
    }
}
