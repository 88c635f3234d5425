//! Signals: SIGTERM and SIGINT at several points in every stage of
//! `agento run`. Each vendor call takes 150 ms (Gemini's 300 ms, stage 1 being
//! one call), so a stage is reliably
//! mid-flight at the kill points ([`OFFSETS_MS`] after the stage started). After the signal:
//! exit code 143 / 130, every archive line parses, every span ended before the
//! signal is there with its parent, the interrupted spans (the root and the
//! running stage's module among them) end with ERROR naming the signal, and
//! each stage output is the previous run's file or a complete new one.

mod support;
mod support_reliability;

use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use agento_pipeline::trace::{Trace, load};
use support::{Workdir, console, only_trace, run};
use support_reliability::{
    MODULE_SPANS, OUTPUTS, assert_parents_present, module_span, offline, spawn, sweep,
};

/// Per-call latency of the simulated OpenAI and Anthropic.
const LATENCY_MS: &str = "150";
/// Per-call latency of the simulated Gemini (stage 1 is one Gemini call).
const GEMINI_LATENCY_MS: &str = "300";
/// Kill points, in milliseconds after each stage started: early and late in
/// stage 1's one call; in the first and the third call of stages 2 and 3.
const OFFSETS_MS: [[u64; 2]; 3] = [[40, 150], [40, 400], [40, 400]];

fn inode(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.ino())
}

/// How many spans are below `span_id`.
fn subtree(trace: &Trace, span_id: &str) -> usize {
    trace
        .children(span_id)
        .iter()
        .map(|child| 1 + subtree(trace, &child.span_id))
        .sum()
}

fn kill(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{signal} {pid}");
}

/// One kill point: `signal` `offset_ms` after stage `stage` (0-based) started.
fn interrupt(stage: usize, offset_ms: u64, signal: &str, code: i32) {
    let label = format!("SIG{signal} {offset_ms} ms into stage {}", stage + 1);
    let work = Workdir::bakery();
    // A complete earlier run: its outputs are the "old" versions.
    let first = run(&mut offline(&work));
    assert!(first.status.success(), "{}", console(&first));
    let old_archives = work.archives();
    let old: Vec<(Option<u64>, String)> = OUTPUTS
        .iter()
        .map(|f| {
            let path = work.data().join(f);
            (
                inode(&path),
                std::fs::read_to_string(path).unwrap_or_default(),
            )
        })
        .collect();

    let child = spawn(
        offline(&work)
            .env("AGENTO_SIM_GEMINI_LATENCY_MS", GEMINI_LATENCY_MS)
            .env("AGENTO_SIM_OPENAI_LATENCY_MS", LATENCY_MS)
            .env("AGENTO_SIM_ANTHROPIC_LATENCY_MS", LATENCY_MS),
    );
    // Stage 1 starts once telemetry is up (the run's archive is claimed, the
    // signal handler installed right after); a later stage when the previous
    // stage's output is replaced (atomic rename: a new inode).
    let deadline = Instant::now() + Duration::from_secs(30);
    while work.archives().len() == old_archives.len() {
        assert!(Instant::now() < deadline, "{label}: the run never started");
        std::thread::sleep(Duration::from_millis(2));
    }
    if stage > 0 {
        let previous = work.data().join(OUTPUTS[stage - 1]);
        while inode(&previous) == old[stage - 1].0 {
            assert!(
                Instant::now() < deadline,
                "{label}: stage {stage} never ended"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    std::thread::sleep(Duration::from_millis(offset_ms));
    assert_eq!(
        inode(&work.data().join(OUTPUTS[stage])),
        old[stage].0,
        "{label}: the stage had already ended"
    );
    kill(child.id(), signal);
    let output = child.wait_with_output().expect("agento exits");
    assert_eq!(
        output.status.code(),
        Some(code),
        "{label}: {}",
        console(&output)
    );

    let new_archive = work
        .archives()
        .into_iter()
        .find(|a| !old_archives.contains(a))
        .expect("the interrupted run's archive");
    let archive = load(&new_archive).expect("readable");
    let trace = only_trace(&archive);
    assert_parents_present(trace);
    let message = format!("interrupted by SIG{signal}");
    let interrupted: Vec<&str> = trace
        .spans
        .iter()
        .filter(|s| s.status_message == message)
        .map(|s| s.name.as_str())
        .collect();
    assert!(
        interrupted.contains(&"agento.pipeline"),
        "{label}: {interrupted:?}"
    );
    assert!(
        interrupted.contains(&MODULE_SPANS[stage]),
        "{label}: {interrupted:?}"
    );
    for span in trace.spans.iter().filter(|s| s.status_message == message) {
        assert_eq!(span.status_code, 2, "{label}: {}", span.name);
        assert_eq!(span.text("error.type"), Some("signal"), "{label}");
    }
    // The stages before ended normally, with every span a complete run has.
    let complete_archive = load(&old_archives[0]).expect("readable");
    let complete = only_trace(&complete_archive);
    for (i, module) in MODULE_SPANS[..stage].iter().enumerate() {
        let span = module_span(trace, i);
        assert_eq!(span.status_code, 1, "{label}: {module}");
        assert_eq!(
            subtree(trace, &span.span_id),
            subtree(complete, &module_span(complete, i).span_id),
            "{label}: spans of {module}"
        );
    }
    for (file, (_, old_text)) in OUTPUTS.iter().zip(&old) {
        let text = std::fs::read_to_string(work.data().join(file)).unwrap_or_default();
        let parsed = serde_json::from_str::<serde_json::Value>(&text);
        assert!(
            text == *old_text || parsed.is_ok(),
            "{label}: {file} is neither the old version nor a complete new one"
        );
    }
    sweep(&work, &output);
}

fn every_kill_point_of(stage: usize) {
    for offset in OFFSETS_MS[stage] {
        for (signal, code) in [("TERM", 143), ("INT", 130)] {
            interrupt(stage, offset, signal, code);
        }
    }
}

#[test]
fn signals_in_stage_1_plan_structure() {
    every_kill_point_of(0);
}

#[test]
fn signals_in_stage_2_ingest() {
    every_kill_point_of(1);
}

#[test]
fn signals_in_stage_3_revise() {
    every_kill_point_of(2);
}

#[test]
fn a_stage_binary_interrupted_mid_call_keeps_the_earlier_stages_spans() {
    let work = Workdir::bakery();
    let stage_1 = run(work.command(support_reliability::STAGES[0]).args([
        "--offline",
        "--goal",
        "goal.json",
        "--quiet",
    ]));
    assert!(stage_1.status.success(), "{}", console(&stage_1));
    let child = spawn(
        work.command(support_reliability::STAGES[1])
            .args(["--offline", "--quiet"])
            .env("AGENTO_SIM_OPENAI_LATENCY_MS", LATENCY_MS),
    );
    std::thread::sleep(Duration::from_millis(300));
    kill(child.id(), "TERM");
    let output = child.wait_with_output().expect("the stage exits");
    assert_eq!(output.status.code(), Some(143), "{}", console(&output));
    assert!(!work.data().join(OUTPUTS[1]).exists(), "no partial output");
    let archive = work.archive();
    let trace = only_trace(&archive);
    assert_parents_present(trace);
    assert_eq!(module_span(trace, 0).status_code, 1);
    let interrupted = module_span(trace, 1);
    assert_eq!(interrupted.status_code, 2);
    assert_eq!(interrupted.status_message, "interrupted by SIGTERM");
    let open_calls = trace
        .spans
        .iter()
        .filter(|s| s.is_llm_call() && s.status_message == "interrupted by SIGTERM")
        .count();
    assert!(open_calls >= 1, "the call in flight ends with ERROR");
    sweep(&work, &output);
}

#[test]
fn sighup_and_sigquit_end_the_run_like_sigterm() {
    // Closing the terminal, and Ctrl-\.
    interrupt(1, 400, "HUP", 129);
    interrupt(2, 40, "QUIT", 131);
}

#[test]
fn a_second_signal_cuts_the_exit_flush_short() {
    // A collector that accepts connections and never answers: the exit flush
    // of the first signal waits on it (up to the 60 s shutdown bound).
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let endpoint = format!("http://{}", listener.local_addr().expect("its address"));
    std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().flatten().collect();
        drop(held);
    });
    let work = Workdir::bakery();
    let mut child = spawn(
        offline(&work)
            .env("OTEL_TRACES_EXPORTER", "otlp")
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
            .env("OTEL_EXPORTER_OTLP_TIMEOUT", "60000")
            .env("AGENTO_SHUTDOWN_TIMEOUT_MS", "60000")
            .env("AGENTO_SIM_OPENAI_LATENCY_MS", LATENCY_MS)
            .env("AGENTO_SIM_ANTHROPIC_LATENCY_MS", LATENCY_MS),
    );
    wait_until_mid_run(&work);
    kill(child.id(), "TERM");
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        child.try_wait().expect("the child can be polled").is_none(),
        "the exit flush should still be waiting on the silent collector"
    );
    let second = Instant::now();
    kill(child.id(), "INT");
    let output = child.wait_with_output().expect("agento exits");
    let waited = second.elapsed();
    let text = console(&output);
    assert_eq!(output.status.code(), Some(143), "{text}");
    assert!(
        waited < Duration::from_secs(10),
        "exited {waited:?} after the second signal"
    );
    assert!(
        text.contains("agento: SIGINT during the exit flush: exiting without waiting for it"),
        "{text}"
    );
    let archive = work.archive();
    let trace = only_trace(&archive);
    assert_parents_present(trace);
    let root = trace
        .spans
        .iter()
        .find(|s| s.parent_span_id.is_empty())
        .expect("the root was archived before the export flush");
    assert_eq!(root.status_message, "interrupted by SIGTERM");
    println!("exited {waited:?} after the second signal");
}

#[test]
fn sighup_with_the_terminal_gone_still_ends_the_run_cleanly() {
    // The terminal closed: SIGHUP, and stdout/stderr lead nowhere. The exit
    // line (no collector listens) must not turn the exit into a panic.
    let work = Workdir::bakery();
    let mut child = spawn(
        offline(&work)
            .env("OTEL_TRACES_EXPORTER", "otlp")
            .env(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("http://127.0.0.1:{}", support_reliability::closed_port()),
            )
            .env("AGENTO_SIM_OPENAI_LATENCY_MS", LATENCY_MS)
            .env("AGENTO_SIM_ANTHROPIC_LATENCY_MS", LATENCY_MS),
    );
    wait_until_mid_run(&work);
    drop(child.stdout.take());
    drop(child.stderr.take());
    kill(child.id(), "HUP");
    let status = child.wait().expect("agento exits");
    assert_eq!(status.code(), Some(129));
    let archive = work.archive();
    let trace = only_trace(&archive);
    assert_parents_present(trace);
    let root = trace
        .spans
        .iter()
        .find(|s| s.parent_span_id.is_empty())
        .expect("the root is archived");
    assert_eq!(root.status_message, "interrupted by SIGHUP");
}

/// Waits until the run has started its archive, then 600 ms more: the run is
/// then in the middle of its slowed-down LLM calls.
fn wait_until_mid_run(work: &Workdir) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while work.archives().is_empty() {
        assert!(Instant::now() < deadline, "the run never started");
        std::thread::sleep(Duration::from_millis(2));
    }
    std::thread::sleep(Duration::from_millis(600));
}
