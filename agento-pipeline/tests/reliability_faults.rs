//! Faults: vendors that fail, stall, reset, truncate or flood; collectors that
//! are down, hung or die mid-run. The run retries where that is right, fails
//! with a clear error otherwise, says what happened in its spans, keeps a
//! complete archive and exits within the shutdown bound.

mod support;
mod support_reliability;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use agento_pipeline::trace::Attr;
use agento_pipeline::trace::validate::validate;
use support::{Workdir, console, named, only_trace, run};
use support_reliability::{
    Fault, FaultyVendor, RecordingCollector, Simulator, closed_port, offline, online, spawn, sweep,
};

/// The statuses of the attempts under the first retry span named `retry`.
fn attempt_statuses(work: &Workdir, retry: &str) -> Vec<(i32, Option<String>)> {
    let archive = work.archive();
    let trace = only_trace(&archive);
    let span = named(trace, retry)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no {retry} span"));
    trace
        .children(&span.span_id)
        .iter()
        .map(|a| (a.status_code, a.text("error.type").map(str::to_owned)))
        .collect()
}

fn complete(work: &Workdir) {
    let archive = work.archive();
    let trace = only_trace(&archive);
    let violations = validate(&archive, trace);
    assert!(violations.is_empty(), "{violations:#?}");
}

#[test]
fn server_errors_are_retried_and_the_run_succeeds() {
    let work = Workdir::bakery();
    let output = run(offline(&work)
        .env("AGENTO_SIM_OPENAI_FAIL_FIRST", "2")
        .env("AGENTO_SIM_OPENAI_FAILURE", "500"));
    assert!(output.status.success(), "{}", console(&output));
    let http500 = Some("http.500".to_owned());
    assert_eq!(
        attempt_statuses(&work, "llm.openai.draft_step.with_retry"),
        [(2, http500.clone()), (2, http500), (1, None)]
    );
    complete(&work);
    sweep(&work, &output);
}

#[test]
fn a_429_is_retried_after_the_retry_after_it_names() {
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
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0].text("error.type"), Some("http.429"));
    assert_eq!(attempts[1].status_code, 1);
    let waited = attempts[1].start_ns - attempts[0].end_ns;
    assert!(
        waited >= 1_000_000_000,
        "waited {waited} ns; Retry-After said 1 s"
    );
    complete(&work);
    sweep(&work, &output);
}

#[test]
fn malformed_json_is_not_retried_and_names_the_vendor() {
    let work = Workdir::bakery();
    let output = run(offline(&work).env("AGENTO_SIM_GEMINI_MALFORMED", "1"));
    let text = console(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("error: Gemini sent an answer that is not valid"),
        "{text}"
    );
    assert_eq!(
        attempt_statuses(&work, "llm.gemini.generate_plan_structure.with_retry"),
        [(2, Some("decode".to_owned()))]
    );
    sweep(&work, &output);
}

#[test]
fn a_40_kb_reply_is_archived_truncated_with_its_true_length() {
    let work = Workdir::bakery();
    let output = run(offline(&work).env("AGENTO_SIM_OPENAI_HUGE_BYTES", "40000"));
    assert!(output.status.success(), "{}", console(&output));
    let archive = work.archive();
    let trace = only_trace(&archive);
    let drafts: Vec<_> = trace
        .spans
        .iter()
        .filter(|s| s.is_llm_call() && s.text("agento.step_type") == Some("draft"))
        .collect();
    assert!(!drafts.is_empty());
    for draft in drafts {
        assert_eq!(
            draft.attr("gen_ai.response.truncated"),
            Some(&Attr::Bool(true))
        );
        assert!(
            draft
                .attr("agento.response.length")
                .and_then(Attr::as_int)
                .unwrap_or(0)
                >= 40_000
        );
        let content = draft.text("gen_ai.response.content").unwrap_or_default();
        assert!(content.ends_with("...[truncated]"));
        assert_eq!(content.chars().count(), 8000 + "...[truncated]".len());
    }
    complete(&work);
    sweep(&work, &output);
}

#[test]
fn timeouts_are_retried_then_fail_clearly() {
    let work = Workdir::bakery();
    let output = run(offline(&work)
        .env("AGENTO_SIM_GEMINI_LATENCY_MS", "1500")
        .env("AGENTO_LLM_TIMEOUT_SECS", "0.2"));
    let text = console(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("error: Gemini did not answer within 0.2s"),
        "{text}"
    );
    let timeout = Some("timeout".to_owned());
    assert_eq!(
        attempt_statuses(&work, "llm.gemini.generate_plan_structure.with_retry"),
        [(2, timeout.clone()), (2, timeout.clone()), (2, timeout)]
    );
    sweep(&work, &output);
}

#[test]
fn connection_resets_and_truncated_bodies_are_retried() {
    let work = Workdir::bakery();
    let simulator = Simulator::start(&work, &[]);
    let vendor = FaultyVendor::start(
        &simulator.url,
        vec![
            ("generateContent", Fault::Reset),
            ("generateContent", Fault::TruncatedBody),
            ("chat/completions", Fault::Reset),
        ],
    );
    let output = run(&mut online(&work, &vendor.url));
    assert!(
        output.status.success(),
        "{}\n{:?}",
        console(&output),
        vendor.served()
    );
    let statuses = attempt_statuses(&work, "llm.gemini.generate_plan_structure.with_retry");
    assert_eq!(statuses.len(), 3, "{statuses:?}");
    assert_eq!(statuses[0], (2, Some("connect".to_owned())));
    assert_eq!(statuses[1].0, 2, "the truncated body is an error");
    assert_eq!(statuses[2], (1, None));
    let archive = work.archive();
    let trace = only_trace(&archive);
    let first = trace
        .children(&named(trace, "llm.gemini.generate_plan_structure.with_retry")[0].span_id)[0];
    assert!(
        first.status_message.starts_with("cannot reach Gemini"),
        "{}",
        first.status_message
    );
    complete(&work);
    sweep(&work, &output);
}

#[test]
fn an_unreachable_vendor_is_retried_then_fails_clearly() {
    let work = Workdir::bakery();
    let url = format!("http://127.0.0.1:{}", closed_port());
    let output = run(&mut online(&work, &url));
    let text = console(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("error: cannot reach Gemini"), "{text}");
    assert_eq!(
        attempt_statuses(&work, "llm.gemini.generate_plan_structure.with_retry").len(),
        3
    );
    sweep(&work, &output);
}

/// The shutdown bound the collector tests set.
const SHUTDOWN_MS: u64 = 500;

/// The time of one offline run that exports nowhere (the baseline).
fn baseline(latency_ms: &str) -> Duration {
    let work = Workdir::bakery();
    let started = Instant::now();
    let output = run(offline(&work).env("AGENTO_SIM_OPENAI_LATENCY_MS", latency_ms));
    assert!(output.status.success(), "{}", console(&output));
    started.elapsed()
}

/// Runs offline exporting to `endpoint`; asserts success, a complete archive
/// and an exit at most the shutdown bound (plus 1 s of slack for a loaded
/// machine) later than the baseline run.
fn run_against_collector(endpoint: &str, latency_ms: &str, during: impl FnOnce()) {
    let base = baseline(latency_ms);
    let work = Workdir::bakery();
    let started = Instant::now();
    let child = spawn(
        offline(&work)
            .env("OTEL_TRACES_EXPORTER", "otlp")
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
            .env("OTEL_EXPORTER_OTLP_TIMEOUT", "10000")
            .env("AGENTO_SIM_OPENAI_LATENCY_MS", latency_ms)
            .env("AGENTO_SHUTDOWN_TIMEOUT_MS", SHUTDOWN_MS.to_string()),
    );
    during();
    let output = child.wait_with_output().expect("agento exits");
    let elapsed = started.elapsed();
    assert!(output.status.success(), "{}", console(&output));
    complete(&work);
    sweep(&work, &output);
    let bound = base + Duration::from_millis(SHUTDOWN_MS) + Duration::from_secs(1);
    println!("collector {endpoint}: baseline {base:?}, run {elapsed:?}, bound {bound:?}");
    assert!(elapsed <= bound, "exit took {elapsed:?}, bound {bound:?}");
}

#[test]
fn a_collector_down_from_the_start_costs_at_most_the_shutdown_bound() {
    run_against_collector(&format!("http://127.0.0.1:{}", closed_port()), "0", || {});
}

#[test]
fn a_collector_that_accepts_and_never_answers_costs_at_most_the_shutdown_bound() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let endpoint = format!("http://{}", listener.local_addr().expect("its address"));
    // Holds every connection open and never answers (a collector that would
    // answer after 10 s, seen from a run that ends sooner).
    std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().collect();
        drop(held);
    });
    run_against_collector(&endpoint, "0", || {});
}

#[test]
fn a_collector_dying_mid_run_loses_nothing_from_the_archive() {
    let collector = RecordingCollector::start();
    let endpoint = collector.endpoint.clone();
    let mut collector = Some(collector);
    // Each OpenAI call takes 40 ms: stage 2 runs for about half a second.
    run_against_collector(&endpoint, "40", || {
        std::thread::sleep(Duration::from_millis(300));
        drop(collector.take());
    });
}
