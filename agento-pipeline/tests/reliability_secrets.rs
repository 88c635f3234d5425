//! Secrets: with the three API keys set to known sentinel values (see
//! `support::SENTINELS`) and sent to the vendors (not `--offline`: the runs
//! talk to `agento simulate`, directly or through a misbehaving proxy), every
//! stage, every fault case and a SIGTERM run export to rotel, which relays to
//! a receiver that keeps everything. No sentinel may appear in the archives,
//! the console, the stage outputs, what the collector received or rotel's own
//! span log; no request header is recorded.

mod support;
mod support_reliability;

use std::process::{Child, Command, Output};
use std::time::Duration;

use support::{SENTINELS, Workdir, assert_no_sentinel, console, run};
use support_reliability::{
    Fault, FaultyVendor, RecordingCollector, STAGES, Simulator, archives_parse, closed_port,
    online, spawn, sweep,
};

/// Header names that carry the keys; none may be recorded anywhere.
const KEY_HEADERS: [&str; 3] = ["x-goog-api-key", "x-api-key", "authorization"];

/// One case: its label, its directory, its process (and what it talks to).
struct Case {
    label: String,
    work: Workdir,
    child: Child,
    _simulator: Simulator,
    _vendor: Option<FaultyVendor>,
}

fn export_to<'a>(command: &'a mut Command, collector: &RecordingCollector) -> &'a mut Command {
    command
        .env("OTEL_TRACES_EXPORTER", "otlp")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.endpoint)
        .env("AGENTO_SHUTDOWN_TIMEOUT_MS", "3000")
}

/// `agento run` against the simulator configured by `sim`, optionally
/// through a proxy injecting `faults`.
fn case(
    collector: &RecordingCollector,
    label: &str,
    sim: &[(&str, &str)],
    faults: Vec<(&'static str, Fault)>,
    env: &[(&str, &str)],
) -> Case {
    let work = Workdir::bakery();
    let simulator = Simulator::start(&work, sim);
    let vendor = (!faults.is_empty()).then(|| FaultyVendor::start(&simulator.url, faults));
    let url = vendor
        .as_ref()
        .map_or_else(|| simulator.url.clone(), |v| v.url.clone());
    let child = spawn(export_to(&mut online(&work, &url), collector).envs(env.iter().copied()));
    Case {
        label: label.to_owned(),
        work,
        child,
        _simulator: simulator,
        _vendor: vendor,
    }
}

/// Waits for every case and sweeps its outputs; returns the spans archived.
fn finish(cases: Vec<Case>) -> usize {
    let mut spans = 0;
    for case in cases {
        let output: Output = case.child.wait_with_output().expect("agento exits");
        assert!(
            !console(&output).contains("panicked"),
            "{}: {}",
            case.label,
            console(&output)
        );
        sweep(&case.work, &output);
        if case.label.contains("echoing") {
            assert!(
                console(&output).contains("Incorrect API key provided: [REDACTED]"),
                "the echoed key is redacted, not dropped: {}",
                console(&output)
            );
        }
        spans += check_archive(&case.work, &case.label);
    }
    spans
}

/// Asserts no key header in the archives; returns how many spans they hold.
fn check_archive(work: &Workdir, label: &str) -> usize {
    let text = archives_parse(work).to_ascii_lowercase();
    for header in KEY_HEADERS {
        assert!(!text.contains(header), "{label}: header {header} recorded");
    }
    text.matches("\"spanid\"").count()
}

fn collector_saw_nothing_secret(collector: &RecordingCollector, spans: usize) {
    let received = collector.received(spans);
    let got = received.matches("\"spanId\"").count();
    println!("archived {spans} spans; the collector received {got}");
    assert!(got > 0, "the collector received nothing");
    assert_no_sentinel(&received, "what the collector received");
    let lower = received.to_ascii_lowercase();
    for header in KEY_HEADERS {
        assert!(
            !lower.contains(header),
            "header {header} reached the collector"
        );
    }
}

#[test]
fn every_stage_and_a_sigterm_leak_no_key() {
    let collector = RecordingCollector::start();
    // The three stage binaries in sequence.
    let work = Workdir::bakery();
    let simulator = Simulator::start(&work, &[]);
    let mut spans = 0;
    for stage in STAGES {
        let mut command = work.command(stage);
        command
            .args(["--goal", "goal.json"])
            .env("GEMINI_BASE_URL", &simulator.url)
            .env("OPENAI_BASE_URL", format!("{}/v1", simulator.url))
            .env("ANTHROPIC_BASE_URL", &simulator.url);
        let output = run(export_to(&mut command, &collector));
        assert!(output.status.success(), "{stage}: {}", console(&output));
        sweep(&work, &output);
    }
    spans += check_archive(&work, "the stage binaries");
    // SIGTERM in the middle of stage 2.
    let term = case(
        &collector,
        "SIGTERM",
        &[("AGENTO_SIM_OPENAI_LATENCY_MS", "100")],
        Vec::new(),
        &[],
    );
    std::thread::sleep(Duration::from_millis(400));
    let status = Command::new("kill")
        .args(["-TERM", &term.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    spans += finish(vec![term]);
    collector_saw_nothing_secret(&collector, spans);
}

#[test]
fn every_vendor_fault_leaks_no_key() {
    let collector = RecordingCollector::start();
    let sim_faults: [(&str, &[(&str, &str)]); 7] = [
        (
            "503 once",
            &[
                ("AGENTO_SIM_GEMINI_FAIL_FIRST", "1"),
                ("AGENTO_SIM_GEMINI_FAILURE", "503"),
            ],
        ),
        (
            "429 with Retry-After",
            &[
                ("AGENTO_SIM_OPENAI_FAIL_FIRST", "1"),
                ("AGENTO_SIM_OPENAI_FAILURE", "429"),
            ],
        ),
        (
            "500 once",
            &[
                ("AGENTO_SIM_ANTHROPIC_FAIL_FIRST", "1"),
                ("AGENTO_SIM_ANTHROPIC_FAILURE", "500"),
            ],
        ),
        (
            "400 always",
            &[
                ("AGENTO_SIM_OPENAI_FAIL_ALWAYS", "1"),
                ("AGENTO_SIM_OPENAI_FAILURE", "400"),
            ],
        ),
        ("malformed JSON", &[("AGENTO_SIM_ANTHROPIC_MALFORMED", "1")]),
        (
            "40 KB replies",
            &[("AGENTO_SIM_GEMINI_HUGE_BYTES", "40000")],
        ),
        ("broken plan", &[("AGENTO_SIM_GEMINI_BROKEN_PLAN", "1")]),
    ];
    let mut cases: Vec<Case> = sim_faults
        .iter()
        .map(|(label, sim)| case(&collector, label, sim, Vec::new(), &[]))
        .collect();
    cases.push(case(
        &collector,
        "timeout",
        &[("AGENTO_SIM_GEMINI_LATENCY_MS", "1000")],
        Vec::new(),
        &[("AGENTO_LLM_TIMEOUT_SECS", "0.2")],
    ));
    cases.push(case(
        &collector,
        "reset and truncated body",
        &[],
        vec![
            ("generateContent", Fault::Reset),
            ("chat/completions", Fault::TruncatedBody),
        ],
        &[],
    ));
    // Vendors echo a rejected key in their error message.
    let echoes: Vec<(&'static str, Fault)> = SENTINELS
        .iter()
        .zip(["generateContent", "chat/completions", "messages"])
        .map(|((_, key), path)| {
            let body = serde_json::json!({"error": {"message": format!("Incorrect API key provided: {key}."), "code": 401}});
            (path, Fault::Error(401, body.to_string()))
        })
        .collect();
    cases.push(case(&collector, "401 echoing the key", &[], echoes, &[]));
    let spans = finish(cases);
    // The vendor is unreachable.
    let work = Workdir::bakery();
    let url = format!("http://127.0.0.1:{}", closed_port());
    let output = run(export_to(&mut online(&work, &url), &collector));
    assert_eq!(output.status.code(), Some(1), "{}", console(&output));
    sweep(&work, &output);
    let spans = spans + check_archive(&work, "unreachable");
    collector_saw_nothing_secret(&collector, spans);
}
