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

/// The attempts under the first retry span named `retry`.
fn attempts<'a>(
    trace: &'a agento_pipeline::trace::Trace,
    retry: &str,
) -> Vec<&'a agento_pipeline::trace::SpanRecord> {
    let span = named(trace, retry)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no {retry} span"));
    trace.children(&span.span_id)
}

#[test]
fn a_gemini_429_waits_the_retry_delay_its_body_names() {
    let work = Workdir::bakery();
    let output = run(offline(&work)
        .env("AGENTO_SIM_GEMINI_FAIL_FIRST", "1")
        .env("AGENTO_SIM_GEMINI_FAILURE", "429")
        .env("AGENTO_SIM_GEMINI_RETRY_AFTER_SECS", "2"));
    assert!(output.status.success(), "{}", console(&output));
    let archive = work.archive();
    let trace = only_trace(&archive);
    let tries = attempts(trace, "llm.gemini.generate_plan_structure.with_retry");
    assert_eq!(tries.len(), 2);
    assert_eq!(tries[0].text("error.type"), Some("http.429"));
    assert_eq!(
        tries[0].attr("agento.retry.after_secs"),
        Some(&Attr::Float(2.0)),
        "the RetryInfo delay is on the failed attempt"
    );
    let waited = tries[1].start_ns - tries[0].end_ns;
    assert!(
        waited >= 2_000_000_000,
        "waited {waited} ns; RetryInfo said 2 s (no Retry-After header)"
    );
    complete(&work);
}

#[test]
fn a_retry_delay_over_the_cap_is_a_clear_error_naming_it() {
    let work = Workdir::bakery();
    let output = run(offline(&work)
        .env("AGENTO_SIM_GEMINI_FAIL_ALWAYS", "1")
        .env("AGENTO_SIM_GEMINI_FAILURE", "429")
        .env("AGENTO_SIM_GEMINI_RETRY_AFTER_SECS", "30")
        .env("AGENTO_MAX_RETRY_WAIT_SECS", "5"));
    let text = console(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains(
            "Gemini answered HTTP 429 and asked to wait 30s before retrying, more than AGENTO_MAX_RETRY_WAIT_SECS=5s allows"
        ),
        "{text}"
    );
    let archive = work.archive();
    let trace = only_trace(&archive);
    let tries = attempts(trace, "llm.gemini.generate_plan_structure.with_retry");
    assert_eq!(tries.len(), 1, "not retried");
    assert_eq!(
        tries[0].attr("agento.retry.after_secs"),
        Some(&Attr::Float(30.0))
    );
    sweep(&work, &output);
}

/// Runs offline with `envs`; the failed run's console and its one attempt.
fn blocked_run(envs: &[(&str, &str)], retry: &str, message: &str, error_type: &str) {
    let work = Workdir::bakery();
    let output = run(offline(&work).envs(envs.iter().copied()));
    let text = console(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains(message), "{text}");
    let archive = work.archive();
    let trace = only_trace(&archive);
    let tries = attempts(trace, retry);
    assert_eq!(tries.len(), 1, "a blocked answer is not retried");
    let attempt = tries[0];
    assert_eq!(attempt.status_code, 2);
    assert_eq!(attempt.text("error.type"), Some(error_type));
    assert!(
        attempt
            .attr("gen_ai.usage.input_tokens")
            .and_then(Attr::as_int)
            .is_some_and(|n| n > 0),
        "the billed usage is kept"
    );
    assert!(
        attempt.text("gen_ai.response.id").is_some(),
        "the response id is kept"
    );
    sweep(&work, &output);
}

#[test]
fn blocked_prompts_safety_stops_and_refusals_name_their_reason() {
    blocked_run(
        &[("AGENTO_SIM_GEMINI_MODE", "blocked")],
        "llm.gemini.generate_plan_structure.with_retry",
        "error: Gemini blocked the prompt (reason PROHIBITED_CONTENT)",
        "blocked.prohibited_content",
    );
    blocked_run(
        &[("AGENTO_SIM_GEMINI_MODE", "safety")],
        "llm.gemini.generate_plan_structure.with_retry",
        "error: Gemini stopped the answer (reason SAFETY)",
        "blocked.safety",
    );
    blocked_run(
        &[("AGENTO_SIM_OPENAI_MODE", "blocked")],
        "llm.openai.draft_step.with_retry",
        "error: OpenAI stopped the answer (reason content_filter)",
        "blocked.content_filter",
    );
    blocked_run(
        &[("AGENTO_SIM_ANTHROPIC_MODE", "blocked")],
        "llm.anthropic.revision_instruction.with_retry",
        "error: Anthropic stopped the answer (reason refusal)",
        "blocked.refusal",
    );
}

#[test]
fn a_cut_off_reply_warns_and_is_asked_again_with_a_larger_budget() {
    let work = Workdir::bakery();
    let output = run(work
        .command(support_reliability::AGENTO)
        .args(["run", "--offline", "--goal", "goal.json"])
        .env("AGENTO_SIM_OPENAI_CUT_FIRST", "1"));
    let text = console(&output);
    assert!(output.status.success(), "{text}");
    assert_eq!(
        text.matches(
            "reply was cut off at the output limit (length); asking once more with 32768 tokens"
        )
        .count(),
        1,
        "{text}"
    );
    let archive = work.archive();
    let trace = only_trace(&archive);
    let drafts: Vec<_> = named(trace, "llm.openai.draft_step.with_retry")
        .into_iter()
        .flat_map(|retry| trace.children(&retry.span_id))
        .collect();
    let first = drafts
        .iter()
        .find(|s| s.attr("agento.response.incomplete") == Some(&Attr::Bool(true)))
        .expect("the cut-off attempt is marked incomplete");
    assert_eq!(
        first.attr("gen_ai.response.finish_reasons"),
        Some(&Attr::List(vec!["length".to_owned()]))
    );
    assert_eq!(
        first.attr("gen_ai.request.max_tokens"),
        Some(&Attr::Int(16_384))
    );
    let step = first.text("agento.step_name");
    let again: Vec<_> = drafts
        .iter()
        .filter(|s| s.text("agento.step_name") == step && s.span_id != first.span_id)
        .collect();
    assert_eq!(again.len(), 1, "asked once more");
    assert_eq!(
        again[0].attr("gen_ai.request.max_tokens"),
        Some(&Attr::Int(32_768))
    );
    assert_eq!(again[0].attr("agento.response.incomplete"), None);
    complete(&work);
}

#[test]
fn a_model_that_rejects_temperature_names_the_variable_to_set() {
    let work = Workdir::bakery();
    let rejecting = |command: &mut std::process::Command| {
        command
            .env("OPENAI_MODEL", "gpt-4.1")
            .env("AGENTO_SIM_OPENAI_REJECT_TEMPERATURE", "1");
    };
    let mut command = offline(&work);
    rejecting(&mut command);
    let output = run(&mut command);
    let text = console(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("error: OpenAI model gpt-4.1 does not take `temperature`")
            && text.contains("set OPENAI_TEMPERATURE=none to leave it out"),
        "{text}"
    );
    let archive = work.archive();
    let trace = only_trace(&archive);
    let tries = attempts(trace, "llm.openai.draft_step.with_retry");
    assert_eq!(tries.len(), 1, "not retried");
    assert_eq!(tries[0].text("error.type"), Some("unsupported_parameter"));
    assert!(tries[0].attr("gen_ai.request.temperature").is_some());
    sweep(&work, &output);

    let work = Workdir::bakery();
    let mut command = offline(&work);
    rejecting(&mut command);
    let output = run(command.env("OPENAI_TEMPERATURE", "none"));
    assert!(output.status.success(), "{}", console(&output));
    let archive = work.archive();
    let trace = only_trace(&archive);
    for span in named(trace, "llm.openai.draft_step") {
        assert_eq!(span.attr("gen_ai.request.temperature"), None);
    }
}

/// Runs `command` to its end; its output and peak RSS in KiB: from GNU
/// time's `%M` where `/usr/bin/time` exists, else from `VmHWM` in
/// `/proc/<pid>/status`, polled until the process exits.
fn run_measuring_peak_rss(
    base: &std::process::Command,
    work: &Workdir,
) -> (std::process::Output, u64) {
    let time = std::path::Path::new("/usr/bin/time");
    let rss_file = work.path().join("rss.txt");
    let mut command = if time.exists() {
        let mut command = std::process::Command::new(time);
        command
            .arg("-f")
            .arg("%M")
            .arg("-o")
            .arg(&rss_file)
            .arg(base.get_program());
        command
    } else {
        std::process::Command::new(base.get_program())
    };
    command.args(base.get_args()).current_dir(work.path());
    for (name, value) in base.get_envs() {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
    if time.exists() {
        let output = run(&mut command);
        let peak = std::fs::read_to_string(&rss_file)
            .expect("GNU time wrote the peak RSS")
            .lines()
            .last()
            .and_then(|line| line.trim().parse().ok())
            .expect("a number of KiB");
        return (output, peak);
    }
    let child = spawn(&mut command);
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    let waiter = std::thread::spawn(move || child.wait_with_output().expect("the run ends"));
    while !waiter.is_finished() {
        if let Some(kib) = std::fs::read_to_string(&status).ok().and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<u64>()
                        .ok()
                })
        }) {
            peak = peak.max(kib);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    (waiter.join().expect("the waiter"), peak)
}

#[test]
fn a_reply_over_the_bound_is_refused_in_bounded_memory() {
    let work = Workdir::bakery();
    let simulator = Simulator::start(&work, &[("AGENTO_SIM_GEMINI_HUGE_BYTES", "40000000")]);
    let (output, peak_kib) = run_measuring_peak_rss(&online(&work, &simulator.url), &work);
    let text = console(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains(
            "error: Gemini sent a reply larger than AGENTO_MAX_REPLY_BYTES=16777216 bytes"
        ),
        "{text}"
    );
    eprintln!("peak RSS with a 40 MB reply: {} KiB", peak_kib);
    assert!(peak_kib < 64 * 1024, "peak RSS {peak_kib} KiB");
    let archive = work.archive();
    let trace = only_trace(&archive);
    let tries = attempts(trace, "llm.gemini.generate_plan_structure.with_retry");
    assert_eq!(tries.len(), 1, "not retried");
    assert_eq!(tries[0].text("error.type"), Some("reply_too_large"));
}

#[test]
fn stage_1_asks_for_json_and_the_plan_span_holds_pure_json() {
    let work = Workdir::bakery();
    let record = work.path().join("requests.jsonl");
    let output = run(offline(&work).env("AGENTO_SIM_RECORD", &record));
    assert!(output.status.success(), "{}", console(&output));
    let recorded = std::fs::read_to_string(&record).expect("the record");
    let plan_request: serde_json::Value = recorded
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .find(|request| {
            request["body"]["contents"][0]["parts"][0]["text"]
                .as_str()
                .is_some_and(|text| text.starts_with("[agento:plan]"))
        })
        .expect("the plan request");
    let config = &plan_request["body"]["generationConfig"];
    assert_eq!(config["responseMimeType"], "application/json");
    assert_eq!(
        &config["responseJsonSchema"],
        agento_pipeline::plan::PlanStructure::json_schema()
    );
    let archive = work.archive();
    let trace = only_trace(&archive);
    let tries = attempts(trace, "llm.gemini.generate_plan_structure.with_retry");
    let reply = tries[0]
        .text("gen_ai.response.content")
        .expect("the plan reply");
    let plan: serde_json::Value = serde_json::from_str(reply).expect("pure JSON in JSON mode");
    assert_eq!(
        plan["Original_Goal"],
        "Open a bakery in Oakland within six months"
    );
}

#[test]
fn an_anthropic_529_is_retried_and_a_huge_timeout_is_capped_not_a_panic() {
    let work = Workdir::bakery();
    let output = run(work
        .command(support_reliability::AGENTO)
        .args(["run", "--offline", "--goal", "goal.json"])
        .env("AGENTO_LLM_TIMEOUT_SECS", "18446744073709551615")
        .env("AGENTO_SIM_ANTHROPIC_FAIL_FIRST", "1")
        .env("AGENTO_SIM_ANTHROPIC_FAILURE", "529"));
    let text = console(&output);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains(
            "warning: AGENTO_LLM_TIMEOUT_SECS=18446744073709551615 is more than the maximum of 86400 s; using 86400 s"
        ),
        "{text}"
    );
    assert!(!text.contains("panicked"), "{text}");
    let archive = work.archive();
    let trace = only_trace(&archive);
    let tries = attempts(trace, "llm.anthropic.revision_instruction.with_retry");
    assert_eq!(tries.len(), 2);
    assert_eq!(tries[0].text("error.type"), Some("http.529"));
    assert_eq!(tries[1].status_code, 1);
}
