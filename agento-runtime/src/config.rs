//! Configuration from the environment.
//!
//! The OTLP endpoint, headers and timeout variables
//! (`OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT`, `_HEADERS`, `_TIMEOUT`) are read by
//! `opentelemetry-otlp` itself; this module reads the rest. Invalid values are
//! reported as warnings and replaced by the default, never a panic.
//!
//! ```
//! use agento_runtime::config::{Config, Protocol};
//! let config = Config::from_lookup(|name| match name {
//!     "OTEL_EXPORTER_OTLP_PROTOCOL" => Some("http/json".to_owned()),
//!     "AGENTO_DATA_DIR" => Some("/tmp/runs".to_owned()),
//!     _ => None,
//! });
//! assert_eq!(config.protocol, Protocol::HttpJson);
//! assert_eq!(config.carrier_path, std::path::Path::new("/tmp/runs/trace.context"));
//! assert!(config.warnings.is_empty());
//! ```

use std::path::PathBuf;
use std::time::Duration;

/// The OTLP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// OTLP/gRPC (default, port 4317).
    Grpc,
    /// OTLP/HTTP with protobuf bodies (port 4318).
    HttpProtobuf,
    /// OTLP/HTTP with JSON bodies (port 4318).
    HttpJson,
}

impl Protocol {
    /// The value of `OTEL_EXPORTER_OTLP_PROTOCOL` for this protocol.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Grpc => "grpc",
            Self::HttpProtobuf => "http/protobuf",
            Self::HttpJson => "http/json",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "grpc" => Some(Self::Grpc),
            "http/protobuf" => Some(Self::HttpProtobuf),
            "http/json" => Some(Self::HttpJson),
            _ => None,
        }
    }
}

/// Everything the runtime reads from the environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `OTEL_SDK_DISABLED=true`: record nothing at all (no export, no archive).
    pub sdk_disabled: bool,
    /// `OTEL_TRACES_EXPORTER` is not `none`: stream spans over OTLP.
    pub otlp_enabled: bool,
    /// `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` / `OTEL_EXPORTER_OTLP_PROTOCOL`.
    pub protocol: Protocol,
    /// The endpoint the exporter will use (for messages; the exporter reads it itself).
    pub endpoint: String,
    /// `ENVIRONMENT`, for `deployment.environment` (default `development`).
    pub environment: String,
    /// `AGENTO_DATA_DIR` (default `./data`).
    pub data_dir: PathBuf,
    /// `AGENTO_ARCHIVE` is not `off`.
    pub archive_enabled: bool,
    /// `AGENTO_TRACE_CONTEXT` (default `$AGENTO_DATA_DIR/trace.context`).
    pub carrier_path: PathBuf,
    /// `TRACEPARENT`, the environment carrier; wins over the carrier file.
    pub traceparent: Option<String>,
    /// `TRACESTATE`, read with `TRACEPARENT`.
    pub tracestate: Option<String>,
    /// `AGENTO_SHUTDOWN_TIMEOUT_MS`: the bound on flushing at exit (default 2000).
    pub shutdown_timeout: Duration,
    /// `AGENTO_TELEMETRY_REPORT=always`: print the telemetry report at every exit.
    pub report_always: bool,
    /// `AGENTO_ARCHIVE_BUFFER_SPANS`: spans the archive may hold before a span's
    /// end waits for the writer (default 16384).
    pub archive_buffer_spans: usize,
    /// Problems found while reading the variables.
    pub warnings: Vec<String>,
}

/// The default bound on flushing at exit.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(2);
/// The default archive buffer, in spans.
pub const DEFAULT_ARCHIVE_BUFFER_SPANS: usize = 16_384;

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads variables through `lookup` (for tests and embedding).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let mut warnings = Vec::new();
        let var = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());

        let sdk_disabled =
            var("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        let otlp_enabled = match var("OTEL_TRACES_EXPORTER").map(|v| v.trim().to_ascii_lowercase())
        {
            None => true,
            Some(v) if v == "otlp" => true,
            Some(v) if v == "none" => false,
            Some(other) => {
                warnings.push(format!(
                    "OTEL_TRACES_EXPORTER={other} is not supported (otlp or none); using otlp"
                ));
                true
            }
        };
        let protocol_var = [
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ]
        .into_iter()
        .find_map(|name| var(name).map(|value| (name, value)));
        let protocol = match protocol_var {
            None => Protocol::Grpc,
            Some((name, value)) => Protocol::parse(&value).unwrap_or_else(|| {
                warnings.push(format!(
                    "{name}={value} is not grpc, http/protobuf or http/json; using grpc"
                ));
                Protocol::Grpc
            }),
        };
        let endpoint = var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
            .or_else(|| var("OTEL_EXPORTER_OTLP_ENDPOINT"))
            .unwrap_or_else(|| match protocol {
                Protocol::Grpc => "http://localhost:4317".to_owned(),
                Protocol::HttpProtobuf | Protocol::HttpJson => "http://localhost:4318".to_owned(),
            });
        let data_dir = var("AGENTO_DATA_DIR").map_or_else(|| PathBuf::from("data"), PathBuf::from);
        let carrier_path = var("AGENTO_TRACE_CONTEXT")
            .map_or_else(|| data_dir.join("trace.context"), PathBuf::from);
        let archive_enabled =
            !var("AGENTO_ARCHIVE").is_some_and(|v| v.trim().eq_ignore_ascii_case("off"));
        let shutdown_timeout = parse_number(&var, "AGENTO_SHUTDOWN_TIMEOUT_MS", &mut warnings)
            .map_or(DEFAULT_SHUTDOWN_TIMEOUT, Duration::from_millis);
        let archive_buffer_spans = parse_number(&var, "AGENTO_ARCHIVE_BUFFER_SPANS", &mut warnings)
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| *n > 0)
            .unwrap_or(DEFAULT_ARCHIVE_BUFFER_SPANS);
        Self {
            sdk_disabled,
            otlp_enabled,
            protocol,
            endpoint,
            environment: var("ENVIRONMENT").unwrap_or_else(|| "development".to_owned()),
            data_dir,
            archive_enabled,
            carrier_path,
            traceparent: var("TRACEPARENT"),
            tracestate: var("TRACESTATE"),
            shutdown_timeout,
            report_always: var("AGENTO_TELEMETRY_REPORT")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("always")),
            archive_buffer_spans,
            warnings,
        }
    }
}

fn parse_number(
    var: &impl Fn(&str) -> Option<String>,
    name: &str,
    warnings: &mut Vec<String>,
) -> Option<u64> {
    let value = var(name)?;
    match value.trim().parse() {
        Ok(number) => Some(number),
        Err(_) => {
            warnings.push(format!(
                "{name}={value} is not a whole number; using the default"
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Config {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn defaults() {
        let c = config(&[]);
        assert!(!c.sdk_disabled && c.otlp_enabled && c.archive_enabled);
        assert_eq!(c.protocol, Protocol::Grpc);
        assert_eq!(c.endpoint, "http://localhost:4317");
        assert_eq!(c.data_dir, PathBuf::from("data"));
        assert_eq!(c.carrier_path, PathBuf::from("data/trace.context"));
        assert_eq!(c.shutdown_timeout, DEFAULT_SHUTDOWN_TIMEOUT);
        assert_eq!(c.environment, "development");
    }

    #[test]
    fn traces_protocol_wins_and_bad_values_warn() {
        let c = config(&[
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ]);
        assert_eq!(c.protocol, Protocol::HttpProtobuf);
        assert_eq!(c.endpoint, "http://localhost:4318");
        let c = config(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "carrier-pigeon"),
            ("AGENTO_SHUTDOWN_TIMEOUT_MS", "soon"),
        ]);
        assert_eq!(c.protocol, Protocol::Grpc);
        assert_eq!(c.shutdown_timeout, DEFAULT_SHUTDOWN_TIMEOUT);
        assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
    }

    #[test]
    fn switches() {
        let c = config(&[
            ("OTEL_SDK_DISABLED", "TRUE"),
            ("OTEL_TRACES_EXPORTER", "none"),
            ("AGENTO_ARCHIVE", "off"),
            ("AGENTO_TELEMETRY_REPORT", "always"),
            ("AGENTO_TRACE_CONTEXT", "/x/ctx.json"),
        ]);
        assert!(c.sdk_disabled && !c.otlp_enabled && !c.archive_enabled && c.report_always);
        assert_eq!(c.carrier_path, PathBuf::from("/x/ctx.json"));
    }
}
