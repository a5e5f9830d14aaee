//! Kafka Connect's REST API over hyper: paths, JSON shapes, status codes and
//! the `{"error_code","message"}` body, as thin handlers over a [`Herder`].

pub mod auth;
mod entities;
mod error;
mod forward;
mod handlers;
mod openapi;
mod request;
mod router;
pub mod tls;

pub use forward::configure as configure_forwarding;
pub use openapi::document as openapi_document;
pub use router::{ROUTES, Route, route};

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use connect_runtime::herder::Herder;
use connect_runtime::logging::LogLevels;
use connect_runtime::worker_config::Cors;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;

pub use auth::Auth;
pub use error::{ApiError, ErrorMessage};
pub use tls::TlsAcceptor;

/// What the handlers need: the control plane, the log levels, whether
/// browsers from other origins may call (`access.control.allow.*`), and the
/// metrics.
pub struct AppState {
    pub herder: Arc<dyn Herder>,
    pub loggers: Arc<LogLevels>,
    pub cors: Option<Cors>,
    /// Renders `GET /metrics` (Prometheus' text format); `None`: 404.
    pub metrics: Option<MetricsRender>,
    /// REST authentication (`rest.auth.credentials.file`,
    /// `rest.auth.tokens.file`); `None`: every request is let in.
    pub auth: Option<Arc<Auth>>,
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

/// A client must send a request's headers within this time, also the
/// next request's on a kept-alive connection (slow clients hold no
/// connection open for long).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// The most bytes of a request line and headers (431 beyond).
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
/// The most headers of a request (431 beyond).
pub const MAX_HEADERS: usize = 100;
/// A TLS handshake must end within this time.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serve on `socket` until `shutdown` resolves, over TLS when `tls` is
/// given (an `https://` listener).
pub async fn serve(
    socket: TcpListener,
    listener: Listener,
    tls: Option<TlsAcceptor>,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    tokio::pin!(shutdown);
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_header_size(MAX_HEADER_BYTES)
        .max_headers(MAX_HEADERS);
    let http = Arc::new(http);
    loop {
        let (stream, peer): (_, SocketAddr) = tokio::select! {
            accepted = socket.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: the listener stays.
                Err(e) => {
                    tracing::warn!("cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => return Ok(()),
        };
        let state = state.clone();
        let http = http.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => connection(&http, stream, peer, listener, state).await,
                Some(tls) => {
                    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, tls.accept(stream)).await {
                        Ok(Ok(stream)) => connection(&http, stream, peer, listener, state).await,
                        Ok(Err(e)) => tracing::debug!(%peer, "TLS handshake failed: {e}"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
}

/// Serve the requests of one connection.
async fn connection<S>(
    http: &http1::Builder,
    stream: S,
    peer: SocketAddr,
    listener: Listener,
    state: Arc<AppState>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |req| answer(state.clone(), listener, req));
    if let Err(e) = http.serve_connection(TokioIo::new(stream), service).await {
        tracing::debug!(%peer, "connection closed: {e}");
    }
}

/// Authenticate (when the worker asks for it), then route; the request's
/// `Authorization` goes along to the leader if the request is forwarded.
async fn answer(
    state: Arc<AppState>,
    listener: Listener,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    if let Some(auth) = &state.auth
        && let Err(denied) = auth
            .check(req.method(), req.uri().path(), req.headers())
            .await
    {
        return Ok(refusal(auth, &denied));
    }
    let authorization = req.headers().get(hyper::header::AUTHORIZATION).cloned();
    forward::AUTHORIZATION
        .scope(authorization, router::route(state, listener, req))
        .await
}

/// 401 (with the challenges) or 403, in Connect's error body.
fn refusal(auth: &Auth, denied: &auth::Denied) -> Response<Full<Bytes>> {
    let status = auth::status(denied);
    let body = serde_json::json!({
        "error_code": status.as_u16(),
        "message": auth::message(denied),
    });
    let mut response = Response::builder()
        .status(status)
        .header(hyper::header::CONTENT_TYPE, "application/json");
    if *denied == auth::Denied::Unauthenticated {
        for challenge in auth.challenges() {
            response = response.header(hyper::header::WWW_AUTHENTICATE, challenge);
        }
    }
    response
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}
