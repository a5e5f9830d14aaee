//! The stores of a cluster: Connect's internal config and status topics.

mod config;
mod log;
mod status;

pub use config::KafkaConfigStore;
pub use status::KafkaStatusStore;
