use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::message::{Header, Headers, Message, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, Timestamp};

use super::ErrorContext;
use crate::kafka_error::{Doing, KafkaCallError};

/// Writes poison records, unchanged, to the dead-letter topic, with Connect's
/// `__connect.errors.*` headers when context headers are enabled.
pub struct DeadLetterQueue {
    producer: FutureProducer,
    topic: String,
    context_headers: bool,
    connector: String,
    task_id: u32,
}

impl DeadLetterQueue {
    /// Creates the topic if it does not exist (as Connect does), then the producer.
    pub async fn open(
        client: ClientConfig,
        topic: String,
        replication_factor: i32,
        context_headers: bool,
        connector: String,
        task_id: u32,
    ) -> Result<Self, KafkaCallError> {
        let admin: AdminClient<DefaultClientContext> =
            client.create().doing("create admin client for the DLQ")?;
        let new_topic = NewTopic::new(&topic, 1, TopicReplication::Fixed(replication_factor));
        let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        match admin.create_topics([&new_topic], &options).await {
            Ok(results) => {
                for result in results {
                    if let Err((name, code)) = result
                        && code != RDKafkaErrorCode::TopicAlreadyExists
                    {
                        return Err(KafkaCallError::Broker {
                            action: format!("create dead letter queue topic '{name}'"),
                            code,
                        });
                    }
                }
            }
            Err(e) => {
                return Err(e).doing(format!("create dead letter queue topic '{topic}'"));
            }
        }
        let producer: FutureProducer = client
            .clone()
            .set("enable.idempotence", "true")
            .create()
            .doing("create the DLQ producer")?;
        Ok(Self {
            producer,
            topic,
            context_headers,
            connector,
            task_id,
        })
    }

    /// Send one record and wait for the broker's acknowledgement, so its
    /// offset is committed only once the DLQ holds it.
    pub async fn send(
        &self,
        original: &OwnedMessage,
        ctx: &ErrorContext,
    ) -> Result<(), KafkaCallError> {
        let mut headers = OwnedHeaders::new();
        if let Some(orig) = original.headers() {
            for h in orig.iter() {
                headers = headers.insert(Header {
                    key: h.key,
                    value: h.value,
                });
            }
        }
        if self.context_headers {
            let partition = original.partition().to_string();
            let offset = original.offset().to_string();
            let task = self.task_id.to_string();
            let stage = ctx.stage.as_str();
            let trace = ctx.trace();
            let entries: [(&str, &str); 10] = [
                ("__connect.errors.topic", original.topic()),
                ("__connect.errors.partition", &partition),
                ("__connect.errors.offset", &offset),
                ("__connect.errors.connector.name", &self.connector),
                ("__connect.errors.task.id", &task),
                ("__connect.errors.stage", stage),
                ("__connect.errors.class.name", &ctx.executing_class),
                (
                    "__connect.errors.exception.class.name",
                    &ctx.exception_class,
                ),
                ("__connect.errors.exception.message", &ctx.message),
                ("__connect.errors.exception.stacktrace", &trace),
            ];
            for (key, value) in entries {
                headers = headers.insert(Header {
                    key,
                    value: Some(value.as_bytes()),
                });
            }
        }
        let mut record: FutureRecord<'_, [u8], [u8]> =
            FutureRecord::to(&self.topic).headers(headers);
        if let Some(key) = original.key() {
            record = record.key(key);
        }
        if let Some(payload) = original.payload() {
            record = record.payload(payload);
        }
        if let Timestamp::CreateTime(ts) | Timestamp::LogAppendTime(ts) = original.timestamp() {
            record = record.timestamp(ts);
        }
        self.producer
            .send(record, Duration::from_secs(30))
            .await
            .map(|_| ())
            .map_err(|(e, _)| e)
            .doing(format!("write to dead letter queue topic '{}'", self.topic))
    }
}
