//! From a record to what Qdrant stores: the text to embed, the point id and
//! the payload; or, for records in Qdrant's own connector format, the point
//! as given. Every failure here is a property of the record (→ DLQ).

use connect_api::{Data, RecordError, SinkRecord};
use qdrant_client::qdrant::{PointId, Value as QValue, Vector, Vectors};
use serde_json::{Map, Value};

/// Namespace of `id.strategy=kafka` point ids (UUIDv5 of topic/partition/offset).
const KAFKA_ID_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x6c1b_4a8e_0f3d_5e2a_9b47_c0de_51c4_7e11);

pub fn bad(kind: &str, message: impl Into<String>) -> RecordError {
    RecordError::new(format!("io.connecthost.qdrant.{kind}"), message)
}

/// Where the text to embed comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum TextSource {
    Fields(Vec<String>),
    /// Literal text and `{path}` placeholders, in order.
    Template(Vec<Piece>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Literal(String),
    Field(String),
}

/// A setting of the record mapping that cannot be used (becomes a
/// validation error on that key).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingConfigError {
    #[error("unclosed '{{' in template '{0}'")]
    Unclosed(String),
    #[error("empty placeholder '{{}}' in template '{0}'")]
    EmptyPlaceholder(String),
    #[error("template '{0}' has no {{field}} placeholder")]
    NoPlaceholder(String),
    #[error("unknown id.strategy '{0}': use kafka, key or field:<path>")]
    IdStrategy(String),
}

impl TextSource {
    pub fn template(t: &str) -> Result<Self, MappingConfigError> {
        let mut pieces = Vec::new();
        let mut rest = t;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                pieces.push(Piece::Literal(rest[..open].to_string()));
            }
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| MappingConfigError::Unclosed(t.to_string()))?
                + open;
            let path = rest[open + 1..close].trim();
            if path.is_empty() {
                return Err(MappingConfigError::EmptyPlaceholder(t.to_string()));
            }
            pieces.push(Piece::Field(path.to_string()));
            rest = &rest[close + 1..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Literal(rest.to_string()));
        }
        if !pieces.iter().any(|p| matches!(p, Piece::Field(_))) {
            return Err(MappingConfigError::NoPlaceholder(t.to_string()));
        }
        Ok(Self::Template(pieces))
    }

    /// The text of `value`, or why there is none.
    pub fn text(&self, value: &Value) -> Result<String, RecordError> {
        let text = match self {
            Self::Fields(fields) => {
                let parts: Vec<String> = fields
                    .iter()
                    .filter_map(|f| lookup(value, f).and_then(as_text))
                    .collect();
                if parts.is_empty() {
                    return Err(bad(
                        "MissingText",
                        format!("text field(s) {} missing or empty", fields.join(", ")),
                    ));
                }
                parts.join(". ")
            }
            Self::Template(pieces) => {
                let mut out = String::new();
                for piece in pieces {
                    match piece {
                        Piece::Literal(l) => out.push_str(l),
                        Piece::Field(f) => match lookup(value, f).and_then(as_text) {
                            Some(t) => out.push_str(&t),
                            None => {
                                return Err(bad(
                                    "MissingText",
                                    format!("text field {f} missing or empty"),
                                ));
                            }
                        },
                    }
                }
                out
            }
        };
        if text.trim().is_empty() {
            return Err(bad("MissingText", "the text to embed is empty"));
        }
        Ok(text)
    }
}

fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `a.b.c` inside a JSON value.
pub fn lookup<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(value, |v, key| v.get(key))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdStrategy {
    Kafka,
    Key,
    Field(String),
}

impl IdStrategy {
    pub fn parse(s: &str) -> Result<Self, MappingConfigError> {
        match s.trim() {
            "kafka" => Ok(Self::Kafka),
            "key" => Ok(Self::Key),
            other => match other.strip_prefix("field:") {
                Some(path) if !path.trim().is_empty() => Ok(Self::Field(path.trim().to_string())),
                _ => Err(MappingConfigError::IdStrategy(s.to_string())),
            },
        }
    }

    pub fn point_id(&self, record: &SinkRecord, value: &Value) -> Result<PointId, RecordError> {
        match self {
            Self::Kafka => Ok(uuid::Uuid::new_v5(
                &KAFKA_ID_NAMESPACE,
                format!("{}/{}/{}", record.topic, record.partition, record.offset).as_bytes(),
            )
            .to_string()
            .into()),
            Self::Key => key_id(&record.key),
            Self::Field(path) => match lookup(value, path) {
                Some(v) => json_id(v).map_err(|e| bad("InvalidId", format!("{path}: {e}"))),
                None => Err(bad("InvalidId", format!("id field {path} is missing"))),
            },
        }
    }
}

pub fn key_id(key: &Data) -> Result<PointId, RecordError> {
    let json = match key {
        Data::Null => {
            return Err(bad(
                "InvalidId",
                "id.strategy=key but the record has no key",
            ));
        }
        Data::Bytes(b) => Value::String(String::from_utf8_lossy(b).into_owned()),
        other => other.to_json().unwrap_or(Value::Null),
    };
    json_id(&json).map_err(|e| bad("InvalidId", format!("key: {e}")))
}

/// A UUID string or an unsigned integer, as Qdrant accepts.
pub fn json_id(v: &Value) -> Result<PointId, String> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .map(PointId::from)
            .ok_or_else(|| format!("{n} is not an unsigned integer")),
        Value::String(s) => {
            if let Ok(u) = uuid::Uuid::parse_str(s.trim()) {
                Ok(u.to_string().into())
            } else if let Ok(n) = s.trim().parse::<u64>() {
                Ok(n.into())
            } else {
                Err(format!("'{s}' is neither a UUID nor an unsigned integer"))
            }
        }
        other => Err(format!("{other} is neither a UUID nor an unsigned integer")),
    }
}

/// The payload: the record's fields (filtered) plus its Kafka coordinates.
pub fn payload(
    record: &SinkRecord,
    value: &Value,
    include: &[String],
    exclude: &[String],
) -> Map<String, Value> {
    let mut out = Map::new();
    if let Value::Object(fields) = value {
        if include.is_empty() {
            out = fields.clone();
        } else {
            for path in include {
                if let Some(v) = lookup(value, path) {
                    insert_path(&mut out, path, v.clone());
                }
            }
        }
    }
    for path in exclude {
        remove_path(&mut out, path);
    }
    out.insert(
        "_kafka".into(),
        serde_json::json!({"topic": &*record.topic, "partition": record.partition, "offset": record.offset, "timestamp": record.timestamp}),
    );
    out
}

fn insert_path(map: &mut Map<String, Value>, path: &str, v: Value) {
    match path.split_once('.') {
        None => {
            map.insert(path.to_string(), v);
        }
        Some((head, rest)) => {
            let child = map
                .entry(head.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(m) = child {
                insert_path(m, rest, v);
            }
        }
    }
}

fn remove_path(map: &mut Map<String, Value>, path: &str) {
    match path.split_once('.') {
        None => {
            map.remove(path);
        }
        Some((head, rest)) => {
            if let Some(Value::Object(m)) = map.get_mut(head) {
                remove_path(m, rest);
            }
        }
    }
}

pub fn to_qdrant_payload(map: Map<String, Value>) -> std::collections::HashMap<String, QValue> {
    map.into_iter().map(|(k, v)| (k, QValue::from(v))).collect()
}

/// A record in Qdrant's own connector format:
/// `{"collection_name", "id", "vector", "payload"}`.
#[derive(Debug)]
pub struct GivenPoint {
    pub collection: String,
    pub id: PointId,
    pub vectors: Vectors,
    pub payload: Map<String, Value>,
}

/// Whether `value` looks like Qdrant's connector format.
pub fn is_qdrant_format(value: &Value) -> bool {
    value.get("collection_name").is_some()
        && value.get("vector").is_some()
        && value.get("id").is_some()
}

pub fn given_point(value: &Value) -> Result<GivenPoint, RecordError> {
    let collection = value
        .get("collection_name")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            bad(
                "InvalidRecord",
                "collection_name must be a non-empty string",
            )
        })?
        .to_string();
    let id = json_id(value.get("id").unwrap_or(&Value::Null))
        .map_err(|e| bad("InvalidId", format!("id: {e}")))?;
    let vectors = match value.get("vector") {
        Some(Value::Object(named)) => {
            let mut map = std::collections::HashMap::new();
            for (name, v) in named {
                map.insert(
                    name.clone(),
                    vector(v).map_err(|e| bad("InvalidVector", format!("vector '{name}': {e}")))?,
                );
            }
            Vectors::from(map)
        }
        Some(v) => {
            Vectors::from(vector(v).map_err(|e| bad("InvalidVector", format!("vector: {e}")))?)
        }
        None => return Err(bad("InvalidVector", "vector is missing")),
    };
    let payload = match value.get("payload") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(p)) => p.clone(),
        Some(_) => return Err(bad("InvalidRecord", "payload must be an object")),
    };
    Ok(GivenPoint {
        collection,
        id,
        vectors,
        payload,
    })
}

/// Dense `[f32]`, sparse `{indices, values}` or multi-vector `[[f32]]`.
fn vector(v: &Value) -> Result<Vector, String> {
    let floats = |a: &Vec<Value>| -> Result<Vec<f32>, String> {
        a.iter()
            .map(|x| {
                x.as_f64()
                    .map(|f| f as f32)
                    .ok_or_else(|| format!("{x} is not a number"))
            })
            .collect()
    };
    match v {
        Value::Array(items) if items.iter().all(Value::is_array) && !items.is_empty() => {
            let rows = items
                .iter()
                .map(|r| floats(r.as_array().unwrap()))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Vector::new_multi(rows))
        }
        Value::Array(items) if !items.is_empty() => Ok(Vector::new_dense(floats(items)?)),
        Value::Object(o) if o.contains_key("indices") && o.contains_key("values") => {
            let indices: Vec<u32> = o["indices"]
                .as_array()
                .ok_or("indices must be an array")?
                .iter()
                .map(|i| {
                    i.as_u64()
                        .and_then(|i| u32::try_from(i).ok())
                        .ok_or_else(|| format!("{i} is not a valid index"))
                })
                .collect::<Result<_, _>>()?;
            let values = floats(o["values"].as_array().ok_or("values must be an array")?)?;
            if indices.len() != values.len() {
                return Err(format!(
                    "{} indices but {} values",
                    indices.len(),
                    values.len()
                ));
            }
            Ok(Vector::new_sparse(indices, values))
        }
        _ => Err("expected an array of numbers, an array of arrays, or {indices, values}".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(key: Data) -> SinkRecord {
        SinkRecord {
            topic: "t".into(),
            partition: 1,
            offset: 7,
            timestamp: Some(5),
            key,
            value: Data::Null,
            headers: vec![],
        }
    }

    #[test]
    fn text_from_fields_and_templates() {
        let v = json!({"product": {"name": "Ürün Adı", "description": "Detaylı", "price": 3}});
        let fields = TextSource::Fields(vec!["product.name".into(), "product.description".into()]);
        assert_eq!(fields.text(&v).unwrap(), "Ürün Adı. Detaylı");
        let t = TextSource::template("{product.name}: {product.description} ({product.price})")
            .unwrap();
        assert_eq!(t.text(&v).unwrap(), "Ürün Adı: Detaylı (3)");
        let err = t.text(&json!({"product": {"name": "x"}})).unwrap_err();
        assert!(err.message.contains("product.description"));
        assert!(
            fields
                .text(&json!({"product": {"name": "  "}}))
                .unwrap_err()
                .message
                .contains("missing or empty")
        );
        assert!(TextSource::template("no fields").is_err());
        assert!(TextSource::template("{oops").is_err());
    }

    #[test]
    fn ids_by_strategy() {
        let v =
            json!({"event_id": "7f9c24e8-3b12-4a6f-9d3e-1a2b3c4d5e6f", "n": 12, "bad": "evt-9"});
        let r = record(Data::Text("42".into()));
        let kafka = IdStrategy::Kafka.point_id(&r, &v).unwrap();
        assert_eq!(
            kafka,
            IdStrategy::Kafka.point_id(&r, &v).unwrap(),
            "deterministic: a replay overwrites"
        );
        assert_eq!(
            IdStrategy::Key.point_id(&r, &v).unwrap(),
            PointId::from(42u64)
        );
        assert_eq!(
            IdStrategy::parse("field:n")
                .unwrap()
                .point_id(&r, &v)
                .unwrap(),
            PointId::from(12u64)
        );
        let uuid = IdStrategy::parse("field:event_id")
            .unwrap()
            .point_id(&r, &v)
            .unwrap();
        assert_eq!(
            uuid,
            PointId::from("7f9c24e8-3b12-4a6f-9d3e-1a2b3c4d5e6f".to_string())
        );
        let err = IdStrategy::parse("field:bad")
            .unwrap()
            .point_id(&r, &v)
            .unwrap_err();
        assert!(err.message.contains("evt-9") && err.message.contains("neither a UUID"));
        assert!(IdStrategy::parse("random").is_err());
        assert!(IdStrategy::Key.point_id(&record(Data::Null), &v).is_err());
    }

    #[test]
    fn payload_filters_and_kafka_coordinates() {
        let v = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": 4});
        let r = record(Data::Null);
        let all = payload(&r, &v, &[], &["e".into(), "b.d".into()]);
        assert_eq!(Value::Object(all.clone())["b"], json!({"c": 2}));
        assert!(all.get("e").is_none());
        assert_eq!(
            all["_kafka"],
            json!({"topic": "t", "partition": 1, "offset": 7, "timestamp": 5})
        );
        let some = payload(&r, &v, &["b.c".into()], &[]);
        assert_eq!(Value::Object(some)["b"], json!({"c": 2}));
    }

    #[test]
    fn qdrant_format_vectors() {
        let p = given_point(&json!({"collection_name": "c", "id": 3, "vector": {"dense": [0.1, 0.2], "sparse": {"indices": [1, 5], "values": [0.3, 0.4]}, "multi": [[1.0], [2.0]]}, "payload": {"k": "v"}})).unwrap();
        assert_eq!(p.collection, "c");
        assert_eq!(p.payload["k"], "v");
        assert!(given_point(&json!({"collection_name": "c", "id": 3, "vector": "nope"})).is_err());
        assert!(
            given_point(&json!({"collection_name": "c", "id": -1, "vector": [1.0]}))
                .unwrap_err()
                .message
                .contains("unsigned")
        );
        assert!(given_point(&json!({"collection_name": "c", "id": 1, "vector": {"s": {"indices": [1], "values": []}}})).is_err());
    }
}
