//! What the facade's behaviour tests share: telemetry with the SDK's in-memory
//! exporter around a piece of code, and look-ups in the spans it recorded.
//! Each test file uses the part it needs.
#![allow(dead_code)]

use std::future::Future;
use std::sync::Mutex;

use opentelemetry::Value;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};

/// Telemetry is process-wide: the tests of one file take turns.
static SERIAL: Mutex<()> = Mutex::new(());

/// Runs `f` under fresh telemetry (no archive, no OTLP, no signal handling)
/// and returns its value with every span that ended.
pub fn record<T>(f: impl FnOnce() -> T) -> (T, Vec<SpanData>) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let exporter = InMemorySpanExporter::default();
    let telemetry = agento::Telemetry::builder()
        .archive(false)
        .otlp(false)
        .handle_signals(false)
        .new_run(true)
        .with_exporter(exporter.clone())
        .init();
    let value = f();
    telemetry.flush();
    let spans = exporter.get_finished_spans().expect("finished spans");
    telemetry.shutdown();
    (value, spans)
}

/// Runs `future` to completion on a current-thread tokio runtime.
pub fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(future)
}

/// The spans called `name`.
pub fn named<'a>(spans: &'a [SpanData], name: &str) -> Vec<&'a SpanData> {
    spans.iter().filter(|s| s.name == name).collect()
}

/// The one span called `name` (a failed assertion lists the names otherwise).
pub fn one<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    let found = named(spans, name);
    assert_eq!(
        found.len(),
        1,
        "spans named {name}: {:?}",
        spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    found[0]
}

/// The value of attribute `key` on `span`.
pub fn attr(span: &SpanData, key: &str) -> Option<Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.clone())
}

/// The text of attribute `key` on `span` (a failed assertion otherwise).
pub fn text(span: &SpanData, key: &str) -> String {
    match attr(span, key) {
        Some(Value::String(s)) => s.as_str().to_owned(),
        other => panic!("{key} on {}: {other:?}", span.name),
    }
}
