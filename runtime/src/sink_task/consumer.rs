use std::sync::Mutex;

use connect_api::{ConfigMap, OffsetMap, TopicPartition};
use rdkafka::consumer::StreamConsumer;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::{KafkaError, KafkaResult};
use rdkafka::statistics::Statistics;
use rdkafka::{ClientConfig, ClientContext, Offset, TopicPartitionList};

use crate::monitoring::TaskMetrics;

use crate::worker_config::{WorkerConfig, strip_prefix};

/// Close a group consumer. With `leave_group` (the default,
/// `internal.leave.group.on.close=true`) it leaves its group, so the group
/// rebalances at once. Without, it goes away silently and the broker
/// evicts it when its session times out, as after a crash: slower, but it
/// avoids a broker bug (tansu keeps a leader that left a forming group as
/// leader forever, so the group is never assigned again). Not leaving leaks
/// the Rust wrapper of the handle once; librdkafka's handle is destroyed.
pub fn close<C: Consumer<X>, X: ConsumerContext>(consumer: C, leave_group: bool) {
    if leave_group {
        drop(consumer);
        return;
    }
    let native = consumer.client().native_ptr();
    std::mem::forget(consumer);
    // SAFETY: `native` is the live handle of the consumer just forgotten,
    // so nothing else uses or destroys it.
    unsafe {
        rdkafka::bindings::rd_kafka_destroy_flags(
            native,
            rdkafka::bindings::RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE,
        );
    }
}

/// Partition changes seen in rebalance callbacks, acted on by the task loop.
#[derive(Debug)]
pub enum RebalanceEvent {
    Assigned(Vec<TopicPartition>),
    Revoked(Vec<TopicPartition>),
}

/// Consumer callbacks. On revocation it commits what the sink has already
/// made durable, so the next owner does not redo it; records put but not yet
/// durable are redelivered to the next owner (at least once, never lost).
pub struct TaskConsumerContext {
    pub label: String,
    /// Commit outcomes and consumer lag go here.
    pub metrics: TaskMetrics,
    pub events: Mutex<Vec<RebalanceEvent>>,
    /// Offsets the sink has made durable, by partition, not yet known committed.
    pub durable: Mutex<OffsetMap>,
}

impl ClientContext for TaskConsumerContext {
    /// librdkafka's statistics (every `statistics.interval.ms`): the lag of
    /// each partition this task holds; 0 for one it no longer holds, so a
    /// moved partition's lag is counted once.
    fn stats(&self, statistics: Statistics) {
        for (topic, t) in &statistics.topics {
            for (partition, p) in t.partitions.iter().filter(|(p, _)| **p >= 0) {
                let lag = if p.desired { p.consumer_lag } else { 0 };
                self.metrics.lag(topic, *partition, lag);
            }
        }
    }
}

impl ConsumerContext for TaskConsumerContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(tpl) = rebalance {
            let revoked = partitions(tpl);
            let to_commit: OffsetMap = {
                let mut durable = self.durable.lock().unwrap_or_else(|e| e.into_inner());
                revoked
                    .iter()
                    .filter_map(|tp| durable.remove_entry(tp))
                    .collect()
            };
            if !to_commit.is_empty() {
                let result = consumer.commit(&offsets_tpl(&to_commit), CommitMode::Sync);
                self.metrics.committed(result.is_ok());
                if let Err(e) = result {
                    tracing::warn!(task = %self.label, "commit on revocation failed, records will be redelivered: {e}");
                }
            }
            tracing::info!(task = %self.label, "partitions revoked: {}", list(&revoked));
            self.events
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(RebalanceEvent::Revoked(revoked));
        }
    }

    /// The outcome of a commit made by [`commit_async`].
    fn commit_callback(&self, result: KafkaResult<()>, _offsets: &TopicPartitionList) {
        self.metrics.committed(result.is_ok());
        if let Err(e) = result {
            tracing::warn!(task = %self.label, "offset commit failed, will retry: {e}");
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(tpl) => {
                let assigned = partitions(tpl);
                tracing::info!(task = %self.label, "partitions assigned: {}", list(&assigned));
                self.events
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(RebalanceEvent::Assigned(assigned));
            }
            Rebalance::Error(e) => tracing::warn!(task = %self.label, "rebalance error: {e}"),
            Rebalance::Revoke(_) => {}
        }
    }
}

fn list(tps: &[TopicPartition]) -> String {
    tps.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn partitions(tpl: &TopicPartitionList) -> Vec<TopicPartition> {
    tpl.elements()
        .iter()
        .map(|e| TopicPartition::new(e.topic(), e.partition()))
        .collect()
}

pub fn partitions_tpl<'a>(tps: impl IntoIterator<Item = &'a TopicPartition>) -> TopicPartitionList {
    let mut tpl = TopicPartitionList::new();
    for tp in tps {
        tpl.add_partition(&tp.topic, tp.partition);
    }
    tpl
}

pub fn offsets_tpl(offsets: &OffsetMap) -> TopicPartitionList {
    let mut tpl = TopicPartitionList::new();
    for (tp, offset) in offsets {
        // Only fails for a duplicate partition, which a map cannot hold.
        let _ = tpl.add_partition_offset(&tp.topic, tp.partition, Offset::Offset(*offset));
    }
    tpl
}

/// The group a sink connector's tasks share: `connect-<name>` unless
/// `consumer.override.group.id` says otherwise.
pub fn group_id(connector: &str, config: &ConfigMap) -> String {
    config
        .get("consumer.override.group.id")
        .cloned()
        .unwrap_or_else(|| format!("connect-{connector}"))
}

/// librdkafka settings for a connector's consumer: ours, then the worker's
/// `consumer.*`, then the connector's `consumer.override.*`.
/// Returns the config and `max.poll.records` (a Java-client setting librdkafka
/// lacks, used here as the batch size).
pub fn consumer_config(
    worker: &WorkerConfig,
    connector: &str,
    task_id: Option<u32>,
    config: &ConfigMap,
) -> (ClientConfig, usize) {
    let mut settings = ConfigMap::new();
    settings.insert("bootstrap.servers".into(), worker.bootstrap_servers.clone());
    settings.insert("group.id".into(), group_id(connector, config));
    settings.insert("enable.auto.commit".into(), "false".into());
    settings.insert("enable.auto.offset.store".into(), "false".into());
    settings.insert("auto.offset.reset".into(), "earliest".into());
    let client_id = match task_id {
        Some(id) => format!("connector-consumer-{connector}-{id}"),
        None => format!("connector-admin-{connector}"),
    };
    settings.insert("client.id".into(), client_id);
    if task_id.is_some() {
        // A task's consumer-lag series come from librdkafka's statistics.
        settings.insert("statistics.interval.ms".into(), "5000".into());
    }
    settings.extend(worker.with_prefix("consumer."));
    settings.extend(strip_prefix(config, "consumer.override."));
    let batch = settings
        .remove("max.poll.records")
        .and_then(|v| v.trim().parse().ok())
        .filter(|n: &usize| *n > 0)
        .unwrap_or(500);
    let mut client = ClientConfig::new();
    for (k, v) in settings {
        client.set(k, v);
    }
    (client, batch)
}

/// librdkafka settings for the DLQ producer and admin client.
pub fn producer_config(worker: &WorkerConfig, config: &ConfigMap) -> ClientConfig {
    let mut client = ClientConfig::new();
    client.set("bootstrap.servers", &worker.bootstrap_servers);
    for (k, v) in worker
        .with_prefix("producer.")
        .into_iter()
        .chain(strip_prefix(config, "producer.override."))
    {
        client.set(k, v);
    }
    client
}

/// Commit `offsets` without waiting, and have the outcome reported to the
/// context's `commit_callback` (counted, logged), as Connect's
/// `commitAsync` with its callback. rdkafka's own async `commit` asks for no
/// reply, so its outcome would never be known.
pub fn commit_async(
    consumer: &StreamConsumer<TaskConsumerContext>,
    offsets: &TopicPartitionList,
) -> KafkaResult<()> {
    use rdkafka::bindings as rd;
    let rk = consumer.client().native_ptr();
    // SAFETY: `rk` and `offsets` are live for the call (librdkafka copies
    // the list); the main queue reference taken here is released here. The
    // reply goes to the main queue, which rdkafka forwards to the consumer
    // queue that `recv` serves, where it becomes an offset-commit event.
    let err = unsafe {
        let main = rd::rd_kafka_queue_get_main(rk);
        let err = rd::rd_kafka_commit_queue(rk, offsets.ptr(), main, None, std::ptr::null_mut());
        rd::rd_kafka_queue_destroy(main);
        err
    };
    if err == rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
        Ok(())
    } else {
        Err(KafkaError::ConsumerCommit(err.into()))
    }
}
