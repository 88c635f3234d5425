//! The run archive: format, one connected trace over three processes,
//! concurrent appends, scrubbing.

mod support;

use std::collections::HashSet;

use serde_json::Value;
use support::*;

#[test]
fn child() {
    child_main();
}

fn stage(dir: &TempDir, role: &str, module: &str) -> std::process::Command {
    let mut command = child_command(dir, "spans");
    command
        .env("AGENTO_CHILD_ROLE", role)
        .env("AGENTO_CHILD_MODULE", module)
        .env("AGENTO_CHILD_GOAL", "Open a bakery in Oakland");
    command
}

/// Walks a line's JSON and fails on anything the Collector's file exporter
/// would not write.
fn check_collector_shape(value: &Value, path: &str) {
    match value {
        Value::Object(map) => {
            let is_any_value =
                map.len() == 1 && map.keys().next().is_some_and(|k| k.ends_with("Value"));
            for (key, inner) in map {
                assert!(!key.contains('_'), "{path}.{key}: keys are camelCase");
                if !is_any_value && key != "status" {
                    let empty = match inner {
                        Value::String(s) => s.is_empty(),
                        Value::Number(n) => n.as_f64() == Some(0.0),
                        Value::Bool(b) => !b,
                        Value::Array(a) => a.is_empty(),
                        Value::Null => true,
                        Value::Object(_) => false,
                    };
                    assert!(!empty, "{path}.{key}: a default value is written ({inner})");
                }
                match key.as_str() {
                    "traceId" => assert_hex(inner, 32, path),
                    "spanId" | "parentSpanId" => assert_hex(inner, 16, path),
                    "startTimeUnixNano" | "endTimeUnixNano" | "timeUnixNano" | "intValue" => {
                        let text = inner
                            .as_str()
                            .unwrap_or_else(|| panic!("{path}.{key} is not a string"));
                        assert!(
                            text.parse::<i64>().is_ok() || text.parse::<u64>().is_ok(),
                            "{path}.{key}={text}"
                        );
                    }
                    "kind" | "code" => assert!(inner.is_u64(), "{path}.{key} is not an integer"),
                    _ => {}
                }
                check_collector_shape(inner, &format!("{path}.{key}"));
            }
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, v)| check_collector_shape(v, &format!("{path}[{i}]"))),
        _ => {}
    }
}

fn assert_hex(value: &Value, len: usize, path: &str) {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("{path}: id is not a string"));
    assert_eq!(text.len(), len, "{path}: {text}");
    assert!(
        text.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{path}: {text} is not lowercase hex"
    );
}

#[test]
fn archive_lines_are_collector_file_exporter_json() {
    let dir = TempDir::new("format");
    let out =
        run(stage(&dir, "first", "1_01_JSON_Goal_to_PlanStructure").env("AGENTO_CHILD_SPANS", "5"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = only_archive(&dir);
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("agento_run_")
            && name.len() == "agento_run_20261122T093512123456.otlp.json".len(),
        "{name}"
    );

    let text = std::fs::read_to_string(&path).unwrap();
    for (i, line) in text.lines().enumerate() {
        assert!(
            !line.contains("\n") && line.starts_with("{\"resourceSpans\":["),
            "line {i}"
        );
        let value: Value = serde_json::from_str(line).unwrap();
        check_collector_shape(&value, &format!("line{i}"));
    }
    let found = spans(&read_archive(&path));
    assert_eq!(
        found.len(),
        5 + 3,
        "5 steps, typed, failing, the module span"
    );
    let root = assert_connected(&found);
    assert_eq!(root.name, "agento.pipeline");
    assert_eq!(
        attr_text(&root, "openinference.span.kind").as_deref(),
        Some("AGENT")
    );
    assert_eq!(
        attr_text(&root, "user_goal").as_deref(),
        Some("Open a bakery in Oakland")
    );

    let typed = named(&found, "typed")[0];
    let json = serde_json::to_value(typed).unwrap();
    let attrs = json["attributes"].as_array().unwrap();
    let get = |k: &str| {
        attrs
            .iter()
            .find(|a| a["key"] == k)
            .map(|a| a["value"].clone())
            .unwrap()
    };
    assert_eq!(get("zero"), serde_json::json!({"intValue": "0"}));
    assert_eq!(get("no"), serde_json::json!({"boolValue": false}));
    assert_eq!(get("empty"), serde_json::json!({"stringValue": ""}));
    assert_eq!(get("ratio"), serde_json::json!({"doubleValue": 0.5}));
    assert_eq!(typed.kind, 1, "INTERNAL");

    let failing = named(&found, "failing")[0];
    let status = failing.status.as_ref().unwrap();
    assert_eq!(status.code, 2, "ERROR");
    assert!(status.message.contains("upstream unavailable"));
    assert_eq!(
        attr_text(failing, "error.type").as_deref(),
        Some("http.503")
    );
    let event = &failing.events[0];
    assert_eq!(event.name, "exception");
    assert!(
        event
            .attributes
            .iter()
            .any(|kv| kv.key == "exception.message")
    );
}

#[test]
fn three_processes_give_one_connected_trace_in_one_file() {
    let dir = TempDir::new("stages");
    for (role, module) in [
        ("first", "1_01_JSON_Goal_to_PlanStructure"),
        ("middle", "1_05_Ingest-PlanStructure-to-Plan"),
        ("final", "2_Revise-Plan-Stable"),
    ] {
        let out = run(&mut stage(&dir, role, module));
        assert!(
            out.status.success(),
            "{module}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let found = spans(&read_archive(&only_archive(&dir)));
    let root = assert_connected(&found);
    assert_eq!(root.name, "agento.pipeline");
    let modules: HashSet<&str> = found.iter().map(|f| f.module.as_str()).collect();
    assert_eq!(modules.len(), 3, "{modules:?}");
    for name in [
        "agento.module.1_05_Ingest-PlanStructure-to-Plan",
        "agento.module.2_Revise-Plan-Stable",
    ] {
        let module = named(&found, name);
        assert_eq!(module.len(), 1, "{name}");
        assert_eq!(
            module[0].parent_span_id, root.span_id,
            "{name} hangs under the root, not under the previous stage"
        );
        assert_eq!(
            attr_text(module[0], "openinference.span.kind").as_deref(),
            Some("CHAIN")
        );
    }
    let finals: Vec<_> = found
        .iter()
        .filter(|f| attr(&f.span, "agent.final_response").is_some())
        .collect();
    assert_eq!(finals.len(), 1);
    assert_eq!(finals[0].span.name, "agento.module.2_Revise-Plan-Stable");
    let final_json: Value =
        serde_json::from_str(&attr_text(&finals[0].span, "agent.final_response").unwrap()).unwrap();
    assert_eq!(final_json["Title"], "Plan");
}

#[test]
fn two_processes_appending_at_once_lose_and_interleave_nothing() {
    let dir = TempDir::new("concurrent");
    let out = run(stage(&dir, "first", "first").env("AGENTO_CHILD_SPANS", "1"));
    assert!(out.status.success());
    let per_process = 3000;
    let children: Vec<_> = (0..2)
        .map(|i| {
            stage(&dir, "middle", if i == 0 { "left" } else { "right" })
                .env("AGENTO_CHILD_SPANS", per_process.to_string())
                .env("AGENTO_ARCHIVE_BUFFER_SPANS", "256")
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let found = spans(&read_archive(&only_archive(&dir)));
    assert_connected(&found);
    for module in ["left", "right"] {
        let steps = found
            .iter()
            .filter(|f| f.module == module && f.span.name.starts_with("step_"))
            .count();
        assert_eq!(steps, per_process, "{module}");
    }
    assert_eq!(found.len(), (1 + 3) + 2 * (per_process + 3));
}

#[test]
fn secrets_never_reach_the_archive_or_stderr() {
    let dir = TempDir::new("secrets");
    let sentinel = "sentinel-7f3a9c1e5b";
    let out = run(stage(&dir, "first", "secrets")
        .env("SENTINEL_API_KEY", sentinel)
        .env("AGENTO_TELEMETRY_REPORT", "always"));
    assert!(out.status.success());
    let archive = std::fs::read_to_string(only_archive(&dir)).unwrap();
    assert!(!archive.contains(sentinel));
    assert!(archive.contains("[REDACTED]"));
    assert!(!String::from_utf8_lossy(&out.stderr).contains(sentinel));
}

#[test]
fn archive_off_writes_no_file() {
    let dir = TempDir::new("off");
    let out = run(stage(&dir, "first", "off").env("AGENTO_ARCHIVE", "off"));
    assert!(out.status.success());
    assert!(archives(&dir).is_empty());
}
