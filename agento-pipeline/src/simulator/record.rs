//! Recording mode (`AGENTO_SIM_RECORD=<file>`): every request the simulator
//! receives is appended to the file as one JSON line — vendor path, headers
//! (key values hidden) and the JSON body — so that tests can check what the
//! clients send against the vendors' own request types.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// The largest request body recorded (larger ones are refused with 413).
const MAX_RECORDED_BYTES: usize = 8 * 1024 * 1024;

/// Headers whose values are keys: recorded as `[REDACTED]`.
const SECRET_HEADERS: [&str; 3] = ["authorization", "x-api-key", "x-goog-api-key"];

/// The file requests are appended to.
#[derive(Debug, Clone)]
pub(super) struct Recorder {
    file: Arc<Mutex<std::fs::File>>,
}

impl Recorder {
    /// Opens (creates or appends to) `path`.
    pub(super) fn open(path: &PathBuf) -> std::io::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(Self {
            file: Arc::new(Mutex::new(file)),
        })
    }

    fn append(&self, line: &Value) {
        if let Ok(mut file) = self.file.lock() {
            let _ = writeln!(file, "{line}");
        }
    }
}

/// The middleware: records the request, then hands it on unchanged.
pub(super) async fn record(
    State(recorder): State<Recorder>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_RECORDED_BYTES).await else {
        return (
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large",
        )
            .into_response();
    };
    let headers: Map<String, Value> = parts
        .headers
        .iter()
        .map(|(name, value)| {
            let value = if SECRET_HEADERS.contains(&name.as_str()) {
                // The scheme stays (`Bearer`), the key goes.
                let text = String::from_utf8_lossy(value.as_bytes());
                match text.split_once(' ') {
                    Some((scheme, _)) if name == "authorization" => format!("{scheme} [REDACTED]"),
                    _ => "[REDACTED]".to_owned(),
                }
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            (name.as_str().to_owned(), Value::String(value))
        })
        .collect();
    let body_json = serde_json::from_slice::<Value>(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    recorder.append(&json!({
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "headers": headers,
        "body": body_json,
    }));
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}
