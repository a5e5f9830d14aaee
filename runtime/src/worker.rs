//! The Worker runs connector instances and their tasks on this process
//! (Connect's `Worker`); the herder decides what should run.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use connect_api::{ConfigMap, SinkConnector};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::connector_config::SinkConnectorConfig;
use crate::plugins::PluginRegistry;
use crate::sink_task::{self, TaskSpec, TaskTarget};
use crate::status::StatusReporter;
use crate::worker_config::WorkerConfig;

pub struct Worker {
    pub config: Arc<WorkerConfig>,
    pub plugins: PluginRegistry,
}

/// A task running on this worker.
pub struct RunningTask {
    pub id: u32,
    control: watch::Sender<TaskTarget>,
    handle: JoinHandle<()>,
}

impl RunningTask {
    pub fn set_target(&self, target: TaskTarget) {
        self.control.send_replace(target);
    }
}

/// Why a connector instance did not start; becomes its FAILED trace.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    InvalidConfig(Vec<connect_api::ConfigIssue>),
    #[error("{0}")]
    UnknownPlugin(String),
    #[error(transparent)]
    Connector(#[from] connect_api::SinkError),
}

/// A started connector instance and the configs of its tasks.
pub struct StartedConnector {
    pub instance: Box<dyn SinkConnector>,
    pub task_configs: Vec<ConfigMap>,
}

impl Worker {
    pub fn new(config: Arc<WorkerConfig>, plugins: PluginRegistry) -> Self {
        Self { config, plugins }
    }

    /// Start a connector instance and compute its task configs.
    pub async fn start_connector(
        &self,
        name: &str,
        config: &ConfigMap,
    ) -> Result<StartedConnector, StartError> {
        let parsed = SinkConnectorConfig::parse(config).map_err(StartError::InvalidConfig)?;
        let plugin = self
            .plugins
            .find(&parsed.common.connector_class)
            .ok_or_else(|| {
                StartError::UnknownPlugin(self.plugins.unknown(&parsed.common.connector_class))
            })?;
        // The plugin's own settings were validated when the config was
        // written; its start parses them (once) and fails on what changed
        // since, such as a model directory that is gone.
        let mut instance = plugin.create_connector();
        instance.start(config).await?;
        let task_configs = instance.task_configs(config, parsed.common.tasks_max as usize);
        tracing::info!(
            connector = name,
            tasks = task_configs.len(),
            "connector started"
        );
        Ok(StartedConnector {
            instance,
            task_configs,
        })
    }

    pub fn start_task(
        &self,
        connector: &str,
        id: u32,
        config: ConfigMap,
        target: TaskTarget,
        status: StatusReporter,
        active_topics: Arc<Mutex<BTreeSet<String>>>,
    ) -> RunningTask {
        let (control, control_rx) = watch::channel(target);
        let plugin_name = config.get("connector.class").cloned().unwrap_or_default();
        let handle = match self.plugins.find(&plugin_name) {
            Some(plugin) => sink_task::spawn(TaskSpec {
                connector: connector.to_string(),
                task_id: id,
                config,
                plugin,
                worker: self.config.clone(),
                status: status.clone(),
                control: control_rx,
                active_topics,
            }),
            None => {
                status.fail(self.plugins.unknown(&plugin_name));
                tokio::spawn(async {})
            }
        };
        RunningTask {
            id,
            control,
            handle,
        }
    }

    /// Ask a task to stop, give it `task.shutdown.graceful.timeout.ms`, then abandon it.
    pub async fn stop_task(&self, task: RunningTask) {
        task.control.send_replace(TaskTarget::Stop);
        let abort = task.handle.abort_handle();
        if tokio::time::timeout(self.config.task_shutdown_timeout, task.handle)
            .await
            .is_err()
        {
            tracing::warn!(
                task = task.id,
                "task did not stop within task.shutdown.graceful.timeout.ms; abandoning it"
            );
            abort.abort();
        }
    }

    pub async fn stop_tasks(&self, tasks: Vec<RunningTask>) {
        futures::future::join_all(tasks.into_iter().map(|t| self.stop_task(t))).await;
    }
}
