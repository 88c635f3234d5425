//! The HTTP exchange every client shares: send JSON, map transport failures
//! and error statuses to [`VendorError`], decode the body.

use std::time::Duration;

use reqwest::header::RETRY_AFTER;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Vendor, VendorError};

/// Builds the HTTP client of one vendor.
pub(super) fn client(vendor: Vendor, timeout: Duration) -> Result<reqwest::Client, VendorError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|error| VendorError::Setup {
            vendor,
            message: error.to_string(),
        })
}

/// Posts `body` with `request`'s headers and decodes the answer as `T`.
/// `error_message` extracts the vendor's own message from an error body.
pub(super) async fn post_json<B: Serialize + ?Sized, T: DeserializeOwned>(
    vendor: Vendor,
    request: reqwest::RequestBuilder,
    timeout: Duration,
    body: &B,
    error_message: fn(&serde_json::Value) -> Option<String>,
) -> Result<T, VendorError> {
    let response = request
        .json(body)
        .send()
        .await
        .map_err(|error| transport(vendor, timeout, &error))?;
    let status = response.status();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let bytes = response
        .bytes()
        .await
        .map_err(|error| transport(vendor, timeout, &error))?;
    if !status.is_success() {
        let message = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .as_ref()
            .and_then(error_message)
            .unwrap_or_else(|| {
                let text = String::from_utf8_lossy(&bytes);
                let text = text.trim();
                if text.is_empty() {
                    status
                        .canonical_reason()
                        .unwrap_or("no error message")
                        .to_owned()
                } else {
                    text.chars().take(300).collect()
                }
            });
        return Err(VendorError::Http {
            vendor,
            status: status.as_u16(),
            message,
            retry_after,
        });
    }
    serde_json::from_slice(&bytes).map_err(|error| VendorError::Decode {
        vendor,
        message: format!("{error} (in a {}-byte body)", bytes.len()),
    })
}

fn transport(vendor: Vendor, timeout: Duration, error: &reqwest::Error) -> VendorError {
    if error.is_timeout() {
        return VendorError::Timeout { vendor, timeout };
    }
    // reqwest errors name the URL, never the headers (where the keys are).
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    if error.is_decode() || error.is_body() {
        return VendorError::Decode { vendor, message };
    }
    VendorError::Connect { vendor, message }
}

/// The key, or the error saying which variable to set.
pub(super) fn key(vendor: Vendor, key: Option<&str>) -> Result<&str, VendorError> {
    key.ok_or(VendorError::MissingKey {
        vendor,
        var: super::config::key_var(vendor),
    })
}
