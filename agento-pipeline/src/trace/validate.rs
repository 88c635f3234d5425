//! `agento trace validate`: an archive checked against the trace contract.

use std::collections::HashSet;

use super::archive::{Archive, Trace};

/// The `agento.step_type` values of the contract.
pub const STEP_TYPES: [&str; 9] = [
    "plan",
    "draft",
    "critique",
    "revision_instruction",
    "revision_draft",
    "revision_verdict",
    "accepted_revision",
    "timed_out_revision",
    "holistic_review",
];

/// The longest text an attribute may hold: 8000 characters + the marker.
pub const MAX_TEXT_CHARS: usize = 8192;

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

/// Checks the file's lines, then `trace`.
pub fn validate(archive: &Archive, trace: &Trace) -> Vec<Violation> {
    let mut out: Vec<Violation> = archive
        .bad_lines
        .iter()
        .map(|(line, error)| Violation {
            at: format!("line {line}"),
            problem: format!("not an OTLP ExportTraceServiceRequest: {error}"),
        })
        .collect();
    out.extend(validate_trace(trace));
    out
}

/// Checks one trace: one root, connected, required attributes.
pub fn validate_trace(trace: &Trace) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut problem = |at: String, problem: String| out.push(Violation { at, problem });
    let ids: HashSet<&str> = trace.spans.iter().map(|s| s.span_id.as_str()).collect();
    let roots = trace.roots();
    if roots.len() != 1 {
        problem(
            "-".into(),
            format!(
                "expected exactly one root span, found {}: {}",
                roots.len(),
                roots
                    .iter()
                    .map(|r| r.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    for span in &trace.spans {
        let at = format!("{} ({})", span.name, span.span_id);
        if !span.parent_span_id.is_empty() && !ids.contains(span.parent_span_id.as_str()) {
            problem(
                at.clone(),
                format!("its parent {} is not in the file", span.parent_span_id),
            );
        }
        if span.status_code == 2 && span.attr("error.type").is_none() {
            problem(at.clone(), "status ERROR without `error.type`".into());
        }
        if let Some(step_type) = span.text("agento.step_type")
            && !STEP_TYPES.contains(&step_type)
        {
            problem(
                at.clone(),
                format!("`agento.step_type` {step_type:?} is not one of {STEP_TYPES:?}"),
            );
        }
        for (key, value) in &span.attributes {
            if let Some(text) = value.as_text() {
                let chars = text.chars().count();
                if chars > MAX_TEXT_CHARS {
                    problem(
                        at.clone(),
                        format!(
                            "`{key}` holds {chars} characters, over the {MAX_TEXT_CHARS} limit"
                        ),
                    );
                }
            }
        }
        if span.is_llm_call() {
            for key in [
                "gen_ai.system",
                "gen_ai.operation.name",
                "gen_ai.request.model",
            ] {
                if span.text(key).is_none() {
                    problem(at.clone(), format!("LLM span without `{key}`"));
                }
            }
            if span.status_code != 2 {
                if span.text("gen_ai.response.model").is_none() {
                    problem(
                        at.clone(),
                        "LLM span without `gen_ai.response.model`".into(),
                    );
                }
                for key in ["gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"] {
                    if span
                        .attr(key)
                        .and_then(super::archive::Attr::as_int)
                        .is_none()
                    {
                        problem(at.clone(), format!("LLM span without an integer `{key}`"));
                    }
                }
                if !matches!(
                    span.attr("gen_ai.response.finish_reasons"),
                    Some(super::archive::Attr::List(_))
                ) {
                    problem(
                        at.clone(),
                        "LLM span without the `gen_ai.response.finish_reasons` array".into(),
                    );
                }
            }
        }
    }
    if let [root] = roots.as_slice() {
        let first_module = if root.oi_kind() == "AGENT" && root.text("user_goal").is_some() {
            Some(*root)
        } else {
            trace.children(&root.span_id).into_iter().next()
        };
        match first_module {
            Some(span) if span.oi_kind() == "AGENT" && span.text("user_goal").is_some() => {}
            _ => problem(
                format!("{} ({})", root.name, root.span_id),
                "neither the root nor its first child is an AGENT span with `user_goal`".into(),
            ),
        }
    }
    let finals = trace
        .spans
        .iter()
        .filter(|s| s.attr("agent.final_response").is_some())
        .count();
    if finals != 1 {
        problem(
            "-".into(),
            format!("expected exactly one span with `agent.final_response`, found {finals}"),
        );
    }
    out
}
