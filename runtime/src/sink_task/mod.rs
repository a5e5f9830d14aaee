//! Running one sink task: a Kafka consumer in the connector's group feeding
//! `SinkTask::put`, committing only what the sink has made durable.

mod consumer;
mod worker_sink_task;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use connect_api::{ConfigMap, SinkConnectorPlugin};
use tokio::sync::watch;

use crate::config_provider::Secrets;
use crate::status::StatusReporter;
use crate::worker_config::WorkerConfig;

pub use consumer::{close as close_consumer, consumer_config};
pub use worker_sink_task::{WorkerSinkTask, spawn};

/// What the herder wants a running task to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskTarget {
    Running,
    /// Stop fetching, keep the partitions.
    Paused,
    /// Commit what is durable, close, exit.
    Stop,
}

/// Everything a task needs to start.
pub struct TaskSpec {
    pub connector: String,
    pub task_id: u32,
    pub config: ConfigMap,
    pub plugin: Arc<dyn SinkConnectorPlugin>,
    pub worker: Arc<WorkerConfig>,
    /// Where the task reports its state.
    pub status: StatusReporter,
    pub control: watch::Receiver<TaskTarget>,
    /// Topics this connector has consumed from (Connect's active topics).
    pub active_topics: Arc<Mutex<BTreeSet<String>>>,
    /// Values of `config` the task never reports: masked in its status
    /// trace, its log lines, the error log and the DLQ headers.
    pub secrets: Secrets,
}
