//! Shared helpers of the runtime's process-level tests.
//!
//! Each test binary re-runs itself as the child process under test: the parent
//! starts `current_exe() child --exact` with `AGENTO_CHILD` naming a scenario,
//! and the `child` test of that binary plays it (see [`child_main`]).

#![allow(dead_code)]

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use agento_runtime::__private::{ModuleRole, ModuleRun, ModuleSpec};
use agento_runtime::{SpanGuard, SpanKind};
use opentelemetry::KeyValue;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::Span;

/// A directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(label: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "agento-test-{label}-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&path).expect("temp dir");
        Self(path)
    }
    pub fn data(&self) -> PathBuf {
        self.0.join("data")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A command running `scenario` in a child copy of this test binary, with its
/// data directory in `dir` and no live export unless the caller sets one.
pub fn child_command(dir: &TempDir, scenario: &str) -> Command {
    let mut command = Command::new(std::env::current_exe().expect("test binary"));
    command
        .args(["child", "--exact", "--nocapture", "--test-threads=1", "-q"])
        .env("AGENTO_CHILD", scenario)
        .env("AGENTO_DATA_DIR", dir.data())
        .env("OTEL_TRACES_EXPORTER", "none")
        .env_remove("TRACEPARENT")
        .env_remove("AGENTO_TRACE_CONTEXT")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_PROTOCOL")
        .stdin(Stdio::null());
    command
}

/// Runs `command` to the end and returns its output.
pub fn run(command: &mut Command) -> Output {
    command.output().expect("child starts")
}

/// Starts `command` and waits until it prints `ready` on stdout.
pub fn start_until_ready(command: &mut Command) -> Child {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("child starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    loop {
        match lines.next() {
            Some(Ok(line)) if line.trim() == "ready" => break,
            Some(Ok(_)) => {}
            _ => panic!("the child ended before it was ready"),
        }
    }
    child
}

/// Sends `signal` (e.g. "TERM") to `child`.
pub fn kill(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([format!("-{signal}"), child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// The archive files in `dir`'s data directory.
pub fn archives(dir: &TempDir) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.data())
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().ends_with(".otlp.json"))
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// The only archive in `dir`.
pub fn only_archive(dir: &TempDir) -> PathBuf {
    let files = archives(dir);
    assert_eq!(
        files.len(),
        1,
        "expected exactly one archive, found {files:?}"
    );
    files.into_iter().next().expect("one archive")
}

/// Every line of `path`, parsed with opentelemetry-proto's serde.
pub fn read_archive(path: &Path) -> Vec<ExportTraceServiceRequest> {
    let text = std::fs::read_to_string(path).expect("archive readable");
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "the archive ends in the middle of a line"
    );
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str(line).unwrap_or_else(|e| {
                panic!("line {} is not an ExportTraceServiceRequest: {e}", i + 1)
            })
        })
        .collect()
}

/// A span with the `agento.module` of the resource it came with.
pub struct Found {
    pub module: String,
    pub span: Span,
}

pub fn spans(requests: &[ExportTraceServiceRequest]) -> Vec<Found> {
    let mut out = Vec::new();
    for request in requests {
        for resource_spans in &request.resource_spans {
            let module = resource_spans
                .resource
                .as_ref()
                .and_then(|r| r.attributes.iter().find(|kv| kv.key == "agento.module"))
                .and_then(|kv| kv.value.as_ref())
                .map(text)
                .unwrap_or_default();
            for scope in &resource_spans.scope_spans {
                for span in &scope.spans {
                    out.push(Found {
                        module: module.clone(),
                        span: span.clone(),
                    });
                }
            }
        }
    }
    out
}

pub fn text(value: &AnyValue) -> String {
    match &value.value {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        other => format!("{other:?}"),
    }
}

pub fn attr<'a>(span: &'a Span, key: &str) -> Option<&'a AnyValue> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
}

pub fn attr_text(span: &Span, key: &str) -> Option<String> {
    attr(span, key).map(text)
}

pub fn named<'a>(found: &'a [Found], name: &str) -> Vec<&'a Span> {
    found
        .iter()
        .filter(|f| f.span.name == name)
        .map(|f| &f.span)
        .collect()
}

/// Asserts one trace, one root, every parent present; returns the root.
pub fn assert_connected(found: &[Found]) -> Span {
    let traces: HashSet<&Vec<u8>> = found.iter().map(|f| &f.span.trace_id).collect();
    assert_eq!(traces.len(), 1, "expected one traceId");
    let ids: HashSet<&Vec<u8>> = found.iter().map(|f| &f.span.span_id).collect();
    assert_eq!(ids.len(), found.len(), "a span id appears twice");
    let roots: Vec<&Span> = found
        .iter()
        .map(|f| &f.span)
        .filter(|s| s.parent_span_id.is_empty())
        .collect();
    assert_eq!(
        roots.len(),
        1,
        "expected exactly one root, found {:?}",
        roots.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    for f in found {
        if !f.span.parent_span_id.is_empty() {
            assert!(
                ids.contains(&f.span.parent_span_id),
                "the parent of {} is not in the file",
                f.span.name
            );
        }
    }
    roots[0].clone()
}

/// The `child` test body: plays the scenario named by `AGENTO_CHILD`.
pub fn child_main() {
    let Ok(scenario) = std::env::var("AGENTO_CHILD") else {
        return;
    };
    let role = match std::env::var("AGENTO_CHILD_ROLE").as_deref() {
        Ok("first") => ModuleRole::First,
        Ok("final") => ModuleRole::Final,
        _ => ModuleRole::Middle,
    };
    let name: &'static str = Box::leak(
        std::env::var("AGENTO_CHILD_MODULE")
            .unwrap_or_else(|_| "child".into())
            .into_boxed_str(),
    );
    let spec: &'static ModuleSpec = Box::leak(Box::new(ModuleSpec {
        name: Some(name),
        role,
    }));
    let goal = std::env::var("AGENTO_CHILD_GOAL").ok();
    let module = ModuleRun::start(spec, goal.as_deref());
    let outcome: Result<(), String> = {
        let _active = module.enter();
        match scenario.as_str() {
            "spans" => emit_spans(),
            "hang" => hang(),
            "fail" => Err("the stage failed on purpose".to_owned()),
            other => Err(format!("unknown scenario {other}")),
        }
    };
    let code = module.exit_code(outcome);
    std::process::exit(if code == std::process::ExitCode::SUCCESS {
        0
    } else {
        1
    });
}

fn count() -> usize {
    std::env::var("AGENTO_CHILD_SPANS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3)
}

/// `count()` step spans with 1–9 KB of text, one failing with an exception
/// event, one with typed attributes including zero and false values.
fn emit_spans() -> Result<(), String> {
    let secret = std::env::var("SENTINEL_API_KEY").unwrap_or_default();
    for i in 0..count() {
        let step = SpanGuard::start(format!("step_{i}"), SpanKind::Chain);
        let size = 1024 * (1 + i % 9);
        step.set_text(
            "agento.draft_content",
            &format!("{} {secret}", "d".repeat(size)),
        );
        step.set_attribute(KeyValue::new("agento.index", i as i64));
        step.set_ok();
    }
    let typed = SpanGuard::start("typed", SpanKind::Tool);
    typed.set_attribute(KeyValue::new("zero", 0_i64));
    typed.set_attribute(KeyValue::new("no", false));
    typed.set_attribute(KeyValue::new("empty", ""));
    typed.set_attribute(KeyValue::new("ratio", 0.5));
    drop(typed);
    let failing = SpanGuard::start("failing", SpanKind::Chain);
    failing.record_error("http.503", &format!("upstream unavailable, key {secret}"));
    drop(failing);
    if role_is_final() {
        agento_runtime::record_final_response(&serde_json::json!({"Title": "Plan", "steps": 2}));
    }
    Ok(())
}

fn role_is_final() -> bool {
    std::env::var("AGENTO_CHILD_ROLE").as_deref() == Ok("final")
}

fn hang() -> Result<(), String> {
    let done = SpanGuard::start("finished_before_signal", SpanKind::Chain);
    done.set_ok();
    drop(done);
    let _long = SpanGuard::start("long_running", SpanKind::Chain);
    let _active = _long.enter();
    println!("ready");
    std::thread::sleep(Duration::from_secs(30));
    Ok(())
}
