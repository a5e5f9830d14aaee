use std::sync::Arc;

use base64::Engine as _;
use connect_api::Data;
use connect_api::schema::{self, Field, Logical, Schema, SchemaAndValue, SchemaKind};
use serde_json::Value;

use super::{ConversionError, Converter, Origin};

/// `org.apache.kafka.connect.json.JsonConverter`. With `schemas.enable=true`
/// (Connect's default) values must be `{"schema": …, "payload": …}` envelopes;
/// the envelope's schema is kept, so the value becomes [`Data::Typed`].
pub struct JsonConverter {
    pub schemas_enable: bool,
}

impl Converter for JsonConverter {
    fn class_name(&self) -> &'static str {
        "org.apache.kafka.connect.json.JsonConverter"
    }

    fn to_connect(&self, _at: Origin<'_>, bytes: Option<&[u8]>) -> Result<Data, ConversionError> {
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
                let payload = envelope.remove("payload").unwrap_or(Value::Null);
                match envelope.remove("schema") {
                    None | Some(Value::Null) => Ok(Data::Json(payload)),
                    Some(schema) => {
                        let schema = parse_schema(&schema).map_err(ConversionError::Data)?;
                        let value = to_value(&schema, &payload).map_err(ConversionError::Data)?;
                        Ok(Data::Typed(SchemaAndValue::new(schema, value)))
                    }
                }
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

/// A schema in JsonConverter's envelope format (`{"type":"struct","fields":[…]}`).
pub fn parse_schema(json: &Value) -> Result<Schema, String> {
    let obj = json
        .as_object()
        .ok_or_else(|| format!("Schema must be a JSON object, found {json}"))?;
    let type_name = obj
        .get("type")
        .and_then(Value::as_str)
        .ok_or("Schema must contain 'type' field")?;
    let sub = |key: &str| -> Result<Arc<Schema>, String> {
        let s = obj
            .get(key)
            .ok_or_else(|| format!("{type_name} schema did not specify the {key} type"))?;
        parse_schema(s).map(Arc::new)
    };
    let kind = match type_name {
        "int8" => SchemaKind::Int8,
        "int16" => SchemaKind::Int16,
        "int32" => SchemaKind::Int32,
        "int64" => SchemaKind::Int64,
        "float" => SchemaKind::Float32,
        "double" => SchemaKind::Float64,
        "boolean" => SchemaKind::Boolean,
        "string" => SchemaKind::String,
        "bytes" => SchemaKind::Bytes,
        "array" => SchemaKind::Array(sub("items")?),
        "map" => SchemaKind::Map {
            key: sub("keys")?,
            value: sub("values")?,
        },
        "struct" => {
            let fields = obj
                .get("fields")
                .and_then(Value::as_array)
                .ok_or("Struct schema's \"fields\" argument is not an array.")?;
            let mut out = Vec::with_capacity(fields.len());
            for f in fields {
                let name = f
                    .get("field")
                    .and_then(Value::as_str)
                    .ok_or("Struct schema's field name not specified properly")?;
                out.push(Field::new(name, parse_schema(f)?));
            }
            SchemaKind::Struct(out)
        }
        other => return Err(format!("Unknown schema type: {other}")),
    };
    let mut schema = Schema::new(kind);
    schema.optional = obj
        .get("optional")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    schema.name = obj.get("name").and_then(Value::as_str).map(str::to_string);
    schema.version = obj
        .get("version")
        .and_then(Value::as_i64)
        .and_then(|v| i32::try_from(v).ok());
    schema.doc = obj.get("doc").and_then(Value::as_str).map(str::to_string);
    if let Some(params) = obj.get("parameters").and_then(Value::as_object) {
        for (k, v) in params {
            let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
            schema.parameters.insert(k.clone(), v);
        }
    }
    if let Some(default) = obj.get("default").filter(|d| !d.is_null()) {
        schema.default = Some(to_value(&schema, default)?);
    }
    Ok(schema)
}

/// The struct Confluent's `JsonSchemaData` makes of a general `oneOf` /
/// `anyOf`: one optional field per branch, `<name>.field.<i>`, the one the
/// value matched set.
pub const ONE_OF: &str = "io.confluent.connect.json.OneOf";

/// A value read under a [`ONE_OF`] struct, as `JsonSchemaData` reads it:
/// the first branch whose type the JSON value simply is, else the first
/// branch it converts under.
fn one_of(fields: &[Field], json: &Value) -> Result<schema::Value, String> {
    let simply = |kind: &SchemaKind| match kind {
        SchemaKind::Int8 | SchemaKind::Int16 | SchemaKind::Int32 | SchemaKind::Int64 => {
            json.is_i64() || json.is_u64()
        }
        SchemaKind::Float32 | SchemaKind::Float64 => json.is_f64(),
        SchemaKind::Boolean => json.is_boolean(),
        SchemaKind::String | SchemaKind::Bytes => json.is_string(),
        SchemaKind::Array(_) => json.is_array(),
        SchemaKind::Map { .. } | SchemaKind::Struct(_) => json.is_object(),
    };
    let first = fields.iter().position(|f| simply(&f.schema.kind));
    let rest = (0..fields.len()).filter(|i| Some(*i) != first);
    let branches = first.into_iter().chain(rest);
    for i in branches {
        if let Ok(value) = to_value(&fields[i].schema, json) {
            let mut values = vec![schema::Value::Null; fields.len()];
            values[i] = value;
            return Ok(schema::Value::Struct(values));
        }
    }
    Err(format!(
        "Did not find matching oneof field for data: {json}"
    ))
}

/// Whether `schema` is the struct `JsonSchemaData` makes of a general
/// `oneOf` / `anyOf`: named [`ONE_OF`], or under
/// `generalized.sum.type.support` marked as Connect's `Union`.
fn is_one_of(schema: &Schema) -> bool {
    schema.name.as_deref() == Some(ONE_OF)
        || schema
            .parameters
            .contains_key(super::registry::CONNECT_UNION)
}

/// A payload read under its envelope schema, as JsonConverter's
/// `convertToConnect` reads it: null takes the default, or is allowed when
/// optional; decimals are base64 (or, with `decimal.format=NUMERIC`, numbers).
pub fn to_value(schema: &Schema, json: &Value) -> Result<schema::Value, String> {
    use schema::Value as V;
    if json.is_null() {
        return match (&schema.default, schema.optional) {
            (Some(d), _) => Ok(d.clone()),
            (None, true) => Ok(V::Null),
            (None, false) => Err(format!(
                "Invalid null value for required {} field",
                schema.kind.type_name()
            )),
        };
    }
    let mismatch = || {
        format!(
            "Invalid type for {}: {}",
            schema.kind.type_name(),
            connect_api::config::json_kind(json)
        )
    };
    let int = || json.as_i64().ok_or_else(mismatch);
    if let Some(Logical::Decimal { scale }) = schema.logical() {
        return match json {
            Value::String(b64) => base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map(|b| V::Bytes(b.into()))
                .map_err(|e| format!("Invalid bytes field: {e}")),
            Value::Number(n) => schema::decimal_bytes(&n.to_string(), scale)
                .map(V::Bytes)
                .ok_or_else(|| format!("Invalid decimal {n} for scale {scale}")),
            _ => Err(mismatch()),
        };
    }
    Ok(match &schema.kind {
        SchemaKind::Int8 => V::Int8(i8::try_from(int()?).map_err(|_| mismatch())?),
        SchemaKind::Int16 => V::Int16(i16::try_from(int()?).map_err(|_| mismatch())?),
        SchemaKind::Int32 => V::Int32(i32::try_from(int()?).map_err(|_| mismatch())?),
        SchemaKind::Int64 => V::Int64(int()?),
        SchemaKind::Float32 => V::Float32(json.as_f64().ok_or_else(mismatch)? as f32),
        SchemaKind::Float64 => V::Float64(json.as_f64().ok_or_else(mismatch)?),
        SchemaKind::Boolean => V::Boolean(json.as_bool().ok_or_else(mismatch)?),
        SchemaKind::String => V::String(json.as_str().ok_or_else(mismatch)?.to_string()),
        SchemaKind::Bytes => V::Bytes(
            base64::engine::general_purpose::STANDARD
                .decode(json.as_str().ok_or_else(mismatch)?)
                .map_err(|e| format!("Invalid bytes field: {e}"))?
                .into(),
        ),
        SchemaKind::Array(element) => V::Array(
            json.as_array()
                .ok_or_else(mismatch)?
                .iter()
                .map(|v| to_value(element, v))
                .collect::<Result<_, _>>()?,
        ),
        SchemaKind::Map { key, value } => match json {
            Value::Object(m) if key.kind == SchemaKind::String => V::Map(
                m.iter()
                    .map(|(k, v)| Ok((V::String(k.clone()), to_value(value, v)?)))
                    .collect::<Result<_, String>>()?,
            ),
            Value::Array(pairs) => V::Map(
                pairs
                    .iter()
                    .map(|pair| match pair.as_array().map(Vec::as_slice) {
                        Some([k, v]) => Ok((to_value(key, k)?, to_value(value, v)?)),
                        _ => Err("Found invalid map entry instead of array tuple".to_string()),
                    })
                    .collect::<Result<_, String>>()?,
            ),
            _ => return Err(mismatch()),
        },
        SchemaKind::Struct(fields) if is_one_of(schema) => one_of(fields, json)?,
        SchemaKind::Struct(fields) => {
            let obj = json.as_object().ok_or_else(mismatch)?;
            V::Struct(
                fields
                    .iter()
                    .map(|f| to_value(&f.schema, obj.get(&f.name).unwrap_or(&Value::Null)))
                    .collect::<Result<_, _>>()?,
            )
        }
    })
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
            plain
                .to_connect(Origin::topic("t"), Some(br#"{"a":1}"#))
                .unwrap(),
            Data::Json(serde_json::json!({"a":1}))
        );
        assert!(
            plain
                .to_connect(Origin::topic("t"), Some(b"{not json"))
                .is_err()
        );
        assert_eq!(
            plain.to_connect(Origin::topic("t"), None).unwrap(),
            Data::Null
        );

        let enveloped = JsonConverter {
            schemas_enable: true,
        };
        let v = enveloped
            .to_connect(
                Origin::topic("t"),
                Some(br#"{"schema":null,"payload":"hi"}"#),
            )
            .unwrap();
        assert_eq!(v, Data::Json(Value::String("hi".into())));
        let err = enveloped
            .to_connect(Origin::topic("t"), Some(br#"{"a":1}"#))
            .unwrap_err();
        assert!(err.to_string().contains("schemas.enable"));
    }

    #[test]
    fn the_envelope_schema_is_kept() {
        let enveloped = JsonConverter {
            schemas_enable: true,
        };
        let bytes = br#"{"schema":{"type":"struct","name":"shop.Product","version":2,"fields":[
            {"field":"id","type":"int64"},
            {"field":"price","type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2"}},
            {"field":"day","type":"int32","name":"org.apache.kafka.connect.data.Date","optional":true},
            {"field":"tags","type":"array","items":{"type":"string"}},
            {"field":"qty","type":"int32","default":1}
        ]},"payload":{"id":7,"price":"BOI=","day":19844,"tags":["a"],"qty":null}}"#;
        let Data::Typed(v) = enveloped
            .to_connect(Origin::topic("t"), Some(bytes))
            .unwrap()
        else {
            panic!("not typed")
        };
        assert_eq!(v.schema.name.as_deref(), Some("shop.Product"));
        assert_eq!(v.schema.version, Some(2));
        assert_eq!(v.schema.fields().len(), 5);
        assert_eq!(
            v.to_json(),
            serde_json::json!({"id": 7, "price": 12.5, "day": "2024-05-01", "tags": ["a"], "qty": 1})
        );
        let missing = br#"{"schema":{"type":"struct","fields":[{"field":"id","type":"int64"}]},"payload":{}}"#;
        let err = enveloped
            .to_connect(Origin::topic("t"), Some(missing))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid null value for required INT64 field"
        );
        let wrong = br#"{"schema":{"type":"int8"},"payload":300}"#;
        assert!(
            enveloped
                .to_connect(Origin::topic("t"), Some(wrong))
                .is_err()
        );
    }
}

/// JsonConverter's settings as Connect defines them (`JsonConverterConfig`).
/// `schemas.cache.size` and `decimal.format` only matter when writing JSON,
/// which a sink never does.
#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
pub(super) struct JsonConverterConfig {
    /// Include schemas within each of the serialized values and keys.
    #[schemars(rename = "schemas.enable", default = "super::yes", extend("x-importance" = "HIGH", "x-width" = "MEDIUM", "x-display-name" = "Enable Schemas", "x-order" = 0))]
    schemas_enable: bool,
    /// The maximum number of schemas that can be cached in this converter instance.
    #[schemars(rename = "schemas.cache.size", default = "super::thousand", extend("x-connect-type" = "INT", "x-importance" = "HIGH", "x-width" = "MEDIUM", "x-display-name" = "Schema Cache Size", "x-order" = 1))]
    schemas_cache_size: i32,
    /// Controls which format this converter will serialize decimals in. This value is case insensitive and can be either 'BASE64' (default) or 'NUMERIC'
    #[schemars(rename = "decimal.format", default = "base64", extend("x-importance" = "LOW", "x-width" = "MEDIUM", "x-display-name" = "Decimal Format", "x-group" = "Serialization", "x-order" = 0))]
    decimal_format: String,
    /// Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used.
    #[schemars(rename = "replace.null.with.default", default = "super::yes", extend("x-importance" = "LOW", "x-width" = "MEDIUM", "x-display-name" = "Replace null with default", "x-group" = "Serialization", "x-order" = 1))]
    replace_null_with_default: bool,
}

fn base64() -> String {
    "BASE64".into()
}
