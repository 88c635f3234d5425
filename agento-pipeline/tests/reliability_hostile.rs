//! Hostile input: goal files that are huge, binary, not UTF-8, deeply nested
//! or full of control characters; carriers that are garbage, truncated, of a
//! wrong version or oversized; model replies with unbalanced braces, JSON in
//! prose, missing fields, wrong types or 1,000 outline steps; a reviewer whose
//! verdicts are never a plain YES or NO. Each is a clear error (or, for JSON in
//! prose and unparseable verdicts, a success), never a panic, and every process
//! runs under a 512 MiB address-space limit (`ulimit -v`), so memory stays
//! bounded.

mod support;
mod support_reliability;

use std::process::Command;

use support::{Workdir, console, named, only_trace, run};
use support_reliability::{
    AGENTO, Fault, FaultyVendor, MODULE_SPANS, OUTPUTS, STAGES, Simulator, archives_parse,
    gemini_reply, module_span, online, sweep,
};

/// The address-space limit every process here runs under, in KiB.
const MEMORY_LIMIT_KIB: u32 = 512 * 1024;

/// `bin args…` in `work`, under [`MEMORY_LIMIT_KIB`].
fn bounded(work: &Workdir, bin: &str, args: &[&str]) -> Command {
    let mut command = work.command("bash");
    command
        .arg("-c")
        .arg(format!(
            "ulimit -v {MEMORY_LIMIT_KIB} && exec \"$0\" \"$@\""
        ))
        .arg(bin)
        .args(args);
    command
}

/// Asserts a clean failure: exit 1, `expected` in the output, no panic, and
/// archives that parse.
fn fails_clearly(work: &Workdir, command: &mut Command, expected: &str) -> String {
    let output = run(command);
    let text = console(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains(expected), "expected {expected:?} in:\n{text}");
    assert!(!text.contains("panicked"), "{text}");
    sweep(work, &output);
    text
}

fn hostile_goal(bytes: &[u8], expected: &str) {
    let work = Workdir::bakery();
    std::fs::write(work.path().join("goal.json"), bytes).expect("the goal file");
    fails_clearly(
        &work,
        &mut bounded(&work, AGENTO, &["run", "--offline", "--goal", "goal.json"]),
        expected,
    );
    let archive = work.archive();
    let trace = only_trace(&archive);
    let first = named(trace, MODULE_SPANS[0]);
    assert_eq!(first[0].status_code, 2);
    assert_eq!(first[0].text("error.type"), Some("bad_goal"));
    assert!(!work.data().join("plan_structure.json").exists());
}

#[test]
fn hostile_goal_files_are_clear_errors() {
    // 10 MB: refused before it is read whole.
    let mut huge = br#"{"goal": ""#.to_vec();
    huge.resize(10 * 1024 * 1024, b'a');
    huge.extend_from_slice(br#""}"#);
    hostile_goal(&huge, "the goal file is larger than 4 MiB");
    // A JPEG header.
    hostile_goal(
        &[0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, b'J', b'F', b'I', b'F'],
        "the goal file is not UTF-8 text",
    );
    // Latin-1, not UTF-8.
    hostile_goal(
        b"{\"goal\": \"caf\xe9\"}",
        "the goal file is not UTF-8 text",
    );
    // Nested 100,000 deep: serde_json's recursion limit, not a stack overflow.
    let nested = format!("{}{}", "{\"goal\": ".repeat(100_000), "}".repeat(100_000));
    hostile_goal(nested.as_bytes(), "the goal file is not valid JSON");
    hostile_goal(
        b"{\"goal\": \"open\\u0000a\\u001bbakery\\u0007\"}",
        "\"goal\" holds control characters",
    );
    let long = format!("{{\"goal\": \"{}\"}}", "x".repeat(30_000));
    hostile_goal(long.as_bytes(), "\"goal\" is longer than 20000 characters");
    hostile_goal(b"[\"goal\"]", "must hold a JSON object");
}

#[test]
fn hostile_carriers_start_a_new_run_with_one_warning() {
    let valid = {
        let work = Workdir::bakery();
        let first =
            run(work
                .command(STAGES[0])
                .args(["--offline", "--goal", "goal.json", "--quiet"]));
        assert!(first.status.success(), "{}", console(&first));
        std::fs::read(work.data().join("trace.context")).expect("the carrier")
    };
    let carriers: [(&str, Vec<u8>); 5] = [
        ("garbage", b"\x00\xffnot a carrier at all\x1b[31m".to_vec()),
        ("truncated", valid[..valid.len() / 2].to_vec()),
        (
            "wrong version",
            String::from_utf8_lossy(&valid)
                .replace("\"version\": 1", "\"version\": 7")
                .into_bytes(),
        ),
        ("oversized", vec![b' '; 1024 * 1024]),
        ("deeply nested", "[".repeat(100_000).into_bytes()),
    ];
    for (label, carrier) in carriers {
        let work = Workdir::bakery();
        let first =
            run(work
                .command(STAGES[0])
                .args(["--offline", "--goal", "goal.json", "--quiet"]));
        assert!(first.status.success(), "{}", console(&first));
        std::fs::write(work.data().join("trace.context"), &carrier).expect("the carrier");
        let output = run(&mut bounded(&work, STAGES[1], &["--offline", "--quiet"]));
        let text = console(&output);
        assert!(output.status.success(), "{label}: {text}");
        assert!(!text.contains("panicked"), "{label}: {text}");
        let warnings: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("ignoring the context carrier"))
            .collect();
        assert_eq!(warnings.len(), 1, "{label}: {text}");
        assert_eq!(
            work.archives().len(),
            2,
            "{label}: stage 2 started a run of its own"
        );
        archives_parse(&work);
        sweep(&work, &output);
    }
}

/// A plan JSON with `steps` outline steps.
fn plan(steps: usize) -> serde_json::Value {
    let names: Vec<String> = (0..steps).map(|i| format!("Step {i}")).collect();
    serde_json::json!({
        "Title": "Bakery", "Overall_Summary": "Open it", "Original_Goal": "something else",
        "Detailed_Outline": names.iter().map(|n| serde_json::json!({"name": n, "content": "do it"})).collect::<Vec<_>>(),
        "Evaluation_Criteria": names.iter().map(|n| (n.clone(), serde_json::json!("done"))).collect::<serde_json::Map<_, _>>(),
        "Success_Measures": ["open"]
    })
}

/// Stage 1 (not offline: keys are sent) against a Gemini whose first answer
/// is `reply`, relayed to the simulator otherwise.
struct PlanReply {
    work: Workdir,
    command: Command,
    _simulator: Simulator,
    _vendor: FaultyVendor,
}

fn with_plan_reply(reply: &str) -> PlanReply {
    let work = Workdir::bakery();
    let simulator = Simulator::start(&work, &[]);
    let vendor = FaultyVendor::start(
        &simulator.url,
        vec![("generateContent", Fault::Reply(gemini_reply(reply)))],
    );
    let mut command = bounded(&work, STAGES[0], &["--goal", "goal.json"]);
    command.env("GEMINI_BASE_URL", &vendor.url);
    PlanReply {
        work,
        command,
        _simulator: simulator,
        _vendor: vendor,
    }
}

#[test]
fn hostile_model_replies_are_clear_errors() {
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "unbalanced braces",
            r#"Here: {"Title": "Bakery", "Overall_Summary": "Open it" and so on"#.to_owned(),
            "no balanced, valid JSON object was found",
        ),
        (
            "unbalanced outside, a step object inside",
            format!("Here: {}", &plan(2).to_string()[..60]),
            "field `Detailed_Outline` is missing",
        ),
        (
            "no JSON",
            "I cannot help with that.".to_owned(),
            "the reply holds no JSON object",
        ),
        (
            "missing field",
            {
                let mut p = plan(2);
                p.as_object_mut().map(|o| o.remove("Success_Measures"));
                p.to_string()
            },
            "field `Success_Measures` is missing",
        ),
        (
            "wrong type",
            {
                let mut p = plan(2);
                p["Detailed_Outline"][1]["content"] = serde_json::json!(42);
                p.to_string()
            },
            "field `Detailed_Outline[1].content` must be a string, not a number",
        ),
        (
            "1,000 steps",
            plan(1000).to_string(),
            "the outline has 1000 steps; at most 50 are accepted",
        ),
    ];
    for (label, reply, expected) in cases {
        let mut scene = with_plan_reply(&reply);
        let work = &scene.work;
        let text = fails_clearly(work, &mut scene.command, expected);
        assert!(!work.data().join("plan_structure.json").exists(), "{label}");
        let archive = work.archive();
        let trace = only_trace(&archive);
        let module = module_span(trace, 0);
        assert_eq!(module.status_code, 2, "{label}: {text}");
        assert!(
            module.status_message.contains(expected),
            "{label}: {}",
            module.status_message
        );
    }
}

#[test]
fn a_plan_inside_prose_and_fences_is_used_with_the_users_goal() {
    let reply = format!(
        "Sure! Here is {{the}} plan you asked for:\n```json\n{}\n```\nLet me know {{if}} you need more.",
        plan(3)
    );
    let mut scene = with_plan_reply(&reply);
    let output = run(&mut scene.command);
    let work = &scene.work;
    assert!(output.status.success(), "{}", console(&output));
    let written: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(work.data().join("plan_structure.json")).expect("the output"),
    )
    .expect("JSON");
    assert_eq!(
        written["Original_Goal"],
        "Open a bakery in Oakland within six months"
    );
    assert_eq!(
        written["Detailed_Outline"].as_array().map(Vec::len),
        Some(3)
    );
    sweep(work, &output);
}

/// An Anthropic Messages answer whose text is `text`.
fn anthropic_reply(text: &str) -> String {
    serde_json::json!({
        "id": "msg_hostile",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 10, "output_tokens": 12}
    })
    .to_string()
}

#[test]
fn a_verdict_that_is_not_a_plain_yes_counts_as_no() {
    let work = Workdir::bakery();
    let simulator = Simulator::start(&work, &[]);
    // Every Anthropic answer (instructions, verdicts, the review) mentions YES
    // but does not start with it: an unparseable verdict, every time.
    let hedge = "I would say YES once the budget is fixed.";
    let script = (0..40)
        .map(|_| ("/v1/messages", Fault::Reply(anthropic_reply(hedge))))
        .collect();
    let vendor = FaultyVendor::start(&simulator.url, script);
    let output = run(&mut online(&work, &vendor.url));
    assert!(
        output.status.success(),
        "{}\n{:?}",
        console(&output),
        vendor.served()
    );
    let archive = work.archive();
    let trace = only_trace(&archive);
    let verdicts: Vec<_> = trace
        .spans
        .iter()
        .filter(|s| s.text("agento.step_type") == Some("revision_verdict"))
        .filter_map(|s| s.text("agento.verdict"))
        .collect();
    let project: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(work.data().join(OUTPUTS[1])).expect("the project plan"),
    )
    .expect("JSON");
    let steps = project["Detailed_Outline"]
        .as_array()
        .expect("the outline")
        .len();
    assert!(steps > 0);
    assert_eq!(verdicts.len(), steps * 3, "three verdicts per step");
    assert!(verdicts.iter().all(|v| *v == "unparseable"), "{verdicts:?}");
    assert!(named(trace, "agento.event.accepted_revision").is_empty());
    let timed_out = named(trace, "agento.event.timed_out_revision");
    assert_eq!(timed_out.len(), steps, "every step kept its original");
    for event in timed_out {
        assert_eq!(event.text("agento.final_critique"), Some(hedge));
    }
    let revised: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(work.data().join(OUTPUTS[2])).expect("the final plan"),
    )
    .expect("JSON");
    assert_eq!(
        revised["Detailed_Outline"], project["Detailed_Outline"],
        "no revision was accepted"
    );
    sweep(&work, &output);
}
