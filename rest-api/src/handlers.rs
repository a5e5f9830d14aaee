//! Handlers: parse the request, call the herder, shape Connect's JSON.

use bytes::Bytes;
use connect_api::config::json_kind as kind;
use connect_api::{ConfigMap, TopicPartition};
use connect_runtime::herder::{Herder, RestartRequest, config_value, string_map};
use connect_runtime::logging::LoggerLevel;
use connect_runtime::status::TargetState;
use http_body_util::Full;
use hyper::header::{ALLOW, CONTENT_TYPE, HeaderName, LOCATION};
use hyper::{Method, Response, StatusCode};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::request::Parsed;
use crate::{ApiError, AppState};

pub struct Reply {
    status: StatusCode,
    body: Option<Vec<u8>>,
    headers: Vec<(HeaderName, String)>,
}

impl Reply {
    fn new(status: StatusCode, body: Option<Vec<u8>>) -> Self {
        Self {
            status,
            body,
            headers: Vec::new(),
        }
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
        let mut builder = Response::builder().status(self.status);
        for (name, value) in self.headers {
            builder = builder.header(name, value);
        }
        let response = match self.body {
            Some(body) => builder
                .header(CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::from(body))),
            None => builder.body(Full::new(Bytes::new())),
        };
        response.unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
    }
}

pub async fn server_info(h: &dyn Herder) -> Result<Reply, ApiError> {
    Reply::ok(&h.server_info().await)
}

pub fn health(h: &dyn Herder) -> Result<Reply, ApiError> {
    if h.is_ready() {
        Reply::ok(
            &json!({"status": "healthy", "message": "Worker has completed startup and is ready to handle requests."}),
        )
    } else {
        Ok(Reply::json(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({"status": "starting", "message": "Worker is still starting up."}),
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
    let expand = req.query_values("expand");
    let mut out = Map::new();
    for name in names {
        let mut item = Map::new();
        // A connector deleted meanwhile is simply left out.
        if expand.contains(&"status")
            && let Ok(status) = h.connector_status(&name).await
        {
            item.insert(
                "status".into(),
                serde_json::to_value(status).unwrap_or_default(),
            );
        }
        if expand.contains(&"info")
            && let Ok(info) = h.connector_info(&name).await
        {
            item.insert(
                "info".into(),
                serde_json::to_value(info).unwrap_or_default(),
            );
        }
        out.insert(name, Value::Object(item));
    }
    Reply::ok(&out)
}

/// Connect's deprecated `GET /connectors/{c}/tasks-config`: task configs
/// keyed by task id (`<connector>-<n>`).
pub async fn tasks_config(h: &dyn Herder, name: &str) -> Result<Reply, ApiError> {
    let tasks: Map<String, Value> = h
        .task_infos(name)
        .await?
        .into_iter()
        .map(|t| {
            (
                format!("{}-{}", t.id.connector, t.id.task),
                serde_json::to_value(t.config).unwrap_or_default(),
            )
        })
        .collect();
    Reply::ok(&tasks)
}

/// A JSON object of config values (see [`string_map`]), else a 400 naming the problem.
fn config_map(value: Value, what: &str) -> Result<ConfigMap, ApiError> {
    let Value::Object(obj) = value else {
        return Err(ApiError::bad_request(format!(
            "{what} must be a JSON object of string values"
        )));
    };
    string_map(obj).map_err(ApiError::bad_request)
}

pub async fn create_connector(h: &dyn Herder, req: &Parsed) -> Result<Reply, ApiError> {
    let Value::Object(mut body) = req.json()? else {
        return Err(ApiError::bad_request(
            "Request body must be a JSON object with \"name\" and \"config\"",
        ));
    };
    let name = match body.remove("name") {
        Some(Value::String(n)) if !n.trim().is_empty() => n.trim().to_string(),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return Err(ApiError::bad_request(
                "Connector name must be given in the \"name\" field",
            ));
        }
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Field \"name\" must be a string, got {}",
                kind(&other)
            )));
        }
    };
    let config = match body.remove("config") {
        Some(v @ Value::Object(_)) => config_map(v, "Field \"config\"")?,
        None | Some(Value::Null) => {
            return Err(ApiError::bad_request("Field \"config\" is required"));
        }
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Field \"config\" must be an object, got {}",
                kind(&other)
            )));
        }
    };
    let initial = match body.remove("initial_state") {
        None | Some(Value::Null) => TargetState::Started,
        Some(Value::String(s)) => TargetState::from_initial_state(&s).ok_or_else(|| {
            ApiError::bad_request(format!(
                "Invalid initial_state '{s}': must be one of RUNNING, PAUSED, STOPPED"
            ))
        })?,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Field \"initial_state\" must be a string, got {}",
                kind(&other)
            )));
        }
    };
    if let Some(field) = body.keys().next() {
        return Err(ApiError::bad_request(format!(
            "Unrecognized field \"{field}\": expected name, config, initial_state"
        )));
    }
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
    let config = config_map(req.json()?, "Request body")?;
    let (created, info) = h.put_connector_config(name, config).await?;
    if created {
        Ok(Reply::json(StatusCode::CREATED, &info).with_header(LOCATION, location(req, name)))
    } else {
        Reply::ok(&info)
    }
}

pub async fn patch_config(h: &dyn Herder, name: &str, req: &Parsed) -> Result<Reply, ApiError> {
    let Value::Object(body) = req.json()? else {
        return Err(ApiError::bad_request("Request body must be a JSON object"));
    };
    let patch = body
        .into_iter()
        .map(|(k, v)| Ok((k.clone(), config_value(&k, v)?)))
        .collect::<Result<Vec<_>, String>>()
        .map_err(ApiError::bad_request)?;
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
    match h.restart_connector(name, request).await? {
        None => Ok(Reply::no_content()),
        Some(status) => Ok(Reply::json(StatusCode::ACCEPTED, &status)),
    }
}

pub async fn active_topics(h: &dyn Herder, name: &str) -> Result<Reply, ApiError> {
    let topics = h.active_topics(name).await?;
    Reply::ok(&json!({ name: { "topics": topics } }))
}

pub async fn get_offsets(h: &dyn Herder, name: &str) -> Result<Reply, ApiError> {
    let offsets: Vec<Value> = h
        .offsets(name)
        .await?
        .into_iter()
        .map(|(tp, offset)| {
            json!({
                "partition": {"kafka_topic": tp.topic, "kafka_partition": tp.partition},
                "offset": {"kafka_offset": offset},
            })
        })
        .collect();
    Reply::ok(&json!({ "offsets": offsets }))
}

/// Connect's sink offsets body: every entry names topic and partition; the
/// offset is `{"kafka_offset": n}` or null (reset that partition).
pub async fn patch_offsets(h: &dyn Herder, name: &str, req: &Parsed) -> Result<Reply, ApiError> {
    let body = req.json()?;
    let entries = body
        .get("offsets")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            ApiError::bad_request(
                "Partitions / offsets need to be provided for an alter offsets request",
            )
        })?;
    if entries.is_empty() {
        return Err(ApiError::bad_request(
            "Partitions / offsets need to be provided for an alter offsets request",
        ));
    }
    let mut changes = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let partition = entry.get("partition").and_then(Value::as_object).ok_or_else(|| {
            ApiError::bad_request(format!("offsets[{i}]: \"partition\" must be an object with kafka_topic and kafka_partition"))
        })?;
        let topic = partition
            .get("kafka_topic")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "offsets[{i}].partition: \"kafka_topic\" must be a string"
                ))
            })?;
        let part = partition
            .get("kafka_partition")
            .and_then(integer)
            .filter(|p| (0..=i32::MAX as i64).contains(p))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "offsets[{i}].partition: \"kafka_partition\" must be a non-negative integer"
                ))
            })?;
        let offset = match entry.get("offset") {
            None | Some(Value::Null) => None,
            Some(o) => Some(
                o.get("kafka_offset")
                    .and_then(integer)
                    .filter(|o| *o >= 0)
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "offsets[{i}].offset: \"kafka_offset\" must be a non-negative integer"
                        ))
                    })?,
            ),
        };
        changes.push((TopicPartition::new(topic, part as i32), offset));
    }
    h.alter_offsets(name, changes).await?;
    Reply::ok(&json!({"message": "The offsets for this connector have been altered successfully"}))
}

/// A JSON integer, or a string holding one: Connect's
/// `SinkUtils.parseSinkConnectorOffsets` accepts both.
fn integer(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub fn validate(h: &dyn Herder, plugin: &str, req: &Parsed) -> Result<Reply, ApiError> {
    let config = config_map(req.json()?, "Request body")?;
    Reply::ok(&h.validate(plugin, config)?)
}

/// Connect's `LoggerLevel`: the level and when this worker last changed it.
fn logger_level(level: &LoggerLevel) -> Value {
    json!({ "level": level.level, "last_modified": level.last_modified })
}

pub fn loggers_all(state: &AppState) -> Value {
    Value::Object(
        state
            .loggers
            .all()
            .iter()
            .map(|(name, level)| (name.clone(), logger_level(level)))
            .collect(),
    )
}

pub fn logger_get(state: &AppState, name: &str) -> Result<Reply, ApiError> {
    match state.loggers.get(name) {
        Some(level) => Reply::ok(&logger_level(&level)),
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
    let body = req.json()?;
    let level = body.get("level").and_then(Value::as_str).ok_or_else(|| {
        ApiError::bad_request("Desired 'level' parameter was not specified in request.")
    })?;
    // Connect answers an unknown level with 404.
    let changed = state
        .loggers
        .set(name, level)
        .map_err(|e| ApiError::new(StatusCode::NOT_FOUND, e))?;
    let scope = req.query_value("scope").unwrap_or("worker");
    if scope.eq_ignore_ascii_case("cluster") {
        return Ok(Reply::no_content());
    }
    Reply::ok(&changed)
}
