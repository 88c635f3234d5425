//! `agento trace show`: the span tree in the terminal, with totals per vendor.

use std::collections::BTreeMap;
use std::fmt::Write;

use agento::attributes::{
    AGENTO_STEP_NAME, AGENTO_STEP_TYPE, GEN_AI_REQUEST_MODEL, GEN_AI_RESPONSE_MODEL, GEN_AI_SYSTEM,
    GEN_AI_USAGE_INPUT_TOKENS, GEN_AI_USAGE_OUTPUT_TOKENS, RETRY_ATTEMPT, RETRY_MAX_ATTEMPTS,
};
use serde_json::json;

use super::{Attr, Placed, SpanRecord, Trace, Tree};

/// Totals of one vendor.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct VendorTotals {
    /// LLM calls (attempts).
    pub calls: u64,
    /// Input tokens.
    pub input_tokens: i64,
    /// Output tokens.
    pub output_tokens: i64,
    /// Time in calls, in milliseconds.
    pub ms: f64,
}

/// The per-vendor totals of `trace`.
pub(crate) fn vendor_totals(trace: &Trace) -> BTreeMap<String, VendorTotals> {
    let mut totals: BTreeMap<String, VendorTotals> = BTreeMap::new();
    for span in trace.spans.iter().filter(|s| s.is_llm_call()) {
        let vendor = span.text(GEN_AI_SYSTEM).unwrap_or("unknown").to_owned();
        let entry = totals.entry(vendor).or_default();
        entry.calls += 1;
        entry.input_tokens = entry
            .input_tokens
            .saturating_add(span.int(GEN_AI_USAGE_INPUT_TOKENS).unwrap_or(0));
        entry.output_tokens = entry
            .output_tokens
            .saturating_add(span.int(GEN_AI_USAGE_OUTPUT_TOKENS).unwrap_or(0));
        entry.ms += span.duration_ms();
    }
    totals
}

/// How the tree is drawn.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// ANSI colours.
    pub colour: bool,
    /// Every attribute under its span.
    pub attrs: bool,
}

fn paint(style: Style, code: &str, text: &str) -> String {
    if style.colour {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

fn line(span: &SpanRecord, style: Style) -> String {
    let status = match span.status_code {
        2 => paint(style, "31", "ERROR"),
        1 => paint(style, "32", "OK"),
        _ => "-".to_owned(),
    };
    let mut text = format!(
        "{} [{}] {:.1} ms {status}",
        paint(style, "1", &span.name),
        span.oi_kind(),
        span.duration_ms()
    );
    if let Some(system) = span.text(GEN_AI_SYSTEM) {
        match span
            .text(GEN_AI_RESPONSE_MODEL)
            .or_else(|| span.text(GEN_AI_REQUEST_MODEL))
        {
            Some(model) => {
                let _ = write!(text, " {system}/{model}");
            }
            None => {
                let _ = write!(text, " {system}");
            }
        }
    }
    if let Some(step) = span.text(AGENTO_STEP_NAME) {
        let _ = write!(text, " «{step}»");
    }
    if let (Some(i), Some(o)) = (
        span.attr(GEN_AI_USAGE_INPUT_TOKENS).and_then(Attr::as_int),
        span.attr(GEN_AI_USAGE_OUTPUT_TOKENS).and_then(Attr::as_int),
    ) {
        let _ = write!(text, " tokens {i}→{o}");
    }
    if let Some(attempt) = span.attr(RETRY_ATTEMPT).and_then(Attr::as_int) {
        let _ = write!(text, " attempt {attempt}");
    }
    if let Some(max) = span.attr(RETRY_MAX_ATTEMPTS).and_then(Attr::as_int) {
        let _ = write!(text, " (max {max} attempts)");
    }
    if let Some(step_type) = span.text(AGENTO_STEP_TYPE) {
        let _ = write!(text, " {step_type}");
    }
    if span
        .attributes
        .iter()
        .any(|(k, v)| k.ends_with("truncated") && *v == Attr::Bool(true))
    {
        text.push_str(&paint(style, "33", " [truncated]"));
    }
    if span.status_code == 2 && !span.status_message.is_empty() {
        let message: String = span.status_message.chars().take(120).collect();
        let _ = write!(text, " — {}", paint(style, "31", &message));
    }
    text
}

/// Tree lines are indented for at most this many levels; deeper spans are
/// drawn at this indentation with a `⋯ depth N ⋯` marker.
pub(crate) const MAX_DRAWN_DEPTH: usize = 32;

/// The tree-drawing prefixes of a span at `depth` whose ancestors' "last
/// child" flags are `lasts[1..depth]` and its own `lasts[depth]`: one for its
/// line, one for the lines under it (attributes).
fn prefixes(lasts: &[bool], depth: usize) -> (String, String) {
    if depth == 0 {
        return (String::new(), String::new());
    }
    let mut prefix = String::new();
    for &last in lasts.iter().take(depth.min(MAX_DRAWN_DEPTH)).skip(1) {
        prefix.push_str(if last { "   " } else { "│  " });
    }
    if depth > MAX_DRAWN_DEPTH {
        let _ = write!(prefix, "⋯ depth {depth} ⋯ ");
    }
    let own = lasts.get(depth).copied().unwrap_or(true);
    let line = format!("{prefix}{}", if own { "└─ " } else { "├─ " });
    let under = format!("{prefix}{}", if own { "   " } else { "│  " });
    (line, under)
}

/// Draws the walk `placed` (one [`Tree`] walk or several, in order).
fn draw(trace: &Trace, tree: &Tree, placed: &[Placed], style: Style, out: &mut String) {
    let mut lasts: Vec<bool> = Vec::new();
    for p in placed {
        lasts.truncate(p.depth);
        lasts.resize(p.depth, true);
        lasts.push(p.last);
        let span = &trace.spans[p.index];
        let (prefix, under) = prefixes(&lasts, p.depth);
        let _ = write!(out, "{prefix}{}", line(span, style));
        if p.depth == 0 && !span.parent_span_id.is_empty() && tree.parent(p.index).is_none() {
            let _ = write!(
                out,
                " {}",
                paint(
                    style,
                    "33",
                    &format!("(its parent {} is not in the file)", span.parent_span_id)
                )
            );
        }
        out.push('\n');
        if style.attrs {
            for (key, value) in &span.attributes {
                let value: String = value.to_string().chars().take(200).collect();
                let _ = writeln!(out, "{under}   · {key} = {}", value.replace('\n', "⏎"));
            }
        }
    }
}

/// The tree of `trace` and the totals, as text: the spans the roots (and
/// spans whose parent is missing) reach, then each part that only a cycle of
/// parent ids holds, under a line naming the cycle. Every span appears once.
pub fn render(trace: &Trace, style: Style) -> String {
    let mut out = String::new();
    let tree = Tree::build(&trace.spans);
    draw(trace, &tree, tree.reachable(), style, &mut out);
    if !tree.unreachable().is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            paint(
                style,
                "31",
                &format!(
                    "{} span(s) not reachable from a root:",
                    tree.unreachable().len()
                )
            )
        );
        for cycle in tree.cycles() {
            let _ = writeln!(out, "parent ids form a cycle: {}", cycle_text(trace, cycle));
            draw(trace, &tree, tree.subtree(cycle[0]), style, &mut out);
        }
    }
    let _ = writeln!(
        out,
        "\ntrace {} · {} spans · {:.1} ms",
        trace.id,
        trace.spans.len(),
        trace.duration_ms()
    );
    for (vendor, t) in vendor_totals(trace) {
        let _ = writeln!(
            out,
            "  {vendor:<10} {:>3} calls  {:>7} input tokens  {:>7} output tokens  {:>9.1} ms",
            t.calls, t.input_tokens, t.output_tokens, t.ms
        );
    }
    out
}

/// A cycle of span indexes as `a → b → a` (span ids, each span's parent next).
pub(crate) fn cycle_text(trace: &Trace, cycle: &[usize]) -> String {
    let mut ids: Vec<&str> = cycle
        .iter()
        .map(|&i| trace.spans[i].span_id.as_str())
        .collect();
    if let Some(&first) = ids.first() {
        ids.push(first);
    }
    ids.join(" → ")
}

/// The machine-readable summary of `trace`.
pub fn summary(trace: &Trace) -> serde_json::Value {
    let totals: serde_json::Map<String, serde_json::Value> = vendor_totals(trace)
        .into_iter()
        .map(|(vendor, t)| {
            (vendor, json!({"calls": t.calls, "input_tokens": t.input_tokens, "output_tokens": t.output_tokens, "ms": t.ms}))
        })
        .collect();
    let spans: Vec<_> = trace
        .spans
        .iter()
        .map(|s| {
            json!({"name": s.name, "span_id": s.span_id, "parent_span_id": s.parent_span_id,
                   "kind": s.oi_kind(), "status": match s.status_code { 1 => "OK", 2 => "ERROR", _ => "UNSET" },
                   "duration_ms": s.duration_ms(), "module": s.module})
        })
        .collect();
    json!({"trace_id": trace.id, "span_count": trace.spans.len(),
           "duration_ms": trace.duration_ms(),
           "vendors": totals, "spans": spans})
}
