//! A failed Kafka client call, named by what it was for, so the REST
//! answer and the log say "cannot read committed offsets: …".

use rdkafka::error::{KafkaError, RDKafkaErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum KafkaCallError {
    /// The client itself failed (build, timeout, transport). The cause is
    /// in the message, not chained, so a trace says it once.
    #[error("cannot {action}: {cause}")]
    Client { action: String, cause: KafkaError },
    /// The broker answered with an error code.
    #[error("cannot {action}: {code}")]
    Broker {
        action: String,
        code: RDKafkaErrorCode,
    },
}

/// Names what a Kafka call was for.
pub trait Doing<T> {
    fn doing(self, action: impl Into<String>) -> Result<T, KafkaCallError>;
}

impl<T> Doing<T> for Result<T, KafkaError> {
    fn doing(self, action: impl Into<String>) -> Result<T, KafkaCallError> {
        self.map_err(|cause| KafkaCallError::Client {
            action: action.into(),
            cause,
        })
    }
}
