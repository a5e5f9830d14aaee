//! The sink connector plugin contract, in the shape of Kafka Connect's
//! `SinkConnector` / `SinkTask`, written for async Rust.
//!
//! A record's path through a host: the runtime polls Kafka, converts raw bytes
//! into [`SinkRecord`]s, hands batches to [`SinkTask::put`], asks
//! [`SinkTask::pre_commit`] which offsets are durable and only then commits them.

pub mod config;
pub mod connector;
pub mod error;
pub mod metrics;
pub mod record;
pub mod schema;

pub use config::{ConfigDef, ConfigIssue, ConfigKey, ConfigMap, ConfigType, Importance};
pub use connector::{PutContext, SinkConnector, SinkConnectorPlugin, SinkTask, SinkTaskContext};
pub use error::{RecordError, SinkError};
pub use record::{Data, OffsetMap, SinkRecord, TopicPartition};
pub use schema::{Field, Schema, SchemaAndValue, SchemaKind};
