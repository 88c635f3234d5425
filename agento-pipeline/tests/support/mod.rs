//! Helpers of the pipeline's process-level tests: run the real binaries in a
//! temporary directory and read what they wrote.
#![allow(dead_code)] // each test binary uses a part of this module

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use agento_pipeline::trace::{Archive, SpanRecord, Trace, load};

/// Flags for headless Chromium in the tests: the page under test on
/// loopback and nothing else — no background, update, sync or first-run
/// traffic, and every host name but loopback unresolvable, so a page that
/// names an outside resource cannot reach it.
pub const LOOPBACK_CHROMIUM: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
];

/// Known values for the three API keys: none may appear in any output.
pub const SENTINELS: [(&str, &str); 3] = [
    ("GEMINI_API_KEY", "sentinel-gemini-KEY-1f2e3d4c5b"),
    ("OPENAI_API_KEY", "sentinel-openai-KEY-6a7b8c9d0e"),
    ("ANTHROPIC_API_KEY", "sentinel-anthropic-KEY-abcdef12"),
];

/// A temporary working directory with a goal file and a data directory.
pub struct Workdir {
    pub dir: tempfile::TempDir,
}

impl Workdir {
    /// A directory holding `goal.json` with `goal`.
    pub fn new(goal: &serde_json::Value) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        std::fs::write(dir.path().join("goal.json"), goal.to_string()).expect("goal file");
        Self { dir }
    }

    /// The default goal, with an expected response.
    pub fn bakery() -> Self {
        Self::new(&serde_json::json!({
            "goal": "Open a bakery in Oakland within six months",
            "expected_response": "A plan with research, financing, launch and operations"
        }))
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A command for binary `bin` (its `CARGO_BIN_EXE_*` path) in this
    /// directory: no collector, the sentinel keys set, a short backoff.
    pub fn command(&self, bin: &str) -> Command {
        let mut command = Command::new(bin);
        command
            .current_dir(self.path())
            .env("AGENTO_DATA_DIR", self.data())
            .env("OTEL_TRACES_EXPORTER", "none")
            .env_remove("TRACEPARENT")
            .env_remove("AGENTO_TRACE_CONTEXT")
            .stdin(Stdio::null());
        for (name, value) in SENTINELS {
            command.env(name, value);
        }
        command
    }

    /// The run archives in the data directory.
    pub fn archives(&self) -> Vec<PathBuf> {
        let mut found: Vec<PathBuf> = std::fs::read_dir(self.data())
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.to_string_lossy().ends_with(".otlp.json"))
                    .collect()
            })
            .unwrap_or_default();
        found.sort();
        found
    }

    /// The one archive, loaded.
    pub fn archive(&self) -> Archive {
        let archives = self.archives();
        assert_eq!(archives.len(), 1, "archives: {archives:?}");
        load(&archives[0]).expect("archive loads")
    }

    /// Every file under the data directory (the run folders too), as text.
    pub fn all_output(&self) -> String {
        let mut text = String::new();
        let mut dirs = vec![self.data()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if let Ok(content) = std::fs::read_to_string(&path) {
                    text.push_str(&content);
                }
            }
        }
        text
    }
}

/// Runs `command` and returns its output.
pub fn run(command: &mut Command) -> Output {
    command.output().expect("the binary runs")
}

/// stdout + stderr as text.
pub fn console(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Asserts that none of the sentinel keys appears in `text`.
pub fn assert_no_sentinel(text: &str, what: &str) {
    for (name, value) in SENTINELS {
        assert!(!text.contains(value), "{name} leaked into {what}");
    }
}

/// The only trace of `archive`.
pub fn only_trace(archive: &Archive) -> &Trace {
    assert!(
        archive.bad_lines.is_empty(),
        "bad lines: {:?}",
        archive.bad_lines
    );
    assert_eq!(
        archive.traces.len(),
        1,
        "traces: {:?}",
        archive.traces.iter().map(|t| &t.id).collect::<Vec<_>>()
    );
    &archive.traces[0]
}

/// The spans named `name`.
pub fn named<'a>(trace: &'a Trace, name: &str) -> Vec<&'a SpanRecord> {
    trace.spans.iter().filter(|s| s.name == name).collect()
}

/// `agento simulate --port 0` in `work`, and the URL it prints.
pub fn simulate(work: &Workdir) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader};
    let mut child = work
        .command(env!("CARGO_BIN_EXE_agento"))
        .args(["simulate", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the simulator starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the URL");
    (child, line.trim().to_owned())
}
