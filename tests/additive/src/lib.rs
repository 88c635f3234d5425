//! A library instrumented with `agento` that depends on it with
//! `default-features = false`. It records spans exactly when some other crate
//! in the build (the application) turns `agento/enabled` on.

#![warn(missing_docs)]

/// A step of a library: a span named `library_step` when telemetry is enabled
/// anywhere in the build.
///
/// ```
/// assert_eq!(agento_additive_lib::library_step("bakery"), "BAKERY");
/// ```
#[agento::step(kind = TOOL, fields(text))]
pub fn library_step(text: &str) -> String {
    text.to_uppercase()
}
