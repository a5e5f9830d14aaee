//! Handlers: parse the request, call the herder, shape Connect's JSON.

use std::collections::BTreeMap;

use bytes::Bytes;
use connect_api::ConfigMap;
use connect_runtime::herder::{Herder, RestartRequest};
use http_body_util::Full;
use hyper::header::{ALLOW, CONTENT_TYPE, HeaderName, HeaderValue, LOCATION};
use hyper::{Method, Response, StatusCode};
use serde::Serialize;

use connect_api::config::ConfigValues;

use crate::entities::{
    self, ActiveTopics, ConnectorExpansions, ConnectorOffsets, CreateConnectorRequest,
    ExpandedConnectors, Expansion, HealthState, LoggerLevelInfo, LoggerLevelRequest, LoggerLevels,
    LoggerScope, Message, SinkOffsets, TasksConfig, WorkerHealth,
};
use crate::request::Parsed;
use crate::{ApiError, AppState};

pub struct Reply {
    status: StatusCode,
    body: Option<Vec<u8>>,
    headers: Vec<(HeaderName, String)>,
    content_type: &'static str,
}

impl Reply {
    fn new(status: StatusCode, body: Option<Vec<u8>>) -> Self {
        Self {
            status,
            body,
            headers: Vec::new(),
            content_type: "application/json",
        }
    }
    /// A body that is not JSON: the UI's page, Prometheus' text format.
    pub fn text(content_type: &'static str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            content_type,
            ..Self::new(StatusCode::OK, Some(body.into()))
        }
    }
    /// The leader's answer to a forwarded request, passed on as it came.
    pub fn forwarded(status: StatusCode, body: Vec<u8>, location: Option<String>) -> Self {
        let reply = Self::new(status, (!body.is_empty()).then_some(body));
        match location {
            Some(l) => reply.with_header(LOCATION, l),
            None => reply,
        }
    }

    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    pub fn json(status: StatusCode, value: &impl Serialize) -> Self {
        let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
        Self::new(status, Some(body))
    }
    pub fn ok(value: &impl Serialize) -> Result<Self, ApiError> {
        Ok(Self::json(StatusCode::OK, value))
    }
    pub fn no_content() -> Self {
        Self::new(StatusCode::NO_CONTENT, None)
    }
    pub fn accepted() -> Self {
        Self::new(StatusCode::ACCEPTED, None)
    }
    /// OPTIONS: 200 with the methods the path allows, as Jersey answers.
    pub fn allow(methods: &[Method]) -> Self {
        let mut names: Vec<&str> = methods.iter().map(Method::as_str).collect();
        if methods.contains(&Method::GET) {
            names.push("HEAD");
        }
        names.push("OPTIONS");
        Self::new(StatusCode::OK, None).with_header(ALLOW, names.join(","))
    }
    fn with_header(mut self, name: HeaderName, value: String) -> Self {
        self.headers.push((name, value));
        self
    }
    pub fn into_response(self) -> Response<Full<Bytes>> {
        let has_body = self.body.is_some();
        let mut response = Response::new(Full::new(Bytes::from(self.body.unwrap_or_default())));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        if has_body {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        }
        // A value that cannot be a header (a forwarded `Location` with odd
        // bytes) is left out rather than losing the whole answer.
        for (name, value) in self.headers {
            match HeaderValue::from_str(&value) {
                Ok(v) => {
                    headers.append(name, v);
                }
                Err(_) => tracing::warn!(header = %name, "left out a header that is not valid"),
            }
        }
        response
    }
}

pub async fn server_info(h: &dyn Herder) -> Result<Reply, ApiError> {
    Reply::ok(&h.server_info().await)
}

/// `GET /metrics`: Prometheus' text format, when the worker records metrics.
pub fn metrics(state: &AppState) -> Result<Reply, ApiError> {
    match &state.metrics {
        Some(render) => Ok(Reply::text(
            "text/plain; version=0.0.4; charset=utf-8",
            render(),
        )),
        None => Err(ApiError::not_found()),
    }
}

/// `GET /ui`: the web UI, one self-contained page over the public REST API.
pub fn ui() -> Result<Reply, ApiError> {
    Ok(Reply::text(
        "text/html; charset=utf-8",
        include_str!("../ui/index.html"),
    ))
}

/// `GET /openapi.json`: the OpenAPI document of this API.
pub fn openapi() -> Result<Reply, ApiError> {
    Reply::ok(crate::openapi::document())
}

pub fn health(h: &dyn Herder) -> Result<Reply, ApiError> {
    if h.is_ready() {
        Reply::ok(&WorkerHealth {
            status: HealthState::Healthy,
            message: "Worker has completed startup and is ready to handle requests.".into(),
        })
    } else {
        Ok(Reply::json(
            StatusCode::SERVICE_UNAVAILABLE,
            &WorkerHealth {
                status: HealthState::Starting,
                message: "Worker is still starting up.".into(),
            },
        ))
    }
}

/// Connect's `GET /connectors`: names, or with `?expand` a map of each
/// connector's expansions; an unknown expansion is ignored, as Connect does.
pub async fn list_connectors(h: &dyn Herder, req: &Parsed) -> Result<Reply, ApiError> {
    let names = h.connectors().await;
    if !req.has_query("expand") {
        return Reply::ok(&names);
    }
    let expand: Vec<Expansion> = req
        .query_values("expand")
        .into_iter()
        .filter_map(Expansion::parse)
        .collect();
    let mut out = ExpandedConnectors::new();
    for name in names {
        // A connector deleted meanwhile is simply left out.
        let status = if expand.contains(&Expansion::Status) {
            h.connector_status(&name).await.ok()
        } else {
            None
        };
        let info = if expand.contains(&Expansion::Info) {
            h.connector_info(&name).await.ok()
        } else {
            None
        };
        out.insert(name, ConnectorExpansions { status, info });
    }
    Reply::ok(&out)
}

/// Connect's deprecated `GET /connectors/{c}/tasks-config`: task configs
/// keyed by task id (`<connector>-<n>`).
pub async fn tasks_config(h: &dyn Herder, name: &str) -> Result<Reply, ApiError> {
    let tasks: TasksConfig = h
        .task_infos(name)
        .await?
        .into_iter()
        .map(|t| (format!("{}-{}", t.id.connector, t.id.task), t.config))
        .collect();
    Reply::ok(&tasks)
}

/// A config body (`PUT …/config`, validate): string values, no nulls.
fn config_body(req: &Parsed) -> Result<ConfigMap, ApiError> {
    entities::parse::<ConfigValues>(req.json()?)?
        .into_config()
        .map_err(|e| ApiError::bad_request(e.to_string()))
}

pub async fn create_connector(h: &dyn Herder, req: &Parsed) -> Result<Reply, ApiError> {
    let body = req.json()?;
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "Request body must be a JSON object with \"name\" and \"config\"",
        ));
    }
    let (name, config, initial) = entities::parse::<CreateConnectorRequest>(body)?.into_parts()?;
    let info = h.create_connector(&name, config, initial).await?;
    Ok(Reply::json(StatusCode::CREATED, &info).with_header(LOCATION, location(req, &name)))
}

fn location(req: &Parsed, name: &str) -> String {
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    match &req.host {
        Some(host) => format!("http://{host}/connectors/{encoded}"),
        None => format!("/connectors/{encoded}"),
    }
}

pub async fn put_config(h: &dyn Herder, name: &str, req: &Parsed) -> Result<Reply, ApiError> {
    let config = config_body(req)?;
    let (created, info) = h.put_connector_config(name, config).await?;
    if created {
        Ok(Reply::json(StatusCode::CREATED, &info).with_header(LOCATION, location(req, name)))
    } else {
        Reply::ok(&info)
    }
}

pub async fn patch_config(h: &dyn Herder, name: &str, req: &Parsed) -> Result<Reply, ApiError> {
    let patch = entities::parse::<ConfigValues>(req.json()?)?.0;
    Reply::ok(&h.patch_connector_config(name, patch).await?)
}

pub async fn restart_connector(
    h: &dyn Herder,
    name: &str,
    req: &Parsed,
) -> Result<Reply, ApiError> {
    let request = RestartRequest {
        include_tasks: req.flag("includeTasks"),
        only_failed: req.flag("onlyFailed"),
    };
    let status = h.restart_connector(name, request).await?;
    // Connect answers a plain restart with 204 and no body, any other with
    // 202 and the status as the restart began.
    if !request.include_tasks && !request.only_failed {
        Ok(Reply::no_content())
    } else {
        Ok(Reply::json(StatusCode::ACCEPTED, &status))
    }
}

pub async fn active_topics(h: &dyn Herder, name: &str) -> Result<Reply, ApiError> {
    let topics = h.active_topics(name).await?;
    Reply::ok(&BTreeMap::from([(name, ActiveTopics { topics })]))
}

pub async fn get_offsets(h: &dyn Herder, name: &str) -> Result<Reply, ApiError> {
    Reply::ok(&SinkOffsets::new(h.offsets(name).await?))
}

/// `DELETE /connectors/{c}/offsets`.
pub async fn reset_offsets(h: &dyn Herder, name: &str) -> Result<Reply, ApiError> {
    h.reset_offsets(name).await?;
    Reply::ok(&Message::new(
        "The offsets for this connector have been reset successfully",
    ))
}

/// Connect's sink offsets body: every entry names topic and partition; the
/// offset is `{"kafka_offset": n}` or null (reset that partition).
pub async fn patch_offsets(h: &dyn Herder, name: &str, req: &Parsed) -> Result<Reply, ApiError> {
    let changes = entities::parse::<ConnectorOffsets>(req.json()?)?.changes()?;
    h.alter_offsets(name, changes).await?;
    Reply::ok(&Message::new(
        "The offsets for this connector have been altered successfully",
    ))
}

pub fn validate(h: &dyn Herder, plugin: &str, req: &Parsed) -> Result<Reply, ApiError> {
    let config = config_body(req)?;
    Reply::ok(&h.validate(plugin, config)?)
}

pub fn loggers_all(state: &AppState) -> LoggerLevels {
    state
        .loggers
        .all()
        .iter()
        .map(|(name, level)| (name.clone(), LoggerLevelInfo::from(level)))
        .collect()
}

pub fn logger_get(state: &AppState, name: &str) -> Result<Reply, ApiError> {
    match state.loggers.get(name) {
        Some(level) => Reply::ok(&LoggerLevelInfo::from(&level)),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("Logger {name} not found."),
        )),
    }
}

/// `PUT /admin/loggers/{l}`: 200 with the loggers changed; with
/// `?scope=cluster` Connect answers 204 (one worker is the whole cluster
/// here); an unknown scope falls back to `worker`, as Connect does.
pub fn logger_set(state: &AppState, name: &str, req: &Parsed) -> Result<Reply, ApiError> {
    let request = entities::parse::<LoggerLevelRequest>(req.json()?)?;
    let level = request.level.ok_or_else(|| {
        ApiError::bad_request("Desired 'level' parameter was not specified in request.")
    })?;
    // Connect answers an unknown level with 404.
    let changed = state
        .loggers
        .set(name, &level)
        .map_err(|e| ApiError::new(StatusCode::NOT_FOUND, e.to_string()))?;
    if LoggerScope::parse(req.query_value("scope")) == LoggerScope::Cluster {
        return Ok(Reply::no_content());
    }
    Reply::ok(&changed)
}

/// `PUT` (drain) or `DELETE` (undrain) `/admin/workers/{w}/drain`.
pub async fn drain(h: &dyn Herder, worker: &str, drained: bool) -> Result<Reply, ApiError> {
    h.drain(worker, drained).await?;
    Ok(Reply::json(
        StatusCode::ACCEPTED,
        &entities::WorkerDrain {
            worker: worker.to_string(),
            drained,
        },
    ))
}
