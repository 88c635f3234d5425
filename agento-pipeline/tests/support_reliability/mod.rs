//! Helpers of the reliability suite (`tests/reliability_*.rs`): the offline
//! run command, the archive and secrets sweeps, a misbehaving vendor in front
//! of the simulator, and rotel relaying to a receiver that keeps everything
//! it is sent.
#![allow(dead_code)] // each test binary uses a part of this module

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agento_pipeline::trace::{SpanRecord, Trace, load};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};

use crate::support::{Workdir, assert_no_sentinel, console};

/// The `agento` binary.
pub const AGENTO: &str = env!("CARGO_BIN_EXE_agento");
/// The three stage binaries, in order.
pub const STAGES: [&str; 3] = [
    env!("CARGO_BIN_EXE_1_01_JSON_Goal_to_PlanStructure"),
    env!("CARGO_BIN_EXE_1_05_Ingest-PlanStructure-to-Plan"),
    env!("CARGO_BIN_EXE_2_Revise-Plan-Stable"),
];
/// The module spans of the three stages, in order.
pub const MODULE_SPANS: [&str; 3] = [
    "agento.module.1_01_JSON_Goal_to_PlanStructure",
    "agento.module.1_05_Ingest-PlanStructure-to-Plan",
    "agento.module.2_Revise-Plan-Stable",
];
/// The stage output files, in order.
pub const OUTPUTS: [&str; 3] = [
    "plan_structure.json",
    "project_plan.json",
    "RevisedPlan.json",
];

/// `agento run --offline --goal goal.json --quiet` in `work`.
pub fn offline(work: &Workdir) -> Command {
    let mut command = work.command(AGENTO);
    command.args(["run", "--offline", "--goal", "goal.json", "--quiet"]);
    command
}

/// `agento run` (not offline: the API keys are sent) against vendors at `url`.
pub fn online(work: &Workdir, url: &str) -> Command {
    let mut command = work.command(AGENTO);
    command
        .args(["run", "--goal", "goal.json", "--quiet"])
        .env("GEMINI_BASE_URL", url)
        .env("OPENAI_BASE_URL", format!("{url}/v1"))
        .env("ANTHROPIC_BASE_URL", url);
    command
}

/// Spawns `command` with its output captured.
pub fn spawn(command: &mut Command) -> Child {
    command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts")
}

/// Asserts that every line of every archive in `work` parses; returns their text.
pub fn archives_parse(work: &Workdir) -> String {
    let mut all = String::new();
    for path in work.archives() {
        let archive = load(&path).expect("the archive is readable");
        assert!(
            archive.bad_lines.is_empty(),
            "{}: {:?}",
            path.display(),
            archive.bad_lines
        );
        all.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
    }
    all
}

/// Asserts that no API key sentinel is in the console, the archives or the
/// stage outputs of `work` (and that the archives parse).
pub fn sweep(work: &Workdir, output: &Output) {
    assert_no_sentinel(&console(output), "the console");
    assert_no_sentinel(&archives_parse(work), "the archive");
    assert_no_sentinel(&work.all_output(), "the stage outputs");
}

/// Asserts that every span's parent is in the same trace.
pub fn assert_parents_present(trace: &Trace) {
    let ids: std::collections::HashSet<&str> =
        trace.spans.iter().map(|s| s.span_id.as_str()).collect();
    for span in &trace.spans {
        assert!(
            span.parent_span_id.is_empty() || ids.contains(span.parent_span_id.as_str()),
            "{} lost its parent",
            span.name
        );
    }
}

/// The module span of stage `stage` (0-based): named for the module, or the
/// root when that stage's process started the run.
pub fn module_span(trace: &Trace, stage: usize) -> &SpanRecord {
    let module = MODULE_SPANS[stage].trim_start_matches("agento.module.");
    trace
        .spans
        .iter()
        .find(|s| {
            s.name == MODULE_SPANS[stage]
                || (s.parent_span_id.is_empty() && s.text("agento.module") == Some(module))
        })
        .unwrap_or_else(|| panic!("no module span of {module}"))
}

/// A loopback port nothing listens on.
pub fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// `agento simulate --port 0` in `work` (simulator settings from `envs`),
/// killed on drop.
pub struct Simulator {
    child: Child,
    /// Its base URL.
    pub url: String,
}

impl Simulator {
    /// Starts the simulator with the `AGENTO_SIM_*` settings in `envs`.
    pub fn start(work: &Workdir, envs: &[(&str, &str)]) -> Self {
        let mut command = work.command(AGENTO);
        command
            .args(["simulate", "--port", "0"])
            .envs(envs.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = command.spawn().expect("the simulator starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("its stdout"))
            .read_line(&mut line)
            .expect("it prints its URL");
        Self {
            child,
            url: line.trim().to_owned(),
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the misbehaving vendor does with one request.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Close the connection with the request unread: a TCP reset.
    Reset,
    /// Announce a body of 4 KiB, send part of it and close.
    TruncatedBody,
    /// Answer 200 with this JSON body.
    Reply(String),
    /// Answer with this error status and body.
    Error(u16, String),
}

/// An HTTP/1.1 server in front of the simulator: requests whose path contains
/// a scripted fault's pattern get the fault (each script entry once, in
/// order); all others are forwarded to the simulator unchanged.
pub struct FaultyVendor {
    /// Its base URL.
    pub url: String,
    served: Arc<Mutex<Vec<String>>>,
}

impl FaultyVendor {
    /// Serves `script` (path pattern → fault) in front of the simulator at `upstream`.
    pub fn start(upstream: &str, script: Vec<(&'static str, Fault)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("its address"));
        let upstream: SocketAddr = upstream
            .trim_start_matches("http://")
            .parse()
            .expect("the simulator's address");
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let served = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&served);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let script = Arc::clone(&script);
                let log = Arc::clone(&log);
                std::thread::spawn(move || serve(stream, upstream, &script, &log));
            }
        });
        Self { url, served }
    }

    /// What each request got: `<fault or "forward"> <path>`.
    pub fn served(&self) -> Vec<String> {
        self.served
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

type Script = Mutex<VecDeque<(&'static str, Fault)>>;

fn serve(mut stream: TcpStream, upstream: SocketAddr, script: &Script, log: &Mutex<Vec<String>>) {
    // The request line and headers, byte by byte so that nothing of the body is read.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let path = head.split_whitespace().nth(1).unwrap_or("").to_owned();
    let fault = {
        let mut script = script.lock().unwrap_or_else(|e| e.into_inner());
        let at = script
            .iter()
            .position(|(pattern, _)| path.contains(pattern));
        at.and_then(|i| script.remove(i)).map(|(_, fault)| fault)
    };
    let label = fault
        .as_ref()
        .map_or_else(|| "forward".to_owned(), |f| format!("{f:?}"));
    log.lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(format!("{} {path}", label.split('(').next().unwrap_or("")));
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    match fault {
        Some(Fault::Reset) => drop(stream),
        Some(Fault::TruncatedBody) => {
            let mut body = vec![0u8; length];
            let _ = stream.read_exact(&mut body);
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 4096\r\n\r\n{\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Ti",
            );
        }
        Some(Fault::Reply(json)) => answer(&mut stream, length, 200, &json),
        Some(Fault::Error(status, json)) => answer(&mut stream, length, status, &json),
        None => {
            let mut body = vec![0u8; length];
            if stream.read_exact(&mut body).is_err() {
                return;
            }
            let Ok(mut up) = TcpStream::connect(upstream) else {
                return;
            };
            // One request per upstream connection: ask it to close, then relay to EOF.
            let (line, rest) = head.split_once("\r\n").unwrap_or((&head, ""));
            let forwarded = format!("{line}\r\nconnection: close\r\n{rest}");
            let _ = up.write_all(forwarded.as_bytes());
            let _ = up.write_all(&body);
            let mut answer = Vec::new();
            let _ = up.read_to_end(&mut answer);
            let _ = stream.write_all(&answer);
        }
    }
}

/// Reads the request body (`length` bytes), then answers `status` with `json`.
fn answer(stream: &mut TcpStream, length: usize, status: u16, json: &str) {
    let mut body = vec![0u8; length];
    let _ = stream.read_exact(&mut body);
    let _ = write!(
        stream,
        "HTTP/1.1 {status} Fault\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{json}",
        json.len()
    );
}

/// A Gemini `generateContent` answer whose text is `text`.
pub fn gemini_reply(text: &str) -> String {
    serde_json::json!({
        "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 20, "totalTokenCount": 30},
        "modelVersion": "gemini-2.5-pro"
    })
    .to_string()
}

/// Keeps, as OTLP JSON text, every export request it is sent.
#[derive(Default, Clone)]
struct KeepAll {
    requests: Arc<Mutex<Vec<String>>>,
}

#[tonic::async_trait]
impl TraceService for KeepAll {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let text = serde_json::to_string(request.get_ref()).unwrap_or_default();
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(text);
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

/// rotel (installed by `scripts/collector.sh`) relaying over OTLP/gRPC to a
/// receiver that keeps every request whole, and logging every span it gets;
/// stopped (by its PID) on drop.
pub struct RecordingCollector {
    rotel: Child,
    /// rotel's OTLP/gRPC endpoint.
    pub endpoint: String,
    kept: KeepAll,
    dir: tempfile::TempDir,
    _runtime: tokio::runtime::Runtime,
}

fn rotel_agent() -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/collector.sh");
    let found = Command::new("bash")
        .arg(&script)
        .arg("path")
        .output()
        .expect("scripts/collector.sh runs");
    assert!(
        found.status.success(),
        "rotel could not be installed: {}",
        String::from_utf8_lossy(&found.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&found.stdout).trim())
}

impl RecordingCollector {
    /// Starts the receiver and rotel and waits until rotel listens.
    pub fn start() -> Self {
        let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
        let kept = KeepAll::default();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("the receiver binds");
        let sink = listener.local_addr().expect("the receiver's address");
        runtime.spawn(
            tonic::transport::Server::builder()
                .add_service(
                    TraceServiceServer::new(kept.clone())
                        .accept_compressed(tonic::codec::CompressionEncoding::Gzip),
                )
                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
        );
        let dir = tempfile::tempdir().expect("temporary directory");
        let log = std::fs::File::create(dir.path().join("rotel.log")).expect("rotel log");
        let port = closed_port();
        let rotel = Command::new(rotel_agent())
            .arg("start")
            .arg("--otlp-grpc-endpoint")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--otlp-http-endpoint")
            .arg(format!("127.0.0.1:{}", closed_port()))
            .args(["--exporter", "otlp", "--otlp-exporter-protocol", "grpc"])
            .arg("--otlp-exporter-endpoint")
            .arg(format!("http://{sink}"))
            .args(["--batch-timeout", "50ms"])
            .args(["--debug-log", "traces", "--debug-log-verbosity", "detailed"])
            .arg("--pid-file")
            .arg(dir.path().join("rotel.pid"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("rotel log"))
            .stderr(log)
            .spawn()
            .expect("rotel-agent starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "rotel did not listen on {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            rotel,
            endpoint: format!("http://127.0.0.1:{port}"),
            kept,
            dir,
            _runtime: runtime,
        }
    }

    /// Waits until at least `spans` span ids arrived (or 20 s passed), then
    /// returns everything received: the relayed requests and rotel's own log.
    pub fn received(&self, spans: usize) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = self
                .kept
                .requests
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .join("\n");
            if text.matches("\"spanId\"").count() >= spans || Instant::now() > deadline {
                let log =
                    std::fs::read_to_string(self.dir.path().join("rotel.log")).unwrap_or_default();
                return format!("{text}\n{log}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for RecordingCollector {
    fn drop(&mut self) {
        let _ = self.rotel.kill();
        let _ = self.rotel.wait();
    }
}
