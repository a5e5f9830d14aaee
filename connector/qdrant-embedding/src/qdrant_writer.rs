//! Writing to Qdrant over qdrant-client (gRPC): collections created on
//! first use, upserts with `wait=true`, and every failure classified so the
//! runtime can retry, dead-letter or fail.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use qdrant_client::qdrant::{
    CreateCollectionBuilder, DeletePointsBuilder, PointId, PointStruct, PointsIdsList,
    UpsertPointsBuilder, VectorParamsBuilder, vectors_config::Config,
};
use qdrant_client::{Qdrant, QdrantError};
use tonic::Code;

use crate::config::Distance;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WriteError {
    /// Unreachable, timed out, overloaded: retry later, never dead-letter.
    #[error("Qdrant unavailable: {0}")]
    Unavailable(String),
    /// Qdrant refused the request's content (e.g. a vector of the wrong size).
    #[error("Qdrant rejected the point: {0}")]
    Rejected(String),
    /// The collection does not exist (any more).
    #[error("{0}")]
    NoCollection(String),
    /// Retrying cannot help (dimension mismatch, bad credentials, a bad URL).
    #[error("{0}")]
    Fatal(String),
}

fn classify(e: QdrantError) -> WriteError {
    match e {
        QdrantError::ResponseError { status } => {
            let message = format!("{}: {}", status.code(), status.message());
            match status.code() {
                Code::InvalidArgument | Code::OutOfRange => {
                    WriteError::Rejected(status.message().to_string())
                }
                Code::NotFound => WriteError::NoCollection(status.message().to_string()),
                Code::Unauthenticated | Code::PermissionDenied => WriteError::Fatal(format!(
                    "Qdrant refused the credentials (check qdrant.api.key): {message}"
                )),
                Code::Unimplemented => {
                    WriteError::Fatal(format!("Qdrant does not support this call: {message}"))
                }
                _ => WriteError::Unavailable(message),
            }
        }
        QdrantError::ResourceExhaustedError {
            status,
            retry_after_seconds,
        } => WriteError::Unavailable(format!(
            "overloaded ({}), retry after {retry_after_seconds}s",
            status.message()
        )),
        other => WriteError::Unavailable(other.to_string()),
    }
}

pub struct QdrantWriter {
    client: Qdrant,
    url: String,
    /// Collections known to exist with a checked dimension.
    known: Mutex<HashMap<String, Option<u64>>>,
}

impl QdrantWriter {
    pub fn connect(
        url: &str,
        api_key: Option<&str>,
        timeout: Duration,
    ) -> Result<Self, WriteError> {
        let mut builder = Qdrant::from_url(url)
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            .skip_compatibility_check();
        if let Some(key) = api_key.filter(|k| !k.is_empty()) {
            builder = builder.api_key(key.to_string());
        }
        let client = builder
            .build()
            .map_err(|e| WriteError::Fatal(format!("invalid qdrant.url '{url}': {e}")))?;
        Ok(Self {
            client,
            url: url.to_string(),
            known: Mutex::new(HashMap::new()),
        })
    }

    /// The vector size of an existing collection's unnamed vector (`None`
    /// when it uses named vectors), or `NoCollection`.
    pub async fn collection_dimension(&self, name: &str) -> Result<Option<u64>, WriteError> {
        let info = self.client.collection_info(name).await.map_err(classify)?;
        let config = info
            .result
            .and_then(|r| r.config)
            .and_then(|c| c.params)
            .and_then(|p| p.vectors_config)
            .and_then(|v| v.config);
        Ok(match config {
            Some(Config::Params(p)) => Some(p.size),
            _ => None,
        })
    }

    /// Create `name` with `dimension` if absent; fail if it exists with another size.
    pub async fn ensure_collection(
        &self,
        name: &str,
        dimension: u64,
        distance: Distance,
    ) -> Result<(), WriteError> {
        if self
            .known
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(name)
        {
            return Ok(());
        }
        let existing = match self.collection_dimension(name).await {
            Ok(size) => Some(size),
            Err(WriteError::NoCollection(_)) => None,
            Err(e) => return Err(e),
        };
        match existing {
            Some(size) => dimension_fits(name, size, dimension)?,
            None => {
                let created =
                    self.client
                        .create_collection(CreateCollectionBuilder::new(name).vectors_config(
                            VectorParamsBuilder::new(dimension, distance.into_grpc()),
                        ))
                        .await;
                match created {
                    Ok(_) => {
                        tracing::info!(collection = name, dimension, "created Qdrant collection")
                    }
                    // Another task created it meanwhile: check it like any existing one.
                    Err(QdrantError::ResponseError { status })
                        if status.code() == Code::AlreadyExists =>
                    {
                        return Box::pin(self.ensure_collection(name, dimension, distance)).await;
                    }
                    Err(e) => return Err(classify(e)),
                }
            }
        }
        self.known
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_string(), Some(dimension));
        Ok(())
    }

    /// Forget what is known of `name` (it was deleted under us).
    pub fn forget(&self, name: &str) {
        self.known
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(name);
    }

    /// Upsert and wait until Qdrant has applied it.
    pub async fn upsert(
        &self,
        collection: &str,
        points: Vec<PointStruct>,
    ) -> Result<(), WriteError> {
        if points.is_empty() {
            return Ok(());
        }
        self.client
            .upsert_points(UpsertPointsBuilder::new(collection, points).wait(true))
            .await
            .map(|_| ())
            .map_err(classify)
    }

    pub async fn delete(&self, collection: &str, ids: Vec<PointId>) -> Result<(), WriteError> {
        if ids.is_empty() {
            return Ok(());
        }
        self.client
            .delete_points(
                DeletePointsBuilder::new(collection)
                    .points(PointsIdsList { ids })
                    .wait(true),
            )
            .await
            .map(|_| ())
            .map_err(classify)
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

/// Whether a collection whose vectors have `size` (`None`: named vectors)
/// takes the model's vectors; if not, why, naming both sizes.
pub fn dimension_fits(name: &str, size: Option<u64>, dimension: u64) -> Result<(), WriteError> {
    match size {
        Some(size) if size != dimension => Err(WriteError::Fatal(format!(
            "collection '{name}' holds vectors of size {size} but the embedding model produces vectors of size {dimension}; \
             use another collection.name or a model of dimension {size}"
        ))),
        None => Err(WriteError::Fatal(format!(
            "collection '{name}' uses named vectors; the embedding sink writes one unnamed vector of size {dimension}"
        ))),
        Some(_) => Ok(()),
    }
}
