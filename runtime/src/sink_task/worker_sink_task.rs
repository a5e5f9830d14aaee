//! The loop of one sink task, as Connect's `WorkerSinkTask`:
//! poll → convert → put → (pre-commit → commit), never committing an offset
//! the sink has not made durable.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use connect_api::{
    OffsetMap, PutContext, RecordError, SinkError, SinkRecord, SinkTask, SinkTaskContext,
    TopicPartition,
};
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{Headers, Message, OwnedMessage};
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until, timeout};

use super::consumer::{
    RebalanceEvent, TaskConsumerContext, commit_async, consumer_config, offsets_tpl,
    partitions_tpl, producer_config,
};
use super::{TaskSpec, TaskTarget};
use crate::config_provider::Secrets;
use crate::connector_config::{SinkConnectorConfig, Subscription};
use crate::converters::{ConversionError, Converter, Origin, Prepare};
use crate::errors::{
    DeadLetterQueue, ErrorContext, ErrorReporter, Outcome, RetryHost, RetryWithToleranceOperator,
    Stage, StageFailure, TaskFailure, attempt,
};
use crate::monitoring::TaskMetrics;
use crate::status::{State, StatusReporter};
use crate::transforms::TransformChain;

/// How long a `put` may run before fetching is paused so that the consumer
/// keeps polling (and its group membership) without buffering more.
const PUT_PAUSE_AFTER: Duration = Duration::from_secs(1);
/// How long one poll waits for the first record of a batch.
const POLL_TIMEOUT: Duration = Duration::from_millis(500);

/// The names of the topics a task reads, each allocated once and shared
/// by the task's records and offsets rather than copied per record.
#[derive(Default)]
struct TopicNames {
    /// The name asked for last: a batch's records mostly share a topic.
    last: Option<Arc<str>>,
    all: HashSet<Arc<str>>,
}

impl TopicNames {
    fn get(&mut self, topic: &str) -> Arc<str> {
        if let Some(last) = &self.last
            && **last == *topic
        {
            return last.clone();
        }
        let name = match self.all.get(topic) {
            Some(name) => name.clone(),
            None => {
                let name: Arc<str> = topic.into();
                self.all.insert(name.clone());
                name
            }
        };
        self.last = Some(name.clone());
        name
    }
}

pub struct WorkerSinkTask {
    label: String,
    task: Box<dyn SinkTask>,
    task_class: String,
    consumer: StreamConsumer<TaskConsumerContext>,
    /// `internal.leave.group.on.close`.
    leave_group_on_close: bool,
    key_converter: Arc<dyn Converter>,
    value_converter: Arc<dyn Converter>,
    /// Retries: how long, and how often.
    operator: RetryWithToleranceOperator,
    /// Tolerance: what happens to a record that still fails.
    errors: ErrorReporter,
    /// A failure met while waiting to retry (a rebalance callback failed).
    failure_while_waiting: Option<TaskFailure>,
    /// The transformations applied to each converted record, in order.
    transforms: TransformChain,
    /// The converted records `put` is being asked to take.
    in_flight: Vec<SinkRecord>,
    /// The partition each record of `in_flight` was consumed from: a
    /// transformation may rename the topic the sink sees, never the one
    /// offsets are tracked (and the assignment checked) against.
    in_flight_origins: Vec<TopicPartition>,
    /// The names of the topics read, shared by their records.
    topic_names: TopicNames,
    batch_size: usize,
    flush_interval: Duration,
    status: StatusReporter,
    control: watch::Receiver<TaskTarget>,
    /// `None` when `topic.tracking.enable=false`.
    active_topics: Option<Arc<std::sync::Mutex<BTreeSet<String>>>>,
    /// Records polled but not yet delivered to `put`.
    pending: VecDeque<OwnedMessage>,
    /// Next offset per partition of everything `put` accepted (or dealt with
    /// as poison), not yet made durable by `pre_commit`.
    consumed: OffsetMap,
    assignment: BTreeSet<TopicPartition>,
    /// Fetching paused: by the user (PAUSED), or for backpressure.
    user_paused: bool,
    fetch_paused: bool,
    /// The state last reported to the status; `None` until the loop runs.
    reported: Option<State>,
    last_commit: Instant,
    /// Where this task's time went, logged when it stops (benchmarks read it).
    spent: Spent,
    metrics: TaskMetrics,
    /// Resolved secrets of the task's config: never in what it reports.
    secrets: Secrets,
}

/// Time per stage of the loop, and records handed to `put`.
#[derive(Debug, Default)]
struct Spent {
    records: u64,
    poll: Duration,
    convert: Duration,
    put: Duration,
    commit: Duration,
}

impl WorkerSinkTask {
    /// Build the consumer, converters and error reporter; no data moves yet.
    pub async fn create(spec: TaskSpec) -> Result<Self, TaskFailure> {
        let label = format!("{}-{}", spec.connector, spec.task_id);
        let metrics = TaskMetrics::new(&spec.connector, spec.task_id);
        let config = SinkConnectorConfig::parse(&spec.config)
            .map_err(|issues| TaskFailure::new(format!("invalid connector config: {issues:?}")))?;
        let key_converter = config
            .converter(&spec.worker, "key.converter")
            .map_err(|e| TaskFailure::from_error(&e))?;
        let value_converter = config
            .converter(&spec.worker, "value.converter")
            .map_err(|e| TaskFailure::from_error(&e))?;
        let transforms = TransformChain::from_config(&spec.config).map_err(|issues| {
            let issues: Vec<String> = issues.iter().map(ToString::to_string).collect();
            TaskFailure::new(format!("invalid transforms: {}", issues.join("; ")))
        })?;
        let (client, batch_size) = consumer_config(
            &spec.worker,
            &spec.connector,
            Some(spec.task_id),
            &spec.config,
        );
        let context = TaskConsumerContext {
            label: label.clone(),
            metrics: metrics.clone(),
            events: Default::default(),
            durable: Default::default(),
        };
        let consumer: StreamConsumer<TaskConsumerContext> = client
            .create_with_context(context)
            .map_err(|e| TaskFailure::new(format!("cannot create the Kafka consumer: {e}")))?;
        match &config.subscription {
            Subscription::Topics(topics) => {
                let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
                consumer.subscribe(&topics)
            }
            Subscription::Regex(regex) => consumer.subscribe(&[&format!("^{regex}")]),
        }
        .map_err(|e| TaskFailure::new(format!("cannot subscribe: {e}")))?;

        let dlq = if config.errors.dlq_topic.trim().is_empty() {
            None
        } else {
            Some(
                DeadLetterQueue::open(
                    producer_config(&spec.worker, &spec.config),
                    config.errors.dlq_topic.trim().to_string(),
                    config.errors.dlq_replication_factor,
                    config.errors.dlq_context_headers,
                    spec.connector.clone(),
                    spec.task_id,
                )
                .await
                .map_err(|e| TaskFailure::from_error(&e))?,
            )
        };
        let mut task = spec.plugin.create_task();
        task.initialize(&SinkTaskContext {
            connector: spec.connector.clone(),
            task: spec.task_id,
        });
        task.start(&spec.config)
            .await
            .map_err(|e| TaskFailure::new(e.to_string()))?;
        Ok(Self {
            operator: RetryWithToleranceOperator::new(
                config.errors.retry_limit(),
                config.errors.retry_delay_max(),
            )
            .counting(metrics.retries.clone())
            .masking(spec.secrets.clone()),
            errors: ErrorReporter::new(config.errors.clone(), dlq, label.clone(), metrics.clone())
                .masking(spec.secrets.clone()),
            failure_while_waiting: None,
            transforms,
            in_flight: Vec::new(),
            in_flight_origins: Vec::new(),
            topic_names: TopicNames::default(),
            label,
            task,
            task_class: spec.plugin.class_name().to_string() + "Task",
            consumer,
            leave_group_on_close: spec.worker.leave_group_on_close,
            key_converter,
            value_converter,
            batch_size,
            flush_interval: spec.worker.offset_flush_interval,
            status: spec.status,
            control: spec.control,
            active_topics: spec
                .worker
                .topic_tracking_enable
                .then_some(spec.active_topics),
            pending: VecDeque::new(),
            consumed: OffsetMap::new(),
            assignment: BTreeSet::new(),
            user_paused: false,
            fetch_paused: false,
            reported: None,
            last_commit: Instant::now(),
            spent: Spent::default(),
            metrics,
            secrets: spec.secrets,
        })
    }

    /// Run until told to stop or until failure; the status says which.
    pub async fn run(mut self) {
        let secrets = self.secrets.clone();
        let outcome = self
            .run_loop()
            .await
            .map_err(|failure| failure.masked(&secrets));
        if let Err(failure) = &outcome {
            tracing::error!(task = %self.label, "task failed: {}", failure.trace);
        }
        // Stopped or failed, what was put is durable-able: commit it, nothing past.
        self.commit(CommitMode::Sync).await.ok();
        let assigned: Vec<_> = self.assignment.iter().cloned().collect();
        if let Err(e) = self.task.close(&assigned).await {
            tracing::warn!(task = %self.label, "close failed: {}", self.secrets.mask(&e.to_string()));
        }
        self.task.stop().await;
        // Closing a consumer blocks (leave group, final fetch teardown):
        // keep it off the async worker threads.
        let consumer = self.consumer;
        let leave_group = self.leave_group_on_close;
        let _ = tokio::task::spawn_blocking(move || {
            if leave_group {
                consumer.unsubscribe();
            }
            super::consumer::close(consumer, leave_group);
        })
        .await;
        match outcome {
            Ok(()) => {
                self.metrics.state(None);
                let s = &self.spent;
                tracing::info!(
                    task = %self.label,
                    records = s.records,
                    poll_ms = s.poll.as_millis() as u64,
                    convert_ms = s.convert.as_millis() as u64,
                    put_ms = s.put.as_millis() as u64,
                    commit_ms = s.commit.as_millis() as u64,
                    "task stopped"
                )
            }
            Err(failure) => {
                self.metrics.state(Some(State::Failed));
                self.status.fail(failure.trace)
            }
        }
    }

    async fn run_loop(&mut self) -> Result<(), TaskFailure> {
        loop {
            let target = *self.control.borrow_and_update();
            if target == TaskTarget::Stop {
                return Ok(());
            }
            // The loop reports the state it is really in, read now: a pause
            // or resume sent while the task was starting is not lost.
            let paused = target == TaskTarget::Paused;
            if self.reported.is_none() || paused != self.user_paused {
                self.user_paused = paused;
                self.set_fetch_paused(paused);
                let state = if paused {
                    State::Paused
                } else {
                    State::Running
                };
                self.status.set(state);
                self.metrics.state(Some(state));
                self.reported = Some(state);
            }
            self.handle_rebalance().await?;
            if self.user_paused {
                // Keep polling so the group keeps us; nothing is fetched.
                self.poll_idle(POLL_TIMEOUT).await;
            } else {
                let polled = Instant::now();
                let batch = self.poll_batch().await;
                self.spent.poll += polled.elapsed();
                // The poll may have raised an assignment (or revocation):
                // apply it first, so the batch is delivered against the
                // partitions this task really holds.
                self.handle_rebalance().await?;
                if !batch.is_empty() {
                    self.deliver(batch).await?;
                }
            }
            if self.last_commit.elapsed() >= self.flush_interval {
                self.commit(CommitMode::Async).await?;
            }
        }
    }

    /// Up to `batch_size` records: waits up to [`POLL_TIMEOUT`] for the first,
    /// then takes what is already there.
    async fn poll_batch(&mut self) -> Vec<OwnedMessage> {
        if self.pending.is_empty() {
            tokio::select! {
                msg = timeout(POLL_TIMEOUT, self.consumer.recv()) => match msg {
                    Ok(Ok(m)) => self.pending.push_back(m.detach()),
                    Ok(Err(e)) => tracing::warn!(task = %self.label, "consumer error: {}", self.secrets.mask(&e.to_string())),
                    Err(_) => return Vec::new(),
                },
                _ = self.control.changed() => return Vec::new(),
            }
        }
        while self.pending.len() < self.batch_size {
            match futures::FutureExt::now_or_never(self.consumer.recv()) {
                Some(Ok(m)) => self.pending.push_back(m.detach()),
                Some(Err(e)) => {
                    tracing::warn!(task = %self.label, "consumer error: {}", self.secrets.mask(&e.to_string()));
                    break;
                }
                None => break,
            }
        }
        // Events raised while polling (a revocation) apply before delivery.
        let n = self.pending.len().min(self.batch_size);
        self.pending.drain(..n).collect()
    }

    /// Poll without taking records off the assignment (fetching is paused);
    /// anything already prefetched is kept for later.
    async fn poll_idle(&mut self, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        loop {
            tokio::select! {
                _ = sleep_until(deadline) => return false,
                changed = self.control.changed() => {
                    if changed.is_err() || *self.control.borrow() == TaskTarget::Stop {
                        return true;
                    }
                    if !self.fetch_paused_for_backpressure() { return false; }
                }
                msg = self.consumer.recv() => if let Ok(m) = msg { self.pending.push_back(m.detach()) },
            }
        }
    }

    fn fetch_paused_for_backpressure(&self) -> bool {
        self.fetch_paused && !self.user_paused
    }

    /// Record whether fetching should be paused and apply it to the
    /// assignment; partitions assigned later follow the flag.
    fn set_fetch_paused(&mut self, paused: bool) {
        if self.fetch_paused == paused {
            return;
        }
        self.fetch_paused = paused;
        if self.assignment.is_empty() {
            return;
        }
        let tpl = partitions_tpl(&self.assignment);
        let result = if paused {
            self.consumer.pause(&tpl)
        } else {
            self.consumer.resume(&tpl)
        };
        if let Err(e) = result {
            tracing::warn!(task = %self.label, "cannot {} fetching: {e}", if paused { "pause" } else { "resume" });
        }
    }

    /// Apply partition changes from rebalance callbacks.
    async fn handle_rebalance(&mut self) -> Result<(), TaskFailure> {
        let events: Vec<_> = std::mem::take(
            &mut *self
                .consumer
                .context()
                .events
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        for event in events {
            match event {
                RebalanceEvent::Revoked(revoked) => {
                    for tp in &revoked {
                        self.assignment.remove(tp);
                        self.consumed.remove(tp);
                    }
                    let revoked_set: BTreeSet<_> = revoked.iter().collect();
                    self.pending.retain(|m| {
                        !revoked_set.contains(&TopicPartition::new(m.topic(), m.partition()))
                    });
                    self.task
                        .close(&revoked)
                        .await
                        .map_err(|e| TaskFailure::new(e.to_string()))?;
                }
                RebalanceEvent::Assigned(assigned) => {
                    self.assignment.extend(assigned.iter().cloned());
                    self.task
                        .open(&assigned)
                        .await
                        .map_err(|e| TaskFailure::new(e.to_string()))?;
                    if self.fetch_paused {
                        // New partitions join the pause the others are in.
                        if let Err(e) = self.consumer.pause(&partitions_tpl(&assigned)) {
                            tracing::warn!(task = %self.label, "cannot pause new partitions: {e}");
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Convert and put one batch through the retry operator: conversions
    /// retried until `errors.retry.timeout`, retriable sink errors forever
    /// (fetching paused meanwhile); what still fails goes to the reporter.
    async fn deliver(&mut self, batch: Vec<OwnedMessage>) -> Result<(), TaskFailure> {
        self.note_topics(&batch);
        self.metrics.records_read.increment(batch.len() as u64);
        let operator = self.operator.clone();
        let converting = Instant::now();
        let mut records = Vec::with_capacity(batch.len());
        let mut origins = Vec::with_capacity(batch.len());
        for msg in &batch {
            // Convert, then transform; a record a transformation drops is
            // not put, but its offset is committed with the batch.
            let convert = attempt(|task: &mut Self| {
                let fetches = task.fetches(msg);
                if fetches.is_empty() {
                    let converted = task.convert(msg).and_then(|r| task.transform(r));
                    return Box::pin(async move { converted });
                }
                // Rare: a schema to fetch first (the message is copied so the
                // attempt does not borrow the batch).
                let msg = msg.clone();
                Box::pin(async move {
                    for (stage, converter, fetch) in fetches {
                        fetch
                            .await
                            .map_err(|e| conversion_failure(stage, &converter, e))?;
                    }
                    task.convert(&msg).and_then(|r| task.transform(r))
                })
            });
            match operator.execute(self, convert).await {
                Outcome::Done(Some(record)) => {
                    records.push(record);
                    let topic = self.topic_names.get(msg.topic());
                    origins.push(TopicPartition::new(topic, msg.partition()));
                }
                Outcome::Done(None) => {}
                Outcome::Failed(ctx) => self.errors.report(msg, &ctx).await?,
                Outcome::Stopped => return self.stopped_while_waiting(),
            }
        }
        self.spent.convert += converting.elapsed();
        self.spent.records += records.len() as u64;
        let putting = Instant::now();
        self.in_flight = records;
        self.in_flight_origins = origins;
        let put = attempt(|task: &mut Self| Box::pin(task.put_in_flight()));
        let errant = match operator.execute(self, put).await {
            Outcome::Done(errant) => errant,
            Outcome::Failed(ctx) => return Err(TaskFailure::new(ctx.trace())),
            Outcome::Stopped => return self.stopped_while_waiting(),
        };
        // Errant records are named by the topic the sink saw: map them back
        // to the partition they were consumed from.
        let origin_of: HashMap<(TopicPartition, i64), TopicPartition> = if errant.is_empty() {
            HashMap::new()
        } else {
            self.in_flight
                .iter()
                .zip(&self.in_flight_origins)
                .map(|(r, origin)| ((r.topic_partition(), r.offset), origin.clone()))
                .collect()
        };
        self.in_flight.clear();
        self.in_flight_origins.clear();
        self.spent.put += putting.elapsed();
        self.metrics
            .put_batch_seconds
            .record(putting.elapsed().as_secs_f64());
        if !self.user_paused {
            self.set_fetch_paused(false);
        }
        if !errant.is_empty() {
            let by_position: HashMap<(TopicPartition, i64), &OwnedMessage> = batch
                .iter()
                .map(|m| {
                    (
                        (TopicPartition::new(m.topic(), m.partition()), m.offset()),
                        m,
                    )
                })
                .collect();
            for (offset, tp, error) in errant {
                let tp = origin_of.get(&(tp.clone(), offset)).cloned().unwrap_or(tp);
                let Some(raw) = by_position.get(&(tp, offset)) else {
                    continue;
                };
                let ctx = ErrorContext {
                    stage: Stage::TaskPut,
                    executing_class: self.task_class.clone(),
                    exception_class: error.kind,
                    message: error.message,
                };
                self.errors.report(raw, &ctx).await?;
            }
        }
        // Revocations seen during put: offsets of revoked partitions are not ours.
        self.handle_rebalance().await?;
        for msg in &batch {
            let tp = TopicPartition::new(msg.topic(), msg.partition());
            if self.assignment.contains(&tp) {
                let next = self.consumed.entry(tp).or_insert(0);
                *next = (*next).max(msg.offset() + 1);
            }
        }
        Ok(())
    }

    /// `put`, while polling the consumer so a long put does not exceed
    /// `max.poll.interval.ms`; fetching is paused once the put is slow.
    async fn put_keeping_membership(
        &mut self,
        records: &[SinkRecord],
        ctx: &mut PutContext,
    ) -> Result<(), SinkError> {
        let was_paused = self.fetch_paused;
        let pause_at = Instant::now() + PUT_PAUSE_AFTER;
        let mut paused_here = false;
        let result = {
            let put = self.task.put(records, ctx);
            tokio::pin!(put);
            loop {
                tokio::select! {
                    result = &mut put => break result,
                    msg = self.consumer.recv() => if let Ok(m) = msg { self.pending.push_back(m.detach()) },
                    _ = sleep_until(pause_at), if !was_paused && !paused_here => {
                        paused_here = true;
                        if !self.assignment.is_empty() {
                            let _ = self.consumer.pause(&partitions_tpl(&self.assignment));
                        }
                    }
                }
            }
        };
        if paused_here {
            self.fetch_paused = true;
        }
        result
    }

    /// What the converters must fetch before they can read `msg`
    /// (Schema Registry schemas not cached yet).
    fn fetches(&self, msg: &OwnedMessage) -> Vec<(Stage, Arc<dyn Converter>, Prepare)> {
        let at = origin(msg);
        let mut out = Vec::new();
        for (stage, converter, bytes) in [
            (Stage::KeyConverter, &self.key_converter, msg.key()),
            (Stage::ValueConverter, &self.value_converter, msg.payload()),
        ] {
            if let Some(fetch) = converter.prepare(at, bytes) {
                out.push((stage, converter.clone(), fetch));
            }
        }
        out
    }

    fn convert(&mut self, msg: &OwnedMessage) -> Result<SinkRecord, StageFailure> {
        let topic = self.topic_names.get(msg.topic());
        let at = origin(msg);
        let key = self
            .key_converter
            .to_connect(at, msg.key())
            .map_err(|e| conversion_failure(Stage::KeyConverter, &self.key_converter, e))?;
        let value = self
            .value_converter
            .to_connect(at, msg.payload())
            .map_err(|e| conversion_failure(Stage::ValueConverter, &self.value_converter, e))?;
        let headers = msg
            .headers()
            .map(|h| {
                h.iter()
                    .map(|h| {
                        (
                            h.key.to_string(),
                            h.value.map(bytes::Bytes::copy_from_slice),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(SinkRecord {
            topic,
            partition: msg.partition(),
            offset: msg.offset(),
            timestamp: msg.timestamp().to_millis(),
            key,
            value,
            headers,
        })
    }

    /// The transformation chain on one converted record; `None` when a
    /// transformation dropped it.
    fn transform(&self, record: SinkRecord) -> Result<Option<SinkRecord>, StageFailure> {
        if self.transforms.is_empty() {
            return Ok(Some(record));
        }
        self.transforms.apply(record).map_err(|e| {
            StageFailure::Final(ErrorContext {
                stage: Stage::Transformation,
                executing_class: e.class,
                exception_class: "org.apache.kafka.connect.errors.DataException".to_string(),
                message: e.message,
            })
        })
    }

    /// One attempt to put the records in flight; records of partitions
    /// revoked while waiting to retry are not ours to write any more.
    async fn put_in_flight(
        &mut self,
    ) -> Result<Vec<(i64, TopicPartition, RecordError)>, StageFailure> {
        let keep: Vec<bool> = self
            .in_flight_origins
            .iter()
            .map(|tp| self.assignment.contains(tp))
            .collect();
        if keep.iter().any(|k| !k) {
            let mut kept = keep.iter();
            self.in_flight.retain(|_| *kept.next().unwrap_or(&false));
            let mut kept = keep.iter();
            self.in_flight_origins
                .retain(|_| *kept.next().unwrap_or(&false));
        }
        if self.in_flight.is_empty() {
            return Ok(Vec::new());
        }
        let records = std::mem::take(&mut self.in_flight);
        let mut ctx = PutContext::new();
        let result = self.put_keeping_membership(&records, &mut ctx).await;
        self.in_flight = records;
        match result {
            Ok(()) => {
                let errant = ctx.take_errant();
                let size = self.in_flight.len();
                let put = size.saturating_sub(errant.len());
                self.metrics.records_put.increment(put as u64);
                self.metrics.put_batch_size.record(size as f64);
                Ok(errant)
            }
            Err(SinkError::Retriable(reason)) => Err(StageFailure::Retriable(
                self.put_failure("RetriableException", reason),
            )),
            Err(SinkError::Fatal(reason)) => Err(StageFailure::Final(
                self.put_failure("ConnectException", reason),
            )),
        }
    }

    fn put_failure(&self, exception_class: &str, message: String) -> ErrorContext {
        ErrorContext {
            stage: Stage::TaskPut,
            executing_class: self.task_class.clone(),
            exception_class: exception_class.to_string(),
            message,
        }
    }

    /// A retry wait ended early: a stop (nothing of the batch is
    /// committed), or a failure met while waiting.
    fn stopped_while_waiting(&mut self) -> Result<(), TaskFailure> {
        self.failure_while_waiting.take().map_or(Ok(()), Err)
    }

    fn note_topics(&self, batch: &[OwnedMessage]) {
        let Some(active) = &self.active_topics else {
            return;
        };
        let mut topics = active.lock().unwrap_or_else(|e| e.into_inner());
        for msg in batch {
            if !topics.contains(msg.topic()) {
                topics.insert(msg.topic().to_string());
            }
        }
    }

    /// Ask the sink what is durable, remember it for revocation, commit it.
    async fn commit(&mut self, mode: CommitMode) -> Result<(), TaskFailure> {
        let started = Instant::now();
        let result = self.commit_durable(mode).await;
        self.spent.commit += started.elapsed();
        result
    }

    async fn commit_durable(&mut self, mode: CommitMode) -> Result<(), TaskFailure> {
        self.last_commit = Instant::now();
        if self.consumed.is_empty() {
            return Ok(());
        }
        let offsets = self.consumed.clone();
        let durable = match self.task.pre_commit(&offsets).await {
            Ok(durable) => durable,
            Err(SinkError::Retriable(e)) => {
                tracing::warn!(task = %self.label, "flush failed, offsets not committed this time: {}", self.secrets.mask(&e));
                return Ok(());
            }
            Err(SinkError::Fatal(e)) => {
                return Err(TaskFailure::new(format!(
                    "ConnectException: flush failed: {e}"
                )));
            }
        };
        // Never commit beyond what was consumed, nor for partitions not ours.
        let durable: OffsetMap = durable
            .into_iter()
            .filter(|(tp, off)| {
                self.assignment.contains(tp) && offsets.get(tp).is_some_and(|c| off <= c)
            })
            .collect();
        if durable.is_empty() {
            return Ok(());
        }
        self.consumer
            .context()
            .durable
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(durable.iter().map(|(k, v)| (k.clone(), *v)));
        let tpl = offsets_tpl(&durable);
        let result = match mode {
            CommitMode::Sync => {
                let result = self.consumer.commit(&tpl, mode);
                self.metrics.committed(result.is_ok());
                result
            }
            // Its outcome reaches the consumer context's commit callback.
            CommitMode::Async => commit_async(&self.consumer, &tpl).inspect_err(|_| {
                self.metrics.committed(false);
            }),
        };
        match result {
            Ok(()) => {
                for (tp, off) in &durable {
                    if self.consumed.get(tp) == Some(off) {
                        self.consumed.remove(tp);
                    }
                }
                tracing::debug!(task = %self.label, "committed {durable:?}");
            }
            Err(e) => tracing::warn!(task = %self.label, "offset commit failed, will retry: {e}"),
        }
        Ok(())
    }
}

/// Spawn a task: build it, run it (or mark it FAILED).
pub fn spawn(spec: TaskSpec) -> tokio::task::JoinHandle<()> {
    // Every line the task logs names its connector and task.
    let span = tracing::info_span!("task", connector = %spec.connector, task = spec.task_id);
    let (connector, task_id) = (spec.connector.clone(), spec.task_id);
    let run = async move {
        let status = spec.status.clone();
        let secrets = spec.secrets.clone();
        match WorkerSinkTask::create(spec).await {
            // The run loop reports RUNNING or PAUSED from the target it reads.
            Ok(task) => task.run().await,
            Err(failure) => {
                // A client or the sink may quote a value of the config.
                let failure = failure.masked(&secrets);
                tracing::error!("task failed to start: {}", failure.trace);
                TaskMetrics::new(&connector, task_id).state(Some(State::Failed));
                status.fail(failure.trace);
            }
        }
    };
    tokio::spawn(tracing::Instrument::instrument(run, span))
}

/// Between attempts the task keeps its group membership, pauses fetching
/// (backpressure: nothing more is buffered while a stage cannot proceed)
/// and applies rebalances.
impl RetryHost for WorkerSinkTask {
    async fn wait(&mut self, delay: Duration) -> bool {
        self.set_fetch_paused(true);
        if self.poll_idle(delay).await {
            return false;
        }
        match self.handle_rebalance().await {
            Ok(()) => true,
            Err(failure) => {
                self.failure_while_waiting = Some(failure);
                false
            }
        }
    }
}

/// Where `msg` comes from, for converters' messages.
fn origin(msg: &OwnedMessage) -> Origin<'_> {
    Origin {
        topic: msg.topic(),
        partition: msg.partition(),
        offset: msg.offset(),
        headers: match msg.headers() {
            Some(headers) => headers,
            None => &(),
        },
    }
}

/// A converter's failure as the retry operator sees it.
fn conversion_failure(
    stage: Stage,
    converter: &Arc<dyn Converter>,
    error: ConversionError,
) -> StageFailure {
    let ctx = |exception: &str, message: String| ErrorContext {
        stage,
        executing_class: converter.class_name().to_string(),
        exception_class: format!("org.apache.kafka.connect.errors.{exception}"),
        message,
    };
    match error {
        ConversionError::Data(m) => StageFailure::Final(ctx("DataException", m)),
        ConversionError::Retriable(m) => StageFailure::Retriable(ctx("RetriableException", m)),
        ConversionError::Unavailable(m) => StageFailure::Unavailable(ctx("RetriableException", m)),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::TopicNames;

    #[test]
    fn a_topic_name_is_allocated_once_and_shared() {
        let mut names = TopicNames::default();
        let a = names.get("orders");
        let b = names.get("payments");
        assert_eq!((&*a, &*b), ("orders", "payments"));
        assert!(
            Arc::ptr_eq(&a, &names.get("orders")),
            "found past the last one"
        );
        assert!(Arc::ptr_eq(&names.get("orders"), &a), "the last one");
        assert!(Arc::ptr_eq(&names.get("payments"), &b));
    }
}
