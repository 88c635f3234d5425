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
    /// The vendor asked to wait longer before retrying than
    /// `AGENTO_MAX_RETRY_WAIT_SECS` allows: not retried.
    #[error(
        "{vendor} answered HTTP {status} and asked to wait {}s before retrying, more than AGENTO_MAX_RETRY_WAIT_SECS={}s allows: {message}",
        asked.as_secs_f64(), cap.as_secs_f64()
    )]
    WaitTooLong {
        /// The vendor.
        vendor: Vendor,
        /// The HTTP status.
        status: u16,
        /// The vendor's own error message.
        message: String,
        /// The delay the vendor asked for.
        asked: Duration,
        /// The configured maximum.
        cap: Duration,
    },
    /// The reply was larger than `AGENTO_MAX_REPLY_BYTES`; reading stopped there.
    #[error(
        "{vendor} sent a reply larger than AGENTO_MAX_REPLY_BYTES={limit} bytes; reading stopped at the limit"
    )]
    TooLarge {
        /// The vendor.
        vendor: Vendor,
        /// The limit, in bytes.
        limit: usize,
    },
    /// The model does not take a parameter the request sent (a 400 naming it).
    #[error(
        "{vendor} model {model} does not take `{parameter}` (HTTP 400: {message}); set {var}=none to leave it out"
    )]
    UnsupportedParameter {
        /// The vendor.
        vendor: Vendor,
        /// The model asked.
        model: String,
        /// The parameter, e.g. `temperature`.
        parameter: String,
        /// The variable that leaves it out.
        var: String,
        /// The vendor's own error message.
        message: String,
    },
    /// The vendor blocked the prompt or stopped the answer for a reason other
    /// than its natural end or the token limit (safety, prohibited content,
    /// recitation, refusal, content filter).
    #[error("{vendor} {} (reason {reason}){}", if *prompt { "blocked the prompt" } else { "stopped the answer" }, detail.as_ref().map(|d| format!(": {d}")).unwrap_or_default())]
    Blocked {
        /// The vendor.
        vendor: Vendor,
        /// The vendor's block or finish reason (`SAFETY`, `PROHIBITED_CONTENT`, `refusal`, `content_filter`).
        reason: String,
        /// Whether the prompt was blocked (no answer at all) rather than the answer stopped.
        prompt: bool,
        /// The vendor's explanation, when it gave one.
        detail: Option<String>,
        /// What the vendor did return: usage and response id, for the span.
        reply: Box<super::Reply>,
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
            Self::Decode { .. }
            | Self::MissingKey { .. }
            | Self::Setup { .. }
            | Self::WaitTooLong { .. }
            | Self::TooLarge { .. }
            | Self::UnsupportedParameter { .. }
            | Self::Blocked { .. } => false,
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
            | Self::Setup { vendor, .. }
            | Self::WaitTooLong { vendor, .. }
            | Self::TooLarge { vendor, .. }
            | Self::UnsupportedParameter { vendor, .. }
            | Self::Blocked { vendor, .. } => *vendor,
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
            Self::WaitTooLong { status, .. } => format!("http.{status}").into(),
            Self::TooLarge { .. } => "reply_too_large".into(),
            Self::UnsupportedParameter { .. } => "unsupported_parameter".into(),
            Self::Blocked { reason, .. } => {
                format!("blocked.{}", reason.to_ascii_lowercase()).into()
            }
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Http { retry_after, .. } => *retry_after,
            Self::WaitTooLong { asked, .. } => Some(*asked),
            _ => None,
        }
    }
}
