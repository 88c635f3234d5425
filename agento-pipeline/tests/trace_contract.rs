//! The two trace contracts of `agento trace validate`: a user's own program
//! (two `#[llm_span]` calls returning `String` under one `#[step]`) follows
//! the general contract, not the pipeline's; the pipeline's runs follow both.

mod support;

use std::path::PathBuf;

use agento::Config;
use agento::{llm_span, step};
use agento_pipeline::trace::validate::{Contract, is_pipeline_run, validate_with};
use agento_pipeline::trace::{Trace, load};
use support::{Workdir, console, only_trace, run};

const AGENTO: &str = env!("CARGO_BIN_EXE_agento");

#[derive(Debug)]
struct Offline;

impl std::fmt::Display for Offline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("offline")
    }
}

#[llm_span(system = "openai", model = "gpt-4.1-mini")]
fn summarise(text: &str) -> Result<String, Offline> {
    Ok(format!("a summary of {} characters", text.len()))
}

#[llm_span(system = "anthropic", model = "claude-sonnet-4")]
fn title(summary: &str) -> Result<String, Offline> {
    Ok(format!("Title: {}", &summary[..9]))
}

#[step(name = "summarise_document", kind = AGENT)]
fn summarise_document(text: &str) -> Result<String, Offline> {
    let summary = summarise(text)?;
    title(&summary)
}

/// Telemetry is process-wide: the user program's runs take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The user's program, run with the real archive writer into `dir`.
fn user_program_archive(dir: &std::path::Path) -> PathBuf {
    with_archive(dir, || {
        let title = summarise_document("A long document about bakeries.").expect("offline calls");
        assert!(title.starts_with("Title: a summary"));
    })
}

/// Runs `program` with telemetry archiving into `dir`; gives the archive.
fn with_archive(dir: &std::path::Path, program: impl FnOnce()) -> PathBuf {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let config = Config {
        data_dir: dir.to_owned(),
        archive_enabled: true,
        otlp_enabled: false,
        ..Config::from_env()
    };
    let telemetry = agento::Telemetry::builder()
        .config(config)
        .module("summariser")
        .archive(true)
        .otlp(false)
        .handle_signals(false)
        .new_run(true)
        .init();
    program();
    let path = telemetry.archive_path().expect("an archive").to_owned();
    telemetry.shutdown();
    path
}

fn names(trace: &Trace) -> Vec<&str> {
    trace.spans.iter().map(|s| s.name.as_str()).collect()
}

#[test]
fn a_user_programs_trace_follows_the_general_contract_only() {
    let work = Workdir::bakery();
    let archive_path = user_program_archive(work.path());
    let archive = load(&archive_path).unwrap();
    let trace = only_trace(&archive);
    assert_eq!(trace.spans.len(), 3, "{:?}", names(trace));
    assert_eq!(trace.spans.iter().filter(|s| s.is_llm_call()).count(), 2);
    assert!(!is_pipeline_run(trace));
    assert_eq!(Contract::Auto.resolve(trace), Contract::General);
    let general = validate_with(&archive, trace, Contract::General);
    assert!(general.is_empty(), "{general:?}");
    let pipeline = validate_with(&archive, trace, Contract::Agento);
    let text: Vec<String> = pipeline.iter().map(ToString::to_string).collect();
    assert!(
        text.iter()
            .any(|v| v.contains("LLM span without an integer `gen_ai.usage.input_tokens`")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|v| v.contains("`agent.final_response`, found 0")),
        "{text:?}"
    );

    let output = run(work
        .command(AGENTO)
        .args(["trace", "validate"])
        .arg(&archive_path));
    assert!(output.status.success(), "{}", console(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("follows the general trace contract"));
    let output = run(work
        .command(AGENTO)
        .args(["trace", "validate", "--contract", "agento"])
        .arg(&archive_path));
    assert_eq!(output.status.code(), Some(1), "{}", console(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .contains("violation(s) of the agento trace contract")
    );
}

#[test]
fn the_general_contract_still_names_a_model_less_llm_span() {
    let work = Workdir::bakery();
    let archive_path = user_program_archive(work.path());
    let text = std::fs::read_to_string(&archive_path).unwrap();
    let broken = text
        .replace("\"gen_ai.request.model\"", "\"x.request.model\"")
        .replace("\"gen_ai.response.model\"", "\"x.response.model\"")
        .replace("\"llm.model_name\"", "\"x.model_name\"");
    let file = work.path().join("no_model.otlp.json");
    std::fs::write(&file, broken).unwrap();
    let output = run(work.command(AGENTO).args(["trace", "validate"]).arg(&file));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert_eq!(
        stdout.matches("LLM span without a model").count(),
        2,
        "{stdout}"
    );
    assert!(
        stdout.contains("2 violation(s) of the general trace contract"),
        "{stdout}"
    );
}

#[test]
fn a_pipeline_run_is_detected_and_follows_both_contracts() {
    let work = Workdir::bakery();
    let output =
        run(work
            .command(AGENTO)
            .args(["run", "--offline", "--goal", "goal.json", "--quiet"]));
    assert!(output.status.success(), "{}", console(&output));
    let archive = work.archive();
    let trace = only_trace(&archive);
    assert!(is_pipeline_run(trace));
    assert_eq!(Contract::Auto.resolve(trace), Contract::Agento);
    for contract in [Contract::General, Contract::Agento] {
        let violations = validate_with(&archive, trace, contract);
        assert!(violations.is_empty(), "{contract}: {violations:?}");
    }
    let archive_path = work.archives().pop().unwrap();
    let output = run(work
        .command(AGENTO)
        .args(["trace", "validate"])
        .arg(&archive_path));
    assert!(output.status.success(), "{}", console(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("follows the agento trace contract"));
    // Forced general: the pipeline-only attribute may go.
    let text = std::fs::read_to_string(&archive_path)
        .unwrap()
        .replace("\"agent.final_response\"", "\"agent.final_answer\"");
    let file = work.path().join("no_final.otlp.json");
    std::fs::write(&file, text).unwrap();
    let output = run(work
        .command(AGENTO)
        .args(["trace", "validate", "--contract", "general"])
        .arg(&file));
    assert!(output.status.success(), "{}", console(&output));
    let output = run(work.command(AGENTO).args(["trace", "validate"]).arg(&file));
    assert_eq!(output.status.code(), Some(1), "{}", console(&output));
}

#[step(name = "tagged", kind = CHAIN)]
fn tagged() {
    use agento::opentelemetry::KeyValue;
    use agento::opentelemetry::trace::get_active_span;
    get_active_span(|span| {
        span.set_attribute(KeyValue::new("", "no key"));
        span.set_attribute(KeyValue::new("kept", "yes"));
    });
}

#[test]
fn an_attribute_without_a_key_is_left_out_of_the_archive() {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    let work = Workdir::bakery();
    let archive_path = with_archive(work.path(), tagged);
    let text = std::fs::read_to_string(&archive_path).unwrap();
    for line in text.lines() {
        // `opentelemetry-proto`'s own types need every attribute's key.
        let request: ExportTraceServiceRequest =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let span = &request.resource_spans[0].scope_spans[0].spans[0];
        assert!(span.attributes.iter().all(|kv| !kv.key.is_empty()));
        assert!(span.attributes.iter().any(|kv| kv.key == "kept"));
    }
    assert!(!text.contains("no key"), "{text}");
}
