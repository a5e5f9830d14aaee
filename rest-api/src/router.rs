//! Path → handler. Known paths with the wrong method answer 405, unknown
//! paths 404, both with Connect's error body.

use std::sync::Arc;

use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};

use crate::handlers::{self, Reply};
use crate::request::Parsed;
use crate::{ApiError, AppState};

pub async fn route(
    state: Arc<AppState>,
    req: Request<Incoming>,
) -> Result<Response<Full<bytes::Bytes>>, std::convert::Infallible> {
    let reply = match Parsed::from(req).await {
        Ok(parsed) => {
            tracing::debug!(method = %parsed.method, path = ?parsed.segments, "request");
            dispatch(&state, &parsed).await
        }
        Err(e) => Err(e),
    };
    Ok(match reply {
        Ok(reply) => reply.into_response(),
        Err(e) => Reply::json(e.status, &e.body()).into_response(),
    })
}

async fn dispatch(state: &AppState, req: &Parsed) -> Result<Reply, ApiError> {
    let h = state.herder.as_ref();
    let segs: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    let m = &req.method;
    use handlers::*;
    match (segs.as_slice(), m) {
        ([], &Method::GET) => server_info(h).await,
        (["health"], &Method::GET) => health(h),
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
        (["connectors", c, "offsets"], &Method::DELETE) => {
            h.reset_offsets(c).await?;
            Reply::ok(
                &serde_json::json!({"message": "The offsets for this connector have been reset successfully"}),
            )
        }
        (["connector-plugins"], &Method::GET) => {
            Reply::ok(&h.plugins(req.flag_default_true("connectorsOnly")?))
        }
        (["connector-plugins", p, "config"], &Method::GET) => Reply::ok(&h.plugin_config(p)?),
        (["connector-plugins", p, "config", "validate"], &Method::PUT) => validate(h, p, req),
        (["admin", "loggers"], &Method::GET) => Reply::ok(&loggers_all(state)),
        (["admin", "loggers", name], &Method::GET) => logger_get(state, name),
        (["admin", "loggers", name], &Method::PUT) => logger_set(state, name, req),
        _ if path_exists(&segs) => Err(ApiError::method_not_allowed()),
        _ => Err(ApiError::not_found()),
    }
}

/// Whether some method serves this path (so the answer is 405, not 404).
fn path_exists(segs: &[&str]) -> bool {
    matches!(
        segs,
        [] | ["health"]
            | ["connectors"]
            | ["connectors", _]
            | [
                "connectors",
                _,
                "config"
                    | "status"
                    | "tasks"
                    | "restart"
                    | "pause"
                    | "resume"
                    | "stop"
                    | "topics"
                    | "offsets"
            ]
            | ["connectors", _, "tasks", _, "status" | "restart"]
            | ["connectors", _, "topics", "reset"]
            | ["connector-plugins"]
            | ["connector-plugins", _, "config"]
            | ["connector-plugins", _, "config", "validate"]
            | ["admin", "loggers"]
            | ["admin", "loggers", _]
    )
}

fn task_id(raw: &str) -> Result<u32, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("Task {raw} not found: task ids are numbers"),
        )
    })
}
