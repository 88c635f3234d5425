//! A real collector for the live-export tests: `rotel` (from PyPI, installed
//! into the project's `.venv` by `scripts/collector.sh`) listening on free
//! loopback ports and relaying everything it receives over OTLP/gRPC to a
//! receiver inside the test, which records each span id and when it arrived.

#![allow(dead_code)] // each test binary uses a part of this module

use std::collections::{BTreeSet, HashMap};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};

/// How long rotel and the receiver get to open their ports, and the spans to
/// arrive.
const PATIENCE: Duration = Duration::from_secs(20);

/// The largest request the in-test receiver accepts from rotel: rotel
/// batches by span count, so what it relays may exceed what it accepts.
const RELAY_LIMIT: usize = 1 << 30;

/// Now, in nanoseconds since the Unix epoch (the unit of span timestamps).
pub fn unix_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos()
}

/// Span id (lowercase hex) → arrival time (Unix ns) of its first copy; and
/// every metrics export, as received.
#[derive(Default, Clone)]
struct Receiver {
    arrivals: Arc<Mutex<HashMap<String, u128>>>,
    metrics: Arc<Mutex<Vec<ExportMetricsServiceRequest>>>,
}

#[tonic::async_trait]
impl MetricsService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        self.metrics
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(request.into_inner());
        Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let now = unix_ns();
        let mut arrivals = self.arrivals.lock().unwrap_or_else(|e| e.into_inner());
        let spans = request
            .get_ref()
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .flat_map(|s| &s.spans);
        for span in spans {
            let id: String = span.span_id.iter().map(|b| format!("{b:02x}")).collect();
            arrivals.entry(id).or_insert(now);
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// `rotel-agent`, installed on first use by `scripts/collector.sh path`.
fn rotel_agent() -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/collector.sh");
    let found = Command::new("bash")
        .arg(&script)
        .arg("path")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    assert!(
        found.status.success(),
        "rotel could not be installed by `scripts/collector.sh path` ({}):\n{}",
        found.status,
        String::from_utf8_lossy(&found.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&found.stdout).trim())
}

/// A running rotel relaying to an in-test receiver; stopped (by its PID) on
/// drop.
pub struct Collector {
    rotel: Child,
    /// rotel's OTLP/gRPC receiver port on 127.0.0.1.
    pub grpc: u16,
    /// rotel's OTLP/HTTP receiver port on 127.0.0.1.
    pub http: u16,
    receiver: Receiver,
    dir: tempfile::TempDir,
    _runtime: tokio::runtime::Runtime,
}

impl Collector {
    /// Installs rotel when missing, starts the receiver and rotel, and waits
    /// until both listen. Panics with rotel's own log when it cannot start.
    pub fn start() -> Self {
        let agent = rotel_agent();
        let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
        let receiver = Receiver::default();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("the receiver binds a loopback port");
        let sink: SocketAddr = listener.local_addr().expect("receiver address");
        runtime.spawn(
            tonic::transport::Server::builder()
                .add_service(
                    TraceServiceServer::new(receiver.clone())
                        .accept_compressed(tonic::codec::CompressionEncoding::Gzip)
                        .max_decoding_message_size(RELAY_LIMIT),
                )
                .add_service(
                    MetricsServiceServer::new(receiver.clone())
                        .accept_compressed(tonic::codec::CompressionEncoding::Gzip),
                )
                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
        );
        let dir = tempfile::tempdir().expect("temporary directory");
        let log = std::fs::File::create(dir.path().join("rotel.log")).expect("rotel log file");
        let (grpc, http) = (free_port(), free_port());
        let rotel = Command::new(&agent)
            .arg("start")
            .arg("--otlp-grpc-endpoint")
            .arg(format!("127.0.0.1:{grpc}"))
            .arg("--otlp-http-endpoint")
            .arg(format!("127.0.0.1:{http}"))
            .args(["--exporter", "otlp", "--otlp-exporter-protocol", "grpc"])
            .arg("--otlp-exporter-endpoint")
            .arg(format!("http://{sink}"))
            .args(["--batch-timeout", "50ms"])
            .arg("--pid-file")
            .arg(dir.path().join("rotel.pid"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("rotel log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("rotel-agent ({}) cannot start: {e}", agent.display()));
        let mut collector = Self {
            rotel,
            grpc,
            http,
            receiver,
            dir,
            _runtime: runtime,
        };
        collector.wait_until_listening(grpc, "its OTLP/gRPC receiver");
        collector.wait_until_listening(http, "its OTLP/HTTP receiver");
        collector
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("rotel.log")).unwrap_or_default()
    }

    fn wait_until_listening(&mut self, port: u16, what: &str) {
        let deadline = Instant::now() + PATIENCE;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = self.rotel.try_wait() {
                panic!(
                    "rotel exited ({status}) before {what} listened on 127.0.0.1:{port}; its log:\n{}",
                    self.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "rotel did not open {what} on 127.0.0.1:{port} within {PATIENCE:?}; its log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The OTLP endpoint for `protocol` (`grpc` or `http/protobuf`).
    pub fn endpoint(&self, protocol: &str) -> String {
        let port = if protocol == "grpc" {
            self.grpc
        } else {
            self.http
        };
        format!("http://127.0.0.1:{port}")
    }

    /// Stops rotel (SIGKILL to its PID) and reaps it.
    pub fn stop(&mut self) {
        let _ = self.rotel.kill();
        let _ = self.rotel.wait();
    }

    /// Every span that reached the receiver so far, with its arrival time.
    pub fn arrivals(&self) -> HashMap<String, u128> {
        self.receiver
            .arrivals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Every metrics export rotel relayed so far.
    pub fn metrics(&self) -> Vec<ExportMetricsServiceRequest> {
        self.receiver
            .metrics
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Waits until `done` holds for the metrics relayed so far, or
    /// [`PATIENCE`] passed; then those metrics.
    pub fn wait_for_metrics(
        &self,
        done: impl Fn(&[ExportMetricsServiceRequest]) -> bool,
    ) -> Vec<ExportMetricsServiceRequest> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let metrics = self.metrics();
            if done(&metrics) || Instant::now() > deadline {
                return metrics;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until `count` spans have arrived, or [`PATIENCE`] passed; then
    /// how many arrived.
    pub fn wait_for_count(&self, count: usize) -> usize {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let arrived = self.arrivals().len();
            if arrived >= count || Instant::now() > deadline {
                return arrived;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until every span in `ids` has arrived, or [`PATIENCE`] passed;
    /// then everything that arrived.
    pub fn wait_for(&self, ids: &BTreeSet<String>) -> HashMap<String, u128> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let arrivals = self.arrivals();
            if ids.iter().all(|id| arrivals.contains_key(id)) || Instant::now() > deadline {
                return arrivals;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.stop();
    }
}
