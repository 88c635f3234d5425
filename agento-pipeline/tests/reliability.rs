//! Reliability and security: faults of vendors and collectors, signals at
//! several points of every stage, concurrent runs, hostile input — nothing
//! recorded is lost, nothing secret leaks, every failure is a clear error.

mod support;

use std::io::Write;
use std::net::TcpListener;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use agento_pipeline::trace::load;
use agento_pipeline::trace::validate::validate;
use support::{Workdir, assert_no_sentinel, console, named, only_trace, run};

const AGENTO: &str = env!("CARGO_BIN_EXE_agento");
const STAGE_2: &str = env!("CARGO_BIN_EXE_1_05_Ingest-PlanStructure-to-Plan");

fn offline(work: &Workdir) -> Command {
    let mut command = work.command(AGENTO);
    command.args(["run", "--offline", "--goal", "goal.json", "--quiet"]);
    command
}

/// Every line of every archive parses; returns the archives' texts.
fn archives_parse(work: &Workdir) -> String {
    let mut all = String::new();
    for path in work.archives() {
        let archive = load(&path).expect("archive readable");
        assert!(
            archive.bad_lines.is_empty(),
            "{}: {:?}",
            path.display(),
            archive.bad_lines
        );
        all.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
    }
    all
}

fn sweep(work: &Workdir, output: &Output) {
    assert_no_sentinel(&console(output), "the console");
    assert_no_sentinel(&archives_parse(work), "the archive");
    assert_no_sentinel(&work.all_output(), "the stage outputs");
}

#[test]
fn vendor_faults_retry_where_right_and_fail_clearly_otherwise() {
    // 500 twice: retried, the run succeeds.
    let work = Workdir::bakery();
    let output = run(offline(&work)
        .env("AGENTO_SIM_OPENAI_FAIL_FIRST", "2")
        .env("AGENTO_SIM_OPENAI_FAILURE", "500"));
    assert!(output.status.success(), "{}", console(&output));
    let archive = work.archive();
    let trace = only_trace(&archive);
    let first_draft = named(trace, "llm.openai.draft_step.with_retry")[0];
    let attempts = trace.children(&first_draft.span_id);
    assert_eq!(
        attempts.iter().map(|a| a.status_code).collect::<Vec<_>>(),
        [2, 2, 1]
    );
    assert_eq!(attempts[0].text("error.type"), Some("http.500"));
    sweep(&work, &output);

    // 429 with Retry-After: 1 s is honoured between the attempts.
    let work = Workdir::bakery();
    let output = run(offline(&work)
        .env("AGENTO_SIM_ANTHROPIC_FAIL_FIRST", "1")
        .env("AGENTO_SIM_ANTHROPIC_FAILURE", "429")
        .env("AGENTO_SIM_ANTHROPIC_RETRY_AFTER_SECS", "1"));
    assert!(output.status.success(), "{}", console(&output));
    let archive = work.archive();
    let trace = only_trace(&archive);
    let retry = named(trace, "llm.anthropic.revision_instruction.with_retry")[0];
    let attempts = trace.children(&retry.span_id);
    assert_eq!(attempts[0].text("error.type"), Some("http.429"));
    let waited = attempts[1].start_ns - attempts[0].end_ns;
    assert!(
        waited >= 1_000_000_000,
        "waited {waited} ns, Retry-After said 1 s"
    );
    sweep(&work, &output);

    // Malformed JSON: not retried, a decode error naming the vendor.
    let work = Workdir::bakery();
    let output = run(offline(&work).env("AGENTO_SIM_GEMINI_MALFORMED", "1"));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        console(&output).contains("Gemini sent an answer that is not valid"),
        "{}",
        console(&output)
    );
    let archive = work.archive();
    let trace = only_trace(&archive);
    let retry = named(trace, "llm.gemini.generate_plan_structure.with_retry")[0];
    assert_eq!(trace.children(&retry.span_id).len(), 1);
    assert_eq!(retry.text("error.type"), Some("decode"));
    sweep(&work, &output);

    // A 40 KB reply: stored truncated with the markers, the run succeeds.
    let work = Workdir::bakery();
    let output = run(offline(&work).env("AGENTO_SIM_OPENAI_HUGE_BYTES", "40000"));
    assert!(output.status.success(), "{}", console(&output));
    let archive = work.archive();
    let trace = only_trace(&archive);
    let draft = trace
        .spans
        .iter()
        .find(|s| s.is_llm_call() && s.text("agento.step_type") == Some("draft"))
        .expect("a draft span");
    assert_eq!(
        draft.attr("gen_ai.response.truncated"),
        Some(&agento_pipeline::trace::Attr::Bool(true))
    );
    assert!(
        draft
            .attr("agento.response.length")
            .and_then(|a| a.as_int())
            .unwrap_or(0)
            >= 40_000
    );
    assert!(validate(&archive, trace).is_empty());
    sweep(&work, &output);
}

#[test]
fn timeouts_and_unreachable_vendors_are_retried_then_fail_clearly() {
    let work = Workdir::bakery();
    let output = run(offline(&work)
        .env("AGENTO_SIM_GEMINI_LATENCY_MS", "1500")
        .env("AGENTO_LLM_TIMEOUT_SECS", "0.2"));
    let text = console(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("Gemini did not answer within 0.2s"), "{text}");
    let archive = work.archive();
    let trace = only_trace(&archive);
    let retry = named(trace, "llm.gemini.generate_plan_structure.with_retry")[0];
    let attempts = trace.children(&retry.span_id);
    assert_eq!(attempts.len(), 3);
    assert!(
        attempts
            .iter()
            .all(|a| a.text("error.type") == Some("timeout"))
    );
    sweep(&work, &output);

    let closed = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let work = Workdir::bakery();
    let output = run(work
        .command(AGENTO)
        .args(["run", "--goal", "goal.json", "--quiet"])
        .env("GEMINI_BASE_URL", format!("http://127.0.0.1:{closed}")));
    let text = console(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("cannot reach Gemini"), "{text}");
    sweep(&work, &output);
}

#[test]
fn a_collector_that_never_answers_delays_exit_by_the_shutdown_bound_at_most() {
    // Accepts connections and never answers: a hung collector.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = std::thread::spawn(move || {
        let mut streams = Vec::new();
        for stream in listener.incoming().take(16) {
            streams.push(stream);
        }
        streams.len()
    });
    let work = Workdir::bakery();
    let started = Instant::now();
    let output = run(offline(&work)
        .env("OTEL_TRACES_EXPORTER", "otlp")
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{port}"),
        )
        .env("OTEL_EXPORTER_OTLP_TIMEOUT", "10000")
        .env("AGENTO_SHUTDOWN_TIMEOUT_MS", "700"));
    let elapsed = started.elapsed();
    assert!(output.status.success(), "{}", console(&output));
    let archive = work.archive();
    assert!(
        validate(&archive, only_trace(&archive)).is_empty(),
        "the archive is complete"
    );
    assert!(
        elapsed < Duration::from_millis(700) * 4,
        "exit took {elapsed:?} with a 700 ms bound"
    );
    drop(held);
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .expect("kill runs");
    assert!(status.success());
}

#[test]
fn signals_at_every_stage_keep_every_span_and_never_half_write_an_output() {
    // Each call takes 60 ms: stage 1 ≈ 0.06 s, stage 2 ≈ 0.4 s, stage 3 ≈ 1.5 s.
    let kill_points = [
        (30, "TERM", 143),
        (250, "INT", 130),
        (1000, "TERM", 143),
        (1700, "TERM", 143),
    ];
    for (after_ms, name, code) in kill_points {
        let work = Workdir::bakery();
        let child = offline(&work)
            .env("AGENTO_SIM_GEMINI_LATENCY_MS", "60")
            .env("AGENTO_SIM_OPENAI_LATENCY_MS", "60")
            .env("AGENTO_SIM_ANTHROPIC_LATENCY_MS", "60")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("agento runs");
        std::thread::sleep(Duration::from_millis(after_ms));
        signal(child.id(), name);
        let output = child.wait_with_output().expect("agento exits");
        assert_eq!(
            output.status.code(),
            Some(code),
            "SIG{name} after {after_ms} ms: {}",
            console(&output)
        );
        let archive = work.archive();
        assert!(archive.bad_lines.is_empty(), "{:?}", archive.bad_lines);
        let trace = only_trace(&archive);
        let interrupted: Vec<_> = trace
            .spans
            .iter()
            .filter(|s| s.status_message == format!("interrupted by SIG{name}"))
            .collect();
        assert!(
            !interrupted.is_empty(),
            "SIG{name} after {after_ms} ms: no interrupted span"
        );
        assert!(interrupted.iter().any(|s| s.name == "agento.pipeline"));
        for span in &interrupted {
            assert_eq!(span.status_code, 2);
            assert_eq!(span.text("error.type"), Some("signal"));
        }
        let ids: std::collections::HashSet<&str> =
            trace.spans.iter().map(|s| s.span_id.as_str()).collect();
        for span in &trace.spans {
            assert!(
                span.parent_span_id.is_empty() || ids.contains(span.parent_span_id.as_str()),
                "{} lost its parent",
                span.name
            );
        }
        for file in [
            "plan_structure.json",
            "project_plan.json",
            "RevisedPlan.json",
        ] {
            let path = work.data().join(file);
            if path.exists() {
                let text = std::fs::read_to_string(&path).unwrap();
                assert!(
                    serde_json::from_str::<serde_json::Value>(&text).is_ok(),
                    "{file} is partial after SIG{name}"
                );
            }
        }
        let leftovers: Vec<_> = std::fs::read_dir(work.data())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
        sweep(&work, &output);
    }
}

fn concurrent_runs(count: usize) {
    let work = Workdir::bakery();
    let children: Vec<_> = (0..count)
        .map(|i| {
            offline(&work)
                .env(
                    "AGENTO_TRACE_CONTEXT",
                    work.data().join(format!("trace-{i}.context")),
                )
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("agento runs")
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().expect("agento exits");
        assert!(output.status.success(), "{}", console(&output));
    }
    let archives = work.archives();
    assert_eq!(archives.len(), count, "one archive per run");
    let mut traces = std::collections::HashSet::new();
    for path in &archives {
        let archive = load(path).expect("readable");
        let trace = only_trace(&archive);
        assert!(validate(&archive, trace).is_empty(), "{}", path.display());
        let run_id = trace.roots()[0]
            .text("agento.run_id")
            .unwrap_or_default()
            .to_owned();
        assert!(
            path.to_string_lossy().contains(&run_id),
            "a span of run {run_id} in {}",
            path.display()
        );
        assert!(traces.insert(trace.id.clone()));
    }
}

#[test]
fn two_and_eight_concurrent_runs_in_one_data_directory_stay_apart() {
    concurrent_runs(2);
    concurrent_runs(8);
}

#[test]
fn two_stages_of_one_run_appending_at_once_keep_the_archive_valid() {
    let work = Workdir::bakery();
    assert!(
        run(work
            .command(env!("CARGO_BIN_EXE_1_01_JSON_Goal_to_PlanStructure"))
            .args(["--offline", "--goal", "goal.json", "--quiet"]))
        .status
        .success()
    );
    let children: Vec<_> = (0..2)
        .map(|_| {
            work.command(STAGE_2)
                .args(["--offline", "--quiet"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("stage 2 runs")
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().expect("stage 2 exits");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let archive = work.archive();
    let trace = only_trace(&archive);
    assert_eq!(
        named(trace, "agento.module.1_05_Ingest-PlanStructure-to-Plan").len(),
        2
    );
    assert_eq!(trace.roots().len(), 1);
}

fn hostile_goal(bytes: &[u8], expected: &str) {
    let work = Workdir::bakery();
    std::fs::File::create(work.path().join("goal.json"))
        .and_then(|mut f| f.write_all(bytes))
        .unwrap();
    let output = run(&mut offline(&work));
    let text = console(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains(expected), "expected {expected:?} in {text}");
    assert!(!text.contains("panicked"), "{text}");
    archives_parse(&work);
}

#[test]
fn hostile_goal_files_are_clear_errors_without_a_panic() {
    hostile_goal(&vec![b' '; 10 * 1024 * 1024], "larger than 4 MiB");
    hostile_goal(&[0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10], "not UTF-8");
    hostile_goal(b"{\"goal\": \"caf\xe9\"}", "not UTF-8");
    hostile_goal(
        format!("{}{}", "[".repeat(5000), "]".repeat(5000)).as_bytes(),
        "not valid JSON",
    );
    hostile_goal(
        b"{\"goal\": \"open\\u0000a\\u001bbakery\"}",
        "control characters",
    );
    hostile_goal(b"[\"goal\"]", "must hold a JSON object");
}

#[test]
fn a_bad_carrier_starts_a_new_run_with_one_warning() {
    for carrier in [
        &b"garbage"[..],
        b"{\"version\": 1, \"traceparent\": \"00-",
        b"{\"version\": 9, \"traceparent\": \"x\", \"run_id\": \"x\", \"archive\": \"x\"}",
        &vec![b'{'; 100_000],
    ] {
        let work = Workdir::bakery();
        assert!(
            run(work
                .command(env!("CARGO_BIN_EXE_1_01_JSON_Goal_to_PlanStructure"))
                .args(["--offline", "--goal", "goal.json", "--quiet"]))
            .status
            .success()
        );
        std::fs::write(work.data().join("trace.context"), carrier).unwrap();
        let output = run(work.command(STAGE_2).args(["--offline", "--quiet"]));
        let text = console(&output);
        assert!(output.status.success(), "{text}");
        let warnings = text
            .lines()
            .filter(|l| l.contains("ignoring the context carrier"))
            .count();
        assert_eq!(warnings, 1, "{text}");
        assert_eq!(work.archives().len(), 2, "stage 2 started a run of its own");
    }
}
