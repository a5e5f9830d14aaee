use std::sync::Mutex;

use connect_api::{ConfigMap, OffsetMap, TopicPartition};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::{ClientConfig, ClientContext, Offset, TopicPartitionList};

use crate::worker_config::{WorkerConfig, strip_prefix};

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
    pub events: Mutex<Vec<RebalanceEvent>>,
    /// Offsets the sink has made durable, by partition, not yet known committed.
    pub durable: Mutex<OffsetMap>,
}

impl ClientContext for TaskConsumerContext {}

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
            if !to_commit.is_empty()
                && let Err(e) = consumer.commit(&offsets_tpl(&to_commit), CommitMode::Sync)
            {
                tracing::warn!(task = %self.label, "commit on revocation failed, records will be redelivered: {e}");
            }
            tracing::info!(task = %self.label, "partitions revoked: {}", list(&revoked));
            self.events
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(RebalanceEvent::Revoked(revoked));
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
