//! Connect's converters: raw Kafka bytes → [`Data`], chosen per connector
//! with `key.converter` / `value.converter` (class name or simple name).

mod byte_array;
mod json;
mod string;

use std::sync::Arc;

use connect_api::{ConfigMap, Data};

pub use byte_array::ByteArrayConverter;
pub use json::JsonConverter;
pub use string::StringConverter;

/// A conversion failure: the record is poison (DLQ or task failure).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct ConversionError(pub String);

pub trait Converter: Send + Sync {
    /// The class name reported in `__connect.errors.class.name`.
    fn class_name(&self) -> &'static str;
    fn to_connect(&self, topic: &str, bytes: Option<&[u8]>) -> Result<Data, ConversionError>;
}

/// (class name, simple name) of every converter this host ships.
pub const CONVERTERS: &[(&str, &str)] = &[
    (
        "org.apache.kafka.connect.json.JsonConverter",
        "JsonConverter",
    ),
    (
        "org.apache.kafka.connect.storage.StringConverter",
        "StringConverter",
    ),
    (
        "org.apache.kafka.connect.converters.ByteArrayConverter",
        "ByteArrayConverter",
    ),
];

/// Build the converter `class` (full or simple name) configured by `props`
/// (the settings under `key.converter.` / `value.converter.`).
pub fn create(class: &str, props: &ConfigMap) -> Result<Arc<dyn Converter>, String> {
    let full = CONVERTERS
        .iter()
        .find(|(full, simple)| *full == class || *simple == class)
        .map(|(full, _)| *full)
        .ok_or_else(|| {
            format!(
                "Class {class} could not be found; known converters: {}",
                CONVERTERS
                    .iter()
                    .map(|(f, _)| *f)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
    Ok(match full {
        "org.apache.kafka.connect.json.JsonConverter" => {
            let schemas_enable = match props
                .get("schemas.enable")
                .map(|s| s.trim().to_ascii_lowercase())
            {
                None => true,
                Some(v) if v == "true" => true,
                Some(v) if v == "false" => false,
                Some(v) => {
                    return Err(format!(
                        "Invalid value {v} for configuration schemas.enable: Expected value to be either true or false"
                    ));
                }
            };
            Arc::new(JsonConverter { schemas_enable })
        }
        "org.apache.kafka.connect.storage.StringConverter" => Arc::new(StringConverter),
        _ => Arc::new(ByteArrayConverter),
    })
}
