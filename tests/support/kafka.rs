//! Producing, consuming and creating topics with rdkafka (bundled librdkafka).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

pub async fn create_topic(bootstrap: &str, topic: &str, partitions: i32) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    let results = admin
        .create_topics(
            [&NewTopic::new(
                topic,
                partitions,
                TopicReplication::Fixed(1),
            )],
            &AdminOptions::new(),
        )
        .await
        .expect("create topic");
    for r in results {
        r.expect("topic created");
    }
}

pub fn producer(bootstrap: &str) -> FutureProducer {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "5")
        .create()
        .unwrap()
}

/// One record to produce.
pub struct Rec {
    pub partition: i32,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<(String, Vec<u8>)>,
}

impl Rec {
    pub fn value(partition: i32, value: impl Into<Vec<u8>>) -> Self {
        Self {
            partition,
            key: None,
            value: Some(value.into()),
            headers: Vec::new(),
        }
    }
}

/// Produce in order, waiting for every acknowledgement.
pub async fn produce(producer: &FutureProducer, topic: &str, records: Vec<Rec>) {
    let mut pending = Vec::with_capacity(records.len());
    for r in &records {
        let mut headers = OwnedHeaders::new();
        for (k, v) in &r.headers {
            headers = headers.insert(Header {
                key: k,
                value: Some(v),
            });
        }
        let mut fr: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic)
            .partition(r.partition)
            .headers(headers);
        if let Some(k) = &r.key {
            fr = fr.key(k.as_slice());
        }
        if let Some(v) = &r.value {
            fr = fr.payload(v.as_slice());
        }
        pending.push(
            producer
                .send_result(fr)
                .map_err(|(e, _)| e)
                .expect("enqueue"),
        );
    }
    for p in pending {
        p.await
            .expect("delivery")
            .map_err(|(e, _)| e)
            .expect("acknowledged");
    }
}

/// Read every record of `topic` (all `partitions`) from the start until at
/// least `expect` arrived or `timeout` passed.
pub fn read_all(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    expect: usize,
    timeout: Duration,
) -> Vec<OwnedMessage> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("reader-{}", rand_suffix()))
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&tpl).unwrap();
    let mut out = Vec::new();
    let start = Instant::now();
    while out.len() < expect && start.elapsed() < timeout {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            out.push(m.detach());
        }
    }
    // Anything beyond `expect` that is already there is wanted too (duplicates).
    while let Some(Ok(m)) = consumer.poll(Duration::from_millis(500)) {
        out.push(m.detach());
    }
    out
}

/// Committed offsets of `group` for `topic`'s partitions.
pub fn committed(bootstrap: &str, group: &str, topic: &str, partitions: i32) -> HashMap<i32, i64> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition(topic, p);
    }
    let c = consumer
        .committed_offsets(tpl, Duration::from_secs(10))
        .unwrap();
    c.elements()
        .iter()
        .filter_map(|e| match e.offset() {
            Offset::Offset(o) => Some((e.partition(), o)),
            _ => None,
        })
        .collect()
}

pub fn header<'a>(m: &'a OwnedMessage, key: &str) -> Option<&'a str> {
    use rdkafka::message::Headers;
    m.headers()?
        .iter()
        .find(|h| h.key == key)
        .and_then(|h| h.value)
        .and_then(|v| std::str::from_utf8(v).ok())
}

pub fn payload_str(m: &OwnedMessage) -> String {
    String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned()
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}
