//! The HTML report in a real browser: Debian's headless Chromium (installed
//! by `scripts/browser.sh`) loads it from disk with no network, logs no
//! console error, and screenshots a page with the waterfall on it.

mod support;

use std::path::PathBuf;
use std::process::Command;

use support::{LOOPBACK_CHROMIUM, Workdir, console, run};

const AGENTO: &str = env!("CARGO_BIN_EXE_agento");

fn chromium() -> String {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/browser.sh");
    let found = Command::new("bash")
        .arg(script)
        .output()
        .expect("scripts/browser.sh runs");
    assert!(
        found.status.success(),
        "Chromium could not be installed (scripts/browser.sh): {}",
        String::from_utf8_lossy(&found.stderr)
    );
    String::from_utf8_lossy(&found.stdout).trim().to_owned()
}

#[test]
fn the_report_loads_in_chromium_without_console_errors_and_shows_the_waterfall() {
    let browser = chromium();
    let work = Workdir::bakery();
    assert!(
        run(work
            .command(AGENTO)
            .args(["run", "--offline", "--goal", "goal.json", "--quiet"]))
        .status
        .success()
    );
    let archive = work.archives().remove(0);
    let html = work.path().join("run.html");
    let output = run(work
        .command(AGENTO)
        .args(["trace", "report"])
        .arg(&archive)
        .arg("-o")
        .arg(&html));
    assert!(output.status.success(), "{}", console(&output));
    let profile = work.path().join("chromium-profile");
    let screenshot = work.path().join("report.png");
    let headless = |extra: &[String]| {
        Command::new(&browser)
            .args(LOOPBACK_CHROMIUM)
            .args([
                "--enable-logging=stderr",
                "--v=0",
                "--window-size=1280,1600",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(extra)
            .arg(format!("file://{}", html.display()))
            .output()
            .expect("chromium runs")
    };
    let shot = headless(&[format!("--screenshot={}", screenshot.display())]);
    let log = String::from_utf8_lossy(&shot.stderr);
    let console_lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught"))
        .collect();
    assert!(
        console_lines.is_empty(),
        "console messages: {console_lines:#?}"
    );
    let png = std::fs::read(&screenshot).expect("a screenshot");
    assert_eq!(&png[1..4], b"PNG");
    assert!(
        png.len() > 20_000,
        "a near-empty screenshot ({} bytes)",
        png.len()
    );
    let dom = headless(&["--dump-dom".to_owned()]);
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains("<svg id=\"waterfall\""),
        "the waterfall is in the rendered page"
    );
    assert!(dom.matches("<rect").count() > 60, "one bar per span");
    assert!(dom.contains("id=\"plan-before\"") && dom.contains("id=\"plan-after\""));
}
