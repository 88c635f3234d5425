//! `agento run --offline --stream` end to end: the same stage outputs and the
//! same trace (span names, contract) as without `--stream`, plus the
//! streaming attributes on every LLM call span.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use agento_pipeline::trace::Attr;
use agento_pipeline::trace::validate::validate;
use support::{Workdir, console, only_trace, run};

const AGENTO: &str = env!("CARGO_BIN_EXE_agento");
const OUTPUTS: [&str; 3] = [
    "plan_structure.json",
    "project_plan.json",
    "RevisedPlan.json",
];
const STREAMING: [&str; 3] = [
    "gen_ai.request.stream",
    "gen_ai.response.time_to_first_chunk",
    "agento.response.chunks",
];

fn offline_run(stream: bool) -> Workdir {
    let work = Workdir::bakery();
    let mut args = vec!["run", "--offline", "--goal", "goal.json"];
    if stream {
        args.push("--stream");
    }
    let output = run(work.command(AGENTO).args(&args));
    assert!(output.status.success(), "{}", console(&output));
    work
}

/// Span name → the attribute keys of those spans (streaming ones left out).
fn shape(work: &Workdir) -> BTreeMap<String, BTreeSet<String>> {
    let archive = work.archive();
    let trace = only_trace(&archive);
    let violations = validate(&archive, trace);
    assert!(violations.is_empty(), "{violations:#?}");
    let mut shape: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for span in &trace.spans {
        shape.entry(span.name.clone()).or_default().extend(
            span.attributes
                .iter()
                .map(|(key, _)| key.clone())
                .filter(|key| !STREAMING.contains(&key.as_str())),
        );
    }
    shape
}

#[test]
fn a_streamed_run_gives_the_same_outputs_and_trace_plus_streaming_attributes() {
    let plain = offline_run(false);
    let streamed = offline_run(true);
    for file in OUTPUTS {
        let read = |work: &Workdir| std::fs::read_to_string(work.data().join(file)).expect(file);
        assert_eq!(read(&plain), read(&streamed), "{file}");
    }
    assert_eq!(shape(&plain), shape(&streamed));

    let archive = plain.archive();
    let plain_llm = only_trace(&archive)
        .spans
        .iter()
        .filter(|s| s.is_llm_call())
        .count();
    let archive = streamed.archive();
    let trace = only_trace(&archive);
    let llm: Vec<_> = trace.spans.iter().filter(|s| s.is_llm_call()).collect();
    assert_eq!(llm.len(), plain_llm);
    let mut first_chunk: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for span in &llm {
        assert_eq!(
            span.attr("gen_ai.request.stream"),
            Some(&Attr::Bool(true)),
            "{}",
            span.name
        );
        assert!(
            span.attr("agento.response.chunks")
                .and_then(Attr::as_int)
                .unwrap_or(0)
                > 1,
            "{}",
            span.name
        );
        let Some(Attr::Float(seconds)) = span.attr("gen_ai.response.time_to_first_chunk") else {
            panic!("no time to first chunk on {}", span.name);
        };
        let duration = span.duration_ms() / 1000.0;
        assert!(
            (0.0..=duration).contains(seconds),
            "{}: first chunk after {seconds} s of a {duration} s call",
            span.name
        );
        first_chunk
            .entry(span.text("gen_ai.system").unwrap_or("?"))
            .or_default()
            .push(*seconds);
    }
    for (vendor, seconds) in &first_chunk {
        let mean = seconds.iter().sum::<f64>() / seconds.len() as f64;
        println!(
            "time to first chunk, {vendor}: mean {:.2} ms over {} calls",
            mean * 1000.0,
            seconds.len()
        );
    }
    assert_eq!(first_chunk.len(), 3);
    let plain_archive = plain.archive();
    for span in only_trace(&plain_archive)
        .spans
        .iter()
        .filter(|s| s.is_llm_call())
    {
        for key in STREAMING {
            assert!(span.attr(key).is_none(), "{key} on a plain call");
        }
    }
}
