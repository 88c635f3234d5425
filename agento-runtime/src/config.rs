//! Configuration from the environment (see [`Config`]).

use std::path::PathBuf;
use std::time::Duration;

use crate::envvar::EnvReader;

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
}

/// Everything the runtime reads from the environment.
///
/// Every variable is read through one reader: numbers are range-checked,
/// booleans and choices compared against their accepted values, and anything
/// else is one warning naming the variable and what it accepts, then the
/// default — never a panic. The OTLP endpoint and headers are checked here and
/// then read by `opentelemetry-otlp` itself; an endpoint that is not an
/// `http(s)://host` URL turns live export off (the archive is still written).
///
/// ```
/// use agento_runtime::{Config, Protocol};
/// let config = Config::from_lookup(|name| match name {
///     "OTEL_EXPORTER_OTLP_PROTOCOL" => Some("http/json".to_owned()),
///     "AGENTO_DATA_DIR" => Some("/tmp/runs".to_owned()),
///     _ => None,
/// });
/// assert_eq!(config.protocol, Protocol::HttpJson);
/// assert_eq!(config.carrier_path, std::path::Path::new("/tmp/runs/trace.context"));
/// assert!(config.warnings.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `OTEL_SDK_DISABLED=true`: record nothing at all (no export, no archive).
    pub sdk_disabled: bool,
    /// `OTEL_TRACES_EXPORTER` is not `none`: stream spans over OTLP.
    pub otlp_enabled: bool,
    /// `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` / `OTEL_EXPORTER_OTLP_PROTOCOL`.
    pub protocol: Protocol,
    /// The URL spans are sent to: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as it
    /// is, or `OTEL_EXPORTER_OTLP_ENDPOINT` (default `http://localhost:4317`
    /// for gRPC, `http://localhost:4318` for HTTP) with `/v1/traces` appended
    /// for OTLP/HTTP.
    pub endpoint: String,
    /// `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT` / `OTEL_EXPORTER_OTLP_TIMEOUT`: the
    /// per-request export timeout (default 10 s).
    pub export_timeout: Duration,
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

/// The default bound on flushing at exit, in milliseconds.
pub const DEFAULT_SHUTDOWN_TIMEOUT_MS: u64 = 2000;
/// The default archive buffer, in spans.
pub const DEFAULT_ARCHIVE_BUFFER_SPANS: usize = 16_384;
/// The largest archive buffer accepted, in spans.
pub const MAX_ARCHIVE_BUFFER_SPANS: usize = 1 << 20;
/// The default per-request export timeout (the OpenTelemetry default), in milliseconds.
pub const DEFAULT_EXPORT_TIMEOUT_MS: u64 = 10_000;
/// The longest timeout accepted (10 minutes), in milliseconds.
pub const MAX_TIMEOUT_MS: u64 = 600_000;

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads variables through `lookup` (for tests and embedding). Never
    /// fails: a malformed value is replaced by its default and reported once in
    /// [`warnings`](Self::warnings), naming the variable and what it accepts.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let mut env = EnvReader::new(lookup);
        let sdk_disabled = env.flag("OTEL_SDK_DISABLED", false);
        let otlp = OtlpSettings::read(&mut env, sdk_disabled);
        check_headers_and_resource(&mut env);
        let data_dir = env
            .text("AGENTO_DATA_DIR")
            .map_or_else(|| PathBuf::from("data"), PathBuf::from);
        let carrier_path = env
            .text("AGENTO_TRACE_CONTEXT")
            .map_or_else(|| data_dir.join("trace.context"), PathBuf::from);
        let archive_enabled = env.choice("AGENTO_ARCHIVE", &[("on", true), ("off", false)], true);
        let shutdown_timeout = Duration::from_millis(env.number(
            "AGENTO_SHUTDOWN_TIMEOUT_MS",
            0..=MAX_TIMEOUT_MS,
            DEFAULT_SHUTDOWN_TIMEOUT_MS,
        ));
        let archive_buffer_spans = env.number(
            "AGENTO_ARCHIVE_BUFFER_SPANS",
            1..=MAX_ARCHIVE_BUFFER_SPANS,
            DEFAULT_ARCHIVE_BUFFER_SPANS,
        );
        let report_always = env.choice(
            "AGENTO_TELEMETRY_REPORT",
            &[("always", true), ("losses", false)],
            false,
        );
        Self {
            sdk_disabled,
            otlp_enabled: otlp.enabled,
            protocol: otlp.protocol,
            endpoint: otlp.endpoint,
            export_timeout: otlp.export_timeout,
            environment: env
                .text("ENVIRONMENT")
                .unwrap_or_else(|| "development".to_owned()),
            data_dir,
            archive_enabled,
            carrier_path,
            traceparent: env.text("TRACEPARENT"),
            tracestate: env.text("TRACESTATE"),
            shutdown_timeout,
            report_always,
            archive_buffer_spans,
            warnings: env.into_warnings(),
        }
    }
}

/// The live-export settings read from the `OTEL_*` variables.
struct OtlpSettings {
    enabled: bool,
    protocol: Protocol,
    endpoint: String,
    export_timeout: Duration,
}

impl OtlpSettings {
    /// Reads the exporter, protocol, endpoint and timeout, each from its
    /// traces-specific variable first; a malformed endpoint turns export off.
    fn read<F: Fn(&str) -> Option<String>>(env: &mut EnvReader<F>, sdk_disabled: bool) -> Self {
        let mut enabled = env.choice(
            "OTEL_TRACES_EXPORTER",
            &[("otlp", true), ("none", false)],
            true,
        );
        let protocol_var = [
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ]
        .into_iter()
        .find(|name| env.text(name).is_some())
        .unwrap_or("OTEL_EXPORTER_OTLP_PROTOCOL");
        let protocol = env.choice(
            protocol_var,
            &[
                ("grpc", Protocol::Grpc),
                ("http/protobuf", Protocol::HttpProtobuf),
                ("http/json", Protocol::HttpJson),
            ],
            Protocol::Grpc,
        );
        let traces = env.text("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
        let generic = env.text("OTEL_EXPORTER_OTLP_ENDPOINT");
        let endpoint_var = match (&traces, &generic) {
            (Some(value), _) => Some(("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", value.clone())),
            (None, Some(value)) => Some(("OTEL_EXPORTER_OTLP_ENDPOINT", value.clone())),
            (None, None) => None,
        };
        let endpoint = signal_url(protocol, traces, generic, "/v1/traces");
        if enabled
            && !sdk_disabled
            && let Some((name, value)) = &endpoint_var
            && let Err(problem) = check_endpoint(value)
        {
            env.warn(format!(
                "{name}={value:?} is not a collector URL ({problem}; expected http://host:port \
                 or https://host:port); live export is off, the archive is still written"
            ));
            enabled = false;
        }
        let timeout_var = [
            "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
            "OTEL_EXPORTER_OTLP_TIMEOUT",
        ]
        .into_iter()
        .find(|name| env.text(name).is_some())
        .unwrap_or("OTEL_EXPORTER_OTLP_TIMEOUT");
        let export_timeout = Duration::from_millis(env.number(
            timeout_var,
            1..=MAX_TIMEOUT_MS,
            DEFAULT_EXPORT_TIMEOUT_MS,
        ));
        Self {
            enabled,
            protocol,
            endpoint,
            export_timeout,
        }
    }
}

/// The URL a signal is sent to, as the OTLP exporter specification resolves
/// it: the signal's own variable (`specific`) as it is; the generic one (or
/// the default) with `path` (`/v1/traces`, `/v1/metrics`) appended for
/// OTLP/HTTP.
pub(crate) fn signal_url(
    protocol: Protocol,
    specific: Option<String>,
    generic: Option<String>,
    path: &str,
) -> String {
    if let Some(url) = specific {
        return url;
    }
    let base = generic.unwrap_or_else(|| match protocol {
        Protocol::Grpc => "http://localhost:4317".to_owned(),
        Protocol::HttpProtobuf | Protocol::HttpJson => "http://localhost:4318".to_owned(),
    });
    match protocol {
        Protocol::Grpc => base,
        Protocol::HttpProtobuf | Protocol::HttpJson => {
            format!("{}{path}", base.trim_end_matches('/'))
        }
    }
}

/// Warns about malformed `OTEL_EXPORTER_OTLP_*HEADERS` and `OTEL_RESOURCE_ATTRIBUTES`.
fn check_headers_and_resource<F: Fn(&str) -> Option<String>>(env: &mut EnvReader<F>) {
    for name in [
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
        "OTEL_EXPORTER_OTLP_HEADERS",
    ] {
        if let Some(value) = env.text(name) {
            check_pairs(env, name, &value, "headers", PairRule::Header);
        }
    }
    if let Some(value) = env.text("OTEL_RESOURCE_ATTRIBUTES") {
        check_pairs(
            env,
            "OTEL_RESOURCE_ATTRIBUTES",
            &value,
            "attributes",
            PairRule::Attribute,
        );
    }
}

/// Why `value` is not an endpoint the exporter can use.
fn check_endpoint(value: &str) -> Result<(), String> {
    let url = url::Url::parse(value).map_err(|error| error.to_string())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("the scheme is {:?}", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("it names no host".to_owned());
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum PairRule {
    /// An HTTP header: the key is a header name.
    Header,
    /// A resource attribute: the key is not empty.
    Attribute,
}

/// Warns once per malformed entry of a `k=v,k2=v2` variable. Values are never
/// shown (headers carry keys).
fn check_pairs<F: Fn(&str) -> Option<String>>(
    env: &mut EnvReader<F>,
    name: &str,
    value: &str,
    what: &str,
    rule: PairRule,
) {
    for (index, entry) in value.split_terminator(',').map(str::trim).enumerate() {
        let problem = match entry.split_once('=') {
            None => Some("is not key=value".to_owned()),
            Some((key, _)) if key.trim().is_empty() => Some("has no key".to_owned()),
            Some((key, _))
                if rule == PairRule::Header && !key.trim().bytes().all(is_header_name_byte) =>
            {
                Some(format!("has {:?}, which is not a header name", key.trim()))
            }
            Some((_, v)) if v.trim().is_empty() => Some("has no value".to_owned()),
            Some(_) => None,
        };
        if let Some(problem) = problem {
            env.warn(format!(
                "{name}: entry {} {problem}; it is dropped (expected key=value,key2=value2 {what} \
                 with URL-encoded values)",
                index + 1
            ));
        }
    }
}

/// RFC 9110 `tchar`.
fn is_header_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_millis(DEFAULT_SHUTDOWN_TIMEOUT_MS);

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
    fn the_endpoint_is_the_url_spans_are_sent_to() {
        let generic = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318/");
        let http = ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json");
        assert_eq!(
            config(&[generic, http]).endpoint,
            "http://127.0.0.1:4318/v1/traces"
        );
        let traces = (
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://127.0.0.1:9/in",
        );
        assert_eq!(
            config(&[generic, traces, http]).endpoint,
            "http://127.0.0.1:9/in"
        );
        assert_eq!(config(&[generic]).endpoint, "http://127.0.0.1:4318/");
    }

    #[test]
    fn traces_protocol_wins_and_bad_values_warn() {
        let c = config(&[
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ]);
        assert_eq!(c.protocol, Protocol::HttpProtobuf);
        assert_eq!(c.endpoint, "http://localhost:4318/v1/traces");
        let c = config(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "carrier-pigeon"),
            ("AGENTO_SHUTDOWN_TIMEOUT_MS", "soon"),
        ]);
        assert_eq!(c.protocol, Protocol::Grpc);
        assert_eq!(c.shutdown_timeout, DEFAULT_SHUTDOWN_TIMEOUT);
        assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
        assert!(c.warnings[0].starts_with("OTEL_EXPORTER_OTLP_PROTOCOL=carrier-pigeon is not grpc, http/protobuf or http/json; using grpc"), "{}", c.warnings[0]);
    }

    #[test]
    fn bad_endpoints_turn_live_export_off_with_one_warning() {
        for bad in [
            "::not a url",
            "not-a-url",
            "http://",
            "http://exa mple.com",
            "localhost:4317",
        ] {
            let c = config(&[("OTEL_EXPORTER_OTLP_ENDPOINT", bad)]);
            assert!(!c.otlp_enabled, "{bad}");
            assert_eq!(c.warnings.len(), 1, "{bad}: {:?}", c.warnings);
            assert!(
                c.warnings[0].starts_with(&format!(
                    "OTEL_EXPORTER_OTLP_ENDPOINT={bad:?} is not a collector URL"
                )) && c.warnings[0].ends_with("live export is off, the archive is still written"),
                "{}",
                c.warnings[0]
            );
        }
        let c = config(&[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://")]);
        assert!(c.warnings[0].starts_with("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="));
        for good in [
            "http://127.0.0.1:4317",
            "https://localhost:4318/otlp",
            "http://[::1]:4318",
        ] {
            let c = config(&[("OTEL_EXPORTER_OTLP_ENDPOINT", good)]);
            assert!(
                c.otlp_enabled && c.warnings.is_empty(),
                "{good}: {:?}",
                c.warnings
            );
        }
        let c = config(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "::x"),
            ("OTEL_TRACES_EXPORTER", "none"),
        ]);
        assert!(
            c.warnings.is_empty(),
            "no export, nothing to say: {:?}",
            c.warnings
        );
    }

    #[test]
    fn numbers_are_range_checked() {
        for (name, bad) in [
            ("AGENTO_SHUTDOWN_TIMEOUT_MS", "1e300"),
            ("AGENTO_SHUTDOWN_TIMEOUT_MS", "18446744073709551616"),
            ("AGENTO_SHUTDOWN_TIMEOUT_MS", "-1"),
            ("AGENTO_SHUTDOWN_TIMEOUT_MS", "600001"),
            ("AGENTO_ARCHIVE_BUFFER_SPANS", "0"),
            ("AGENTO_ARCHIVE_BUFFER_SPANS", "18446744073709551615"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "abc"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "0"),
        ] {
            let c = config(&[(name, bad)]);
            assert_eq!(c.warnings.len(), 1, "{name}={bad}: {:?}", c.warnings);
            assert!(
                c.warnings[0].starts_with(&format!("{name}={bad} is not a whole number from ")),
                "{}",
                c.warnings[0]
            );
            assert_eq!(c.shutdown_timeout, DEFAULT_SHUTDOWN_TIMEOUT);
            assert_eq!(c.archive_buffer_spans, DEFAULT_ARCHIVE_BUFFER_SPANS);
            assert_eq!(
                c.export_timeout,
                Duration::from_millis(DEFAULT_EXPORT_TIMEOUT_MS)
            );
        }
        let c = config(&[
            ("AGENTO_SHUTDOWN_TIMEOUT_MS", "0"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
        ]);
        assert!(c.warnings.is_empty());
        assert_eq!(c.shutdown_timeout, Duration::ZERO);
        assert_eq!(c.export_timeout, Duration::from_millis(2500));
    }

    #[test]
    fn malformed_switches_and_lists_warn_once_naming_the_variable() {
        let c = config(&[
            ("AGENTO_ARCHIVE", "maybe"),
            ("OTEL_SDK_DISABLED", "yes"),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "api-key=s3cr3t-value,novalue,=x,bad key=v",
            ),
            ("OTEL_RESOURCE_ATTRIBUTES", "=x,team=blue"),
        ]);
        assert!(c.archive_enabled && !c.sdk_disabled);
        let expected = [
            "OTEL_SDK_DISABLED=yes is not true or false; using false",
            "OTEL_EXPORTER_OTLP_HEADERS: entry 2 is not key=value; it is dropped",
            "OTEL_EXPORTER_OTLP_HEADERS: entry 3 has no key; it is dropped",
            "OTEL_EXPORTER_OTLP_HEADERS: entry 4 has \"bad key\", which is not a header name; it is dropped",
            "OTEL_RESOURCE_ATTRIBUTES: entry 1 has no key; it is dropped",
            "AGENTO_ARCHIVE=maybe is not on or off; using on",
        ];
        assert_eq!(c.warnings.len(), expected.len(), "{:#?}", c.warnings);
        for (warning, start) in c.warnings.iter().zip(expected) {
            assert!(warning.starts_with(start), "{warning}");
        }
        assert!(
            !c.warnings.concat().contains("s3cr3t"),
            "header values are never shown"
        );
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
