//! `#[llm_span]` without a `Telemetry`: under the default no-op global
//! provider the call runs and nothing is recorded; under a provider the user
//! set up by hand, the span records the same request and response attributes
//! (built once the provider says the span records).

use agento::{LlmResponse, TokenCounts, TokenUsage, llm_span};
use opentelemetry::global;
use opentelemetry::trace::SpanKind;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};

struct Reply(String, TokenCounts);

impl LlmResponse for Reply {
    fn text(&self) -> &str {
        &self.0
    }
    fn usage(&self) -> Option<&dyn TokenUsage> {
        Some(&self.1)
    }
}

#[llm_span(system = "openai", model = "gpt-4.1", temperature = 0.3, prompt = prompt)]
fn draft(prompt: &str) -> Result<Reply, std::io::Error> {
    Ok(Reply(
        format!("draft for {prompt}"),
        TokenCounts::new(7, 11),
    ))
}

#[test]
fn without_a_provider_the_call_runs_and_with_one_the_span_records_everything() {
    let reply = draft("the budget").expect("the call succeeds");
    assert_eq!(reply.0, "draft for the budget");

    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    global::set_tracer_provider(provider.clone());
    draft("the launch").expect("the call succeeds");
    provider.force_flush().expect("flushed");
    let spans = exporter.get_finished_spans().expect("spans");
    assert_eq!(spans.len(), 1, "only the call made under the provider");
    let span = &spans[0];
    assert_eq!(span.name, "llm.openai.draft");
    assert_eq!(span.span_kind, SpanKind::Client);
    let text = |key: &str| {
        span.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.as_str().into_owned())
    };
    assert_eq!(text("openinference.span.kind").as_deref(), Some("LLM"));
    assert_eq!(text("gen_ai.request.model").as_deref(), Some("gpt-4.1"));
    assert_eq!(text("gen_ai.prompt").as_deref(), Some("the launch"));
    assert_eq!(text("input.value").as_deref(), Some("the launch"));
    assert_eq!(
        text("gen_ai.response.content").as_deref(),
        Some("draft for the launch")
    );
    assert_eq!(text("gen_ai.usage.output_tokens").as_deref(), Some("11"));
}
