//! Path → handler. [`ROUTES`] says which paths are served and with which
//! methods (the OpenAPI document is checked against it); known paths with
//! the wrong method answer 405, unknown paths 404, both with Connect's error
//! body. HEAD answers like GET without a body and OPTIONS lists the allowed
//! methods, as Jersey does for Connect; CORS follows Connect's
//! `access.control.allow.*` (Jetty's CrossOriginFilter). A handler that
//! panics answers 500 with Connect's error body and nothing of the panic;
//! the worker logs it and serves on.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::task::Poll;

use http_body_util::Full;
use hyper::body::Body;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use crate::handlers::{self, Reply};
use crate::request::Parsed;
use crate::{ApiError, AppState, Listener};

/// Answer one request; any body type, so tests call it without a socket.
pub async fn route<B>(
    state: Arc<AppState>,
    listener: Listener,
    req: Request<B>,
) -> Result<Response<Full<bytes::Bytes>>, std::convert::Infallible>
where
    B: Body,
    B::Error: std::fmt::Display,
{
    let origin = req
        .headers()
        .get(hyper::header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .map(str::to_string);
    // A preflight names the method it asks for.
    let preflight = (req.method() == Method::OPTIONS)
        .then(|| {
            req.headers()
                .get(hyper::header::ACCESS_CONTROL_REQUEST_METHOD)
        })
        .flatten()
        .and_then(|m| m.to_str().ok())
        .map(str::to_string);
    let head = req.method() == Method::HEAD;
    let reply = match Parsed::from(req).await {
        Ok(parsed) => {
            tracing::debug!(method = %parsed.method, path = ?parsed.segments, "request");
            // No request takes the worker down: a handler that panics is
            // logged here, and the client gets a plain 500.
            match catch_panic(answer(&state, listener, &parsed)).await {
                Ok(reply) => reply,
                Err(panic) => {
                    tracing::error!(
                        method = %parsed.method,
                        path = ?parsed.path_and_query,
                        "request handler panicked: {}",
                        panic_message(panic.as_ref())
                    );
                    Err(ApiError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "The request failed on an internal error; the worker's log has the details",
                    ))
                }
            }
        }
        Err(e) => Err(e),
    };
    let mut response = match reply {
        Ok(reply) => reply.into_response(),
        Err(e) => Reply::json(e.status, &e.body()).into_response(),
    };
    if head {
        *response.body_mut() = Full::new(bytes::Bytes::new());
    }
    // The body may be left partly unread (a 414's, or one past what is
    // drained): this connection cannot carry another request.
    if matches!(
        response.status(),
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::URI_TOO_LONG
    ) {
        response
            .headers_mut()
            .insert(hyper::header::CONNECTION, HeaderValue::from_static("close"));
    }
    // As in Connect, CORS applies to the main listener only.
    if let Some(origin) = origin.filter(|_| listener.main) {
        cors_headers(&state, &origin, preflight.as_deref(), &mut response);
    }
    Ok(response)
}

/// What this listener answers, forwarded to the leader when the request
/// is the leader's to serve.
async fn answer(state: &AppState, listener: Listener, parsed: &Parsed) -> Result<Reply, ApiError> {
    match respond(state, listener, parsed).await {
        Err(ApiError {
            forward_to: Some(leader),
            ..
        }) if !parsed.has_query("forward") => {
            let reply = crate::forward::to_leader(&leader, parsed).await;
            // Read-your-writes: the next request here sees the change.
            if reply.as_ref().is_ok_and(Reply::is_success)
                && let Err(e) = state.herder.catch_up().await
            {
                tracing::warn!("not caught up after a forwarded write: {e}");
            }
            reply
        }
        reply => reply,
    }
}

/// `fut`'s output, or the panic it raised while polled.
async fn catch_panic<F: Future>(fut: F) -> Result<F::Output, Box<dyn Any + Send>> {
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(move |cx| {
        match std::panic::catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    })
    .await
}

/// A panic's message, for the log only.
fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

/// Connect's CORS headers (Jetty's CrossOriginFilter with Connect's
/// settings) for a request from `origin`, when the worker allows it. A
/// preflight for a method not allowed gets none.
fn cors_headers(
    state: &AppState,
    origin: &str,
    preflight: Option<&str>,
    response: &mut Response<Full<bytes::Bytes>>,
) {
    let Some(cors) = &state.cors else {
        return;
    };
    let origin_allowed = cors
        .allow_origin
        .split(',')
        .map(str::trim)
        .any(|o| o == "*" || o == origin);
    let method_allowed = preflight.is_none_or(|asked| {
        cors.allow_methods
            .split(',')
            .any(|m| m.trim().eq_ignore_ascii_case(asked))
    });
    if !origin_allowed || !method_allowed {
        return;
    }
    let headers = response.headers_mut();
    let mut set = |name: HeaderName, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    set(hyper::header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    set(hyper::header::ACCESS_CONTROL_ALLOW_CREDENTIALS, "true");
    set(hyper::header::VARY, "Origin");
    if preflight.is_some() {
        set(
            hyper::header::ACCESS_CONTROL_ALLOW_METHODS,
            &cors.allow_methods,
        );
        set(
            hyper::header::ACCESS_CONTROL_ALLOW_HEADERS,
            "X-Requested-With,Content-Type,Accept,Origin",
        );
        set(hyper::header::ACCESS_CONTROL_MAX_AGE, "1800");
    }
}

/// What this listener serves of the path, then the handler's answer.
async fn respond(state: &AppState, listener: Listener, req: &Parsed) -> Result<Reply, ApiError> {
    let segs: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    let admin_path = segs.first() == Some(&"admin");
    let served = if admin_path {
        listener.admin
    } else {
        listener.main
    };
    let Some(methods) = allowed_methods(&segs).filter(|_| served) else {
        return Err(ApiError::not_found());
    };
    let method = if req.method == Method::HEAD {
        Method::GET
    } else {
        req.method.clone()
    };
    if method == Method::OPTIONS {
        return Ok(Reply::allow(methods));
    }
    if !methods.contains(&method) {
        return Err(ApiError::method_not_allowed());
    }
    dispatch(state, req, &segs, &method).await
}

async fn dispatch(
    state: &AppState,
    req: &Parsed,
    segs: &[&str],
    m: &Method,
) -> Result<Reply, ApiError> {
    let h = state.herder.as_ref();
    use handlers::*;
    match (segs, m) {
        ([], &Method::GET) => server_info(h).await,
        (["openapi.json"], &Method::GET) => openapi(),
        (["health"], &Method::GET) => health(h),
        (["metrics"], &Method::GET) => metrics(state),
        (["ui"], &Method::GET) => ui(),
        (["connectors"], &Method::GET) => list_connectors(h, req).await,
        (["connectors"], &Method::POST) => create_connector(h, req).await,
        (["connectors", c], &Method::GET) => Reply::ok(&h.connector_info(c).await?),
        (["connectors", c], &Method::DELETE) => {
            h.delete_connector(c).await?;
            Ok(Reply::no_content())
        }
        (["connectors", c, "config"], &Method::GET) => Reply::ok(&h.connector_config(c).await?),
        (["connectors", c, "config"], &Method::PUT) => put_config(h, c, req).await,
        (["connectors", c, "config"], &Method::PATCH) => patch_config(h, c, req).await,
        (["connectors", c, "status"], &Method::GET) => Reply::ok(&h.connector_status(c).await?),
        (["connectors", c, "tasks"], &Method::GET) => Reply::ok(&h.task_infos(c).await?),
        (["connectors", c, "tasks-config"], &Method::GET) => tasks_config(h, c).await,
        (["connectors", c, "tasks", t, "status"], &Method::GET) => {
            Reply::ok(&h.task_status(c, task_id(t)?).await?)
        }
        (["connectors", c, "tasks", t, "restart"], &Method::POST) => {
            h.restart_task(c, task_id(t)?).await?;
            Ok(Reply::no_content())
        }
        (["connectors", c, "restart"], &Method::POST) => restart_connector(h, c, req).await,
        (["connectors", c, "pause"], &Method::PUT) => {
            h.pause(c).await?;
            Ok(Reply::accepted())
        }
        (["connectors", c, "resume"], &Method::PUT) => {
            h.resume(c).await?;
            Ok(Reply::accepted())
        }
        (["connectors", c, "stop"], &Method::PUT) => {
            h.stop(c).await?;
            Ok(Reply::no_content())
        }
        (["connectors", c, "topics"], &Method::GET) => active_topics(h, c).await,
        (["connectors", c, "topics", "reset"], &Method::PUT) => {
            h.reset_active_topics(c).await?;
            Ok(Reply::accepted())
        }
        (["connectors", c, "offsets"], &Method::GET) => get_offsets(h, c).await,
        (["connectors", c, "offsets"], &Method::PATCH) => patch_offsets(h, c, req).await,
        (["connectors", c, "offsets"], &Method::DELETE) => reset_offsets(h, c).await,
        (["connector-plugins"], &Method::GET) => {
            Reply::ok(&h.plugins(req.flag_default_true("connectorsOnly")))
        }
        (["connector-plugins", p, "config"], &Method::GET) => Reply::ok(&h.plugin_config(p)?),
        (["connector-plugins", p, "config", "validate"], &Method::PUT) => validate(h, p, req),
        (["connectors", c, "tasks", "rebalance"], &Method::POST) => Ok(Reply::json(
            StatusCode::ACCEPTED,
            &h.rebalance(Some(c)).await?,
        )),
        (["admin", "rebalance"], &Method::POST) => {
            Ok(Reply::json(StatusCode::ACCEPTED, &h.rebalance(None).await?))
        }
        (["admin", "workers", w, "drain"], &Method::PUT) => drain(h, w, true).await,
        (["admin", "workers", w, "drain"], &Method::DELETE) => drain(h, w, false).await,
        (["admin", "loggers"], &Method::GET) => Reply::ok(&loggers_all(state)),
        (["admin", "loggers", name], &Method::GET) => logger_get(state, name),
        (["admin", "loggers", name], &Method::PUT) => logger_set(state, name, req),
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// One path template (`{name}` matches any one segment) and the methods
/// that serve it.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub path: &'static str,
    pub methods: &'static [Method],
}

impl Route {
    const fn new(path: &'static str, methods: &'static [Method]) -> Self {
        Self { path, methods }
    }

    /// The template's segments: literals, and `{name}` parameters.
    pub fn segments(&self) -> impl Iterator<Item = &'static str> {
        self.path.split('/').filter(|s| !s.is_empty())
    }

    pub fn matches(&self, segs: &[&str]) -> bool {
        self.segments().count() == segs.len()
            && self
                .segments()
                .zip(segs)
                .all(|(t, s)| Self::is_param(t) || t == *s)
    }

    /// `{name}`: a path parameter in a template.
    pub fn is_param(segment: &str) -> bool {
        segment.starts_with('{') && segment.ends_with('}')
    }
}

const GET: &[Method] = &[Method::GET];
const PUT: &[Method] = &[Method::PUT];
const POST: &[Method] = &[Method::POST];

/// Every path this API serves, with its methods (HEAD and OPTIONS come with
/// them). The router serves exactly these; the OpenAPI document must list
/// exactly these (the tests check both).
pub const ROUTES: &[Route] = &[
    Route::new("/", GET),
    Route::new("/openapi.json", GET),
    Route::new("/health", GET),
    Route::new("/metrics", GET),
    Route::new("/ui", GET),
    Route::new("/connectors", &[Method::GET, Method::POST]),
    Route::new("/connectors/{connector}", &[Method::GET, Method::DELETE]),
    Route::new(
        "/connectors/{connector}/config",
        &[Method::GET, Method::PUT, Method::PATCH],
    ),
    Route::new("/connectors/{connector}/status", GET),
    Route::new("/connectors/{connector}/tasks", GET),
    Route::new("/connectors/{connector}/tasks-config", GET),
    Route::new("/connectors/{connector}/topics", GET),
    Route::new("/connectors/{connector}/restart", POST),
    Route::new("/connectors/{connector}/tasks/{task}/restart", POST),
    Route::new("/connectors/{connector}/tasks/rebalance", POST),
    Route::new("/connectors/{connector}/pause", PUT),
    Route::new("/connectors/{connector}/resume", PUT),
    Route::new("/connectors/{connector}/stop", PUT),
    Route::new("/connectors/{connector}/topics/reset", PUT),
    Route::new(
        "/connectors/{connector}/offsets",
        &[Method::GET, Method::PATCH, Method::DELETE],
    ),
    Route::new("/connectors/{connector}/tasks/{task}/status", GET),
    Route::new("/connector-plugins", GET),
    Route::new("/connector-plugins/{plugin}/config", GET),
    Route::new("/connector-plugins/{plugin}/config/validate", PUT),
    Route::new("/admin/rebalance", POST),
    Route::new(
        "/admin/workers/{worker}/drain",
        &[Method::PUT, Method::DELETE],
    ),
    Route::new("/admin/loggers", GET),
    Route::new("/admin/loggers/{logger}", &[Method::GET, Method::PUT]),
];

/// The methods that serve a path (so a wrong one is 405, not 404), or
/// `None` for a path nothing serves.
pub fn allowed_methods(segs: &[&str]) -> Option<&'static [Method]> {
    ROUTES.iter().find(|r| r.matches(segs)).map(|r| r.methods)
}

fn task_id(raw: &str) -> Result<u32, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("Task {raw} not found: task ids are numbers"),
        )
    })
}
