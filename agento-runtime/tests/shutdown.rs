//! Signals and exit time: SIGTERM/SIGINT mid-span, and the cost of a missing
//! collector at exit, measured against a live OTLP/gRPC receiver in the same run.

mod support;

use std::collections::HashSet;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use support::*;

#[test]
fn child() {
    child_main();
}

fn interrupted(signal: &str, expected_code: i32) {
    let dir = TempDir::new("signal");
    let mut command = child_command(&dir, "hang");
    command.env("AGENTO_CHILD_ROLE", "first");
    let mut process = start_until_ready(&mut command);
    kill(&process, signal);
    let status = process.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(expected_code),
        "exit code after SIG{signal}"
    );
    let found = spans(&read_archive(&only_archive(&dir)));
    assert_connected(&found);
    let done = named(&found, "finished_before_signal");
    assert_eq!(done.len(), 1, "a span ended before the signal is archived");
    assert_eq!(done[0].status.as_ref().unwrap().code, 1);
    for name in ["long_running", "agento.pipeline"] {
        let span = named(&found, name);
        assert_eq!(span.len(), 1, "{name} is archived");
        let status = span[0].status.as_ref().unwrap();
        assert_eq!(status.code, 2, "{name} is ERROR");
        assert_eq!(status.message, format!("interrupted by SIG{signal}"));
    }
}

#[test]
fn sigterm_ends_open_spans_with_error_and_exits_143() {
    interrupted("TERM", 143);
}

#[test]
fn sigint_ends_open_spans_with_error_and_exits_130() {
    interrupted("INT", 130);
}

#[test]
fn a_failing_stage_exits_non_zero_and_keeps_its_spans() {
    let dir = TempDir::new("fail");
    let out = run(child_command(&dir, "fail").env("AGENTO_CHILD_ROLE", "first"));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error: the stage failed on purpose"));
    let found = spans(&read_archive(&only_archive(&dir)));
    let root = assert_connected(&found);
    assert_eq!(root.status.as_ref().unwrap().code, 2);
}

#[derive(Default, Clone)]
struct Receiver {
    span_ids: Arc<Mutex<HashSet<Vec<u8>>>>,
}

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut ids = self.span_ids.lock().unwrap();
        for rs in &request.get_ref().resource_spans {
            for ss in &rs.scope_spans {
                ids.extend(ss.spans.iter().map(|s| s.span_id.clone()));
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn timed_run(dir: &TempDir, endpoint: &str) -> (Duration, std::process::Output) {
    let start = Instant::now();
    let out = run(child_command(dir, "spans")
        .env("AGENTO_CHILD_ROLE", "first")
        .env("AGENTO_CHILD_SPANS", "3000")
        .env("OTEL_TRACES_EXPORTER", "otlp")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint));
    (start.elapsed(), out)
}

#[test]
fn a_missing_collector_costs_at_most_half_a_second_at_exit() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let receiver = Receiver::default();
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let service = TraceServiceServer::new(receiver.clone());
    runtime.spawn(
        tonic::transport::Server::builder()
            .add_service(service)
            .serve(addr),
    );
    std::thread::sleep(Duration::from_millis(200));
    let up = format!("http://127.0.0.1:{port}");
    let down = format!("http://127.0.0.1:{}", free_port());

    let mut up_times = Vec::new();
    let mut down_times = Vec::new();
    for _ in 0..3 {
        let dir = TempDir::new("exit-up");
        let (elapsed, out) = timed_run(&dir, &up);
        assert!(out.status.success());
        let archived: HashSet<Vec<u8>> = spans(&read_archive(&only_archive(&dir)))
            .into_iter()
            .map(|f| f.span.span_id)
            .collect();
        let received = receiver.span_ids.lock().unwrap().clone();
        assert!(
            archived.is_subset(&received),
            "every archived span reached the collector"
        );
        up_times.push(elapsed);

        let dir = TempDir::new("exit-down");
        let (elapsed, out) = timed_run(&dir, &down);
        assert!(
            out.status.success(),
            "a missing collector does not fail the run"
        );
        assert_eq!(
            spans(&read_archive(&only_archive(&dir))).len(),
            3003,
            "the archive is complete without a collector"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            stderr
                .lines()
                .filter(|l| l.starts_with("agento: telemetry:"))
                .count(),
            1,
            "one clear warning: {stderr}"
        );
        down_times.push(elapsed);
    }
    up_times.sort();
    down_times.sort();
    let (up, down) = (up_times[1], down_times[1]);
    println!(
        "median exit: collector up {up:?}, down {down:?}, difference {:?}",
        down.saturating_sub(up)
    );
    assert!(
        down <= up + Duration::from_millis(500),
        "collector down {down:?} vs up {up:?}"
    );
}
