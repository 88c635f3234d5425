//! `enabled` is additive: `agento-additive-lib` depends on `agento` with
//! `default-features = false`, this test crate (the "application") has the
//! default `enabled` on, and so the library's function records its span too.
//! (`tests/disabled.rs` checks the other side: with the feature off in the
//! whole build, the same library records nothing.)
#![cfg(feature = "enabled")]

use agento::attributes;
use opentelemetry::Value;

mod common;

#[test]
fn a_library_without_the_feature_records_when_the_application_enables_it() {
    let (value, spans) = common::record(|| agento_additive_lib::library_step("bakery"));
    assert_eq!(value, "BAKERY");
    let span = common::one(&spans, "library_step");
    assert_eq!(
        common::attr(span, attributes::OPENINFERENCE_SPAN_KIND),
        Some(Value::from("TOOL"))
    );
}
