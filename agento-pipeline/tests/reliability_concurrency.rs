//! Concurrency: 2 and 8 `agento run --offline` at once in one data directory
//! (each with its own carrier through `AGENTO_TRACE_CONTEXT`), 16 at once
//! sharing everything (one data directory, one carrier file) each with its own
//! goal, and two stage processes of one run appending to the same archive at
//! once. Vendor calls take 20 ms (60 ms for the two stages) so that the
//! processes overlap.

mod support;
mod support_reliability;

use std::collections::HashSet;

use agento_pipeline::trace::load;
use agento_pipeline::trace::validate::validate;
use support::{Workdir, console, named, only_trace, run};
use support_reliability::{MODULE_SPANS, OUTPUTS, STAGES, offline, spawn, sweep};

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

/// The marker in goal `i` of the shared-directory test: no marker is part of
/// another.
fn marker(i: usize) -> String {
    format!("zqmark{i:02}qz")
}

/// The markers of `text`.
fn markers_in(text: &str, count: usize) -> Vec<usize> {
    (0..count).filter(|i| text.contains(&marker(*i))).collect()
}

#[test]
fn sixteen_runs_sharing_one_data_directory_each_work_on_their_own_goal() {
    const RUNS: usize = 16;
    let work = Workdir::bakery();
    for i in 0..RUNS {
        let goal = serde_json::json!({
            "goal": format!("Open bakery number {} in Oakland", marker(i)),
        });
        std::fs::write(work.path().join(format!("goal-{i}.json")), goal.to_string())
            .expect("goal file");
    }
    let children: Vec<_> = (0..RUNS)
        .map(|i| {
            let mut command = work.command(support_reliability::AGENTO);
            command
                .args(["run", "--offline", "--quiet", "--json", "--goal"])
                .arg(format!("goal-{i}.json"))
                .env("AGENTO_SIM_OPENAI_LATENCY_MS", LATENCY_MS)
                .env("AGENTO_SIM_ANTHROPIC_LATENCY_MS", LATENCY_MS);
            spawn(&mut command)
        })
        .collect();
    let mut run_ids = HashSet::new();
    for (i, child) in children.into_iter().enumerate() {
        let output = child.wait_with_output().expect("agento exits");
        assert!(output.status.success(), "run {i}: {}", console(&output));
        let summary: serde_json::Value =
            serde_json::from_slice(&output.stdout).expect("the --json summary");
        let run_id = summary["run_id"].as_str().expect("a run id").to_owned();
        let archive = load(&work.data().join(format!("agento_run_{run_id}.otlp.json")))
            .expect("the run's archive");
        let trace = only_trace(&archive);
        assert!(validate(&archive, trace).is_empty(), "run {i}");
        let archived = std::fs::read_to_string(&archive.path).expect("archive text");
        assert_eq!(
            markers_in(&archived, RUNS),
            vec![i],
            "run {i}'s archive holds the goals of runs {:?}",
            markers_in(&archived, RUNS)
        );
        let folder = work.data().join("runs").join(&run_id);
        assert_eq!(
            summary["run_folder"].as_str(),
            Some(folder.to_string_lossy().as_ref()),
            "the summary names the run's folder"
        );
        for file in OUTPUTS {
            let text = std::fs::read_to_string(folder.join(file))
                .unwrap_or_else(|e| panic!("run {i}: {file}: {e}"));
            assert_eq!(
                markers_in(&text, RUNS),
                vec![i],
                "run {i}'s {file} holds the goals of runs {:?}",
                markers_in(&text, RUNS)
            );
        }
        let revised: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(folder.join(OUTPUTS[2])).expect("the final plan"),
        )
        .expect("JSON");
        assert!(
            revised["Original_Goal"]
                .as_str()
                .is_some_and(|goal| goal.contains(&marker(i))),
            "run {i}: {revised}"
        );
        assert!(run_ids.insert(run_id), "two runs share a run id");
    }
    let folders = std::fs::read_dir(work.data().join("runs"))
        .expect("the runs folder")
        .count();
    assert_eq!(folders, RUNS, "one work folder per run");
    for file in OUTPUTS {
        let latest = std::fs::read_to_string(work.data().join(file)).expect("a latest copy");
        assert_eq!(
            markers_in(&latest, RUNS).len(),
            1,
            "the latest {file} is one run's whole output"
        );
    }
}
