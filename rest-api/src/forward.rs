//! Request forwarding (Connect's `RestClient` in `forwardRequest`): a write
//! that only the leader may make is sent on to the leader, marked
//! `forward=false` so it is never sent on again, and the leader's answer
//! is returned as it came.
//!
//! The request's `Authorization` header goes along, as Connect forwards it,
//! so the leader authenticates the same user. An https cluster is reached
//! over TLS trusting the worker's truststore (its client certificate shown
//! when the leader asks for one): see [`configure`].

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use http_body_util::Full;
use hyper::header::HeaderValue;
use hyper::{Request, StatusCode, Uri};
use rustls::ClientConfig;

use crate::ApiError;
use crate::handlers::Reply;
use crate::request::Parsed;

/// Connect's message when the leader cannot be reached.
const UNREACHABLE: &str =
    "Cannot complete request because of a conflicting operation (e.g. worker rebalance)";

/// How long a forwarded request may take, as Connect's request timeout.
const TIMEOUT: Duration = Duration::from_secs(60);

tokio::task_local! {
    /// The `Authorization` header of the request being served (set by
    /// [`crate::serve`]), passed on to the leader.
    pub(crate) static AUTHORIZATION: Option<HeaderValue>;
}

/// How this worker reaches the leader.
struct Forwarding {
    /// Workers are reached over https (this worker advertises https): the
    /// leader's announced `http://host:port` is taken as `https://`.
    https: bool,
    tls: Arc<ClientConfig>,
}

static FORWARDING: OnceLock<Forwarding> = OnceLock::new();

/// Set once at start-up: whether the cluster's workers are reached over
/// https, and the TLS client config for it (see
/// [`crate::tls::client_config`]). Without it forwarding uses the leader's
/// URL as announced, trusting the system's CA certificates.
pub fn configure(https: bool, tls: Arc<ClientConfig>) {
    if FORWARDING.set(Forwarding { https, tls }).is_err() {
        tracing::warn!("request forwarding was already configured");
    }
}

fn forwarding() -> &'static Forwarding {
    FORWARDING.get_or_init(|| Forwarding {
        https: false,
        tls: crate::tls::client_config(None).unwrap_or_else(|e| {
            tracing::warn!("TLS for forwarding: {e}");
            Arc::new(
                ClientConfig::builder_with_provider(Arc::new(
                    rustls::crypto::ring::default_provider(),
                ))
                .with_safe_default_protocol_versions()
                .expect("ring supports the default TLS versions")
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth(),
            )
        }),
    })
}

/// The leader's URL as this worker reaches it (workers announce their
/// scheme; an announcement from an older worker says `http://`).
fn leader_base(leader: &str, https: bool) -> String {
    let leader = leader.trim_end_matches('/');
    match leader.strip_prefix("http://") {
        Some(rest) if https => format!("https://{rest}"),
        _ => leader.to_string(),
    }
}

pub async fn to_leader(leader: &str, req: &Parsed) -> Result<Reply, ApiError> {
    let forwarding = forwarding();
    let separator = if req.path_and_query.contains('?') {
        '&'
    } else {
        '?'
    };
    let url = format!(
        "{}{}{separator}forward=false",
        leader_base(leader, forwarding.https),
        req.path_and_query
    );
    let unreachable = |e: &dyn std::fmt::Display| {
        tracing::warn!(leader, "cannot forward to the leader: {e}");
        ApiError::new(StatusCode::CONFLICT, UNREACHABLE)
    };
    let uri: Uri = url.parse().map_err(|e| unreachable(&e))?;
    let authority = uri
        .authority()
        .map(ToString::to_string)
        .ok_or_else(|| unreachable(&"the leader's URL has no host"))?;
    let mut request = Request::builder()
        .method(req.method.clone())
        .uri(uri.path_and_query().map_or("/", |p| p.as_str()))
        .header(hyper::header::HOST, authority);
    if let Some(content_type) = &req.content_type {
        request = request.header(hyper::header::CONTENT_TYPE, content_type);
    }
    if let Some(authorization) = AUTHORIZATION.try_with(Clone::clone).ok().flatten() {
        request = request.header(hyper::header::AUTHORIZATION, authorization);
    }
    let request = request
        .body(Full::new(req.body.clone()))
        .map_err(|e| unreachable(&e))?;
    let (status, location, body) = tokio::time::timeout(
        TIMEOUT,
        connect_runtime::tls::send(&uri, &forwarding.tls, request),
    )
    .await
    .map_err(|_| unreachable(&"timed out"))?
    .map_err(|e| unreachable(&e))?;
    let status = StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    Ok(Reply::forwarded(status, body.to_vec(), location))
}

#[cfg(test)]
mod tests {
    use super::leader_base;

    #[test]
    fn an_https_cluster_reaches_the_leader_over_https() {
        assert_eq!(leader_base("http://a:1/", true), "https://a:1");
        assert_eq!(leader_base("http://a:1", false), "http://a:1");
        assert_eq!(leader_base("https://a:1", true), "https://a:1");
    }
}
