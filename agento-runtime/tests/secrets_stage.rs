//! The secrets stage end to end in one process: a processor added with
//! `with_span_processor` and the archive both receive only scrubbed spans;
//! a secret across the 8,000-character cut leaves no prefix; credential
//! shapes are replaced while ordinary hyphenated words and "bearer bonds" stay.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use agento_runtime::Config;
use agento_runtime::secrets::register_secret;
use agento_runtime::truncate::KEEP_CHARS;
use agento_runtime::{SpanGuard, SpanKind, Telemetry};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};

/// A user's processor: keeps every span it is given at its end, as text.
#[derive(Debug, Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl SpanProcessor for Seen {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}
    fn on_end(&self, span: SpanData) {
        self.0.lock().unwrap().push(format!(
            "{} {:?} {:?} {:?}",
            span.name, span.attributes, span.events.events, span.status
        ));
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

#[test]
fn every_processor_sees_scrubbed_spans_and_the_cut_never_splits_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_owned();
    let config = Config::from_lookup(|name| match name {
        "AGENTO_DATA_DIR" => Some(data.display().to_string()),
        "OTEL_TRACES_EXPORTER" => Some("none".to_owned()),
        _ => None,
    });
    let vault = "vault-registered-value-5e6f7a8b9c";
    register_secret(vault);
    let github = format!("ghp_{}", "a1B2c3D4e5".repeat(4));
    let fine_grained = format!("github_pat_11ABCDEFG0_{}", "xYz123".repeat(10));
    let slack = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOp";
    let aws = "AKIAIOSFODNN7EXAMPLE";
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    let openai = "sk-proj-AbC123xyz789DEF456ghi";
    let anthropic = "sk-ant-api03-AbC123xyz789DEF456ghi";
    let secrets = [
        vault,
        github.as_str(),
        fine_grained.as_str(),
        slack,
        aws,
        jwt,
        openai,
        anthropic,
    ];
    let prose = "risk-assessment and task-management of bearer bonds";

    let seen = Seen::default();
    let telemetry = Telemetry::builder()
        .config(config)
        .new_run(true)
        .handle_signals(false)
        .with_span_processor(seen.clone())
        .init();
    {
        let span = SpanGuard::start(format!("call with {vault}"), SpanKind::Llm);
        span.set_text("gen_ai.prompt", &format!("{prose}: {}", secrets.join(" ")));
        // The vault value across the cut: its first 10 characters before it.
        let long = format!("{}{vault}{}", "a".repeat(KEEP_CHARS - 10), "b".repeat(1000));
        span.set_text("gen_ai.response.content", &long);
        span.add_event(
            "retry",
            vec![KeyValue::new("detail", format!("key {openai}"))],
        );
        span.record_error(
            "http.401",
            &format!("Incorrect API key provided: {anthropic}"),
        );
    }
    let archive = telemetry.archive_path().unwrap().to_owned();
    telemetry.shutdown();

    let seen = seen.0.lock().unwrap().join("\n");
    let archived = std::fs::read_to_string(archive).unwrap();
    for (what, text) in [("the user's processor", &seen), ("the archive", &archived)] {
        assert!(text.contains(prose), "{what} keeps ordinary words: {text}");
        assert!(text.contains("[REDACTED]"), "{what}");
        for secret in secrets {
            assert!(!text.contains(secret), "{what} got {secret}");
        }
        // Nothing of the vault value survives the cut: not even its start.
        assert!(
            !text.contains(&vault[..6]),
            "{what} kept a prefix of the secret"
        );
        for shape in [
            "ghp_",
            "github_pat_",
            "xoxb-",
            "AKIA",
            "eyJhbGci",
            "sk-proj-",
            "sk-ant-",
        ] {
            assert!(!text.contains(shape), "{what} kept {shape}");
        }
    }
}
