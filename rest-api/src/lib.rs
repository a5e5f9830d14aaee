//! Kafka Connect's REST API over hyper: paths, JSON shapes, status codes and
//! the `{"error_code","message"}` body, as thin handlers over a [`Herder`].

mod entities;
mod error;
mod forward;
mod handlers;
mod openapi;
mod request;
mod router;

pub use openapi::document as openapi_document;
pub use router::{ROUTES, Route, route};

use std::net::SocketAddr;
use std::sync::Arc;

use connect_runtime::herder::Herder;
use connect_runtime::logging::LogLevels;
use connect_runtime::worker_config::Cors;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

pub use error::{ApiError, ErrorMessage};

/// What the handlers need: the control plane, the log levels, whether
/// browsers from other origins may call (`access.control.allow.*`), and the
/// metrics.
pub struct AppState {
    pub herder: Arc<dyn Herder>,
    pub loggers: Arc<LogLevels>,
    pub cors: Option<Cors>,
    /// Renders `GET /metrics` (Prometheus' text format); `None`: 404.
    pub metrics: Option<MetricsRender>,
}

/// Renders the worker's metrics in Prometheus' text format.
pub type MetricsRender = Arc<dyn Fn() -> String + Send + Sync>;

/// What one listening socket serves: Connect's `admin.listeners` moves the
/// `/admin` endpoints to listeners of their own, or switches them off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listener {
    /// Everything but `/admin`.
    pub main: bool,
    /// `/admin/…` (the loggers).
    pub admin: bool,
}

/// Serve on `socket` until `shutdown` resolves.
pub async fn serve(
    socket: TcpListener,
    listener: Listener,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    tokio::pin!(shutdown);
    loop {
        let (stream, peer): (_, SocketAddr) = tokio::select! {
            accepted = socket.accept() => accepted?,
            _ = &mut shutdown => return Ok(()),
        };
        let state = state.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| router::route(state.clone(), listener, req));
            if let Err(e) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%peer, "connection closed: {e}");
            }
        });
    }
}
