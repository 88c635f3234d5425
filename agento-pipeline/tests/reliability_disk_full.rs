//! A full disk: `agento run --offline` under a file-size limit (`ulimit -f`,
//! with SIGXFSZ ignored so that a write past the limit fails with EFBIG, as on
//! a full filesystem). The archive keeps only complete lines (every line
//! parses, the file holds exactly the spans the summary says were archived),
//! the run exits non-zero and says how many spans were archived.

mod support;
mod support_reliability;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use support::{Workdir, console, run};
use support_reliability::{AGENTO, STAGES, offline};

#[test]
fn a_full_disk_cuts_the_archive_to_whole_lines_and_fails_the_run() {
    // A complete run first, for the archive's size.
    let work = Workdir::bakery();
    let complete = run(&mut offline(&work));
    assert!(complete.status.success(), "{}", console(&complete));
    let full_size = std::fs::metadata(&work.archives()[0]).unwrap().len();
    let total = work.archive().traces[0].spans.len();

    let work = Workdir::bakery();
    // Room for about three quarters of the archive (in 1024-byte blocks).
    let blocks = full_size * 3 / 4 / 1024;
    let output = run(work
        .command("bash")
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f {blocks}; exec \"$0\" run --offline --goal goal.json --quiet"
        ))
        .arg(AGENTO));
    let text = console(&output);
    assert_ne!(output.status.code(), Some(0), "{text}");
    assert!(!text.contains("panicked"), "{text}");

    let archives = work.archives();
    assert_eq!(archives.len(), 1, "{text}");
    let bytes = std::fs::read(&archives[0]).unwrap();
    assert!(
        bytes.is_empty() || bytes.ends_with(b"\n"),
        "the file ends mid-line"
    );
    assert!(bytes.len() as u64 <= blocks * 1024);
    // Every line is a whole request, read with the official OTLP types.
    let archived: usize = String::from_utf8(bytes)
        .expect("UTF-8")
        .lines()
        .map(|line| {
            let request: ExportTraceServiceRequest =
                serde_json::from_str(line).expect("every line parses");
            request
                .resource_spans
                .iter()
                .flat_map(|r| &r.scope_spans)
                .map(|s| s.spans.len())
                .sum::<usize>()
        })
        .sum();
    assert!(archived < total, "{archived} of {total}");
    let summary = format!(
        "{} is incomplete: {archived} of {total} spans were archived, {} could not be written \
         (File too large (os error 27))",
        archives[0].file_name().unwrap().to_string_lossy(),
        total - archived
    );
    assert!(text.contains("error: the trace archive "), "{text}");
    assert!(text.contains(&summary), "expected {summary:?} in:\n{text}");
    println!(
        "limit {} bytes: {archived} of {total} spans archived",
        blocks * 1024
    );
}

#[test]
fn a_stage_binary_on_a_full_disk_fails_too() {
    let stage = |work: &Workdir, limit: Option<u64>| {
        let limit = limit.map_or_else(|| "unlimited".to_owned(), |blocks| blocks.to_string());
        run(work
            .command("bash")
            .arg("-c")
            .arg(format!(
                "trap '' XFSZ; ulimit -f {limit}; exec \"$0\" --offline --goal goal.json --quiet"
            ))
            .arg(STAGES[0]))
    };
    let work = Workdir::bakery();
    let complete = stage(&work, None);
    assert!(complete.status.success(), "{}", console(&complete));
    let full_size = std::fs::metadata(&work.archives()[0]).unwrap().len();

    let work = Workdir::bakery();
    let output = stage(&work, Some(full_size / 2 / 1024));
    let text = console(&output);
    assert_ne!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("error: the trace archive "), "{text}");
    assert!(text.contains(" is incomplete: "), "{text}");
    let archived = std::fs::read_to_string(&work.archives()[0]).unwrap();
    for line in archived.lines() {
        serde_json::from_str::<ExportTraceServiceRequest>(line).expect("every line parses");
    }
}
