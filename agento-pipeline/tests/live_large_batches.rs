//! A batch bigger than a collector accepts in one message still arrives:
//! rotel, like the OpenTelemetry Collector, refuses an OTLP/gRPC message over
//! 4 MiB by default, and 600 LLM spans with 8,000-character prompts and
//! replies under three conventions are about ten times that. The exporter
//! splits each batch by size, so every span reaches rotel and none is
//! counted as failed.

mod support_collector;

use agento::{Config, LlmResponse, Protocol, llm_span};
use support_collector::Collector;

const SPANS: usize = 600;

struct Reply(String);

impl LlmResponse for Reply {
    fn text(&self) -> &str {
        &self.0
    }
}

#[llm_span(system = "openai", model = "gpt-4o", prompt = prompt)]
fn chat(prompt: &str) -> Result<Reply, std::io::Error> {
    Ok(Reply("r".repeat(8_000)))
}

#[test]
fn batches_over_the_collectors_message_limit_arrive_whole() {
    let collector = Collector::start();
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = Config {
        otlp_enabled: true,
        protocol: Protocol::Grpc,
        endpoint: collector.endpoint("grpc"),
        archive_enabled: false,
        data_dir: dir.path().to_owned(),
        carrier_path: dir.path().join("trace.context"),
        shutdown_timeout: std::time::Duration::from_secs(30),
        ..Config::from_lookup(|_| None)
    };
    let telemetry = agento::Telemetry::builder()
        .config(config)
        .module("bulk")
        .archive(false)
        .otlp(true)
        .handle_signals(false)
        .new_run(true)
        .init();
    let prompt = "p".repeat(8_000);
    for _ in 0..SPANS {
        chat(&prompt).expect("a reply");
    }
    let report = telemetry.shutdown();
    assert_eq!(
        (report.exported, report.export_failed),
        (SPANS as u64, 0),
        "{report:?}"
    );
    assert_eq!(collector.wait_for_count(SPANS), SPANS);
}
