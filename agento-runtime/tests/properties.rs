//! Property tests (proptest) of the parsers and filters that see untrusted
//! input: the context carrier, truncation and scrubbing. `scripts/fuzz.sh`
//! runs them longer (and the cargo-fuzz targets in `fuzz/` where a nightly
//! toolchain exists).

use agento_runtime::RunId;
use agento_runtime::carrier::{Carrier, CarrierRead};
use agento_runtime::secrets::{REDACTED, Scrubber};
use agento_runtime::truncate::{KEEP_CHARS, LIMIT_CHARS, MARKER, truncate};
use opentelemetry::Context;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(256),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_carrier_bytes_parse_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Carrier::parse(&bytes);
    }

    #[test]
    fn json_shaped_garbage_is_never_a_valid_carrier(version in any::<u32>(), traceparent in ".{0,64}", run in ".{0,30}") {
        let text = serde_json::json!({"version": version, "traceparent": traceparent, "run_id": run, "archive": "x"}).to_string();
        let loaded = matches!(Carrier::parse(text.as_bytes()), CarrierRead::Loaded { .. });
        prop_assert!(!loaded, "{}", text);
    }

    #[test]
    fn carriers_round_trip(trace in 1..u128::MAX, span in 1..u64::MAX, sampled in any::<bool>(), micros in 0..4_000_000_000_000_000_i64) {
        let flags = if sampled { TraceFlags::SAMPLED } else { TraceFlags::default() };
        let context = SpanContext::new(TraceId::from(trace), SpanId::from(span), flags, false, TraceState::default());
        let cx = Context::new().with_remote_span_context(context);
        let time = chrono::DateTime::from_timestamp_micros(micros).unwrap_or_default();
        let carrier = Carrier::for_context(&cx, &RunId::at(time));
        let bytes = serde_json::to_vec(&carrier).unwrap();
        match Carrier::parse(&bytes) {
            CarrierRead::Loaded { context, .. } => {
                prop_assert_eq!(context.span().span_context().trace_id(), TraceId::from(trace));
                prop_assert_eq!(context.span().span_context().span_id(), SpanId::from(span));
            }
            other => prop_assert!(false, "{other:?}"),
        }
    }

    #[test]
    fn truncation_keeps_a_character_prefix_and_the_true_length(text in "(\\PC|[é日𝄞]){0,9000}", pad in 0..400_usize) {
        let text = format!("{text}{}", "ü".repeat(pad));
        let chars = text.chars().count();
        let cut = truncate(&text);
        prop_assert_eq!(cut.original_chars, chars);
        if chars <= LIMIT_CHARS {
            prop_assert!(!cut.truncated);
            prop_assert_eq!(cut.text.as_ref(), text.as_str());
        } else {
            prop_assert!(cut.truncated);
            let kept: String = text.chars().take(KEEP_CHARS).collect();
            prop_assert_eq!(cut.text.as_ref(), format!("{kept}{MARKER}"));
        }
    }

    #[test]
    fn a_secret_never_survives_scrubbing(before in "\\PC{0,80}", after in "\\PC{0,80}", secret in "[A-Za-z0-9_.\\-]{6,40}") {
        let scrubber = Scrubber::with_secrets([secret.clone()]);
        let text = format!("{before}{secret}{after}");
        let clean = scrubber.scrub(&text);
        prop_assert!(!clean.contains(&secret) || REDACTED.contains(&secret), "{clean}");
        let again = scrubber.scrub(&clean).into_owned();
        prop_assert_eq!(again, clean.into_owned(), "scrubbing is idempotent");
    }

    #[test]
    fn truncated_then_scrubbed_text_holds_no_key_shape(prefix in "\\PC{0,9000}", key in "sk-[A-Za-z0-9]{20,40}") {
        let scrubber = Scrubber::with_secrets(Vec::<String>::new());
        let text = format!("{prefix} {key} ");
        let cut = truncate(&text);
        let clean = scrubber.scrub(&cut.text);
        prop_assert!(!clean.contains(&key));
    }
}
