//! Error answers in each vendor's own JSON shape, and the vendor a stray
//! request (unknown path, wrong method) was most likely meant for.

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::vendors::Vendor;

/// An error answer as `vendor` shapes it, with the delay to wait when given:
/// a `Retry-After` header (OpenAI, Anthropic), a `google.rpc.RetryInfo` entry
/// in `error.details` (Gemini, which sends no header).
///
/// - Gemini: `{"error": {"code": 429, "message": …, "status": "RESOURCE_EXHAUSTED", "details": […]}}`
/// - OpenAI: `{"error": {"message": …, "type": "invalid_request_error", "param": null, "code": …}}`
/// - Anthropic: `{"type": "error", "error": {"type": "rate_limit_error", "message": …}}`
pub(super) fn error(
    vendor: Vendor,
    status: StatusCode,
    message: &str,
    retry_after: Option<u64>,
) -> Response {
    shaped(vendor, status, message, retry_after, None)
}

/// The 400 a model that does not take `temperature` answers, in the words
/// each vendor uses.
pub(super) fn unsupported_temperature(vendor: Vendor) -> Response {
    let message = match vendor {
        Vendor::Gemini => {
            "Invalid JSON payload received. Unknown name \"temperature\" at 'generation_config': Cannot find field."
        }
        Vendor::OpenAi => "Unsupported parameter: 'temperature' is not supported with this model.",
        Vendor::Anthropic => "temperature: this model does not support the `temperature` parameter",
    };
    shaped(
        vendor,
        StatusCode::BAD_REQUEST,
        message,
        None,
        Some("temperature"),
    )
}

fn shaped(
    vendor: Vendor,
    status: StatusCode,
    message: &str,
    retry_after: Option<u64>,
    param: Option<&str>,
) -> Response {
    let body = match vendor {
        Vendor::Gemini => {
            let mut error = json!({
                "code": status.as_u16(),
                "message": match retry_after {
                    Some(seconds) => format!("{message} Please retry in {seconds}s."),
                    None => message.to_owned(),
                },
                "status": google_status(status),
            });
            if let Some(seconds) = retry_after {
                error["details"] = json!([
                    {"@type": "type.googleapis.com/google.rpc.QuotaFailure",
                     "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                                     "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]},
                    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": format!("{seconds}s")},
                ]);
            }
            json!({"error": error})
        }
        Vendor::OpenAi => json!({"error": {
            "message": message,
            "type": openai_type(status),
            "param": param,
            "code": if param.is_some() { Some("unsupported_parameter") } else { openai_code(status) },
        }}),
        Vendor::Anthropic => json!({
            "type": "error",
            "error": {"type": anthropic_type(status), "message": message},
        }),
    };
    let mut response = (status, axum::Json(body)).into_response();
    if let Some(seconds) = retry_after
        && vendor != Vendor::Gemini
    {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    request_id(vendor, &mut response);
    response
}

/// Adds the request-id header the vendor sends with every answer
/// (`x-request-id` for OpenAI, `request-id` for Anthropic), a random one.
pub(super) fn request_id(vendor: Vendor, response: &mut Response) {
    let name = match vendor {
        Vendor::Gemini => return,
        Vendor::OpenAi => "x-request-id",
        Vendor::Anthropic => "request-id",
    };
    let value = format!("req_sim{}", uuid::Uuid::new_v4().simple());
    if let Ok(value) = HeaderValue::from_str(&value) {
        response
            .headers_mut()
            .insert(header::HeaderName::from_static(name), value);
    }
}

/// The answer to a path or method the simulator does not serve, in the shape
/// of the vendor the request is for: told by its path, and for `/v1/models…`
/// (which OpenAI and Anthropic both serve) by Anthropic's headers.
pub(super) async fn not_served(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    let vendor =
        if path.starts_with("/v1beta") || (path.starts_with("/v1/models/") && path.contains(':')) {
            Vendor::Gemini
        } else if path.starts_with("/v1/messages")
            || (path.starts_with("/v1/models")
                && (headers.contains_key("anthropic-version") || headers.contains_key("x-api-key")))
        {
            Vendor::Anthropic
        } else {
            Vendor::OpenAi
        };
    let served = matches!(path, "/v1/chat/completions" | "/v1/messages")
        || ((path.starts_with("/v1beta/models/") || path.starts_with("/v1/models/"))
            && path.ends_with(":generateContent"));
    if served && method != Method::POST {
        return error(
            vendor,
            StatusCode::METHOD_NOT_ALLOWED,
            &format!("{method} is not allowed on {path}: use POST"),
            None,
        );
    }
    error(
        vendor,
        StatusCode::NOT_FOUND,
        &format!("{path} is not served by the agento vendor simulator"),
        None,
    )
}

const fn google_status(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        500..=599 => "INTERNAL",
        _ => "FAILED_PRECONDITION",
    }
}

const fn openai_type(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "invalid_request_error",
        429 => "requests",
        500..=599 => "server_error",
        _ => "invalid_request_error",
    }
}

const fn openai_code(status: StatusCode) -> Option<&'static str> {
    match status.as_u16() {
        401 => Some("invalid_api_key"),
        404 => Some("unknown_url"),
        429 => Some("rate_limit_exceeded"),
        _ => None,
    }
}

const fn anthropic_type(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 | 529 => "overloaded_error",
        500..=599 => "api_error",
        _ => "invalid_request_error",
    }
}
