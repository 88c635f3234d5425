//! `agento trace show`: the span tree in the terminal, with totals per vendor.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde_json::json;

use super::archive::{SpanRecord, Trace};

/// Totals of one vendor.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VendorTotals {
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
pub fn vendor_totals(trace: &Trace) -> BTreeMap<String, VendorTotals> {
    let mut totals: BTreeMap<String, VendorTotals> = BTreeMap::new();
    for span in trace.spans.iter().filter(|s| s.is_llm_call()) {
        let vendor = span.text("gen_ai.system").unwrap_or("unknown").to_owned();
        let entry = totals.entry(vendor).or_default();
        entry.calls += 1;
        entry.input_tokens += span
            .attr("gen_ai.usage.input_tokens")
            .and_then(super::archive::Attr::as_int)
            .unwrap_or(0);
        entry.output_tokens += span
            .attr("gen_ai.usage.output_tokens")
            .and_then(super::archive::Attr::as_int)
            .unwrap_or(0);
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
    if let Some(system) = span.text("gen_ai.system") {
        match span
            .text("gen_ai.response.model")
            .or_else(|| span.text("gen_ai.request.model"))
        {
            Some(model) => {
                let _ = write!(text, " {system}/{model}");
            }
            None => {
                let _ = write!(text, " {system}");
            }
        }
    }
    if let Some(step) = span.text("agento.step_name") {
        let _ = write!(text, " «{step}»");
    }
    if let (Some(i), Some(o)) = (
        span.attr("gen_ai.usage.input_tokens")
            .and_then(super::archive::Attr::as_int),
        span.attr("gen_ai.usage.output_tokens")
            .and_then(super::archive::Attr::as_int),
    ) {
        let _ = write!(text, " tokens {i}→{o}");
    }
    if let Some(attempt) = span
        .attr("retry.attempt")
        .and_then(super::archive::Attr::as_int)
    {
        let _ = write!(text, " attempt {attempt}");
    }
    if let Some(max) = span
        .attr("retry.max_attempts")
        .and_then(super::archive::Attr::as_int)
    {
        let _ = write!(text, " (max {max} attempts)");
    }
    if let Some(step_type) = span.text("agento.step_type") {
        let _ = write!(text, " {step_type}");
    }
    if span
        .attributes
        .iter()
        .any(|(k, v)| k.ends_with("truncated") && *v == super::archive::Attr::Bool(true))
    {
        text.push_str(&paint(style, "33", " [truncated]"));
    }
    if span.status_code == 2 && !span.status_message.is_empty() {
        let message: String = span.status_message.chars().take(120).collect();
        let _ = write!(text, " — {}", paint(style, "31", &message));
    }
    text
}

fn walk(
    trace: &Trace,
    span: &SpanRecord,
    prefix: &str,
    last: bool,
    top: bool,
    style: Style,
    out: &mut String,
) {
    let branch = if top {
        ""
    } else if last {
        "└─ "
    } else {
        "├─ "
    };
    let _ = writeln!(out, "{prefix}{branch}{}", line(span, style));
    let child_prefix = if top {
        String::new()
    } else {
        format!("{prefix}{}", if last { "   " } else { "│  " })
    };
    if style.attrs {
        for (key, value) in &span.attributes {
            let value: String = value.to_string().chars().take(200).collect();
            let _ = writeln!(
                out,
                "{child_prefix}   · {key} = {}",
                value.replace('\n', "⏎")
            );
        }
    }
    let children = trace.children(&span.span_id);
    for (i, child) in children.iter().enumerate() {
        walk(
            trace,
            child,
            &child_prefix,
            i + 1 == children.len(),
            false,
            style,
            out,
        );
    }
}

/// The tree of `trace` and the totals, as text.
pub fn render(trace: &Trace, style: Style) -> String {
    let mut out = String::new();
    let ids: std::collections::HashSet<&str> =
        trace.spans.iter().map(|s| s.span_id.as_str()).collect();
    let mut tops: Vec<&SpanRecord> = trace
        .spans
        .iter()
        .filter(|s| s.parent_span_id.is_empty() || !ids.contains(s.parent_span_id.as_str()))
        .collect();
    tops.sort_by_key(|s| s.start_ns);
    for top in tops {
        walk(trace, top, "", true, true, style, &mut out);
    }
    let _ = writeln!(
        out,
        "\ntrace {} · {} spans · {:.1} ms",
        trace.id,
        trace.spans.len(),
        (trace.end_ns() - trace.start_ns()) as f64 / 1e6
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
           "duration_ms": (trace.end_ns() - trace.start_ns()) as f64 / 1e6,
           "vendors": totals, "spans": spans})
}
