//! Connect's REST entities, typed with serde and described with schemars
//! (the OpenAPI document's schemas come from these types). Request bodies
//! refuse the unknown fields Connect's Jackson mapping refuses, and a body
//! that does not fit answers 400 naming the field.

use std::borrow::Cow;
use std::collections::BTreeMap;

use connect_api::config::ConfigValues;
use connect_api::{ConfigMap, TopicPartition};
use connect_runtime::herder::{ConnectorInfo, ConnectorStatus};
use connect_runtime::logging::LoggerLevel;
use connect_runtime::status::TargetState;
use indexmap::IndexMap;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ApiError;

/// Parse `body` as `T`; a mismatch is a 400 naming the field, an unknown
/// field is refused as Jackson refuses it.
pub fn parse<T: DeserializeOwned>(body: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize::<_, T>(body).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        if let Some(rest) = inner.strip_prefix("unknown field `") {
            let (field, expected) = rest.split_once('`').unwrap_or((rest, ""));
            let expected = expected
                .trim_start_matches(", expected one of ")
                .trim_start_matches(", expected ")
                .replace('`', "");
            return ApiError::bad_request(format!(
                "Unrecognized field \"{field}\": expected {expected}"
            ));
        }
        if inner.starts_with("Invalid value for config") {
            return ApiError::bad_request(inner);
        }
        let inner = plain_type_error(&inner).unwrap_or(inner);
        if path.is_empty() || path == "." {
            ApiError::bad_request(format!("Request body {inner}"))
        } else {
            ApiError::bad_request(format!("Field \"{path}\" {inner}"))
        }
    })
}

/// serde's "invalid type: integer `5`, expected a string" as JSON words:
/// "must be a string, got a number".
fn plain_type_error(message: &str) -> Option<String> {
    let rest = message.strip_prefix("invalid type: ")?;
    let (got, expected) = rest.split_once(", expected ")?;
    let json_word = |serde: &str| {
        let head = serde.split([' ', '`']).next().unwrap_or(serde);
        match head {
            "integer" | "floating" => "a number",
            "sequence" => "an array",
            "map" | "struct" => "an object",
            "boolean" => "a boolean",
            "string" => "a string",
            "null" | "unit" => "null",
            _ => "something else",
        }
        .to_string()
    };
    let expected = match expected {
        "a string" | "a sequence" | "a map" | "a boolean" | "i64" | "u32" => {
            json_word(expected.trim_start_matches("a "))
        }
        other => other.to_string(),
    };
    Some(format!("must be {expected}, got {}", json_word(got)))
}

/// `POST /connectors` (Connect's `CreateConnectorRequest`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateConnectorRequest {
    /// The connector's name (blank is refused).
    #[schemars(required)]
    pub name: Option<String>,
    #[schemars(with = "ConfigValues")]
    pub config: Option<ConfigValues>,
    /// `RUNNING` (the default), `PAUSED` or `STOPPED`, in any case.
    pub initial_state: Option<String>,
}

impl CreateConnectorRequest {
    /// Name, config and initial state, each required or checked as Connect does.
    pub fn into_parts(self) -> Result<(String, ConfigMap, TargetState), ApiError> {
        // Java's `String.trim()`, as Connect trims: spaces and ASCII
        // controls only, so that a name ending in another control
        // character (U+0085) is refused rather than silently cut.
        let name = self
            .name
            .map(|n| n.trim_matches(|c: char| c <= ' ').to_string())
            .filter(|n| !n.is_empty())
            .ok_or_else(|| {
                ApiError::bad_request("Connector name must be given in the \"name\" field")
            })?;
        let config = self
            .config
            .ok_or_else(|| ApiError::bad_request("Field \"config\" is required"))?
            .into_config()
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let initial = match self.initial_state {
            None => TargetState::Started,
            Some(s) => TargetState::from_initial_state(&s).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Invalid initial_state '{s}': must be one of RUNNING, PAUSED, STOPPED"
                ))
            })?,
        };
        Ok((name, config, initial))
    }
}

/// An integer that may come as a JSON string, as Connect's
/// `SinkUtils.parseSinkConnectorOffsets` accepts both.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lenient(pub i64);

/// Its deserializer is hand-written, so is its schema: an integer, or a
/// string holding one.
impl JsonSchema for Lenient {
    fn schema_name() -> Cow<'static, str> {
        "LenientInteger".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "An integer, or a string holding one",
            "anyOf": [
                {"type": "integer"},
                {"type": "string", "pattern": "^\\s*[+-]?[0-9]+\\s*$"}
            ]
        })
    }
}

impl<'de> Deserialize<'de> for Lenient {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
        .map(Lenient)
        .ok_or_else(|| de::Error::custom("must be an integer"))
    }
}

/// `{"kafka_topic", "kafka_partition"}` of a sink connector's offset.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SinkPartition {
    pub kafka_topic: String,
    pub kafka_partition: Lenient,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SinkOffset {
    pub kafka_offset: Lenient,
}

/// One entry of `PATCH /connectors/{c}/offsets` (Connect's `ConnectorOffset`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectorOffset {
    pub partition: SinkPartition,
    /// `null` resets the partition.
    #[serde(default)]
    pub offset: Option<SinkOffset>,
}

/// `PATCH /connectors/{c}/offsets` (Connect's `ConnectorOffsets`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectorOffsets {
    /// At least one entry.
    #[schemars(required, length(min = 1))]
    pub offsets: Option<Vec<ConnectorOffset>>,
}

impl ConnectorOffsets {
    /// The changes asked for; Connect's messages for an empty request and
    /// for numbers out of range.
    pub fn changes(self) -> Result<Vec<(TopicPartition, Option<i64>)>, ApiError> {
        let entries = self.offsets.filter(|o| !o.is_empty()).ok_or_else(|| {
            ApiError::bad_request(
                "Partitions / offsets need to be provided for an alter offsets request",
            )
        })?;
        entries
            .into_iter()
            .enumerate()
            .map(|(i, entry)| {
                let partition = i32::try_from(entry.partition.kafka_partition.0)
                    .ok()
                    .filter(|p| *p >= 0)
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "offsets[{i}].partition: \"kafka_partition\" must be a non-negative integer"
                        ))
                    })?;
                let offset = match entry.offset {
                    None => None,
                    Some(o) if o.kafka_offset.0 >= 0 => Some(o.kafka_offset.0),
                    Some(_) => {
                        return Err(ApiError::bad_request(format!(
                            "offsets[{i}].offset: \"kafka_offset\" must be a non-negative integer"
                        )));
                    }
                };
                Ok((
                    TopicPartition::new(entry.partition.kafka_topic, partition),
                    offset,
                ))
            })
            .collect()
    }
}

/// `PUT /admin/loggers/{l}` (Connect's `LoggerLevel` request).
#[derive(Debug, Deserialize, JsonSchema)]
pub struct LoggerLevelRequest {
    /// A Log4j level name: ALL, TRACE, DEBUG, INFO, WARN, ERROR, FATAL, OFF.
    #[schemars(required)]
    pub level: Option<String>,
}

// Answers. Each handler replies with one of these (or a runtime type), so
// the OpenAPI document describes what is really sent.

/// `GET /health` (Connect's `WorkerStatus`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct WorkerHealth {
    pub status: HealthState,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HealthState {
    /// 200: started and ready.
    Healthy,
    /// 503: still starting up.
    Starting,
}

/// What `GET /connectors?expand=…` may add about each connector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Expansion {
    Status,
    Info,
}

impl Expansion {
    /// An unknown expansion is ignored, as Connect does.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "status" => Some(Self::Status),
            "info" => Some(Self::Info),
            _ => None,
        }
    }
}

/// One connector in `GET /connectors?expand=…`: what was asked for.
#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct ConnectorExpansions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ConnectorStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info: Option<ConnectorInfo>,
}

/// `GET /connectors?expand=…`: each connector's expansions, by name.
pub type ExpandedConnectors = IndexMap<String, ConnectorExpansions>;

/// `GET /connectors/{c}/tasks-config`: each task's config, keyed
/// `<connector>-<task>`, in task order.
pub type TasksConfig = IndexMap<String, ConfigMap>;

/// `GET /connectors/{c}/topics` (Connect's `ActiveTopicsInfo`), keyed by
/// the connector's name.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ActiveTopics {
    pub topics: Vec<String>,
}

/// `GET /connectors/{c}/offsets`: a sink connector's committed offsets.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SinkOffsets {
    pub offsets: Vec<SinkPartitionOffset>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SinkPartitionOffset {
    pub partition: KafkaPartition,
    pub offset: KafkaOffset,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct KafkaPartition {
    pub kafka_topic: String,
    pub kafka_partition: i32,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct KafkaOffset {
    pub kafka_offset: i64,
}

impl SinkOffsets {
    pub fn new(offsets: Vec<(TopicPartition, i64)>) -> Self {
        Self {
            offsets: offsets
                .into_iter()
                .map(|(tp, offset)| SinkPartitionOffset {
                    partition: KafkaPartition {
                        kafka_topic: tp.topic.to_string(),
                        kafka_partition: tp.partition,
                    },
                    offset: KafkaOffset {
                        kafka_offset: offset,
                    },
                })
                .collect(),
        }
    }
}

/// A done request's message (Connect's `Message`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct Message {
    pub message: String,
}

impl Message {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// `PUT`/`DELETE /admin/workers/{w}/drain`: the worker's drain state now.
#[derive(Debug, Serialize, JsonSchema)]
pub struct WorkerDrain {
    pub worker: String,
    /// True: its work moved away and stays away.
    pub drained: bool,
}

/// Connect's `LoggerLevel`: a level and when this worker last changed it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct LoggerLevelInfo {
    pub level: String,
    /// Milliseconds since the epoch; null when unchanged since start-up.
    pub last_modified: Option<i64>,
}

impl From<&LoggerLevel> for LoggerLevelInfo {
    fn from(level: &LoggerLevel) -> Self {
        Self {
            level: level.level.clone(),
            last_modified: level.last_modified,
        }
    }
}

/// `GET /admin/loggers`: every logger with an explicit level, by name.
pub type LoggerLevels = BTreeMap<String, LoggerLevelInfo>;

/// `PUT /admin/loggers/{l}?scope=…`: this worker only, or the whole cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LoggerScope {
    Worker,
    Cluster,
}

impl LoggerScope {
    /// Any case; an unknown scope falls back to `worker`, as Connect does.
    pub fn parse(raw: Option<&str>) -> Self {
        match raw {
            Some(s) if s.eq_ignore_ascii_case("cluster") => Self::Cluster,
            _ => Self::Worker,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn message(e: ApiError) -> String {
        e.message
    }

    #[test]
    fn a_create_request_names_what_is_wrong() {
        let ok: CreateConnectorRequest =
            parse(json!({"name": " c ", "config": {"tasks.max": 2, "x": true, "y": "z"}})).unwrap();
        let (name, config, initial) = ok.into_parts().unwrap();
        assert_eq!(name, "c");
        assert_eq!(config["tasks.max"], "2");
        assert_eq!(config["x"], "true");
        assert_eq!(initial, TargetState::Started);
        // Trimmed as Java trims: not U+0085, which the herder then refuses.
        let trimmed: CreateConnectorRequest =
            parse(json!({"name": "\t c\n\u{85}", "config": {}})).unwrap();
        assert_eq!(trimmed.into_parts().unwrap().0, "c\n\u{85}");

        let unknown =
            parse::<CreateConnectorRequest>(json!({"name": "c", "config": {}, "extra": 1}));
        assert!(message(unknown.unwrap_err()).starts_with("Unrecognized field \"extra\""));
        let bad_name = parse::<CreateConnectorRequest>(json!({"name": 7, "config": {}}));
        assert_eq!(
            message(bad_name.unwrap_err()),
            "Field \"name\" must be a string, got a number"
        );
        let bad_config = parse::<CreateConnectorRequest>(json!({"name": "c", "config": [1]}));
        assert_eq!(
            message(bad_config.unwrap_err()),
            "Field \"config\" must be a JSON object of string values, got an array"
        );
        let nested = parse::<CreateConnectorRequest>(json!({"name": "c", "config": {"a": [1]}}));
        let nested = message(nested.unwrap_err());
        assert!(
            nested.contains("config \"a\"") && nested.contains("an array"),
            "{nested}"
        );
        let null_value: CreateConnectorRequest =
            parse(json!({"name": "c", "config": {"a": null}})).unwrap();
        assert!(null_value.into_parts().is_err());
        let no_config: CreateConnectorRequest = parse(json!({"name": "c"})).unwrap();
        assert_eq!(
            message(no_config.into_parts().unwrap_err()),
            "Field \"config\" is required"
        );
        let state: CreateConnectorRequest =
            parse(json!({"name": "c", "config": {}, "initial_state": "stopped"})).unwrap();
        assert_eq!(state.into_parts().unwrap().2, TargetState::Stopped);
    }

    #[test]
    fn offsets_take_numbers_or_strings_and_null_resets() {
        let request: ConnectorOffsets = parse(json!({"offsets": [
            {"partition": {"kafka_topic": "t", "kafka_partition": "1"}, "offset": {"kafka_offset": 5}},
            {"partition": {"kafka_topic": "t", "kafka_partition": 2}, "offset": null},
        ]}))
        .unwrap();
        assert_eq!(
            request.changes().unwrap(),
            vec![
                (TopicPartition::new("t", 1), Some(5)),
                (TopicPartition::new("t", 2), None)
            ]
        );
        let empty: ConnectorOffsets = parse(json!({"offsets": []})).unwrap();
        assert!(message(empty.changes().unwrap_err()).contains("need to be provided"));
        let negative: ConnectorOffsets = parse(json!({"offsets": [
            {"partition": {"kafka_topic": "t", "kafka_partition": -1}, "offset": null}]}))
        .unwrap();
        assert!(message(negative.changes().unwrap_err()).contains("kafka_partition"));
        let missing =
            parse::<ConnectorOffsets>(json!({"offsets": [{"partition": {"kafka_topic": "t"}}]}));
        assert!(message(missing.unwrap_err()).contains("kafka_partition"));
    }
}
