//! `#[llm_span]` on streaming calls, against the SDK's in-memory exporters:
//! the span lasts while the caller consumes the stream; what it records when
//! the stream ends, fails, or is dropped early; `#[retry_spans]` above it
//! retries only before the first chunk; the GenAI client metrics.

use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::SystemTime;

use agento::metrics;
use agento::{ErrorInfo, LlmChunk, TokenCounts, TokenUsage, llm_span, retry_spans};
use futures_util::stream::{self, BoxStream, Stream, StreamExt};
use opentelemetry::trace::Status;
use opentelemetry::{Array, Value};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, HistogramDataPoint, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::SpanData;

mod common;
use common::{attr, block_on, named, one, record, text};

fn error_description(span: &SpanData) -> String {
    match &span.status {
        Status::Error { description } => description.to_string(),
        other => panic!("{} has status {other:?}", span.name),
    }
}

#[derive(Debug, Clone)]
struct Chunk {
    delta: &'static str,
    usage: Option<TokenCounts>,
    finish: Option<&'static str>,
}

impl LlmChunk for Chunk {
    fn text_delta(&self) -> &str {
        self.delta
    }
    fn usage(&self) -> Option<&dyn TokenUsage> {
        self.usage.as_ref().map(|u| u as &dyn TokenUsage)
    }
    fn finish_reason(&self) -> Option<&str> {
        self.finish
    }
    fn response_model(&self) -> Option<&str> {
        Some("gpt-4.1-2025-04-14")
    }
    fn response_id(&self) -> Option<&str> {
        Some("chatcmpl-42")
    }
}

fn delta(text: &'static str) -> Chunk {
    Chunk {
        delta: text,
        usage: None,
        finish: None,
    }
}

fn last(text: &'static str) -> Chunk {
    Chunk {
        delta: text,
        usage: Some(TokenCounts::new(11, 3)),
        finish: Some("stop"),
    }
}

#[derive(Debug, PartialEq)]
enum CallError {
    Busy,
    Cut,
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Busy => "the vendor is busy",
            Self::Cut => "the connection was cut mid-stream",
        })
    }
}

impl ErrorInfo for CallError {
    fn error_type(&self) -> std::borrow::Cow<'static, str> {
        match self {
            Self::Busy => "http.503".into(),
            Self::Cut => "stream_interrupted".into(),
        }
    }
}

type Item = Result<Chunk, CallError>;

fn full() -> Vec<Item> {
    vec![Ok(delta("Hello")), Ok(delta(", ")), Ok(last("world"))]
}

#[llm_span(system = "openai", model = "gpt-4.1", prompt = prompt)]
async fn reply(
    prompt: &str,
    items: Vec<Item>,
) -> Result<impl Stream<Item = Item> + Send, CallError> {
    let _ = prompt;
    Ok(stream::iter(items))
}

#[llm_span(system = "anthropic", model = "claude-sonnet-4", stream)]
fn direct(items: Vec<Item>) -> impl Stream<Item = Item> + Send + Unpin {
    stream::iter(items)
}

#[llm_span(system = "gemini", model = "gemini-2.5-pro")]
fn boxed(items: Vec<Item>) -> Result<BoxStream<'static, Item>, CallError> {
    Ok(stream::iter(items).boxed())
}

#[llm_span(system = "gemini", model = "gemini-2.5-pro", skip(response))]
fn pinned(items: Vec<Item>) -> Pin<Box<dyn Stream<Item = Item> + Send>> {
    Box::pin(stream::iter(items))
}

#[llm_span(system = "openai", model = "gpt-4.1")]
async fn refused() -> Result<impl Stream<Item = Item>, CallError> {
    Err::<stream::Iter<std::vec::IntoIter<Item>>, _>(CallError::Busy)
}

async fn collect(s: impl Stream<Item = Item>) -> (String, Option<CallError>) {
    let mut s = std::pin::pin!(s);
    let mut out = String::new();
    while let Some(item) = s.next().await {
        match item {
            Ok(chunk) => out.push_str(chunk.delta),
            Err(error) => return (out, Some(error)),
        }
    }
    (out, None)
}

#[test]
fn a_stream_consumed_to_its_end_records_the_assembled_reply() {
    let ((text_out, error), spans) = record(|| {
        block_on(async { collect(reply("Say hello", full()).await.expect("stream")).await })
    });
    assert_eq!((text_out.as_str(), error), ("Hello, world", None));
    let span = one(&spans, "llm.openai.reply");
    assert_eq!(span.status, Status::Ok);
    assert_eq!(text(span, "gen_ai.response.content"), "Hello, world");
    assert_eq!(text(span, "gen_ai.prompt"), "Say hello");
    assert_eq!(attr(span, "gen_ai.request.stream"), Some(Value::Bool(true)));
    assert_eq!(attr(span, "agento.response.chunks"), Some(Value::I64(3)));
    assert_eq!(
        attr(span, "gen_ai.usage.input_tokens"),
        Some(Value::I64(11))
    );
    assert_eq!(
        attr(span, "gen_ai.usage.output_tokens"),
        Some(Value::I64(3))
    );
    assert_eq!(text(span, "gen_ai.response.model"), "gpt-4.1-2025-04-14");
    assert_eq!(text(span, "gen_ai.response.id"), "chatcmpl-42");
    assert_eq!(
        attr(span, "gen_ai.response.finish_reasons"),
        Some(Value::Array(Array::String(vec!["stop".into()])))
    );
    match attr(span, "gen_ai.response.time_to_first_chunk") {
        Some(Value::F64(seconds)) => assert!(seconds >= 0.0),
        other => panic!("time to first chunk: {other:?}"),
    }
}

#[test]
fn the_span_ends_after_the_last_chunk_not_when_the_function_returns() {
    let ((returned, before_end), spans) = record(|| {
        block_on(async {
            let (sender, receiver) = tokio::sync::mpsc::unbounded_channel::<Item>();
            let wrapped = direct_channel(receiver);
            let returned = SystemTime::now();
            let mut wrapped = std::pin::pin!(wrapped);
            sender.send(Ok(delta("a"))).expect("send");
            assert!(wrapped.next().await.is_some());
            tokio::time::sleep(std::time::Duration::from_millis(30)).await;
            sender.send(Ok(last("b"))).expect("send");
            drop(sender);
            let before_end = SystemTime::now();
            assert!(wrapped.next().await.is_some());
            assert!(wrapped.next().await.is_none());
            (returned, before_end)
        })
    });
    let span = one(&spans, "llm.anthropic.direct_channel");
    assert_eq!(span.status, Status::Ok);
    assert!(span.start_time <= returned);
    assert!(
        span.end_time >= before_end && before_end > returned,
        "the span ended at {:?}, the function returned at {returned:?}, the last chunk came after {before_end:?}",
        span.end_time
    );
    assert_eq!(text(span, "gen_ai.response.content"), "ab");
}

#[llm_span(system = "anthropic", model = "claude-sonnet-4")]
fn direct_channel(
    receiver: tokio::sync::mpsc::UnboundedReceiver<Item>,
) -> impl Stream<Item = Item> + Send {
    futures_util::stream::unfold(receiver, |mut r| async move {
        r.recv().await.map(|item| (item, r))
    })
}

#[test]
fn a_stream_dropped_after_two_chunks_is_abandoned() {
    let ((), spans) = record(|| {
        block_on(async {
            let mut s = direct(full());
            assert_eq!(
                s.next().await.map(|c| c.map(|c| c.delta)),
                Some(Ok("Hello"))
            );
            assert_eq!(s.next().await.map(|c| c.map(|c| c.delta)), Some(Ok(", ")));
        });
    });
    let span = one(&spans, "llm.anthropic.direct");
    let description = error_description(span);
    assert!(
        description.contains("abandoned") && description.contains("2 chunks"),
        "{description}"
    );
    assert_eq!(text(span, "error.type"), "abandoned");
    assert_eq!(attr(span, "agento.response.chunks"), Some(Value::I64(2)));
    assert_eq!(text(span, "gen_ai.response.content"), "Hello, ");
    assert_eq!(attr(span, "gen_ai.usage.output_tokens"), None);
}

#[test]
fn a_stream_failing_midway_records_the_error_and_what_came_before() {
    let ((out, error), spans) = record(|| {
        block_on(async {
            collect(
                boxed(vec![
                    Ok(delta("Hel")),
                    Err(CallError::Cut),
                    Ok(delta("never")),
                ])
                .expect("stream"),
            )
            .await
        })
    });
    assert_eq!((out.as_str(), error), ("Hel", Some(CallError::Cut)));
    let span = one(&spans, "llm.gemini.boxed");
    assert!(error_description(span).contains("cut mid-stream"));
    assert_eq!(text(span, "error.type"), "stream_interrupted");
    assert_eq!(attr(span, "agento.response.chunks"), Some(Value::I64(1)));
    assert_eq!(text(span, "gen_ai.response.content"), "Hel");
}

#[test]
fn a_call_that_fails_before_streaming_is_an_error_span() {
    let (result, spans) = record(|| block_on(async { refused().await.err() }));
    assert_eq!(result, Some(CallError::Busy));
    let span = one(&spans, "llm.openai.refused");
    assert_eq!(text(span, "error.type"), "http.503");
    assert_eq!(attr(span, "gen_ai.request.stream"), Some(Value::Bool(true)));
    assert_eq!(attr(span, "gen_ai.response.time_to_first_chunk"), None);
}

#[test]
fn skip_response_keeps_the_reply_text_off_a_stream_span() {
    let ((out, _), spans) = record(|| block_on(collect(pinned(full()))));
    assert_eq!(out, "Hello, world");
    let span = one(&spans, "llm.gemini.pinned");
    assert_eq!(attr(span, "gen_ai.response.content"), None);
    assert_eq!(
        attr(span, "gen_ai.usage.input_tokens"),
        Some(Value::I64(11))
    );
}

struct Flaky {
    calls: AtomicU32,
    /// What attempt `n` streams.
    script: fn(u32) -> Result<Vec<Item>, CallError>,
}

impl Flaky {
    #[retry_spans(max = 3, backoff = "none")]
    #[llm_span(system = "openai", model = "gpt-4.1")]
    async fn stream(&self) -> Result<impl Stream<Item = Item> + Send + use<'_>, CallError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        (self.script)(n).map(stream::iter)
    }
}

#[test]
fn a_failure_before_the_first_chunk_is_retried() {
    let flaky = Flaky {
        calls: AtomicU32::new(0),
        script: |n| match n {
            0 => Ok(vec![Err(CallError::Busy)]),
            1 => Err(CallError::Busy),
            _ => Ok(full()),
        },
    };
    let ((out, error), spans) =
        record(|| block_on(async { collect(flaky.stream().await.expect("stream")).await }));
    assert_eq!((out.as_str(), error), ("Hello, world", None));
    assert_eq!(flaky.calls.load(Ordering::SeqCst), 3);
    let retry = one(&spans, "llm.openai.stream.with_retry");
    assert_eq!(retry.status, Status::Ok);
    let attempts: Vec<_> = (0..3)
        .map(|n| one(&spans, &format!("attempt_{n}")))
        .collect();
    for attempt in &attempts {
        assert_eq!(attempt.parent_span_id, retry.span_context.span_id());
        assert_eq!(
            attr(attempt, "gen_ai.request.stream"),
            Some(Value::Bool(true))
        );
    }
    assert_eq!(text(attempts[0], "error.type"), "http.503");
    assert_eq!(
        attr(attempts[0], "agento.response.chunks"),
        Some(Value::I64(0))
    );
    assert_eq!(text(attempts[1], "error.type"), "http.503");
    assert_eq!(attempts[2].status, Status::Ok);
    assert_eq!(text(attempts[2], "gen_ai.response.content"), "Hello, world");
    assert!(
        retry.end_time >= attempts[2].end_time,
        "the retry span lasts as long as the stream"
    );
}

#[test]
fn a_failure_after_the_first_chunk_is_not_retried() {
    let flaky = Flaky {
        calls: AtomicU32::new(0),
        script: |_| Ok(vec![Ok(delta("Hel")), Err(CallError::Cut)]),
    };
    let ((out, error), spans) =
        record(|| block_on(async { collect(flaky.stream().await.expect("stream")).await }));
    assert_eq!((out.as_str(), error), ("Hel", Some(CallError::Cut)));
    assert_eq!(flaky.calls.load(Ordering::SeqCst), 1);
    assert!(named(&spans, "attempt_1").is_empty());
    let attempt = one(&spans, "attempt_0");
    assert_eq!(text(attempt, "error.type"), "stream_interrupted");
    assert_eq!(text(attempt, "gen_ai.response.content"), "Hel");
}

#[test]
fn every_attempt_failing_before_its_first_chunk_hands_the_last_error_to_the_caller() {
    let flaky = Flaky {
        calls: AtomicU32::new(0),
        script: |_| Ok(vec![Err(CallError::Busy)]),
    };
    let ((out, error), spans) =
        record(|| block_on(async { collect(flaky.stream().await.expect("stream")).await }));
    assert_eq!((out.as_str(), error), ("", Some(CallError::Busy)));
    assert_eq!(flaky.calls.load(Ordering::SeqCst), 3);
    let retry = one(&spans, "llm.openai.stream.with_retry");
    assert!(error_description(retry).contains("all 3 attempts failed"));
}

fn histogram<'a>(
    metrics: &'a [opentelemetry_sdk::metrics::data::ResourceMetrics],
    name: &str,
) -> Vec<&'a HistogramDataPoint<f64>> {
    metrics
        .iter()
        .flat_map(|rm| rm.scope_metrics())
        .flat_map(|sm| sm.metrics())
        .filter(|m| m.name() == name)
        .flat_map(|m| match m.data() {
            AggregatedMetrics::F64(MetricData::Histogram(h)) => h.data_points().collect::<Vec<_>>(),
            _ => Vec::new(),
        })
        .collect()
}

fn u64_histogram<'a>(
    metrics: &'a [opentelemetry_sdk::metrics::data::ResourceMetrics],
    name: &str,
) -> Vec<&'a HistogramDataPoint<u64>> {
    metrics
        .iter()
        .flat_map(|rm| rm.scope_metrics())
        .flat_map(|sm| sm.metrics())
        .filter(|m| m.name() == name)
        .flat_map(|m| match m.data() {
            AggregatedMetrics::U64(MetricData::Histogram(h)) => h.data_points().collect::<Vec<_>>(),
            _ => Vec::new(),
        })
        .collect()
}

fn point_attr<T>(point: &HistogramDataPoint<T>, key: &str) -> Option<String> {
    point
        .attributes()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

#[test]
fn the_macros_record_the_genai_client_metrics() {
    let exporter = InMemoryMetricExporter::default();
    let provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(exporter.clone()).build())
        .build();
    let ((), _spans) = record(|| {
        metrics::install(&provider);
        block_on(async {
            collect(reply("Say hello", full()).await.expect("stream")).await;
            collect(boxed(vec![Ok(delta("x")), Err(CallError::Cut)]).expect("stream")).await;
        });
        metrics::uninstall();
    });
    provider.force_flush().expect("flush");
    let exported = exporter.get_finished_metrics().expect("metrics");

    let tokens = u64_histogram(&exported, "gen_ai.client.token.usage");
    let by_type = |kind: &str| {
        tokens
            .iter()
            .filter(|p| point_attr(p, "gen_ai.token.type").as_deref() == Some(kind))
            .map(|p| p.sum())
            .sum::<u64>()
    };
    assert_eq!((by_type("input"), by_type("output")), (11, 3));
    let point = tokens[0];
    assert_eq!(
        point_attr(point, "gen_ai.provider.name").as_deref(),
        Some("openai")
    );
    assert_eq!(
        point_attr(point, "gen_ai.operation.name").as_deref(),
        Some("chat")
    );
    assert_eq!(
        point_attr(point, "gen_ai.request.model").as_deref(),
        Some("gpt-4.1")
    );
    assert_eq!(
        point_attr(point, "gen_ai.response.model").as_deref(),
        Some("gpt-4.1-2025-04-14")
    );
    assert_eq!(
        point.bounds().collect::<Vec<_>>(),
        metrics::TOKEN_BUCKETS.to_vec()
    );

    let durations = histogram(&exported, "gen_ai.client.operation.duration");
    assert_eq!(durations.iter().map(|p| p.count()).sum::<u64>(), 2);
    let failed: Vec<_> = durations
        .iter()
        .filter_map(|p| point_attr(p, "error.type"))
        .collect();
    assert_eq!(failed, ["stream_interrupted"]);
    assert_eq!(
        durations[0].bounds().collect::<Vec<_>>(),
        metrics::SECONDS_BUCKETS.to_vec()
    );

    let first_chunk = histogram(&exported, "gen_ai.client.operation.time_to_first_chunk");
    assert_eq!(first_chunk.iter().map(|p| p.count()).sum::<u64>(), 2);
}
