//! [`VendorError`]: what can go wrong in a call, naming the vendor, the HTTP
//! status and the vendor's own message — never a key.

use std::borrow::Cow;
use std::time::Duration;

use agento::ErrorInfo;

use super::Vendor;

/// A failed vendor call.
///
/// ```
/// use agento_pipeline::vendors::{Vendor, VendorError};
/// let e = VendorError::Http { vendor: Vendor::Gemini, status: 503, message: "overloaded".into(), retry_after: None };
/// assert!(e.is_retryable());
/// assert_eq!(e.to_string(), "Gemini answered HTTP 503: overloaded");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VendorError {
    /// The vendor answered with an error status.
    #[error("{vendor} answered HTTP {status}: {message}")]
    Http {
        /// The vendor.
        vendor: Vendor,
        /// The HTTP status.
        status: u16,
        /// The vendor's own error message.
        message: String,
        /// The Retry-After the vendor asked for.
        retry_after: Option<Duration>,
    },
    /// No answer within the request timeout.
    #[error("{vendor} did not answer within {}s", timeout.as_secs_f64())]
    Timeout {
        /// The vendor.
        vendor: Vendor,
        /// The timeout.
        timeout: Duration,
    },
    /// The connection failed or was reset.
    #[error("cannot reach {vendor}: {message}")]
    Connect {
        /// The vendor.
        vendor: Vendor,
        /// What the transport said.
        message: String,
    },
    /// The answer was not the JSON the API documents.
    #[error("{vendor} sent an answer that is not valid: {message}")]
    Decode {
        /// The vendor.
        vendor: Vendor,
        /// What was wrong.
        message: String,
    },
    /// The API key is not set.
    #[error("{vendor} needs an API key: set {var} (or run with --offline)")]
    MissingKey {
        /// The vendor.
        vendor: Vendor,
        /// The variable to set.
        var: &'static str,
    },
    /// The client could not be built (bad base URL, TLS setup).
    #[error("cannot set up the {vendor} client: {message}")]
    Setup {
        /// The vendor.
        vendor: Vendor,
        /// What was wrong.
        message: String,
    },
}

impl VendorError {
    /// Whether retrying may help: 408, 429, 5xx, timeouts and connection
    /// failures; not other 4xx, decoding errors or a missing key.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Http { status, .. } => *status == 408 || *status == 429 || *status >= 500,
            Self::Timeout { .. } | Self::Connect { .. } => true,
            Self::Decode { .. } | Self::MissingKey { .. } | Self::Setup { .. } => false,
        }
    }

    /// The vendor the error is about.
    pub fn vendor(&self) -> Vendor {
        match self {
            Self::Http { vendor, .. }
            | Self::Timeout { vendor, .. }
            | Self::Connect { vendor, .. }
            | Self::Decode { vendor, .. }
            | Self::MissingKey { vendor, .. }
            | Self::Setup { vendor, .. } => *vendor,
        }
    }
}

impl ErrorInfo for VendorError {
    fn error_type(&self) -> Cow<'static, str> {
        match self {
            Self::Http { status, .. } => format!("http.{status}").into(),
            Self::Timeout { .. } => "timeout".into(),
            Self::Connect { .. } => "connect".into(),
            Self::Decode { .. } => "decode".into(),
            Self::MissingKey { .. } => "missing_key".into(),
            Self::Setup { .. } => "setup".into(),
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Http { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}
