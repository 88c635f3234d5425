//! `enabled` is additive: `agento-additive-lib` depends on `agento` with
//! `default-features = false`, this test crate (the "application") has the
//! default `enabled` on, and so the library's function records its span too.
//! (`tests/disabled.rs` checks the other side: with the feature off in the
//! whole build, the same library records nothing.)
#![cfg(feature = "enabled")]

use agento::runtime::attributes;
use opentelemetry::Value;
use opentelemetry_sdk::trace::InMemorySpanExporter;

#[test]
fn a_library_without_the_feature_records_when_the_application_enables_it() {
    let exporter = InMemorySpanExporter::default();
    let telemetry = agento::Telemetry::builder()
        .archive(false)
        .otlp(false)
        .handle_signals(false)
        .new_run(true)
        .with_exporter(exporter.clone())
        .init();
    assert_eq!(agento_additive_lib::library_step("bakery"), "BAKERY");
    telemetry.flush();
    let spans = exporter.get_finished_spans().expect("finished spans");
    telemetry.shutdown();
    let span = spans
        .iter()
        .find(|span| span.name == "library_step")
        .unwrap_or_else(|| {
            panic!(
                "no library_step span in {:?}",
                spans.iter().map(|s| &s.name).collect::<Vec<_>>()
            )
        });
    let kind = span
        .attributes
        .iter()
        .find(|kv| kv.key.as_str() == attributes::OPENINFERENCE_SPAN_KIND)
        .map(|kv| kv.value.clone());
    assert_eq!(kind, Some(Value::from("TOOL")));
}
