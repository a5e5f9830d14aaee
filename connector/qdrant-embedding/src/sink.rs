//! The connector classes and their task: records → writes
//! ([`request_builder`]), then embed and upsert in overlapping chunks, every
//! upsert acknowledged by Qdrant (`wait=true`) before `put` returns, so the
//! runtime only commits offsets of points Qdrant holds.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use connect_api::{
    ConfigDef, ConfigIssue, ConfigMap, PutContext, RecordError, SinkConnector, SinkConnectorPlugin,
    SinkError, SinkRecord, SinkTask, SinkTaskContext,
};
use futures::StreamExt;
use qdrant_client::qdrant::{PointStruct, Vectors};

use crate::config::{self, SinkSettings, model_dimension};
use crate::embedder::{EmbedError, EmbeddingService};
use crate::qdrant_writer::{QdrantWriter, WriteError, dimension_fits};
use crate::record_mapping::bad;
use crate::request_builder::{self, Upsert};
use crate::sink_metrics::SinkMetrics;

/// The Qdrant sink classes: `io.connecthost.qdrant.QdrantEmbeddingSinkConnector`
/// embeds record text; `io.qdrant.kafka.QdrantSinkConnector` is Qdrant's own
/// connector, whose records carry their vectors, so configs written for it
/// run unchanged. They differ only in whether they embed.
pub struct QdrantSinkPlugin {
    embeds: bool,
}

impl QdrantSinkPlugin {
    pub const EMBEDDING: Self = Self { embeds: true };
    pub const PRE_EMBEDDED: Self = Self { embeds: false };
}

fn issues_text(issues: &[ConfigIssue]) -> String {
    issues
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl SinkConnectorPlugin for QdrantSinkPlugin {
    fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }
    fn class_name(&self) -> &'static str {
        if self.embeds {
            "io.connecthost.qdrant.QdrantEmbeddingSinkConnector"
        } else {
            "io.qdrant.kafka.QdrantSinkConnector"
        }
    }
    fn aliases(&self) -> &'static [&'static str] {
        if self.embeds {
            &[
                "qdrant-embedding",
                "QdrantEmbeddingSinkConnector",
                "QdrantEmbeddingSink",
            ]
        } else {
            &["QdrantSinkConnector", "QdrantSink"]
        }
    }
    /// The pre-embedded class does not advertise the `embedding.*` keys.
    fn config_def(&self) -> ConfigDef {
        let mut def = config::config_def();
        if !self.embeds {
            def.keys.retain(|k| !k.name.starts_with("embedding."));
        }
        def
    }
    /// Beyond the settings themselves: a connector that would share a
    /// running model with batch settings other than the running ones is
    /// refused, naming the connector that set them.
    fn validate(&self, config: &ConfigMap) -> Vec<ConfigIssue> {
        let settings = match config::parse(config, self.embeds) {
            Ok(settings) => settings,
            Err(issues) => return issues,
        };
        let owner = config.get("name").map_or("", String::as_str);
        settings
            .model_dir
            .as_ref()
            .and_then(|dir| {
                EmbeddingService::conflict(
                    dir,
                    settings.device,
                    settings.precision,
                    &settings.batch_options(),
                    owner,
                )
            })
            .map(|(key, message)| vec![ConfigIssue::new(key, message)])
            .unwrap_or_default()
    }
    fn create_connector(&self) -> Box<dyn SinkConnector> {
        Box::new(QdrantConnector {
            embeds: self.embeds,
        })
    }
    fn create_task(&self) -> Box<dyn SinkTask> {
        Box::new(QdrantSinkTask::new(self.embeds))
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
        let dimension = model_dimension(dir).map_err(|e| SinkError::fatal(e.to_string()))?;
        let writer = QdrantWriter::connect(
            &settings.url,
            settings.raw.api_key.as_deref(),
            Duration::from_secs(5),
        )
        .map_err(fail)?;
        match writer.collection_dimension(&settings.raw.collection).await {
            Ok(size) => dimension_fits(&settings.raw.collection, size, dimension).map_err(fail),
            Err(WriteError::NoCollection(_)) => Ok(()),
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

pub struct QdrantSinkTask {
    embeds: bool,
    settings: Option<SinkSettings>,
    writer: Option<QdrantWriter>,
    embedder: Option<Arc<EmbeddingService>>,
    /// Where `put`'s time went, logged when the task stops.
    spent: Spent,
    /// Waiting for vectors, in µs (counted inside `embed`, which overlaps
    /// the upserts).
    embed_time: AtomicU64,
    metrics: SinkMetrics,
}

#[derive(Debug, Default)]
struct Spent {
    /// Records → points (decode, text, id, payload).
    map: Duration,
    /// Upserts and deletes acknowledged by Qdrant.
    upsert: Duration,
}

impl QdrantSinkTask {
    fn new(embeds: bool) -> Self {
        Self {
            embeds,
            settings: None,
            writer: None,
            embedder: None,
            spent: Spent::default(),
            embed_time: AtomicU64::new(0),
            metrics: SinkMetrics::noop(),
        }
    }

    /// Vectors for the points of `chunk` that still need one. A text the
    /// tokenizer refuses is that record's problem: it comes back with its
    /// reason (→ DLQ) and the others are embedded. Time spent is counted.
    async fn embed(
        &self,
        mut chunk: Vec<Upsert>,
    ) -> Result<(Vec<Upsert>, Vec<(usize, RecordError)>), SinkError> {
        let mut refused = Vec::new();
        let Some(embedder) = self.embedder.clone() else {
            return Ok((chunk, refused));
        };
        let started = Instant::now();
        loop {
            let texts: Vec<String> = chunk.iter().filter_map(|u| u.text.clone()).collect();
            if texts.is_empty() {
                break;
            }
            let asked = texts.len();
            match embedder.embed_counted(texts).await {
                Ok((vectors, cache_hits)) => {
                    self.metrics.embedded(asked, cache_hits);
                    let mut vectors = vectors.into_iter();
                    for upsert in chunk.iter_mut().filter(|u| u.text.is_some()) {
                        upsert.point.vectors = vectors.next().map(Vectors::from);
                        upsert.text = None;
                    }
                    break;
                }
                Err(EmbedError::Text { index, message }) => {
                    let position = chunk
                        .iter()
                        .enumerate()
                        .filter(|(_, u)| u.text.is_some())
                        .nth(index)
                        .map(|(p, _)| p)
                        .ok_or_else(|| SinkError::fatal("the embedder named an unknown text"))?;
                    let upsert = chunk.remove(position);
                    refused.push((upsert.record, bad("EmbeddingFailed", message)));
                }
                Err(e) => return Err(SinkError::fatal(format!("embedding failed: {e}"))),
            }
        }
        self.embed_time
            .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
        Ok((chunk, refused))
    }
}

/// `points` in chunks of at most `size`.
fn chunked(points: Vec<Upsert>, size: usize) -> impl Iterator<Item = Vec<Upsert>> {
    let mut points = points.into_iter().peekable();
    std::iter::from_fn(move || {
        points.peek()?;
        Some(points.by_ref().take(size.max(1)).collect())
    })
}

/// Chunks of one `put` whose embedding may run ahead of the upserts.
const EMBEDS_IN_FLIGHT: usize = 4;

fn fail(e: WriteError) -> SinkError {
    match e {
        WriteError::Unavailable(m) => SinkError::retriable(m),
        other => SinkError::fatal(other.to_string()),
    }
}

#[async_trait]
impl SinkTask for QdrantSinkTask {
    fn initialize(&mut self, context: &SinkTaskContext) {
        self.metrics = SinkMetrics::for_task(context);
    }

    async fn start(&mut self, config: &ConfigMap) -> Result<(), SinkError> {
        let settings =
            config::parse(config, self.embeds).map_err(|i| SinkError::fatal(issues_text(&i)))?;
        let writer = QdrantWriter::connect(
            &settings.url,
            settings.raw.api_key.as_deref(),
            Duration::from_millis(settings.raw.timeout_ms),
        )
        .map_err(fail)?;
        if let Some(dir) = settings.model_dir.clone() {
            let (device, precision, options) = (
                settings.device,
                settings.precision,
                settings.batch_options(),
            );
            let owner = config.get("name").cloned().unwrap_or_default();
            let service = tokio::task::spawn_blocking(move || {
                EmbeddingService::shared(&dir, device, precision, options, &owner)
            })
            .await
            .map_err(|e| SinkError::fatal(e.to_string()))?
            .map_err(|e| SinkError::fatal(e.to_string()))?;
            tracing::info!(device = %service.device, dimension = service.dimension, qdrant = writer.url(), "qdrant-embedding task ready");
            self.embedder = Some(service);
        }
        self.writer = Some(writer);
        self.settings = Some(settings);
        Ok(())
    }

    /// 1. records → writes (decode, map, last write per point wins);
    /// 2. per collection, chunks of `batch.size` points, all sent to the
    ///    embedder at once; each chunk is upserted as soon as its vectors
    ///    are back, while later chunks embed, and every upsert is
    ///    acknowledged by Qdrant (`wait=true`) before `put` returns; 3. deletes.
    async fn put(&mut self, records: &[SinkRecord], ctx: &mut PutContext) -> Result<(), SinkError> {
        let started = Instant::now();
        let settings = self
            .settings
            .clone()
            .ok_or_else(|| SinkError::fatal("task not started"))?;
        let writes = request_builder::build(records, &settings, self.embeds, ctx);
        self.spent.map += started.elapsed();
        let writer = self
            .writer
            .as_ref()
            .ok_or_else(|| SinkError::fatal("task not started"))?;
        for (collection, points) in writes.upserts {
            if let Some(embedder) = &self.embedder
                && points.iter().any(|p| p.text.is_some())
            {
                // Embedded collections are created with the model's dimension.
                writer
                    .ensure_collection(
                        &collection,
                        embedder.dimension as u64,
                        settings.raw.distance,
                    )
                    .await
                    .map_err(fail)?;
            }
            // Every chunk's texts go to the embedder at once (bigger windows
            // there), and chunk k is upserted while later chunks embed.
            let mut upserting = Duration::ZERO;
            let mut embedded = futures::stream::iter(chunked(points, settings.raw.batch_size))
                .map(|chunk| self.embed(chunk))
                .buffered(EMBEDS_IN_FLIGHT);
            while let Some(result) = embedded.next().await {
                let (chunk, refused) = result?;
                for (record, error) in refused {
                    ctx.report(&records[record], error);
                }
                let started = Instant::now();
                write_or_isolate(writer, &self.metrics, &collection, chunk, records, ctx).await?;
                upserting += started.elapsed();
            }
            drop(embedded);
            self.spent.upsert += upserting;
        }
        let deleting = Instant::now();
        for (collection, ids) in writes.deletes {
            match writer.delete(&collection, ids).await {
                Ok(()) | Err(WriteError::NoCollection(_)) => {}
                Err(e) => return Err(fail(e)),
            }
        }
        self.spent.upsert += deleting.elapsed();
        Ok(())
    }

    async fn stop(&mut self) {
        let s = &self.spent;
        tracing::info!(
            map_ms = s.map.as_millis() as u64,
            embed_ms = self.embed_time.load(Ordering::Relaxed) / 1000,
            upsert_ms = s.upsert.as_millis() as u64,
            "qdrant-embedding task stopped"
        );
    }
}

/// Upsert `points`; when Qdrant rejects the request, split it to find the
/// points it rejects and report each of those, writing the rest.
async fn write_or_isolate(
    writer: &QdrantWriter,
    metrics: &SinkMetrics,
    collection: &str,
    points: Vec<Upsert>,
    records: &[SinkRecord],
    ctx: &mut PutContext,
) -> Result<(), SinkError> {
    let mut pending = vec![points];
    while let Some(points) = pending.pop() {
        if points.is_empty() {
            continue;
        }
        let batch: Vec<PointStruct> = points.iter().map(|u| u.point.clone()).collect();
        let started = Instant::now();
        let result = writer.upsert(collection, batch).await;
        metrics.upserted(started.elapsed(), &result);
        match result {
            Ok(()) => {}
            Err(WriteError::Rejected(reason)) if points.len() == 1 => {
                ctx.report(
                    &records[points[0].record],
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
                for upsert in &points {
                    ctx.report(
                        &records[upsert.record],
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
