//! The context carrier between stages: missing, malformed, truncated, wrong
//! version, `TRACEPARENT` precedence, and the first stage never joining an
//! old run.

mod support;

use agento_runtime::carrier::{Carrier, CarrierRead};
use support::*;

#[test]
fn child() {
    child_main();
}

fn stage(dir: &TempDir, role: &str) -> std::process::Command {
    let mut command = child_command(dir, "spans");
    command
        .env("AGENTO_CHILD_ROLE", role)
        .env("AGENTO_CHILD_SPANS", "1");
    command
}

fn carrier_path(dir: &TempDir) -> std::path::PathBuf {
    dir.data().join("trace.context")
}

fn warnings(stderr: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| l.starts_with("agento: warning:"))
        .map(str::to_owned)
        .collect()
}

fn trace_ids(dir: &TempDir) -> Vec<Vec<u8>> {
    archives(dir)
        .iter()
        .map(|p| {
            let found = spans(&read_archive(p));
            assert_connected(&found).trace_id
        })
        .collect()
}

#[test]
fn the_first_stage_writes_a_valid_carrier() {
    let dir = TempDir::new("carrier-write");
    assert!(run(&mut stage(&dir, "first")).status.success());
    let CarrierRead::Loaded {
        carrier, run_id, ..
    } = Carrier::read(&carrier_path(&dir))
    else {
        panic!("no valid carrier written");
    };
    assert_eq!(carrier.archive, run_id.archive_file_name());
    assert_eq!(
        only_archive(&dir).file_name().unwrap().to_string_lossy(),
        carrier.archive
    );
    let root = assert_connected(&spans(&read_archive(&only_archive(&dir))));
    let hex: String = root.span_id.iter().map(|b| format!("{b:02x}")).collect();
    assert!(
        carrier.traceparent.contains(&hex),
        "the carrier names the root span"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.data())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary carrier files left behind");
}

#[test]
fn a_missing_carrier_starts_a_new_run_quietly() {
    let dir = TempDir::new("carrier-missing");
    let out = run(&mut stage(&dir, "middle"));
    assert!(out.status.success());
    assert!(
        warnings(&out.stderr).is_empty(),
        "{:?}",
        warnings(&out.stderr)
    );
    let found = spans(&read_archive(&only_archive(&dir)));
    assert_eq!(assert_connected(&found).name, "agento.module.child");
}

#[test]
fn bad_carriers_start_a_new_run_with_one_warning_and_an_event() {
    let valid = {
        let dir = TempDir::new("carrier-source");
        assert!(run(&mut stage(&dir, "first")).status.success());
        std::fs::read_to_string(carrier_path(&dir)).unwrap()
    };
    let cases = [
        ("malformed", "this is not json {".to_owned()),
        ("truncated", valid[..valid.len() / 2].to_owned()),
        (
            "wrong version",
            valid.replace("\"version\": 1", "\"version\": 2"),
        ),
        ("bad traceparent", valid.replacen("00-", "zz-", 1)),
        (
            "path in the run id",
            valid.replace("agento_run_", "../../agento_run_"),
        ),
        (
            "oversized",
            format!("{{\"pad\": \"{}\"}}", "x".repeat(100 * 1024)),
        ),
        (
            "binary",
            String::from_utf8_lossy(&[0xff, 0xfe, 0x00, 0x01]).into_owned(),
        ),
    ];
    for (label, content) in cases {
        let dir = TempDir::new("carrier-bad");
        std::fs::create_dir_all(dir.data()).unwrap();
        std::fs::write(carrier_path(&dir), &content).unwrap();
        let out = run(&mut stage(&dir, "middle"));
        assert!(
            out.status.success(),
            "{label}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let warned = warnings(&out.stderr);
        assert_eq!(warned.len(), 1, "{label}: {warned:?}");
        assert!(
            warned[0].contains("ignoring the context carrier"),
            "{label}: {}",
            warned[0]
        );
        let found = spans(&read_archive(&only_archive(&dir)));
        let root = assert_connected(&found);
        assert!(
            root.events
                .iter()
                .any(|e| e.name == "agento.carrier.ignored"),
            "{label}: no event on the root"
        );
    }
}

#[test]
fn traceparent_env_wins_over_the_file() {
    let dir = TempDir::new("carrier-env");
    assert!(run(&mut stage(&dir, "first")).status.success());
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let parent = format!("00-{trace}-00f067aa0ba902b7-01");
    let out = run(stage(&dir, "middle").env("TRACEPARENT", &parent));
    assert!(out.status.success());
    let files = archives(&dir);
    assert_eq!(files.len(), 2, "a foreign trace gets its own archive");
    let foreign: Vec<_> = files
        .iter()
        .flat_map(|p| spans(&read_archive(p)))
        .filter(|f| f.span.name == "agento.module.child")
        .collect();
    assert_eq!(foreign.len(), 1);
    let hex: String = foreign[0]
        .span
        .trace_id
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(hex, trace);
    assert_eq!(
        foreign[0].span.parent_span_id,
        vec![0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]
    );
}

#[test]
fn the_first_stage_never_joins_an_old_run() {
    let dir = TempDir::new("carrier-first");
    assert!(run(&mut stage(&dir, "first")).status.success());
    assert!(run(&mut stage(&dir, "middle")).status.success());
    assert!(run(&mut stage(&dir, "first")).status.success());
    let ids = trace_ids(&dir);
    assert_eq!(ids.len(), 2, "two runs, two archives");
    assert_ne!(ids[0], ids[1]);
}
