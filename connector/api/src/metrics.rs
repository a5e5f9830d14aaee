//! The names of the series a worker exposes on `GET /metrics`, with their
//! help text: one catalogue shared by the runtime, the plugins, the alert
//! rules and the dashboard (a test checks those two name only series listed
//! here).
//!
//! Names follow Connect's `sink-task-metrics`, `task-error-metrics` and
//! `connector-task-metrics` (e.g. `sink-record-read-total` →
//! `connect_sink_task_records_read_total`). Task series carry the labels
//! `connector` and `task`; every series carries `worker` (the worker id).
//! Values are recorded through the `metrics` crate's macros, so a plugin
//! records its own series without depending on the runtime.

/// What kind of series a name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// One series: its name, kind and help text.
#[derive(Debug, Clone, Copy)]
pub struct Series {
    pub name: &'static str,
    pub kind: Kind,
    pub help: &'static str,
}

const fn series(name: &'static str, kind: Kind, help: &'static str) -> Series {
    Series { name, kind, help }
}

// Sink tasks (labels: connector, task).
pub const RECORDS_READ: &str = "connect_sink_task_records_read_total";
pub const RECORDS_PUT: &str = "connect_sink_task_records_put_total";
pub const PUT_BATCH_SIZE: &str = "connect_sink_task_put_batch_size";
pub const PUT_BATCH_SECONDS: &str = "connect_sink_task_put_batch_seconds";
/// Label `result`: `success` or `failure`.
pub const OFFSET_COMMITS: &str = "connect_sink_task_offset_commits_total";
/// Labels `topic`, `partition`: records behind the partition's end.
pub const CONSUMER_LAG: &str = "connect_sink_task_consumer_lag";
/// Label `state`: 1 for the task's current state, 0 for the others.
pub const TASK_STATE: &str = "connect_task_state";

// Task errors (labels: connector, task).
pub const RECORDS_FAILED: &str = "connect_task_error_records_failed_total";
pub const RECORDS_SKIPPED: &str = "connect_task_error_records_skipped_total";
pub const RETRIES: &str = "connect_task_error_retries_total";
pub const DLQ_PRODUCED: &str = "connect_task_error_deadletterqueue_produced_total";
pub const DLQ_FAILURES: &str = "connect_task_error_deadletterqueue_failures_total";

// The embedding sink (labels: connector, task; the model's own series
// carry device and precision instead, as one model serves every task of a
// worker).
pub const TEXTS_EMBEDDED: &str = "connect_embedding_texts_total";
pub const CACHE_LOOKUPS: &str = "connect_embedding_cache_lookups_total";
pub const CACHE_HITS: &str = "connect_embedding_cache_hits_total";
pub const CACHE_HIT_RATIO: &str = "connect_embedding_cache_hit_ratio";
/// One batch: a window of texts from all tasks, its forward passes and the
/// copy back (on a GPU, passes are queued; the copy is where time shows).
pub const EMBED_BATCH_SECONDS: &str = "connect_embedding_batch_seconds";
pub const EMBED_PASS_TOKENS: &str = "connect_embedding_pass_tokens";
/// Labels `model`, `device`, `precision`; value 1.
pub const EMBED_DEVICE: &str = "connect_embedding_device_info";
pub const QDRANT_UPSERT_SECONDS: &str = "connect_qdrant_upsert_seconds";
/// Label `kind`: `transient` (retried) or `permanent`.
pub const QDRANT_UPSERT_ERRORS: &str = "connect_qdrant_upsert_errors_total";

// The worker process.
pub const WORKER_UPTIME: &str = "connect_worker_uptime_seconds";
pub const PROCESS_RSS: &str = "process_resident_memory_bytes";

/// Every series, for `describe_*` and for checks of rules and dashboards.
pub const CATALOGUE: &[Series] = &[
    series(
        RECORDS_READ,
        Kind::Counter,
        "Records read from Kafka (Connect's sink-record-read-total).",
    ),
    series(
        RECORDS_PUT,
        Kind::Counter,
        "Records handed to the sink and accepted (Connect's sink-record-send-total).",
    ),
    series(PUT_BATCH_SIZE, Kind::Histogram, "Records per put."),
    series(
        PUT_BATCH_SECONDS,
        Kind::Histogram,
        "Time one put took, retries included.",
    ),
    series(
        OFFSET_COMMITS,
        Kind::Counter,
        "Offset commits by result (success, failure).",
    ),
    series(
        CONSUMER_LAG,
        Kind::Gauge,
        "Records between the consumer's position and the partition's end.",
    ),
    series(
        TASK_STATE,
        Kind::Gauge,
        "1 for the task's current state, 0 for the others.",
    ),
    series(
        RECORDS_FAILED,
        Kind::Counter,
        "Records that failed in a stage (Connect's total-record-failures).",
    ),
    series(
        RECORDS_SKIPPED,
        Kind::Counter,
        "Records skipped by errors.tolerance=all (Connect's total-records-skipped).",
    ),
    series(
        RETRIES,
        Kind::Counter,
        "Retried operations (Connect's total-retries).",
    ),
    series(
        DLQ_PRODUCED,
        Kind::Counter,
        "Records written to the dead-letter queue (Connect's deadletterqueue-produce-requests).",
    ),
    series(
        DLQ_FAILURES,
        Kind::Counter,
        "Dead-letter queue writes that failed (Connect's deadletterqueue-produce-failures).",
    ),
    series(
        TEXTS_EMBEDDED,
        Kind::Counter,
        "Texts the model embedded (cache misses).",
    ),
    series(
        CACHE_LOOKUPS,
        Kind::Counter,
        "Texts looked up in the embedding cache.",
    ),
    series(
        CACHE_HITS,
        Kind::Counter,
        "Texts the embedding cache answered.",
    ),
    series(
        CACHE_HIT_RATIO,
        Kind::Gauge,
        "Cache hits / lookups since the task started.",
    ),
    series(
        EMBED_BATCH_SECONDS,
        Kind::Histogram,
        "Time of one embedding batch (a window: its forward passes and the copy back).",
    ),
    series(
        EMBED_PASS_TOKENS,
        Kind::Histogram,
        "Padded tokens (rows x length) in one forward pass.",
    ),
    series(
        EMBED_DEVICE,
        Kind::Gauge,
        "The device and precision the model runs on (value 1).",
    ),
    series(
        QDRANT_UPSERT_SECONDS,
        Kind::Histogram,
        "Time of one upsert to Qdrant.",
    ),
    series(
        QDRANT_UPSERT_ERRORS,
        Kind::Counter,
        "Failed upserts to Qdrant, by kind (transient, permanent).",
    ),
    series(
        WORKER_UPTIME,
        Kind::Gauge,
        "Seconds since the worker started.",
    ),
    series(
        PROCESS_RSS,
        Kind::Gauge,
        "Resident memory of the worker process.",
    ),
];
