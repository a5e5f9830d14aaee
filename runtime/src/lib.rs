//! The worker runtime: how records get from Kafka into a sink.
//!
//! - [`herder`]: what should run (connector configs, target states, REST semantics)
//! - [`storage`]: where configs and statuses are kept (file, memory, Kafka)
//! - [`worker`]: runs connector instances and tasks on this process
//! - [`config_provider`]: `${provider:path:key}` references resolved at start, secrets masked
//! - [`sink_task`]: one task's poll → convert → put → commit loop
//! - [`converters`]: bytes → records
//! - [`transforms`]: Single Message Transforms and predicates
//! - [`errors`]: retries, tolerance, error log, dead-letter queue
//! - [`offsets`]: a connector's committed offsets
//! - [`monitoring`]: the Prometheus series of the worker and its tasks

pub mod config_provider;
pub mod connector_config;
pub mod converters;
pub mod errors;
pub mod herder;
pub mod kafka_error;
pub mod logging;
pub mod monitoring;
pub mod offsets;
pub mod plugins;
pub mod sink_task;
pub mod status;
pub mod storage;
pub mod tls;
pub mod transforms;
pub mod worker;
pub mod worker_config;

/// What the crate's unit tests share.
#[cfg(test)]
pub(crate) mod test_support {
    use connect_api::ConfigMap;

    /// A config map from `(key, value)` pairs.
    pub fn config_map(pairs: &[(&str, &str)]) -> ConfigMap {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}
