//! Connect's converters: raw Kafka bytes → [`Data`], chosen per connector
//! with `key.converter` / `value.converter` (class name or simple name).

mod byte_array;
mod json;
mod string;

use std::sync::Arc;

use connect_api::{ConfigDef, ConfigMap, Data};

pub use byte_array::ByteArrayConverter;
pub use json::JsonConverter;
pub use string::StringConverter;

/// Why a converter could not read a record.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConversionError {
    /// The bytes are not what the converter reads: the record is poison
    /// (DLQ or task failure under `errors.tolerance`).
    #[error("{0}")]
    Data(String),
    /// Something the converter needs is unavailable for now (e.g. a schema
    /// registry): retried until `errors.retry.timeout`.
    #[error("{0}")]
    Retriable(String),
}

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

/// The full class name of a converter this host ships, given its full or
/// simple name.
fn full_name(class: &str) -> Option<&'static str> {
    CONVERTERS
        .iter()
        .find(|(full, simple)| *full == class || *simple == class)
        .map(|(full, _)| *full)
}

/// Kafka's header converters: SimpleHeaderConverter, and the converters
/// that also implement HeaderConverter. Sinks here receive header values
/// as their raw bytes whichever is named.
pub fn is_header_converter(class: &str) -> bool {
    let class = class.trim();
    class == "org.apache.kafka.connect.storage.SimpleHeaderConverter"
        || class == "SimpleHeaderConverter"
        || full_name(class).is_some()
}

/// Connect's config definitions of a converter class (what
/// `GET /connector-plugins/{converter}/config` serves), by full or simple name.
pub fn config_def(class: &str) -> Option<ConfigDef> {
    let full = full_name(class)?;
    let converter_type = ConfigDef::from_schema::<ConverterTypeConfig>("");
    Some(match full {
        "org.apache.kafka.connect.json.JsonConverter" => converter_type.with(
            ConfigDef::from_schema::<json::JsonConverterConfig>("Schemas"),
        ),
        "org.apache.kafka.connect.storage.StringConverter" => {
            converter_type.with(ConfigDef::from_schema::<string::StringConverterConfig>(""))
        }
        _ => converter_type,
    })
}

/// Connect's `ConverterConfig`: how a converter is used.
#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
struct ConverterTypeConfig {
    /// How this converter will be used.
    #[schemars(rename = "converter.type", extend("x-importance" = "LOW", "x-order" = -1))]
    converter_type: ConverterType,
}

#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
enum ConverterType {
    #[schemars(rename = "key")]
    Key,
    #[schemars(rename = "value")]
    Value,
    #[schemars(rename = "header")]
    Header,
}

/// A converter that cannot be built as configured.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConverterConfigError {
    #[error("Class {class} could not be found. Known converters: {known}")]
    UnknownClass { class: String, known: String },
    #[error("Invalid value {value} for configuration {key}: {reason}")]
    InvalidValue {
        key: &'static str,
        value: String,
        reason: &'static str,
    },
}

/// Build the converter `class` (full or simple name) configured by `props`
/// (the settings under `key.converter.` / `value.converter.`).
pub fn create(class: &str, props: &ConfigMap) -> Result<Arc<dyn Converter>, ConverterConfigError> {
    let full = full_name(class).ok_or_else(|| ConverterConfigError::UnknownClass {
        class: class.to_string(),
        known: CONVERTERS
            .iter()
            .map(|(f, _)| *f)
            .collect::<Vec<_>>()
            .join(", "),
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
                Some(value) => {
                    return Err(ConverterConfigError::InvalidValue {
                        key: "schemas.enable",
                        value,
                        reason: "Expected value to be either true or false",
                    });
                }
            };
            Arc::new(JsonConverter { schemas_enable })
        }
        "org.apache.kafka.connect.storage.StringConverter" => {
            if let Some(encoding) = props
                .get("converter.encoding")
                .filter(|e| !matches!(e.trim().to_ascii_uppercase().as_str(), "UTF-8" | "UTF8"))
            {
                return Err(ConverterConfigError::InvalidValue {
                    key: "converter.encoding",
                    value: encoding.clone(),
                    reason: "this host decodes UTF-8 only",
                });
            }
            Arc::new(StringConverter)
        }
        _ => Arc::new(ByteArrayConverter),
    })
}
