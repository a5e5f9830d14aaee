//! Collections, each a qdrant-edge shard in its own directory, reopened at start.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use qdrant_client::qdrant as grpc;
use qdrant_edge::{
    Distance, EdgeConfigBuilder, EdgeShard, EdgeSparseVectorParamsBuilder, EdgeVectorParamsBuilder,
    MultiVectorComparator, MultiVectorConfig,
};
use serde::{Deserialize, Serialize};
use tonic::Status;

/// What a collection was created with, kept beside its shard.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Meta {
    /// (name, size, gRPC distance, multivector); name "" is the unnamed vector.
    pub dense: Vec<(String, u64, i32, bool)>,
    pub sparse: Vec<String>,
    /// Created with a single unnamed `VectorParams` rather than a map.
    pub unnamed: bool,
}

pub struct Collection {
    pub shard: EdgeShard,
    pub meta: Meta,
}

pub struct Store {
    dir: PathBuf,
    pub collections: RwLock<HashMap<String, Arc<Collection>>>,
    /// Held from a create's exists-check until its shard is in the map:
    /// two creates of one name used to build two shards in one directory,
    /// and one failed opening its WAL.
    creating: Mutex<()>,
}

fn distance(d: i32) -> Result<Distance, Status> {
    match grpc::Distance::try_from(d) {
        Ok(grpc::Distance::Cosine) => Ok(Distance::Cosine),
        Ok(grpc::Distance::Euclid) => Ok(Distance::Euclid),
        Ok(grpc::Distance::Dot) => Ok(Distance::Dot),
        Ok(grpc::Distance::Manhattan) => Ok(Distance::Manhattan),
        _ => Err(Status::invalid_argument(format!("unknown distance {d}"))),
    }
}

pub fn internal(e: impl std::fmt::Display) -> Status {
    Status::internal(e.to_string())
}

impl Store {
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let mut collections = HashMap::new();
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            let meta_path = path.join("meta.json");
            if !meta_path.is_file() {
                continue;
            }
            let meta: Meta = serde_json::from_slice(&std::fs::read(&meta_path)?)?;
            let shard =
                EdgeShard::load(&path.join("shard"), None).map_err(|e| anyhow::anyhow!("{e}"))?;
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            eprintln!("qdrant-test-server: reopened collection {name}");
            collections.insert(name, Arc::new(Collection { shard, meta }));
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            collections: RwLock::new(collections),
            creating: Mutex::new(()),
        })
    }

    pub fn get(&self, name: &str) -> Result<Arc<Collection>, Status> {
        self.collections
            .read()
            .unwrap()
            .get(name)
            .cloned()
            .ok_or_else(|| {
                Status::not_found(format!("Not found: Collection `{name}` doesn't exist!"))
            })
    }

    pub fn create(&self, request: grpc::CreateCollection) -> Result<bool, Status> {
        let name = request.collection_name.clone();
        if name.is_empty() || name.contains('/') || name.contains("..") {
            return Err(Status::invalid_argument(format!(
                "invalid collection name '{name}'"
            )));
        }
        let _creating = self.creating.lock().unwrap_or_else(|e| e.into_inner());
        if self.collections.read().unwrap().contains_key(&name) {
            return Err(Status::already_exists(format!(
                "Wrong input: Collection `{name}` already exists!"
            )));
        }
        let mut meta = Meta {
            dense: Vec::new(),
            sparse: Vec::new(),
            unnamed: false,
        };
        match request.vectors_config.and_then(|c| c.config) {
            Some(grpc::vectors_config::Config::Params(p)) => {
                meta.unnamed = true;
                meta.dense.push((
                    String::new(),
                    p.size,
                    p.distance,
                    p.multivector_config.is_some(),
                ));
            }
            Some(grpc::vectors_config::Config::ParamsMap(m)) => {
                for (k, p) in m.map {
                    meta.dense
                        .push((k, p.size, p.distance, p.multivector_config.is_some()));
                }
            }
            None => {}
        }
        if let Some(sparse) = request.sparse_vectors_config {
            meta.sparse.extend(sparse.map.into_keys());
        }
        let mut config = EdgeConfigBuilder::new();
        for (vname, size, dist, multi) in &meta.dense {
            let mut params = EdgeVectorParamsBuilder::new(*size as usize, distance(*dist)?);
            if *multi {
                params = params.multivector_config(MultiVectorConfig {
                    comparator: MultiVectorComparator::MaxSim,
                });
            }
            config = config.vector(vname.as_str(), params.build());
        }
        for sname in &meta.sparse {
            config =
                config.sparse_vector(sname.as_str(), EdgeSparseVectorParamsBuilder::new().build());
        }
        let path = self.dir.join(&name);
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(path.join("shard")).map_err(internal)?;
        let shard = EdgeShard::new(&path.join("shard"), config.build()).map_err(internal)?;
        std::fs::write(
            path.join("meta.json"),
            serde_json::to_vec(&meta).map_err(internal)?,
        )
        .map_err(internal)?;
        self.collections
            .write()
            .unwrap()
            .insert(name, Arc::new(Collection { shard, meta }));
        Ok(true)
    }

    pub fn delete(&self, name: &str) -> bool {
        let removed = self.collections.write().unwrap().remove(name).is_some();
        if removed {
            let _ = std::fs::remove_dir_all(self.dir.join(name));
        }
        removed
    }

    pub fn flush_all(&self) {
        for c in self.collections.read().unwrap().values() {
            let _ = c.shard.flush();
        }
    }
}

impl Meta {
    pub fn vectors_config(&self) -> grpc::VectorsConfig {
        let params = |(_, size, dist, multi): &(String, u64, i32, bool)| grpc::VectorParams {
            size: *size,
            distance: *dist,
            multivector_config: multi.then(|| grpc::MultiVectorConfig { comparator: 0 }),
            ..Default::default()
        };
        let config = if self.unnamed {
            grpc::vectors_config::Config::Params(params(&self.dense[0]))
        } else {
            grpc::vectors_config::Config::ParamsMap(grpc::VectorParamsMap {
                map: self
                    .dense
                    .iter()
                    .map(|d| (d.0.clone(), params(d)))
                    .collect(),
            })
        };
        grpc::VectorsConfig {
            config: Some(config),
        }
    }
}
