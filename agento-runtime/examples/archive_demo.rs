//! Writes a small run archive with no collector: `cargo run -p agento-runtime --example archive_demo`.

use agento_runtime::__private::{LlmRequest, LlmSpec};
use agento_runtime::{SpanGuard, SpanKind, Telemetry};

static SPEC: LlmSpec = LlmSpec {
    system: "gemini",
    operation: "chat",
    span_name: "llm.gemini.generate_plan_structure",
    step_type: Some("plan"),
};

fn main() {
    let telemetry = Telemetry::builder()
        .module("archive_demo")
        .new_run(true)
        .init();
    {
        let step = SpanGuard::start("generate_plan_structure", SpanKind::Chain);
        let _active = step.enter();
        let call = SpanGuard::llm(
            &SPEC,
            &LlmRequest {
                model: "gemini-2.5-pro",
                temperature: Some(0.1),
                prompt: Some("Plan: open a bakery"),
                ..Default::default()
            },
        );
        call.record_response(&"{\"Title\": \"Bakery\"}".to_owned());
        step.set_ok();
    }
    let path = telemetry.archive_path().map(|p| p.display().to_string());
    let report = telemetry.shutdown();
    println!("{report}; archive: {}", path.unwrap_or_default());
}
