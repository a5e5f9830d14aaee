//! Records as a sink task sees them: converted key and value plus Kafka coordinates.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use bytes::Bytes;

use crate::schema::{SchemaAndValue, Value};

/// A topic partition; ordered so offset maps print and commit deterministically.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    pub topic: Arc<str>,
    pub partition: i32,
}

impl TopicPartition {
    pub fn new(topic: impl Into<Arc<str>>, partition: i32) -> Self {
        Self {
            topic: topic.into(),
            partition,
        }
    }
}

impl fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

/// Next offset to consume for each partition, as Kafka commits it (last processed + 1).
pub type OffsetMap = BTreeMap<TopicPartition, i64>;

/// A converted key or value. Which variant appears depends on the converter:
/// `JsonConverter` gives `Json` (or `Typed` with `schemas.enable`), `StringConverter`
/// `Text`, `ByteArrayConverter` `Bytes`, the Schema Registry converters `Typed`.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// Absent key, or a tombstone value.
    Null,
    Json(serde_json::Value),
    Text(String),
    Bytes(Bytes),
    /// A value with its Connect schema.
    Typed(SchemaAndValue),
}

impl Data {
    pub fn is_null(&self) -> bool {
        matches!(
            self,
            Data::Null
                | Data::Json(serde_json::Value::Null)
                | Data::Typed(SchemaAndValue {
                    value: Value::Null,
                    ..
                })
        )
    }

    /// The value as JSON: JSON as is, text parsed as JSON when it is JSON,
    /// otherwise as a JSON string. Bytes are not JSON.
    pub fn to_json(&self) -> Option<serde_json::Value> {
        match self {
            Data::Null => Some(serde_json::Value::Null),
            Data::Json(v) => Some(v.clone()),
            Data::Text(s) => Some(
                serde_json::from_str(s).unwrap_or_else(|_| serde_json::Value::String(s.clone())),
            ),
            Data::Bytes(_) => None,
            Data::Typed(v) => Some(v.to_json()),
        }
    }

    /// How Connect's FileStream sink prints a value: its string form.
    pub fn to_display_string(&self) -> String {
        match self {
            Data::Null => "null".to_string(),
            Data::Json(serde_json::Value::String(s)) => s.clone(),
            Data::Json(v) => v.to_string(),
            Data::Text(s) => s.clone(),
            Data::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
            Data::Typed(v) => v.to_display_string(),
        }
    }
}

/// One consumed record after conversion.
#[derive(Debug, Clone)]
pub struct SinkRecord {
    pub topic: Arc<str>,
    pub partition: i32,
    pub offset: i64,
    /// Milliseconds since the epoch, when the broker supplied one.
    pub timestamp: Option<i64>,
    pub key: Data,
    pub value: Data,
    pub headers: Vec<(String, Option<Bytes>)>,
}

impl SinkRecord {
    pub fn topic_partition(&self) -> TopicPartition {
        TopicPartition::new(self.topic.clone(), self.partition)
    }
}
