use connect_api::Data;
use serde_json::Value;

use super::{ConversionError, Converter};

/// `org.apache.kafka.connect.json.JsonConverter`. With `schemas.enable=true`
/// (Connect's default) values must be `{"schema": …, "payload": …}` envelopes.
pub struct JsonConverter {
    pub schemas_enable: bool,
}

impl Converter for JsonConverter {
    fn class_name(&self) -> &'static str {
        "org.apache.kafka.connect.json.JsonConverter"
    }

    fn to_connect(&self, _topic: &str, bytes: Option<&[u8]>) -> Result<Data, ConversionError> {
        let Some(bytes) = bytes else {
            return Ok(Data::Null);
        };
        let value: Value = serde_json::from_slice(bytes).map_err(|e| {
            ConversionError::Data(format!(
                "Converting byte[] to Kafka Connect data failed due to serialization error: {e}"
            ))
        })?;
        if !self.schemas_enable {
            return Ok(Data::Json(value));
        }
        match value {
            Value::Object(mut envelope)
                if envelope.len() == 2 && envelope.contains_key("schema") && envelope.contains_key("payload") =>
            {
                Ok(Data::Json(envelope.remove("payload").unwrap_or(Value::Null)))
            }
            Value::Null => Ok(Data::Null),
            _ => Err(ConversionError::Data(
                "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain \
                 additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in \
                 your converter configuration."
                    .into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_enveloped_json() {
        let plain = JsonConverter {
            schemas_enable: false,
        };
        assert_eq!(
            plain.to_connect("t", Some(br#"{"a":1}"#)).unwrap(),
            Data::Json(serde_json::json!({"a":1}))
        );
        assert!(plain.to_connect("t", Some(b"{not json")).is_err());
        assert_eq!(plain.to_connect("t", None).unwrap(), Data::Null);

        let enveloped = JsonConverter {
            schemas_enable: true,
        };
        let v = enveloped
            .to_connect("t", Some(br#"{"schema":{"type":"string"},"payload":"hi"}"#))
            .unwrap();
        assert_eq!(v, Data::Json(Value::String("hi".into())));
        let err = enveloped.to_connect("t", Some(br#"{"a":1}"#)).unwrap_err();
        assert!(err.to_string().contains("schemas.enable"));
    }
}

/// JsonConverter's settings as Connect defines them (`JsonConverterConfig`).
/// `schemas.cache.size` and `decimal.format` only matter when writing JSON,
/// which a sink never does.
#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
pub(super) struct JsonConverterConfig {
    /// Include schemas within each of the serialized values and keys.
    #[schemars(rename = "schemas.enable", default = "yes", extend("x-importance" = "HIGH", "x-width" = "MEDIUM", "x-display-name" = "Enable Schemas", "x-order" = 0))]
    schemas_enable: bool,
    /// The maximum number of schemas that can be cached in this converter instance.
    #[schemars(rename = "schemas.cache.size", default = "thousand", extend("x-connect-type" = "INT", "x-importance" = "HIGH", "x-width" = "MEDIUM", "x-display-name" = "Schema Cache Size", "x-order" = 1))]
    schemas_cache_size: i32,
    /// Controls which format this converter will serialize decimals in. This value is case insensitive and can be either 'BASE64' (default) or 'NUMERIC'
    #[schemars(rename = "decimal.format", default = "base64", extend("x-importance" = "LOW", "x-width" = "MEDIUM", "x-display-name" = "Decimal Format", "x-group" = "Serialization", "x-order" = 0))]
    decimal_format: String,
    /// Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used.
    #[schemars(rename = "replace.null.with.default", default = "yes", extend("x-importance" = "LOW", "x-width" = "MEDIUM", "x-display-name" = "Replace null with default", "x-group" = "Serialization", "x-order" = 1))]
    replace_null_with_default: bool,
}

fn yes() -> bool {
    true
}
fn thousand() -> i32 {
    1000
}
fn base64() -> String {
    "BASE64".into()
}
