//! The offline vendor simulator: the Gemini, OpenAI and Anthropic HTTP APIs on
//! 127.0.0.1 with realistic JSON bodies (token usage, finish reasons, model
//! names, ids) and deterministic content derived from the request.
//!
//! `agento run --offline` starts one in-process on a free port; `agento
//! simulate --port N` serves one on its own. Each vendor can be made slow,
//! flaky, malformed or verbose ([`SimulatorConfig`]).
//!
//! Like the real APIs, it checks each vendor's required headers (401 in the
//! vendor's error shape without a key; Anthropic takes `x-api-key` or
//! `Authorization: Bearer` and needs an `anthropic-version`), serves Gemini on
//! `/v1` and `/v1beta`, validates the body (400 in the vendor's error shape,
//! never a panic), and stops at `max_tokens` with the vendor's own finish
//! reason (`MAX_TOKENS`, `length`, `max_tokens`). Modes make it answer as the
//! vendors do when they block, filter, cut off or reject `temperature`
//! ([`VendorBehaviour`]); a recording mode keeps every request
//! ([`SimulatorConfig::record`]); connections are capped and slow clients
//! closed ([`Limits`]).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use agento_pipeline::simulator::{Simulator, SimulatorConfig};
//! let simulator = Simulator::start(SimulatorConfig::default(), 0).await?;
//! println!("vendors at {}", simulator.base_url());
//! simulator.shutdown().await;
//! # Ok(()) }
//! ```

mod api;
mod config;
mod content;
mod errors;
mod record;
mod serve;
mod stream;
mod wire;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use axum::Router;
use axum::response::IntoResponse;
use axum::routing::post;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{AnswerMode, Failure, SimulatorConfig, VendorBehaviour};
pub use serve::Limits;

use crate::vendors::Vendor;

/// Live counters of one vendor.
#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU32,
    rejected: AtomicU32,
    valid: AtomicU32,
    failed: AtomicU32,
    answered: AtomicU32,
}

impl Counters {
    fn snapshot(&self) -> VendorCalls {
        VendorCalls {
            requests: self.requests.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
        }
    }
}

/// What the handlers share.
#[derive(Debug)]
struct Shared {
    config: SimulatorConfig,
    counters: [Counters; 3],
    verdicts: content::Verdicts,
    sequence: AtomicU64,
}

impl Shared {
    fn counters(&self, vendor: Vendor) -> &Counters {
        &self.counters[match vendor {
            Vendor::Gemini => 0,
            Vendor::OpenAi => 1,
            Vendor::Anthropic => 2,
        }]
    }
}

/// The calls one simulated vendor received.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VendorCalls {
    /// Every request on the vendor's endpoint.
    pub requests: u32,
    /// Requests refused for a missing header or an invalid body (401/400).
    pub rejected: u32,
    /// Valid requests answered with an injected failure.
    pub failed: u32,
}

/// The calls the simulator received, per vendor.
///
/// ```
/// let stats = agento_pipeline::simulator::SimulatorStats::default();
/// assert_eq!(stats.vendor(agento_pipeline::vendors::Vendor::Gemini).requests, 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimulatorStats {
    /// Gemini.
    pub gemini: VendorCalls,
    /// OpenAI.
    pub openai: VendorCalls,
    /// Anthropic.
    pub anthropic: VendorCalls,
}

impl SimulatorStats {
    /// The calls of `vendor`.
    pub const fn vendor(&self, vendor: Vendor) -> VendorCalls {
        match vendor {
            Vendor::Gemini => self.gemini,
            Vendor::OpenAi => self.openai,
            Vendor::Anthropic => self.anthropic,
        }
    }
}

/// A running simulator.
#[derive(Debug)]
pub struct Simulator {
    address: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Simulator {
    /// Serves on `127.0.0.1:port` (`0`: a free port) until shut down.
    pub async fn start(config: SimulatorConfig, port: u16) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Shared {
            config,
            counters: Default::default(),
            verdicts: content::Verdicts::default(),
            sequence: AtomicU64::new(0),
        });
        let recorder = shared
            .config
            .record
            .as_ref()
            .map(record::Recorder::open)
            .transpose()?;
        let mut app = Router::new()
            .route("/v1beta/models/{model}", post(api::gemini))
            .route("/v1/models/{model}", post(api::gemini))
            .route("/v1/chat/completions", post(api::openai))
            .route("/v1/messages", post(api::anthropic))
            .fallback(errors::not_served)
            .method_not_allowed_fallback(errors::not_served)
            .with_state(Arc::clone(&shared));
        if let Some(recorder) = recorder {
            app = app.layer(axum::middleware::from_fn_with_state(
                recorder,
                record::record,
            ));
        }
        let limits = shared.config.limits;
        let answer_within = limits.request_timeout
            + [
                &shared.config.gemini,
                &shared.config.openai,
                &shared.config.anthropic,
            ]
            .iter()
            .map(|behaviour| behaviour.latency)
            .max()
            .unwrap_or_default();
        let app = app.layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| async move {
                match tokio::time::timeout(answer_within, next.run(request)).await {
                    Ok(response) => response,
                    Err(_) => axum::http::StatusCode::REQUEST_TIMEOUT.into_response(),
                }
            },
        ));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve::serve(listener, app, limits, stopped));
        Ok(Self {
            address,
            shared,
            stop: Some(stop),
            task,
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The calls received so far.
    pub fn calls(&self) -> SimulatorStats {
        SimulatorStats {
            gemini: self.shared.counters(Vendor::Gemini).snapshot(),
            openai: self.shared.counters(Vendor::OpenAi).snapshot(),
            anthropic: self.shared.counters(Vendor::Anthropic).snapshot(),
        }
    }

    /// Stops serving and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }

    /// Serves until the process is stopped (for `agento simulate`, after it
    /// printed [`base_url`](Self::base_url)).
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}
