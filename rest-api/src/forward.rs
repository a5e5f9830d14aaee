//! Request forwarding (Connect's `RestClient` in `forwardRequest`): a write
//! that only the leader may make is sent on to the leader, marked
//! `forward=false` so it is never sent on again, and the leader's answer
//! is returned as it came.

use std::time::Duration;

use hyper::StatusCode;

use crate::ApiError;
use crate::handlers::Reply;
use crate::request::Parsed;

/// Connect's message when the leader cannot be reached.
const UNREACHABLE: &str =
    "Cannot complete request because of a conflicting operation (e.g. worker rebalance)";

pub async fn to_leader(leader: &str, req: &Parsed) -> Result<Reply, ApiError> {
    let separator = if req.path_and_query.contains('?') {
        '&'
    } else {
        '?'
    };
    let url = format!(
        "{}{}{separator}forward=false",
        leader.trim_end_matches('/'),
        req.path_and_query
    );
    let method = reqwest::Method::from_bytes(req.method.as_str().as_bytes()).map_err(|_| {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "HTTP 405 Method Not Allowed",
        )
    })?;
    let mut request = reqwest::Client::new()
        .request(method, &url)
        .timeout(Duration::from_secs(60))
        .body(req.body.to_vec());
    if let Some(content_type) = &req.content_type {
        request = request.header(reqwest::header::CONTENT_TYPE, content_type);
    }
    let response = request.send().await.map_err(|e| {
        tracing::warn!(leader, "cannot forward to the leader: {e}");
        ApiError::new(StatusCode::CONFLICT, UNREACHABLE)
    })?;
    let status = StatusCode::from_u16(response.status().as_u16())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .map(str::to_string);
    let body = response
        .bytes()
        .await
        .map_err(|_| ApiError::new(StatusCode::CONFLICT, UNREACHABLE))?;
    Ok(Reply::forwarded(status, body.to_vec(), location))
}
