//! Concurrency: 2 and 8 `agento run --offline` at once in one data directory
//! (each with its own carrier through `AGENTO_TRACE_CONTEXT`), and two stage
//! processes of one run appending to the same archive at once. Vendor calls
//! take 20 ms (60 ms for the two stages) so that the processes overlap.

mod support;
mod support_reliability;

use std::collections::HashSet;

use agento_pipeline::trace::load;
use agento_pipeline::trace::validate::validate;
use support::{Workdir, console, named, only_trace, run};
use support_reliability::{MODULE_SPANS, STAGES, offline, spawn, sweep};

const LATENCY_MS: &str = "20";

fn concurrent_runs(count: usize) {
    let work = Workdir::bakery();
    let children: Vec<_> = (0..count)
        .map(|i| {
            spawn(
                offline(&work)
                    .env(
                        "AGENTO_TRACE_CONTEXT",
                        work.data().join(format!("trace-{i}.context")),
                    )
                    .env("AGENTO_SIM_OPENAI_LATENCY_MS", LATENCY_MS)
                    .env("AGENTO_SIM_ANTHROPIC_LATENCY_MS", LATENCY_MS),
            )
        })
        .collect();
    let mut outputs = Vec::new();
    for child in children {
        let output = child.wait_with_output().expect("agento exits");
        assert!(output.status.success(), "{}", console(&output));
        outputs.push(output);
    }
    let archives = work.archives();
    assert_eq!(archives.len(), count, "one archive per run: {archives:?}");
    let mut trace_ids = HashSet::new();
    let mut root_spans = 0;
    for path in &archives {
        let archive = load(path).expect("readable");
        // `only_trace`: every line parses (nothing interleaved) and holds
        // spans of this run's trace only.
        let trace = only_trace(&archive);
        let violations = validate(&archive, trace);
        assert!(violations.is_empty(), "{}: {violations:#?}", path.display());
        let roots = trace.roots();
        assert_eq!(roots.len(), 1);
        root_spans += 1;
        let run_id = roots[0].text("agento.run_id").unwrap_or_default();
        assert!(
            path.to_string_lossy()
                .ends_with(&format!("agento_run_{run_id}.otlp.json")),
            "run {run_id} in {}",
            path.display()
        );
        for module in MODULE_SPANS {
            assert_eq!(
                named(trace, module).len(),
                1,
                "{module} in {}",
                path.display()
            );
        }
        assert!(trace_ids.insert(trace.id.clone()), "two runs share a trace");
    }
    assert_eq!(root_spans, count);
    for (i, output) in outputs.iter().enumerate() {
        assert!(
            work.data().join(format!("trace-{i}.context")).is_file(),
            "run {i} wrote its own carrier"
        );
        sweep(&work, output);
    }
}

#[test]
fn two_concurrent_runs_in_one_data_directory_stay_apart() {
    concurrent_runs(2);
}

#[test]
fn eight_concurrent_runs_in_one_data_directory_stay_apart() {
    concurrent_runs(8);
}

#[test]
fn two_stages_of_one_run_appending_at_once_keep_the_archive_valid() {
    let work = Workdir::bakery();
    let first = run(work
        .command(STAGES[0])
        .args(["--offline", "--goal", "goal.json", "--quiet"]));
    assert!(first.status.success(), "{}", console(&first));
    let children: Vec<_> = (0..2)
        .map(|_| {
            spawn(
                work.command(STAGES[1])
                    .args(["--offline", "--quiet"])
                    .env("AGENTO_SIM_OPENAI_LATENCY_MS", "60"),
            )
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().expect("stage 2 exits");
        assert!(output.status.success(), "{}", console(&output));
        sweep(&work, &output);
    }
    let archive = work.archive();
    let trace = only_trace(&archive);
    let stage_2 = named(trace, MODULE_SPANS[1]);
    assert_eq!(stage_2.len(), 2, "both processes' module spans are there");
    let (a, b) = (stage_2[0], stage_2[1]);
    assert!(
        a.start_ns < b.end_ns && b.start_ns < a.end_ns,
        "the two processes ran at the same time"
    );
    let root = trace.roots();
    assert_eq!(root.len(), 1);
    assert_eq!(a.parent_span_id, root[0].span_id);
    assert_eq!(b.parent_span_id, root[0].span_id);
    let lines = std::fs::read_to_string(&archive.path).unwrap_or_default();
    let spans_in_lines = lines.matches("\"spanId\"").count();
    assert_eq!(spans_in_lines, trace.spans.len(), "every span once");
}
