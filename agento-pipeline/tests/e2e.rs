//! End to end: the real binaries, real HTTP to the vendor simulator, and the
//! archive they write checked against the trace contract.

mod support;

use std::collections::BTreeSet;

use agento::StepType;
use agento_pipeline::trace::validate::validate;
use support::{Workdir, assert_no_sentinel, console, named, only_trace, run, simulate};

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

/// Everything the contract asks of a complete run's trace.
fn assert_complete_run(work: &Workdir, console_text: &str) {
    let archive = work.archive();
    let trace = only_trace(&archive);
    let violations = validate(&archive, trace);
    assert!(violations.is_empty(), "{violations:#?}");
    let roots = trace.roots();
    assert_eq!(roots.len(), 1);
    let root = roots[0];
    assert_eq!(root.name, "agento.pipeline");
    assert_eq!(root.oi_kind(), "AGENT");
    assert_eq!(
        root.text("user_goal"),
        Some("Open a bakery in Oakland within six months")
    );
    let ids: BTreeSet<&str> = trace.spans.iter().map(|s| s.span_id.as_str()).collect();
    for span in &trace.spans {
        assert!(
            span.parent_span_id.is_empty() || ids.contains(span.parent_span_id.as_str()),
            "{}",
            span.name
        );
    }
    let first = trace
        .spans
        .iter()
        .find(|s| s.text("agento.module") == Some(MODULES[0]) && s.oi_kind() == "AGENT")
        .expect("an AGENT span for the first module");
    assert_eq!(first.text("user_goal"), root.text("user_goal"));
    let modules: BTreeSet<&str> = trace
        .spans
        .iter()
        .filter_map(|s| s.text("agento.module"))
        .collect();
    for module in MODULES {
        assert!(modules.contains(module), "{module} in {modules:?}");
    }
    let llm: Vec<_> = trace.spans.iter().filter(|s| s.is_llm_call()).collect();
    let systems: BTreeSet<&str> = llm.iter().filter_map(|s| s.text("gen_ai.system")).collect();
    assert_eq!(systems, BTreeSet::from(["anthropic", "gemini", "openai"]));
    for span in &llm {
        for key in [
            "gen_ai.operation.name",
            "gen_ai.request.model",
            "gen_ai.response.model",
            "gen_ai.response.content",
            "gen_ai.prompt",
        ] {
            assert!(
                span.text(key).is_some(),
                "{key} on {} {}",
                span.name,
                span.span_id
            );
        }
        // Sent (and recorded) only where the default model takes it: Gemini.
        assert_eq!(
            span.attr("gen_ai.request.temperature").is_some(),
            span.text("gen_ai.system") == Some("gemini"),
            "{}",
            span.name
        );
        assert!(
            span.attr("gen_ai.usage.input_tokens")
                .and_then(|a| a.as_int())
                .is_some()
        );
    }
    // Every call carries its step type but the holistic review's: its
    // EVALUATOR span holds the plan reviewed and carries the type (one item).
    let untyped: Vec<_> = llm
        .iter()
        .filter(|s| s.text("agento.step_type").is_none())
        .collect();
    assert_eq!(untyped.len(), 1, "{untyped:?}");
    let retry = trace
        .spans
        .iter()
        .find(|p| p.span_id == untyped[0].parent_span_id)
        .expect("the retry span");
    assert_eq!(retry.name, "llm.anthropic.holistic_review.with_retry");
    let review = trace
        .spans
        .iter()
        .find(|p| p.span_id == retry.parent_span_id)
        .expect("the review span");
    assert_eq!(review.oi_kind(), "EVALUATOR");
    assert_eq!(review.text("agento.step_type"), Some("holistic_review"));
    let finals: Vec<_> = trace
        .spans
        .iter()
        .filter(|s| s.attr("agent.final_response").is_some())
        .collect();
    assert_eq!(finals.len(), 1);
    assert_eq!(finals[0].text("agento.module"), Some(MODULES[2]));
    assert_eq!(
        finals[0].text("expected_response"),
        Some("A plan with research, financing, launch and operations")
    );
    let final_plan: serde_json::Value =
        serde_json::from_str(finals[0].text("agent.final_response").unwrap_or(""))
            .expect("final response is JSON");
    assert_eq!(
        final_plan["Original_Goal"],
        "Open a bakery in Oakland within six months"
    );
    let step_types: BTreeSet<&str> = trace
        .spans
        .iter()
        .filter_map(|s| s.text("agento.step_type"))
        .collect();
    for wanted in [
        "plan",
        "draft",
        "critique",
        "revision_instruction",
        "revision_draft",
        "revision_verdict",
        "holistic_review",
    ] {
        assert!(step_types.contains(wanted), "{wanted} in {step_types:?}");
    }
    assert!(step_types.contains("accepted_revision") || step_types.contains("timed_out_revision"));
    assert!(step_types.iter().all(|t| t.parse::<StepType>().is_ok()));
    for accepted in named(trace, "agento.event.accepted_revision") {
        for key in ["agento.revision_request", "agento.final_content"] {
            assert!(accepted.text(key).is_some(), "{key}");
        }
        assert_eq!(
            accepted
                .attr("agento.iterations_taken")
                .and_then(|a| a.as_int()),
            Some(2)
        );
    }
    let drafts: Vec<_> = llm
        .iter()
        .filter(|s| s.text("agento.step_type") == Some("draft"))
        .collect();
    assert!(!drafts.is_empty());
    for draft in drafts {
        for key in [
            "agento.criteria",
            "agento.instructions",
            "agento.user_goal",
            "agento.step_name",
        ] {
            assert!(draft.text(key).is_some(), "{key} on a draft span");
        }
    }
    let review = named(trace, "agento.event.holistic_review");
    assert_eq!(review.len(), 1);
    assert_eq!(review[0].oi_kind(), "EVALUATOR");
    assert!(review[0].text("agento.final_plan_content").is_some());
    for span in &trace.spans {
        for (key, value) in &span.attributes {
            if let Some(text) = value.as_text() {
                assert!(text.chars().count() <= 8192 + 14, "{key} on {}", span.name);
            }
        }
    }
    for file in [
        "plan_structure.json",
        "project_plan.json",
        "RevisedPlan.json",
    ] {
        assert!(work.data().join(file).is_file(), "{file}");
    }
    let archive_text = std::fs::read_to_string(&archive.path).expect("archive text");
    assert_no_sentinel(&archive_text, "the archive");
    assert_no_sentinel(&work.all_output(), "the stage outputs");
    assert_no_sentinel(console_text, "the console");
}

#[test]
fn agento_run_offline_gives_one_complete_connected_trace() {
    let work = Workdir::bakery();
    let output =
        run(work
            .command(AGENTO)
            .args(["run", "--offline", "--goal", "goal.json", "--json"]));
    let text = console(&output);
    assert!(output.status.success(), "{text}");
    let summary: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("--json prints JSON");
    assert_eq!(summary["outcome"], "ok");
    assert!(summary["spans"].as_u64().unwrap_or(0) > 30, "{summary}");
    for vendor in ["gemini", "openai", "anthropic"] {
        assert!(
            summary["tokens"][vendor]["input_tokens"]
                .as_u64()
                .unwrap_or(0)
                > 0,
            "{vendor}"
        );
    }
    assert!(summary["steps"].as_array().is_some_and(|s| !s.is_empty()));
    assert_complete_run(&work, &text);
    let archive = work.archive();
    let root = &only_trace(&archive).roots()[0];
    assert_eq!(summary["run_id"].as_str(), root.text("agento.run_id"));
}

#[test]
fn the_three_stage_binaries_in_sequence_give_the_same_single_trace() {
    let work = Workdir::bakery();
    let (mut sim, url) = simulate(&work);
    let mut text = String::new();
    for stage in STAGES {
        let mut command = work.command(stage);
        command
            .args(["--goal", "goal.json"])
            .env("GEMINI_BASE_URL", &url)
            .env("OPENAI_BASE_URL", format!("{url}/v1"))
            .env("ANTHROPIC_BASE_URL", &url);
        let output = run(&mut command);
        text.push_str(&console(&output));
        assert!(output.status.success(), "{stage}: {text}");
    }
    let _ = sim.kill();
    let _ = sim.wait();
    assert_complete_run(&work, &text);
    let archive = work.archive();
    let resource_modules: BTreeSet<&str> = only_trace(&archive)
        .spans
        .iter()
        .filter_map(|s| s.module.as_deref())
        .collect();
    assert_eq!(resource_modules, BTreeSet::from(MODULES));
}

#[test]
fn a_gemini_fault_once_is_retried_and_the_run_succeeds() {
    let work = Workdir::bakery();
    let output = run(work
        .command(AGENTO)
        .args(["run", "--offline", "--goal", "goal.json", "--quiet"])
        .env("AGENTO_SIM_GEMINI_FAIL_FIRST", "1")
        .env("AGENTO_SIM_GEMINI_FAILURE", "503"));
    assert!(output.status.success(), "{}", console(&output));
    let archive = work.archive();
    let trace = only_trace(&archive);
    let retry = named(trace, "llm.gemini.generate_plan_structure.with_retry");
    assert_eq!(retry.len(), 1);
    let attempts = trace.children(&retry[0].span_id);
    let names: Vec<&str> = attempts.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["attempt_0", "attempt_1"]);
    assert_eq!(attempts[0].status_code, 2);
    assert_eq!(attempts[0].text("error.type"), Some("http.503"));
    assert!(attempts[0].events.iter().any(|e| e == "exception"));
    assert!(
        attempts[0]
            .status_message
            .contains("Gemini answered HTTP 503")
    );
    assert_eq!(attempts[1].status_code, 1);
    assert_eq!(retry[0].status_code, 1);
    assert!(validate(&archive, trace).is_empty());
}

#[test]
fn a_permanent_fault_fails_the_stage_and_keeps_its_spans() {
    let work = Workdir::bakery();
    let output = run(work
        .command(AGENTO)
        .args(["run", "--offline", "--goal", "goal.json"])
        .env("AGENTO_SIM_OPENAI_FAIL_ALWAYS", "1")
        .env("AGENTO_SIM_OPENAI_FAILURE", "400"));
    let text = console(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("error: OpenAI answered HTTP 400: the request is invalid"),
        "{text}"
    );
    assert!(work.data().join("plan_structure.json").is_file());
    assert!(!work.data().join("project_plan.json").exists());
    let archive = work.archive();
    let trace = only_trace(&archive);
    let module = named(trace, "agento.module.1_05_Ingest-PlanStructure-to-Plan");
    assert_eq!(module.len(), 1);
    assert_eq!(module[0].status_code, 2);
    assert_eq!(module[0].text("error.type"), Some("http.400"));
    let retry = named(trace, "llm.openai.draft_step.with_retry");
    assert_eq!(retry[0].status_code, 2);
    assert_eq!(
        trace.children(&retry[0].span_id).len(),
        1,
        "a 400 is not retried"
    );
    assert_eq!(named(trace, "agento.pipeline")[0].status_code, 2);
    assert_no_sentinel(&text, "the console");
}

#[test]
fn the_next_stage_refuses_missing_or_invalid_input() {
    let work = Workdir::bakery();
    let output = run(work.command(STAGES[1]).args(["--offline"]));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        console(&output).contains("the plan structure not found"),
        "{}",
        console(&output)
    );
    std::fs::create_dir_all(work.data()).unwrap();
    std::fs::write(work.data().join("plan_structure.json"), r#"{"Title": "T"}"#).unwrap();
    let output = run(work.command(STAGES[1]).args(["--offline"]));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        console(&output).contains("field `Detailed_Outline` is missing"),
        "{}",
        console(&output)
    );
    let output = run(work.command(STAGES[2]).args(["--offline"]));
    assert!(
        console(&output).contains("the project plan not found"),
        "{}",
        console(&output)
    );
}

fn failing_goal(goal: Option<&str>, expected: &str) {
    let work = Workdir::bakery();
    if let Some(goal) = goal {
        std::fs::write(work.path().join("goal.json"), goal).unwrap();
    } else {
        std::fs::remove_file(work.path().join("goal.json")).unwrap();
    }
    let output = run(work
        .command(AGENTO)
        .args(["run", "--offline", "--goal", "goal.json"]));
    let text = console(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains(expected), "expected {expected:?} in {text}");
    let archive = work.archive();
    let trace = only_trace(&archive);
    let first = named(trace, "agento.module.1_01_JSON_Goal_to_PlanStructure");
    assert_eq!(first[0].status_code, 2);
    assert_eq!(first[0].text("error.type"), Some("bad_goal"));
}

#[test]
fn bad_goal_files_are_clear_errors() {
    failing_goal(None, "the goal file not found");
    failing_goal(Some(r#"{"goal": "   "}"#), "\"goal\" is empty");
    failing_goal(Some("open a bakery"), "the goal file is not valid JSON");
    failing_goal(Some(r#"{"goal": 42}"#), "\"goal\" must be a string");
}

#[test]
fn a_plan_the_model_got_wrong_is_a_clear_error() {
    let work = Workdir::bakery();
    let output = run(work
        .command(AGENTO)
        .args(["run", "--offline", "--goal", "goal.json"])
        .env("AGENTO_SIM_GEMINI_BROKEN_PLAN", "1"));
    let text = console(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("is not usable: field `Detailed_Outline` must be an array"),
        "{text}"
    );
    assert!(!work.data().join("plan_structure.json").exists());
}

#[test]
fn trace_tools_read_a_real_run() {
    let work = Workdir::bakery();
    assert!(
        run(work
            .command(AGENTO)
            .args(["run", "--offline", "--goal", "goal.json", "--quiet"]))
        .status
        .success()
    );
    let archive = work.archives().remove(0);
    let output = run(work
        .command(AGENTO)
        .args(["trace", "validate"])
        .arg(&archive));
    assert!(output.status.success(), "{}", console(&output));
    let output = run(work.command(AGENTO).args(["trace", "show", "--latest"]));
    let text = String::from_utf8_lossy(&output.stdout);
    for expected in [
        "agento.pipeline [AGENT]",
        "agento.module.2_Revise-Plan-Stable [CHAIN]",
        "attempt_0 [LLM]",
        "gemini ",
        "openai ",
        "anthropic ",
    ] {
        assert!(text.contains(expected), "{expected:?} in\n{text}");
    }
    let html = work.path().join("run.html");
    let output = run(work
        .command(AGENTO)
        .args(["trace", "report"])
        .arg(&archive)
        .arg("-o")
        .arg(&html));
    assert!(output.status.success(), "{}", console(&output));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg id=\"waterfall\"") && page.contains("id=\"plan-after\""));
    assert!(!page.contains("<script") && !page.contains("http://") && !page.contains("https://"));
}

#[test]
fn the_simulator_answers_each_vendor_with_its_own_json() {
    let work = Workdir::bakery();
    let (mut sim, url) = simulate(&work);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let vendors = agento_pipeline::vendors::Vendors::new(
        agento_pipeline::vendors::VendorsConfig::offline(&url).unwrap(),
    )
    .unwrap();
    let request = agento_pipeline::vendors::ChatRequest::new("[agento:plan]\nGoal: Open a bakery");
    let replies = runtime.block_on(async {
        (
            vendors.gemini.chat(&request).await,
            vendors.openai.chat(&request).await,
            vendors.anthropic.chat(&request).await,
        )
    });
    let _ = sim.kill();
    let _ = sim.wait();
    let (gemini, openai, anthropic) = (replies.0.unwrap(), replies.1.unwrap(), replies.2.unwrap());
    assert_eq!(gemini.finish_reasons, ["STOP"]);
    assert_eq!(openai.finish_reasons, ["stop"]);
    assert_eq!(anthropic.finish_reasons, ["end_turn"]);
    assert!(gemini.model.starts_with("gemini-3.8-flash"));
    assert_eq!(
        gemini.text, openai.text,
        "content is derived from the prompt alone"
    );
    assert!(
        agento_pipeline::plan::PlanStructure::from_reply(&gemini.text, "Open a bakery").is_ok()
    );
}
