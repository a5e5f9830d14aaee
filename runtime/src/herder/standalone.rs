//! One worker alone: configs in a local file, every task on this process.
//!
//! Locking: the name → connector map is a short-lived sync lock, never held
//! across I/O. Each connector has its own async lock that serialises the
//! writes to it (a start, a restart, an offset reset), while everything a
//! read needs (config, target state, status cells) sits in a sync
//! [`ConnectorView`] beside it, so reads never wait behind a slow write.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use async_trait::async_trait;
use connect_api::{ConfigMap, SinkConnector, TopicPartition};
use tokio::sync::{Mutex as AsyncMutex, OnceCell};

use super::config_store::{ConfigStore, StoredConnector};
use super::connectors_dir::load_connectors_dir;
use super::validation::{
    ConfigInfos, ConfigKeyInfo, HIDDEN, config_infos, converter_config_keys, mask,
    masked_secret_issues, plugin_config_keys, restore_secrets,
};
use super::*;
use crate::connector_config::{SinkConnectorConfig, check_connector_name, full_def};
use crate::converters::CONVERTERS;
use crate::offsets;
use crate::sink_task::TaskTarget;
use crate::status::{State, StatusCell, TargetState};
use crate::worker::{RunningTask, Worker};
use crate::worker_config::WorkerConfig;

/// What reads of one connector see; written only by the holder of the
/// connector's [`Slot::ops`] lock, and only briefly.
struct ConnectorView {
    config: ConfigMap,
    target: TargetState,
    task_configs: Vec<ConfigMap>,
    /// The status cell of each running task, by id.
    tasks: Vec<(u32, StatusCell)>,
}

/// This worker's running instances of one connector.
#[derive(Default)]
struct Instances {
    connector: Option<Box<dyn SinkConnector>>,
    tasks: Vec<RunningTask>,
    /// Set once the connector is deleted: a write that waited on the lock
    /// meanwhile answers 404 instead of acting on a ghost.
    deleted: bool,
}

struct Slot {
    view: RwLock<ConnectorView>,
    status: StatusCell,
    active_topics: Arc<Mutex<BTreeSet<String>>>,
    ops: Arc<AsyncMutex<Instances>>,
}

impl Slot {
    fn new(config: ConfigMap, target: TargetState, worker_id: &str) -> Self {
        Self {
            view: RwLock::new(ConnectorView {
                config,
                target,
                task_configs: Vec::new(),
                tasks: Vec::new(),
            }),
            status: StatusCell::new(State::Unassigned, worker_id),
            active_topics: Default::default(),
            ops: Arc::new(AsyncMutex::new(Instances::default())),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, ConnectorView> {
        self.view.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, ConnectorView> {
        self.view.write().unwrap_or_else(|e| e.into_inner())
    }

    fn config(&self) -> ConfigMap {
        self.read().config.clone()
    }

    fn target(&self) -> TargetState {
        self.read().target
    }

    /// Show the tasks now in `instances` to readers.
    fn publish_tasks(&self, instances: &Instances) {
        self.write().tasks = instances
            .tasks
            .iter()
            .map(|t| (t.id, t.status.clone()))
            .collect();
    }
}

type OwnedGuard = tokio::sync::OwnedMutexGuard<Instances>;

pub struct StandaloneHerder {
    worker: Worker,
    store: ConfigStore,
    commit: String,
    connectors: RwLock<BTreeMap<String, Arc<Slot>>>,
    /// Serialises writes of the config file (a fast local write).
    persisting: Mutex<()>,
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
            connectors: RwLock::new(BTreeMap::new()),
            persisting: Mutex::new(()),
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
            let checked = check_connector_name(&file.name)
                .map_err(HerderError::BadRequest)
                .and_then(|()| self.validate_for_create(&file.config));
            if let Err(e) = checked {
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
        let mut started = Vec::new();
        {
            let mut map = self.map_mut();
            for (name, stored) in wanted {
                let slot = Arc::new(Slot::new(
                    stored.config,
                    stored.target_state,
                    &self.worker.config.worker_id,
                ));
                map.insert(name.clone(), slot.clone());
                started.push((name, slot));
            }
        }
        self.persist()?;
        for (name, slot) in started {
            let mut instances = slot.ops.lock().await;
            self.start_instance(&name, &slot, &mut instances).await;
        }
        self.ready.store(true, Ordering::SeqCst);
        Ok(())
    }

    fn map(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<Slot>>> {
        self.connectors.read().unwrap_or_else(|e| e.into_inner())
    }

    fn map_mut(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<Slot>>> {
        self.connectors.write().unwrap_or_else(|e| e.into_inner())
    }

    fn slot(&self, name: &str) -> HerderResult<Arc<Slot>> {
        self.map().get(name).cloned().ok_or_else(|| not_found(name))
    }

    /// The connector's slot with its write lock held; 404 if it is gone.
    /// The map lock is released before waiting on the connector's.
    async fn lock(&self, name: &str) -> HerderResult<(Arc<Slot>, OwnedGuard)> {
        let slot = self.slot(name)?;
        let instances = slot.ops.clone().lock_owned().await;
        if instances.deleted {
            return Err(not_found(name));
        }
        Ok((slot, instances))
    }

    /// Every connector's config and target state, written to the file.
    fn persist(&self) -> Result<(), String> {
        let _serial = self.persisting.lock().unwrap_or_else(|e| e.into_inner());
        let stored = self
            .map()
            .iter()
            .map(|(n, slot)| {
                let view = slot.read();
                (
                    n.clone(),
                    StoredConnector {
                        config: view.config.clone(),
                        target_state: view.target,
                    },
                )
            })
            .collect();
        self.store.save(&stored)
    }

    fn persist_or_internal(&self) -> HerderResult<()> {
        self.persist().map_err(|e| self.internal(e))
    }

    /// A 500 whose message carries the cause, with every stored secret
    /// taken out of it.
    fn internal(&self, mut message: String) -> HerderError {
        for slot in self.map().values() {
            let config = slot.config();
            let masked = self.masked(&config);
            for (key, value) in &config {
                if !value.is_empty() && masked.get(key) != Some(value) {
                    message = message.replace(value.as_str(), HIDDEN);
                }
            }
        }
        HerderError::Internal(message)
    }
}

impl StandaloneHerder {
    /// Every problem of `config` (which names its `connector.class`), with
    /// the plugin it is for.
    fn config_issues(
        &self,
        config: &ConfigMap,
    ) -> HerderResult<(
        Arc<dyn connect_api::SinkConnectorPlugin>,
        Vec<connect_api::ConfigIssue>,
    )> {
        let class = config.get("connector.class").ok_or_else(|| {
            HerderError::BadRequest(
                "Connector config is missing required \"connector.class\"".into(),
            )
        })?;
        let plugin = self
            .worker
            .plugins
            .find(class)
            .ok_or_else(|| HerderError::BadRequest(self.worker.plugins.unknown(class)))?;
        let mut issues =
            SinkConnectorConfig::validate(config, plugin.as_ref(), &self.worker.config);
        issues.extend(masked_secret_issues(&full_def(plugin.as_ref()), config));
        Ok((plugin, issues))
    }

    /// Connect's message for an invalid config, listing every error.
    fn validate_for_create(&self, config: &ConfigMap) -> HerderResult<()> {
        let (plugin, issues) = self.config_issues(config)?;
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

    /// `incoming` with every secret that a client sent back as the mask
    /// replaced by the value `stored` holds (a GET-then-PUT keeps secrets).
    fn unmasked(&self, mut incoming: ConfigMap, stored: Option<&ConfigMap>) -> ConfigMap {
        if let Some(plugin) = incoming
            .get("connector.class")
            .and_then(|c| self.worker.plugins.find(c))
        {
            restore_secrets(&full_def(plugin.as_ref()), &mut incoming, stored);
        }
        incoming
    }

    /// (Re)start the connector instance and, unless stopped, its tasks.
    async fn start_instance(&self, name: &str, slot: &Slot, instances: &mut Instances) {
        let (config, target) = {
            let view = slot.read();
            (view.config.clone(), view.target)
        };
        if target == TargetState::Stopped {
            slot.status.set(State::Stopped);
            return;
        }
        match self.worker.start_connector(name, &config).await {
            Ok(started) => {
                instances.connector = Some(started.instance);
                slot.write().task_configs = started.task_configs;
                slot.status.set(running_state(target));
                self.start_tasks(name, slot, instances);
            }
            Err(e) => {
                tracing::error!(connector = name, "connector failed to start: {e}");
                slot.status.fail(e);
            }
        }
    }

    fn start_tasks(&self, name: &str, slot: &Slot, instances: &mut Instances) {
        let (task_configs, target) = {
            let view = slot.read();
            (view.task_configs.clone(), task_target(view.target))
        };
        instances.tasks = task_configs
            .into_iter()
            .enumerate()
            .map(|(id, config)| {
                self.worker
                    .start_task(name, id as u32, config, target, slot.active_topics.clone())
            })
            .collect();
        slot.publish_tasks(instances);
    }

    /// Stop the tasks and the connector instance.
    async fn stop_instances(&self, slot: &Slot, instances: &mut Instances) {
        let tasks = std::mem::take(&mut instances.tasks);
        self.worker.stop_tasks(tasks).await;
        slot.publish_tasks(instances);
        if let Some(mut connector) = instances.connector.take() {
            connector.stop().await;
        }
    }

    fn info(&self, name: &str, slot: &Slot) -> ConnectorInfo {
        let view = slot.read();
        ConnectorInfo {
            name: name.to_string(),
            config: self.masked(&view.config),
            tasks: (0..view.task_configs.len() as u32)
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

    fn status_of(&self, name: &str, slot: &Slot) -> ConnectorStatus {
        let view = slot.read();
        ConnectorStatus {
            name: name.to_string(),
            connector: slot.status.get(),
            tasks: view
                .tasks
                .iter()
                .map(|(id, status)| TaskStatus {
                    id: *id,
                    status: status.get(),
                })
                .collect(),
            kind: "sink",
        }
    }

    /// Replace a connector's config: stop, store, start again.
    async fn reconfigure(
        &self,
        name: &str,
        slot: &Slot,
        instances: &mut Instances,
        config: ConfigMap,
    ) -> HerderResult<()> {
        self.stop_instances(slot, instances).await;
        {
            let mut view = slot.write();
            view.config = config;
            view.task_configs.clear();
        }
        self.persist_or_internal()?;
        self.start_instance(name, slot, instances).await;
        Ok(())
    }

    fn require_stopped(name: &str, slot: &Slot, instances: &Instances) -> HerderResult<()> {
        if slot.target() != TargetState::Stopped || !instances.tasks.is_empty() {
            return Err(HerderError::BadRequest(format!(
                "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint"
            )));
        }
        Ok(())
    }

    /// Create `name`: shown at once (UNASSIGNED), stored, then started.
    async fn create(
        &self,
        name: &str,
        config: ConfigMap,
        initial: TargetState,
    ) -> HerderResult<Arc<Slot>> {
        let slot = Arc::new(Slot::new(config, initial, &self.worker.config.worker_id));
        // Locked before it is visible, so no other write can overtake the start.
        let mut instances = slot.ops.clone().lock_owned().await;
        {
            let mut map = self.map_mut();
            if map.contains_key(name) {
                return Err(HerderError::AlreadyExists(format!(
                    "Connector {name} already exists"
                )));
            }
            map.insert(name.to_string(), slot.clone());
        }
        if let Err(e) = self.persist() {
            self.map_mut().remove(name);
            return Err(self.internal(e));
        }
        self.start_instance(name, &slot, &mut instances).await;
        Ok(slot)
    }

    /// Pause or resume: running tasks follow at once; a stopped connector
    /// starts in the new state.
    async fn run_as(&self, name: &str, target: TargetState) -> HerderResult<()> {
        let (slot, mut instances) = self.lock(name).await?;
        let was = std::mem::replace(&mut slot.write().target, target);
        self.persist_or_internal()?;
        if was == TargetState::Stopped {
            self.start_instance(name, &slot, &mut instances).await;
        } else {
            for task in &instances.tasks {
                task.set_target(task_target(target));
            }
            if slot.status.get().state != State::Failed {
                slot.status.set(running_state(target));
            }
        }
        Ok(())
    }

    async fn restart_task_locked(
        &self,
        name: &str,
        slot: &Slot,
        instances: &mut Instances,
        id: u32,
    ) {
        let Some(pos) = instances.tasks.iter().position(|t| t.id == id) else {
            return;
        };
        let old = instances.tasks.remove(pos);
        self.worker.stop_task(old).await;
        let (config, target) = {
            let view = slot.read();
            let config = view
                .task_configs
                .get(id as usize)
                .cloned()
                .unwrap_or_else(|| view.config.clone());
            (config, task_target(view.target))
        };
        let task = self
            .worker
            .start_task(name, id, config, target, slot.active_topics.clone());
        instances.tasks.insert(pos, task);
        slot.publish_tasks(instances);
    }

    /// An offset operation (blocking rdkafka calls) on a blocking thread;
    /// its failure is a 500 with the cause and no secret in it.
    async fn offsets_blocking<T: Send + 'static>(
        &self,
        name: &str,
        config: ConfigMap,
        op: impl FnOnce(&WorkerConfig, &str, &ConfigMap) -> Result<T, String> + Send + 'static,
    ) -> HerderResult<T> {
        let (worker, name) = (self.worker.config.clone(), name.to_string());
        tokio::task::spawn_blocking(move || op(&worker, &name, &config))
            .await
            .map_err(|e| HerderError::Internal(format!("offset operation panicked: {e}")))?
            .map_err(|e| self.internal(e))
    }

    fn topic_tracking(&self, reset: bool) -> HerderResult<()> {
        let settings = &self.worker.config;
        if !settings.topic_tracking_enable {
            return Err(HerderError::Forbidden("Topic tracking is disabled.".into()));
        }
        if reset && !settings.topic_tracking_allow_reset {
            return Err(HerderError::Forbidden(
                "Topic tracking reset is disabled.".into(),
            ));
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

/// The name is a valid connector name, and the config's own `name`, if
/// any, is the same.
fn check_name_matches(name: &str, config: &ConfigMap) -> HerderResult<()> {
    check_connector_name(name).map_err(HerderError::BadRequest)?;
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
        ServerInfo::new(self.commit.clone(), cluster_id)
    }

    async fn connectors(&self) -> Vec<String> {
        self.map().keys().cloned().collect()
    }

    async fn connector_info(&self, name: &str) -> HerderResult<ConnectorInfo> {
        let slot = self.slot(name)?;
        Ok(self.info(name, &slot))
    }

    async fn connector_config(&self, name: &str) -> HerderResult<ConfigMap> {
        Ok(self.masked(&self.slot(name)?.config()))
    }

    async fn connector_status(&self, name: &str) -> HerderResult<ConnectorStatus> {
        let slot = self.slot(name)?;
        Ok(self.status_of(name, &slot))
    }

    async fn task_infos(&self, name: &str) -> HerderResult<Vec<TaskInfo>> {
        let slot = self.slot(name)?;
        let view = slot.read();
        Ok(view
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
        let slot = self.slot(name)?;
        let view = slot.read();
        view.tasks
            .iter()
            .find(|(id, _)| *id == task)
            .map(|(id, status)| TaskStatus {
                id: *id,
                status: status.get(),
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
        let slot = self.create(name, config, initial).await?;
        Ok(self.info(name, &slot))
    }

    async fn put_connector_config(
        &self,
        name: &str,
        mut config: ConfigMap,
    ) -> HerderResult<(bool, ConnectorInfo)> {
        check_name_matches(name, &config)?;
        config.insert("name".into(), name.to_string());
        let existing = self.map().get(name).cloned();
        let Some(slot) = existing else {
            self.validate_for_create(&config)?;
            let slot = self.create(name, config, TargetState::Started).await?;
            return Ok((true, self.info(name, &slot)));
        };
        let config = self.unmasked(config, Some(&slot.config()));
        self.validate_for_create(&config)?;
        let (slot, mut instances) = self.lock(name).await?;
        self.reconfigure(name, &slot, &mut instances, config)
            .await?;
        Ok((false, self.info(name, &slot)))
    }

    async fn patch_connector_config(
        &self,
        name: &str,
        patch: Vec<(String, Option<String>)>,
    ) -> HerderResult<ConnectorInfo> {
        let (slot, mut instances) = self.lock(name).await?;
        let stored = slot.config();
        let mut config = stored.clone();
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
        let config = self.unmasked(config, Some(&stored));
        self.validate_for_create(&config)?;
        self.reconfigure(name, &slot, &mut instances, config)
            .await?;
        Ok(self.info(name, &slot))
    }

    async fn delete_connector(&self, name: &str) -> HerderResult<()> {
        let (slot, mut instances) = self.lock(name).await?;
        self.stop_instances(&slot, &mut instances).await;
        instances.deleted = true;
        self.map_mut().remove(name);
        self.persist_or_internal()?;
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
        let (slot, mut instances) = self.lock(name).await?;
        slot.write().target = TargetState::Stopped;
        self.persist_or_internal()?;
        self.stop_instances(&slot, &mut instances).await;
        slot.write().task_configs.clear();
        slot.status.set(State::Stopped);
        Ok(())
    }

    async fn restart_connector(
        &self,
        name: &str,
        request: RestartRequest,
    ) -> HerderResult<Option<ConnectorStatus>> {
        let (slot, mut instances) = self.lock(name).await?;
        let connector_failed = slot.status.get().state == State::Failed;
        let restart_connector = !request.only_failed || connector_failed;
        let restart_tasks: Vec<u32> = if request.include_tasks {
            instances
                .tasks
                .iter()
                .filter(|t| !request.only_failed || t.status.get().state == State::Failed)
                .map(|t| t.id)
                .collect()
        } else {
            Vec::new()
        };
        let mut plan = self.status_of(name, &slot);
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
        if slot.target() == TargetState::Stopped {
            return Ok((!request.is_plain()).then_some(self.status_of(name, &slot)));
        }
        if restart_connector {
            if connector_failed || instances.connector.is_none() {
                // A failed connector has no tasks: start it all again.
                self.stop_instances(&slot, &mut instances).await;
                self.start_instance(name, &slot, &mut instances).await;
                return Ok((!request.is_plain()).then_some(plan));
            }
            if let Some(mut connector) = instances.connector.take() {
                connector.stop().await;
            }
            match self.worker.start_connector(name, &slot.config()).await {
                Ok(started) => instances.connector = Some(started.instance),
                Err(e) => slot.status.fail(e),
            }
        }
        for id in restart_tasks {
            self.restart_task_locked(name, &slot, &mut instances, id)
                .await;
        }
        Ok((!request.is_plain()).then_some(plan))
    }

    async fn restart_task(&self, name: &str, task: u32) -> HerderResult<()> {
        let (slot, mut instances) = self.lock(name).await?;
        if !instances.tasks.iter().any(|t| t.id == task) {
            return Err(HerderError::NotFound(format!(
                "Task {name}-{task} not found"
            )));
        }
        self.restart_task_locked(name, &slot, &mut instances, task)
            .await;
        Ok(())
    }

    /// Like Connect, an unknown connector simply has no active topics.
    async fn active_topics(&self, name: &str) -> HerderResult<Vec<String>> {
        self.topic_tracking(false)?;
        let Ok(slot) = self.slot(name) else {
            return Ok(Vec::new());
        };
        let topics = slot
            .active_topics
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect();
        Ok(topics)
    }

    async fn reset_active_topics(&self, name: &str) -> HerderResult<()> {
        self.topic_tracking(true)?;
        if let Ok(slot) = self.slot(name) {
            slot.active_topics
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clear();
        }
        Ok(())
    }

    async fn offsets(&self, name: &str) -> HerderResult<Vec<(TopicPartition, i64)>> {
        let config = self.slot(name)?.config();
        let offsets = self.offsets_blocking(name, config, offsets::read).await?;
        Ok(offsets.into_iter().collect())
    }

    async fn alter_offsets(&self, name: &str, changes: Vec<OffsetChange>) -> HerderResult<()> {
        let (slot, instances) = self.lock(name).await?;
        Self::require_stopped(name, &slot, &instances)?;
        self.offsets_blocking(name, slot.config(), move |w, n, c| {
            offsets::alter(w, n, c, &changes)
        })
        .await
    }

    async fn reset_offsets(&self, name: &str) -> HerderResult<()> {
        let (slot, instances) = self.lock(name).await?;
        Self::require_stopped(name, &slot, &instances)?;
        self.offsets_blocking(name, slot.config(), offsets::reset)
            .await
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
        if let Some(keys) = converter_config_keys(plugin) {
            return Ok(keys);
        }
        let plugin = self
            .worker
            .plugins
            .find(plugin)
            .ok_or_else(|| HerderError::NotFound(format!("Unknown plugin {plugin}.")))?;
        Ok(plugin_config_keys(plugin.as_ref()))
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
        // A form filled from GET …/config carries the mask: check the stored secret.
        let stored = config
            .get("name")
            .and_then(|n| self.map().get(n).map(|slot| slot.config()));
        let config = self.unmasked(config, stored.as_ref());
        let (_, issues) = self.config_issues(&config)?;
        Ok(config_infos(plugin.as_ref(), &config, &issues))
    }

    async fn shutdown(&self) {
        let slots: Vec<Arc<Slot>> = self.map().values().cloned().collect();
        for slot in slots {
            let mut instances = slot.ops.lock().await;
            self.stop_instances(&slot, &mut instances).await;
        }
    }
}
