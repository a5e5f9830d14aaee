//! Connect's converters: raw Kafka bytes → [`Data`], chosen per connector
//! with `key.converter` / `value.converter` (class name or simple name).

mod avro;
mod byte_array;
mod json;
mod json_schema;
mod protobuf;
pub mod registry;
mod string;

use std::sync::Arc;

use connect_api::{ConfigDef, ConfigMap, Data};

pub use avro::AvroConverter;
pub use byte_array::ByteArrayConverter;
pub use json::JsonConverter;
/// A JSON value read under a Connect schema with JsonConverter's rules.
pub(crate) use json::to_value as value_from_json;
pub use json_schema::JsonSchemaConverter;
pub use protobuf::ProtobufConverter;
pub use string::StringConverter;

/// Why a converter could not read a record.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConversionError {
    /// The bytes are not what the converter reads: the record is poison
    /// (DLQ or task failure under `errors.tolerance`).
    #[error("{0}")]
    Data(String),
    /// A transient failure: retried until `errors.retry.timeout`.
    #[error("{0}")]
    Retriable(String),
    /// A service the converter needs (a schema registry) cannot be reached:
    /// retried with backoff until it answers, never sent to the DLQ.
    #[error("{0}")]
    Unavailable(String),
}

/// A record's headers as a converter reads them (Connect passes them to
/// `toConnectData`): the Schema Registry converters find Confluent 8's
/// `__key_schema_id` / `__value_schema_id` there.
pub trait Headers {
    /// The value of the last header named `key`, as Kafka's `lastHeader`.
    fn last(&self, key: &str) -> Option<&[u8]>;
}

/// No headers.
impl Headers for () {
    fn last(&self, _: &str) -> Option<&[u8]> {
        None
    }
}

impl Headers for rdkafka::message::OwnedHeaders {
    fn last(&self, key: &str) -> Option<&[u8]> {
        use rdkafka::message::Headers as _;
        self.iter().filter(|h| h.key == key).last()?.value
    }
}

impl Headers for [(String, Option<bytes::Bytes>)] {
    fn last(&self, key: &str) -> Option<&[u8]> {
        self.iter().rev().find(|(k, _)| k == key)?.1.as_deref()
    }
}

/// Where a record comes from (for converters' error messages), and its
/// headers.
#[derive(Clone, Copy)]
pub struct Origin<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
    pub headers: &'a dyn Headers,
}

impl std::fmt::Debug for Origin<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Origin({self})")
    }
}

impl Origin<'_> {
    /// Where a record the test and tool paths convert comes from: only a topic.
    pub fn topic(topic: &str) -> Origin<'_> {
        Origin {
            topic,
            partition: -1,
            offset: -1,
            headers: &(),
        }
    }
}

impl std::fmt::Display for Origin<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "topic {}, partition {}, offset {}",
            self.topic, self.partition, self.offset
        )
    }
}

/// Work a converter must finish before it can read a record; it owns what
/// it needs, so it outlives the record's bytes.
pub type Prepare = futures::future::BoxFuture<'static, Result<(), ConversionError>>;

pub trait Converter: Send + Sync {
    /// The class name reported in `__connect.errors.class.name`.
    fn class_name(&self) -> &'static str;
    fn to_connect(&self, at: Origin<'_>, bytes: Option<&[u8]>) -> Result<Data, ConversionError>;

    /// What must be fetched before `bytes` can be read (a Schema Registry
    /// converter's schema), or `None` when `to_connect` can go ahead:
    /// conversion itself stays synchronous on the hot path.
    fn prepare(&self, _at: Origin<'_>, _bytes: Option<&[u8]>) -> Option<Prepare> {
        None
    }
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
    ("io.confluent.connect.avro.AvroConverter", "AvroConverter"),
    (
        "io.confluent.connect.protobuf.ProtobufConverter",
        "ProtobufConverter",
    ),
    (
        "io.confluent.connect.json.JsonSchemaConverter",
        "JsonSchemaConverter",
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
        "io.confluent.connect.avro.AvroConverter" => {
            registry_def(converter_type).with(ConfigDef::from_schema::<avro::AvroDataConfig>(""))
        }
        "io.confluent.connect.json.JsonSchemaConverter" => {
            registry_def(converter_type).with(ConfigDef::from_schema::<
                json_schema::JsonSchemaDataConfig,
            >(""))
        }
        "io.confluent.connect.protobuf.ProtobufConverter" => registry_def(converter_type)
            .with(ConfigDef::from_schema::<protobuf::ProtobufDataConfig>("")),
        _ => converter_type,
    })
}

/// A Schema Registry converter's definitions: how it is used, then its
/// registry client's settings.
fn registry_def(converter_type: ConfigDef) -> ConfigDef {
    converter_type.with(ConfigDef::from_schema::<registry::RegistryClientConfig>(""))
}

/// Defaults of the converters' config definitions.
fn yes() -> bool {
    true
}
fn thousand() -> i32 {
    1000
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
    #[error("Missing required configuration \"{key}\" which has no default value.")]
    Missing { key: &'static str },
    #[error("Invalid configuration {key}: {reason}")]
    Unsupported { key: String, reason: &'static str },
    #[error("Invalid TLS settings: {0}")]
    Tls(String),
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
        "io.confluent.connect.json.JsonSchemaConverter" => Arc::new(json_schema::converter(
            registry::RegistryConfig::from_props(props)?,
            is_key(props),
            json_schema::Options::from_props(props),
        )),
        "io.confluent.connect.avro.AvroConverter" => Arc::new(avro::converter(
            registry::RegistryConfig::from_props(props)?,
            is_key(props),
            avro::Options::from_props(props),
        )),
        "io.confluent.connect.protobuf.ProtobufConverter" => Arc::new(protobuf::converter(
            registry::RegistryConfig::from_props(props)?,
            is_key(props),
            protobuf::Options::from_props(props),
        )),
        _ => Arc::new(ByteArrayConverter),
    })
}

/// The settings in `props` that converter `class` does not read. Connect's
/// converters ignore unknown settings silently, and many that configs carry
/// are serializer-side (`auto.register.schemas`, `*.subject.name.strategy`:
/// a sink only reads); the task names them in its log instead.
pub fn unread_settings<'a>(class: &str, props: &'a ConfigMap) -> Vec<&'a str> {
    let (read, registry): (&[&str], bool) = match full_name(class) {
        Some("org.apache.kafka.connect.json.JsonConverter") => (&["schemas.enable"], false),
        Some("org.apache.kafka.connect.storage.StringConverter") => {
            (&["converter.encoding"], false)
        }
        Some("io.confluent.connect.protobuf.ProtobufConverter") => (protobuf::SETTINGS, true),
        Some("io.confluent.connect.avro.AvroConverter") => (avro::SETTINGS, true),
        Some("io.confluent.connect.json.JsonSchemaConverter") => (json_schema::SETTINGS, true),
        Some(c) if c.starts_with("io.confluent.connect.") => (&[], true),
        _ => (&[], false),
    };
    let mut unread: Vec<&str> = props
        .keys()
        .map(String::as_str)
        .filter(|key| {
            *key != "converter.type"
                && !read.contains(key)
                && !(registry
                    && (registry::SETTINGS.contains(key)
                        || key.starts_with("schema.registry.ssl.")))
        })
        .collect();
    unread.sort_unstable();
    unread
}

/// Whether the converter reads keys (`converter.type=key`, which the
/// runtime sets as Connect's Worker does).
fn is_key(props: &ConfigMap) -> bool {
    props.get("converter.type").map(|t| t.trim()) == Some("key")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::config_map as props;

    #[test]
    fn registry_converters_define_exactly_the_settings_they_read() {
        for (class, own) in [
            ("AvroConverter", avro::SETTINGS),
            ("JsonSchemaConverter", json_schema::SETTINGS),
            ("ProtobufConverter", protobuf::SETTINGS),
        ] {
            let def = config_def(class).unwrap();
            let mut defined: Vec<&str> = def
                .keys
                .iter()
                .map(|k| k.name.as_str())
                .filter(|n| *n != "converter.type")
                .collect();
            defined.sort_unstable();
            let mut read: Vec<&str> = registry::SETTINGS
                .iter()
                .chain(registry::SSL_SETTINGS)
                .chain(own)
                .copied()
                .collect();
            read.sort_unstable();
            assert_eq!(defined, read, "{class}");
            let secrets: Vec<&str> = def
                .keys
                .iter()
                .filter(|k| k.kind == connect_api::ConfigType::Password)
                .map(|k| k.name.as_str())
                .collect();
            assert_eq!(
                secrets,
                [
                    "basic.auth.user.info",
                    "schema.registry.basic.auth.user.info",
                    "bearer.auth.token"
                ],
                "{class}"
            );
            assert!(def.key("schema.registry.url").unwrap().required);
            assert_eq!(
                def.key("schemas.cache.config")
                    .unwrap()
                    .default_value
                    .as_deref(),
                Some("1000")
            );
        }
    }

    #[test]
    fn unread_settings_are_named_and_read_ones_are_not() {
        let registry = props(&[
            ("converter.type", "value"),
            ("schema.registry.url", "http://r:8081"),
            ("basic.auth.credentials.source", "USER_INFO"),
            ("schema.registry.ssl.truststore.location", "/ca.pem"),
            ("auto.register.schemas", "false"),
            ("value.subject.name.strategy", "x.RecordNameStrategy"),
            ("int.for.enums", "true"),
            ("generalized.sum.type.support", "true"),
            ("connect.meta.data", "false"),
        ]);
        assert_eq!(
            unread_settings("io.confluent.connect.avro.AvroConverter", &registry),
            [
                "auto.register.schemas",
                "int.for.enums",
                "value.subject.name.strategy"
            ]
        );
        assert_eq!(
            unread_settings("ProtobufConverter", &registry),
            [
                "auto.register.schemas",
                "connect.meta.data",
                "value.subject.name.strategy"
            ]
        );
        assert_eq!(
            unread_settings("io.confluent.connect.json.JsonSchemaConverter", &registry),
            [
                "auto.register.schemas",
                "connect.meta.data",
                "int.for.enums",
                "value.subject.name.strategy"
            ]
        );
        let json = props(&[("schemas.enable", "false"), ("schema.registry.url", "u")]);
        assert_eq!(
            unread_settings("JsonConverter", &json),
            ["schema.registry.url"]
        );
        assert!(
            unread_settings(
                "StringConverter",
                &props(&[("converter.encoding", "UTF-8")])
            )
            .is_empty()
        );
    }
}
