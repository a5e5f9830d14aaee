//! The connector classes and their task: map → embed → upsert, one batch
//! per `put`, acknowledged by Qdrant (`wait=true`) before `put` returns, so
//! the runtime only commits offsets of points Qdrant holds.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use connect_api::{
    ConfigDef, ConfigIssue, ConfigMap, Data, PutContext, RecordError, SinkConnector,
    SinkConnectorPlugin, SinkError, SinkRecord, SinkTask,
};
use qdrant_client::qdrant::{PointId, PointStruct, Vectors};
use serde_json::Value;

use crate::config::{self, SinkSettings, model_dimension};
use crate::embedder::EmbeddingService;
use crate::qdrant_writer::{QdrantWriter, WriteError};
use crate::record_mapping::{self as mapping, bad};

/// `io.connecthost.qdrant.QdrantEmbeddingSinkConnector`: embeds record text.
pub struct QdrantEmbeddingSinkPlugin;
/// `io.qdrant.kafka.QdrantSinkConnector`: Qdrant's own connector, whose
/// records carry their vectors; configs written for it run unchanged.
pub struct QdrantSinkPlugin;

fn issues_text(issues: &[ConfigIssue]) -> String {
    issues
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl SinkConnectorPlugin for QdrantEmbeddingSinkPlugin {
    fn class_name(&self) -> &'static str {
        "io.connecthost.qdrant.QdrantEmbeddingSinkConnector"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &[
            "qdrant-embedding",
            "QdrantEmbeddingSinkConnector",
            "QdrantEmbeddingSink",
        ]
    }
    fn config_def(&self) -> ConfigDef {
        config::config_def()
    }
    fn validate(&self, config: &ConfigMap) -> Vec<ConfigIssue> {
        config::parse(config, true).err().unwrap_or_default()
    }
    fn create_connector(&self) -> Box<dyn SinkConnector> {
        Box::new(QdrantConnector { embeds: true })
    }
    fn create_task(&self) -> Box<dyn SinkTask> {
        Box::new(QdrantSinkTask::new(true))
    }
}

impl SinkConnectorPlugin for QdrantSinkPlugin {
    fn class_name(&self) -> &'static str {
        "io.qdrant.kafka.QdrantSinkConnector"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["QdrantSinkConnector", "QdrantSink"]
    }
    fn config_def(&self) -> ConfigDef {
        config::config_def()
    }
    fn validate(&self, config: &ConfigMap) -> Vec<ConfigIssue> {
        config::parse(config, false).err().unwrap_or_default()
    }
    fn create_connector(&self) -> Box<dyn SinkConnector> {
        Box::new(QdrantConnector { embeds: false })
    }
    fn create_task(&self) -> Box<dyn SinkTask> {
        Box::new(QdrantSinkTask::new(false))
    }
}

struct QdrantConnector {
    embeds: bool,
}

#[async_trait]
impl SinkConnector for QdrantConnector {
    /// A fixed collection that exists with another dimension fails the
    /// connector now, naming both sizes. An unreachable Qdrant does not:
    /// tasks retry until it is back.
    async fn start(&mut self, config: &ConfigMap) -> Result<(), SinkError> {
        let settings =
            config::parse(config, self.embeds).map_err(|i| SinkError::fatal(issues_text(&i)))?;
        let (Some(dir), false) = (
            &settings.model_dir,
            settings.raw.collection.contains("${topic}"),
        ) else {
            return Ok(());
        };
        let dimension = model_dimension(dir).map_err(SinkError::fatal)?;
        let writer = QdrantWriter::connect(
            &settings.url,
            settings.raw.api_key.as_deref(),
            Duration::from_secs(5),
        )
        .map_err(SinkError::fatal)?;
        match writer.collection_dimension(&settings.raw.collection).await {
            Ok(Some(size)) if size != dimension => Err(SinkError::fatal(format!(
                "collection '{}' holds vectors of size {size} but the embedding model produces vectors of size {dimension}",
                settings.raw.collection
            ))),
            Ok(None) => Err(SinkError::fatal(format!(
                "collection '{}' uses named vectors; the embedding sink writes one unnamed vector of size {dimension}",
                settings.raw.collection
            ))),
            Ok(Some(_)) | Err(WriteError::NoCollection(_)) => Ok(()),
            Err(e) => {
                tracing::warn!(
                    "cannot check collection '{}' at {} yet: {e}",
                    settings.raw.collection,
                    settings.url
                );
                Ok(())
            }
        }
    }
}

/// One write the batch asks for; the last one per (collection, id) wins.
enum Op {
    Upsert {
        index: usize,
        point: Box<PointStruct>,
    },
    Delete {
        id: PointId,
    },
}

pub struct QdrantSinkTask {
    embeds: bool,
    settings: Option<SinkSettings>,
    writer: Option<QdrantWriter>,
    embedder: Option<Arc<EmbeddingService>>,
}

impl QdrantSinkTask {
    fn new(embeds: bool) -> Self {
        Self {
            embeds,
            settings: None,
            writer: None,
            embedder: None,
        }
    }

    fn collection_for(&self, record: &SinkRecord) -> String {
        self.settings
            .as_ref()
            .map(|s| s.raw.collection.replace("${topic}", &record.topic))
            .unwrap_or_default()
    }
}

fn fail(e: WriteError) -> SinkError {
    match e {
        WriteError::Unavailable(m) => SinkError::retriable(m),
        other => SinkError::fatal(other.to_string()),
    }
}

#[async_trait]
impl SinkTask for QdrantSinkTask {
    async fn start(&mut self, config: &ConfigMap) -> Result<(), SinkError> {
        let settings =
            config::parse(config, self.embeds).map_err(|i| SinkError::fatal(issues_text(&i)))?;
        let writer = QdrantWriter::connect(
            &settings.url,
            settings.raw.api_key.as_deref(),
            Duration::from_millis(settings.raw.timeout_ms),
        )
        .map_err(SinkError::fatal)?;
        if let Some(dir) = settings.model_dir.clone() {
            let (device, precision, options) = (
                settings.device,
                settings.precision,
                settings.batch_options(),
            );
            let service = tokio::task::spawn_blocking(move || {
                EmbeddingService::shared(&dir, device, precision, options)
            })
            .await
            .map_err(|e| SinkError::fatal(e.to_string()))?
            .map_err(SinkError::fatal)?;
            tracing::info!(device = %service.device, dimension = service.dimension, qdrant = writer.url(), "qdrant-embedding task ready");
            self.embedder = Some(service);
        }
        self.writer = Some(writer);
        self.settings = Some(settings);
        Ok(())
    }

    async fn put(&mut self, records: &[SinkRecord], ctx: &mut PutContext) -> Result<(), SinkError> {
        let settings = self
            .settings
            .clone()
            .ok_or_else(|| SinkError::fatal("task not started"))?;
        // 1. Records → ops (and texts to embed); bad records are reported.
        let mut ops: Vec<(String, Op)> = Vec::new();
        let mut texts: Vec<(usize, String)> = Vec::new(); // (op index, text)
        for (index, record) in records.iter().enumerate() {
            let collection = self.collection_for(record);
            if record.value.is_null() {
                if settings.raw.delete_enabled {
                    match mapping::key_id(&record.key) {
                        Ok(id) => ops.push((collection, Op::Delete { id })),
                        Err(e) => ctx.report(record, e),
                    }
                }
                continue;
            }
            let value = match &record.value {
                Data::Bytes(_) => {
                    ctx.report(
                        record,
                        bad(
                            "NotJson",
                            "the value is raw bytes; use JsonConverter or StringConverter",
                        ),
                    );
                    continue;
                }
                Data::Text(t) => match serde_json::from_str::<Value>(t) {
                    Ok(v) => v,
                    Err(e) => {
                        ctx.report(
                            record,
                            bad("NotJson", format!("the value is not JSON: {e}")),
                        );
                        continue;
                    }
                },
                other => other.to_json().unwrap_or(Value::Null),
            };
            if !value.is_object() {
                ctx.report(
                    record,
                    bad(
                        "NotJson",
                        format!(
                            "the value is not a JSON object but {}",
                            connect_api::config::json_kind(&value)
                        ),
                    ),
                );
                continue;
            }
            if mapping::is_qdrant_format(&value) {
                match mapping::given_point(&value) {
                    Ok(p) => ops.push((
                        p.collection,
                        Op::Upsert {
                            index,
                            point: Box::new(PointStruct::new(
                                p.id,
                                p.vectors,
                                mapping::to_qdrant_payload(p.payload),
                            )),
                        },
                    )),
                    Err(e) => ctx.report(record, e),
                }
                continue;
            }
            let Some(text_source) = settings.text.as_ref().filter(|_| self.embeds) else {
                ctx.report(
                    record,
                    bad(
                        "InvalidRecord",
                        "not in Qdrant's connector format {collection_name, id, vector, payload}",
                    ),
                );
                continue;
            };
            let prepared = text_source
                .text(&value)
                .and_then(|text| Ok((text, settings.ids.point_id(record, &value)?)));
            match prepared {
                Ok((text, id)) => {
                    let payload = mapping::payload(
                        record,
                        &value,
                        &settings.raw.payload_include,
                        &settings.raw.payload_exclude,
                    );
                    texts.push((ops.len(), text));
                    // The vector is filled in after embedding.
                    ops.push((
                        collection,
                        Op::Upsert {
                            index,
                            point: Box::new(PointStruct::new(
                                id,
                                Vec::<f32>::new(),
                                mapping::to_qdrant_payload(payload),
                            )),
                        },
                    ));
                }
                Err(e) => ctx.report(record, e),
            }
        }

        let writer = self
            .writer
            .as_ref()
            .ok_or_else(|| SinkError::fatal("task not started"))?;
        // 2. Embed. A batch redelivered after an outage finds its texts in
        // the embedder's cache.
        if !texts.is_empty() {
            let embedder = self
                .embedder
                .clone()
                .ok_or_else(|| SinkError::fatal("no embedding model loaded"))?;
            let vectors = embedder
                .embed(texts.iter().map(|(_, text)| text.clone()).collect())
                .await
                .map_err(|e| SinkError::fatal(format!("embedding failed: {e}")))?;
            for ((i, _), vector) in texts.iter().zip(vectors) {
                if let Op::Upsert { point, .. } = &mut ops[*i].1 {
                    point.vectors = Some(Vectors::from(vector));
                }
            }
            // Embedded collections are created with the model's dimension.
            let dimension = embedder.dimension as u64;
            let mut seen = std::collections::BTreeSet::new();
            for (i, _) in &texts {
                if seen.insert(ops[*i].0.clone()) {
                    writer
                        .ensure_collection(&ops[*i].0, dimension, settings.raw.distance)
                        .await
                        .map_err(fail)?;
                }
            }
        }

        // 3. Later records for the same point win.
        let mut last: HashMap<(String, String), usize> = HashMap::new();
        for (pos, (collection, op)) in ops.iter().enumerate() {
            let id = match op {
                Op::Upsert { point, .. } => format!("{:?}", point.id),
                Op::Delete { id, .. } => format!("{:?}", Some(id)),
            };
            last.insert((collection.clone(), id), pos);
        }
        let keep: std::collections::HashSet<usize> = last.into_values().collect();
        let mut upserts: HashMap<String, Vec<(usize, PointStruct)>> = HashMap::new();
        let mut deletes: HashMap<String, Vec<PointId>> = HashMap::new();
        for (pos, (collection, op)) in ops.into_iter().enumerate() {
            if !keep.contains(&pos) {
                continue;
            }
            match op {
                Op::Upsert { index, point } => {
                    upserts.entry(collection).or_default().push((index, *point))
                }
                Op::Delete { id, .. } => deletes.entry(collection).or_default().push(id),
            }
        }

        // 4. Write, batch by batch, waiting for Qdrant each time.
        for (collection, mut points) in upserts {
            while !points.is_empty() {
                let rest = points.split_off(points.len().min(settings.raw.batch_size));
                write_or_isolate(writer, &collection, points, records, ctx).await?;
                points = rest;
            }
        }
        for (collection, ids) in deletes {
            match writer.delete(&collection, ids).await {
                Ok(()) | Err(WriteError::NoCollection(_)) => {}
                Err(e) => return Err(fail(e)),
            }
        }
        Ok(())
    }
}

/// Upsert `points`; when Qdrant rejects the request, split it to find the
/// points it rejects and report each of those, writing the rest.
async fn write_or_isolate(
    writer: &QdrantWriter,
    collection: &str,
    points: Vec<(usize, PointStruct)>,
    records: &[SinkRecord],
    ctx: &mut PutContext,
) -> Result<(), SinkError> {
    let mut pending = vec![points];
    while let Some(points) = pending.pop() {
        let batch: Vec<PointStruct> = points.iter().map(|(_, p)| p.clone()).collect();
        match writer.upsert(collection, batch).await {
            Ok(()) => {}
            Err(WriteError::Rejected(reason)) if points.len() == 1 => {
                ctx.report(
                    &records[points[0].0],
                    RecordError::new(
                        "io.connecthost.qdrant.RejectedPoint",
                        format!("Qdrant rejected the point: {reason}"),
                    ),
                );
            }
            Err(WriteError::Rejected(_)) => {
                let mut points = points;
                let second = points.split_off(points.len() / 2);
                pending.push(second);
                pending.push(points);
            }
            Err(WriteError::NoCollection(reason)) => {
                writer.forget(collection);
                for (index, _) in &points {
                    ctx.report(
                        &records[*index],
                        RecordError::new(
                            "io.connecthost.qdrant.NoCollection",
                            format!("collection '{collection}' does not exist: {reason}"),
                        ),
                    );
                }
            }
            Err(e) => return Err(fail(e)),
        }
    }
    Ok(())
}
