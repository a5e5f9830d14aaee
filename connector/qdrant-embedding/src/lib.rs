//! The `qdrant-embedding` sink: text from each record is embedded with a
//! sentence-transformer on libtorch and upserted into Qdrant in batches.
//!
//! - [`config`]: the connector's settings
//! - [`record_mapping`]: record → text, point id and payload
//! - [`embedder`]: the model, batching and devices
//! - [`qdrant_writer`]: collections and upserts over qdrant-client (gRPC)
//! - [`sink`]: the connector and its task

pub mod embedder;
