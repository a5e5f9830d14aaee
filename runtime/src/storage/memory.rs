//! In-memory stores: the status store of a standalone worker, and the
//! config store that the file store keeps its copy in.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use connect_api::ConfigMap;

use super::{ConfigBackingStore, ConnectorState, StatusBackingStore, StatusKey, StorageError};
use crate::status::{InstanceStatus, TargetState};

/// Connector states in memory; lost when the process ends.
#[derive(Default)]
pub struct MemoryConfigStore {
    connectors: Mutex<BTreeMap<String, ConnectorState>>,
}

impl MemoryConfigStore {
    pub fn new(connectors: BTreeMap<String, ConnectorState>) -> Self {
        Self {
            connectors: Mutex::new(connectors),
        }
    }

    /// Apply `change` to a copy, let `persist` see the result, and keep it
    /// only if `persist` succeeds: memory never runs ahead of the disk.
    pub(super) fn change<F>(
        &self,
        change: F,
        persist: impl FnOnce(&BTreeMap<String, ConnectorState>) -> Result<(), StorageError>,
    ) -> Result<(), StorageError>
    where
        F: FnOnce(&mut BTreeMap<String, ConnectorState>) -> Result<(), StorageError>,
    {
        let mut current = self.connectors.lock().unwrap_or_else(|e| e.into_inner());
        let mut next = current.clone();
        change(&mut next)?;
        persist(&next)?;
        *current = next;
        Ok(())
    }

    fn existing<'a>(
        map: &'a mut BTreeMap<String, ConnectorState>,
        name: &str,
    ) -> Result<&'a mut ConnectorState, StorageError> {
        map.get_mut(name)
            .ok_or_else(|| StorageError::UnknownConnector(name.to_string()))
    }

    pub(super) fn put_config_with(
        &self,
        name: &str,
        config: ConfigMap,
        target: Option<TargetState>,
        persist: impl FnOnce(&BTreeMap<String, ConnectorState>) -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        self.change(
            |map| {
                match map.get_mut(name) {
                    Some(state) => {
                        state.config = config;
                        if let Some(target) = target {
                            state.target_state = target;
                        }
                    }
                    None => {
                        let target = target.unwrap_or(TargetState::Started);
                        map.insert(name.to_string(), ConnectorState::new(config, target));
                    }
                }
                Ok(())
            },
            persist,
        )
    }

    pub(super) fn put_target_with(
        &self,
        name: &str,
        target: TargetState,
        persist: impl FnOnce(&BTreeMap<String, ConnectorState>) -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        self.change(
            |map| {
                Self::existing(map, name)?.target_state = target;
                Ok(())
            },
            persist,
        )
    }

    pub(super) fn remove_with(
        &self,
        name: &str,
        persist: impl FnOnce(&BTreeMap<String, ConnectorState>) -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        self.change(
            |map| {
                map.remove(name);
                Ok(())
            },
            persist,
        )
    }
}

fn nothing_to_persist(_: &BTreeMap<String, ConnectorState>) -> Result<(), StorageError> {
    Ok(())
}

#[async_trait]
impl ConfigBackingStore for MemoryConfigStore {
    fn snapshot(&self) -> BTreeMap<String, ConnectorState> {
        self.connectors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn connector(&self, name: &str) -> Option<ConnectorState> {
        self.connectors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
    }

    async fn put_connector_config(
        &self,
        name: &str,
        config: ConfigMap,
        target: Option<TargetState>,
    ) -> Result<(), StorageError> {
        self.put_config_with(name, config, target, nothing_to_persist)
    }

    async fn put_target_state(&self, name: &str, target: TargetState) -> Result<(), StorageError> {
        self.put_target_with(name, target, nothing_to_persist)
    }

    /// Task configs are never persisted (they are recomputed at start).
    async fn put_task_configs(
        &self,
        name: &str,
        tasks: Vec<ConfigMap>,
    ) -> Result<(), StorageError> {
        self.change(
            |map| {
                Self::existing(map, name)?.tasks = tasks;
                Ok(())
            },
            nothing_to_persist,
        )
    }

    async fn remove_connector(&self, name: &str) -> Result<(), StorageError> {
        self.remove_with(name, nothing_to_persist)
    }
}

/// One status record: the newest generation seen, and its status
/// (`None` once deleted, kept so that older writes stay dropped).
type Entry = (u64, Option<InstanceStatus>);

/// Statuses in memory (a standalone worker is the only one reporting).
#[derive(Default)]
pub struct MemoryStatusStore {
    entries: Mutex<BTreeMap<StatusKey, Entry>>,
}

impl StatusBackingStore for MemoryStatusStore {
    fn put(&self, key: &StatusKey, status: Option<InstanceStatus>, generation: u64) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(key) {
            Some((newest, _)) if *newest > generation => {}
            _ => {
                entries.insert(key.clone(), (generation, status));
            }
        }
    }

    fn get(&self, key: &StatusKey) -> Option<InstanceStatus> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(key).and_then(|(_, status)| status.clone())
    }

    fn tasks(&self, connector: &str) -> Vec<(u32, InstanceStatus)> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .iter()
            .filter_map(|(key, (_, status))| match (key, status) {
                (StatusKey::Task(c, id), Some(status)) if c == connector => {
                    Some((*id, status.clone()))
                }
                _ => None,
            })
            .collect()
    }

    fn remove_connector(&self, connector: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        // Keep the generations: a late write from a stopped instance of a
        // connector re-created under the same name must still be dropped.
        for (key, (_, status)) in entries.iter_mut() {
            if key.connector() == connector {
                *status = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::State;

    fn status(state: State) -> Option<InstanceStatus> {
        Some(InstanceStatus {
            state,
            worker_id: "w:1".into(),
            trace: None,
        })
    }

    #[test]
    fn an_older_generation_cannot_overwrite_a_newer_one() {
        let store = MemoryStatusStore::default();
        let task = StatusKey::Task("c".into(), 0);
        store.put(&task, status(State::Running), 2);
        store.put(&task, status(State::Failed), 1);
        assert_eq!(store.get(&task).unwrap().state, State::Running);
        store.put(&task, None, 3);
        store.put(&task, status(State::Running), 2);
        assert!(store.get(&task).is_none(), "a deleted status stays deleted");
        store.put(&task, status(State::Paused), 4);
        assert_eq!(store.tasks("c").len(), 1);
        assert!(store.tasks("other").is_empty());
    }

    #[test]
    fn removing_a_connector_drops_its_statuses_only() {
        let store = MemoryStatusStore::default();
        store.put(&StatusKey::Connector("a".into()), status(State::Running), 1);
        store.put(&StatusKey::Task("a".into(), 0), status(State::Running), 1);
        store.put(&StatusKey::Task("b".into(), 0), status(State::Running), 1);
        store.remove_connector("a");
        assert!(store.get(&StatusKey::Connector("a".into())).is_none());
        assert!(store.tasks("a").is_empty());
        assert_eq!(store.tasks("b").len(), 1);
    }

    #[tokio::test]
    async fn config_writes_keep_or_set_the_target_state() {
        let store = MemoryConfigStore::default();
        let config: ConfigMap = [("k".to_string(), "v".to_string())].into();
        store
            .put_connector_config("c", config.clone(), None)
            .await
            .unwrap();
        assert_eq!(
            store.connector("c").unwrap().target_state,
            TargetState::Started
        );
        store
            .put_target_state("c", TargetState::Paused)
            .await
            .unwrap();
        store.put_connector_config("c", config, None).await.unwrap();
        assert_eq!(
            store.connector("c").unwrap().target_state,
            TargetState::Paused
        );
        assert!(matches!(
            store.put_target_state("missing", TargetState::Paused).await,
            Err(StorageError::UnknownConnector(_))
        ));
        store.remove_connector("c").await.unwrap();
        assert!(!store.contains("c"));
    }
}
