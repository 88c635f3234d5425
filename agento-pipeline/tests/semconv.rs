//! The archive under each `AGENTO_SEMCONV` choice, with content capture off,
//! the step-type rule, and the module resources of `agento run` against the
//! three stage binaries.
//!
//! Attribute names are checked against the conventions' own packages, as
//! installed by `scripts/phoenix.sh` into `./.venv`: OpenInference's
//! `openinference-semantic-conventions` (`SpanAttributes`, `MessageAttributes`,
//! the provider/system/mime value lists) and OpenTelemetry's
//! `opentelemetry-semantic-conventions` (`gen_ai_attributes`, the GenAI
//! registry's names and `GenAiProviderNameValues`).

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use agento_pipeline::trace::{Archive, SpanRecord, Trace};
use serde_json::Value;
use support::{Workdir, console, only_trace, run, simulate};

const AGENTO: &str = env!("CARGO_BIN_EXE_agento");
const STAGES: [&str; 3] = [
    env!("CARGO_BIN_EXE_1_01_JSON_Goal_to_PlanStructure"),
    env!("CARGO_BIN_EXE_1_05_Ingest-PlanStructure-to-Plan"),
    env!("CARGO_BIN_EXE_2_Revise-Plan-Stable"),
];
const MODULES: [&str; 3] = [
    "1_01_JSON_Goal_to_PlanStructure",
    "1_05_Ingest-PlanStructure-to-Plan",
    "2_Revise-Plan-Stable",
];

/// The names the conventions' own Python packages define.
struct Names {
    /// Every `SpanAttributes` value of OpenInference.
    openinference: BTreeSet<String>,
    message_role: String,
    message_content: String,
    input_messages: String,
    output_messages: String,
    oi_providers: BTreeSet<String>,
    oi_systems: BTreeSet<String>,
    mime_types: BTreeSet<String>,
    /// Every `GEN_AI_*` name of the OpenTelemetry GenAI registry.
    genai: BTreeSet<String>,
    genai_providers: BTreeSet<String>,
}

const NAMES_SCRIPT: &str = r#"
import json
from openinference.semconv import trace as oi
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as g
def values(cls):
    return sorted(v for k, v in vars(cls).items() if k.isupper() and isinstance(v, str))
print(json.dumps({
    "openinference": values(oi.SpanAttributes),
    "message_role": oi.MessageAttributes.MESSAGE_ROLE,
    "message_content": oi.MessageAttributes.MESSAGE_CONTENT,
    "input_messages": oi.SpanAttributes.LLM_INPUT_MESSAGES,
    "output_messages": oi.SpanAttributes.LLM_OUTPUT_MESSAGES,
    "oi_providers": [m.value for m in oi.OpenInferenceLLMProviderValues],
    "oi_systems": [m.value for m in oi.OpenInferenceLLMSystemValues],
    "mime_types": [m.value for m in oi.OpenInferenceMimeTypeValues],
    "genai": sorted(v for k, v in vars(g).items() if k.startswith("GEN_AI_") and isinstance(v, str)),
    "genai_providers": [m.value for m in g.GenAiProviderNameValues],
}))
"#;

fn names() -> &'static Names {
    static NAMES: OnceLock<Names> = OnceLock::new();
    NAMES.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("root");
        let installed = Command::new(root.join("scripts/phoenix.sh"))
            .arg("install")
            .stdin(Stdio::null())
            .output()
            .expect("scripts/phoenix.sh runs");
        assert!(installed.status.success(), "{}", console(&installed));
        let output = Command::new(root.join(".venv/bin/python"))
            .args(["-c", NAMES_SCRIPT])
            .output()
            .expect("the venv's python runs");
        assert!(output.status.success(), "{}", console(&output));
        let json: Value = serde_json::from_slice(&output.stdout).expect("JSON");
        let set = |key: &str| -> BTreeSet<String> {
            json[key]
                .as_array()
                .expect(key)
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        };
        let one = |key: &str| json[key].as_str().expect(key).to_owned();
        Names {
            openinference: set("openinference"),
            message_role: one("message_role"),
            message_content: one("message_content"),
            input_messages: one("input_messages"),
            output_messages: one("output_messages"),
            oi_providers: set("oi_providers"),
            oi_systems: set("oi_systems"),
            mime_types: set("mime_types"),
            genai: set("genai"),
            genai_providers: set("genai_providers"),
        }
    })
}

impl Names {
    /// Whether `key` is an OpenInference name (a message attribute under
    /// `llm.input_messages.N.` / `llm.output_messages.N.` included).
    fn is_openinference(&self, key: &str) -> bool {
        if self.openinference.contains(key) {
            return true;
        }
        [&self.input_messages, &self.output_messages]
            .iter()
            .any(|prefix| {
                key.strip_prefix(prefix.as_str())
                    .and_then(|rest| rest.strip_prefix('.'))
                    .and_then(|rest| rest.split_once('.'))
                    .is_some_and(|(index, attribute)| {
                        index.parse::<u32>().is_ok()
                            && (attribute == self.message_role || attribute == self.message_content)
                    })
            })
    }
}

/// `agento run --offline` in a fresh directory with `env`; its archive.
fn run_with(goal: &str, env: &[(&str, &str)]) -> (Workdir, Archive) {
    let work = Workdir::new(&serde_json::json!({ "goal": goal }));
    let mut command = work.command(AGENTO);
    command.args(["run", "--offline", "--goal", "goal.json", "--quiet"]);
    for (name, value) in env {
        command.env(name, value);
    }
    let output = run(&mut command);
    assert!(output.status.success(), "{}", console(&output));
    let archive = work.archive();
    (work, archive)
}

const GOAL: &str = "Open a bakery in Oakland within six months";

fn keys(span: &SpanRecord) -> BTreeSet<&str> {
    span.attributes.iter().map(|(k, _)| k.as_str()).collect()
}

fn llm_calls(trace: &Trace) -> Vec<&SpanRecord> {
    trace.spans.iter().filter(|s| s.is_llm_call()).collect()
}

fn archive_bytes(work: &Workdir) -> u64 {
    work.archives()
        .iter()
        .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum()
}

/// Our own names that every convention keeps: the pipeline's contract
/// (`agento.*`), retries and errors, and the OpenInference span kind.
fn is_own(key: &str) -> bool {
    key.starts_with("agento.")
        || key.starts_with("retry.")
        || key == "error.type"
        || key == "openinference.span.kind"
}

#[test]
fn memo_alone_writes_todays_names_and_nothing_of_the_others() {
    let (work, archive) = run_with(GOAL, &[("AGENTO_SEMCONV", "memo")]);
    let trace = only_trace(&archive);
    for call in llm_calls(trace) {
        for key in [
            "gen_ai.system",
            "gen_ai.prompt",
            "gen_ai.response.content",
            "gen_ai.request.model",
            "gen_ai.response.model",
            "gen_ai.usage.input_tokens",
            "gen_ai.usage.output_tokens",
        ] {
            assert!(call.attr(key).is_some(), "{}: no {key}", call.name);
        }
    }
    let names = names();
    for span in &trace.spans {
        for key in keys(span) {
            assert!(
                !names.is_openinference(key) || key == "openinference.span.kind",
                "{}: OpenInference name {key} under memo",
                span.name
            );
            assert_ne!(key, "gen_ai.provider.name", "{}", span.name);
            assert_ne!(key, "gen_ai.input.messages", "{}", span.name);
        }
    }
    let root = &trace.roots()[0];
    assert_eq!(root.text("user_goal"), Some(GOAL));
    assert!(
        trace
            .spans
            .iter()
            .any(|s| s.attr("agent.final_response").is_some())
    );
    println!(
        "archive bytes, AGENTO_SEMCONV=memo: {}",
        archive_bytes(&work)
    );
}

#[test]
fn openinference_alone_writes_only_names_of_the_openinference_package() {
    let (work, archive) = run_with(GOAL, &[("AGENTO_SEMCONV", "openinference")]);
    let trace = only_trace(&archive);
    let names = names();
    for span in &trace.spans {
        for key in keys(span) {
            assert!(
                is_own(key) || names.is_openinference(key),
                "{}: {key} is not an OpenInference name",
                span.name
            );
        }
        for (value, mime) in [
            ("input.value", "input.mime_type"),
            ("output.value", "output.mime_type"),
        ] {
            assert!(
                span.text(value).is_some_and(|v| !v.is_empty()),
                "{}: no {value}",
                span.name
            );
            let mime = span.text(mime).unwrap_or("");
            assert!(
                names.mime_types.contains(mime),
                "{}: mime {mime:?}",
                span.name
            );
        }
    }
    let calls = llm_calls(trace);
    assert!(calls.len() >= 20);
    for call in calls {
        let provider = call.text("llm.provider").unwrap_or("");
        assert!(names.oi_providers.contains(provider), "{provider}");
        if let Some(system) = call.text("llm.system") {
            assert!(names.oi_systems.contains(system), "{system}");
        }
        assert!(call.text("llm.model_name").is_some_and(|m| !m.is_empty()));
        let prompt = call.attr("llm.token_count.prompt").and_then(|a| a.as_int());
        let completion = call
            .attr("llm.token_count.completion")
            .and_then(|a| a.as_int());
        let total = call.attr("llm.token_count.total").and_then(|a| a.as_int());
        assert_eq!(total, prompt.zip(completion).map(|(p, c)| p + c));
        let parameters: Value =
            serde_json::from_str(call.text("llm.invocation_parameters").unwrap_or(""))
                .expect("invocation parameters are JSON");
        // The parameters sent, by model: Gemini takes a temperature; the
        // default OpenAI (reasoning) and Anthropic models get only a budget.
        assert!(
            parameters
                .as_object()
                .is_some_and(|p| !p.is_empty() && p.values().all(Value::is_number)),
            "{parameters}"
        );
        if provider == "google" {
            assert!(parameters["temperature"].is_number(), "{parameters}");
        }
        let role = |i: u32| {
            call.text(&format!(
                "{}.{i}.{}",
                names.input_messages, names.message_role
            ))
        };
        assert_eq!(role(0), Some("system"));
        assert_eq!(role(1), Some("user"));
        assert_eq!(
            call.text(&format!(
                "{}.1.{}",
                names.input_messages, names.message_content
            )),
            call.text("input.value")
        );
        assert_eq!(
            call.text(&format!(
                "{}.0.{}",
                names.output_messages, names.message_content
            )),
            call.text("output.value")
        );
    }
    let root = &trace.roots()[0];
    assert_eq!(root.text("input.value"), Some(GOAL));
    println!(
        "archive bytes, AGENTO_SEMCONV=openinference: {}",
        archive_bytes(&work)
    );
}

/// Checks a `gen_ai.*.messages` JSON text against the registry's shape.
fn assert_messages(text: &str, role: &str, output: bool) -> String {
    let messages: Value = serde_json::from_str(text).expect("messages are JSON");
    let messages = messages.as_array().expect("an array of messages");
    assert_eq!(messages.len(), 1, "{text}");
    let message = &messages[0];
    assert_eq!(message["role"], role);
    let parts = message["parts"].as_array().expect("parts");
    assert_eq!(parts[0]["type"], "text");
    if output {
        let reason = message["finish_reason"].as_str().unwrap_or("");
        assert!(
            ["stop", "length", "content_filter", "tool_call", "error"].contains(&reason),
            "finish_reason {reason:?}"
        );
    }
    parts[0]["content"]
        .as_str()
        .expect("text content")
        .to_owned()
}

#[test]
fn genai_alone_writes_only_registry_names_and_shapes() {
    let (work, archive) = run_with(GOAL, &[("AGENTO_SEMCONV", "genai")]);
    let trace = only_trace(&archive);
    let names = names();
    for span in &trace.spans {
        for key in keys(span) {
            assert!(
                is_own(key) || names.genai.contains(key),
                "{}: {key} is not a GenAI registry name",
                span.name
            );
        }
    }
    let mut providers = BTreeSet::new();
    for call in llm_calls(trace) {
        let provider = call.text("gen_ai.provider.name").unwrap_or("");
        assert!(names.genai_providers.contains(provider), "{provider}");
        providers.insert(provider.to_owned());
        let prompt = assert_messages(
            call.text("gen_ai.input.messages").unwrap_or(""),
            "user",
            false,
        );
        assert!(!prompt.is_empty());
        let reply = assert_messages(
            call.text("gen_ai.output.messages").unwrap_or(""),
            "assistant",
            true,
        );
        assert!(!reply.is_empty());
        let instructions: Value =
            serde_json::from_str(call.text("gen_ai.system_instructions").unwrap_or(""))
                .expect("system instructions are JSON");
        assert_eq!(instructions[0]["type"], "text");
        assert!(call.text("gen_ai.response.id").is_some());
        assert!(call.attr("gen_ai.usage.input_tokens").is_some());
    }
    assert_eq!(
        providers,
        BTreeSet::from(["anthropic".into(), "gcp.gemini".into(), "openai".into()])
    );
    // The revise loop of each step is one conversation: its three calls per
    // iteration share an id, and steps have different ones.
    let conversations: BTreeMap<&str, usize> = llm_calls(trace)
        .iter()
        .filter_map(|c| c.text("gen_ai.conversation.id"))
        .fold(BTreeMap::new(), |mut counts, id| {
            *counts.entry(id).or_default() += 1;
            counts
        });
    let revise_calls = llm_calls(trace)
        .iter()
        .filter(|c| {
            c.text("agento.step_type")
                .is_some_and(|t| t.starts_with("revision_"))
        })
        .count();
    assert!(conversations.len() >= 2, "{conversations:?}");
    assert_eq!(conversations.values().sum::<usize>(), revise_calls);
    assert!(
        conversations.values().all(|n| n % 3 == 0),
        "{conversations:?}"
    );
    println!(
        "archive bytes, AGENTO_SEMCONV=genai: {}",
        archive_bytes(&work)
    );
}

#[test]
fn the_default_records_all_three_and_the_opt_in_adds_genai_to_memo() {
    let (work, archive) = run_with(GOAL, &[]);
    let trace = only_trace(&archive);
    for call in llm_calls(trace) {
        for key in [
            "gen_ai.system",
            "gen_ai.prompt",
            "input.value",
            "llm.model_name",
            "gen_ai.provider.name",
            "gen_ai.input.messages",
        ] {
            assert!(call.attr(key).is_some(), "{}: no {key}", call.name);
        }
    }
    println!(
        "archive bytes, default (all three): {}",
        archive_bytes(&work)
    );
    let (_, archive) = run_with(
        GOAL,
        &[
            ("AGENTO_SEMCONV", "memo"),
            (
                "OTEL_SEMCONV_STABILITY_OPT_IN",
                "gen_ai_latest_experimental",
            ),
        ],
    );
    let trace = only_trace(&archive);
    for call in llm_calls(trace) {
        assert!(call.attr("gen_ai.provider.name").is_some());
        assert!(call.attr("gen_ai.system").is_some());
        assert!(call.attr("input.value").is_none());
    }
}

#[test]
fn an_unknown_convention_is_reported_and_the_default_used() {
    let work = Workdir::bakery();
    let output = run(work
        .command(AGENTO)
        .args(["run", "--offline", "--goal", "goal.json", "--quiet"])
        .env("AGENTO_SEMCONV", "memo,otel"));
    assert!(output.status.success(), "{}", console(&output));
    let text = console(&output);
    assert!(
        text.contains("AGENTO_SEMCONV") && text.contains("\"otel\""),
        "{text}"
    );
    let archive = work.archive();
    let trace = only_trace(&archive);
    assert!(llm_calls(trace)[0].attr("input.value").is_some());
}

#[test]
fn content_capture_off_leaves_every_text_out_of_every_convention() {
    let marker = "zq-marker-7f3a91";
    let goal = format!("Open a bakery called {marker} in Oakland");
    let (work, _) = run_with(&goal, &[]);
    let with_content = std::fs::read_to_string(&work.archives()[0]).expect("archive");
    assert!(
        with_content.contains(marker),
        "the marker is recorded with capture on"
    );
    let (work, archive) = run_with(
        &goal,
        &[(
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
            "false",
        )],
    );
    let text = std::fs::read_to_string(&work.archives()[0]).expect("archive");
    assert!(
        !text.contains(marker),
        "the goal's marker reached the archive with content capture off"
    );
    let trace = only_trace(&archive);
    let calls = llm_calls(trace);
    assert!(calls.len() >= 20, "the run is still traced");
    for call in calls {
        for key in [
            "gen_ai.prompt",
            "gen_ai.response.content",
            "input.value",
            "output.value",
            "gen_ai.input.messages",
            "gen_ai.output.messages",
        ] {
            assert!(
                call.attr(key).is_none(),
                "{}: {key} with capture off",
                call.name
            );
        }
        assert!(call.attr("gen_ai.usage.input_tokens").is_some());
    }
    assert!(
        step_types(trace).len() >= 8,
        "the step types stay: {:?}",
        step_types(trace).keys()
    );
    println!(
        "archive bytes, content capture off: {}",
        archive_bytes(&work)
    );
}

/// The spans carrying `agento.step_type`, by type.
fn step_types(trace: &Trace) -> BTreeMap<String, Vec<&SpanRecord>> {
    let mut by_type: BTreeMap<String, Vec<&SpanRecord>> = BTreeMap::new();
    for span in &trace.spans {
        if let Some(step) = span.text("agento.step_type") {
            by_type.entry(step.to_owned()).or_default().push(span);
        }
    }
    by_type
}

#[test]
fn one_span_per_step_occurrence_carries_its_type_and_failed_attempts_none() {
    let (_, archive) = run_with(GOAL, &[("AGENTO_SIM_GEMINI_FAIL_FIRST", "1")]);
    let trace = only_trace(&archive);
    let by_type = step_types(trace);
    let steps = trace
        .spans
        .iter()
        .filter(|s| s.text("agento.step_type") == Some("draft"))
        .count();
    assert!(steps >= 2, "one draft per outline step: {steps}");
    assert_eq!(by_type["plan"].len(), 1, "one plan");
    assert_eq!(by_type["critique"].len(), steps, "one critique per step");
    assert_eq!(by_type["holistic_review"].len(), 1, "one review item");
    assert_eq!(by_type["holistic_review"][0].oi_kind(), "EVALUATOR");
    let iterations = by_type["revision_instruction"].len();
    assert_eq!(by_type["revision_draft"].len(), iterations);
    assert_eq!(by_type["revision_verdict"].len(), iterations);
    let outcomes = by_type.get("accepted_revision").map_or(0, Vec::len)
        + by_type.get("timed_out_revision").map_or(0, Vec::len);
    assert_eq!(outcomes, steps, "one revision outcome per step");
    // Every type is one the contract knows.
    for step in by_type.keys() {
        assert!(step.parse::<agento::StepType>().is_ok(), "{step}");
    }
    // The failed Gemini attempt is there, with no step type; its successful
    // retry has it.
    let failed: Vec<&SpanRecord> = trace
        .spans
        .iter()
        .filter(|s| s.is_llm_call() && s.status_code == 2)
        .collect();
    assert!(
        !failed.is_empty(),
        "AGENTO_SIM_GEMINI_FAIL_FIRST=1 made a failed attempt"
    );
    for span in failed {
        assert_eq!(span.attr("agento.step_type"), None, "{} failed", span.name);
        // Phoenix shows what was asked and the error as the output.
        assert!(span.text("input.value").is_some_and(|i| !i.is_empty()));
        assert_eq!(
            span.text("output.value"),
            Some(span.status_message.as_str())
        );
    }
    let plan = by_type["plan"][0];
    assert_eq!(plan.name, "attempt_1");
    for span in &trace.spans {
        if span.name.ends_with(".with_retry") {
            assert_eq!(span.oi_kind(), "CHAIN");
            assert_eq!(span.attr("agento.step_type"), None);
        }
    }
}

/// The resources of an archive, with the per-process values left out.
fn resources(path: &Path) -> BTreeSet<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).expect("archive");
    let mut found = BTreeSet::new();
    for line in text.lines() {
        let request: Value = serde_json::from_str(line).expect("a JSON line");
        for resource_spans in request["resourceSpans"].as_array().into_iter().flatten() {
            let attributes = resource_spans["resource"]["attributes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|kv| {
                    let key = kv["key"].as_str()?;
                    let value = match key {
                        "service.instance.id" | "agento.run_id" => "<per process>".to_owned(),
                        _ => kv["value"].to_string(),
                    };
                    Some((key.to_owned(), value))
                })
                .collect();
            found.insert(attributes);
        }
    }
    found
}

#[test]
fn agento_run_and_the_three_binaries_give_the_same_module_resources() {
    let (together, archive) = run_with(GOAL, &[]);
    let binaries = Workdir::new(&serde_json::json!({ "goal": GOAL }));
    let (mut simulator, url) = simulate(&binaries);
    let url = url.as_str();
    for stage in STAGES {
        let output = run(binaries
            .command(stage)
            .args(["--goal", "goal.json"])
            .env("GEMINI_BASE_URL", url)
            .env("OPENAI_BASE_URL", format!("{url}/v1"))
            .env("ANTHROPIC_BASE_URL", url));
        assert!(output.status.success(), "{stage}: {}", console(&output));
    }
    let _ = simulator.kill();
    let _ = simulator.wait();
    let one_process = resources(&together.archives()[0]);
    let three_processes = resources(&binaries.archives()[0]);
    assert_eq!(one_process.len(), 3, "{one_process:#?}");
    assert_eq!(one_process, three_processes);
    let modules: BTreeSet<String> = one_process
        .iter()
        .filter_map(|r| r.get("agento.module").cloned())
        .collect();
    let expected: BTreeSet<String> = MODULES
        .iter()
        .map(|m| format!("{{\"stringValue\":\"{m}\"}}"))
        .collect();
    assert_eq!(modules, expected);
    // Each span is under the same module both ways.
    let by_name = |archive: &Archive| -> BTreeMap<String, BTreeSet<String>> {
        let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for span in &only_trace(archive).spans {
            map.entry(span.name.clone())
                .or_default()
                .insert(span.module.clone().unwrap_or_default());
        }
        map
    };
    let mut together_modules = by_name(&archive);
    let mut binaries_modules = by_name(&binaries.archive());
    // `agento run` has its first stage's module span below the root; the
    // first binary's module span is the root itself.
    together_modules.remove("agento.module.1_01_JSON_Goal_to_PlanStructure");
    binaries_modules.remove("agento.module.1_01_JSON_Goal_to_PlanStructure");
    assert_eq!(together_modules, binaries_modules);
}
