//! `agento trace validate | show | report` on archives that break the
//! contract or hold several traces — what users meet after changing the
//! pipeline or when reading a collector's files — and on hostile archives:
//! parent-id cycles, 100,000-deep chains, 100,000 siblings, unreachable
//! spans, keyless attributes, malformed lines, closed pipes and full disks.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use support::{Workdir, console, run};

const AGENTO: &str = env!("CARGO_BIN_EXE_agento");

fn one_run(work: &Workdir) -> std::path::PathBuf {
    let output =
        run(work
            .command(AGENTO)
            .args(["run", "--offline", "--goal", "goal.json", "--quiet"]));
    assert!(output.status.success(), "{}", console(&output));
    work.archives().pop().expect("an archive")
}

/// The archive with every span named `name` removed.
fn without_span(archive: &std::path::Path, name: &str) -> String {
    let mut out = String::new();
    for line in std::fs::read_to_string(archive).unwrap().lines() {
        let mut request: serde_json::Value = serde_json::from_str(line).unwrap();
        for resource in request["resourceSpans"].as_array_mut().unwrap() {
            for scope in resource["scopeSpans"].as_array_mut().unwrap() {
                scope["spans"]
                    .as_array_mut()
                    .unwrap()
                    .retain(|span| span["name"] != name);
            }
        }
        out.push_str(&request.to_string());
        out.push('\n');
    }
    out
}

#[test]
fn validate_names_each_violation_and_fails() {
    let work = Workdir::bakery();
    let archive = one_run(&work);
    let broken = work.path().join("broken.otlp.json");
    let mut text = without_span(&archive, "agento.module.1_05_Ingest-PlanStructure-to-Plan");
    text = text.replace("\"agent.final_response\"", "\"agent.final_answer\"");
    text.push_str("{\"resourceSpans\": [oops\n");
    std::fs::write(&broken, text).unwrap();
    let output = run(work
        .command(AGENTO)
        .args(["trace", "validate"])
        .arg(&broken));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("develop_drafts") && stdout.contains("is not in the file"),
        "{stdout}"
    );
    assert!(
        stdout.contains("expected exactly one span with `agent.final_response`, found 0"),
        "{stdout}"
    );
    assert!(
        stdout.contains("not an OTLP ExportTraceServiceRequest"),
        "{stdout}"
    );
    assert!(stdout.contains("violation(s) of the agento trace contract"));

    let output = run(work
        .command(AGENTO)
        .args(["trace", "validate"])
        .arg(&archive));
    assert!(output.status.success(), "{}", console(&output));
}

#[test]
fn a_file_with_several_traces_lists_them_and_takes_trace() {
    let work = Workdir::bakery();
    one_run(&work);
    one_run(&work);
    let archives = work.archives();
    assert_eq!(archives.len(), 2);
    let merged = work.path().join("collector.otlp.json");
    let text: String = archives
        .iter()
        .map(|a| std::fs::read_to_string(a).unwrap())
        .collect();
    std::fs::write(&merged, text).unwrap();
    let output = run(work.command(AGENTO).args(["trace", "show"]).arg(&merged));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr.contains("holds 2 traces; choose one with --trace ID"),
        "{stderr}"
    );
    let first_id = stderr
        .lines()
        .nth(1)
        .and_then(|line| line.split_whitespace().next())
        .expect("a listed trace id")
        .to_owned();
    let output = run(work
        .command(AGENTO)
        .args(["trace", "show", "--json", "--trace", &first_id[..8]])
        .arg(&merged));
    assert!(output.status.success(), "{}", console(&output));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["trace_id"], first_id.as_str());
    assert!(summary["vendors"]["gemini"]["calls"].as_u64().unwrap_or(0) >= 1);
    let output = run(work
        .command(AGENTO)
        .args(["trace", "validate", "--trace", &first_id])
        .arg(&merged));
    assert!(output.status.success(), "{}", console(&output));
}

#[test]
fn show_attrs_lists_the_attributes_under_each_span() {
    let work = Workdir::bakery();
    let archive = one_run(&work);
    let output = run(work
        .command(AGENTO)
        .args(["trace", "show", "--attrs"])
        .arg(&archive));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    assert!(
        text.contains("· gen_ai.request.model = gemini-3.8-flash"),
        "{text}"
    );
    assert!(text.contains("· user_goal = Open a bakery in Oakland within six months"));
    assert!(
        !text.contains("\u{1b}["),
        "no colour when stdout is not a terminal"
    );
}

const TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";

/// A span id from a number (never zero).
fn id(n: u64) -> String {
    format!("{:016x}", n + 1)
}

/// An archive in the Collector format, 512 spans per line: each span is
/// (number, parent number or `None` for a root, name).
fn synthetic(spans: impl IntoIterator<Item = (u64, Option<u64>, String)>) -> String {
    let spans: Vec<serde_json::Value> = spans
        .into_iter()
        .map(|(n, parent, name)| {
            let mut span = serde_json::json!({
                "traceId": TRACE_ID, "spanId": id(n), "name": name, "kind": 1,
                "startTimeUnixNano": (1_000_000 + n).to_string(),
                "endTimeUnixNano": (2_000_000 + n).to_string(),
            });
            if let Some(parent) = parent {
                span["parentSpanId"] = id(parent).into();
            }
            span
        })
        .collect();
    let mut out = String::new();
    for chunk in spans.chunks(512) {
        let line = serde_json::json!({"resourceSpans": [{"scopeSpans": [{"spans": chunk}]}]});
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out
}

/// `synthetic` written to `name` in `work`.
fn write_synthetic(
    work: &Workdir,
    name: &str,
    spans: impl IntoIterator<Item = (u64, Option<u64>, String)>,
) -> std::path::PathBuf {
    let path = work.path().join(name);
    std::fs::write(&path, synthetic(spans)).unwrap();
    path
}

fn trace(work: &Workdir, args: &[&str], file: &std::path::Path) -> Output {
    run(work.command(AGENTO).arg("trace").args(args).arg(file))
}

fn assert_no_panic(output: &Output) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{stderr}"
    );
}

/// A root, then spans 1 and 2 whose parents are each other, and span 3 below 1.
fn cycle(work: &Workdir) -> std::path::PathBuf {
    write_synthetic(
        work,
        "cycle.otlp.json",
        [
            (0, None, "root".to_owned()),
            (1, Some(2), "loop_a".to_owned()),
            (2, Some(1), "loop_b".to_owned()),
            (3, Some(1), "below_loop".to_owned()),
        ],
    )
}

#[test]
fn a_parent_id_cycle_is_named_by_validate_and_show_and_report_return() {
    let work = Workdir::bakery();
    let file = cycle(&work);
    let output = trace(&work, &["validate"], &file);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{}", console(&output));
    let cycle_text = format!("parent ids form a cycle: {} → {} → {}", id(1), id(2), id(1));
    assert!(stdout.contains(&cycle_text), "{stdout}");
    for n in [1, 2, 3] {
        assert!(
            stdout.contains(&format!("({}): not reachable from the root", id(n))),
            "{stdout}"
        );
    }
    assert!(stdout.contains("of the general trace contract"), "{stdout}");

    let output = trace(&work, &["show"], &file);
    assert!(output.status.success(), "{}", console(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("3 span(s) not reachable from a root"),
        "{stdout}"
    );
    assert!(stdout.contains(&cycle_text), "{stdout}");
    for name in ["root", "loop_a", "loop_b", "below_loop"] {
        assert_eq!(stdout.matches(&format!("{name} [")).count(), 1, "{stdout}");
    }
    assert!(!stdout.contains("is not in the file"), "{stdout}");

    let page = report_page(&work, &file, "cycle.html");
    assert_eq!(
        page.matches("</title></rect>").count(),
        4,
        "one waterfall row per span"
    );
}

/// A chain of `n` spans, each the parent of the next.
fn chain(n: u64) -> impl Iterator<Item = (u64, Option<u64>, String)> {
    (0..n).map(|i| (i, i.checked_sub(1), format!("level_{i}")))
}

#[test]
fn a_100000_deep_chain_is_shown_and_reported_with_capped_indentation() {
    let work = Workdir::bakery();
    let file = write_synthetic(&work, "deep.otlp.json", chain(100_000));
    let output = trace(&work, &["show"], &file);
    assert!(output.status.success(), "{}", console(&output));
    assert_no_panic(&output);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 100_000 + 2, "one line per span and the totals");
    let widest = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    assert!(widest < 200, "indentation is capped: {widest} characters");
    assert!(
        lines[99_999].contains("⋯ depth 99999 ⋯") && lines[99_999].contains("level_99999"),
        "{}",
        lines[99_999]
    );
    assert!(stdout.len() < 20_000_000, "{} bytes", stdout.len());

    let page = report_page(&work, &file, "deep.html");
    assert!(page.contains("level_99999"));

    let output = trace(&work, &["validate"], &file);
    assert!(output.status.success(), "{}", console(&output));
}

#[test]
fn one_span_with_100000_children_is_shown_reported_and_validated_in_time() {
    let work = Workdir::bakery();
    let flat = std::iter::once((0, None, "root".to_owned()))
        .chain((1..=100_000).map(|i| (i, Some(0), format!("child_{i}"))));
    let file = write_synthetic(&work, "flat.otlp.json", flat);
    let html = work.path().join("flat.html");
    for args in [
        vec!["show"],
        vec!["report", "-o", html.to_str().unwrap()],
        vec!["validate"],
    ] {
        let started = Instant::now();
        let output = trace(&work, &args, &file);
        let took = started.elapsed();
        assert!(output.status.success(), "{args:?}: {}", console(&output));
        // A loose bound for a debug build on a busy machine (quadratic took 107 s).
        assert!(took < Duration::from_secs(30), "{args:?} took {took:?}");
        if args[0] == "show" {
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert_eq!(stdout.lines().count(), 100_001 + 2);
            assert!(
                stdout.contains("└─ child_100000 ["),
                "the last child is drawn last"
            );
        }
    }
}

/// `archive` with one more line: three spans of its trace whose parents
/// form a cycle (so no root reaches them).
fn with_unreachable(archive: &std::path::Path) -> String {
    let text = std::fs::read_to_string(archive).unwrap();
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let trace_id = first["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"]
        .as_str()
        .unwrap()
        .to_owned();
    let spans: Vec<serde_json::Value> = [(7001, 7003), (7002, 7001), (7003, 7002)]
        .iter()
        .map(|&(n, parent)| {
            serde_json::json!({"traceId": trace_id, "spanId": id(n), "parentSpanId": id(parent),
                "name": format!("stray_{n}"), "kind": 1,
                "startTimeUnixNano": "1", "endTimeUnixNano": "2"})
        })
        .collect();
    let line = serde_json::json!({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]});
    format!("{text}{line}\n")
}

#[test]
fn three_unreachable_spans_fail_validate_and_are_listed_by_show() {
    let work = Workdir::bakery();
    let archive = one_run(&work);
    let total = support::only_trace(&agento_pipeline::trace::load(&archive).unwrap())
        .spans
        .len();
    let file = work.path().join("stray.otlp.json");
    std::fs::write(&file, with_unreachable(&archive)).unwrap();
    let output = trace(&work, &["validate"], &file);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    for n in [7001, 7002, 7003] {
        assert!(
            stdout.contains(&format!(
                "stray_{n} ({}): not reachable from the root",
                id(n)
            )),
            "{stdout}"
        );
    }
    assert!(stdout.contains("of the agento trace contract"), "{stdout}");

    let output = trace(&work, &["show", "--json"], &file);
    assert!(output.status.success(), "{}", console(&output));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["span_count"], total + 3);
    let output = trace(&work, &["show"], &file);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let drawn = stdout.lines().filter(|l| l.contains(" ms ")).count();
    assert_eq!(drawn, total + 3, "every span drawn once:\n{stdout}");
    assert!(
        stdout.contains("3 span(s) not reachable from a root"),
        "{stdout}"
    );
}

#[test]
fn a_keyless_attribute_and_a_malformed_line_do_not_hide_the_other_spans() {
    let work = Workdir::bakery();
    let archive = one_run(&work);
    let total = support::only_trace(&agento_pipeline::trace::load(&archive).unwrap())
        .spans
        .len();
    // What the writer used to produce for OTEL_RESOURCE_ATTRIBUTES='=x':
    // protojson leaves the empty key out. One span per line.
    let mut keyless: Vec<String> = Vec::new();
    for line in std::fs::read_to_string(&archive).unwrap().lines() {
        let request: serde_json::Value = serde_json::from_str(line).unwrap();
        for resource in request["resourceSpans"].as_array().unwrap() {
            let mut attributes = resource["resource"]["attributes"].clone();
            attributes
                .as_array_mut()
                .unwrap()
                .push(serde_json::json!({"value": {"stringValue": "x"}}));
            for scope in resource["scopeSpans"].as_array().unwrap() {
                for span in scope["spans"].as_array().unwrap() {
                    let one = serde_json::json!({"resourceSpans": [{
                        "resource": {"attributes": attributes},
                        "scopeSpans": [{"scope": scope["scope"], "spans": [span]}],
                    }]});
                    keyless.push(one.to_string());
                }
            }
        }
    }
    assert_eq!(keyless.len(), total);
    let file = work.path().join("keyless.otlp.json");
    std::fs::write(&file, keyless.join("\n") + "\n").unwrap();
    let output = trace(&work, &["validate"], &file);
    assert!(output.status.success(), "{}", console(&output));
    let output = trace(&work, &["show", "--json"], &file);
    assert!(output.status.success(), "{}", console(&output));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["span_count"], total);

    let mut lines = keyless.clone();
    lines[1] = lines[1][..lines[1].len() / 2].to_owned();
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let output = trace(&work, &["show", "--json"], &file);
    assert!(output.status.success(), "{}", console(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 2 skipped: not JSON"), "{stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["span_count"], total - 1);
    let output = trace(&work, &["validate"], &file);
    assert_eq!(output.status.code(), Some(1), "{}", console(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("line 2: not an OTLP ExportTraceServiceRequest"),
        "{stdout}"
    );
}

/// Runs `agento trace <args> <file>` with stdout in a pipe, reads one line
/// and closes the pipe, as `| head -1` does.
fn head_one(work: &Workdir, args: &[&str], file: &std::path::Path) -> (String, Output) {
    let mut child = work
        .command(AGENTO)
        .arg("trace")
        .args(args)
        .arg(file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let output = child.wait_with_output().unwrap();
    (first, output)
}

#[test]
fn a_closed_pipe_ends_show_and_validate_quietly() {
    let work = Workdir::bakery();
    let file = write_synthetic(&work, "deep.otlp.json", chain(50_000));
    let (first, output) = head_one(&work, &["show"], &file);
    assert!(first.starts_with("level_0 ["), "{first}");
    assert_eq!(output.status.code(), Some(0), "{}", console(&output));
    assert!(output.stderr.is_empty(), "{}", console(&output));

    // 50,000 spans whose parent is missing: a violation each.
    let roots = write_synthetic(
        &work,
        "orphans.otlp.json",
        (0..50_000).map(|i| (i, Some(1_000_000), format!("orphan_{i}"))),
    );
    let (first, output) = head_one(&work, &["validate"], &roots);
    assert!(first.contains("expected exactly one root span"), "{first}");
    assert_eq!(output.status.code(), Some(1), "{}", console(&output));
    assert!(output.stderr.is_empty(), "{}", console(&output));
}

#[test]
fn a_full_disk_is_one_error_and_exit_2() {
    let work = Workdir::bakery();
    let file = cycle(&work);
    for args in [&["show"][..], &["show", "--json"], &["validate"]] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let output = run(work
            .command(AGENTO)
            .arg("trace")
            .args(args)
            .arg(&file)
            .stdout(full));
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            console(&output)
        );
        assert_no_panic(&output);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("error: cannot write to stdout: No space left on device"),
            "{stderr}"
        );
    }
    let output = run(work
        .command(AGENTO)
        .args(["trace", "report", "-o", "/dev/full"])
        .arg(&file));
    assert_eq!(output.status.code(), Some(2), "{}", console(&output));
    assert_no_panic(&output);
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("cannot write /dev/full"),
        "{}",
        console(&output)
    );
}

/// `agento trace report` of `file` into `work/<name>`: the page, after
/// checking the command succeeded.
fn report_page(work: &Workdir, file: &std::path::Path, name: &str) -> String {
    let html = work.path().join(name);
    let output = run(work
        .command(AGENTO)
        .args(["trace", "report", "-o"])
        .arg(&html)
        .arg(file));
    assert!(output.status.success(), "{}", console(&output));
    std::fs::read_to_string(&html).expect("the report page")
}
