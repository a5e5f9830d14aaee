//! The cluster herder: the shared [`HerderCore`] over the Kafka stores,
//! with writes made by the leader (a follower answers NotLeader and the
//! REST layer forwards), and a loop that announces this worker, leads when
//! Kafka says so, and carries out the assignment.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use async_trait::async_trait;
use connect_api::{ConfigMap, SinkConnector, TopicPartition};
use tokio::sync::Mutex as AsyncMutex;

use super::assignment::{Assignment, Work};
use super::leader::now_ms;
use super::membership::Membership;
use crate::herder::core::HerderCore;
use crate::herder::validation::{ConfigInfos, ConfigKeyInfo};
use crate::herder::*;
use crate::offsets;
use crate::status::TargetState;
use crate::storage::{
    ConfigBackingStore, Heartbeat, KafkaConfigStore, KafkaStatusStore, RestartRecord,
    StatusBackingStore, StorageError,
};
use crate::worker::{RunningTask, Worker};
use crate::worker_config::DistributedSettings;

/// How often a worker announces itself, leads and applies the assignment.
const TICK: Duration = Duration::from_millis(500);
const ANNOUNCE_EVERY: Duration = Duration::from_secs(2);

pub(super) struct RunningConnector {
    pub instance: Option<Box<dyn SinkConnector>>,
    pub config: ConfigMap,
    pub target: TargetState,
}

impl RunningConnector {
    /// A connector this worker owns but does not run (stopped, or failed
    /// to start): remembered so the same config is not retried each tick.
    pub fn idle(state: &crate::storage::ConnectorState) -> Self {
        Self {
            instance: None,
            config: state.config.clone(),
            target: state.target_state,
        }
    }
}

pub(super) struct RunningTaskEntry {
    pub task: RunningTask,
    pub config: ConfigMap,
    pub target: TargetState,
}

/// This worker's instances, and the newest assignment epoch acted on.
#[derive(Default)]
pub(super) struct Running {
    pub epoch: u64,
    pub connectors: BTreeMap<String, RunningConnector>,
    pub tasks: BTreeMap<(String, u32), RunningTaskEntry>,
    pub active_topics: BTreeMap<String, Arc<Mutex<BTreeSet<String>>>>,
    /// The restart request last acted on, per connector.
    pub restarts_seen: BTreeMap<String, u64>,
    /// Active topics this worker has announced, and whether it has read
    /// them back from the status topic since.
    pub announced: BTreeMap<(String, String), bool>,
}

pub struct DistributedHerder {
    pub(super) core: HerderCore,
    pub(super) configs: Arc<KafkaConfigStore>,
    pub(super) statuses: Arc<KafkaStatusStore>,
    pub(super) settings: DistributedSettings,
    membership: Membership,
    running: AsyncMutex<Running>,
    ready: AtomicBool,
    stopping: AtomicBool,
    /// Cut off from the cluster: its view may be stale, so no writes.
    fenced: AtomicBool,
    /// The leader's next assignment while moved work is being revoked.
    pub(super) pending: Mutex<Option<(Assignment, tokio::time::Instant)>>,
    me: Weak<DistributedHerder>,
}

impl DistributedHerder {
    /// Open the cluster's topics (reading them to the end) and join its group.
    pub async fn open(
        worker: Worker,
        settings: DistributedSettings,
        commit: String,
    ) -> Result<Arc<Self>, StorageError> {
        let config = worker.config.clone();
        let configs = Arc::new(
            KafkaConfigStore::open(
                &config,
                &settings.config_storage_topic,
                settings.config_storage_replication_factor,
            )
            .await?,
        );
        let statuses = Arc::new(
            KafkaStatusStore::open(
                &config,
                &settings.status_storage_topic,
                settings.status_storage_partitions,
                settings.status_storage_replication_factor,
            )
            .await?,
        );
        let membership = Membership::join(
            &config,
            &settings.group_id,
            &format!("{}-membership", settings.config_storage_topic),
            settings.config_storage_replication_factor,
        )
        .await?;
        let core = HerderCore::new(worker, configs.clone(), statuses.clone(), commit);
        Ok(Arc::new_cyclic(|me| Self {
            core,
            configs,
            statuses,
            settings,
            membership,
            running: AsyncMutex::new(Running::default()),
            ready: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            fenced: AtomicBool::new(false),
            pending: Mutex::new(None),
            me: me.clone(),
        }))
    }

    pub(super) fn worker_id(&self) -> &str {
        &self.core.settings().worker_id
    }

    /// How other workers reach this one (https when it advertises https).
    fn url(&self) -> String {
        self.core.settings().advertised_url()
    }

    fn announce(&self) {
        self.statuses.announce(
            self.worker_id(),
            &Heartbeat {
                url: self.url(),
                leader: self.membership.is_leader(),
                at_ms: now_ms(),
            },
        );
    }

    /// The REST URL of the worker that last announced itself as leader.
    fn leader_url(&self) -> Option<String> {
        self.statuses
            .heartbeats()
            .into_values()
            .filter(|b| b.leader)
            .max_by_key(|b| b.at_ms)
            .map(|b| b.url)
    }

    /// Writes are the leader's: elsewhere the REST layer forwards them. A
    /// worker cut off from the cluster answers 409 until it is back.
    fn require_leader(&self) -> HerderResult<()> {
        if self.fenced.load(Ordering::SeqCst) {
            return Err(HerderError::RebalanceInProgress);
        }
        if self.membership.is_leader() {
            Ok(())
        } else {
            Err(HerderError::NotLeader {
                leader_url: self.leader_url(),
            })
        }
    }

    fn stored(&self, e: StorageError) -> HerderError {
        self.core.internal(e)
    }

    async fn run(self: Arc<Self>) {
        let started = now_ms();
        let mut last_announce = tokio::time::Instant::now() - ANNOUNCE_EVERY;
        let mut fenced = false;
        while !self.stopping.load(Ordering::SeqCst) {
            if last_announce.elapsed() >= ANNOUNCE_EVERY {
                self.announce();
                last_announce = tokio::time::Instant::now();
            }
            let in_contact = self.in_contact(started);
            if !in_contact && !fenced {
                fenced = true;
                self.fenced.store(true, Ordering::SeqCst);
                tracing::warn!(
                    "lost contact with the cluster for {:?}: stopping this worker's connectors and tasks",
                    self.fence_after()
                );
                self.stop_all().await;
            } else if in_contact && fenced {
                fenced = false;
                self.fenced.store(false, Ordering::SeqCst);
                tracing::info!(
                    "back in contact with the cluster: taking up the current assignment"
                );
                self.running.lock().await.epoch = 0;
            }
            if !fenced {
                if self.membership.is_leader() {
                    self.lead().await;
                }
                let mut running = self.running.lock().await;
                self.apply(&mut running).await;
                self.sync_topics(&mut running);
            }
            self.ready.store(true, Ordering::SeqCst);
            tokio::time::sleep(TICK).await;
        }
    }

    /// A worker is cut off once its session would have expired: its own
    /// announcements have not come back through the status topic for the
    /// consumer session timeout. The group has then moved its partitions,
    /// and its tasks must not keep writing.
    fn fence_after(&self) -> Duration {
        let session_ms = self
            .core
            .settings()
            .settings
            .get("consumer.session.timeout.ms")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(45_000);
        Duration::from_millis(session_ms).max(ANNOUNCE_EVERY * 3)
    }

    fn in_contact(&self, started_ms: i64) -> bool {
        let limit = self.fence_after().as_millis() as i64;
        let now = now_ms();
        let heard = self
            .statuses
            .heartbeats()
            .get(self.worker_id())
            .map_or(started_ms, |b| b.at_ms.max(started_ms));
        now - heard <= limit
    }

    /// Announce the topics this worker's tasks have newly consumed from.
    /// A topic this worker has read back from the status topic and that is
    /// gone from it again was reset: it is forgotten here too, and new
    /// records add it back, as in Connect.
    fn sync_topics(&self, running: &mut Running) {
        for (connector, seen) in &running.active_topics {
            let stored = self.statuses.topics(connector);
            let mut local = seen.lock().unwrap_or_else(|e| e.into_inner());
            for topic in local.clone() {
                let key = (connector.clone(), topic.clone());
                let in_store = stored.contains(&topic);
                match running.announced.get(&key).copied() {
                    None => {
                        self.statuses.announce_topic(connector, &topic, 0);
                        running.announced.insert(key, false);
                    }
                    Some(false) if in_store => {
                        running.announced.insert(key, true);
                    }
                    Some(true) if !in_store => {
                        local.remove(&topic);
                        running.announced.remove(&key);
                    }
                    Some(_) => {}
                }
            }
        }
    }

    /// Stop every connector and task this worker runs.
    async fn stop_all(&self) {
        let mut running = self.running.lock().await;
        let tasks: Vec<RunningTask> = std::mem::take(&mut running.tasks)
            .into_values()
            .map(|e| e.task)
            .collect();
        self.core.worker.stop_tasks(tasks).await;
        for (_, mut c) in std::mem::take(&mut running.connectors) {
            if let Some(instance) = c.instance.as_mut() {
                instance.stop().await;
            }
        }
    }

    /// Record the state asked of an existing connector (the leader does);
    /// the workers running its instances follow on their next tick.
    async fn set_target(&self, name: &str, target: TargetState) -> HerderResult<()> {
        self.require_leader()?;
        self.core.state(name)?;
        self.configs
            .put_target_state(name, target)
            .await
            .map_err(|e| self.stored(e))
    }

    /// The connector, if it is STOPPED with no task left anywhere (offsets
    /// may then change).
    fn stopped(&self, name: &str) -> HerderResult<crate::storage::ConnectorState> {
        let state = self.core.state(name)?;
        if state.target_state != TargetState::Stopped || !self.statuses.tasks(name).is_empty() {
            return Err(HerderCore::must_be_stopped(name));
        }
        Ok(state)
    }

    async fn restart_request(&self, name: &str, plan: &RestartPlan) -> HerderResult<()> {
        let seq = self
            .configs
            .restarts()
            .get(name)
            .map_or(0, |r| r.seq)
            .max(now_ms() as u64)
            + 1;
        self.configs
            .put_restart(
                name,
                &RestartRecord {
                    seq,
                    connector: plan.connector,
                    tasks: plan.tasks.clone(),
                },
            )
            .await
            .map_err(|e| self.stored(e))
    }
}

#[async_trait]
impl Herder for DistributedHerder {
    async fn start(&self) -> HerderResult<()> {
        // Restart requests made before this worker started are history.
        {
            let mut running = self.running.lock().await;
            for (name, r) in self.configs.restarts() {
                running.restarts_seen.insert(name, r.seq);
            }
        }
        if let Some(me) = self.me.upgrade() {
            tokio::spawn(me.run());
        }
        Ok(())
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
        self.require_leader()?;
        let config = self.core.config_for_put(name, config, None)?;
        if self.configs.contains(name) {
            return Err(HerderError::AlreadyExists(format!(
                "Connector {name} already exists"
            )));
        }
        self.configs
            .put_connector_config(name, config, Some(initial))
            .await
            .map_err(|e| self.stored(e))?;
        self.core.info(name)
    }

    async fn put_connector_config(
        &self,
        name: &str,
        config: ConfigMap,
    ) -> HerderResult<(bool, ConnectorInfo)> {
        self.require_leader()?;
        let stored = self.configs.connector(name).map(|s| s.config);
        let created = stored.is_none();
        let config = self.core.config_for_put(name, config, stored.as_ref())?;
        let target = created.then_some(TargetState::Started);
        self.configs
            .put_connector_config(name, config, target)
            .await
            .map_err(|e| self.stored(e))?;
        Ok((created, self.core.info(name)?))
    }

    async fn patch_connector_config(
        &self,
        name: &str,
        patch: Vec<(String, Option<String>)>,
    ) -> HerderResult<ConnectorInfo> {
        self.require_leader()?;
        let stored = self.core.state(name)?.config;
        let config = self.core.config_for_patch(name, &stored, patch)?;
        self.configs
            .put_connector_config(name, config, None)
            .await
            .map_err(|e| self.stored(e))?;
        self.core.info(name)
    }

    async fn delete_connector(&self, name: &str) -> HerderResult<()> {
        self.require_leader()?;
        self.core.state(name)?;
        self.configs
            .remove_connector(name)
            .await
            .map_err(|e| self.stored(e))?;
        self.core.listener.connector_deleted(name);
        Ok(())
    }

    async fn pause(&self, name: &str) -> HerderResult<()> {
        self.set_target(name, TargetState::Paused).await
    }

    async fn resume(&self, name: &str) -> HerderResult<()> {
        self.set_target(name, TargetState::Started).await
    }

    async fn stop(&self, name: &str) -> HerderResult<()> {
        self.set_target(name, TargetState::Stopped).await?;
        self.configs
            .put_task_configs(name, Vec::new())
            .await
            .map_err(|e| self.stored(e))
    }

    async fn restart_connector(
        &self,
        name: &str,
        request: RestartRequest,
    ) -> HerderResult<ConnectorStatus> {
        self.require_leader()?;
        if self.core.state(name)?.target_state == TargetState::Stopped {
            return self.core.status(name);
        }
        let plan = self.core.restart_plan(name, request)?;
        let marked = self.core.mark_restarting(name, &plan)?;
        self.restart_request(name, &plan).await?;
        Ok(marked)
    }

    async fn restart_task(&self, name: &str, task: u32) -> HerderResult<()> {
        self.require_leader()?;
        if self.core.task_status(name, task).is_err() {
            return Err(HerderError::NotFound(format!(
                "Task {name}-{task} not found"
            )));
        }
        let plan = RestartPlan {
            connector: false,
            tasks: vec![task],
        };
        self.restart_request(name, &plan).await
    }

    /// The topics any worker's tasks of the connector have read (from the
    /// status topic, as Connect keeps them).
    async fn active_topics(&self, name: &str) -> HerderResult<Vec<String>> {
        self.core.topic_tracking(false)?;
        Ok(self.statuses.topics(name).into_iter().collect())
    }

    async fn reset_active_topics(&self, name: &str) -> HerderResult<()> {
        self.core.topic_tracking(true)?;
        self.statuses.reset_topics(name);
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
        let state = self.stopped(name)?;
        self.core
            .offsets_blocking(name, state.config, move |w, n, c| {
                offsets::alter(w, n, c, &changes)
            })
            .await?
            .map_err(|refused| HerderError::BadRequest(refused.to_string()))
    }

    async fn reset_offsets(&self, name: &str) -> HerderResult<()> {
        let state = self.stopped(name)?;
        self.core
            .offsets_blocking(name, state.config, offsets::reset)
            .await
    }

    /// The leader recomputes the assignment now and publishes it, even if
    /// nothing changed (a new epoch every worker acts on).
    async fn rebalance(&self, connector: Option<&str>) -> HerderResult<Placement> {
        self.require_leader()?;
        if let Some(name) = connector {
            self.core.state(name)?;
        }
        let next = self.publish_now().await.map_err(|e| self.stored(e))?;
        Ok(placement(&next, connector))
    }

    async fn drain(&self, worker: &str, drained: bool) -> HerderResult<()> {
        self.require_leader()?;
        if drained && !self.live_workers().contains(worker) {
            return Err(HerderError::NotFound(format!(
                "Worker {worker} is not in the cluster"
            )));
        }
        self.configs
            .put_drained(worker, drained)
            .await
            .map_err(|e| self.stored(e))?;
        self.publish_now().await.map_err(|e| self.stored(e))?;
        Ok(())
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

    async fn catch_up(&self) -> HerderResult<()> {
        self.configs.catch_up().await.map_err(|e| self.stored(e))
    }

    async fn shutdown(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.stop_all().await;
    }
}

/// An assignment as the REST API shows it, for all work or one connector's.
fn placement(assignment: &Assignment, connector: Option<&str>) -> Placement {
    let workers = assignment
        .workers
        .iter()
        .map(|(worker, works)| {
            let mut placed = PlacedWork::default();
            for work in works
                .iter()
                .filter(|w| connector.is_none_or(|c| w.connector() == c))
            {
                match work {
                    Work::Connector(c) => placed.connectors.push(c.clone()),
                    Work::Task(c, n) => placed.tasks.push(ConnectorTaskId {
                        connector: c.clone(),
                        task: *n,
                    }),
                }
            }
            (worker.clone(), placed)
        })
        .collect();
    Placement {
        epoch: assignment.epoch,
        workers,
    }
}
