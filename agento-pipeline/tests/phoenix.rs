//! A real Arize Phoenix (installed on first use by `scripts/phoenix.sh` into
//! `./.venv`, its database in the test's temporary directory, on free loopback
//! ports) receives one offline run over OTLP/gRPC and one over
//! OTLP/http-protobuf; the assertions read what Phoenix itself made of the
//! spans through its REST API (`/v1/projects/{project}/spans`).
//!
//! Phoenix cannot be installed → the test fails (it never skips).

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use agento_pipeline::trace::SpanRecord;
use serde_json::Value;
use support::{LOOPBACK_CHROMIUM, Workdir, console, only_trace, run};

const AGENTO: &str = env!("CARGO_BIN_EXE_agento");
/// Phoenix's first start migrates its database: allow for a slow machine.
const STARTUP: Duration = Duration::from_secs(240);
/// Phoenix ingests OTLP asynchronously.
const INGEST: Duration = Duration::from_secs(60);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_owned()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A Phoenix server of our own.
struct Phoenix {
    child: Child,
    http: u16,
    grpc: u16,
    dir: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
}

impl Phoenix {
    fn start() -> Self {
        let script = repo_root().join("scripts/phoenix.sh");
        let installed = Command::new(&script)
            .arg("path")
            .stdin(Stdio::null())
            .output()
            .expect("scripts/phoenix.sh runs");
        assert!(
            installed.status.success(),
            "Phoenix could not be installed: {}",
            console(&installed)
        );
        let phoenix = String::from_utf8_lossy(&installed.stdout).trim().to_owned();
        let dir = tempfile::tempdir().expect("temporary directory");
        let log = std::fs::File::create(dir.path().join("phoenix.log")).expect("log file");
        let (http, grpc) = (free_port(), free_port());
        let child = Command::new(&phoenix)
            .arg("serve")
            .env("PHOENIX_HOST", "127.0.0.1")
            .env("PHOENIX_PORT", http.to_string())
            .env("PHOENIX_GRPC_PORT", grpc.to_string())
            .env("PHOENIX_WORKING_DIR", dir.path())
            .env("PHOENIX_TELEMETRY_ENABLED", "false")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{phoenix} serve cannot start: {e}"));
        let mut phoenix = Self {
            child,
            http,
            grpc,
            dir,
            runtime: tokio::runtime::Runtime::new().expect("tokio runtime"),
        };
        phoenix.wait_until_ready();
        phoenix
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("phoenix.log")).unwrap_or_default()
    }

    fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + STARTUP;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "Phoenix exited ({status}) while starting; its log:\n{}",
                    self.log()
                );
            }
            let grpc_up = TcpStream::connect(("127.0.0.1", self.grpc)).is_ok();
            if grpc_up
                && self
                    .get("/healthz")
                    .is_some_and(|(status, _)| status == 200)
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "Phoenix did not answer on 127.0.0.1:{} within {STARTUP:?}; its log:\n{}",
                self.http,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.http)
    }

    fn get(&self, path: &str) -> Option<(u16, String)> {
        let url = self.url(path);
        self.runtime.block_on(async {
            let response = reqwest::get(&url).await.ok()?;
            let status = response.status().as_u16();
            Some((status, response.text().await.ok()?))
        })
    }

    /// Every span of `project`, as Phoenix's REST API returns them.
    fn spans(&self, project: &str) -> Vec<Value> {
        let mut spans = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/v1/projects/{project}/spans?limit=1000");
            if let Some(cursor) = &cursor {
                path.push_str(&format!("&cursor={cursor}"));
            }
            let Some((200, body)) = self.get(&path) else {
                return spans;
            };
            let page: Value = serde_json::from_str(&body).expect("Phoenix answers JSON");
            spans.extend(page["data"].as_array().cloned().unwrap_or_default());
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return spans,
            }
        }
    }

    /// Waits until Phoenix holds `expected` spans of `project` (or the
    /// ingest patience runs out) and returns them.
    fn wait_for_spans(&self, project: &str, expected: usize) -> Vec<Value> {
        let deadline = Instant::now() + INGEST;
        loop {
            let spans = self.spans(project);
            if spans.len() >= expected || Instant::now() > deadline {
                return spans;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The id of `project` (for UI links).
    fn project_id(&self, project: &str) -> String {
        let (_, body) = self
            .get("/v1/projects")
            .expect("Phoenix lists its projects");
        let projects: Value = serde_json::from_str(&body).expect("JSON");
        projects["data"]
            .as_array()
            .and_then(|all| all.iter().find(|p| p["name"] == project))
            .and_then(|p| p["id"].as_str())
            .unwrap_or_else(|| panic!("no project {project} in {body}"))
            .to_owned()
    }
}

impl Drop for Phoenix {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `agento run --offline` exporting to Phoenix over `protocol`, into project `project`.
fn run_into(phoenix: &Phoenix, protocol: &str, project: &str) -> (Workdir, Value) {
    let work = Workdir::bakery();
    let endpoint = if protocol == "grpc" {
        format!("http://127.0.0.1:{}", phoenix.grpc)
    } else {
        phoenix.url("")
    };
    let output = run(work
        .command(AGENTO)
        .args(["run", "--offline", "--goal", "goal.json", "--json"])
        .env("OTEL_TRACES_EXPORTER", "otlp")
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
        .env(
            "OTEL_RESOURCE_ATTRIBUTES",
            format!("openinference.project.name={project}"),
        ));
    assert!(output.status.success(), "{}", console(&output));
    assert!(
        output.stderr.is_empty(),
        "no export warning with Phoenix up: {}",
        console(&output)
    );
    let summary: Value = serde_json::from_slice(&output.stdout).expect("the --json summary");
    (work, summary)
}

fn text<'a>(span: &'a Value, key: &str) -> &'a str {
    span["attributes"][key].as_str().unwrap_or("")
}

fn int(span: &Value, key: &str) -> Option<i64> {
    span["attributes"][key].as_i64()
}

/// What Phoenix shows of one run, checked against the run's archive.
fn phoenix_shows_the_run(phoenix: &Phoenix, protocol: &str, project: &str) -> Vec<Value> {
    let (work, summary) = run_into(phoenix, protocol, project);
    let archive = work.archive();
    let trace = only_trace(&archive);
    let archived: BTreeMap<&str, &SpanRecord> = trace
        .spans
        .iter()
        .map(|s| (s.span_id.as_str(), s))
        .collect();
    let spans = phoenix.wait_for_spans(project, archived.len());

    // Every archived span, once, and nothing else.
    assert_eq!(
        spans.len(),
        archived.len(),
        "Phoenix holds {} spans over {protocol}, the archive {}",
        spans.len(),
        archived.len()
    );
    let ids: BTreeSet<&str> = spans
        .iter()
        .filter_map(|s| s["context"]["span_id"].as_str())
        .collect();
    assert_eq!(ids, archived.keys().copied().collect::<BTreeSet<_>>());

    // One LLM span per model call (the calls the run itself counted).
    let calls: i64 = ["gemini", "openai", "anthropic"]
        .iter()
        .map(|vendor| summary["tokens"][vendor]["calls"].as_i64().unwrap_or(0))
        .sum();
    let llm: Vec<&Value> = spans.iter().filter(|s| s["span_kind"] == "LLM").collect();
    assert_eq!(
        llm.len() as i64,
        calls,
        "LLM spans in Phoenix vs model calls of the run"
    );
    assert!(calls >= 20, "a full run makes all its calls: {calls}");

    // Every span has an input and an output.
    for span in &spans {
        for key in ["input.value", "output.value"] {
            assert!(
                !text(span, key).is_empty(),
                "{} ({}) has no {key} in Phoenix",
                span["name"],
                span["span_kind"]
            );
        }
    }

    // LLM spans: model, provider and token counts as the archive has them.
    let mut providers = BTreeSet::new();
    for span in &llm {
        let id = span["context"]["span_id"].as_str().unwrap_or("");
        let record = archived[id];
        let response_model = record.text("gen_ai.response.model").unwrap_or("");
        assert!(!response_model.is_empty(), "{id}: no response model");
        assert_eq!(text(span, "llm.model_name"), response_model, "{id}");
        let expected_provider = match record.text("gen_ai.system") {
            Some("gemini") => "google",
            Some(other) => other,
            None => panic!("{id}: no gen_ai.system in the archive"),
        };
        assert_eq!(text(span, "llm.provider"), expected_provider, "{id}");
        providers.insert(text(span, "llm.provider").to_owned());
        let archived = record
            .attr("gen_ai.usage.input_tokens")
            .and_then(|a| a.as_int());
        assert!(
            archived.is_some(),
            "{id}: no gen_ai.usage.input_tokens in the archive"
        );
        assert_eq!(
            int(span, "llm.token_count.prompt"),
            archived,
            "{id}: prompt tokens"
        );
        let archived = record
            .attr("gen_ai.usage.output_tokens")
            .and_then(|a| a.as_int());
        assert!(
            archived.is_some(),
            "{id}: no gen_ai.usage.output_tokens in the archive"
        );
        assert_eq!(
            int(span, "llm.token_count.completion"),
            archived,
            "{id}: completion tokens"
        );
        assert_eq!(
            text(span, "output.value"),
            record.text("gen_ai.response.content").unwrap_or("")
        );
        // The GenAI messages arrive over OTLP in the registry's JSON shape.
        let messages: Value =
            serde_json::from_str(text(span, "gen_ai.output.messages")).expect("JSON messages");
        assert_eq!(messages[0]["role"], "assistant", "{id}");
        assert_eq!(
            messages[0]["parts"][0]["content"].as_str(),
            Some(text(span, "output.value"))
        );
    }
    assert_eq!(
        providers,
        BTreeSet::from([
            "anthropic".to_owned(),
            "google".to_owned(),
            "openai".to_owned()
        ])
    );

    // The root: the goal in, the final plan out.
    let roots: Vec<&Value> = spans.iter().filter(|s| s["parent_id"].is_null()).collect();
    assert_eq!(roots.len(), 1, "one root in Phoenix");
    let root = roots[0];
    assert_eq!(root["span_kind"], "AGENT");
    assert_eq!(
        text(root, "input.value"),
        "Open a bakery in Oakland within six months"
    );
    let final_plan: Value = serde_json::from_str(
        &std::fs::read_to_string(work.data().join("RevisedPlan.json")).expect("the final plan"),
    )
    .expect("JSON");
    let shown: Value = serde_json::from_str(text(root, "output.value")).expect("JSON output");
    assert_eq!(shown, final_plan, "the root's output is the final plan");
    assert_eq!(text(root, "output.mime_type"), "application/json");
    println!(
        "Phoenix over {protocol}: {} spans (archive {}), {} LLM spans = {calls} calls, providers {providers:?}",
        spans.len(),
        archived.len(),
        llm.len()
    );
    spans
}

/// A screenshot of Phoenix's view of `trace_id` in headless Chromium
/// (`scripts/browser.sh`), saved to `path`.
fn screenshot(phoenix: &Phoenix, project: &str, trace_id: &str, path: &Path) {
    let browser = Command::new(repo_root().join("scripts/browser.sh"))
        .stdin(Stdio::null())
        .output()
        .expect("scripts/browser.sh runs");
    assert!(browser.status.success(), "{}", console(&browser));
    let chromium = String::from_utf8_lossy(&browser.stdout).trim().to_owned();
    let url = phoenix.url(&format!(
        "/projects/{}/traces/{trace_id}",
        phoenix.project_id(project)
    ));
    let profile = tempfile::tempdir().expect("browser profile");
    let output = Command::new(&chromium)
        .args(LOOPBACK_CHROMIUM)
        .args([
            "--hide-scrollbars",
            "--window-size=1600,1000",
            "--virtual-time-budget=15000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", path.display()))
        .arg(&url)
        .stdin(Stdio::null())
        .output()
        .expect("chromium runs");
    assert!(output.status.success(), "{}", console(&output));
    let png = std::fs::read(path).expect("the screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert!(png.len() > 20_000, "a blank page? {} bytes", png.len());
}

#[test]
fn phoenix_shows_inputs_outputs_models_providers_and_tokens_over_grpc_and_http() {
    let phoenix = Phoenix::start();
    phoenix_shows_the_run(&phoenix, "grpc", "agento-grpc");
    let spans = phoenix_shows_the_run(&phoenix, "http/protobuf", "agento-http");
    let trace_id = spans[0]["context"]["trace_id"].as_str().expect("trace id");
    let shot = phoenix.dir.path().join("phoenix-trace.png");
    screenshot(&phoenix, "agento-http", trace_id, &shot);
    if let Ok(keep) = std::env::var("AGENTO_PHOENIX_SCREENSHOT") {
        std::fs::copy(&shot, keep).expect("the screenshot is kept");
    }
}
