//! The GenAI client metrics reach a real collector: `agento run --offline`
//! exports them over OTLP to `rotel` (see `support_collector`), which relays
//! them to a receiver inside the test. The token-usage histogram's sums per
//! vendor equal the token totals of the run's archive.

mod support;
mod support_collector;

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::metric;
use opentelemetry_proto::tonic::resource::v1::Resource;
use support::{Workdir, console, only_trace, run};
use support_collector::Collector;

const AGENTO: &str = env!("CARGO_BIN_EXE_agento");

/// The text value of `key` among `attributes`.
fn text(attributes: &[KeyValue], key: &str) -> Option<String> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
        .and_then(|v| match v {
            any_value::Value::StringValue(s) => Some(s.clone()),
            _ => None,
        })
}

/// (vendor, token type) → tokens, from the latest cumulative point of each
/// series (a series: its attributes and start time).
fn token_sums(exports: &[ExportMetricsServiceRequest]) -> BTreeMap<(String, String), u64> {
    let mut latest: BTreeMap<(String, String, u64), (u64, f64)> = BTreeMap::new();
    let metrics = exports
        .iter()
        .flat_map(|e| &e.resource_metrics)
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .filter(|m| m.name == "gen_ai.client.token.usage");
    for metric in metrics {
        assert_eq!(metric.unit, "{token}");
        let Some(metric::Data::Histogram(histogram)) = &metric.data else {
            panic!("gen_ai.client.token.usage is not a histogram: {metric:?}");
        };
        for point in &histogram.data_points {
            let attr = |key: &str| text(&point.attributes, key).unwrap_or_default();
            assert_eq!(attr("gen_ai.operation.name"), "chat");
            assert!(!attr("gen_ai.request.model").is_empty());
            assert_eq!(
                point.explicit_bounds.first().copied(),
                Some(1.0),
                "the registry's buckets"
            );
            let series = (
                attr("gen_ai.provider.name"),
                attr("gen_ai.token.type"),
                point.start_time_unix_nano,
            );
            let entry = latest.entry(series).or_insert((0, 0.0));
            if point.time_unix_nano >= entry.0 {
                *entry = (point.time_unix_nano, point.sum.unwrap_or(0.0));
            }
        }
    }
    let mut sums = BTreeMap::new();
    for ((vendor, kind, _), (_, sum)) in latest {
        *sums.entry((vendor, kind)).or_insert(0) += sum as u64;
    }
    sums
}

/// `agento.module` → `service.instance.id` of each resource.
fn instance_ids<'a>(resources: impl Iterator<Item = &'a Resource>) -> BTreeMap<String, String> {
    resources
        .filter_map(|r| {
            Some((
                text(&r.attributes, "agento.module")?,
                text(&r.attributes, "service.instance.id")?,
            ))
        })
        .collect()
}

#[test]
fn the_token_usage_histogram_reaches_rotel_and_matches_the_archive() {
    let collector = Collector::start();
    let work = Workdir::bakery();
    let output = run(work
        .command(AGENTO)
        .args(["run", "--offline", "--goal", "goal.json", "--quiet"])
        .env("OTEL_TRACES_EXPORTER", "otlp")
        .env("OTEL_METRICS_EXPORTER", "otlp")
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            collector.endpoint("http/protobuf"),
        )
        .env("OTEL_METRIC_EXPORT_INTERVAL", "60000"));
    assert!(output.status.success(), "{}", console(&output));
    assert!(output.stderr.is_empty(), "{}", console(&output));

    let archive = work.archive();
    let mut expected: BTreeMap<(String, String), u64> = BTreeMap::new();
    for span in only_trace(&archive)
        .spans
        .iter()
        .filter(|s| s.is_llm_call())
    {
        let vendor = span
            .text("gen_ai.provider.name")
            .expect("gen_ai.provider.name")
            .to_owned();
        for (kind, key) in [
            ("input", "gen_ai.usage.input_tokens"),
            ("output", "gen_ai.usage.output_tokens"),
        ] {
            let tokens = span.attr(key).and_then(|a| a.as_int()).expect(key);
            *expected
                .entry((vendor.clone(), kind.to_owned()))
                .or_insert(0) += u64::try_from(tokens).expect("tokens");
        }
    }
    assert_eq!(expected.len(), 6, "{expected:?}");
    let exports = collector.wait_for_metrics(|exports| token_sums(exports) == expected);
    assert_eq!(
        token_sums(&exports),
        expected,
        "the metrics flushed at exit within the shutdown bound"
    );
    let durations = exports
        .iter()
        .flat_map(|e| &e.resource_metrics)
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .filter(|m| m.name == "gen_ai.client.operation.duration")
        .count();
    assert!(
        durations > 0,
        "gen_ai.client.operation.duration reached rotel"
    );

    let archived: Vec<ExportTraceServiceRequest> = std::fs::read_to_string(&work.archives()[0])
        .expect("archive")
        .lines()
        .map(|line| serde_json::from_str(line).expect("an OTLP JSON line"))
        .collect();
    let traced = instance_ids(
        archived
            .iter()
            .flat_map(|e| &e.resource_spans)
            .filter_map(|r| r.resource.as_ref()),
    );
    let metered = instance_ids(
        exports
            .iter()
            .flat_map(|e| &e.resource_metrics)
            .filter_map(|r| r.resource.as_ref()),
    );
    assert_eq!(traced.len(), 3, "the three stages' resources: {traced:?}");
    assert!(!metered.is_empty(), "the metrics name their resource");
    for (module, instance) in &metered {
        assert_eq!(
            traced.get(module),
            Some(instance),
            "{module}'s metrics and spans name the same service.instance.id"
        );
    }
}
