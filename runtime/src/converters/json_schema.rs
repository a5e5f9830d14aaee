//! `io.confluent.connect.json.JsonSchemaConverter`: Confluent's wire format
//! (magic byte 0, schema id, JSON text) with the writer's JSON Schema from
//! the Schema Registry, mapped to Connect as Confluent's `JsonSchemaData`
//! maps it:
//!
//! - `object` with `properties` → STRUCT named by `title` (or
//!   `connect.name`), fields ordered by `connect.index`, else as written;
//!   a property is optional unless listed in `required`;
//! - `object` with only `additionalProperties` → MAP of STRING keys;
//! - `integer` → INT64, `number` → FLOAT64, narrowed by `connect.type`
//!   (`int8`…`int32`, `float32`); `string` with `connect.type: bytes` → BYTES;
//! - `["X", "null"]` and `oneOf [{"type":"null"}, X]` → optional X;
//! - the logical types by name (`title` or `connect.name`), with
//!   `connect.parameters`; local `$ref`s (`#/definitions/…`, `#/$defs/…`).
//!
//! A general `oneOf`/`anyOf` and references to other subjects are refused
//! (the record goes to the DLQ naming the schema id): not supported yet.
//! Values are read under the schema with JsonConverter's rules
//! ([`super::json::to_value`]).

use std::sync::Arc;

use connect_api::schema::{Field, Schema, SchemaAndValue, SchemaKind};
use futures::FutureExt as _;
use serde_json::Value as Json;

use super::registry::{
    self, Parse, RegisteredSchema, RegistryClient, RegistryConverter, RegistryError, SchemaCache,
};

/// `JsonSchemaConverter`: the registry converter with JSON Schema's decoder.
pub type JsonSchemaConverter = RegistryConverter<Decoder>;

pub fn converter(config: registry::RegistryConfig, is_key: bool) -> JsonSchemaConverter {
    let parse: Parse<Decoder> = Arc::new(move |client, schema, subject| {
        async move { build(&client, schema, &subject).await.map(Decoder) }.boxed()
    });
    RegistryConverter::new(
        "io.confluent.connect.json.JsonSchemaConverter",
        "JSON",
        SchemaCache::new(config),
        parse,
        is_key,
    )
}

/// A registered JSON Schema as Connect's schema; values are read under it
/// with JsonConverter's rules.
pub struct Decoder(Arc<Schema>);

impl registry::Decode for Decoder {
    fn decode(&self, body: &[u8]) -> Result<SchemaAndValue, String> {
        let json: Json = serde_json::from_slice(body).map_err(|e| e.to_string())?;
        let value = super::json::to_value(&self.0, &json)?;
        Ok(SchemaAndValue::new(self.0.clone(), value))
    }
}

async fn build(
    client: &RegistryClient,
    registered: RegisteredSchema,
    subject: &str,
) -> Result<Arc<Schema>, RegistryError> {
    if registered.schema_type != "JSON" {
        return Err(RegistryError::Invalid(format!(
            "schema is {}, not JSON",
            registered.schema_type
        )));
    }
    if !registered.references.is_empty() {
        return Err(RegistryError::Invalid(
            "JSON Schema references to other subjects are not supported yet".into(),
        ));
    }
    let root: Json = serde_json::from_str(&registered.schema)
        .map_err(|e| RegistryError::Invalid(format!("invalid JSON Schema: {e}")))?;
    let mut schema = to_connect_schema(&root, &root).map_err(RegistryError::Invalid)?;
    // The version, as the Avro converter sets it: best-effort.
    if schema.version.is_none()
        && let Ok(version) = client.lookup_version(subject, &registered).await
    {
        schema.version = Some(version);
    }
    Ok(Arc::new(schema))
}

/// A JSON Schema as a Connect schema; `root` resolves local `$ref`s.
pub fn to_connect_schema(json: &Json, root: &Json) -> Result<Schema, String> {
    // (`true` accepts anything: there is no Connect schema for it.)
    let Json::Object(obj) = json else {
        return Err(format!("unsupported JSON Schema {json}"));
    };
    if let Some(reference) = obj.get("$ref").and_then(Json::as_str) {
        let target = reference
            .strip_prefix("#/")
            .map(|path| path.split('/').try_fold(root, |node, key| node.get(key)))
            .and_then(|found| found)
            .ok_or_else(|| format!("unresolvable $ref {reference}"))?;
        return to_connect_schema(target, root);
    }
    for union_key in ["oneOf", "anyOf"] {
        if let Some(branches) = obj.get(union_key).and_then(Json::as_array) {
            let is_null = |b: &&Json| b.get("type").and_then(Json::as_str) == Some("null");
            let non_null: Vec<&Json> = branches.iter().filter(|b| !is_null(b)).collect();
            if non_null.len() == 1 && branches.len() == 2 {
                let mut inner = to_connect_schema(non_null[0], root)?;
                inner.optional = true;
                return Ok(inner);
            }
            return Err(format!("a general {union_key} is not supported yet"));
        }
    }
    let (type_name, nullable) = match obj.get("type") {
        Some(Json::String(t)) => (t.as_str(), false),
        Some(Json::Array(types)) => {
            let named: Vec<&str> = types.iter().filter_map(Json::as_str).collect();
            let non_null: Vec<&str> = named.iter().copied().filter(|t| *t != "null").collect();
            match non_null.as_slice() {
                [one] => (*one, non_null.len() < named.len()),
                _ => return Err(format!("a type list {types:?} is not supported yet")),
            }
        }
        _ if obj.contains_key("properties") => ("object", false),
        _ => return Err(format!("a JSON Schema without a type: {json}")),
    };
    let connect_type = obj.get("connect.type").and_then(Json::as_str);
    let kind = match (type_name, connect_type) {
        ("integer", Some("int8")) => SchemaKind::Int8,
        ("integer", Some("int16")) => SchemaKind::Int16,
        ("integer", Some("int32")) => SchemaKind::Int32,
        ("integer", _) => SchemaKind::Int64,
        ("number", Some("float32")) => SchemaKind::Float32,
        ("number", _) => SchemaKind::Float64,
        ("boolean", _) => SchemaKind::Boolean,
        ("string", Some("bytes")) => SchemaKind::Bytes,
        ("string", _) => SchemaKind::String,
        ("array", _) => {
            let items = obj.get("items").ok_or("an array without items")?;
            SchemaKind::Array(Arc::new(to_connect_schema(items, root)?))
        }
        ("object", _) => match obj.get("properties").and_then(Json::as_object) {
            Some(properties) => {
                let required: Vec<&str> = obj
                    .get("required")
                    .and_then(Json::as_array)
                    .map(|r| r.iter().filter_map(Json::as_str).collect())
                    .unwrap_or_default();
                let mut fields = Vec::with_capacity(properties.len());
                for (position, (name, property)) in properties.iter().enumerate() {
                    let mut schema = to_connect_schema(property, root)?;
                    if !required.contains(&name.as_str()) {
                        schema.optional = true;
                    }
                    let index = property
                        .get("connect.index")
                        .and_then(Json::as_u64)
                        .map_or(position, |i| i as usize);
                    fields.push((index, Field::new(name.clone(), schema)));
                }
                fields.sort_by_key(|(index, _)| *index);
                SchemaKind::Struct(fields.into_iter().map(|(_, f)| f).collect())
            }
            None => {
                let values = match obj.get("additionalProperties") {
                    Some(v @ Json::Object(_)) => to_connect_schema(v, root)?,
                    _ => {
                        return Err(
                            "an object without properties or typed additionalProperties".into()
                        );
                    }
                };
                SchemaKind::Map {
                    key: Arc::new(Schema::new(SchemaKind::String)),
                    value: Arc::new(values),
                }
            }
        },
        (other, _) => return Err(format!("unsupported JSON Schema type {other}")),
    };
    let mut schema = Schema::new(kind);
    schema.optional = nullable;
    schema.name = obj
        .get("connect.name")
        .or_else(|| obj.get("title"))
        .and_then(Json::as_str)
        .map(str::to_string);
    schema.version = obj
        .get("connect.version")
        .and_then(Json::as_i64)
        .and_then(|v| i32::try_from(v).ok());
    schema.doc = obj
        .get("description")
        .and_then(Json::as_str)
        .map(str::to_string);
    if let Some(params) = obj.get("connect.parameters").and_then(Json::as_object) {
        for (k, v) in params {
            let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
            schema.parameters.insert(k.clone(), v);
        }
    }
    if let Some(default) = obj.get("default").filter(|d| !d.is_null()) {
        schema.default = super::json::to_value(&schema, default).ok();
    }
    Ok(schema)
}

#[cfg(test)]
mod tests {
    use super::*;
    use connect_api::schema::Logical;

    #[test]
    fn json_schemas_map_as_json_schema_data_maps_them() {
        let root: Json = serde_json::from_str(
            r##"{"title":"shop.Product","type":"object","required":["id","name"],"properties":{
                "name":{"type":"string","connect.index":1},
                "id":{"type":"integer","connect.index":0},
                "small":{"type":"integer","connect.type":"int16"},
                "price":{"type":"number"},
                "at":{"type":"integer","title":"org.apache.kafka.connect.data.Timestamp","connect.type":"int64"},
                "note":{"oneOf":[{"type":"null"},{"type":"string"}]},
                "tags":{"type":"array","items":{"type":"string"}},
                "stock":{"type":"object","additionalProperties":{"type":"integer"}},
                "maker":{"$ref":"#/definitions/Maker"}
            },"definitions":{"Maker":{"type":"object","properties":{"name":{"type":"string"}}}}}"##,
        )
        .unwrap();
        let s = to_connect_schema(&root, &root).unwrap();
        assert_eq!(s.name.as_deref(), Some("shop.Product"));
        let names: Vec<&str> = s.fields().iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names[0], "id", "connect.index orders fields");
        let field = |n: &str| s.field(n).unwrap().1.schema.clone();
        assert!(!field("id").optional && !field("name").optional && field("price").optional);
        assert_eq!(field("small").kind, SchemaKind::Int16);
        assert_eq!(field("at").logical(), Some(Logical::Timestamp));
        assert!(field("note").optional);
        assert!(matches!(field("stock").kind, SchemaKind::Map { .. }));
        assert_eq!(field("maker").fields()[0].name, "name");
        let general = serde_json::json!({"oneOf": [{"type": "string"}, {"type": "integer"}]});
        assert!(to_connect_schema(&general, &general).is_err());
    }
}
