//! The per-call cost of an instrumented LLM call, side by side:
//!
//! - `none`: the call alone;
//! - `macro`: `#[llm_span]`;
//! - `hand_sdk`: the same span written by hand with the OpenTelemetry SDK;
//! - `tracing_otel`: `#[tracing::instrument]` + `tracing-opentelemetry`;
//! - `retry_macro`: `#[retry_spans]` + `#[llm_span]`, succeeding at once.
//!
//! Every variant records the same things: span name and CLIENT kind,
//! `openinference.span.kind`, system, operation, request model, temperature,
//! max tokens, the prompt, the 9 KB response truncated to 8000 characters
//! with the three marker attributes, response model, finish reasons, input
//! and output tokens, status. All share one SDK provider whose processor
//! drops each span (no I/O): what is measured is calling-thread time.
//! After the run the ratios are printed.

use std::borrow::Cow;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use agento::{LlmResponse, TokenCounts, TokenUsage, llm_span, retry_spans};
use criterion::Criterion;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer, TracerProvider as _};
use opentelemetry::{Array, Context, KeyValue, StringValue, Value};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracer, SpanData, SpanProcessor};
use tracing_subscriber::layer::SubscriberExt;

static RESPONSE: LazyLock<Arc<str>> = LazyLock::new(|| {
    let mut text = String::with_capacity(9 * 1024);
    while text.len() < 9 * 1024 {
        text.push_str("Step one: find a lease. Step two: hire a baker. Étape trois: ouvrir. ");
    }
    Arc::from(text)
});
static FINISH: LazyLock<Vec<String>> = LazyLock::new(|| vec!["stop".to_owned()]);
const PROMPT: &str = "[agento:draft]\nGoal: Open a bakery\nStep: Launch\nWrite the launch plan.";
const MODEL: &str = "gpt-4.1";

struct Reply {
    text: Arc<str>,
    usage: TokenCounts,
}

impl LlmResponse for Reply {
    fn text(&self) -> &str {
        &self.text
    }
    fn usage(&self) -> Option<&dyn TokenUsage> {
        Some(&self.usage)
    }
    fn response_model(&self) -> Option<&str> {
        Some("gpt-4.1-2025-04-14")
    }
    fn finish_reasons(&self) -> &[String] {
        &FINISH
    }
}

#[derive(Debug)]
struct CallError;

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the call failed")
    }
}

/// The LLM call itself (a vendor's reply, already received).
#[inline(never)]
fn call() -> Result<Reply, CallError> {
    Ok(Reply {
        text: Arc::clone(&RESPONSE),
        usage: TokenCounts::new(212, 2304),
    })
}

#[llm_span(system = "openai", model = model, temperature = 0.7, max_tokens = 1024_u32, prompt = prompt)]
fn macro_call(model: &str, prompt: &str) -> Result<Reply, CallError> {
    call()
}

#[retry_spans(max = 3, backoff = "none")]
#[llm_span(system = "openai", model = model, temperature = 0.7, max_tokens = 1024_u32, prompt = prompt)]
fn retry_macro_call(model: &str, prompt: &str) -> Result<Reply, CallError> {
    call()
}

/// The memo's truncation helper, as a user would write it.
fn response_attributes(text: &str, out: &mut Vec<KeyValue>) {
    let chars = text.chars().count();
    if chars > 8192 {
        let cut = text.char_indices().nth(8000).map_or(text.len(), |(i, _)| i);
        out.push(KeyValue::new("gen_ai.response.truncated", true));
        out.push(KeyValue::new(
            "agento.response.truncated_reason",
            "size_limit",
        ));
        out.push(KeyValue::new("agento.response.length", chars as i64));
        out.push(KeyValue::new(
            "gen_ai.response.content",
            format!("{}...[truncated]", &text[..cut]),
        ));
    } else {
        out.push(KeyValue::new("gen_ai.response.content", text.to_owned()));
    }
}

/// The same span by hand with the SDK.
fn hand_call(tracer: &SdkTracer, model: &str, prompt: &str) -> Result<Reply, CallError> {
    let span = tracer
        .span_builder("llm.openai.hand_call")
        .with_kind(SpanKind::Client)
        .with_attributes([
            KeyValue::new("openinference.span.kind", "LLM"),
            KeyValue::new("gen_ai.system", "openai"),
            KeyValue::new("gen_ai.operation.name", "chat"),
            KeyValue::new("gen_ai.request.model", model.to_owned()),
            KeyValue::new("gen_ai.request.temperature", 0.7),
            KeyValue::new("gen_ai.request.max_tokens", 1024_i64),
            KeyValue::new("gen_ai.prompt", prompt.to_owned()),
        ])
        .start(tracer);
    let cx = Context::current_with_span(span);
    let _active = cx.clone().attach();
    let result = call();
    let span = cx.span();
    match &result {
        Ok(reply) => {
            let mut attributes = Vec::with_capacity(10);
            response_attributes(&reply.text, &mut attributes);
            attributes.push(KeyValue::new("gen_ai.response.model", "gpt-4.1-2025-04-14"));
            attributes.push(KeyValue::new(
                "gen_ai.response.finish_reasons",
                Value::Array(Array::String(
                    FINISH
                        .iter()
                        .map(|r| StringValue::from(r.clone()))
                        .collect(),
                )),
            ));
            attributes.push(KeyValue::new(
                "gen_ai.usage.input_tokens",
                reply.usage.input.unwrap_or(0) as i64,
            ));
            attributes.push(KeyValue::new(
                "gen_ai.usage.output_tokens",
                reply.usage.output.unwrap_or(0) as i64,
            ));
            span.set_attributes(attributes);
            span.set_status(Status::Ok);
        }
        Err(error) => {
            span.set_attribute(KeyValue::new("error.type", "CallError"));
            span.set_status(Status::error(error.to_string()));
        }
    }
    span.end();
    result
}

/// The same span with `tracing` + `tracing-opentelemetry`.
#[tracing::instrument(
    name = "llm.openai.tracing_call",
    skip_all,
    fields(
        otel.kind = "client",
        openinference.span.kind = "LLM",
        gen_ai.system = "openai",
        gen_ai.operation.name = "chat",
        gen_ai.request.model = model,
        gen_ai.request.temperature = 0.7,
        gen_ai.request.max_tokens = 1024,
        gen_ai.prompt = prompt,
        gen_ai.response.content = tracing::field::Empty,
        gen_ai.response.truncated = tracing::field::Empty,
        agento.response.truncated_reason = tracing::field::Empty,
        agento.response.length = tracing::field::Empty,
        gen_ai.response.model = tracing::field::Empty,
        gen_ai.response.finish_reasons = tracing::field::Empty,
        gen_ai.usage.input_tokens = tracing::field::Empty,
        gen_ai.usage.output_tokens = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
    )
)]
fn tracing_call(model: &str, prompt: &str) -> Result<Reply, CallError> {
    let result = call();
    let span = tracing::Span::current();
    if let Ok(reply) = &result {
        let chars = reply.text.chars().count();
        let content: Cow<'_, str> = if chars > 8192 {
            let cut = reply
                .text
                .char_indices()
                .nth(8000)
                .map_or(reply.text.len(), |(i, _)| i);
            span.record("gen_ai.response.truncated", true);
            span.record("agento.response.truncated_reason", "size_limit");
            span.record("agento.response.length", chars as i64);
            format!("{}...[truncated]", &reply.text[..cut]).into()
        } else {
            Cow::Borrowed(&reply.text)
        };
        span.record("gen_ai.response.content", content.as_ref());
        span.record("gen_ai.response.model", "gpt-4.1-2025-04-14");
        span.record("gen_ai.response.finish_reasons", FINISH[0].as_str());
        span.record(
            "gen_ai.usage.input_tokens",
            reply.usage.input.unwrap_or(0) as i64,
        );
        span.record(
            "gen_ai.usage.output_tokens",
            reply.usage.output.unwrap_or(0) as i64,
        );
        span.record("otel.status_code", "OK");
    }
    result
}

/// Drops every span: the cost measured is the calling thread's.
#[derive(Debug)]
struct Discard;

impl SpanProcessor for Discard {
    fn on_start(&self, _span: &mut opentelemetry_sdk::trace::Span, _cx: &Context) {}
    fn on_end(&self, span: SpanData) {
        black_box(span);
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

fn output_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/criterion")
}

const GROUP: &str = "llm_span";

/// The mean time of one benchmark, from criterion's estimates, in ns.
fn mean_ns(id: &str) -> Option<f64> {
    let path = output_dir().join(GROUP).join(id).join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value["mean"]["point_estimate"].as_f64()
}

fn main() {
    let telemetry = agento::Telemetry::builder()
        .archive(false)
        .otlp(false)
        .handle_signals(false)
        .new_run(true)
        .with_span_processor(Discard)
        .init();
    let provider = telemetry.tracer_provider().expect("the SDK is on").clone();
    let hand_tracer = provider.tracer("hand");
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("tracing")));
    tracing::subscriber::set_global_default(subscriber).expect("one subscriber");

    let mut criterion = Criterion::default()
        .output_directory(&output_dir())
        .configure_from_args();
    {
        let mut group = criterion.benchmark_group(GROUP);
        group.bench_function("none", |b| b.iter(|| black_box(call())));
        group.bench_function("macro", |b| {
            b.iter(|| black_box(macro_call(black_box(MODEL), black_box(PROMPT))))
        });
        group.bench_function("hand_sdk", |b| {
            b.iter(|| black_box(hand_call(&hand_tracer, black_box(MODEL), black_box(PROMPT))))
        });
        group.bench_function("tracing_otel", |b| {
            b.iter(|| black_box(tracing_call(black_box(MODEL), black_box(PROMPT))))
        });
        group.bench_function("retry_macro", |b| {
            b.iter(|| black_box(retry_macro_call(black_box(MODEL), black_box(PROMPT))))
        });
        group.finish();
    }
    criterion.final_summary();
    drop(telemetry);

    let get = |id| mean_ns(id);
    if let (Some(none), Some(mac), Some(hand), Some(tracing), Some(retry)) = (
        get("none"),
        get("macro"),
        get("hand_sdk"),
        get("tracing_otel"),
        get("retry_macro"),
    ) {
        println!(
            "\nper call (calling thread): none {none:.0} ns, #[llm_span] {mac:.0} ns, hand-written SDK {hand:.0} ns, tracing-opentelemetry {tracing:.0} ns, #[retry_spans]+#[llm_span] {retry:.0} ns"
        );
        println!(
            "ratio macro / hand SDK           = {:.3}   (target <= 1.05)",
            mac / hand
        );
        println!(
            "ratio macro / tracing-otel       = {:.3}   (target <= 0.5)",
            mac / tracing
        );
        println!(
            "ratio retry+llm / llm            = {:.3}   (target <= 1.3)",
            retry / mac
        );
        println!(
            "macro cost over the bare call    = {:.0} ns (target <= 1000 ns)",
            mac - none
        );
    }
}
