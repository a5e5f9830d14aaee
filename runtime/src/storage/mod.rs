//! Where a herder keeps what should run and what is running, behind
//! Connect's two interfaces: [`ConfigBackingStore`] (connector configs,
//! target states, task configs) and [`StatusBackingStore`] (the state each
//! connector and task reports). Standalone uses a file and memory; a
//! cluster puts the same records in Kafka topics.

mod file;
mod kafka;
mod memory;

use std::collections::BTreeMap;

use async_trait::async_trait;
use connect_api::ConfigMap;
use serde::{Deserialize, Serialize};

use crate::status::{InstanceStatus, TargetState};

pub use file::FileConfigStore;
pub(crate) use kafka::log::{TopicSpec, client, create_topic};
pub use kafka::{Heartbeat, KafkaConfigStore, KafkaStatusStore, RestartRecord};
pub use memory::{MemoryConfigStore, MemoryStatusStore};

/// A store that could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot parse {path}: {source}")]
    Parse {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("connector {0} is not in the config store")]
    UnknownConnector(String),
    #[error(transparent)]
    Kafka(#[from] crate::kafka_error::KafkaCallError),
    /// The Kafka-backed store could not proceed (a write not read back in time).
    #[error("{0}")]
    Backend(String),
}

/// What one connector should be: its config, the state the user asked
/// for, and the task configs it generated (empty until it starts, and
/// again once it is stopped).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorState {
    pub config: ConfigMap,
    pub target_state: TargetState,
    /// Recomputed at every start, so never persisted by the file store.
    #[serde(skip)]
    pub tasks: Vec<ConfigMap>,
}

impl ConnectorState {
    pub fn new(config: ConfigMap, target_state: TargetState) -> Self {
        Self {
            config,
            target_state,
            tasks: Vec::new(),
        }
    }
}

/// Desired state (Connect's `ConfigBackingStore`). Reads answer from
/// memory at once; writes return once the record is durable.
#[async_trait]
pub trait ConfigBackingStore: Send + Sync {
    /// Every connector, by name.
    fn snapshot(&self) -> BTreeMap<String, ConnectorState>;
    fn connector(&self, name: &str) -> Option<ConnectorState>;
    fn contains(&self, name: &str) -> bool {
        self.connector(name).is_some()
    }
    /// Create or replace a connector's config. A new connector takes
    /// `target` (started when `None`); an existing one keeps its state
    /// unless `target` is given.
    async fn put_connector_config(
        &self,
        name: &str,
        config: ConfigMap,
        target: Option<TargetState>,
    ) -> Result<(), StorageError>;
    async fn put_target_state(&self, name: &str, target: TargetState) -> Result<(), StorageError>;
    async fn put_task_configs(&self, name: &str, tasks: Vec<ConfigMap>)
    -> Result<(), StorageError>;
    /// Remove the connector and everything stored for it.
    async fn remove_connector(&self, name: &str) -> Result<(), StorageError>;
}

/// Whose status a record is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StatusKey {
    Connector(String),
    Task(String, u32),
}

impl StatusKey {
    pub fn connector(&self) -> &str {
        match self {
            StatusKey::Connector(c) | StatusKey::Task(c, _) => c,
        }
    }
}

/// Reported states (Connect's `StatusBackingStore`). Every write carries
/// the generation of the instance that made it: a write older than the
/// one stored is dropped, so an instance being replaced cannot overwrite
/// its successor's state.
pub trait StatusBackingStore: Send + Sync {
    /// `None` deletes the status (the instance is gone, not failed).
    fn put(&self, key: &StatusKey, status: Option<InstanceStatus>, generation: u64);
    fn get(&self, key: &StatusKey) -> Option<InstanceStatus>;
    /// The statuses of a connector's tasks, by task id.
    fn tasks(&self, connector: &str) -> Vec<(u32, InstanceStatus)>;
    /// Drop every status of a deleted connector.
    fn remove_connector(&self, connector: &str);
}
