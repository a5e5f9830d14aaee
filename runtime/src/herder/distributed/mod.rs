//! The cluster herder (Connect's `DistributedHerder`), kept in small named
//! pieces: who runs what ([`assignment`]), who leads ([`membership`]), the
//! leader's duties (`leader.rs`), carrying out the assignment on this
//! worker (`apply.rs`), and the Herder itself (`herder.rs`). The config and
//! status logs are the Kafka stores in [`crate::storage`].

mod apply;
pub mod assignment;
mod herder;
mod leader;
pub mod membership;

pub use herder::DistributedHerder;
