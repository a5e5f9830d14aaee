//! Connect's `KafkaConfigBackingStore`: connector configs, target states
//! and task configs as records of the config topic, keyed and shaped as
//! Connect writes them, so the topic reads the same to an operator.
//!
//! | key | value |
//! | --- | --- |
//! | `connector-<c>` | `{"properties": {…}}`, or a tombstone on delete |
//! | `target-state-<c>` | `{"state": "STARTED"/"PAUSED", "state.v2": "STARTED"/"PAUSED"/"STOPPED"}` |
//! | `task-<c>-<n>` | `{"properties": {…}}` |
//! | `commit-<c>` | `{"tasks": n}`: tasks 0..n written before it are the connector's |

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use connect_api::ConfigMap;
use serde::{Deserialize, Serialize};

use super::log::{KafkaLog, TopicSpec, json};
use crate::herder::distributed::assignment::Assignment;
use crate::status::TargetState;
use crate::storage::{ConfigBackingStore, ConnectorState, StorageError};
use crate::worker_config::WorkerConfig;

#[derive(Debug, Default)]
struct ConfigLogState {
    configs: BTreeMap<String, ConfigMap>,
    targets: HashMap<String, TargetState>,
    tasks: HashMap<String, Vec<ConfigMap>>,
    /// Task configs read but not yet committed by a `commit-<c>` record.
    pending: HashMap<String, BTreeMap<u32, ConfigMap>>,
    /// The newest assignment the leader published (`assignment`).
    assignment: Option<Assignment>,
    /// Workers drained by `PUT /admin/workers/{id}/drain` (`drain-<id>`).
    drained: BTreeSet<String>,
    /// The last restart asked for each connector (`restart-<c>`).
    restarts: BTreeMap<String, RestartRecord>,
}

/// A restart for the workers running the connector's instances to carry out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestartRecord {
    /// Increases with every request, so a worker acts on each once.
    pub seq: u64,
    pub connector: bool,
    pub tasks: Vec<u32>,
}

#[derive(Serialize, Deserialize)]
struct Properties {
    properties: ConfigMap,
}

#[derive(Serialize, Deserialize)]
struct TargetRecord {
    /// Connect before 3.5: STARTED or PAUSED (a stopped connector reads as PAUSED).
    state: String,
    #[serde(rename = "state.v2", default, skip_serializing_if = "Option::is_none")]
    state_v2: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Commit {
    tasks: u32,
}

fn target_name(t: TargetState) -> &'static str {
    match t {
        TargetState::Started => "STARTED",
        TargetState::Paused => "PAUSED",
        TargetState::Stopped => "STOPPED",
    }
}

fn parse_target(s: &str) -> Option<TargetState> {
    match s {
        "STARTED" => Some(TargetState::Started),
        "PAUSED" => Some(TargetState::Paused),
        "STOPPED" => Some(TargetState::Stopped),
        _ => None,
    }
}

impl ConfigLogState {
    fn apply(&mut self, topic: &str, key: &str, value: Option<&[u8]>) {
        if let Some(name) = key.strip_prefix("connector-") {
            match value.and_then(|v| json::<Properties>(topic, key, v)) {
                Some(p) => {
                    self.configs.insert(name.to_string(), p.properties);
                }
                None if value.is_none() => {
                    self.configs.remove(name);
                    self.tasks.remove(name);
                    self.pending.remove(name);
                }
                None => {}
            }
        } else if let Some(name) = key.strip_prefix("target-state-") {
            let Some(value) = value else {
                self.targets.remove(name);
                return;
            };
            let Some(record) = json::<TargetRecord>(topic, key, value) else {
                return;
            };
            match parse_target(record.state_v2.as_deref().unwrap_or(&record.state)) {
                Some(target) => {
                    self.targets.insert(name.to_string(), target);
                }
                None => tracing::warn!(topic, key, "skipping an unknown target state"),
            }
        } else if let Some(rest) = key.strip_prefix("task-") {
            let parsed = rest
                .rsplit_once('-')
                .and_then(|(c, n)| Some((c, n.parse::<u32>().ok()?)));
            let (Some((name, task)), Some(value)) = (parsed, value) else {
                tracing::warn!(topic, key, "skipping a task record this worker cannot read");
                return;
            };
            if let Some(p) = json::<Properties>(topic, key, value) {
                self.pending
                    .entry(name.to_string())
                    .or_default()
                    .insert(task, p.properties);
            }
        } else if key == "assignment" {
            if let Some(next) = value.and_then(|v| json::<Assignment>(topic, key, v)) {
                // An older epoch (a deposed leader's last word) never wins.
                if self
                    .assignment
                    .as_ref()
                    .is_none_or(|a| next.epoch > a.epoch)
                {
                    self.assignment = Some(next);
                }
            }
        } else if let Some(name) = key.strip_prefix("restart-") {
            match value.and_then(|v| json::<RestartRecord>(topic, key, v)) {
                Some(r) => {
                    self.restarts.insert(name.to_string(), r);
                }
                None => {
                    self.restarts.remove(name);
                }
            }
        } else if let Some(worker) = key.strip_prefix("drain-") {
            match value {
                Some(_) => self.drained.insert(worker.to_string()),
                None => self.drained.remove(worker),
            };
        } else if let Some(name) = key.strip_prefix("commit-") {
            let Some(commit) = value.and_then(|v| json::<Commit>(topic, key, v)) else {
                return;
            };
            let mut pending = self.pending.remove(name).unwrap_or_default();
            let tasks: Option<Vec<ConfigMap>> =
                (0..commit.tasks).map(|i| pending.remove(&i)).collect();
            match tasks {
                Some(tasks) => {
                    self.tasks.insert(name.to_string(), tasks);
                }
                None => tracing::warn!(
                    topic,
                    key,
                    "a task commit names task configs that were not written; ignored"
                ),
            }
        } else {
            tracing::warn!(topic, key, "skipping a record with an unknown key");
        }
    }

    fn connector(&self, name: &str) -> Option<ConnectorState> {
        let config = self.configs.get(name)?;
        Some(ConnectorState {
            config: config.clone(),
            target_state: self
                .targets
                .get(name)
                .copied()
                .unwrap_or(TargetState::Started),
            tasks: self.tasks.get(name).cloned().unwrap_or_default(),
        })
    }
}

/// The cluster's desired state, read from the config topic.
pub struct KafkaConfigStore {
    log: KafkaLog,
    state: Arc<Mutex<ConfigLogState>>,
}

impl KafkaConfigStore {
    /// Open (creating if needed) the config topic and read it to the end.
    /// Connect's config topic has one partition: it orders every change.
    pub async fn open(
        worker: &WorkerConfig,
        topic: &str,
        replication_factor: i32,
    ) -> Result<Self, StorageError> {
        let state = Arc::new(Mutex::new(ConfigLogState::default()));
        let applied = state.clone();
        let name = topic.to_string();
        let log = KafkaLog::open(
            worker,
            &TopicSpec {
                name: topic.to_string(),
                partitions: 1,
                replication_factor,
            },
            Box::new(move |key, value| {
                applied
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .apply(&name, key, value)
            }),
        )
        .await?;
        Ok(Self { log, state })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ConfigLogState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wait until every change written so far is read here.
    pub async fn catch_up(&self) -> Result<(), StorageError> {
        self.log.catch_up().await
    }

    /// The newest assignment published.
    pub fn assignment(&self) -> Option<Assignment> {
        self.state().assignment.clone()
    }

    /// Publish an assignment (the leader does).
    pub async fn put_assignment(&self, assignment: &Assignment) -> Result<(), StorageError> {
        self.write_json("assignment", assignment).await
    }

    pub fn restarts(&self) -> BTreeMap<String, RestartRecord> {
        self.state().restarts.clone()
    }

    pub async fn put_restart(
        &self,
        name: &str,
        restart: &RestartRecord,
    ) -> Result<(), StorageError> {
        self.write_json(&format!("restart-{name}"), restart).await
    }

    pub fn drained(&self) -> BTreeSet<String> {
        self.state().drained.clone()
    }

    /// Drain a worker (`true`) or let it take work again.
    pub async fn put_drained(&self, worker: &str, drained: bool) -> Result<(), StorageError> {
        let key = format!("drain-{worker}");
        if drained {
            self.write_json(&key, &serde_json::json!({"drained": true}))
                .await
        } else {
            self.log.write(&key, None).await
        }
    }

    async fn write_json(&self, key: &str, value: &impl Serialize) -> Result<(), StorageError> {
        let bytes = serde_json::to_vec(value)
            .map_err(|e| StorageError::Backend(format!("cannot encode {key}: {e}")))?;
        self.log.write(key, Some(&bytes)).await
    }
}

#[async_trait]
impl ConfigBackingStore for KafkaConfigStore {
    fn snapshot(&self) -> BTreeMap<String, ConnectorState> {
        let state = self.state();
        state
            .configs
            .keys()
            .filter_map(|name| Some((name.clone(), state.connector(name)?)))
            .collect()
    }

    fn connector(&self, name: &str) -> Option<ConnectorState> {
        self.state().connector(name)
    }

    /// The target state goes first, so no worker sees a new connector
    /// without the state it was created in.
    async fn put_connector_config(
        &self,
        name: &str,
        config: ConfigMap,
        target: Option<TargetState>,
    ) -> Result<(), StorageError> {
        if let Some(target) = target {
            self.put_target_state(name, target).await?;
        }
        self.write_json(
            &format!("connector-{name}"),
            &Properties { properties: config },
        )
        .await
    }

    async fn put_target_state(&self, name: &str, target: TargetState) -> Result<(), StorageError> {
        let v1 = match target {
            TargetState::Started => "STARTED",
            TargetState::Paused | TargetState::Stopped => "PAUSED",
        };
        self.write_json(
            &format!("target-state-{name}"),
            &TargetRecord {
                state: v1.to_string(),
                state_v2: Some(target_name(target).to_string()),
            },
        )
        .await
    }

    async fn put_task_configs(
        &self,
        name: &str,
        tasks: Vec<ConfigMap>,
    ) -> Result<(), StorageError> {
        let count = tasks.len() as u32;
        for (i, properties) in tasks.into_iter().enumerate() {
            self.write_json(&format!("task-{name}-{i}"), &Properties { properties })
                .await?;
        }
        self.write_json(&format!("commit-{name}"), &Commit { tasks: count })
            .await
    }

    async fn remove_connector(&self, name: &str) -> Result<(), StorageError> {
        self.log.write(&format!("connector-{name}"), None).await?;
        self.log.write(&format!("target-state-{name}"), None).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::herder::distributed::assignment::Work;

    fn assignment(epoch: u64, worker: &str) -> Vec<u8> {
        serde_json::to_vec(&Assignment {
            epoch,
            workers: [(worker.to_string(), [Work::Connector("c".into())].into())].into(),
        })
        .unwrap()
    }

    #[test]
    fn an_older_assignment_never_replaces_a_newer_one() {
        let mut state = ConfigLogState::default();
        state.apply("t", "assignment", Some(&assignment(3, "a:1")));
        state.apply("t", "assignment", Some(&assignment(2, "stale:1")));
        assert_eq!(state.assignment.as_ref().unwrap().epoch, 3);
        assert!(
            state
                .assignment
                .as_ref()
                .unwrap()
                .workers
                .contains_key("a:1")
        );
        state.apply("t", "assignment", Some(&assignment(4, "b:1")));
        assert!(state.assignment.unwrap().workers.contains_key("b:1"));
    }

    #[test]
    fn task_configs_count_only_once_committed() {
        let mut state = ConfigLogState::default();
        let props = |v: &str| {
            serde_json::to_vec(&Properties {
                properties: [("k".to_string(), v.to_string())].into(),
            })
            .unwrap()
        };
        state.apply("t", "connector-my-conn", Some(&props("c")));
        state.apply("t", "task-my-conn-0", Some(&props("t0")));
        state.apply("t", "task-my-conn-1", Some(&props("t1")));
        assert!(state.connector("my-conn").unwrap().tasks.is_empty());
        state.apply("t", "commit-my-conn", Some(br#"{"tasks":2}"#));
        assert_eq!(state.connector("my-conn").unwrap().tasks.len(), 2);
        state.apply(
            "t",
            "target-state-my-conn",
            Some(br#"{"state":"PAUSED","state.v2":"STOPPED"}"#),
        );
        assert_eq!(
            state.connector("my-conn").unwrap().target_state,
            TargetState::Stopped
        );
        // A record no worker can read changes nothing.
        state.apply("t", "commit-my-conn", Some(b"garbage"));
        state.apply("t", "connector-my-conn", None);
        assert!(state.connector("my-conn").is_none());
    }
}
