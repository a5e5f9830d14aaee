//! The Worker runs connector instances and their tasks on this process
//! (Connect's `Worker`); the herder decides what should run.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use connect_api::{ConfigMap, SinkConnector};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config_provider::{self, ConfigProviderError, ConfigProviders, Secrets};
use crate::connector_config::{SinkConnectorConfig, def_for, sink_connector_def};
use crate::monitoring::TaskMetrics;
use crate::plugins::PluginRegistry;
use crate::sink_task::{self, TaskSpec, TaskTarget};
use crate::status::{State, StatusReporter};
use crate::worker_config::WorkerConfig;

pub struct Worker {
    pub config: Arc<WorkerConfig>,
    pub plugins: PluginRegistry,
    /// `config.providers`: what `${provider:path:key}` references resolve with.
    providers: ConfigProviders,
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

/// Why a connector instance did not start; becomes its FAILED trace. The
/// messages carry no secret: the worker masks them before they get here.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    InvalidConfig(Vec<connect_api::ConfigIssue>),
    #[error("{0}")]
    UnknownPlugin(String),
    /// A `${provider:path:key}` reference without a value (named, never its value).
    #[error(transparent)]
    ConfigProvider(#[from] ConfigProviderError),
    #[error(transparent)]
    Connector(#[from] connect_api::SinkError),
}

/// A started connector instance and the configs of its tasks.
pub struct StartedConnector {
    pub instance: Box<dyn SinkConnector>,
    pub task_configs: Vec<ConfigMap>,
}

impl Worker {
    /// A worker with the config providers its settings name. Settings that
    /// name them wrongly are logged, and fail every config that references
    /// a provider (naming the setting) while other connectors run.
    pub fn new(config: Arc<WorkerConfig>, plugins: PluginRegistry) -> Self {
        let providers = match ConfigProviders::from_settings(&config.settings) {
            Ok(providers) => {
                if !providers.is_empty() {
                    tracing::info!("config providers: {}", providers.describe());
                }
                providers
            }
            Err(e) => {
                tracing::error!(
                    "{e}; connector configs that reference a config provider will fail"
                );
                ConfigProviders::misconfigured(e)
            }
        };
        Self {
            config,
            plugins,
            providers,
        }
    }

    /// `config` with its `${provider:path:key}` references resolved, and
    /// what an instance started from it must never report: the values of
    /// its PASSWORD settings and of the Kafka clients' secret settings, and
    /// what the providers supplied. The result is never stored.
    pub fn resolve(&self, config: &ConfigMap) -> Result<(ConfigMap, Secrets), ConfigProviderError> {
        let resolution = self.providers.resolve(config)?;
        let def = resolution
            .config
            .get("connector.class")
            .and_then(|class| self.plugins.find(class))
            .map_or_else(sink_connector_def, |plugin| {
                def_for(plugin.as_ref(), &resolution.config)
            });
        let secrets = Secrets::collect(&def, &resolution, &self.config.settings);
        Ok((resolution.config, secrets))
    }

    /// Start a connector instance and compute its task configs. The
    /// instance gets the config with its references resolved; the task
    /// configs get the references back (they are stored, and each task
    /// resolves them when it starts).
    pub async fn start_connector(
        &self,
        name: &str,
        config: &ConfigMap,
    ) -> Result<StartedConnector, StartError> {
        let (resolved, secrets) = self.resolve(config)?;
        let parsed = SinkConnectorConfig::parse(&resolved)
            .map_err(|issues| StartError::InvalidConfig(secrets.mask_issues(issues)))?;
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
        instance
            .start(&resolved)
            .await
            .map_err(|e| StartError::Connector(secrets.mask_sink_error(e)))?;
        let mut task_configs = instance.task_configs(&resolved, parsed.common.tasks_max as usize);
        config_provider::reverse_transform(config, &mut task_configs);
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

    /// Start a task from its stored config: its references are resolved
    /// here (the consumer's `consumer.override.*` included); one without a
    /// value fails the task, naming the reference.
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
        let handle = match self.resolve(&config) {
            Err(e) => {
                tracing::error!(connector, task = id, "task failed to start: {e}");
                TaskMetrics::new(connector, id).state(Some(State::Failed));
                status.fail(e.to_string());
                tokio::spawn(async {})
            }
            Ok((config, secrets)) => {
                let plugin_name = config.get("connector.class").cloned().unwrap_or_default();
                match self.plugins.find(&plugin_name) {
                    Some(plugin) => sink_task::spawn(TaskSpec {
                        connector: connector.to_string(),
                        task_id: id,
                        config,
                        plugin,
                        worker: self.config.clone(),
                        status: status.clone(),
                        control: control_rx,
                        active_topics,
                        secrets,
                    }),
                    None => {
                        status.fail(self.plugins.unknown(&plugin_name));
                        tokio::spawn(async {})
                    }
                }
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

#[cfg(test)]
mod tests {
    use connect_api::{
        ConfigDef, PutContext, SinkConnectorPlugin, SinkError, SinkRecord, SinkTask,
    };
    use schemars::JsonSchema;
    use serde::Deserialize;

    use super::*;
    use crate::config_provider::FILE_CONFIG_PROVIDER;
    use crate::status::StatusListener;
    use crate::storage::{MemoryStatusStore, StatusBackingStore, StatusKey};

    /// A plugin whose connector, like a client library handed a malformed
    /// key, quotes its secret when it fails.
    struct Echo;

    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct EchoConfig {
        /// Fail the connector's start.
        #[serde(default)]
        fail: bool,
        /// The secret.
        #[schemars(extend("writeOnly" = true))]
        token: String,
    }

    struct EchoConnector;

    #[async_trait::async_trait]
    impl SinkConnector for EchoConnector {
        async fn start(&mut self, config: &ConfigMap) -> Result<(), SinkError> {
            if config.get("fail").is_some_and(|f| f == "true") {
                return Err(SinkError::fatal(format!(
                    "Malformed API key or token: {}",
                    config["token"]
                )));
            }
            Ok(())
        }
    }

    struct NoTask;

    #[async_trait::async_trait]
    impl SinkTask for NoTask {
        async fn start(&mut self, _: &ConfigMap) -> Result<(), SinkError> {
            Ok(())
        }
        async fn put(&mut self, _: &[SinkRecord], _: &mut PutContext) -> Result<(), SinkError> {
            Ok(())
        }
    }

    impl SinkConnectorPlugin for Echo {
        fn version(&self) -> &'static str {
            "1.0"
        }
        fn class_name(&self) -> &'static str {
            "test.EchoSink"
        }
        fn aliases(&self) -> &'static [&'static str] {
            &[]
        }
        fn config_def(&self) -> ConfigDef {
            ConfigDef::from_schema::<EchoConfig>("Echo")
        }
        fn create_connector(&self) -> Box<dyn SinkConnector> {
            Box::new(EchoConnector)
        }
        fn create_task(&self) -> Box<dyn SinkTask> {
            Box::new(NoTask)
        }
    }

    fn worker(providers: &[(&str, &str)]) -> Worker {
        let settings: ConfigMap = [("bootstrap.servers", "127.0.0.1:1")]
            .iter()
            .chain(providers)
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Worker::new(
            Arc::new(WorkerConfig::from_settings(settings).unwrap()),
            PluginRegistry::new(vec![Arc::new(Echo)]),
        )
    }

    fn echo(token: &str, fail: bool) -> ConfigMap {
        [
            ("name", "c"),
            ("connector.class", "test.EchoSink"),
            ("topics", "t"),
            ("tasks.max", "2"),
            ("token", token),
            ("fail", if fail { "true" } else { "false" }),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[tokio::test]
    async fn connectors_start_resolved_and_their_task_configs_keep_the_reference() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.properties");
        std::fs::write(&file, "token=planted-7f3a\n").unwrap();
        let worker = worker(&[
            ("config.providers", "file"),
            ("config.providers.file.class", FILE_CONFIG_PROVIDER),
        ]);
        let reference = format!("${{file:{}:token}}", file.display());

        let started = worker
            .start_connector("c", &echo(&reference, false))
            .await
            .unwrap();
        assert_eq!(started.task_configs.len(), 2);
        for task in &started.task_configs {
            assert_eq!(
                task["token"], reference,
                "stored task configs hold the reference"
            );
        }
        let (resolved, secrets) = worker.resolve(&started.task_configs[0]).unwrap();
        assert_eq!(resolved["token"], "planted-7f3a");
        assert_eq!(secrets.mask("key planted-7f3a"), "key [hidden]");

        // What the connector quotes from its resolved config is masked...
        let error = worker
            .start_connector("c", &echo(&reference, true))
            .await
            .err()
            .unwrap()
            .to_string();
        assert_eq!(error, "Malformed API key or token: [hidden]");
        // ...and so is a literal secret.
        let error = worker
            .start_connector("c", &echo("literal-9c1d", true))
            .await
            .err()
            .unwrap()
            .to_string();
        assert_eq!(error, "Malformed API key or token: [hidden]");

        // A reference without a value fails the connector, naming it.
        let missing = format!("${{file:{}:nope}}", file.display());
        let error = worker
            .start_connector("c", &echo(&missing, false))
            .await
            .err()
            .unwrap();
        assert!(matches!(error, StartError::ConfigProvider(_)), "{error:?}");
        assert_eq!(
            error.to_string(),
            format!(
                "Cannot resolve {missing} in 'token': no key 'nope' in {}",
                file.display()
            )
        );
    }

    #[tokio::test]
    async fn a_task_whose_reference_has_no_value_fails_naming_it() {
        let worker = worker(&[("config.providers", "vault")]);
        let store: Arc<dyn StatusBackingStore> = Arc::new(MemoryStatusStore::default());
        let listener = StatusListener::new(store.clone(), "w1");
        let task = worker.start_task(
            "c",
            0,
            echo("${vault:/secret:token}", false),
            TaskTarget::Running,
            listener.task("c", 0),
            Default::default(),
        );
        worker.stop_task(task).await;
        let status = store.get(&StatusKey::Task("c".into(), 0)).unwrap();
        assert_eq!(status.state, State::Failed);
        let trace = status.trace.unwrap();
        assert!(
            trace.starts_with("Cannot resolve ${vault:/secret:token} in 'token': the worker's config providers are misconfigured: config.providers.vault.class is not set"),
            "{trace}"
        );
    }
}
