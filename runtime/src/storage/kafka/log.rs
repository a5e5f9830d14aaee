//! One compacted topic read from the start by every worker (Connect's
//! `KafkaBasedLog`): a thread applies each record as it arrives, and a
//! write returns once this worker has read it back, so a read that follows
//! a write on the same worker sees it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::watch;

use crate::kafka_error::{Doing, KafkaCallError};
use crate::storage::StorageError;
use crate::worker_config::WorkerConfig;

/// How long a write waits to be read back, and start-up to read to the end.
const READ_BACK: Duration = Duration::from_secs(30);

/// Applies one record: its key, and its value (`None` for a tombstone).
pub type Apply = Box<dyn FnMut(&str, Option<&[u8]>) + Send>;

/// The topic to keep, as Connect's internal topics are kept.
#[derive(Debug, Clone)]
pub struct TopicSpec {
    pub name: String,
    pub partitions: i32,
    pub replication_factor: i32,
}

pub struct KafkaLog {
    topic: String,
    producer: FutureProducer,
    /// The next offset this worker has applied, per partition.
    progress: watch::Receiver<BTreeMap<i32, i64>>,
    /// Reads the topic's end offsets for [`KafkaLog::catch_up`], made once.
    ends: Arc<BaseConsumer>,
    stop: Arc<AtomicBool>,
    reader: Option<std::thread::JoinHandle<()>>,
}

/// A client of the worker's cluster with its `consumer.`/`producer.`/`admin.` settings.
pub(crate) fn client(worker: &WorkerConfig, prefix: &str) -> ClientConfig {
    let mut client = ClientConfig::new();
    client.set("bootstrap.servers", &worker.bootstrap_servers);
    for (k, v) in worker.with_prefix(prefix) {
        if k != "max.poll.records" {
            client.set(k, v);
        }
    }
    client
}

impl KafkaLog {
    /// Create the topic if it is absent (compacted), read it from the
    /// start, and return once every record present now has been applied.
    pub async fn open(
        worker: &WorkerConfig,
        spec: &TopicSpec,
        apply: Apply,
    ) -> Result<Self, StorageError> {
        create_topic(worker, spec).await?;
        let mut consumer_client = client(worker, "consumer.");
        consumer_client
            .set("group.id", format!("connect-host-log-{}", spec.name))
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest");
        let consumer: BaseConsumer = consumer_client
            .create()
            .doing(format!("create a reader of {}", spec.name))?;
        let end_reader: BaseConsumer = consumer_client
            .create()
            .doing(format!("create a reader of {}", spec.name))?;
        let topic = spec.name.clone();
        let (ends, consumer) = tokio::task::spawn_blocking(move || {
            let ends = read_ends(&consumer, &topic)?;
            let mut tpl = TopicPartitionList::new();
            for partition in ends.keys() {
                tpl.add_partition_offset(&topic, *partition, Offset::Beginning)
                    .doing(format!("assign {topic}-{partition}"))?;
            }
            consumer
                .assign(&tpl)
                .doing(format!("assign the partitions of {topic}"))?;
            Ok::<_, KafkaCallError>((ends, consumer))
        })
        .await
        .map_err(|e| StorageError::Backend(format!("reader start panicked: {e}")))??;

        let (progress_tx, progress) = watch::channel(BTreeMap::new());
        let stop = Arc::new(AtomicBool::new(false));
        let reader = {
            let stop = stop.clone();
            let topic = spec.name.clone();
            std::thread::Builder::new()
                .name(format!("log-{topic}"))
                .spawn(move || read(consumer, apply, progress_tx, stop, topic))
                .map_err(|e| StorageError::Backend(format!("cannot start the reader: {e}")))?
        };
        let producer: FutureProducer = client(worker, "producer.")
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .create()
            .doing(format!("create a writer of {}", spec.name))?;
        let log = Self {
            topic: spec.name.clone(),
            producer,
            progress,
            ends: Arc::new(end_reader),
            stop,
            reader: Some(reader),
        };
        log.read_to(&ends).await?;
        Ok(log)
    }

    /// Wait until every partition has been applied up to `ends`.
    async fn read_to(&self, ends: &BTreeMap<i32, i64>) -> Result<(), StorageError> {
        self.wait_until(|applied| {
            ends.iter()
                .all(|(p, end)| applied.get(p).copied().unwrap_or(0) >= *end)
        })
        .await
    }

    /// Write a record (a tombstone when `value` is `None`) and wait until
    /// this worker has read it back.
    pub async fn write(&self, key: &str, value: Option<&[u8]>) -> Result<(), StorageError> {
        let mut record = FutureRecord::<str, [u8]>::to(&self.topic).key(key);
        if let Some(value) = value {
            record = record.payload(value);
        }
        let delivered = self
            .producer
            .send(record, READ_BACK)
            .await
            .map_err(|(e, _)| e)
            .doing(format!("write {key} to {}", self.topic))?;
        let (partition, offset) = (delivered.partition, delivered.offset);
        self.wait_until(|applied| applied.get(&partition).is_some_and(|next| *next > offset))
            .await
    }

    /// Wait until this worker has read everything written to the topic so
    /// far (by any worker): a read that follows sees it.
    pub async fn catch_up(&self) -> Result<(), StorageError> {
        let (consumer, topic) = (self.ends.clone(), self.topic.clone());
        let ends = tokio::task::spawn_blocking(move || read_ends(&consumer, &topic))
            .await
            .map_err(|e| StorageError::Backend(format!("catching up panicked: {e}")))??;
        self.read_to(&ends).await
    }

    /// Queue a record without waiting: records queued one after another
    /// are written in that order. Failures are logged.
    pub fn enqueue(&self, key: &str, value: Option<&[u8]>) {
        let mut record = FutureRecord::<str, [u8]>::to(&self.topic).key(key);
        if let Some(value) = value {
            record = record.payload(value);
        }
        match self.producer.send_result(record) {
            Ok(delivery) => {
                let key = key.to_string();
                let watch = async move {
                    if let Ok(Err((e, _))) = delivery.await {
                        tracing::warn!(key, "cannot write to an internal topic: {e}");
                    }
                };
                if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                    runtime.spawn(watch);
                }
            }
            Err((e, _)) => tracing::warn!(key, "cannot queue a write to an internal topic: {e}"),
        }
    }

    async fn wait_until(
        &self,
        done: impl Fn(&BTreeMap<i32, i64>) -> bool,
    ) -> Result<(), StorageError> {
        let mut progress = self.progress.clone();
        match tokio::time::timeout(READ_BACK, progress.wait_for(|p| done(p))).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(_)) => Err(StorageError::Backend(format!(
                "the reader of {} stopped",
                self.topic
            ))),
            Err(_) => Err(StorageError::Backend(format!(
                "{} was not read back within {READ_BACK:?}",
                self.topic
            ))),
        }
    }
}

impl Drop for KafkaLog {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

/// The end offset of every partition of `topic`.
fn read_ends(consumer: &BaseConsumer, topic: &str) -> Result<BTreeMap<i32, i64>, KafkaCallError> {
    let metadata = consumer
        .fetch_metadata(Some(topic), READ_BACK)
        .doing(format!("read the metadata of {topic}"))?;
    let partitions: Vec<i32> = metadata
        .topics()
        .iter()
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    let mut ends = BTreeMap::new();
    for partition in partitions {
        let (_, high) = consumer
            .fetch_watermarks(topic, partition, READ_BACK)
            .doing(format!("read the end of {topic}-{partition}"))?;
        ends.insert(partition, high);
    }
    Ok(ends)
}

fn read(
    consumer: BaseConsumer,
    mut apply: Apply,
    progress: watch::Sender<BTreeMap<i32, i64>>,
    stop: Arc<AtomicBool>,
    topic: String,
) {
    while !stop.load(Ordering::SeqCst) {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(message)) => {
                let key = message
                    .key()
                    .map(String::from_utf8_lossy)
                    .unwrap_or_default();
                apply(&key, message.payload());
                let (partition, next) = (message.partition(), message.offset() + 1);
                progress.send_modify(|p| {
                    p.insert(partition, next);
                });
            }
            Some(Err(e)) => tracing::warn!(topic, "cannot read the internal topic: {e}"),
            None => {}
        }
    }
}

pub(crate) async fn create_topic(
    worker: &WorkerConfig,
    spec: &TopicSpec,
) -> Result<(), StorageError> {
    let admin: AdminClient<DefaultClientContext> = client(worker, "admin.")
        .create()
        .doing("create an admin client")?;
    let topic = NewTopic::new(
        &spec.name,
        spec.partitions,
        TopicReplication::Fixed(spec.replication_factor),
    )
    .set("cleanup.policy", "compact");
    let options = AdminOptions::new().operation_timeout(Some(READ_BACK));
    let results = admin
        .create_topics([&topic], &options)
        .await
        .doing(format!("create topic {}", spec.name))?;
    for result in results {
        match result {
            Ok(_) => tracing::info!(topic = spec.name, "created internal topic"),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => {
                return Err(KafkaCallError::Broker {
                    action: format!("create topic {name}"),
                    code,
                }
                .into());
            }
        }
    }
    Ok(())
}

/// Read a JSON record value, or say (once, in the log) why it is skipped.
pub fn json<T: serde::de::DeserializeOwned>(topic: &str, key: &str, value: &[u8]) -> Option<T> {
    match serde_json::from_slice(value) {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::warn!(topic, key, "skipping a record this worker cannot read: {e}");
            None
        }
    }
}
