//! The per-chunk cost of an instrumented stream on the calling thread:
//! `#[llm_span]` on a function returning a stream of chunks, against the same
//! stream bare. Each is measured at two lengths; the difference of the
//! differences over the extra chunks is the per-chunk overhead (the one-off
//! cost of the span itself cancels out). The SDK's processor drops each span.

use std::convert::Infallible;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use agento::{LlmChunk, TokenCounts, TokenUsage, llm_span};
use criterion::Criterion;
use futures_util::stream::{self, Stream};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanProcessor};

#[derive(Clone, Copy)]
struct Chunk {
    delta: &'static str,
    usage: Option<&'static TokenCounts>,
}

impl LlmChunk for Chunk {
    fn text_delta(&self) -> &str {
        self.delta
    }
    fn usage(&self) -> Option<&dyn TokenUsage> {
        self.usage.map(|u| u as &dyn TokenUsage)
    }
}

static USAGE: TokenCounts = TokenCounts::new(120, 800);

const SHORT: usize = 100;
const LONG: usize = 1100;

fn chunks(n: usize) -> impl Stream<Item = Result<Chunk, Infallible>> {
    stream::iter((0..n).map(move |i| {
        Ok(Chunk {
            delta: "Step one: lease ",
            usage: (i + 1 == n).then_some(&USAGE),
        })
    }))
}

#[llm_span(system = "openai", model = "gpt-4.1")]
fn instrumented(n: usize) -> impl Stream<Item = Result<Chunk, Infallible>> {
    chunks(n)
}

/// Polls `s` to its end on this thread (the streams here never wait).
fn drain(s: impl Stream<Item = Result<Chunk, Infallible>>) -> usize {
    let mut s = pin!(s);
    let mut cx = Context::from_waker(Waker::noop());
    let mut count = 0;
    while let Poll::Ready(Some(item)) = s.as_mut().poll_next(&mut cx) {
        black_box(item.ok());
        count += 1;
    }
    count
}

#[derive(Debug)]
struct Discard;

impl SpanProcessor for Discard {
    fn on_start(&self, _span: &mut opentelemetry_sdk::trace::Span, _cx: &opentelemetry::Context) {}
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

const GROUP: &str = "llm_stream";

fn mean_ns(id: &str) -> Option<f64> {
    let path = output_dir().join(GROUP).join(id).join("new/estimates.json");
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
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
    let mut criterion = Criterion::default()
        .output_directory(&output_dir())
        .configure_from_args();
    {
        let mut group = criterion.benchmark_group(GROUP);
        for n in [SHORT, LONG] {
            group.bench_function(format!("bare_{n}"), |b| {
                b.iter(|| drain(chunks(black_box(n))))
            });
            group.bench_function(format!("instrumented_{n}"), |b| {
                b.iter(|| drain(instrumented(black_box(n))))
            });
        }
        group.finish();
    }
    criterion.final_summary();
    drop(telemetry);
    let get = |id: String| mean_ns(&id);
    if let (Some(bare_short), Some(bare_long), Some(short), Some(long)) = (
        get(format!("bare_{SHORT}")),
        get(format!("bare_{LONG}")),
        get(format!("instrumented_{SHORT}")),
        get(format!("instrumented_{LONG}")),
    ) {
        let per_chunk = ((long - bare_long) - (short - bare_short)) / (LONG - SHORT) as f64;
        println!(
            "\nstream per chunk (calling thread): instrumented over bare {per_chunk:.1} ns (target <= 50 ns); one stream span {:.0} ns",
            short - bare_short - per_chunk * SHORT as f64
        );
    }
}
