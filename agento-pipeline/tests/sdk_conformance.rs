//! Conformance with the vendors' official SDKs — the ground truth, not our
//! own clients or simulator:
//!
//! - the official Python clients (openai, anthropic, google-genai, pinned in
//!   `scripts/sdks.sh`, installed into `./.venv` on first use) call
//!   `agento simulate`, parse every reply into their own response models (no
//!   field they do not know) and raise their own exception class for each
//!   error mode (`tests/sdk/clients.py`);
//! - the Rust clients' requests of a whole offline run, recorded by the
//!   simulator (`AGENTO_SIM_RECORD`), validate against the SDKs' own request
//!   types with unknown fields forbidden (`tests/sdk/requests.py`).

mod support;
mod support_reliability;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use support::{Workdir, console, run};
use support_reliability::{Simulator, offline};

/// The number of cases in `tests/sdk/clients.py`.
const CLIENT_CASES: usize = 29;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_owned()
}

/// The venv's python with the pinned SDKs (installed on first use).
fn python() -> PathBuf {
    let output = Command::new(workspace().join("scripts/sdks.sh"))
        .arg("python")
        .output()
        .expect("scripts/sdks.sh runs");
    assert!(
        output.status.success(),
        "scripts/sdks.sh python failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
}

/// Runs `tests/sdk/<script>` with `args`; its JSON lines.
fn script(script: &str, args: &[&str]) -> Vec<Value> {
    let output = Command::new(python())
        .arg(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/sdk")
                .join(script),
        )
        .args(args)
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{script} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

#[test]
fn the_official_sdks_parse_every_reply_and_raise_their_own_errors() {
    let work = Workdir::bakery();
    let all = |setting: &str, value: &str| -> Vec<(String, String)> {
        ["GEMINI", "OPENAI", "ANTHROPIC"]
            .iter()
            .map(|vendor| (format!("AGENTO_SIM_{vendor}_{setting}"), value.to_owned()))
            .collect()
    };
    let start = |envs: Vec<(String, String)>| {
        let envs: Vec<(&str, &str)> = envs.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        Simulator::start(&work, &envs)
    };
    let mut fail_a = all("FAIL_ALWAYS", "1");
    fail_a.extend([
        ("AGENTO_SIM_OPENAI_FAILURE".into(), "429".into()),
        ("AGENTO_SIM_GEMINI_FAILURE".into(), "429".into()),
        ("AGENTO_SIM_ANTHROPIC_FAILURE".into(), "529".into()),
    ]);
    fail_a.extend(all("RETRY_AFTER_SECS", "2"));
    let mut fail_b = all("FAIL_ALWAYS", "1");
    fail_b.extend([
        ("AGENTO_SIM_OPENAI_FAILURE".into(), "500".into()),
        ("AGENTO_SIM_GEMINI_FAILURE".into(), "503".into()),
        ("AGENTO_SIM_ANTHROPIC_FAILURE".into(), "429".into()),
    ]);
    let mut blocked = all("MODE", "blocked");
    blocked.extend(all("REJECT_TEMPERATURE", "1"));
    let simulators = [
        ("normal", start(Vec::new())),
        ("fail_a", start(fail_a)),
        ("fail_b", start(fail_b)),
        ("blocked", start(blocked)),
        ("safety", start(all("MODE", "safety"))),
        ("cut", start(all("CUT_FIRST", "1000"))),
    ];
    let urls: BTreeMap<&str, &str> = simulators
        .iter()
        .map(|(name, sim)| (*name, sim.url.as_str()))
        .collect();
    let results = script("clients.py", &[&serde_json::to_string(&urls).unwrap()]);
    let failed: Vec<String> = results
        .iter()
        .filter(|r| r["passed"] != true)
        .map(|r| format!("{}: {}", r["case"], r["detail"].as_str().unwrap_or("")))
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
    assert_eq!(results.len(), CLIENT_CASES, "{results:#?}");
}

/// Validates the recorded requests of an offline run with `args` and `envs`;
/// returns the number of requests per vendor.
fn recorded_requests_validate(args: &[&str], envs: &[(&str, &str)]) -> BTreeMap<String, usize> {
    let work = Workdir::bakery();
    let record = work.path().join("requests.jsonl");
    let output = run(offline(&work)
        .args(args)
        .env("AGENTO_SIM_RECORD", &record)
        .envs(envs.iter().copied()));
    assert!(output.status.success(), "{}", console(&output));
    let results = script("requests.py", &[record.to_str().expect("a UTF-8 path")]);
    let mut per_vendor = BTreeMap::new();
    for result in &results {
        assert_eq!(result["problems"], serde_json::json!([]), "{result}");
        *per_vendor
            .entry(result["vendor"].as_str().unwrap_or("?").to_owned())
            .or_insert(0) += 1;
    }
    let recorded = std::fs::read_to_string(&record).expect("the record");
    assert!(!recorded.contains("sentinel-"), "a key reached the record");
    per_vendor
}

#[test]
fn the_rust_clients_requests_validate_against_the_sdks_request_types() {
    let defaults = recorded_requests_validate(&[], &[]);
    assert_eq!(
        defaults.keys().collect::<Vec<_>>(),
        ["anthropic", "gemini", "openai"]
    );
    assert!(defaults.values().all(|n| *n >= 2), "{defaults:?}");
    // A model that takes temperature, and an explicit override.
    let tuned = recorded_requests_validate(
        &[],
        &[("OPENAI_MODEL", "gpt-4.1"), ("GEMINI_TEMPERATURE", "0.9")],
    );
    assert_eq!(tuned, defaults, "the same calls, other parameters");
    // `--stream`: the same calls, as the SDKs' streaming request types.
    let streamed = recorded_requests_validate(&["--stream"], &[]);
    assert_eq!(streamed, defaults, "the same calls, streamed");
}
