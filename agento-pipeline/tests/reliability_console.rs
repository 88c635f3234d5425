//! What a run prints, and where its work goes, under hostile conditions: a
//! console pipe closed after one line, a goal file with a byte-order mark or
//! none at all, bidirectional-override characters and a registered secret in
//! the goal, and stage binaries that must find their own run's work when the
//! latest copies belong to another run.

mod support;
mod support_reliability;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use agento_pipeline::trace::load;
use agento_pipeline::trace::validate::validate;
use support::{SENTINELS, Workdir, console, named, only_trace, run};
use support_reliability::{AGENTO, MODULE_SPANS, OUTPUTS, STAGES, offline, sweep};

/// `agento run --offline 2>&1 | head -1` with `envs`: the run completes.
fn console_closed_after_one_line(envs: &[(&str, String)]) {
    let work = Workdir::bakery();
    let (reader, writer) = std::io::pipe().expect("a pipe");
    let mut command = work.command(AGENTO);
    command
        .args(["run", "--offline", "--goal", "goal.json"])
        // The stages take a while, so most lines come after the pipe closed.
        .env("AGENTO_SIM_OPENAI_LATENCY_MS", "30")
        .env("AGENTO_SIM_ANTHROPIC_LATENCY_MS", "10")
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .stdout(writer.try_clone().expect("the pipe again"))
        .stderr(writer);
    let mut child = command.spawn().expect("agento starts");
    // `agento run … 2>&1 | head -1`: one line, then the reading end closes.
    drop(command);
    let mut first = String::new();
    BufReader::new(reader)
        .read_line(&mut first)
        .expect("the first line");
    assert!(first.starts_with("offline: vendor simulator at"), "{first}");
    let status = child.wait().expect("agento exits");
    assert_eq!(status.code(), Some(0), "a closed console is not a failure");
    for file in OUTPUTS {
        assert!(work.data().join(file).is_file(), "{file} was written");
    }
    let archive = work.archive();
    let trace = only_trace(&archive);
    assert!(validate(&archive, trace).is_empty());
    for module in MODULE_SPANS {
        assert_eq!(named(trace, module).len(), 1, "{module}");
    }
    let root = trace.roots();
    assert_eq!(root.len(), 1);
    assert_eq!(root[0].status_code, 1, "the run ended OK");
}

#[test]
fn a_console_pipe_closed_after_one_line_does_not_stop_the_run() {
    console_closed_after_one_line(&[]);
}

#[test]
fn the_telemetry_warning_at_exit_into_a_closed_pipe_does_not_stop_the_run() {
    // No collector listens there: the runtime reports the unexported spans
    // on stderr at exit, after the pipe closed.
    console_closed_after_one_line(&[
        ("OTEL_TRACES_EXPORTER", "otlp".to_owned()),
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{}", support_reliability::closed_port()),
        ),
    ]);
}

#[test]
fn a_goal_file_with_a_byte_order_mark_is_read() {
    let work = Workdir::bakery();
    let mut bytes = b"\xef\xbb\xbf".to_vec();
    bytes.extend_from_slice(br#"{"goal": "Open a bakery in Oakland"}"#);
    std::fs::write(work.path().join("goal.json"), bytes).expect("the goal file");
    let output = run(&mut offline(&work));
    assert_eq!(output.status.code(), Some(0), "{}", console(&output));
    let archive = work.archive();
    let trace = only_trace(&archive);
    assert_eq!(
        trace.roots()[0].text("user_goal"),
        Some("Open a bakery in Oakland")
    );
}

#[test]
fn a_missing_goal_file_is_named_with_the_flag_that_gives_it() {
    let work = Workdir::bakery();
    let output =
        run(work
            .command(AGENTO)
            .args(["run", "--offline", "--goal", "no-such-goal.json"]));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no-such-goal.json: the goal file not found"),
        "{stderr}"
    );
    assert!(stderr.contains("--goal FILE"), "{stderr}");
    assert!(!stderr.contains("previous stage"), "{stderr}");
    let output = run(work.command(AGENTO).args(["run", "--offline"]));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("project_goal.json: the goal file not found"),
        "the default is named: {stderr}"
    );
}

#[test]
fn bidi_and_control_characters_in_the_goal_are_escaped_on_the_console_only() {
    let goal = "Open a bakery \u{202e}lmth.exe\u{202c} and \u{2067}café\u{2069}";
    let work = Workdir::new(&serde_json::json!({ "goal": goal }));
    let output = run(work
        .command(AGENTO)
        .args(["run", "--offline", "--goal", "goal.json"]));
    let text = console(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    for bidi in ['\u{202e}', '\u{202c}', '\u{2067}', '\u{2069}'] {
        assert!(!text.contains(bidi), "{bidi:?} printed raw:\n{text}");
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Open a bakery \\u{202e}lmth.exe\\u{202c} and \\u{2067}café\\u{2069}"),
        "the plan title is shown escaped:\n{stderr}"
    );
    let archive = work.archive();
    let trace = only_trace(&archive);
    assert_eq!(
        trace.roots()[0].text("user_goal"),
        Some(goal),
        "the archive keeps the goal as it was"
    );
}

#[test]
fn a_closed_stdout_does_not_fail_the_json_summary() {
    let work = Workdir::bakery();
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let output = work
        .command(AGENTO)
        .args(["run", "--offline", "--goal", "goal.json", "--json"])
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("agento runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(work.data().join(OUTPUTS[2]).is_file());
    let archive = work.archive();
    assert!(validate(&archive, only_trace(&archive)).is_empty());
}

#[test]
fn a_registered_secret_in_the_goal_stays_off_the_console_and_out_of_the_outputs() {
    let (_, secret) = SENTINELS[1];
    let work = Workdir::new(&serde_json::json!({
        "goal": format!("Open a bakery; our key is {secret} for the ordering system"),
    }));
    let output = run(work
        .command(AGENTO)
        .args(["run", "--offline", "--goal", "goal.json"]));
    let text = console(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(!String::from_utf8_lossy(&output.stdout).contains(secret));
    assert!(!String::from_utf8_lossy(&output.stderr).contains(secret));
    assert!(
        text.contains("our key is [REDACTED] for the ordering system"),
        "the plan title is shown, scrubbed:\n{text}"
    );
    assert!(
        work.data().join("runs").is_dir(),
        "the run folder is swept too"
    );
    let files = work.all_output();
    assert!(
        files.contains("our key is [REDACTED] for the ordering system"),
        "the outputs keep the goal, scrubbed"
    );
    assert!(
        !files.contains(secret),
        "the key is in a file of the data dir"
    );
    sweep(&work, &output);
}

#[test]
fn stage_binaries_read_their_own_runs_work_not_the_latest_copy() {
    let work = Workdir::bakery();
    let first = run(work
        .command(STAGES[0])
        .args(["--offline", "--goal", "goal.json", "--quiet"]));
    assert!(first.status.success(), "{}", console(&first));
    let carrier: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(work.data().join("trace.context")).expect("the carrier"),
    )
    .expect("carrier JSON");
    let run_id = carrier["run_id"].as_str().expect("a run id").to_owned();
    let own = work.data().join("runs").join(&run_id).join(OUTPUTS[0]);
    assert!(own.is_file(), "stage 1 wrote {}", own.display());
    // Another run replaces the latest copy meanwhile.
    let mut other: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&own).expect("the plan")).expect("JSON");
    other["Original_Goal"] = serde_json::json!("Somebody else's goal zq-other-qz");
    std::fs::write(work.data().join(OUTPUTS[0]), other.to_string()).expect("latest copy");
    for stage in &STAGES[1..] {
        let output = run(work.command(stage).args(["--offline", "--quiet"]));
        assert!(output.status.success(), "{}", console(&output));
    }
    for file in &OUTPUTS[1..] {
        let own = std::fs::read_to_string(work.data().join("runs").join(&run_id).join(file))
            .expect("this run's output");
        let latest = std::fs::read_to_string(work.data().join(file)).expect("latest copy");
        assert_eq!(own, latest, "{file}: the latest copy is this run's");
        assert!(
            !own.contains("zq-other-qz"),
            "{file} used another run's plan"
        );
        assert!(own.contains("Open a bakery in Oakland within six months"));
    }
    let archives = work.archives();
    assert_eq!(archives.len(), 1);
    let archive = load(&archives[0]).expect("the archive");
    let trace = only_trace(&archive);
    assert_eq!(
        trace.roots()[0].text("agento.run_id"),
        Some(run_id.as_str())
    );
}
