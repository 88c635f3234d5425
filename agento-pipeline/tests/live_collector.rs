//! Live export to a real collector: `rotel` (installed by
//! `scripts/collector.sh`) receives OTLP from the pipeline on loopback and
//! relays it to a receiver inside this test, which records every span id and
//! when it arrived.

mod support;

use std::collections::{BTreeSet, HashMap};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use support::{Workdir, console, only_trace, run};

const AGENTO: &str = env!("CARGO_BIN_EXE_agento");

/// Span id (hex) → arrival time (Unix ns) at the in-test receiver.
#[derive(Default, Clone)]
struct Receiver {
    arrivals: Arc<Mutex<HashMap<String, u128>>>,
}

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let mut arrivals = self.arrivals.lock().unwrap_or_else(|e| e.into_inner());
        for resource in &request.get_ref().resource_spans {
            for scope in &resource.scope_spans {
                for span in &scope.spans {
                    let id: String = span.span_id.iter().map(|b| format!("{b:02x}")).collect();
                    arrivals.entry(id).or_insert(now);
                }
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} did not listen on 127.0.0.1:{port} within 20 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// rotel relaying to an in-test receiver.
struct Collector {
    rotel: Child,
    grpc: u16,
    http: u16,
    receiver: Receiver,
    _runtime: tokio::runtime::Runtime,
}

impl Collector {
    fn start() -> Self {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/collector.sh");
        let found = Command::new("bash")
            .arg(&script)
            .arg("path")
            .output()
            .expect("scripts/collector.sh runs");
        assert!(
            found.status.success(),
            "rotel could not be installed (scripts/collector.sh path): {}",
            String::from_utf8_lossy(&found.stderr)
        );
        let agent = String::from_utf8_lossy(&found.stdout).trim().to_owned();
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let receiver = Receiver::default();
        let sink = free_port();
        let addr: SocketAddr = ([127, 0, 0, 1], sink).into();
        runtime.spawn(
            tonic::transport::Server::builder()
                .add_service(
                    TraceServiceServer::new(receiver.clone())
                        .accept_compressed(tonic::codec::CompressionEncoding::Gzip),
                )
                .serve(addr),
        );
        wait_for_port(sink, "the in-test receiver");
        let (grpc, http) = (free_port(), free_port());
        let pid_file = std::env::temp_dir().join(format!("rotel-{grpc}.pid"));
        let rotel = Command::new(&agent)
            .args(["start", "--otlp-grpc-endpoint"])
            .arg(format!("127.0.0.1:{grpc}"))
            .arg("--otlp-http-endpoint")
            .arg(format!("127.0.0.1:{http}"))
            .args(["--exporter", "otlp", "--otlp-exporter-protocol", "grpc"])
            .args(["--batch-timeout", "50ms"])
            .arg("--otlp-exporter-endpoint")
            .arg(format!("http://127.0.0.1:{sink}"))
            .arg("--pid-file")
            .arg(&pid_file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("rotel-agent ({agent}) cannot start: {error}"));
        wait_for_port(grpc, "rotel's gRPC receiver");
        wait_for_port(http, "rotel's HTTP receiver");
        Self {
            rotel,
            grpc,
            http,
            receiver,
            _runtime: runtime,
        }
    }

    fn stop(&mut self) {
        let _ = self.rotel.kill();
        let _ = self.rotel.wait();
    }

    fn arrivals(&self) -> HashMap<String, u128> {
        self.receiver
            .arrivals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Waits until every id in `ids` arrived (or 15 s passed); the arrivals.
    fn wait_for(&self, ids: &BTreeSet<String>) -> HashMap<String, u128> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let arrivals = self.arrivals();
            if ids.iter().all(|id| arrivals.contains_key(id)) || Instant::now() > deadline {
                return arrivals;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.stop();
    }
}

fn archive_ids(work: &Workdir) -> BTreeSet<String> {
    let archive = work.archive();
    only_trace(&archive)
        .spans
        .iter()
        .map(|s| s.span_id.clone())
        .collect()
}

fn every_archived_span_reaches_the_collector(protocol: &str) {
    let collector = Collector::start();
    let work = Workdir::bakery();
    let endpoint = match protocol {
        "grpc" => format!("http://127.0.0.1:{}", collector.grpc),
        _ => format!("http://127.0.0.1:{}", collector.http),
    };
    let output = run(work
        .command(AGENTO)
        .args(["run", "--offline", "--goal", "goal.json", "--quiet"])
        .env("OTEL_TRACES_EXPORTER", "otlp")
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint));
    assert!(output.status.success(), "{}", console(&output));
    assert!(
        !console(&output).contains("agento: telemetry"),
        "nothing lost: {}",
        console(&output)
    );
    let ids = archive_ids(&work);
    assert!(ids.len() > 30);
    let arrived: BTreeSet<String> = collector.wait_for(&ids).into_keys().collect();
    let missing: Vec<&String> = ids.difference(&arrived).collect();
    assert!(
        missing.is_empty(),
        "{} of {} spans never reached rotel over {protocol}: {missing:?}",
        missing.len(),
        ids.len()
    );
    assert_eq!(
        arrived, ids,
        "the collector got spans the archive does not have"
    );
}

#[test]
fn every_archived_span_reaches_rotel_over_grpc() {
    every_archived_span_reaches_the_collector("grpc");
}

#[test]
fn every_archived_span_reaches_rotel_over_http_protobuf() {
    every_archived_span_reaches_the_collector("http/protobuf");
}

#[test]
fn spans_stream_live_not_at_exit() {
    let collector = Collector::start();
    let work = Workdir::bakery();
    let output = run(work
        .command(AGENTO)
        .args(["run", "--offline", "--goal", "goal.json", "--quiet"])
        .env("OTEL_TRACES_EXPORTER", "otlp")
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{}", collector.grpc),
        )
        .env("AGENTO_SIM_ANTHROPIC_LATENCY_MS", "120"));
    assert!(output.status.success(), "{}", console(&output));
    let archive = work.archive();
    let trace = only_trace(&archive);
    let ids: BTreeSet<String> = trace.spans.iter().map(|s| s.span_id.clone()).collect();
    let arrivals = collector.wait_for(&ids);
    let first_stage = trace
        .spans
        .iter()
        .find(|s| s.name == "agento.module.1_01_JSON_Goal_to_PlanStructure")
        .expect("stage 1 span");
    let last_stage = trace
        .spans
        .iter()
        .find(|s| s.name == "agento.module.2_Revise-Plan-Stable")
        .expect("stage 3 span");
    let arrived = *arrivals
        .get(&first_stage.span_id)
        .expect("stage 1 reached the collector");
    assert!(
        arrived < u128::from(last_stage.end_ns),
        "stage 1's span arrived {} ms after stage 3 ended: not live",
        (arrived - u128::from(last_stage.end_ns)) / 1_000_000
    );
    let delays: Vec<u128> = trace
        .spans
        .iter()
        .filter_map(|s| {
            arrivals
                .get(&s.span_id)
                .map(|t| t.saturating_sub(u128::from(s.end_ns)) / 1_000_000)
        })
        .collect();
    let mean = delays.iter().sum::<u128>() / delays.len().max(1) as u128;
    println!(
        "live delay (span end → arrival at the receiver behind rotel): mean {mean} ms, max {} ms over {} spans; stage 3 ended {} ms after stage 1's span arrived",
        delays.iter().max().copied().unwrap_or(0),
        delays.len(),
        (u128::from(last_stage.end_ns) - arrived) / 1_000_000
    );
}

/// Runs the pipeline with the collector; `kill_after` stops rotel that long
/// after the start. Returns (exit delay after the root span ended, output).
fn run_with_collector(kill_after: Option<Duration>) -> (Duration, std::process::Output, Workdir) {
    let mut collector = Collector::start();
    let work = Workdir::bakery();
    let child = work
        .command(AGENTO)
        .args(["run", "--offline", "--goal", "goal.json", "--quiet"])
        .env("OTEL_TRACES_EXPORTER", "otlp")
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{}", collector.grpc),
        )
        .env("AGENTO_SIM_ANTHROPIC_LATENCY_MS", "100")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("agento runs");
    if let Some(after) = kill_after {
        std::thread::sleep(after);
        collector.stop();
    }
    let output = child.wait_with_output().expect("agento exits");
    let exited = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let archive = work.archive();
    let root_end = only_trace(&archive).roots()[0].end_ns;
    let delay = Duration::from_nanos(
        u64::try_from(exited.saturating_sub(u128::from(root_end))).unwrap_or(u64::MAX),
    );
    drop(archive);
    (delay, output, work)
}

#[test]
fn a_collector_that_dies_mid_run_costs_no_span_and_little_time() {
    let (up_delay, up, _) = run_with_collector(None);
    assert!(up.status.success(), "{}", console(&up));
    let (down_delay, down, work) = run_with_collector(Some(Duration::from_millis(600)));
    let text = console(&down);
    assert!(down.status.success(), "{text}");
    let archive = work.archive();
    let trace = only_trace(&archive);
    assert!(
        agento_pipeline::trace::validate::validate(&archive, trace).is_empty(),
        "the archive is complete"
    );
    let warnings: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("agento: telemetry:"))
        .collect();
    assert_eq!(warnings.len(), 1, "one clear warning: {text}");
    assert!(
        warnings[0].contains("not exported") && warnings[0].contains("collector"),
        "{}",
        warnings[0]
    );
    println!(
        "exit delay after the root span ended: collector up {up_delay:?}, collector killed mid-run {down_delay:?}"
    );
    assert!(
        down_delay <= up_delay + Duration::from_millis(500),
        "a dead collector cost {down_delay:?} at exit against {up_delay:?} with it up"
    );
}
