//! A burst: N spans created as fast as possible from two threads while the
//! OTLP endpoint is down (a closed loopback port), with the run archive on.
//! Reports spans created / ended / archived / exported / dropped and the
//! peak RSS; exits non-zero if any span is missing from the archive.
//!
//! `cargo run --release -p agento-runtime --example burst -- [N]` (default 1,000,000).

use std::time::Instant;

use agento_runtime::__private::{LlmRequest, LlmSpec};
use agento_runtime::{SpanGuard, Telemetry};

static SPEC: LlmSpec = LlmSpec {
    system: "openai",
    operation: "chat",
    span_name: "llm.openai.burst",
    step_type: Some("draft"),
};

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|arg| arg.replace('_', "").parse().ok())
        .unwrap_or(1_000_000);
    let dir = std::env::temp_dir().join(format!("agento-burst-{}", std::process::id()));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_or(9, |a| a.port());
    let config = agento_runtime::Config::from_lookup(|name| match name {
        "AGENTO_DATA_DIR" => Some(dir.display().to_string()),
        "OTEL_EXPORTER_OTLP_ENDPOINT" => Some(format!("http://127.0.0.1:{port}")),
        "AGENTO_SHUTDOWN_TIMEOUT_MS" => Some("500".to_owned()),
        _ => None,
    });
    let telemetry = Telemetry::builder()
        .config(config)
        .module("burst")
        .new_run(true)
        .handle_signals(false)
        .init();
    let archive = telemetry.archive_path().map(ToOwned::to_owned);
    let started = Instant::now();
    let prompt = "Write the launch plan for the bakery. ".repeat(8);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                for _ in 0..n / 2 {
                    let span = SpanGuard::llm(
                        &SPEC,
                        &LlmRequest {
                            model: "gpt-4.1",
                            temperature: Some(0.7),
                            prompt: Some(&prompt),
                            ..Default::default()
                        },
                    );
                    span.record_response(&"A short draft.".to_owned());
                }
            });
        }
    });
    let created = n / 2 * 2;
    let creating = started.elapsed();
    let report = telemetry.shutdown();
    let total = started.elapsed();
    let size = archive
        .as_ref()
        .and_then(|path| std::fs::metadata(path).ok())
        .map_or(0, |m| m.len());
    println!(
        "burst: {created} spans created in {:.2}s ({:.0} spans/s from 2 threads); all written after {:.2}s",
        creating.as_secs_f64(),
        created as f64 / creating.as_secs_f64(),
        total.as_secs_f64()
    );
    // What the file holds, read back, not what the runtime counted.
    let on_disk = archive
        .as_ref()
        .map_or(0, |path| agento_runtime::archive::count_spans(path) as u64);
    println!(
        "burst: ended {} archived {} (on disk {on_disk}, lost {}) exported {} export-failed {} dropped-by-queue {} · archive waits {} · archive {:.1} MiB · peak RSS {:.1} MiB",
        report.ended,
        report.archived,
        created.saturating_sub(on_disk),
        report.exported,
        report.export_failed,
        report.dropped,
        report.archive_waits,
        size as f64 / 1024.0 / 1024.0,
        peak_rss_mib()
    );
    let _ = std::fs::remove_dir_all(&dir);
    if on_disk != created {
        std::process::exit(1);
    }
}
