//! The embedding sink's series for one task (names from
//! [`connect_api::metrics`]): the cache, the texts embedded, and Qdrant's
//! upserts. Before `initialize` (or in unit tests) every handle is a no-op.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use connect_api::SinkTaskContext;
use connect_api::metrics as names;
use metrics::{Counter, Gauge, Histogram, Label};

use crate::qdrant_writer::WriteError;

pub struct SinkMetrics {
    cache_lookups: Counter,
    cache_hits: Counter,
    texts_embedded: Counter,
    cache_hit_ratio: Gauge,
    upsert_seconds: Histogram,
    upsert_transient: Counter,
    upsert_permanent: Counter,
    /// Totals since the task started, for the ratio.
    looked_up: AtomicU64,
    hit: AtomicU64,
}

impl SinkMetrics {
    pub fn noop() -> Self {
        Self::with(|_| Counter::noop(), Gauge::noop(), Histogram::noop())
    }

    pub fn for_task(context: &SinkTaskContext) -> Self {
        let labels = context.metric_labels();
        let upsert_errors = |kind: &'static str| {
            let mut labels = labels.clone();
            labels.push(Label::new("kind", kind));
            metrics::counter!(names::QDRANT_UPSERT_ERRORS, labels)
        };
        let mut metrics = Self::with(
            |name| metrics::counter!(name, labels.clone()),
            metrics::gauge!(names::CACHE_HIT_RATIO, labels.clone()),
            metrics::histogram!(names::QDRANT_UPSERT_SECONDS, labels.clone()),
        );
        metrics.upsert_transient = upsert_errors("transient");
        metrics.upsert_permanent = upsert_errors("permanent");
        metrics
    }

    fn with(
        counter: impl Fn(&'static str) -> Counter,
        cache_hit_ratio: Gauge,
        upsert_seconds: Histogram,
    ) -> Self {
        Self {
            cache_lookups: counter(names::CACHE_LOOKUPS),
            cache_hits: counter(names::CACHE_HITS),
            texts_embedded: counter(names::TEXTS_EMBEDDED),
            cache_hit_ratio,
            upsert_seconds,
            upsert_transient: Counter::noop(),
            upsert_permanent: Counter::noop(),
            looked_up: AtomicU64::new(0),
            hit: AtomicU64::new(0),
        }
    }

    /// `texts` were asked of the embedder; the cache answered `hits`.
    pub fn embedded(&self, texts: usize, hits: usize) {
        self.cache_lookups.increment(texts as u64);
        self.cache_hits.increment(hits as u64);
        self.texts_embedded
            .increment((texts - hits.min(texts)) as u64);
        let looked_up = self.looked_up.fetch_add(texts as u64, Ordering::Relaxed) + texts as u64;
        let hit = self.hit.fetch_add(hits as u64, Ordering::Relaxed) + hits as u64;
        if looked_up > 0 {
            self.cache_hit_ratio.set(hit as f64 / looked_up as f64);
        }
    }

    /// One upsert took `took` and ended with `result`.
    pub fn upserted(&self, took: Duration, result: &Result<(), WriteError>) {
        self.upsert_seconds.record(took.as_secs_f64());
        match result {
            Ok(()) => {}
            Err(WriteError::Unavailable(_)) => self.upsert_transient.increment(1),
            Err(_) => self.upsert_permanent.increment(1),
        }
    }
}
