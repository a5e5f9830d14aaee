//! Standalone persistence: connector configs and target states survive a
//! worker restart, in one JSON file replaced atomically on every change.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use connect_api::ConfigMap;
use serde::{Deserialize, Serialize};

use super::{ConfigBackingStore, ConnectorState, MemoryConfigStore, StorageError};
use crate::status::TargetState;

#[derive(Debug, Default, Serialize, Deserialize)]
struct StoreFile {
    connectors: BTreeMap<String, ConnectorState>,
}

/// The connectors in memory, written through to one file.
pub struct FileConfigStore {
    path: PathBuf,
    memory: MemoryConfigStore,
}

impl FileConfigStore {
    /// Read what the file holds (nothing if it does not exist yet).
    pub fn open(path: PathBuf) -> Result<Self, StorageError> {
        let connectors = load(&path)?;
        Ok(Self {
            path,
            memory: MemoryConfigStore::new(connectors),
        })
    }

    fn save(&self, connectors: &BTreeMap<String, ConnectorState>) -> Result<(), StorageError> {
        let path = &self.path;
        let write_error = |source| StorageError::Write {
            path: path.display().to_string(),
            source,
        };
        let file = StoreFile {
            connectors: connectors.clone(),
        };
        let bytes = serde_json::to_vec_pretty(&file).map_err(|e| write_error(e.into()))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(write_error)?;
        }
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, bytes)
            .and_then(|_| std::fs::File::open(&tmp)?.sync_all())
            .and_then(|_| std::fs::rename(&tmp, path))
            .map_err(write_error)
    }
}

fn load(path: &Path) -> Result<BTreeMap<String, ConnectorState>, StorageError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice::<StoreFile>(&bytes)
            .map(|f| f.connectors)
            .map_err(|source| StorageError::Parse {
                path: path.display().to_string(),
                source,
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(source) => Err(StorageError::Read {
            path: path.display().to_string(),
            source,
        }),
    }
}

#[async_trait]
impl ConfigBackingStore for FileConfigStore {
    fn snapshot(&self) -> BTreeMap<String, ConnectorState> {
        self.memory.snapshot()
    }

    fn connector(&self, name: &str) -> Option<ConnectorState> {
        self.memory.connector(name)
    }

    async fn put_connector_config(
        &self,
        name: &str,
        config: ConfigMap,
        target: Option<TargetState>,
    ) -> Result<(), StorageError> {
        self.memory
            .put_config_with(name, config, target, |all| self.save(all))
    }

    async fn put_target_state(&self, name: &str, target: TargetState) -> Result<(), StorageError> {
        self.memory
            .put_target_with(name, target, |all| self.save(all))
    }

    async fn put_task_configs(
        &self,
        name: &str,
        tasks: Vec<ConfigMap>,
    ) -> Result<(), StorageError> {
        self.memory.put_task_configs(name, tasks).await
    }

    async fn remove_connector(&self, name: &str) -> Result<(), StorageError> {
        self.memory.remove_with(name, |all| self.save(all))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn round_trips_configs_and_states_but_not_task_configs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/configs.json");
        let store = FileConfigStore::open(path.clone()).unwrap();
        assert!(store.snapshot().is_empty());
        let config: ConfigMap = [("a".to_string(), "b".to_string())].into();
        store
            .put_connector_config("c", config.clone(), Some(TargetState::Paused))
            .await
            .unwrap();
        store
            .put_task_configs("c", vec![config.clone()])
            .await
            .unwrap();
        assert_eq!(store.connector("c").unwrap().tasks.len(), 1);
        let reopened = FileConfigStore::open(path).unwrap();
        assert_eq!(
            reopened.snapshot(),
            [(
                "c".to_string(),
                ConnectorState::new(config, TargetState::Paused)
            )]
            .into()
        );
    }

    #[tokio::test]
    async fn a_failed_write_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileConfigStore::open(dir.path().join("sub/configs.json")).unwrap();
        // A file where the store's folder should be: every write fails.
        std::fs::write(dir.path().join("sub"), b"").unwrap();
        let config: ConfigMap = [("a".to_string(), "b".to_string())].into();
        let written = store.put_connector_config("c", config, None).await;
        assert!(
            matches!(written, Err(StorageError::Write { .. })),
            "{written:?}"
        );
        assert!(
            !store.contains("c"),
            "memory does not run ahead of the file"
        );
    }
}
