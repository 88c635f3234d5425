//! The HTTP client of the OTLP/HTTP exporter: `reqwest`, as the exporter's
//! own default, plus two things the exporter does not do.
//!
//! - **One-line JSON.** `opentelemetry-otlp` serialises `http/json` requests
//!   with `serde_json::to_string_pretty` (2.6 times the bytes of protobuf for
//!   the same spans). A JSON trace request is re-serialised compactly, through
//!   the official `ExportTraceServiceRequest` type, so the body stays exactly
//!   what the exporter meant.
//! - **Knowing that nothing listens.** The exporter reports every transport
//!   failure as "network error"; a failed connection is recorded in
//!   [`Health`] so the exit line can say that nothing listens at the endpoint.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderValue, Request, Response};
use opentelemetry_http::{HttpClient, HttpError};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

use crate::health::Health;

/// The HTTP client could not be built (no TLS backend, a bad setting).
#[derive(Debug, thiserror::Error)]
#[error("cannot build the HTTP client: {0}")]
pub(crate) struct ClientError(#[source] reqwest_otlp::Error);

/// The exporter's HTTP client.
#[derive(Debug, Clone)]
pub(crate) struct ExportClient {
    inner: reqwest_otlp::Client,
    health: Arc<Health>,
}

impl ExportClient {
    /// A client whose requests time out after `timeout` (the exporter's
    /// timeout), reporting failed connections to `health`.
    pub(crate) fn new(timeout: Duration, health: Arc<Health>) -> Result<Self, ClientError> {
        reqwest_otlp::Client::builder()
            .timeout(timeout)
            .build()
            .map(|inner| Self { inner, health })
            .map_err(ClientError)
    }
}

/// `body` re-serialised without whitespace, when it is an uncompressed JSON
/// trace or metrics request; `None` otherwise (the body is then sent as it is).
pub(crate) fn compact(body: &[u8]) -> Option<Vec<u8>> {
    if let Ok(request) = serde_json::from_slice::<ExportTraceServiceRequest>(body) {
        return serde_json::to_vec(&request).ok();
    }
    let request: ExportMetricsServiceRequest = serde_json::from_slice(body).ok()?;
    serde_json::to_vec(&request).ok()
}

#[async_trait::async_trait]
impl HttpClient for ExportClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let is_plain_json = request
            .headers()
            .get(CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
            && !request.headers().contains_key(CONTENT_ENCODING);
        let request = match is_plain_json.then(|| compact(request.body())).flatten() {
            Some(body) => {
                let (mut parts, _) = request.into_parts();
                parts
                    .headers
                    .insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
                Request::from_parts(parts, Bytes::from(body))
            }
            None => request,
        };
        let sent = self.inner.send_bytes(request).await;
        if let Err(error) = &sent
            && error
                .downcast_ref::<reqwest_otlp::Error>()
                .is_some_and(reqwest_otlp::Error::is_connect)
        {
            self.health.collector_unreachable();
        }
        sent
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

    #[test]
    fn a_pretty_request_comes_out_on_one_line_and_unchanged() {
        let span = Span {
            trace_id: vec![1; 16],
            span_id: vec![2; 8],
            name: "agento.pipeline \"quoted\"\nline".to_owned(),
            start_time_unix_nano: 1_700_000_000_000_000_000,
            attributes: vec![KeyValue {
                key: "gen_ai.usage.input_tokens".to_owned(),
                value: Some(AnyValue {
                    value: Some(any_value::Value::IntValue(42)),
                }),
                ..KeyValue::default()
            }],
            ..Span::default()
        };
        let request = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![span],
                    ..ScopeSpans::default()
                }],
                ..ResourceSpans::default()
            }],
        };
        let pretty = serde_json::to_string_pretty(&request).unwrap();
        assert!(pretty.contains("\n  "));
        let compacted = compact(pretty.as_bytes()).expect("a trace request");
        assert_eq!(compacted, serde_json::to_vec(&request).unwrap());
        assert!(!compacted.contains(&b'\n'));
        assert!(compacted.len() < pretty.len());
        assert_eq!(compact(b"not json"), None);
    }
}
