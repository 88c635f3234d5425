//! Recording errors on spans: one function, [`record_error`], used by every
//! macro and by the pipeline.
//!
//! A recorded error gives the span status `ERROR` with the message, an
//! `error.type` attribute and an `exception` event (`exception.type`,
//! `exception.message`), as the OpenTelemetry exception conventions ask.

use std::borrow::Cow;
use std::fmt::Display;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::trace::{SpanRef, Status};

use crate::attributes::ERROR_TYPE;
use crate::truncate::truncate;

/// The name of the exception event.
pub const EXCEPTION_EVENT: &str = "exception";

/// Extra facts an error type can tell the instrumentation.
///
/// Implementing it is optional: without it, `error.type` is the Rust type name
/// and no Retry-After is honoured.
///
/// ```
/// use std::{borrow::Cow, time::Duration};
/// struct RateLimited { wait: Duration }
/// impl agento_runtime::ErrorInfo for RateLimited {
///     fn error_type(&self) -> Cow<'static, str> { "rate_limited".into() }
///     fn retry_after(&self) -> Option<Duration> { Some(self.wait) }
/// }
/// ```
pub trait ErrorInfo {
    /// A low-cardinality class for `error.type` (`"http.429"`, `"timeout"`).
    fn error_type(&self) -> Cow<'static, str>;
    /// How long the server asked us to wait before retrying.
    fn retry_after(&self) -> Option<Duration> {
        None
    }
}

/// Marks the span failed: status `ERROR` with `message`, `error.type`, and an
/// `exception` event. Long messages are truncated; secrets are scrubbed on export.
///
/// ```
/// use opentelemetry::trace::TraceContextExt;
/// let cx = opentelemetry::Context::current();
/// agento_runtime::record_error(&cx.span(), "io", "disk full");
/// ```
pub fn record_error(span: &SpanRef<'_>, error_type: &str, message: &str) {
    let message = truncate(message).text.into_owned();
    span.set_attribute(KeyValue::new(ERROR_TYPE, error_type.to_owned()));
    span.add_event(
        EXCEPTION_EVENT,
        vec![
            KeyValue::new("exception.type", error_type.to_owned()),
            KeyValue::new("exception.message", message.clone()),
        ],
    );
    span.set_status(Status::error(message));
}

/// What the instrumentation knows of one failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorReport {
    /// The `error.type` value.
    pub error_type: Cow<'static, str>,
    /// The message (the error's `Display`).
    pub message: String,
    /// The delay the server asked for, if any.
    pub retry_after: Option<Duration>,
}

impl ErrorReport {
    /// A report for an error of type `E` shown with `Display`.
    ///
    /// ```
    /// let report = agento_runtime::ErrorReport::of(&std::fmt::Error);
    /// assert_eq!(report.error_type, "core::fmt::Error");
    /// ```
    pub fn of<E: Display + ?Sized>(error: &E) -> Self {
        Self {
            error_type: Cow::Borrowed(std::any::type_name::<E>()),
            message: error.to_string(),
            retry_after: None,
        }
    }

    /// Records this report on `span` with [`record_error`].
    pub fn record(&self, span: &SpanRef<'_>) {
        record_error(span, &self.error_type, &self.message);
    }
}

/// Autoref-specialised probes that let generated code use [`ErrorInfo`] and
/// `Display` when an error type has them, without bounding the user's types.
///
/// `(&Probe(&error)).error_type()` uses [`ErrorInfo`] when `E` implements it and
/// falls back to the type name otherwise; likewise for the message and the
/// Retry-After. The explicit `&` is what selects: the specialised impls are on
/// `Probe` (found with the receiver as written), the fallbacks on `&Probe`
/// (found only after auto-referencing), so this works on concrete types only.
///
/// ```
/// use agento_runtime::__private::probe::{Probe, TypeFallback, MessageFallback};
/// struct Opaque;
/// # #[allow(clippy::needless_borrow)]
/// assert!((&Probe(&Opaque)).error_type().ends_with("Opaque"));
/// assert!((&Probe(&Opaque)).error_message().contains("Opaque"));
/// ```
pub mod probe {
    use std::borrow::Cow;
    use std::fmt::Display;
    use std::time::Duration;

    use super::{ErrorInfo, ErrorReport};

    /// Wraps a reference to an error for method-resolution-based dispatch.
    pub struct Probe<'a, E: ?Sized>(pub &'a E);

    /// Chosen when the error implements [`ErrorInfo`].
    pub trait TypeViaInfo {
        /// `error.type`.
        fn error_type(&self) -> Cow<'static, str>;
        /// The Retry-After, if any.
        fn retry_after(&self) -> Option<Duration>;
    }
    impl<E: ErrorInfo + ?Sized> TypeViaInfo for Probe<'_, E> {
        fn error_type(&self) -> Cow<'static, str> {
            self.0.error_type()
        }
        fn retry_after(&self) -> Option<Duration> {
            self.0.retry_after()
        }
    }

    /// Chosen otherwise: the Rust type name and no Retry-After.
    pub trait TypeFallback {
        /// `error.type`.
        fn error_type(&self) -> Cow<'static, str>;
        /// The Retry-After, if any.
        fn retry_after(&self) -> Option<Duration>;
    }
    impl<E: ?Sized> TypeFallback for &Probe<'_, E> {
        fn error_type(&self) -> Cow<'static, str> {
            Cow::Borrowed(std::any::type_name::<E>())
        }
        fn retry_after(&self) -> Option<Duration> {
            None
        }
    }

    /// Chosen when the error implements `Display`.
    pub trait MessageViaDisplay {
        /// The message.
        fn error_message(&self) -> String;
    }
    impl<E: Display + ?Sized> MessageViaDisplay for Probe<'_, E> {
        fn error_message(&self) -> String {
            self.0.to_string()
        }
    }

    /// Chosen otherwise: names the type.
    pub trait MessageFallback {
        /// The message.
        fn error_message(&self) -> String;
    }
    impl<E: ?Sized> MessageFallback for &Probe<'_, E> {
        fn error_message(&self) -> String {
            format!("an error of type {}", std::any::type_name::<E>())
        }
    }

    /// Builds an [`ErrorReport`] from the probe results.
    pub fn report(
        error_type: Cow<'static, str>,
        message: String,
        retry_after: Option<Duration>,
    ) -> ErrorReport {
        ErrorReport {
            error_type,
            message,
            retry_after,
        }
    }
}

#[cfg(test)]
// The borrow in `(&Probe(&e))` selects the impl (see `probe`).
#[allow(clippy::needless_borrow)]
mod tests {
    use super::probe::*;
    use super::*;

    #[derive(Debug)]
    struct Limited;
    impl Display for Limited {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("slow down")
        }
    }
    impl ErrorInfo for Limited {
        fn error_type(&self) -> Cow<'static, str> {
            "http.429".into()
        }
        fn retry_after(&self) -> Option<Duration> {
            Some(Duration::from_secs(2))
        }
    }

    #[test]
    fn probe_prefers_error_info_and_display() {
        let e = Limited;
        assert_eq!((&Probe(&e)).error_type(), "http.429");
        assert_eq!((&Probe(&e)).retry_after(), Some(Duration::from_secs(2)));
        assert_eq!((&Probe(&e)).error_message(), "slow down");
    }

    #[test]
    fn probe_falls_back_to_the_type_name() {
        let e = std::io::Error::other("boom");
        assert_eq!((&Probe(&e)).error_type(), "std::io::error::Error");
        assert_eq!((&Probe(&e)).retry_after(), None);
        assert_eq!((&Probe(&e)).error_message(), "boom");
    }
}
