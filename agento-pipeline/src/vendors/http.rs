//! The HTTP exchange every client shares: send JSON with the key in a
//! sensitive header, map transport failures and error statuses to
//! [`VendorError`], decode the body. Every message that goes into an error is
//! cleaned of the key first.

use std::time::{Duration, SystemTime};

use agento::secrets::{REDACTED, scrub};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::params::{temperature_var, unsupported_parameter};
use super::{Vendor, VendorConfig, VendorError};

/// OpenAI's finer-grained companion of `Retry-After`, in milliseconds.
const RETRY_AFTER_MS: HeaderName = HeaderName::from_static("retry-after-ms");

/// How much of a non-JSON error body goes into the error message.
const MAX_RAW_MESSAGE_CHARS: usize = 300;

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

/// A header value holding a secret: marked sensitive, so that `Debug` of the
/// request (and anything built on it) never prints it.
pub(super) fn secret_header(vendor: Vendor, value: &str) -> Result<HeaderValue, VendorError> {
    let mut header = HeaderValue::from_str(value).map_err(|_| VendorError::Setup {
        vendor,
        message: format!(
            "the API key in {} is not a valid HTTP header value",
            super::config::key_var(vendor)
        ),
    })?;
    header.set_sensitive(true);
    Ok(header)
}

/// The vendor's own message in an error body (`{"error": {"message": …}}`,
/// the shape all three vendors use), for error answers and stream error events.
pub(super) fn vendor_message(body: &serde_json::Value) -> Option<&str> {
    body.pointer("/error/message")?.as_str()
}

/// A call ready to send: the request (URL and headers set), its JSON body,
/// and the exchange that sends it.
pub(super) struct Prepared<'a> {
    /// The request, URL and headers set.
    pub http: reqwest::RequestBuilder,
    /// The JSON body.
    pub body: serde_json::Value,
    /// How to send it and read errors.
    pub exchange: Exchange<'a>,
}

impl Prepared<'_> {
    /// Sends the call and decodes the whole answer as `T` (see
    /// [`Exchange::post`]).
    pub(super) async fn post<T: DeserializeOwned>(self) -> Result<T, VendorError> {
        self.exchange.post(self.http, &self.body).await
    }
}

/// What the shared exchange needs to know of a call besides the request
/// itself: whom it goes to, with which key and limits.
pub(super) struct Exchange<'a> {
    /// The vendor called.
    pub vendor: Vendor,
    /// The key sent, scrubbed from every message.
    pub key: &'a str,
    /// The client's settings (timeout, reply bound, retry-wait cap, model).
    pub config: &'a VendorConfig,
}

impl Exchange<'_> {
    /// Sends `request` (URL and headers set) with `body` as JSON and decodes
    /// the answer as `T`. The reply is read as a stream and refused beyond
    /// `max_reply_bytes`.
    pub(super) async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        body: &B,
    ) -> Result<T, VendorError> {
        let response = self.send(request, body).await?;
        let bytes = self.read_bounded(response).await?;
        serde_json::from_slice(&bytes).map_err(|error| VendorError::Decode {
            vendor: self.vendor,
            message: format!("{error} (in a {}-byte body)", bytes.len()),
        })
    }

    /// Sends `request` with `body` as JSON and returns a successful response
    /// unread (a stream reads it as it comes). An error status becomes
    /// [`VendorError::Http`] with the delay the vendor asked for (headers or
    /// Gemini's `RetryInfo`), or one of the more specific errors of
    /// [`Self::status_error`].
    pub(super) async fn send<B: Serialize + ?Sized>(
        &self,
        request: reqwest::RequestBuilder,
        body: &B,
    ) -> Result<reqwest::Response, VendorError> {
        let response = request
            .json(body)
            .send()
            .await
            .map_err(|error| self.transport(&error))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let header_hint = retry_after(response.headers(), SystemTime::now());
        let bytes = self.read_bounded(response).await?;
        Err(self.status_error(status, header_hint, &bytes))
    }

    /// The body, at most `max_reply_bytes` of it: a longer one (by its
    /// `Content-Length` or as it streams in) is [`VendorError::TooLarge`].
    async fn read_bounded(&self, mut response: reqwest::Response) -> Result<Vec<u8>, VendorError> {
        let limit = self.config.max_reply_bytes;
        let too_large = || VendorError::TooLarge {
            vendor: self.vendor,
            limit,
        };
        if response
            .content_length()
            .is_some_and(|length| length > u64::try_from(limit).unwrap_or(u64::MAX))
        {
            return Err(too_large());
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| self.transport(&error))?
        {
            if bytes.len().saturating_add(chunk.len()) > limit {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    /// The error of a non-success answer.
    fn status_error(
        &self,
        status: reqwest::StatusCode,
        header_hint: Option<Duration>,
        bytes: &[u8],
    ) -> VendorError {
        let body = serde_json::from_slice::<serde_json::Value>(bytes).ok();
        let message = body.as_ref().and_then(vendor_message).map_or_else(
            || {
                let text = String::from_utf8_lossy(bytes);
                let text = text.trim();
                if text.is_empty() {
                    status
                        .canonical_reason()
                        .unwrap_or("no error message")
                        .to_owned()
                } else {
                    text.chars().take(MAX_RAW_MESSAGE_CHARS).collect()
                }
            },
            str::to_owned,
        );
        let message = self.clean(&message);
        let vendor = self.vendor;
        let status = status.as_u16();
        if status == 400 {
            let named = body
                .as_ref()
                .and_then(|body| body.pointer("/error/param")?.as_str())
                .filter(|param| *param == "temperature")
                .or_else(|| unsupported_parameter(&message));
            if let Some(parameter) = named {
                return VendorError::UnsupportedParameter {
                    vendor,
                    model: self.config.model.clone(),
                    parameter: parameter.to_owned(),
                    var: temperature_var(vendor).to_owned(),
                    message,
                };
            }
        }
        let retry_after = header_hint.or_else(|| body.as_ref().and_then(retry_info));
        if let Some(asked) = retry_after
            && asked > self.config.max_retry_wait
            && (status == 408 || status == 429 || status >= 500)
        {
            return VendorError::WaitTooLong {
                vendor,
                status,
                message,
                asked,
                cap: self.config.max_retry_wait,
            };
        }
        VendorError::Http {
            vendor,
            status,
            message,
            retry_after,
        }
    }

    pub(super) fn transport(&self, error: &reqwest::Error) -> VendorError {
        let vendor = self.vendor;
        if error.is_timeout() {
            return VendorError::Timeout {
                vendor,
                timeout: self.config.timeout,
            };
        }
        // reqwest errors name the URL, never the headers (where the keys are).
        let mut message = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        let message = self.clean(&message);
        if error.is_decode() || error.is_body() {
            // Bodies are read as bytes, so this is a connection that broke
            // off mid-answer (a truncated body): transient, like a reset.
            return VendorError::Connect {
                vendor,
                message: format!("the answer broke off: {message}"),
            };
        }
        VendorError::Connect { vendor, message }
    }

    /// `text` without the key (vendors echo keys in "invalid key" messages)
    /// or anything else the process-wide scrubber knows to be secret.
    pub(super) fn clean(&self, text: &str) -> String {
        let text = if self.key.is_empty() {
            text.to_owned()
        } else {
            text.replace(self.key, REDACTED)
        };
        scrub(&text).into_owned()
    }
}

/// The delay a server asked for: OpenAI's `retry-after-ms`, else
/// `Retry-After` as seconds or as an HTTP date (RFC 9110 §10.2.3).
fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = |name: &HeaderName| headers.get(name)?.to_str().ok().map(str::trim);
    if let Some(millis) = text(&RETRY_AFTER_MS).and_then(|v| v.parse::<f64>().ok())
        && millis.is_finite()
        && millis >= 0.0
    {
        return Some(Duration::from_secs_f64(millis / 1000.0));
    }
    let value = text(&RETRY_AFTER)?;
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The delay of a `google.rpc.RetryInfo` entry in `error.details` (Gemini
/// puts its rate-limit hint there, not in a header): a protobuf Duration in
/// its JSON form, `"12s"`, `"0.5s"`.
fn retry_info(body: &serde_json::Value) -> Option<Duration> {
    body.pointer("/error/details")?
        .as_array()?
        .iter()
        .filter(|detail| {
            detail
                .get("@type")
                .and_then(serde_json::Value::as_str)
                .is_some_and(|kind| kind.ends_with("google.rpc.RetryInfo"))
        })
        .find_map(|detail| protobuf_duration(detail.get("retryDelay")?.as_str()?))
}

/// A protobuf Duration in JSON (`"12s"`, `"0.5s"`, `"1.000340012s"`).
fn protobuf_duration(text: &str) -> Option<Duration> {
    let secs: f64 = text.trim().strip_suffix('s')?.parse().ok()?;
    (secs >= 0.0).then(|| Duration::try_from_secs_f64(secs).ok())?
}

/// The key, or the error saying which variable to set.
pub(super) fn key(vendor: Vendor, key: Option<&str>) -> Result<&str, VendorError> {
    key.ok_or(VendorError::MissingKey {
        vendor,
        var: super::config::key_var(vendor),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (
                    HeaderName::from_static(name),
                    HeaderValue::from_static(value),
                )
            })
            .collect()
    }

    #[test]
    fn retry_after_as_seconds_date_or_milliseconds() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(
            retry_after(&headers(&[("retry-after", "7")]), now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(
                &headers(&[("retry-after", "Sun, 06 Nov 1994 08:50:07 GMT")]),
                now
            ),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            retry_after(
                &headers(&[("retry-after", "Sun, 06 Nov 1994 08:00:00 GMT")]),
                now
            ),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        assert_eq!(
            retry_after(
                &headers(&[("retry-after", "20"), ("retry-after-ms", "1500")]),
                now
            ),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")]), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn gemini_retry_info_in_the_body() {
        let body = serde_json::json!({"error": {"code": 429, "message": "Please retry in 12.4s.",
            "status": "RESOURCE_EXHAUSTED", "details": [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "12s"}]}});
        assert_eq!(retry_info(&body), Some(Duration::from_secs(12)));
        assert_eq!(protobuf_duration("0.5s"), Some(Duration::from_millis(500)));
        assert_eq!(protobuf_duration("1e400s"), None);
        assert_eq!(protobuf_duration("-3s"), None);
        assert_eq!(protobuf_duration("12"), None);
        assert_eq!(
            retry_info(&serde_json::json!({"error": {"message": "x"}})),
            None
        );
    }

    #[test]
    fn a_key_that_cannot_be_a_header_is_a_setup_error_without_the_key() {
        let error = secret_header(Vendor::OpenAi, "sk-line\nbreak-secret").unwrap_err();
        assert!(matches!(error, VendorError::Setup { .. }));
        assert!(!format!("{error} {error:?}").contains("break-secret"));
        assert!(error.to_string().contains("OPENAI_API_KEY"));
    }

    #[test]
    fn secret_headers_are_hidden_from_debug() {
        let header = secret_header(Vendor::Gemini, "visible-or-not-123").unwrap();
        assert!(header.is_sensitive());
        assert!(!format!("{header:?}").contains("visible-or-not-123"));
    }
}
