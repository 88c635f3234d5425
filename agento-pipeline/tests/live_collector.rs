//! Live export to a real collector: `agento run --offline` sends its spans to
//! `rotel` on loopback (see `support_collector`), which relays them to a
//! receiver inside the test that records every span id and its arrival time.

mod support;
mod support_collector;

use std::collections::BTreeSet;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use agento_pipeline::trace::Trace;
use support::{Workdir, console, only_trace, run};
use support_collector::{Collector, unix_ns};

const AGENTO: &str = env!("CARGO_BIN_EXE_agento");
const FIRST_STAGE: &str = "agento.module.1_01_JSON_Goal_to_PlanStructure";
const LAST_STAGE: &str = "agento.module.2_Revise-Plan-Stable";

/// `agento run --offline` in `work`, exporting to `endpoint` over `protocol`.
fn agento_run(work: &Workdir, protocol: &str, endpoint: &str) -> Command {
    let mut command = work.command(AGENTO);
    command
        .args(["run", "--offline", "--goal", "goal.json", "--quiet"])
        .env("OTEL_TRACES_EXPORTER", "otlp")
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint);
    command
}

fn span_ids(trace: &Trace) -> BTreeSet<String> {
    trace.spans.iter().map(|s| s.span_id.clone()).collect()
}

fn every_archived_span_reaches_the_collector(protocol: &str) {
    let collector = Collector::start();
    let work = Workdir::bakery();
    let output = run(&mut agento_run(
        &work,
        protocol,
        &collector.endpoint(protocol),
    ));
    assert!(output.status.success(), "{}", console(&output));
    assert!(
        output.stderr.is_empty(),
        "no telemetry warning when the collector is up: {}",
        console(&output)
    );
    let archive = work.archive();
    let ids = span_ids(only_trace(&archive));
    assert!(ids.len() > 30, "a full run has all three stages: {ids:?}");
    let arrived: BTreeSet<String> = collector.wait_for(&ids).into_keys().collect();
    let missing: Vec<&String> = ids.difference(&arrived).collect();
    assert!(
        missing.is_empty(),
        "{} of {} archived spans never reached rotel over {protocol}: {missing:?}",
        missing.len(),
        ids.len()
    );
    assert_eq!(arrived, ids, "rotel got spans the archive does not have");
}

#[test]
fn every_archived_span_reaches_rotel_over_grpc() {
    every_archived_span_reaches_the_collector("grpc");
}

#[test]
fn every_archived_span_reaches_rotel_over_http_protobuf() {
    every_archived_span_reaches_the_collector("http/protobuf");
}

#[test]
fn spans_stream_live_not_at_exit() {
    let collector = Collector::start();
    let work = Workdir::bakery();
    let output = run(agento_run(&work, "grpc", &collector.endpoint("grpc"))
        .env("AGENTO_SIM_ANTHROPIC_LATENCY_MS", "150"));
    assert!(output.status.success(), "{}", console(&output));
    let archive = work.archive();
    let trace = only_trace(&archive);
    let arrivals = collector.wait_for(&span_ids(trace));
    let stage = |name: &str| {
        let found = support::named(trace, name);
        assert_eq!(found.len(), 1, "one {name} span");
        found[0]
    };
    let (first, last) = (stage(FIRST_STAGE), stage(LAST_STAGE));
    let arrived = *arrivals
        .get(&first.span_id)
        .expect("the first stage's span reached the collector");
    let last_end = u128::from(last.end_ns);
    assert!(
        arrived < last_end,
        "the first stage's span arrived {} ms after the last stage ended: exported at exit, not live",
        (arrived - last_end) / 1_000_000
    );
    let delays_ms: Vec<u128> = trace
        .spans
        .iter()
        .filter_map(|s| {
            let at = arrivals.get(&s.span_id)?;
            Some(at.saturating_sub(u128::from(s.end_ns)) / 1_000_000)
        })
        .collect();
    println!(
        "span end → arrival behind rotel: mean {} ms, max {} ms over {} spans; \
         the first stage arrived {} ms before the last stage ended",
        delays_ms.iter().sum::<u128>() / delays_ms.len().max(1) as u128,
        delays_ms.iter().max().copied().unwrap_or_default(),
        delays_ms.len(),
        (last_end - arrived) / 1_000_000
    );
}

/// One run exporting to rotel over gRPC; with `kill_after`, rotel is killed
/// that long after the start. The run's output, its directory, the time from
/// the root span's end to the process exit, and when rotel was killed (Unix
/// ns).
struct Observed {
    output: Output,
    work: Workdir,
    exit_delay: Duration,
    killed_at: Option<u128>,
}

fn observe(kill_after: Option<Duration>) -> Observed {
    let mut collector = Collector::start();
    let work = Workdir::bakery();
    let mut child = agento_run(&work, "grpc", &collector.endpoint("grpc"))
        .env("AGENTO_SIM_ANTHROPIC_LATENCY_MS", "150")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("agento runs");
    let killed_at = kill_after.map(|after| {
        std::thread::sleep(after);
        assert!(
            matches!(child.try_wait(), Ok(None)),
            "the run ended before the collector was stopped"
        );
        collector.stop();
        unix_ns()
    });
    let output = child.wait_with_output().expect("agento exits");
    let exited = unix_ns();
    let archive = work.archive();
    let root_end = u128::from(only_trace(&archive).roots()[0].end_ns);
    let exit_delay =
        Duration::from_nanos(u64::try_from(exited.saturating_sub(root_end)).unwrap_or(u64::MAX));
    Observed {
        output,
        work,
        exit_delay,
        killed_at,
    }
}

#[test]
fn a_collector_that_dies_mid_run_costs_no_span_one_warning_and_little_time() {
    let up = observe(None);
    assert!(up.output.status.success(), "{}", console(&up.output));
    let down = observe(Some(Duration::from_millis(500)));
    let text = console(&down.output);
    assert!(
        down.output.status.success(),
        "exit 0 without a collector: {text}"
    );

    let up_archive = up.work.archive();
    let down_archive = down.work.archive();
    let (up_trace, trace) = (only_trace(&up_archive), only_trace(&down_archive));
    let killed_at = down.killed_at.expect("rotel was killed");
    let stage_ends = |name: &str| {
        support::named(trace, name)
            .first()
            .map(|s| u128::from(s.end_ns))
    };
    assert!(
        stage_ends(LAST_STAGE).is_some_and(|end| end > killed_at),
        "the collector was stopped before the last stage ended"
    );
    assert_eq!(
        trace.spans.len(),
        up_trace.spans.len(),
        "the archive keeps every span when the collector dies"
    );
    assert!(
        agento_pipeline::trace::validate::validate(&down_archive, trace).is_empty(),
        "the archive is a complete, valid trace"
    );

    let stderr = String::from_utf8_lossy(&down.output.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "exactly one warning line: {stderr}");
    let warning = lines[0];
    for part in ["agento: telemetry:", "not exported", "collector", "archive"] {
        assert!(warning.contains(part), "{part:?} in the warning: {warning}");
    }

    println!(
        "exit delay after the root span ended: collector up {:?}, collector killed mid-run {:?}",
        up.exit_delay, down.exit_delay
    );
    assert!(
        down.exit_delay <= up.exit_delay + Duration::from_millis(500),
        "a dead collector cost {:?} at exit against {:?} with it up (bound: +0.5 s)",
        down.exit_delay,
        up.exit_delay
    );
}
