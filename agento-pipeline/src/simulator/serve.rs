//! The simulator's accept loop: HTTP/1.1 connections with a cap on how many
//! are open at once and time limits on reading a request, so that idle or
//! slow clients (slow-loris) cannot hold the simulator's memory or sockets.
//!
//! - at most [`Limits::max_connections`] connections are served at once; one
//!   over the cap is closed at once;
//! - a request's headers must arrive within [`Limits::header_timeout`]
//!   (also between keep-alive requests);
//! - a whole request (body included) must be answered within
//!   [`Limits::request_timeout`] plus the configured latency.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot};

/// The connection and time limits of the simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections served at once (`AGENTO_SIM_MAX_CONNECTIONS`, default 256).
    pub max_connections: usize,
    /// Time to send a request's headers (`AGENTO_SIM_HEADER_TIMEOUT_MS`, default 10 s).
    pub header_timeout: Duration,
    /// Time to send a request's body and get the answer, beyond the
    /// simulated latency (`AGENTO_SIM_REQUEST_TIMEOUT_MS`, default 30 s).
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 256,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// Serves `app` on `listener` within `limits` until `stop` fires.
pub(super) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    mut stop: oneshot::Receiver<()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    loop {
        let accepted = tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((stream, _)) = accepted else {
            // Out of file descriptors or a connection reset before accept:
            // give the system a moment instead of spinning.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let service = TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout);
            let _ = http.serve_connection(TokioIo::new(stream), service).await;
            drop(slot);
        });
    }
}
