//! The `qdrant-embedding` sink: text from each record is embedded with a
//! sentence-transformer on libtorch and upserted into Qdrant in batches.
//!
//! - [`config`]: the connector's settings
//! - [`record_mapping`]: record → text, point id and payload
//! - [`embedder`]: the model, batching and devices
//! - [`qdrant_writer`]: collections and upserts over qdrant-client (gRPC)
//! - [`sink`]: the connector classes and their task
//! - `sink_metrics`: the task's Prometheus series

pub mod config;
pub mod embedder;
pub mod qdrant_writer;
pub mod record_mapping;
pub mod request_builder;
pub mod sink;
mod sink_metrics;

pub use sink::QdrantSinkPlugin;
