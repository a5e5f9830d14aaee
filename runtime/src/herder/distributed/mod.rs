//! The parts of the cluster herder (Connect's `DistributedHerder`, kept in
//! small named pieces): who runs what is [`assignment`]; the config and
//! status logs are the Kafka stores in [`crate::storage`].

pub mod assignment;
