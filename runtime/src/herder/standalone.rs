//! One worker alone: configs in a local file, every task on this process.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use connect_api::{ConfigMap, SinkConnector, TopicPartition};
use tokio::sync::{Mutex as AsyncMutex, OnceCell};

use super::config_store::{ConfigStore, StoredConnector};
use super::connectors_dir::load_connectors_dir;
use super::validation::{ConfigInfos, ConfigKeyInfo, config_infos, mask};
use super::*;
use crate::connector_config::{SinkConnectorConfig, full_def};
use crate::converters::CONVERTERS;
use crate::offsets;
use crate::sink_task::TaskTarget;
use crate::status::{State, StatusCell, TargetState};
use crate::worker::{RunningTask, Worker};

struct ConnectorEntry {
    config: ConfigMap,
    target: TargetState,
    status: StatusCell,
    instance: Option<Box<dyn SinkConnector>>,
    task_configs: Vec<ConfigMap>,
    tasks: Vec<RunningTask>,
    active_topics: Arc<Mutex<BTreeSet<String>>>,
}

pub struct StandaloneHerder {
    worker: Worker,
    store: ConfigStore,
    commit: String,
    connectors: AsyncMutex<BTreeMap<String, ConnectorEntry>>,
    ready: AtomicBool,
    cluster_id: OnceCell<Option<String>>,
}

fn not_found(name: &str) -> HerderError {
    HerderError::NotFound(format!("Connector {name} not found"))
}

impl StandaloneHerder {
    pub fn new(worker: Worker, commit: String) -> Self {
        let store = ConfigStore::new(worker.config.config_storage_file.clone());
        Self {
            worker,
            store,
            commit,
            connectors: AsyncMutex::new(BTreeMap::new()),
            ready: AtomicBool::new(false),
            cluster_id: OnceCell::new(),
        }
    }

    /// Start stored connectors, then apply `connectors.d/` (its configs win,
    /// stored target states are kept). Bad files are logged and skipped.
    pub async fn start(&self) -> Result<(), String> {
        let stored = self.store.load()?;
        let (files, errors) = load_connectors_dir(&self.worker.config.connectors_dir);
        for error in errors {
            tracing::error!("skipping connector file {error}");
        }
        let mut wanted: BTreeMap<String, StoredConnector> = stored;
        for file in files {
            let issues = self.validate_for_create(&file.config);
            if let Err(e) = issues {
                tracing::error!("skipping connector file {}: {e}", file.file);
                continue;
            }
            let target = wanted
                .get(&file.name)
                .map_or(TargetState::Started, |s| s.target_state);
            wanted.insert(
                file.name,
                StoredConnector {
                    config: file.config,
                    target_state: target,
                },
            );
        }
        {
            let mut connectors = self.connectors.lock().await;
            for (name, stored) in wanted {
                let entry = self
                    .start_entry(&name, stored.config, stored.target_state)
                    .await;
                connectors.insert(name, entry);
            }
            self.persist(&connectors)?;
        }
        self.ready.store(true, Ordering::SeqCst);
        Ok(())
    }

    fn persist(&self, connectors: &BTreeMap<String, ConnectorEntry>) -> Result<(), String> {
        let stored = connectors
            .iter()
            .map(|(n, e)| {
                (
                    n.clone(),
                    StoredConnector {
                        config: e.config.clone(),
                        target_state: e.target,
                    },
                )
            })
            .collect();
        self.store.save(&stored)
    }

    fn persist_or_internal(
        &self,
        connectors: &BTreeMap<String, ConnectorEntry>,
    ) -> HerderResult<()> {
        self.persist(connectors).map_err(HerderError::Internal)
    }

    /// Connect's message for an invalid config, listing every error.
    fn validate_for_create(&self, config: &ConfigMap) -> HerderResult<()> {
        let class = config.get("connector.class").ok_or_else(|| {
            HerderError::BadRequest(
                "Connector config is missing required \"connector.class\"".into(),
            )
        })?;
        let plugin = self
            .worker
            .plugins
            .find(class)
            .ok_or_else(|| unknown_plugin(class, &self.worker))?;
        let issues = SinkConnectorConfig::validate(config, plugin.as_ref(), &self.worker.config);
        if issues.is_empty() {
            return Ok(());
        }
        let listed: Vec<String> = issues
            .iter()
            .map(|i| format!("{}: {}", i.key, i.message))
            .collect();
        Err(HerderError::BadRequest(format!(
            "Connector configuration is invalid and contains the following {} error(s):\n{}\nYou can also find the above list of errors at the endpoint `/connector-plugins/{}/config/validate`",
            issues.len(),
            listed.join("\n"),
            plugin.class_name()
        )))
    }

    /// A connector entry running as `target` says.
    async fn start_entry(
        &self,
        name: &str,
        config: ConfigMap,
        target: TargetState,
    ) -> ConnectorEntry {
        let mut entry = ConnectorEntry {
            config,
            target,
            status: StatusCell::new(State::Unassigned, &self.worker.config.worker_id),
            instance: None,
            task_configs: Vec::new(),
            tasks: Vec::new(),
            active_topics: Default::default(),
        };
        self.start_instance(name, &mut entry).await;
        entry
    }

    /// (Re)start the connector instance and, unless stopped, its tasks.
    async fn start_instance(&self, name: &str, entry: &mut ConnectorEntry) {
        if entry.target == TargetState::Stopped {
            entry.status.set(State::Stopped);
            return;
        }
        match self.worker.start_connector(name, &entry.config).await {
            Ok(started) => {
                entry.instance = Some(started.instance);
                entry.task_configs = started.task_configs;
                entry.status.set(running_state(entry.target));
                self.start_tasks(name, entry);
            }
            Err(e) => {
                tracing::error!(connector = name, "connector failed to start: {e}");
                entry.status.fail(e);
            }
        }
    }

    fn start_tasks(&self, name: &str, entry: &mut ConnectorEntry) {
        let target = task_target(entry.target);
        entry.tasks = entry
            .task_configs
            .iter()
            .enumerate()
            .map(|(id, config)| {
                self.worker.start_task(
                    name,
                    id as u32,
                    config.clone(),
                    target,
                    entry.active_topics.clone(),
                )
            })
            .collect();
    }

    async fn stop_entry(&self, entry: &mut ConnectorEntry) {
        self.worker
            .stop_tasks(std::mem::take(&mut entry.tasks))
            .await;
        if let Some(mut instance) = entry.instance.take() {
            instance.stop().await;
        }
    }

    fn info(&self, name: &str, entry: &ConnectorEntry) -> ConnectorInfo {
        ConnectorInfo {
            name: name.to_string(),
            config: self.masked(&entry.config),
            tasks: (0..entry.task_configs.len() as u32)
                .map(|task| ConnectorTaskId {
                    connector: name.to_string(),
                    task,
                })
                .collect(),
            kind: "sink",
        }
    }

    fn masked(&self, config: &ConfigMap) -> ConfigMap {
        match config
            .get("connector.class")
            .and_then(|c| self.worker.plugins.find(c))
        {
            Some(plugin) => mask(&full_def(plugin.as_ref()), config),
            None => config.clone(),
        }
    }

    fn status_of(&self, name: &str, entry: &ConnectorEntry) -> ConnectorStatus {
        ConnectorStatus {
            name: name.to_string(),
            connector: entry.status.get(),
            tasks: entry
                .tasks
                .iter()
                .map(|t| TaskStatus {
                    id: t.id,
                    status: t.status.get(),
                })
                .collect(),
            kind: "sink",
        }
    }

    /// Replace a connector's config: stop, store, start again.
    async fn reconfigure(&self, name: &str, entry: &mut ConnectorEntry, config: ConfigMap) {
        self.stop_entry(entry).await;
        entry.config = config;
        entry.task_configs.clear();
        self.start_instance(name, entry).await;
    }

    fn require_stopped(name: &str, entry: &ConnectorEntry) -> HerderResult<()> {
        if entry.target != TargetState::Stopped || !entry.tasks.is_empty() {
            return Err(HerderError::BadRequest(format!(
                "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint"
            )));
        }
        Ok(())
    }
}

/// What tasks of a started or paused connector are told.
fn task_target(target: TargetState) -> TaskTarget {
    if target == TargetState::Paused {
        TaskTarget::Paused
    } else {
        TaskTarget::Running
    }
}

/// The state a started or paused connector reports.
fn running_state(target: TargetState) -> State {
    if target == TargetState::Paused {
        State::Paused
    } else {
        State::Running
    }
}

fn unknown_plugin(class: &str, worker: &Worker) -> HerderError {
    let known: Vec<&str> = worker
        .plugins
        .all()
        .iter()
        .map(|p| p.class_name())
        .collect();
    HerderError::BadRequest(format!(
        "Failed to find any class that implements Connector and which name matches {class}, available connectors are: {}",
        known.join(", ")
    ))
}

fn check_name_matches(name: &str, config: &ConfigMap) -> HerderResult<()> {
    match config.get("name") {
        Some(n) if n != name => Err(HerderError::BadRequest(format!(
            "Connector name configuration ({n}) doesn't match connector name in the URL ({name})"
        ))),
        _ => Ok(()),
    }
}

#[async_trait]
impl Herder for StandaloneHerder {
    fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    async fn server_info(&self) -> ServerInfo {
        let bootstrap = self.worker.config.bootstrap_servers.clone();
        let cluster_id = self
            .cluster_id
            .get_or_init(|| async move {
                tokio::task::spawn_blocking(move || {
                    let consumer: rdkafka::consumer::BaseConsumer = rdkafka::ClientConfig::new()
                        .set("bootstrap.servers", &bootstrap)
                        .create()
                        .ok()?;
                    rdkafka::consumer::Consumer::client(&consumer)
                        .fetch_cluster_id(std::time::Duration::from_secs(5))
                })
                .await
                .ok()
                .flatten()
            })
            .await
            .clone();
        ServerInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            commit: self.commit.clone(),
            kafka_cluster_id: cluster_id,
        }
    }

    async fn connectors(&self) -> Vec<String> {
        self.connectors.lock().await.keys().cloned().collect()
    }

    async fn connector_info(&self, name: &str) -> HerderResult<ConnectorInfo> {
        let connectors = self.connectors.lock().await;
        let entry = connectors.get(name).ok_or_else(|| not_found(name))?;
        Ok(self.info(name, entry))
    }

    async fn connector_config(&self, name: &str) -> HerderResult<ConfigMap> {
        let connectors = self.connectors.lock().await;
        let entry = connectors.get(name).ok_or_else(|| not_found(name))?;
        Ok(self.masked(&entry.config))
    }

    async fn connector_status(&self, name: &str) -> HerderResult<ConnectorStatus> {
        let connectors = self.connectors.lock().await;
        let entry = connectors.get(name).ok_or_else(|| not_found(name))?;
        Ok(self.status_of(name, entry))
    }

    async fn task_infos(&self, name: &str) -> HerderResult<Vec<TaskInfo>> {
        let connectors = self.connectors.lock().await;
        let entry = connectors.get(name).ok_or_else(|| not_found(name))?;
        Ok(entry
            .task_configs
            .iter()
            .enumerate()
            .map(|(i, config)| TaskInfo {
                id: ConnectorTaskId {
                    connector: name.to_string(),
                    task: i as u32,
                },
                config: self.masked(config),
            })
            .collect())
    }

    async fn task_status(&self, name: &str, task: u32) -> HerderResult<TaskStatus> {
        let connectors = self.connectors.lock().await;
        let entry = connectors.get(name).ok_or_else(|| not_found(name))?;
        entry
            .tasks
            .iter()
            .find(|t| t.id == task)
            .map(|t| TaskStatus {
                id: t.id,
                status: t.status.get(),
            })
            .ok_or_else(|| HerderError::NotFound(format!("No status found for task {name}-{task}")))
    }

    async fn create_connector(
        &self,
        name: &str,
        mut config: ConfigMap,
        initial: TargetState,
    ) -> HerderResult<ConnectorInfo> {
        check_name_matches(name, &config)?;
        config.insert("name".into(), name.to_string());
        self.validate_for_create(&config)?;
        let mut connectors = self.connectors.lock().await;
        if connectors.contains_key(name) {
            return Err(HerderError::AlreadyExists(format!(
                "Connector {name} already exists"
            )));
        }
        let entry = self.start_entry(name, config, initial).await;
        let info = self.info(name, &entry);
        connectors.insert(name.to_string(), entry);
        self.persist_or_internal(&connectors)?;
        Ok(info)
    }

    async fn put_connector_config(
        &self,
        name: &str,
        mut config: ConfigMap,
    ) -> HerderResult<(bool, ConnectorInfo)> {
        check_name_matches(name, &config)?;
        config.insert("name".into(), name.to_string());
        self.validate_for_create(&config)?;
        let mut connectors = self.connectors.lock().await;
        let created = !connectors.contains_key(name);
        if created {
            let entry = self.start_entry(name, config, TargetState::Started).await;
            connectors.insert(name.to_string(), entry);
        } else if let Some(entry) = connectors.get_mut(name) {
            self.reconfigure(name, entry, config).await;
        }
        self.persist_or_internal(&connectors)?;
        Ok((created, self.info(name, &connectors[name])))
    }

    async fn patch_connector_config(
        &self,
        name: &str,
        patch: Vec<(String, Option<String>)>,
    ) -> HerderResult<ConnectorInfo> {
        let mut connectors = self.connectors.lock().await;
        let entry = connectors.get_mut(name).ok_or_else(|| not_found(name))?;
        let mut config = entry.config.clone();
        for (key, value) in patch {
            if key == "name" && value.as_deref() != Some(name) {
                return Err(HerderError::BadRequest(
                    "Connector name configuration cannot be changed".into(),
                ));
            }
            match value {
                Some(v) => config.insert(key, v),
                None => config.remove(&key),
            };
        }
        self.validate_for_create(&config)?;
        self.reconfigure(name, entry, config).await;
        let info = self.info(name, entry);
        self.persist_or_internal(&connectors)?;
        Ok(info)
    }

    async fn delete_connector(&self, name: &str) -> HerderResult<()> {
        let mut connectors = self.connectors.lock().await;
        let mut entry = connectors.remove(name).ok_or_else(|| not_found(name))?;
        self.stop_entry(&mut entry).await;
        self.persist_or_internal(&connectors)?;
        tracing::info!(connector = name, "connector deleted");
        Ok(())
    }

    async fn pause(&self, name: &str) -> HerderResult<()> {
        self.run_as(name, TargetState::Paused).await
    }

    async fn resume(&self, name: &str) -> HerderResult<()> {
        self.run_as(name, TargetState::Started).await
    }

    async fn stop(&self, name: &str) -> HerderResult<()> {
        let mut connectors = self.connectors.lock().await;
        let entry = connectors.get_mut(name).ok_or_else(|| not_found(name))?;
        entry.target = TargetState::Stopped;
        self.stop_entry(entry).await;
        entry.task_configs.clear();
        entry.status.set(State::Stopped);
        self.persist_or_internal(&connectors)
    }

    async fn restart_connector(
        &self,
        name: &str,
        request: RestartRequest,
    ) -> HerderResult<Option<ConnectorStatus>> {
        let mut connectors = self.connectors.lock().await;
        let entry = connectors.get_mut(name).ok_or_else(|| not_found(name))?;
        let connector_failed = entry.status.get().state == State::Failed;
        let restart_connector = !request.only_failed || connector_failed;
        let restart_tasks: Vec<u32> = if request.include_tasks {
            entry
                .tasks
                .iter()
                .filter(|t| !request.only_failed || t.status.get().state == State::Failed)
                .map(|t| t.id)
                .collect()
        } else {
            Vec::new()
        };
        let mut plan = self.status_of(name, entry);
        if restart_connector {
            plan.connector.state = State::Restarting;
            plan.connector.trace = None;
        }
        for task in plan
            .tasks
            .iter_mut()
            .filter(|t| restart_tasks.contains(&t.id))
        {
            task.status.state = State::Restarting;
            task.status.trace = None;
        }
        if entry.target == TargetState::Stopped {
            return Ok((!request.is_plain()).then_some(self.status_of(name, entry)));
        }
        if restart_connector {
            if connector_failed || entry.instance.is_none() {
                // A failed connector has no tasks: start it all again.
                self.stop_entry(entry).await;
                self.start_instance(name, entry).await;
                return Ok((!request.is_plain()).then_some(plan));
            }
            if let Some(mut instance) = entry.instance.take() {
                instance.stop().await;
            }
            match self.worker.start_connector(name, &entry.config).await {
                Ok(started) => entry.instance = Some(started.instance),
                Err(e) => entry.status.fail(e),
            }
        }
        for id in restart_tasks {
            self.restart_task_locked(name, entry, id).await;
        }
        Ok((!request.is_plain()).then_some(plan))
    }

    async fn restart_task(&self, name: &str, task: u32) -> HerderResult<()> {
        let mut connectors = self.connectors.lock().await;
        let entry = connectors.get_mut(name).ok_or_else(|| not_found(name))?;
        if !entry.tasks.iter().any(|t| t.id == task) {
            return Err(HerderError::NotFound(format!(
                "Task {name}-{task} not found"
            )));
        }
        self.restart_task_locked(name, entry, task).await;
        Ok(())
    }

    async fn active_topics(&self, name: &str) -> HerderResult<Vec<String>> {
        let connectors = self.connectors.lock().await;
        let entry = connectors.get(name).ok_or_else(|| not_found(name))?;
        Ok(entry
            .active_topics
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect())
    }

    async fn reset_active_topics(&self, name: &str) -> HerderResult<()> {
        let connectors = self.connectors.lock().await;
        let entry = connectors.get(name).ok_or_else(|| not_found(name))?;
        entry
            .active_topics
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        Ok(())
    }

    async fn offsets(&self, name: &str) -> HerderResult<Vec<(TopicPartition, i64)>> {
        let config = {
            let connectors = self.connectors.lock().await;
            connectors
                .get(name)
                .ok_or_else(|| not_found(name))?
                .config
                .clone()
        };
        let worker = self.worker.config.clone();
        let name = name.to_string();
        let offsets = tokio::task::spawn_blocking(move || offsets::read(&worker, &name, &config))
            .await
            .map_err(|e| HerderError::Internal(e.to_string()))?
            .map_err(HerderError::Internal)?;
        Ok(offsets.into_iter().collect())
    }

    async fn alter_offsets(&self, name: &str, changes: Vec<OffsetChange>) -> HerderResult<()> {
        let connectors = self.connectors.lock().await;
        let entry = connectors.get(name).ok_or_else(|| not_found(name))?;
        Self::require_stopped(name, entry)?;
        let (worker, config, name) = (
            self.worker.config.clone(),
            entry.config.clone(),
            name.to_string(),
        );
        tokio::task::spawn_blocking(move || offsets::alter(&worker, &name, &config, &changes))
            .await
            .map_err(|e| HerderError::Internal(e.to_string()))?
            .map_err(HerderError::Internal)
    }

    async fn reset_offsets(&self, name: &str) -> HerderResult<()> {
        let connectors = self.connectors.lock().await;
        let entry = connectors.get(name).ok_or_else(|| not_found(name))?;
        Self::require_stopped(name, entry)?;
        offsets::reset(&self.worker.config, name, &entry.config)
            .await
            .map_err(HerderError::Internal)
    }

    fn plugins(&self, connectors_only: bool) -> Vec<PluginInfo> {
        let mut plugins: Vec<PluginInfo> = self
            .worker
            .plugins
            .all()
            .iter()
            .map(|p| PluginInfo {
                class_name: p.class_name().to_string(),
                kind: "sink",
                version: Some(p.version().to_string()),
            })
            .collect();
        if !connectors_only {
            plugins.extend(CONVERTERS.iter().map(|(class, _)| PluginInfo {
                class_name: class.to_string(),
                kind: "converter",
                version: Some(env!("CARGO_PKG_VERSION").to_string()),
            }));
        }
        plugins
    }

    fn plugin_config(&self, plugin: &str) -> HerderResult<Vec<ConfigKeyInfo>> {
        let plugin = self
            .worker
            .plugins
            .find(plugin)
            .ok_or_else(|| HerderError::NotFound(format!("Unknown plugin {plugin}.")))?;
        Ok(plugin
            .config_def()
            .keys
            .iter()
            .map(ConfigKeyInfo::from)
            .collect())
    }

    fn validate(&self, plugin_name: &str, mut config: ConfigMap) -> HerderResult<ConfigInfos> {
        let plugin = self
            .worker
            .plugins
            .find(plugin_name)
            .ok_or_else(|| HerderError::NotFound(format!("Unknown plugin {plugin_name}.")))?;
        match config.get("connector.class") {
            None => {
                config.insert("connector.class".into(), plugin.class_name().to_string());
            }
            Some(class) => {
                let same = self
                    .worker
                    .plugins
                    .find(class)
                    .is_some_and(|p| p.class_name() == plugin.class_name());
                if !same {
                    return Err(HerderError::BadRequest(format!(
                        "Included connector type {class} does not match request type {plugin_name}"
                    )));
                }
            }
        }
        let issues = SinkConnectorConfig::validate(&config, plugin.as_ref(), &self.worker.config);
        Ok(config_infos(plugin.as_ref(), &config, &issues))
    }

    async fn shutdown(&self) {
        let mut connectors = self.connectors.lock().await;
        for entry in connectors.values_mut() {
            self.stop_entry(entry).await;
        }
    }
}

impl StandaloneHerder {
    /// Pause or resume: running tasks follow at once; a stopped connector
    /// starts in the new state.
    async fn run_as(&self, name: &str, target: TargetState) -> HerderResult<()> {
        let mut connectors = self.connectors.lock().await;
        let entry = connectors.get_mut(name).ok_or_else(|| not_found(name))?;
        let was = std::mem::replace(&mut entry.target, target);
        if was == TargetState::Stopped {
            self.start_instance(name, entry).await;
        } else {
            for task in &entry.tasks {
                task.set_target(task_target(target));
            }
            if entry.status.get().state != State::Failed {
                entry.status.set(running_state(target));
            }
        }
        self.persist_or_internal(&connectors)
    }

    async fn restart_task_locked(&self, name: &str, entry: &mut ConnectorEntry, id: u32) {
        let Some(pos) = entry.tasks.iter().position(|t| t.id == id) else {
            return;
        };
        let old = entry.tasks.remove(pos);
        self.worker.stop_task(old).await;
        let target = task_target(entry.target);
        let config = entry
            .task_configs
            .get(id as usize)
            .cloned()
            .unwrap_or_else(|| entry.config.clone());
        let task = self
            .worker
            .start_task(name, id, config, target, entry.active_topics.clone());
        entry.tasks.insert(pos, task);
    }
}
