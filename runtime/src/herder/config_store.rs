//! Standalone persistence: connector configs and target states survive a
//! worker restart, in one JSON file replaced atomically on every change.

use std::collections::BTreeMap;
use std::path::PathBuf;

use connect_api::ConfigMap;
use serde::{Deserialize, Serialize};

use crate::status::TargetState;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredConnector {
    pub config: ConfigMap,
    pub target_state: TargetState,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct StoreFile {
    connectors: BTreeMap<String, StoredConnector>,
}

pub struct ConfigStore {
    path: PathBuf,
}

impl ConfigStore {
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    pub fn load(&self) -> Result<BTreeMap<String, StoredConnector>, String> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice::<StoreFile>(&bytes)
                .map(|f| f.connectors)
                .map_err(|e| format!("cannot parse {}: {e}", self.path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(format!("cannot read {}: {e}", self.path.display())),
        }
    }

    pub fn save(&self, connectors: &BTreeMap<String, StoredConnector>) -> Result<(), String> {
        let file = StoreFile {
            connectors: connectors.clone(),
        };
        let bytes = serde_json::to_vec_pretty(&file).map_err(|e| e.to_string())?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(&tmp, bytes)
            .and_then(|_| std::fs::File::open(&tmp)?.sync_all())
            .and_then(|_| std::fs::rename(&tmp, &self.path))
            .map_err(|e| format!("cannot write {}: {e}", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_configs_and_states() {
        let dir = tempfile::tempdir().unwrap();
        let store = ConfigStore::new(dir.path().join("sub/configs.json"));
        assert!(store.load().unwrap().is_empty());
        let mut map = BTreeMap::new();
        map.insert(
            "c".to_string(),
            StoredConnector {
                config: [("a".to_string(), "b".to_string())].into(),
                target_state: TargetState::Paused,
            },
        );
        store.save(&map).unwrap();
        assert_eq!(store.load().unwrap(), map);
    }
}
