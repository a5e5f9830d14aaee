//! Connector and task traits: Connect's `SinkConnector` and `SinkTask` lifecycles.

use async_trait::async_trait;

use crate::config::{ConfigDef, ConfigIssue, ConfigMap};
use crate::error::{RecordError, SinkError};
use crate::record::{OffsetMap, SinkRecord, TopicPartition};

/// A connector class: what the registry holds and what `connector.class` names.
pub trait SinkConnectorPlugin: Send + Sync {
    /// Connect-style fully qualified class name.
    fn class_name(&self) -> &'static str;
    /// Short names accepted in place of the class name (Connect accepts the
    /// simple class name and the name without its `Connector` suffix).
    fn aliases(&self) -> &'static [&'static str];
    /// The plugin's own version (its crate's `CARGO_PKG_VERSION`): no
    /// default, so no plugin reports the API crate's version by mistake.
    fn version(&self) -> &'static str;
    /// The connector's own settings (the runtime adds Connect's common ones).
    fn config_def(&self) -> ConfigDef;
    /// Every problem with `config`, not just the first. The default checks
    /// types and required keys against [`Self::config_def`].
    fn validate(&self, config: &ConfigMap) -> Vec<ConfigIssue> {
        self.config_def().validate(config)
    }
    fn create_connector(&self) -> Box<dyn SinkConnector>;
    fn create_task(&self) -> Box<dyn SinkTask>;
}

/// A running connector instance: owns no data path, only splits work.
#[async_trait]
pub trait SinkConnector: Send + Sync {
    /// Checks that need the outside world (e.g. that a target collection is
    /// compatible); an error marks the connector FAILED with its message.
    async fn start(&mut self, config: &ConfigMap) -> Result<(), SinkError>;
    /// Configs for up to `max_tasks` tasks. Sink tasks share one consumer
    /// group, so the usual answer is `max_tasks` copies of the config.
    fn task_configs(&self, config: &ConfigMap, max_tasks: usize) -> Vec<ConfigMap> {
        vec![config.clone(); max_tasks.max(1)]
    }
    async fn stop(&mut self) {}
}

/// Collects records a task cannot write (Connect's `ErrantRecordReporter`).
/// The runtime routes them by `errors.tolerance` once `put` returns `Ok`:
/// dead-letter queue and log with `all`, task FAILED with `none`.
#[derive(Debug, Default)]
pub struct PutContext {
    errant: Vec<(i64, TopicPartition, RecordError)>,
}

impl PutContext {
    pub fn new() -> Self {
        Self::default()
    }
    /// Report `record` as unwritable; the task goes on with the others.
    pub fn report(&mut self, record: &SinkRecord, error: RecordError) {
        self.errant
            .push((record.offset, record.topic_partition(), error));
    }
    pub fn take_errant(&mut self) -> Vec<(i64, TopicPartition, RecordError)> {
        std::mem::take(&mut self.errant)
    }
}

/// Who a task is, told by the runtime before `start` (Connect's
/// `SinkTaskContext`): a plugin labels its own metrics with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkTaskContext {
    pub connector: String,
    pub task: u32,
}

impl SinkTaskContext {
    /// The `connector` and `task` labels of this task's series.
    pub fn metric_labels(&self) -> Vec<metrics::Label> {
        vec![
            metrics::Label::new("connector", self.connector.clone()),
            metrics::Label::new("task", self.task.to_string()),
        ]
    }
}

/// One task of a sink connector; the runtime drives it poll → put → commit.
#[async_trait]
pub trait SinkTask: Send {
    /// Called once, before `start`.
    fn initialize(&mut self, _context: &SinkTaskContext) {}
    async fn start(&mut self, config: &ConfigMap) -> Result<(), SinkError>;
    /// Partitions newly assigned to this task.
    async fn open(&mut self, _partitions: &[TopicPartition]) -> Result<(), SinkError> {
        Ok(())
    }
    /// Write a batch. On `Err(Retriable)` the same batch is delivered again
    /// after a back-off; records reported through `ctx` are only acted on when
    /// `put` returns `Ok`.
    async fn put(&mut self, records: &[SinkRecord], ctx: &mut PutContext) -> Result<(), SinkError>;
    /// Make everything `put` so far durable.
    async fn flush(&mut self, _offsets: &OffsetMap) -> Result<(), SinkError> {
        Ok(())
    }
    /// Which offsets are safe to commit. The default flushes and returns all
    /// of `offsets`; a sink that buffers returns only what it has written.
    async fn pre_commit(&mut self, offsets: &OffsetMap) -> Result<OffsetMap, SinkError> {
        self.flush(offsets).await?;
        Ok(offsets.clone())
    }
    /// Partitions taken away from this task (rebalance or shutdown).
    async fn close(&mut self, _partitions: &[TopicPartition]) -> Result<(), SinkError> {
        Ok(())
    }
    async fn stop(&mut self) {}
}
