//! The stores of a cluster: Connect's internal config and status topics.

mod config;
pub(crate) mod log;
mod status;

pub use config::{KafkaConfigStore, RestartRecord};
pub use status::{Heartbeat, KafkaStatusStore};
