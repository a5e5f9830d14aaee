//! The control plane (Connect's `Herder`): the one interface the REST API
//! calls, with Connect's request semantics and JSON shapes.

mod connectors_dir;
mod core;
pub mod distributed;
mod standalone;
mod validation;

use std::sync::Arc;

use async_trait::async_trait;
use connect_api::{ConfigMap, TopicPartition};
use serde::Serialize;

use crate::status::{InstanceStatus, TargetState};
use crate::storage::StorageError;
use crate::worker::Worker;
use crate::worker_config::WorkerMode;

pub use connectors_dir::load_connectors_dir;
pub use core::{HerderCore, RestartPlan};
pub use standalone::StandaloneHerder;
pub use validation::{ConfigInfos, ConfigKeyInfo};

/// The one error type of the control plane; the REST layer maps each
/// variant to Connect's status code and error body.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HerderError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0}")]
    BadRequest(String),
    /// A cluster write that only the leader may make, sent to a follower
    /// that cannot forward it (Connect's `NotLeaderException`).
    #[error("Cannot complete request because this worker is not the leader{}", .leader_url.as_ref().map(|u| format!(" (the leader is {u})")).unwrap_or_default())]
    NotLeader { leader_url: Option<String> },
    /// The cluster is rebalancing; the client may retry (409 in Connect).
    #[error("Cannot complete request because of a conflicting operation (e.g. worker rebalance)")]
    RebalanceInProgress,
    /// Switched off by a worker setting (e.g. `topic.tracking.enable`).
    #[error("{0}")]
    Forbidden(String),
    /// Details are logged; the API answers without internals.
    #[error("{0}")]
    Internal(String),
}

pub type HerderResult<T> = Result<T, HerderError>;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct ConnectorTaskId {
    pub connector: String,
    pub task: u32,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ConnectorInfo {
    pub name: String,
    pub config: ConfigMap,
    pub tasks: Vec<ConnectorTaskId>,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TaskInfo {
    pub id: ConnectorTaskId,
    pub config: ConfigMap,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TaskStatus {
    pub id: u32,
    #[serde(flatten)]
    pub status: InstanceStatus,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ConnectorStatus {
    pub name: String,
    pub connector: InstanceStatus,
    pub tasks: Vec<TaskStatus>,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PluginInfo {
    #[serde(rename = "class")]
    pub class_name: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// The Connect REST API version this host implements. Clients gate
/// features on `GET /`'s `version` (kcctl: `--scope cluster` from 3.7), so it
/// names the Connect release whose API is served, not this crate's version.
pub const CONNECT_REST_VERSION: &str = "3.9.0";

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ServerInfo {
    pub version: String,
    pub commit: String,
    pub kafka_cluster_id: Option<String>,
    /// This host's own version, beside the Connect version it implements.
    pub connect_host_version: String,
}

impl ServerInfo {
    pub fn new(commit: String, kafka_cluster_id: Option<String>) -> Self {
        Self {
            version: CONNECT_REST_VERSION.to_string(),
            commit,
            kafka_cluster_id,
            connect_host_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// Where work runs: each worker's connectors and tasks (the answer of the
/// rebalance endpoints, which Connect does not have).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct Placement {
    /// The assignment's epoch (0 on a standalone worker).
    pub epoch: u64,
    pub workers: std::collections::BTreeMap<String, PlacedWork>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct PlacedWork {
    pub connectors: Vec<String>,
    pub tasks: Vec<ConnectorTaskId>,
}

/// One partition's offset change: `None` resets it.
pub type OffsetChange = (TopicPartition, Option<i64>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartRequest {
    pub include_tasks: bool,
    pub only_failed: bool,
}

#[async_trait]
pub trait Herder: Send + Sync {
    /// Load what is stored and start this worker's share of it. The REST
    /// API may already be serving: reads answer while this runs.
    async fn start(&self) -> HerderResult<()>;
    /// True once stored and `connectors.d/` connectors have been started.
    fn is_ready(&self) -> bool;
    async fn server_info(&self) -> ServerInfo;

    async fn connectors(&self) -> Vec<String>;
    async fn connector_info(&self, name: &str) -> HerderResult<ConnectorInfo>;
    async fn connector_config(&self, name: &str) -> HerderResult<ConfigMap>;
    async fn connector_status(&self, name: &str) -> HerderResult<ConnectorStatus>;
    async fn task_infos(&self, name: &str) -> HerderResult<Vec<TaskInfo>>;
    async fn task_status(&self, name: &str, task: u32) -> HerderResult<TaskStatus>;

    async fn create_connector(
        &self,
        name: &str,
        config: ConfigMap,
        initial: TargetState,
    ) -> HerderResult<ConnectorInfo>;
    /// Create or replace; `true` when it was created.
    async fn put_connector_config(
        &self,
        name: &str,
        config: ConfigMap,
    ) -> HerderResult<(bool, ConnectorInfo)>;
    /// Merge `patch` into the config; a `None` value removes the key.
    async fn patch_connector_config(
        &self,
        name: &str,
        patch: Vec<(String, Option<String>)>,
    ) -> HerderResult<ConnectorInfo>;
    async fn delete_connector(&self, name: &str) -> HerderResult<()>;

    async fn pause(&self, name: &str) -> HerderResult<()>;
    async fn resume(&self, name: &str) -> HerderResult<()>;
    async fn stop(&self, name: &str) -> HerderResult<()>;
    /// The status as the restart began: what it restarts is RESTARTING.
    async fn restart_connector(
        &self,
        name: &str,
        request: RestartRequest,
    ) -> HerderResult<ConnectorStatus>;
    async fn restart_task(&self, name: &str, task: u32) -> HerderResult<()>;

    async fn active_topics(&self, name: &str) -> HerderResult<Vec<String>>;
    async fn reset_active_topics(&self, name: &str) -> HerderResult<()>;

    async fn offsets(&self, name: &str) -> HerderResult<Vec<(TopicPartition, i64)>>;
    async fn alter_offsets(&self, name: &str, changes: Vec<OffsetChange>) -> HerderResult<()>;
    async fn reset_offsets(&self, name: &str) -> HerderResult<()>;

    /// Recompute where work runs now (all of it, or one connector's), and
    /// answer with the placement.
    async fn rebalance(&self, connector: Option<&str>) -> HerderResult<Placement>;
    /// Move a worker's work away and keep it away (`true`), or let it take
    /// work again.
    async fn drain(&self, worker: &str, drained: bool) -> HerderResult<()>;

    fn plugins(&self, connectors_only: bool) -> Vec<PluginInfo>;
    fn plugin_config(&self, plugin: &str) -> HerderResult<Vec<ConfigKeyInfo>>;
    fn validate(&self, plugin: &str, config: ConfigMap) -> HerderResult<ConfigInfos>;

    /// Return once this worker has read every change made so far anywhere
    /// in the cluster (after a write forwarded to the leader, so that the
    /// next read here sees it). A standalone worker is always caught up.
    async fn catch_up(&self) -> HerderResult<()> {
        Ok(())
    }

    /// Stop every task, committing what is durable.
    async fn shutdown(&self);
}

/// The herder the worker's mode asks for (Connect's `ConnectStandalone` or
/// `ConnectDistributed`), not yet started.
pub async fn for_mode(worker: Worker, commit: String) -> Result<Arc<dyn Herder>, StorageError> {
    match worker.config.mode.clone() {
        WorkerMode::Standalone(settings) => {
            Ok(Arc::new(StandaloneHerder::new(worker, &settings, commit)?))
        }
        WorkerMode::Distributed(settings) => {
            tracing::info!(group.id = settings.group_id, "joining the cluster");
            Ok(distributed::DistributedHerder::open(worker, settings, commit).await?)
        }
    }
}
