//! `agento trace report`: one self-contained HTML file (inline CSS and SVG,
//! no script, no network) with the run's waterfall, tokens and latency per
//! stage and per vendor, and the plan before and after.

use std::fmt::Write;

use agento::StepType;
use agento::attributes::{
    AGENT_FINAL_RESPONSE, AGENTO_STEP_TYPE, GEN_AI_RESPONSE_CONTENT, GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS, USER_GOAL,
};

use super::show::vendor_totals;
use super::{SpanRecord, Trace, Tree};

/// Escapes text for HTML (every archive string is untrusted input).
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Rows are indented for at most this many levels.
const MAX_INDENT: usize = 30;

fn colour(span: &SpanRecord) -> &'static str {
    if span.status_code == 2 {
        return "#d9534f";
    }
    match span.oi_kind() {
        "AGENT" => "#6f42c1",
        "LLM" => "#0d6efd",
        "EVALUATOR" => "#fd7e14",
        "TOOL" => "#20c997",
        _ => "#6c757d",
    }
}

fn waterfall(trace: &Trace, tree: &Tree) -> String {
    let rows: Vec<(usize, &SpanRecord)> = tree
        .order()
        .iter()
        .map(|p| (p.depth, &trace.spans[p.index]))
        .collect();
    let start = trace.start_ns();
    let end = trace.end_ns().max(start.saturating_add(1));
    let width = 1000.0;
    let label = 360.0;
    let row = 18.0;
    let height = row * rows.len() as f64 + 24.0;
    let scale = (width - label - 10.0) / end.saturating_sub(start) as f64;
    let mut svg = format!(
        r#"<svg id="waterfall" role="img" aria-label="waterfall timeline" width="{width}" height="{height}" viewBox="0 0 {width} {height}">"#
    );
    for (i, (depth, span)) in rows.iter().enumerate() {
        let y = row * i as f64 + 4.0;
        let x = label + span.start_ns.saturating_sub(start) as f64 * scale;
        let w = ((span.end_ns.saturating_sub(span.start_ns)) as f64 * scale).max(1.5);
        let name: String = span.name.chars().take(48).collect();
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" font-size="11">{}</text><rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{}" fill="{}"><title>{} · {:.1} ms</title></rect>"#,
            4 + depth.min(&MAX_INDENT) * 10,
            y + 11.0,
            escape(&name),
            row - 4.0,
            colour(span),
            escape(&span.name),
            span.duration_ms()
        );
    }
    let _ = write!(
        svg,
        r#"<text x="{label}" y="{}" font-size="11">0 ms</text><text x="{}" y="{}" font-size="11" text-anchor="end">{:.0} ms</text></svg>"#,
        height - 4.0,
        width - 10.0,
        height - 4.0,
        end.saturating_sub(start) as f64 / 1e6
    );
    svg
}

fn bars(id: &str, title: &str, unit: &str, items: &[(String, f64)]) -> String {
    let max = items.iter().map(|(_, v)| *v).fold(1.0_f64, f64::max);
    let row = 22.0;
    let height = row * items.len() as f64 + 8.0;
    let mut svg = format!(
        r#"<h3>{}</h3><svg id="{id}" width="720" height="{height}">"#,
        escape(title)
    );
    for (i, (name, value)) in items.iter().enumerate() {
        let y = row * i as f64 + 4.0;
        let w = value / max * 380.0;
        let _ = write!(
            svg,
            r##"<text x="0" y="{}" font-size="12">{}</text><rect x="220" y="{y}" width="{w:.1}" height="16" fill="#0d6efd"/><text x="{:.1}" y="{}" font-size="12">{value:.0} {unit}</text>"##,
            y + 12.0,
            escape(name),
            226.0 + w,
            y + 12.0
        );
    }
    svg.push_str("</svg>");
    svg
}

fn pretty(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .or_else(|| {
            crate::plan::extract_json(text).and_then(|json| serde_json::from_str(json).ok())
        })
        .and_then(|value| serde_json::to_string_pretty(&value).ok())
        .unwrap_or_else(|| text.to_owned())
}

/// A warning paragraph naming the spans no root reaches and the parent-id
/// cycles that hold them (at the end of the waterfall); empty when there are none.
fn unreachable(trace: &Trace, tree: &Tree) -> String {
    if tree.unreachable().is_empty() {
        return String::new();
    }
    let cycles: Vec<String> = tree
        .cycles()
        .iter()
        .map(|cycle| escape(&super::show::cycle_text(trace, cycle)))
        .collect();
    format!(
        "<p id=\"unreachable\" class=\"meta\">{} span(s) not reachable from a root, drawn at the end of the waterfall; parent ids form a cycle: {}</p>\n",
        tree.unreachable().len(),
        cycles.join("; ")
    )
}

/// The HTML report of `trace`.
pub fn render(trace: &Trace) -> String {
    let tree = trace.tree();
    let totals = vendor_totals(trace);
    let tokens: Vec<(String, f64)> = totals
        .iter()
        .map(|(v, t)| {
            (
                v.clone(),
                t.input_tokens.saturating_add(t.output_tokens) as f64,
            )
        })
        .collect();
    let latency: Vec<(String, f64)> = totals.iter().map(|(v, t)| (v.clone(), t.ms)).collect();
    let (stage_time, stage_tokens) = stages(trace, &tree);
    let (before, after) = plans(trace);
    let goal = trace
        .spans
        .iter()
        .find_map(|s| s.text(USER_GOAL))
        .unwrap_or("");
    let errors = trace.spans.iter().filter(|s| s.status_code == 2).count();
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>agento run {id}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:24px;color:#212529}}
h1{{font-size:20px}} h2{{font-size:17px;margin-top:28px}} h3{{font-size:14px}}
.plans{{display:flex;gap:16px}} .plans div{{flex:1;min-width:0}}
pre{{background:#f8f9fa;border:1px solid #dee2e6;padding:8px;white-space:pre-wrap;word-break:break-word;max-height:600px;overflow:auto;font-size:12px}}
.meta{{color:#6c757d}}
</style></head><body>
<h1>agento run — trace {id}</h1>
<p class="meta">{spans} spans · {errors} with errors · {duration:.0} ms · goal: {goal}</p>
{unreachable}<h2>Waterfall</h2>
{waterfall}
<h2>Tokens and latency</h2>
{stage_time}{stage_tokens}{vendor_tokens}{vendor_latency}
<h2>The plan before and after</h2>
<div class="plans"><div><h3>First plan (stage 1)</h3><pre id="plan-before">{before}</pre></div>
<div><h3>Final response (stage 3)</h3><pre id="plan-after">{after}</pre></div></div>
</body></html>
"#,
        id = escape(&trace.id),
        spans = trace.spans.len(),
        duration = trace.duration_ms(),
        goal = escape(goal),
        waterfall = waterfall(trace, &tree),
        unreachable = unreachable(trace, &tree),
        stage_time = bars("stage-latency", "Time per stage", "ms", &stage_time),
        stage_tokens = bars("stage-tokens", "Tokens per stage", "tokens", &stage_tokens),
        vendor_tokens = bars("vendor-tokens", "Tokens per vendor", "tokens", &tokens),
        vendor_latency = bars("vendor-latency", "Time in calls per vendor", "ms", &latency),
        before = escape(&before),
        after = escape(&after),
    )
}

/// One bar chart's data: a label and a value per bar.
type Series = Vec<(String, f64)>;

/// Time and tokens per stage (module span).
fn stages(trace: &Trace, tree: &Tree) -> (Series, Series) {
    let modules: Vec<(usize, &SpanRecord)> = trace
        .spans
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            s.name.starts_with("agento.module.")
                || (s.parent_span_id.is_empty() && s.name != "agento.pipeline")
        })
        .collect();
    let stage_time: Series = modules
        .iter()
        .map(|(_, s)| {
            (
                s.name.trim_start_matches("agento.module.").to_owned(),
                s.duration_ms(),
            )
        })
        .collect();
    let stage_tokens: Series = modules
        .iter()
        .map(|&(index, module)| {
            let sum: i64 = tree
                .subtree(index)
                .iter()
                .map(|p| &trace.spans[p.index])
                .filter(|s| s.is_llm_call())
                .map(|s| {
                    s.int(GEN_AI_USAGE_INPUT_TOKENS)
                        .unwrap_or(0)
                        .saturating_add(s.int(GEN_AI_USAGE_OUTPUT_TOKENS).unwrap_or(0))
                })
                .fold(0, i64::saturating_add);
            (
                module.name.trim_start_matches("agento.module.").to_owned(),
                sum as f64,
            )
        })
        .collect();
    (stage_time, stage_tokens)
}

/// The first plan (stage 1's reply) and the final response, pretty-printed.
fn plans(trace: &Trace) -> (String, String) {
    let before = trace
        .spans
        .iter()
        .filter(|s| {
            s.is_llm_call()
                && s.text(AGENTO_STEP_TYPE) == Some(StepType::Plan.as_str())
                && s.status_code != 2
        })
        .find_map(|s| s.text(GEN_AI_RESPONSE_CONTENT))
        .map_or_else(|| "(no plan span)".to_owned(), pretty);
    let after = trace
        .spans
        .iter()
        .find_map(|s| s.text(AGENT_FINAL_RESPONSE))
        .map_or_else(|| "(no final response)".to_owned(), pretty);
    (before, after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_the_html_specials() {
        assert_eq!(escape("<script>\"&'"), "&lt;script&gt;&quot;&amp;&#39;");
    }
    use crate::trace::{Attr, SpanRecord, Trace};

    #[test]
    fn hostile_text_from_the_archive_is_rendered_inert() {
        let span = SpanRecord {
            trace_id: "t".into(),
            span_id: "s".into(),
            parent_span_id: String::new(),
            name: "<img src=x onerror=alert(1)>".into(),
            kind: 1,
            start_ns: 1,
            end_ns: 2,
            status_code: 1,
            status_message: String::new(),
            attributes: vec![
                (
                    "user_goal".into(),
                    Attr::Text("<script>alert('goal')</script>".into()),
                ),
                (
                    "agent.final_response".into(),
                    Attr::Text("</pre><script>x()</script>".into()),
                ),
            ],
            events: Vec::new(),
            module: None,
            line: 1,
        };
        let page = render(&Trace {
            id: "t".into(),
            spans: vec![span],
        });
        assert!(
            !page.contains("<script") && !page.contains("<img"),
            "{page}"
        );
        assert!(page.contains("&lt;script&gt;alert(&#39;goal&#39;)&lt;/script&gt;"));
    }
}
