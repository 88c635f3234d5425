//! `agento trace validate | show` on archives that break the contract or
//! hold several traces — what users meet after changing the pipeline or when
//! reading a collector's files.

mod support;

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
    assert!(stdout.contains("violation(s) of the trace contract"));

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
