//! Archive writer throughput: realistic LLM spans (1–9 KB of attributes)
//! encoded into the Collector-format OTLP-JSON file.
//!
//! `encode` measures the encoder alone (one core); `end_to_end` measures spans
//! started and ended on the calling thread until they are on disk.

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime};

use agento_runtime::__private::{ArchiveResources, encode_line};
use agento_runtime::__private::{LlmRequest, LlmSpec};
use agento_runtime::Config;
use agento_runtime::{SpanGuard, Telemetry};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};

const BATCH: usize = 512;

fn text(i: usize) -> String {
    let words = [
        "plan",
        "budget",
        "risk",
        "étape",
        "supplier",
        "timeline",
        "критерий",
        "review",
    ];
    let size = 1024 * (1 + i % 9);
    let mut out = String::with_capacity(size + 16);
    let mut n = i;
    while out.len() < size {
        out.push_str(words[n % words.len()]);
        out.push_str(if n.is_multiple_of(11) { "\n" } else { " " });
        n += 7;
    }
    out
}

fn span(i: usize) -> SpanData {
    let context = SpanContext::new(
        TraceId::from_bytes([7; 16]),
        SpanId::from_bytes((i as u64 + 1).to_be_bytes()),
        TraceFlags::SAMPLED,
        false,
        TraceState::default(),
    );
    SpanData {
        span_context: context,
        parent_span_id: SpanId::from_bytes([1; 8]),
        parent_span_is_remote: false,
        span_kind: SpanKind::Client,
        name: "llm.openai.draft_step".into(),
        start_time: SystemTime::now(),
        end_time: SystemTime::now(),
        attributes: vec![
            KeyValue::new("gen_ai.system", "openai"),
            KeyValue::new("gen_ai.operation.name", "chat"),
            KeyValue::new("gen_ai.request.model", "gpt-4.1"),
            KeyValue::new("gen_ai.request.temperature", 0.7),
            KeyValue::new("gen_ai.usage.input_tokens", 812_i64),
            KeyValue::new("gen_ai.usage.output_tokens", 1204_i64),
            KeyValue::new("openinference.span.kind", "LLM"),
            KeyValue::new("gen_ai.response.content", text(i)),
        ],
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status: Status::Ok,
        instrumentation_scope: InstrumentationScope::builder("agento").build(),
    }
}

fn encode(c: &mut Criterion) {
    let resource = Resource::builder_empty()
        .with_attributes([
            KeyValue::new("service.name", "agento"),
            KeyValue::new("agento.module", "bench"),
        ])
        .build();
    let mut resources = ArchiveResources::new(&resource);
    let batch: Vec<SpanData> = (0..BATCH).map(span).collect();
    let mut out = Vec::with_capacity(8 << 20);
    encode_line(batch.clone(), &mut resources, &mut out).expect("encodes");
    println!("archive encode: {} bytes per span", out.len() / BATCH);
    let mut group = c.benchmark_group("archive");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("encode_512_llm_spans", |b| {
        b.iter_batched(
            || batch.clone(),
            |spans| {
                out.clear();
                encode_line(spans, &mut resources, &mut out).expect("encodes");
                black_box(out.len())
            },
            criterion::BatchSize::LargeInput,
        );
    });
    group.finish();
}

static SPEC: LlmSpec = LlmSpec {
    system: "openai",
    operation: "chat",
    span_name: "llm.openai.draft_step",
    step_type: Some("draft"),
};

fn end_to_end(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("agento-bench-{}", std::process::id()));
    let config = Config::from_lookup(|name| match name {
        "AGENTO_DATA_DIR" => Some(dir.display().to_string()),
        "OTEL_TRACES_EXPORTER" => Some("none".to_owned()),
        _ => None,
    });
    let telemetry = Telemetry::builder()
        .config(config)
        .new_run(true)
        .handle_signals(false)
        .init();
    let texts: Vec<String> = (0..64).map(text).collect();
    let mut group = c.benchmark_group("archive");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("end_to_end_llm_span_to_disk", |b| {
        b.iter_custom(|iterations| {
            let start = Instant::now();
            for i in 0..iterations as usize {
                let request = LlmRequest {
                    model: "gpt-4.1",
                    temperature: Some(0.7),
                    ..Default::default()
                };
                let span = SpanGuard::llm(&SPEC, &request);
                span.record_response(&texts[i % texts.len()]);
            }
            telemetry.flush();
            start.elapsed()
        });
    });
    group.finish();
    let report = telemetry.shutdown();
    println!(
        "archive end to end: {} spans ended, {} archived, {} waits",
        report.ended, report.archived, report.archive_waits
    );
    assert_eq!(report.ended, report.archived);
    let _ = std::fs::remove_dir_all(dir);
}

criterion_group!(benches, encode, end_to_end);
criterion_main!(benches);
