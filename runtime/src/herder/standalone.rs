//! One worker alone: configs in a local file, every task on this process.
//!
//! What should run lives in the [`HerderCore`]'s stores; what runs here
//! lives in one [`Instances`] per connector, behind its own async lock that
//! serialises writes to that connector (a start, a restart, an offset
//! reset). Reads never take it: they answer from the stores, so a slow
//! write to one connector holds up nobody else.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use connect_api::{ConfigMap, SinkConnector, TopicPartition};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use super::connectors_dir::load_connectors_dir;
use super::core::{HerderCore, RestartPlan, not_found, running_state, task_target};
use super::validation::{ConfigInfos, ConfigKeyInfo};
use super::*;
use crate::connector_config::check_connector_name;
use crate::offsets;
use crate::status::{State, StatusReporter, TargetState};
use crate::storage::{FileConfigStore, MemoryStatusStore, StorageError};
use crate::worker::{RunningTask, Worker};
use crate::worker_config::StandaloneSettings;

/// This worker's running instances of one connector.
#[derive(Default)]
struct Instances {
    connector: Option<Box<dyn SinkConnector>>,
    /// Reports the running connector instance's state.
    reporter: Option<StatusReporter>,
    tasks: Vec<RunningTask>,
    /// Set once the connector is deleted: a write that waited on the lock
    /// meanwhile answers 404 instead of acting on a ghost.
    deleted: bool,
}

struct Slot {
    ops: Arc<AsyncMutex<Instances>>,
    active_topics: Arc<Mutex<BTreeSet<String>>>,
}

impl Slot {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            ops: Arc::new(AsyncMutex::new(Instances::default())),
            active_topics: Default::default(),
        })
    }
}

type Locked = (Arc<Slot>, OwnedMutexGuard<Instances>);

pub struct StandaloneHerder {
    core: HerderCore,
    connectors_dir: PathBuf,
    slots: Mutex<BTreeMap<String, Arc<Slot>>>,
    /// Serialises the exists-check and store write of a create, so two
    /// creates of one name cannot both succeed.
    creating: AsyncMutex<()>,
    ready: AtomicBool,
}

impl StandaloneHerder {
    /// A herder over the config file named by `settings`.
    pub fn new(
        worker: Worker,
        settings: &StandaloneSettings,
        commit: String,
    ) -> Result<Self, StorageError> {
        let configs = FileConfigStore::open(settings.config_storage_file.clone())?;
        Ok(Self {
            core: HerderCore::new(
                worker,
                Arc::new(configs),
                Arc::new(MemoryStatusStore::default()),
                commit,
            ),
            connectors_dir: settings.connectors_dir.clone(),
            slots: Mutex::new(BTreeMap::new()),
            creating: AsyncMutex::new(()),
            ready: AtomicBool::new(false),
        })
    }

    /// Apply `connectors.d/` (its configs win, stored target states are
    /// kept), then start every connector. Bad files are logged and skipped.
    async fn start_all(&self) -> Result<(), StorageError> {
        let (files, errors) = load_connectors_dir(&self.connectors_dir);
        for error in errors {
            tracing::error!("skipping connector file {error}");
        }
        for file in files {
            let checked = check_connector_name(&file.name)
                .map_err(|e| HerderError::BadRequest(e.to_string()))
                .and_then(|()| self.core.validate_for_create(&file.config));
            if let Err(e) = checked {
                tracing::error!("skipping connector file {}: {e}", file.file);
                continue;
            }
            self.core
                .configs
                .put_connector_config(&file.name, file.config, None)
                .await?;
        }
        for name in self.core.connectors() {
            if let Ok((slot, mut instances)) = self.lock(&name).await {
                self.start_instance(&name, &slot, &mut instances).await;
            }
        }
        self.ready.store(true, Ordering::SeqCst);
        Ok(())
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Arc<Slot>>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The connector's slot with its write lock held; 404 if it is not
    /// stored, or was deleted while this waited.
    async fn lock(&self, name: &str) -> HerderResult<Locked> {
        if !self.core.configs.contains(name) {
            return Err(not_found(name));
        }
        let slot = self
            .slots()
            .entry(name.to_string())
            .or_insert_with(Slot::new)
            .clone();
        let instances = slot.ops.clone().lock_owned().await;
        if instances.deleted || !self.core.configs.contains(name) {
            return Err(not_found(name));
        }
        Ok((slot, instances))
    }

    /// Create `name`: stored, shown (UNASSIGNED) and locked before anything
    /// else can act on it, then started.
    async fn create(
        &self,
        name: &str,
        config: ConfigMap,
        initial: TargetState,
    ) -> HerderResult<()> {
        let (slot, mut instances) = {
            let _creating = self.creating.lock().await;
            if self.core.configs.contains(name) {
                return Err(HerderError::AlreadyExists(format!(
                    "Connector {name} already exists"
                )));
            }
            let slot = Slot::new();
            let instances = slot.ops.clone().lock_owned().await;
            self.slots().insert(name.to_string(), slot.clone());
            let stored = self
                .core
                .configs
                .put_connector_config(name, config, Some(initial))
                .await;
            if let Err(e) = stored {
                self.slots().remove(name);
                return Err(self.core.internal(e));
            }
            (slot, instances)
        };
        self.start_instance(name, &slot, &mut instances).await;
        Ok(())
    }

    /// (Re)start the connector instance and, unless stopped, its tasks.
    async fn start_instance(&self, name: &str, slot: &Slot, instances: &mut Instances) {
        let Some(state) = self.core.configs.connector(name) else {
            return;
        };
        let reporter = self.core.listener.connector(name);
        if state.target_state == TargetState::Stopped {
            reporter.set(State::Stopped);
            instances.reporter = Some(reporter);
            return;
        }
        match self.core.worker.start_connector(name, &state.config).await {
            Ok(started) => {
                instances.connector = Some(started.instance);
                let stored = self
                    .core
                    .configs
                    .put_task_configs(name, started.task_configs.clone())
                    .await;
                if let Err(e) = stored {
                    reporter.fail(format!("cannot store the task configs: {e}"));
                    instances.reporter = Some(reporter);
                    return;
                }
                reporter.set(running_state(state.target_state));
                instances.reporter = Some(reporter);
                let target = task_target(state.target_state);
                for (id, config) in started.task_configs.into_iter().enumerate() {
                    let status = self.core.listener.task(name, id as u32);
                    status.set(State::Unassigned);
                    instances.tasks.push(self.core.worker.start_task(
                        name,
                        id as u32,
                        config,
                        target,
                        status,
                        slot.active_topics.clone(),
                    ));
                }
            }
            Err(e) => {
                tracing::error!(connector = name, "connector failed to start: {e}");
                reporter.fail(e.to_string());
                instances.reporter = Some(reporter);
            }
        }
    }

    /// Stop the tasks (their statuses go: they no longer exist) and the
    /// connector instance.
    async fn stop_instances(&self, name: &str, instances: &mut Instances) {
        let tasks = std::mem::take(&mut instances.tasks);
        let ids: Vec<u32> = tasks.iter().map(|t| t.id).collect();
        self.core.worker.stop_tasks(tasks).await;
        for id in ids {
            self.core.listener.task_removed(name, id);
        }
        if let Some(mut connector) = instances.connector.take() {
            connector.stop().await;
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
        self.stop_instances(name, instances).await;
        let configs = &self.core.configs;
        let stored = async {
            configs.put_task_configs(name, Vec::new()).await?;
            configs.put_connector_config(name, config, None).await
        };
        let result = stored.await.map_err(|e| self.core.internal(e));
        self.start_instance(name, slot, instances).await;
        result
    }

    /// Pause or resume: running tasks follow at once; a stopped connector
    /// starts in the new state.
    async fn run_as(&self, name: &str, target: TargetState) -> HerderResult<()> {
        let (slot, mut instances) = self.lock(name).await?;
        let was = self.core.state(name)?.target_state;
        self.core
            .configs
            .put_target_state(name, target)
            .await
            .map_err(|e| self.core.internal(e))?;
        if was == TargetState::Stopped {
            self.start_instance(name, &slot, &mut instances).await;
            return Ok(());
        }
        for task in &instances.tasks {
            task.set_target(task_target(target));
        }
        if let Some(reporter) = &instances.reporter
            && reporter.current().is_none_or(|s| s.state != State::Failed)
        {
            reporter.set(running_state(target));
        }
        Ok(())
    }

    /// Carry out a restart plan whose RESTARTING states are reported.
    async fn restart(
        &self,
        name: &str,
        slot: &Slot,
        instances: &mut Instances,
        plan: RestartPlan,
        connector_failed: bool,
    ) {
        if plan.connector {
            if connector_failed || instances.connector.is_none() {
                // A failed connector has no tasks: start it all again.
                self.stop_instances(name, instances).await;
                self.start_instance(name, slot, instances).await;
                return;
            }
            if let Some(mut connector) = instances.connector.take() {
                connector.stop().await;
            }
            let state = self.core.configs.connector(name);
            let reporter = self.core.listener.connector(name);
            match state {
                Some(state) => match self.core.worker.start_connector(name, &state.config).await {
                    Ok(started) => {
                        instances.connector = Some(started.instance);
                        reporter.set(running_state(state.target_state));
                    }
                    Err(e) => reporter.fail(e.to_string()),
                },
                None => return,
            }
            instances.reporter = Some(reporter);
        }
        for id in plan.tasks {
            self.restart_task_locked(name, slot, instances, id).await;
        }
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
        self.core.worker.stop_task(old).await;
        let Some(state) = self.core.configs.connector(name) else {
            return;
        };
        let config = state
            .tasks
            .get(id as usize)
            .cloned()
            .unwrap_or_else(|| state.config.clone());
        // A new reporter: the old instance's last words cannot overwrite it.
        let status = self.core.listener.task(name, id);
        let task = self.core.worker.start_task(
            name,
            id,
            config,
            task_target(state.target_state),
            status,
            slot.active_topics.clone(),
        );
        instances.tasks.insert(pos, task);
    }

    fn require_stopped(&self, name: &str, instances: &Instances) -> HerderResult<()> {
        let stopped = self.core.state(name)?.target_state == TargetState::Stopped;
        if !stopped || !instances.tasks.is_empty() {
            return Err(HerderCore::must_be_stopped(name));
        }
        Ok(())
    }

    fn active_topics_of(&self, name: &str) -> Option<Arc<Mutex<BTreeSet<String>>>> {
        self.slots().get(name).map(|s| s.active_topics.clone())
    }
}

#[async_trait]
impl Herder for StandaloneHerder {
    async fn start(&self) -> HerderResult<()> {
        self.start_all().await.map_err(|e| self.core.internal(e))
    }

    fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    async fn server_info(&self) -> ServerInfo {
        self.core.server_info().await
    }

    async fn connectors(&self) -> Vec<String> {
        self.core.connectors()
    }

    async fn connector_info(&self, name: &str) -> HerderResult<ConnectorInfo> {
        self.core.info(name)
    }

    async fn connector_config(&self, name: &str) -> HerderResult<ConfigMap> {
        self.core.connector_config(name)
    }

    async fn connector_status(&self, name: &str) -> HerderResult<ConnectorStatus> {
        self.core.status(name)
    }

    async fn task_infos(&self, name: &str) -> HerderResult<Vec<TaskInfo>> {
        self.core.task_infos(name)
    }

    async fn task_status(&self, name: &str, task: u32) -> HerderResult<TaskStatus> {
        self.core.task_status(name, task)
    }

    async fn create_connector(
        &self,
        name: &str,
        config: ConfigMap,
        initial: TargetState,
    ) -> HerderResult<ConnectorInfo> {
        let config = self.core.config_for_put(name, config, None)?;
        self.create(name, config, initial).await?;
        self.core.info(name)
    }

    async fn put_connector_config(
        &self,
        name: &str,
        config: ConfigMap,
    ) -> HerderResult<(bool, ConnectorInfo)> {
        loop {
            let Ok((slot, mut instances)) = self.lock(name).await else {
                let config = self.core.config_for_put(name, config.clone(), None)?;
                match self.create(name, config, TargetState::Started).await {
                    // Created meanwhile by another request: replace it instead.
                    Err(HerderError::AlreadyExists(_)) => continue,
                    result => result?,
                }
                return Ok((true, self.core.info(name)?));
            };
            let stored = self.core.state(name)?.config;
            let config = self.core.config_for_put(name, config, Some(&stored))?;
            self.reconfigure(name, &slot, &mut instances, config)
                .await?;
            return Ok((false, self.core.info(name)?));
        }
    }

    async fn patch_connector_config(
        &self,
        name: &str,
        patch: Vec<(String, Option<String>)>,
    ) -> HerderResult<ConnectorInfo> {
        let (slot, mut instances) = self.lock(name).await?;
        let stored = self.core.state(name)?.config;
        let config = self.core.config_for_patch(name, &stored, patch)?;
        self.reconfigure(name, &slot, &mut instances, config)
            .await?;
        self.core.info(name)
    }

    async fn delete_connector(&self, name: &str) -> HerderResult<()> {
        let (_slot, mut instances) = self.lock(name).await?;
        self.stop_instances(name, &mut instances).await;
        instances.deleted = true;
        self.slots().remove(name);
        let removed = self.core.configs.remove_connector(name).await;
        self.core.listener.connector_deleted(name);
        removed.map_err(|e| self.core.internal(e))?;
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
        let (_slot, mut instances) = self.lock(name).await?;
        let configs = &self.core.configs;
        configs
            .put_target_state(name, TargetState::Stopped)
            .await
            .map_err(|e| self.core.internal(e))?;
        self.stop_instances(name, &mut instances).await;
        configs
            .put_task_configs(name, Vec::new())
            .await
            .map_err(|e| self.core.internal(e))?;
        let reporter = self.core.listener.connector(name);
        reporter.set(State::Stopped);
        instances.reporter = Some(reporter);
        Ok(())
    }

    async fn restart_connector(
        &self,
        name: &str,
        request: RestartRequest,
    ) -> HerderResult<ConnectorStatus> {
        let (slot, mut instances) = self.lock(name).await?;
        let before = self.core.status(name)?;
        if self.core.state(name)?.target_state == TargetState::Stopped {
            return Ok(before);
        }
        let plan = self.core.restart_plan(name, request)?;
        // Reported before the work starts: what a client polling the status
        // sees while it runs, and what the 202 answer shows.
        let marked = self.core.mark_restarting(name, &plan)?;
        let connector_failed = before.connector.state == State::Failed;
        self.restart(name, &slot, &mut instances, plan, connector_failed)
            .await;
        Ok(marked)
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
        self.core.topic_tracking(false)?;
        let Some(topics) = self.active_topics_of(name) else {
            return Ok(Vec::new());
        };
        let topics = topics
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect();
        Ok(topics)
    }

    async fn reset_active_topics(&self, name: &str) -> HerderResult<()> {
        self.core.topic_tracking(true)?;
        if let Some(topics) = self.active_topics_of(name) {
            topics.lock().unwrap_or_else(|e| e.into_inner()).clear();
        }
        Ok(())
    }

    async fn offsets(&self, name: &str) -> HerderResult<Vec<(TopicPartition, i64)>> {
        let config = self.core.state(name)?.config;
        let offsets = self
            .core
            .offsets_blocking(name, config, offsets::read)
            .await?;
        Ok(offsets.into_iter().collect())
    }

    async fn alter_offsets(&self, name: &str, changes: Vec<OffsetChange>) -> HerderResult<()> {
        let (_slot, instances) = self.lock(name).await?;
        self.require_stopped(name, &instances)?;
        let config = self.core.state(name)?.config;
        self.core
            .offsets_blocking(name, config, move |w, n, c| {
                offsets::alter(w, n, c, &changes)
            })
            .await?
            .map_err(|refused| HerderError::BadRequest(refused.to_string()))
    }

    async fn reset_offsets(&self, name: &str) -> HerderResult<()> {
        let (_slot, instances) = self.lock(name).await?;
        self.require_stopped(name, &instances)?;
        let config = self.core.state(name)?.config;
        self.core
            .offsets_blocking(name, config, offsets::reset)
            .await
    }

    /// One worker: everything runs here, and there is nothing to move.
    async fn rebalance(&self, connector: Option<&str>) -> HerderResult<Placement> {
        if let Some(name) = connector {
            self.core.state(name)?;
        }
        let mut here = PlacedWork::default();
        for (name, state) in self.core.configs.snapshot() {
            if connector.is_some_and(|c| c != name) {
                continue;
            }
            here.tasks
                .extend((0..state.tasks.len() as u32).map(|task| ConnectorTaskId {
                    connector: name.clone(),
                    task,
                }));
            here.connectors.push(name);
        }
        Ok(Placement {
            epoch: 0,
            workers: [(self.core.settings().worker_id.clone(), here)].into(),
        })
    }

    async fn drain(&self, _worker: &str, _drained: bool) -> HerderResult<()> {
        Err(HerderError::BadRequest(
            "This worker runs standalone (no group.id): there is no other worker to move its tasks to".into(),
        ))
    }

    fn plugins(&self, connectors_only: bool) -> Vec<PluginInfo> {
        self.core.plugins(connectors_only)
    }

    fn plugin_config(&self, plugin: &str) -> HerderResult<Vec<ConfigKeyInfo>> {
        self.core.plugin_config(plugin)
    }

    fn validate(&self, plugin: &str, config: ConfigMap) -> HerderResult<ConfigInfos> {
        self.core.validate(plugin, config)
    }

    async fn shutdown(&self) {
        let slots: Vec<(String, Arc<Slot>)> = self
            .slots()
            .iter()
            .map(|(n, s)| (n.clone(), s.clone()))
            .collect();
        for (name, slot) in slots {
            let mut instances = slot.ops.lock().await;
            let tasks = std::mem::take(&mut instances.tasks);
            self.core.worker.stop_tasks(tasks).await;
            if let Some(mut connector) = instances.connector.take() {
                connector.stop().await;
            }
            tracing::debug!(connector = %name, "stopped");
        }
    }
}
