//! The worker's metrics: one Prometheus recorder for the process (every
//! series labelled with the worker id), and the handles a sink task
//! records into. Series names come from [`connect_api::metrics`].

use std::sync::Arc;
use std::time::Instant;

use connect_api::SinkTaskContext;
use connect_api::metrics::{self as names, CATALOGUE, Kind};
use metrics::{Counter, Histogram, Label};
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder};

use crate::status::State;

/// Renders every series in Prometheus' text format.
pub type Render = Arc<dyn Fn() -> String + Send + Sync>;

/// Histogram buckets: records per put, seconds, and padded tokens per pass.
const SIZE_BUCKETS: &[f64] = &[
    1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0,
];
const SECONDS_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
const TOKEN_BUCKETS: &[f64] = &[
    256.0, 512.0, 1024.0, 2048.0, 4096.0, 8192.0, 16384.0, 32768.0, 65536.0, 131072.0,
];

/// Install the process-wide recorder; `worker` labels every series. Call
/// once, before tasks start (series recorded earlier go nowhere).
pub fn install(worker: &str) -> Result<Render, BuildError> {
    let started = Instant::now();
    let buckets = |builder: PrometheusBuilder, name: &str, buckets: &[f64]| {
        builder.set_buckets_for_metric(Matcher::Full(name.to_string()), buckets)
    };
    let mut builder = PrometheusBuilder::new().add_global_label("worker", worker);
    builder = buckets(builder, names::PUT_BATCH_SIZE, SIZE_BUCKETS)?;
    builder = buckets(builder, names::EMBED_PASS_TOKENS, TOKEN_BUCKETS)?;
    for seconds in [
        names::PUT_BATCH_SECONDS,
        names::EMBED_BATCH_SECONDS,
        names::QDRANT_UPSERT_SECONDS,
    ] {
        builder = buckets(builder, seconds, SECONDS_BUCKETS)?;
    }
    let handle = builder.install_recorder()?;
    for series in CATALOGUE {
        match series.kind {
            Kind::Counter => metrics::describe_counter!(series.name, series.help),
            Kind::Gauge => metrics::describe_gauge!(series.name, series.help),
            Kind::Histogram => metrics::describe_histogram!(series.name, series.help),
        }
    }
    let process = metrics_process::Collector::default();
    process.describe();
    Ok(Arc::new(move || {
        // Read at scrape time: uptime and the process' memory and CPU.
        metrics::gauge!(names::WORKER_UPTIME).set(started.elapsed().as_secs_f64());
        process.collect();
        handle.render()
    }))
}

/// One sink task's series (cheap handles; recording is an atomic add).
#[derive(Clone)]
pub struct TaskMetrics {
    labels: Vec<Label>,
    pub records_read: Counter,
    pub records_put: Counter,
    pub put_batch_size: Histogram,
    pub put_batch_seconds: Histogram,
    pub records_failed: Counter,
    pub records_skipped: Counter,
    pub retries: Counter,
    pub dlq_produced: Counter,
    pub dlq_failures: Counter,
    commits_ok: Counter,
    commits_failed: Counter,
}

/// The task states of [`names::TASK_STATE`], as its `state` label says them.
const STATES: &[(State, &str)] = &[
    (State::Unassigned, "unassigned"),
    (State::Running, "running"),
    (State::Paused, "paused"),
    (State::Failed, "failed"),
    (State::Restarting, "restarting"),
];

impl TaskMetrics {
    pub fn new(connector: &str, task: u32) -> Self {
        let labels = SinkTaskContext {
            connector: connector.to_string(),
            task,
        }
        .metric_labels();
        let counter = |name: &'static str| metrics::counter!(name, labels.clone());
        let histogram = |name: &'static str| metrics::histogram!(name, labels.clone());
        let commits = |result: &'static str| {
            let mut labels = labels.clone();
            labels.push(Label::new("result", result));
            metrics::counter!(names::OFFSET_COMMITS, labels)
        };
        Self {
            records_read: counter(names::RECORDS_READ),
            records_put: counter(names::RECORDS_PUT),
            put_batch_size: histogram(names::PUT_BATCH_SIZE),
            put_batch_seconds: histogram(names::PUT_BATCH_SECONDS),
            records_failed: counter(names::RECORDS_FAILED),
            records_skipped: counter(names::RECORDS_SKIPPED),
            retries: counter(names::RETRIES),
            dlq_produced: counter(names::DLQ_PRODUCED),
            dlq_failures: counter(names::DLQ_FAILURES),
            commits_ok: commits("success"),
            commits_failed: commits("failure"),
            labels,
        }
    }

    /// An offset commit's outcome, as the consumer reports it.
    pub fn committed(&self, ok: bool) {
        if ok {
            self.commits_ok.increment(1)
        } else {
            self.commits_failed.increment(1)
        }
    }

    /// Records between the position and the end of `topic`/`partition`.
    pub fn lag(&self, topic: &str, partition: i32, lag: i64) {
        let mut labels = self.labels.clone();
        labels.push(Label::new("topic", topic.to_string()));
        labels.push(Label::new("partition", partition.to_string()));
        metrics::gauge!(names::CONSUMER_LAG, labels).set(lag.max(0) as f64);
    }

    /// The task's state now; `None` once it no longer runs here.
    pub fn state(&self, state: Option<State>) {
        for (s, name) in STATES {
            let mut labels = self.labels.clone();
            labels.push(Label::new("state", *name));
            metrics::gauge!(names::TASK_STATE, labels).set(f64::from(u8::from(state == Some(*s))));
        }
    }
}
