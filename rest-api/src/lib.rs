//! Kafka Connect's REST API over hyper: paths, JSON shapes, status codes and
//! the `{"error_code","message"}` body, as thin handlers over a [`Herder`].

mod error;
mod handlers;
mod request;
mod router;

use std::net::SocketAddr;
use std::sync::Arc;

use connect_runtime::herder::Herder;
use connect_runtime::logging::LogLevels;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

pub use error::ApiError;

/// What the handlers need: the control plane and the log levels.
pub struct AppState {
    pub herder: Arc<dyn Herder>,
    pub loggers: Arc<LogLevels>,
}

/// Serve on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    tokio::pin!(shutdown);
    loop {
        let (stream, peer): (_, SocketAddr) = tokio::select! {
            accepted = listener.accept() => accepted?,
            _ = &mut shutdown => return Ok(()),
        };
        let state = state.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| router::route(state.clone(), req));
            if let Err(e) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%peer, "connection closed: {e}");
            }
        });
    }
}
