//! Connect's `KafkaStatusBackingStore`: each connector's and task's state
//! as records of the status topic, keyed as Connect keys them
//! (`status-connector-<c>`, `status-task-<c>-<n>`), with the `worker_id`
//! that reported it. A write is local at once and reaches the other
//! workers through the topic.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use super::log::{KafkaLog, TopicSpec, json};
use crate::status::{InstanceStatus, State};
use crate::storage::{StatusBackingStore, StatusKey, StorageError};
use crate::worker_config::WorkerConfig;

#[derive(Serialize, Deserialize)]
struct StatusRecord {
    state: State,
    trace: Option<String>,
    worker_id: String,
    generation: u64,
}

fn record_key(key: &StatusKey) -> String {
    match key {
        StatusKey::Connector(c) => format!("status-connector-{c}"),
        StatusKey::Task(c, n) => format!("status-task-{c}-{n}"),
    }
}

fn parse_key(key: &str) -> Option<StatusKey> {
    if let Some(c) = key.strip_prefix("status-connector-") {
        return Some(StatusKey::Connector(c.to_string()));
    }
    let rest = key.strip_prefix("status-task-")?;
    let (c, n) = rest.rsplit_once('-')?;
    Some(StatusKey::Task(c.to_string(), n.parse().ok()?))
}

type Statuses = Arc<Mutex<BTreeMap<StatusKey, InstanceStatus>>>;

/// A worker's periodic announcement (`worker-<id>` in the status topic):
/// how to reach its REST API, and when it last spoke.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub url: String,
    /// Whether the worker led the cluster when it spoke.
    #[serde(default)]
    pub leader: bool,
    /// Milliseconds since the Unix epoch, by the announcing worker's clock.
    pub at_ms: i64,
}

type Heartbeats = Arc<Mutex<BTreeMap<String, Heartbeat>>>;

/// Connect's active-topic record (`topic-<topic>-<connector>`).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct TopicRecord {
    topic: TopicStatus,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TopicStatus {
    name: String,
    connector: String,
    task: u32,
    #[serde(rename = "discoverTimestamp")]
    discover_timestamp: i64,
}

/// Record key → (connector, topic): keys cannot be split (names hold
/// dashes), so the value names them and a tombstone is matched by key.
type Topics = Arc<Mutex<BTreeMap<String, (String, String)>>>;

pub struct KafkaStatusStore {
    log: KafkaLog,
    statuses: Statuses,
    heartbeats: Heartbeats,
    topics: Topics,
    /// The newest generation this worker has written per key: a report of
    /// an instance being replaced here never goes out after its successor's.
    written: Mutex<HashMap<StatusKey, u64>>,
}

impl KafkaStatusStore {
    pub async fn open(
        worker: &WorkerConfig,
        topic: &str,
        partitions: i32,
        replication_factor: i32,
    ) -> Result<Self, StorageError> {
        let statuses: Statuses = Default::default();
        let heartbeats: Heartbeats = Default::default();
        let applied = statuses.clone();
        let announced = heartbeats.clone();
        let topics: Topics = Default::default();
        let discovered = topics.clone();
        let name = topic.to_string();
        let log = KafkaLog::open(
            worker,
            &TopicSpec {
                name: topic.to_string(),
                partitions,
                replication_factor,
            },
            Box::new(move |key, value| {
                if let Some(worker) = key.strip_prefix("worker-") {
                    let mut heartbeats = announced.lock().unwrap_or_else(|e| e.into_inner());
                    match value.and_then(|v| json::<Heartbeat>(&name, key, v)) {
                        Some(beat) => heartbeats.insert(worker.to_string(), beat),
                        None => heartbeats.remove(worker),
                    };
                    return;
                }
                if key.starts_with("topic-") {
                    let mut topics = discovered.lock().unwrap_or_else(|e| e.into_inner());
                    match value.and_then(|v| json::<TopicRecord>(&name, key, v)) {
                        Some(r) => {
                            topics.insert(key.to_string(), (r.topic.connector, r.topic.name))
                        }
                        None => topics.remove(key),
                    };
                    return;
                }
                let Some(status_key) = parse_key(key) else {
                    tracing::warn!(topic = name, key, "skipping a record with an unknown key");
                    return;
                };
                let mut statuses = applied.lock().unwrap_or_else(|e| e.into_inner());
                match value {
                    None => {
                        statuses.remove(&status_key);
                    }
                    Some(value) => {
                        if let Some(r) = json::<StatusRecord>(&name, key, value) {
                            statuses.insert(
                                status_key,
                                InstanceStatus {
                                    state: r.state,
                                    worker_id: r.worker_id,
                                    trace: r.trace,
                                },
                            );
                        }
                    }
                }
            }),
        )
        .await?;
        Ok(Self {
            log,
            statuses,
            heartbeats,
            topics,
            written: Mutex::new(HashMap::new()),
        })
    }

    fn statuses(&self) -> std::sync::MutexGuard<'_, BTreeMap<StatusKey, InstanceStatus>> {
        self.statuses.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Announce this worker (`worker-<id>`); others see it as live while
    /// its announcements keep coming.
    pub fn announce(&self, worker_id: &str, beat: &Heartbeat) {
        let value = serde_json::to_vec(beat).unwrap_or_default();
        self.log
            .enqueue(&format!("worker-{worker_id}"), Some(&value));
    }

    /// Every worker that has announced itself, with its last heartbeat.
    pub fn heartbeats(&self) -> BTreeMap<String, Heartbeat> {
        self.heartbeats
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Record that a task of `connector` consumed from `topic`.
    pub fn announce_topic(&self, connector: &str, topic: &str, task: u32) {
        let record = TopicRecord {
            topic: TopicStatus {
                name: topic.to_string(),
                connector: connector.to_string(),
                task,
                discover_timestamp: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as i64),
            },
        };
        let value = serde_json::to_vec(&record).unwrap_or_default();
        self.log
            .enqueue(&format!("topic-{topic}-{connector}"), Some(&value));
    }

    /// The topics any worker's tasks of `connector` have consumed from.
    pub fn topics(&self, connector: &str) -> BTreeSet<String> {
        self.topics
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .filter(|(c, _)| c == connector)
            .map(|(_, t)| t.clone())
            .collect()
    }

    /// Forget the connector's active topics (Connect's topics/reset).
    pub fn reset_topics(&self, connector: &str) {
        let keys: Vec<String> = self
            .topics
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(_, (c, _))| c == connector)
            .map(|(k, _)| k.clone())
            .collect();
        for key in keys {
            self.log.enqueue(&key, None);
        }
    }

    /// Queue the record: reports of one key go out in the order made.
    fn send(&self, key: &StatusKey, value: Option<Vec<u8>>) {
        self.log.enqueue(&record_key(key), value.as_deref());
    }
}

impl StatusBackingStore for KafkaStatusStore {
    fn put(&self, key: &StatusKey, status: Option<InstanceStatus>, generation: u64) {
        {
            let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
            match written.get(key) {
                Some(newest) if *newest > generation => return,
                _ => written.insert(key.clone(), generation),
            };
        }
        let value = status.as_ref().map(|s| {
            serde_json::to_vec(&StatusRecord {
                state: s.state,
                trace: s.trace.clone(),
                worker_id: s.worker_id.clone(),
                generation,
            })
            .unwrap_or_default()
        });
        {
            let mut statuses = self.statuses();
            match status {
                Some(status) => statuses.insert(key.clone(), status),
                None => statuses.remove(key),
            };
        }
        self.send(key, value);
    }

    fn get(&self, key: &StatusKey) -> Option<InstanceStatus> {
        self.statuses().get(key).cloned()
    }

    fn tasks(&self, connector: &str) -> Vec<(u32, InstanceStatus)> {
        self.statuses()
            .iter()
            .filter_map(|(key, status)| match key {
                StatusKey::Task(c, n) if c == connector => Some((*n, status.clone())),
                _ => None,
            })
            .collect()
    }

    fn remove_connector(&self, connector: &str) {
        let keys: Vec<StatusKey> = self
            .statuses()
            .keys()
            .filter(|k| k.connector() == connector)
            .cloned()
            .collect();
        for key in keys {
            self.statuses().remove(&key);
            self.send(&key, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_read_back_as_written() {
        for key in [
            StatusKey::Connector("a-b".into()),
            StatusKey::Task("with-dash-2".into(), 11),
        ] {
            assert_eq!(parse_key(&record_key(&key)), Some(key));
        }
        assert_eq!(parse_key("status-task-c-x"), None);
        assert_eq!(parse_key("something-else"), None);
    }
}
