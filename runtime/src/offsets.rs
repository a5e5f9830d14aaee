//! Reading and changing a sink connector's committed offsets, which live in
//! its consumer group (Connect's `GET|PATCH|DELETE /connectors/{c}/offsets`).

use std::time::{Duration, Instant};

use connect_api::{ConfigMap, OffsetMap, TopicPartition};
use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::{Offset, TopicPartitionList};

use crate::kafka_error::{Doing, KafkaCallError};
use crate::sink_task::consumer_config;
use crate::worker_config::WorkerConfig;

const TIMEOUT: Duration = Duration::from_secs(10);

fn group_consumer(
    worker: &WorkerConfig,
    connector: &str,
    config: &ConfigMap,
) -> Result<BaseConsumer, KafkaCallError> {
    let (client, _) = consumer_config(worker, connector, None, config);
    client.create().doing("create a Kafka client")
}

/// Every committed offset of the connector's group, as Connect lists it:
/// also partitions of topics the connector no longer subscribes to.
pub fn read(
    worker: &WorkerConfig,
    connector: &str,
    config: &ConfigMap,
) -> Result<OffsetMap, KafkaCallError> {
    let consumer = group_consumer(worker, connector, config)?;
    let metadata = consumer
        .fetch_metadata(None, TIMEOUT)
        .doing("read cluster metadata")?;
    let mut tpl = TopicPartitionList::new();
    for topic in metadata.topics() {
        for p in topic.partitions() {
            tpl.add_partition(topic.name(), p.id());
        }
    }
    if tpl.count() == 0 {
        return Ok(OffsetMap::new());
    }
    let committed = consumer
        .committed_offsets(tpl, TIMEOUT)
        .doing("read committed offsets")?;
    Ok(committed
        .elements()
        .iter()
        .filter_map(|e| match e.offset() {
            Offset::Offset(o) => Some((TopicPartition::new(e.topic(), e.partition()), o)),
            _ => None,
        })
        .collect())
}

/// Why offsets were not altered, the request's or the moment's fault
/// rather than the worker's (400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Partitions the cluster does not have.
    #[error("{} not in the Kafka cluster: their offsets cannot be altered", list(.0))]
    UnknownPartitions(Vec<TopicPartition>),
    /// The group still has members after [`TIMEOUT`]: tasks of the
    /// stopped connector that have not left yet (Connect's message).
    #[error(
        "Failed to alter consumer group offsets for connector {0} either because its tasks haven't stopped completely yet or the connector was resumed before the request to alter its offsets could be successfully completed. If the connector is in a stopped state, this operation can be safely retried. If it doesn't eventually succeed, the Connect cluster may need to be restarted to get rid of the zombie sink tasks."
    )]
    MembersRemain(String),
}

fn list(partitions: &[TopicPartition]) -> String {
    let names: Vec<String> = partitions.iter().map(ToString::to_string).collect();
    match names.as_slice() {
        [one] => format!("Partition {one} is"),
        _ => format!("Partitions {} are", names.join(", ")),
    }
}

/// Set (`Some`) or reset (`None`, back to `auto.offset.reset`) offsets of
/// some partitions. Only for a stopped connector: no member may hold them.
/// `Ok(Err(…))`: refused, and nothing was changed.
pub fn alter(
    worker: &WorkerConfig,
    connector: &str,
    config: &ConfigMap,
    changes: &[(TopicPartition, Option<i64>)],
) -> Result<Result<(), Refused>, KafkaCallError> {
    let consumer = group_consumer(worker, connector, config)?;
    // Every partition must exist (all topics' metadata: asking for one
    // topic by name could create it where the broker auto-creates).
    let metadata = consumer
        .fetch_metadata(None, TIMEOUT)
        .doing("read cluster metadata")?;
    let unknown: Vec<TopicPartition> = changes
        .iter()
        .map(|(tp, _)| tp)
        .filter(|tp| {
            !metadata.topics().iter().any(|t| {
                t.name() == &*tp.topic && t.partitions().iter().any(|p| p.id() == tp.partition)
            })
        })
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Ok(Err(Refused::UnknownPartitions(unknown)));
    }
    let mut tpl = TopicPartitionList::new();
    let mut reset = Vec::new();
    for (tp, offset) in changes {
        match offset {
            Some(o) => {
                tpl.add_partition_offset(&tp.topic, tp.partition, Offset::Offset(*o))
                    .doing(format!("set the offset of {tp}"))?;
            }
            None => reset.push(tp.clone()),
        }
    }
    if !reset.is_empty() {
        // Connect deletes these offsets (OffsetDelete). librdkafka aborts the
        // process when a broker lacks that API (confluentinc/librdkafka#3663,
        // seen here with tansu), so commit the position `auto.offset.reset`
        // would pick instead: the next start reads the same records.
        let (client, _) = consumer_config(worker, connector, None, config);
        let latest = client
            .get("auto.offset.reset")
            .is_some_and(|v| v == "latest" || v == "largest");
        for tp in reset {
            let (low, high) = consumer
                .fetch_watermarks(&tp.topic, tp.partition, TIMEOUT)
                .doing(format!("read watermarks of {tp}"))?;
            tpl.add_partition_offset(
                &tp.topic,
                tp.partition,
                Offset::Offset(if latest { high } else { low }),
            )
            .doing(format!("set the offset of {tp}"))?;
        }
    }
    if tpl.count() == 0 {
        return Ok(Ok(()));
    }
    // The tasks of a connector just stopped may still be leaving its group;
    // while a member remains, the broker refuses a commit from outside it.
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match consumer.commit(&tpl, CommitMode::Sync) {
            Ok(()) => return Ok(Ok(())),
            Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::UnknownMemberId)) => {
                if Instant::now() >= deadline {
                    return Ok(Err(Refused::MembersRemain(connector.to_string())));
                }
                std::thread::sleep(Duration::from_millis(250));
            }
            Err(e) => return Err(e).doing("commit offsets for group"),
        }
    }
}

/// Reset every partition: delete the group, falling back to committing the
/// reset position where the broker cannot delete groups.
pub fn reset(
    worker: &WorkerConfig,
    connector: &str,
    config: &ConfigMap,
) -> Result<(), KafkaCallError> {
    let (client, _) = consumer_config(worker, connector, None, config);
    let group = client.get("group.id").unwrap_or_default().to_string();
    let admin: AdminClient<DefaultClientContext> = client.create().doing("create admin client")?;
    // The admin client's futures are runtime-free: this runs on a blocking thread.
    let deleted = futures::executor::block_on(admin.delete_groups(
        &[&group],
        &AdminOptions::new().operation_timeout(Some(TIMEOUT)),
    ))
    .map(|results| results.into_iter().all(|r| r.is_ok()))
    .unwrap_or(false);
    if deleted && read(worker, connector, config)?.is_empty() {
        return Ok(());
    }
    let changes: Vec<_> = read(worker, connector, config)?
        .into_keys()
        .map(|tp| (tp, None))
        .collect();
    match alter(worker, connector, config, &changes)? {
        Ok(()) => Ok(()),
        // Deleted since they were read: no offsets left there; the rest.
        Err(Refused::UnknownPartitions(gone)) => {
            let rest: Vec<_> = changes
                .into_iter()
                .filter(|(tp, _)| !gone.contains(tp))
                .collect();
            alter(worker, connector, config, &rest).map(|_| ())
        }
        // Still refused after the retries: the commit failed.
        Err(Refused::MembersRemain(_)) => Err(KafkaCallError::Broker {
            action: "commit offsets for group".into(),
            code: RDKafkaErrorCode::UnknownMemberId,
        }),
    }
}
