//! Without the `enabled` feature the macros leave functions as they are: the
//! functions still work, and no span is recorded — in this crate and in a
//! library (`agento-additive-lib`) that depends on `agento` the same way.
//! Run with `cargo test -p agento --no-default-features --test disabled`.
#![cfg(not(feature = "enabled"))]

use agento::{LlmResponse, agento_module, llm_span, retry_spans, step};

struct Reply(String);

impl LlmResponse for Reply {
    fn text(&self) -> &str {
        &self.0
    }
}

#[retry_spans(max = 3)]
#[llm_span(system = "gemini", model = "gemini-2.5-pro", prompt = prompt)]
fn call(prompt: &str) -> Result<Reply, std::fmt::Error> {
    Ok(Reply(prompt.to_uppercase()))
}

#[step(fields(prompt))]
fn plan(prompt: &str) -> Result<String, std::fmt::Error> {
    Ok(call(prompt)?.0)
}

#[agento_module(name = "disabled", first)]
fn stage() -> Result<String, std::fmt::Error> {
    plan("bakery")
}

mod common;

#[test]
fn instrumented_functions_run_and_record_nothing() {
    let ((stage, library), spans) =
        common::record(|| (stage(), agento_additive_lib::library_step("bakery")));
    assert_eq!(stage.as_deref(), Ok("BAKERY"));
    assert_eq!(library, "BAKERY");
    assert!(
        spans.is_empty(),
        "{:?}",
        spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
}
