//! Configuration values that once panicked or were silently ignored, and the
//! live-export messages: each case is a real `agento run --offline`.
//!
//! - a malformed collector URL: one warning naming the variable, the run
//!   completes with live export off and a complete archive;
//! - malformed numbers, switches, header and resource lists: one warning each,
//!   naming the variable and what it accepts; no key-less resource attribute;
//! - no collector listening: an exit line a new user reads at a glance;
//! - `http/json`: the bytes a loopback server receives are one-line JSON that
//!   parses as the official `ExportTraceServiceRequest`.

mod support;
mod support_reliability;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use support::{Workdir, console, only_trace, run};
use support_reliability::{OUTPUTS, archives_parse, closed_port, offline};

fn assert_complete_run(work: &Workdir, text: &str) -> usize {
    for output in OUTPUTS {
        assert!(work.data().join(output).is_file(), "{output}: {text}");
    }
    let archive = work.archive();
    let trace = only_trace(&archive);
    assert!(
        trace
            .spans
            .iter()
            .any(|s| s.name == "agento.pipeline" && s.parent_span_id.is_empty()),
        "no root: {text}"
    );
    trace.spans.len()
}

#[test]
fn a_malformed_collector_url_is_one_warning_and_the_run_completes() {
    for (name, value) in [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "::not a url"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "not-a-url"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://exa mple.com"),
    ] {
        let work = Workdir::bakery();
        let output = run(offline(&work)
            .env("OTEL_TRACES_EXPORTER", "otlp")
            .env(name, value));
        let text = console(&output);
        assert_eq!(output.status.code(), Some(0), "{name}={value}: {text}");
        assert!(!text.contains("panicked"), "{text}");
        let warning = format!("agento: warning: {name}={value:?} is not a collector URL (");
        assert_eq!(text.matches(&warning).count(), 1, "{name}={value}: {text}");
        assert!(
            text.contains("live export is off, the archive is still written"),
            "{text}"
        );
        assert!(assert_complete_run(&work, &text) > 50, "{text}");
    }
}

#[test]
fn malformed_variables_warn_once_each_and_change_nothing_else() {
    let work = Workdir::bakery();
    let cases = [
        (
            "AGENTO_ARCHIVE",
            "maybe",
            "AGENTO_ARCHIVE=maybe is not on or off; using on",
        ),
        (
            "OTEL_SDK_DISABLED",
            "yes",
            "OTEL_SDK_DISABLED=yes is not true or false; using false",
        ),
        (
            "OTEL_EXPORTER_OTLP_TIMEOUT",
            "abc",
            "OTEL_EXPORTER_OTLP_TIMEOUT=abc is not a whole number from 1 to 600000; using 10000",
        ),
        (
            "AGENTO_SHUTDOWN_TIMEOUT_MS",
            "1e300",
            "AGENTO_SHUTDOWN_TIMEOUT_MS=1e300 is not a whole number from 0 to 600000; using 2000",
        ),
        (
            "AGENTO_ARCHIVE_BUFFER_SPANS",
            "18446744073709551616",
            "AGENTO_ARCHIVE_BUFFER_SPANS=18446744073709551616 is not a whole number from 1 to 1048576; using 16384",
        ),
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            "authorization",
            "OTEL_EXPORTER_OTLP_HEADERS: entry 1 is not key=value; it is dropped",
        ),
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            "=x,team=blue",
            "OTEL_RESOURCE_ATTRIBUTES: entry 1 has no key; it is dropped",
        ),
    ];
    let mut command = offline(&work);
    for (name, value, _) in cases {
        command.env(name, value);
    }
    let output = run(&mut command);
    let text = console(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    for (name, _, warning) in cases {
        assert_eq!(
            text.matches(&format!("agento: warning: {warning}")).count(),
            1,
            "{name}: {text}"
        );
    }
    assert_eq!(
        text.matches("agento: warning:").count(),
        cases.len(),
        "{text}"
    );
    assert_complete_run(&work, &text);
    let archived = archives_parse(&work);
    assert!(
        !archived.contains(r#"{"key":"""#),
        "a key-less attribute was archived"
    );
    assert!(archived.contains(r#"{"key":"team","value":{"stringValue":"blue"}}"#));
}

#[test]
fn with_no_collector_listening_the_exit_line_says_so_in_plain_words() {
    for protocol in ["grpc", "http/protobuf", "http/json"] {
        let work = Workdir::bakery();
        let endpoint = format!("http://127.0.0.1:{}", closed_port());
        let output = run(offline(&work)
            .env("OTEL_TRACES_EXPORTER", "otlp")
            .env("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint));
        let text = console(&output);
        assert_eq!(output.status.code(), Some(0), "{text}");
        let spans = assert_complete_run(&work, &text);
        let url = match protocol {
            "grpc" => endpoint.clone(),
            _ => format!("{endpoint}/v1/traces"),
        };
        let line = format!(
            "agento: telemetry: no collector listens at {url} (OTLP {protocol}): {spans} spans \
             were not exported; the archive {} has all {spans} spans. To stop trying, set \
             OTEL_TRACES_EXPORTER=none\n",
            work.archives()[0].display()
        );
        assert!(
            String::from_utf8_lossy(&output.stderr).contains(&line),
            "expected {line:?} in:\n{text}"
        );
        assert!(!text.contains("TonicTracesClient"), "{text}");
    }
}

/// A loopback OTLP/HTTP receiver keeping every request body.
fn http_receiver() -> (String, Arc<Mutex<Vec<Vec<u8>>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&bodies);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let kept = Arc::clone(&kept);
            std::thread::spawn(move || serve(stream, &kept));
        }
    });
    (endpoint, bodies)
}

/// Answers each request on `stream` with `200 {}`, keeping its body.
fn serve(stream: TcpStream, kept: &Mutex<Vec<Vec<u8>>>) {
    let mut reader = BufReader::new(stream.try_clone().expect("the stream clones"));
    let mut writer = stream;
    loop {
        let mut length = 0;
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        kept.lock().unwrap().push(body);
        let reply =
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
        if writer.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

#[test]
fn http_json_export_sends_one_line_bodies() {
    let (endpoint, bodies) = http_receiver();
    let work = Workdir::bakery();
    let output = run(offline(&work)
        .env("OTEL_TRACES_EXPORTER", "otlp")
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
        .env("AGENTO_TELEMETRY_REPORT", "always"));
    let text = console(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    let spans = assert_complete_run(&work, &text);
    let bodies = bodies.lock().unwrap();
    assert!(!bodies.is_empty(), "{text}");
    let (mut received, mut compact, mut pretty) = (0, 0, 0);
    for body in bodies.iter() {
        // No newline, so no indentation either.
        assert!(!body.contains(&b'\n'), "a body spans several lines");
        let request: ExportTraceServiceRequest =
            serde_json::from_slice(body).expect("the body is an ExportTraceServiceRequest");
        received += request
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len())
            .sum::<usize>();
        compact += body.len();
        pretty += serde_json::to_string_pretty(&request).unwrap().len();
    }
    assert_eq!(received, spans, "{text}");
    println!("http/json: {compact} bytes sent for {spans} spans ({pretty} pretty-printed)");
}
