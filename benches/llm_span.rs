//! The per-call cost of an instrumented LLM call on the calling thread, side
//! by side:
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
//! and output tokens, status.
//!
//! Each variant runs in two set-ups, all variants of one set-up on the same
//! SDK provider (so the same processors):
//!
//! - `processor`: archive, OTLP and signal handling off; one processor added
//!   with `with_span_processor` (so behind the secrets stage) that drops each
//!   span;
//! - `default`: what `#[agento_module]` builds — signal handling on, the run
//!   archive on (in a temporary directory), OTLP export on over gRPC to a
//!   collector on 127.0.0.1 that accepts and discards every request.
//!
//! Calls are timed in bursts of [`BURST`]; between bursts (untimed) the
//! telemetry is flushed, so the archive writer and the exporter never push
//! back on the calling thread: what is measured is the calling thread's own
//! time. The per-call figure is the median burst's. After the run the
//! figures and ratios are printed.

use std::borrow::Cow;
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use agento::{Config, LlmResponse, Telemetry, TokenCounts, TokenUsage, llm_span, retry_spans};
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer, TracerProvider as _};
use opentelemetry::{Array, Context, KeyValue, StringValue, Value};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
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

/// Drops every span handed to it.
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

/// A collector on loopback that accepts every export and discards it.
#[derive(Debug, Default)]
struct DiscardingCollector;

#[tonic::async_trait]
impl TraceService for DiscardingCollector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        black_box(request.into_inner().resource_spans.len());
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

/// Serves the discarding collector on `listener` (127.0.0.1).
fn start_collector(runtime: &tokio::runtime::Runtime, listener: std::net::TcpListener) {
    let listener = {
        let _entered = runtime.enter();
        listener
            .set_nonblocking(true)
            .expect("a non-blocking socket");
        tokio::net::TcpListener::from_std(listener).expect("a loopback listener")
    };
    runtime.spawn(
        tonic::transport::Server::builder()
            // A batch of 512 LLM spans is larger than tonic's default 4 MiB.
            .add_service(
                TraceServiceServer::new(DiscardingCollector).max_decoding_message_size(usize::MAX),
            )
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
}

/// Calls per timed burst: well under the archive's buffer and the OTLP
/// queue, so neither ever pushes back within a burst, and fewer spans (with
/// `#[retry_spans]`, two per call) than wake the archive writer or fill an
/// OTLP batch (512), so the export threads stay idle while a burst runs.
const BURST: usize = 200;
/// Bursts run before timing.
const WARM_UP_BURSTS: usize = 20;

/// How long one call of `f` takes on the calling thread, in ns: the median
/// and the fastest of `bursts` bursts of [`BURST`] calls, with `between`
/// (untimed) after each burst.
fn measure(variant: &str, bursts: usize, mut f: impl FnMut(), between: &dyn Fn()) -> (f64, f64) {
    if !runs(variant) {
        return (f64::NAN, f64::NAN);
    }
    let mut per_call = Vec::with_capacity(bursts);
    for round in 0..WARM_UP_BURSTS + bursts {
        let start = Instant::now();
        for _ in 0..BURST {
            f();
        }
        let elapsed = start.elapsed();
        between();
        if round >= WARM_UP_BURSTS {
            per_call.push(elapsed.as_nanos() as f64 / BURST as f64);
        }
    }
    per_call.sort_by(f64::total_cmp);
    (per_call[per_call.len() / 2], per_call[0])
}

/// Whether `--only VARIANT` (for profiling one variant) lets `variant` run.
fn runs(variant: &str) -> bool {
    arg("only").is_none_or(|only| only == variant)
}

/// One set-up's figures, in ns per call (median burst, fastest burst).
struct Figures {
    none: (f64, f64),
    mac: (f64, f64),
    hand: (f64, f64),
    tracing: (f64, f64),
    retry: (f64, f64),
}

impl Figures {
    fn print(&self, setup: &str) {
        let (none, mac, hand, tracing, retry) = (
            self.none.0,
            self.mac.0,
            self.hand.0,
            self.tracing.0,
            self.retry.0,
        );
        println!(
            "[{setup}] per call (calling thread, median burst): none {none:.0} ns, #[llm_span] {mac:.0} ns, hand-written SDK {hand:.0} ns, tracing-opentelemetry {tracing:.0} ns, #[retry_spans]+#[llm_span] {retry:.0} ns"
        );
        println!(
            "[{setup}] fastest burst: #[llm_span] {:.0} ns, hand-written SDK {:.0} ns, tracing-opentelemetry {:.0} ns, #[retry_spans]+#[llm_span] {:.0} ns",
            self.mac.1, self.hand.1, self.tracing.1, self.retry.1
        );
        println!(
            "[{setup}] ratio macro / hand SDK = {:.3}, macro / tracing-otel = {:.3}, retry+llm / llm = {:.3}, macro over the bare call = {:.0} ns",
            mac / hand,
            mac / tracing,
            retry / mac,
            mac - none
        );
    }
}

/// Runs every variant on `telemetry`'s provider.
fn run(telemetry: &Telemetry, bursts: usize) -> Figures {
    let provider = telemetry.tracer_provider().expect("the SDK is on").clone();
    let hand_tracer = provider.tracer("hand");
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("tracing")));
    let _subscriber = tracing::subscriber::set_default(subscriber);
    let archive = telemetry.archive_path().map(PathBuf::from);
    let between = || {
        telemetry.flush();
        // Keep the disk use flat: the file is appended to, so emptying it
        // between bursts (the writer idle after the flush) loses nothing the
        // measurement needs.
        if let Some(path) = &archive {
            let file = std::fs::OpenOptions::new().write(true).open(path);
            file.and_then(|f| f.set_len(0))
                .expect("the archive empties");
        }
    };
    Figures {
        none: measure("none", bursts, || drop(black_box(call())), &between),
        mac: measure(
            "macro",
            bursts,
            || drop(black_box(macro_call(black_box(MODEL), black_box(PROMPT)))),
            &between,
        ),
        hand: measure(
            "hand_sdk",
            bursts,
            || {
                drop(black_box(hand_call(
                    &hand_tracer,
                    black_box(MODEL),
                    black_box(PROMPT),
                )))
            },
            &between,
        ),
        tracing: measure(
            "tracing_otel",
            bursts,
            || drop(black_box(tracing_call(black_box(MODEL), black_box(PROMPT)))),
            &between,
        ),
        retry: measure(
            "retry_macro",
            bursts,
            || {
                drop(black_box(retry_macro_call(
                    black_box(MODEL),
                    black_box(PROMPT),
                )))
            },
            &between,
        ),
    }
}

/// The value of `--<name> VALUE` on the command line.
fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let flag = format!("--{name}");
    args.iter()
        .position(|a| *a == flag)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn main() {
    // `--bursts N`: bursts per variant (default 200); `--setup processor`
    // or `--setup default`: only that set-up (default both); `--only
    // VARIANT` (none, macro, hand_sdk, tracing_otel, retry_macro): only that
    // variant, for profiling.
    let bursts = arg("bursts").and_then(|n| n.parse().ok()).unwrap_or(200);
    let setup = arg("setup");
    let wanted = |name: &str| setup.as_deref().is_none_or(|s| s == name);
    // The OTLP exporter reads its endpoint from the environment, as it does
    // under `#[agento_module]`: set it before any thread starts.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let endpoint = format!("http://{}", listener.local_addr().expect("an address"));
    // SAFETY: no other thread exists yet.
    unsafe { std::env::set_var("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint) };

    let processor = wanted("processor").then(|| {
        let telemetry = Telemetry::builder()
            .archive(false)
            .otlp(false)
            .handle_signals(false)
            .new_run(true)
            .with_span_processor(Discard)
            .init();
        run(&telemetry, bursts)
    });
    if !wanted("default") {
        if let Some(figures) = processor {
            figures.print("processor");
        }
        return;
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime for the collector");
    start_collector(&runtime, listener);
    let dir = std::env::temp_dir().join(format!("agento-bench-llm-{}", std::process::id()));
    let config = Config::from_lookup(|name| match name {
        "AGENTO_DATA_DIR" => Some(dir.display().to_string()),
        "OTEL_EXPORTER_OTLP_ENDPOINT" => Some(endpoint.clone()),
        _ => None,
    });
    let telemetry = Telemetry::builder().config(config).new_run(true).init();
    assert!(telemetry.archive_path().is_some(), "the archive is on");
    let default = run(&telemetry, bursts);
    let report = telemetry.shutdown();
    let _ = std::fs::remove_dir_all(&dir);

    println!();
    if let Some(figures) = processor {
        figures.print("processor");
    }
    default.print("default");
    println!(
        "[default] spans ended {}, archived {}, exported {}, dropped by the OTLP queue {}",
        report.ended, report.archived, report.exported, report.dropped
    );
    if let Some(error) = &report.first_export_error {
        println!("[default] first export error: {error}");
    }
}
