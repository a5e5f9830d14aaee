//! Connect's data model: a value together with its schema, as Kafka's
//! `SchemaAndValue`, `Schema`, `Struct` and the logical types `Decimal`,
//! `Date`, `Time` and `Timestamp`.
//!
//! Converters that know a schema (JsonConverter with `schemas.enable`, the
//! Schema Registry converters) produce [`SchemaAndValue`]s; sinks read them
//! through [`SchemaAndValue::to_json`], the one rule that turns a schema'd
//! value into the JSON view the sinks' templates and payloads use:
//!
//! | Connect type | JSON view |
//! |---|---|
//! | INT8–INT64, FLOAT32/64, BOOLEAN, STRING | number, boolean, string (a non-finite float becomes null) |
//! | BYTES | base64 string (as JsonConverter writes bytes) |
//! | ARRAY | array |
//! | MAP with STRING keys | object |
//! | MAP with other keys | array of `[key, value]` pairs (as JsonConverter writes them) |
//! | STRUCT | object, fields in schema order |
//! | Decimal | number when at most 15 significant digits (exact in a double), otherwise its exact decimal string |
//! | Date | `"YYYY-MM-DD"` |
//! | Time | `"HH:MM:SS.mmm"` |
//! | Timestamp | RFC 3339 in UTC with milliseconds, `"2024-05-01T13:45:30.123Z"` |

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use serde_json::Value as Json;

/// Logical type names, as Connect names them in `Schema.name()`.
pub mod logical {
    pub const DECIMAL: &str = "org.apache.kafka.connect.data.Decimal";
    pub const DATE: &str = "org.apache.kafka.connect.data.Date";
    pub const TIME: &str = "org.apache.kafka.connect.data.Time";
    pub const TIMESTAMP: &str = "org.apache.kafka.connect.data.Timestamp";
    /// The schema parameter that carries a Decimal's scale.
    pub const SCALE: &str = "scale";
}

/// A Connect schema type; container types carry their element schemas, so a
/// MAP without a key schema or a STRUCT without fields cannot be built.
#[derive(Debug, Clone, PartialEq)]
pub enum SchemaKind {
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Boolean,
    String,
    Bytes,
    Array(Arc<Schema>),
    Map {
        key: Arc<Schema>,
        value: Arc<Schema>,
    },
    Struct(Vec<Field>),
}

impl SchemaKind {
    /// Connect's `Schema.Type` name.
    pub fn type_name(&self) -> &'static str {
        match self {
            SchemaKind::Int8 => "INT8",
            SchemaKind::Int16 => "INT16",
            SchemaKind::Int32 => "INT32",
            SchemaKind::Int64 => "INT64",
            SchemaKind::Float32 => "FLOAT32",
            SchemaKind::Float64 => "FLOAT64",
            SchemaKind::Boolean => "BOOLEAN",
            SchemaKind::String => "STRING",
            SchemaKind::Bytes => "BYTES",
            SchemaKind::Array(_) => "ARRAY",
            SchemaKind::Map { .. } => "MAP",
            SchemaKind::Struct(_) => "STRUCT",
        }
    }
}

/// A field of a STRUCT schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub schema: Arc<Schema>,
}

impl Field {
    pub fn new(name: impl Into<String>, schema: Schema) -> Self {
        Self {
            name: name.into(),
            schema: Arc::new(schema),
        }
    }
}

/// A Connect schema: a type plus Connect's optional metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    pub kind: SchemaKind,
    pub optional: bool,
    pub default: Option<Value>,
    pub name: Option<String>,
    pub version: Option<i32>,
    pub doc: Option<String>,
    pub parameters: BTreeMap<String, String>,
}

impl Schema {
    pub fn new(kind: SchemaKind) -> Self {
        Self {
            kind,
            optional: false,
            default: None,
            name: None,
            version: None,
            doc: None,
            parameters: BTreeMap::new(),
        }
    }

    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    pub fn parameter(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.parameters.insert(key.into(), value.into());
        self
    }

    /// Connect's `Decimal.schema(scale)`.
    pub fn decimal(scale: i32) -> Self {
        Schema::new(SchemaKind::Bytes)
            .named(logical::DECIMAL)
            .parameter(logical::SCALE, scale.to_string())
    }

    /// Connect's `Date.SCHEMA`: INT32 days since the epoch.
    pub fn date() -> Self {
        Schema::new(SchemaKind::Int32).named(logical::DATE)
    }

    /// Connect's `Time.SCHEMA`: INT32 milliseconds since midnight.
    pub fn time() -> Self {
        Schema::new(SchemaKind::Int32).named(logical::TIME)
    }

    /// Connect's `Timestamp.SCHEMA`: INT64 milliseconds since the epoch.
    pub fn timestamp() -> Self {
        Schema::new(SchemaKind::Int64).named(logical::TIMESTAMP)
    }

    /// The fields of a STRUCT schema (none for other types).
    pub fn fields(&self) -> &[Field] {
        match &self.kind {
            SchemaKind::Struct(fields) => fields,
            _ => &[],
        }
    }

    pub fn field(&self, name: &str) -> Option<(usize, &Field)> {
        self.fields()
            .iter()
            .enumerate()
            .find(|(_, f)| f.name == name)
    }

    /// The logical type this schema names, if any.
    pub fn logical(&self) -> Option<Logical> {
        match (self.name.as_deref()?, &self.kind) {
            (logical::DECIMAL, SchemaKind::Bytes) => Some(Logical::Decimal {
                scale: self
                    .parameters
                    .get(logical::SCALE)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0),
            }),
            (logical::DATE, SchemaKind::Int32) => Some(Logical::Date),
            (logical::TIME, SchemaKind::Int32) => Some(Logical::Time),
            (logical::TIMESTAMP, SchemaKind::Int64) => Some(Logical::Timestamp),
            _ => None,
        }
    }
}

/// Connect's logical types, read off a schema's name and parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Logical {
    Decimal { scale: i32 },
    Date,
    Time,
    Timestamp,
}

/// A value of a Connect schema. Logical values keep their physical form
/// (Decimal: the unscaled big-endian two's-complement bytes; Date: days;
/// Time and Timestamp: milliseconds), as they travel in Connect.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int8(i8),
    Int16(i16),
    Int32(i32),
    Int64(i64),
    Float32(f32),
    Float64(f64),
    Boolean(bool),
    String(String),
    Bytes(Bytes),
    Array(Vec<Value>),
    Map(Vec<(Value, Value)>),
    /// Field values in the order of the schema's fields.
    Struct(Vec<Value>),
}

/// Room that converters leave in a struct's field values for fields an SMT
/// chain adds (InsertField, Debezium's `add.fields`): adding them then needs
/// no reallocation, which was a third of InsertField's cost.
pub const SPARE_FIELDS: usize = 2;

/// A converted key or value with its schema (Connect's `SchemaAndValue`).
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaAndValue {
    pub schema: Arc<Schema>,
    pub value: Value,
}

impl SchemaAndValue {
    pub fn new(schema: impl Into<Arc<Schema>>, value: Value) -> Self {
        Self {
            schema: schema.into(),
            value,
        }
    }

    /// The JSON view sinks use (the table in this module's docs).
    pub fn to_json(&self) -> Json {
        json_view(&self.schema, &self.value)
    }

    /// The value's string form as Connect's `toString` gives it
    /// (`Struct{name=shoe,price=12.5}`), which FileStream writes.
    pub fn to_display_string(&self) -> String {
        let mut out = String::new();
        display(&self.schema, &self.value, &mut out);
        out
    }
}

/// The JSON view of `value` under `schema` (see the module docs).
pub fn json_view(schema: &Schema, value: &Value) -> Json {
    if let Some(logical) = schema.logical()
        && let Some(json) = logical_json(logical, value)
    {
        return json;
    }
    match (value, &schema.kind) {
        (Value::Null, _) => Json::Null,
        (Value::Int8(v), _) => Json::from(*v),
        (Value::Int16(v), _) => Json::from(*v),
        (Value::Int32(v), _) => Json::from(*v),
        (Value::Int64(v), _) => Json::from(*v),
        (Value::Float32(v), _) => finite(f64::from(*v)),
        (Value::Float64(v), _) => finite(*v),
        (Value::Boolean(v), _) => Json::Bool(*v),
        (Value::String(s), _) => Json::String(s.clone()),
        (Value::Bytes(b), _) => Json::String(base64::engine::general_purpose::STANDARD.encode(b)),
        (Value::Array(items), SchemaKind::Array(element)) => {
            Json::Array(items.iter().map(|v| json_view(element, v)).collect())
        }
        (Value::Map(entries), SchemaKind::Map { key, value }) => {
            if key.kind == SchemaKind::String {
                Json::Object(
                    entries
                        .iter()
                        .map(|(k, v)| {
                            let k = match k {
                                Value::String(s) => s.clone(),
                                _ => String::new(),
                            };
                            (k, json_view(value, v))
                        })
                        .collect(),
                )
            } else {
                Json::Array(
                    entries
                        .iter()
                        .map(|(k, v)| Json::Array(vec![json_view(key, k), json_view(value, v)]))
                        .collect(),
                )
            }
        }
        (Value::Struct(values), SchemaKind::Struct(fields)) => Json::Object(
            fields
                .iter()
                .zip(values)
                .map(|(f, v)| (f.name.clone(), json_view(&f.schema, v)))
                .collect(),
        ),
        // A value that does not match its schema's shape (not built by the
        // converters here): show what can be shown.
        (Value::Array(items), _) => Json::Array(
            items
                .iter()
                .map(|v| json_view(&Schema::new(SchemaKind::String), v))
                .collect(),
        ),
        (Value::Map(_) | Value::Struct(_), _) => Json::Null,
    }
}

fn finite(v: f64) -> Json {
    serde_json::Number::from_f64(v).map_or(Json::Null, Json::Number)
}

fn logical_json(logical: Logical, value: &Value) -> Option<Json> {
    Some(match (logical, value) {
        (Logical::Decimal { scale }, Value::Bytes(b)) => {
            let text = decimal_string(b, scale)?;
            let significant = text.chars().filter(char::is_ascii_digit).count();
            match text.parse::<f64>() {
                Ok(f) if significant <= 15 => finite(f),
                _ => Json::String(text),
            }
        }
        (Logical::Date, Value::Int32(days)) => Json::String(date_string(*days)?),
        (Logical::Time, Value::Int32(millis)) => Json::String(time_string(*millis)?),
        (Logical::Timestamp, Value::Int64(millis)) => Json::String(timestamp_string(*millis)?),
        _ => return None,
    })
}

/// A Decimal's exact text from its unscaled two's-complement bytes; `None`
/// past 16 bytes (38 digits, the widest Avro and SQL decimals in use).
pub fn decimal_string(unscaled: &[u8], scale: i32) -> Option<String> {
    if unscaled.is_empty() || unscaled.len() > 16 {
        return None;
    }
    let negative = unscaled[0] & 0x80 != 0;
    let mut buf = [if negative { 0xff } else { 0 }; 16];
    buf[16 - unscaled.len()..].copy_from_slice(unscaled);
    let n = i128::from_be_bytes(buf);
    let digits = n.unsigned_abs().to_string();
    let sign = if negative { "-" } else { "" };
    Some(if scale <= 0 {
        format!(
            "{sign}{digits}{}",
            "0".repeat(scale.unsigned_abs() as usize)
        )
    } else {
        let scale = scale as usize;
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int, frac) = padded.split_at(padded.len() - scale);
        format!("{sign}{int}.{frac}")
    })
}

/// The unscaled big-endian bytes of a decimal text at `scale` (for tests and
/// converters that read decimals as text); `None` when it does not fit.
pub fn decimal_bytes(text: &str, scale: i32) -> Option<Bytes> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let scale = usize::try_from(scale).ok()?;
    if frac.len() > scale {
        return None;
    }
    let digits = format!("{int}{frac:0<scale$}");
    let n: i128 = digits.parse().ok()?;
    let bytes = n.to_be_bytes();
    // Shortest two's-complement form, as Java's BigInteger.toByteArray.
    let mut start = 0;
    while start < 15 {
        let (b, next) = (bytes[start], bytes[start + 1]);
        if (b == 0 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0) {
            start += 1;
        } else {
            break;
        }
    }
    Some(Bytes::copy_from_slice(&bytes[start..]))
}

pub fn date_string(days: i32) -> Option<String> {
    let date = chrono::DateTime::from_timestamp(i64::from(days) * 86_400, 0)?;
    Some(date.format("%Y-%m-%d").to_string())
}

pub fn time_string(millis: i32) -> Option<String> {
    let time = chrono::NaiveTime::from_num_seconds_from_midnight_opt(
        u32::try_from(millis / 1000).ok()?,
        u32::try_from(millis % 1000).ok()? * 1_000_000,
    )?;
    Some(time.format("%H:%M:%S%.3f").to_string())
}

pub fn timestamp_string(millis: i64) -> Option<String> {
    let ts = chrono::DateTime::from_timestamp_millis(millis)?;
    Some(ts.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

fn display(schema: &Schema, value: &Value, out: &mut String) {
    // A Decimal prints exactly, as Java's BigDecimal does ("12.50").
    if let (Some(Logical::Decimal { scale }), Value::Bytes(b)) = (schema.logical(), value)
        && let Some(text) = decimal_string(b, scale)
    {
        out.push_str(&text);
        return;
    }
    if let Some(logical) = schema.logical()
        && let Some(json) = logical_json(logical, value)
    {
        match json {
            Json::String(s) => out.push_str(&s),
            other => {
                let _ = write!(out, "{other}");
            }
        }
        return;
    }
    match (value, &schema.kind) {
        (Value::Struct(values), SchemaKind::Struct(fields)) => {
            out.push_str("Struct{");
            let mut first = true;
            for (f, v) in fields.iter().zip(values) {
                if *v == Value::Null {
                    continue;
                }
                if !first {
                    out.push(',');
                }
                first = false;
                out.push_str(&f.name);
                out.push('=');
                display(&f.schema, v, out);
            }
            out.push('}');
        }
        (Value::Array(items), SchemaKind::Array(element)) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                display(element, v, out);
            }
            out.push(']');
        }
        (Value::Map(entries), SchemaKind::Map { key, value }) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                display(key, k, out);
                out.push('=');
                display(value, v, out);
            }
            out.push('}');
        }
        (Value::String(s), _) => out.push_str(s),
        (Value::Null, _) => out.push_str("null"),
        (other, _) => match json_view(schema, other) {
            Json::String(s) => out.push_str(&s),
            json => {
                let _ = write!(out, "{json}");
            }
        },
    }
}

impl fmt::Display for SchemaAndValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_display_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn product() -> Schema {
        Schema::new(SchemaKind::Struct(vec![
            Field::new("name", Schema::new(SchemaKind::String)),
            Field::new("price", Schema::decimal(2)),
            Field::new("added", Schema::date()),
            Field::new("at", Schema::timestamp()),
            Field::new("opens", Schema::time()),
            Field::new("note", Schema::new(SchemaKind::String).optional()),
            Field::new(
                "stock",
                Schema::new(SchemaKind::Map {
                    key: Arc::new(Schema::new(SchemaKind::Int32)),
                    value: Arc::new(Schema::new(SchemaKind::Int64)),
                }),
            ),
        ]))
    }

    fn shoe() -> SchemaAndValue {
        SchemaAndValue::new(
            product(),
            Value::Struct(vec![
                Value::String("shoe".into()),
                Value::Bytes(decimal_bytes("12.50", 2).unwrap()),
                Value::Int32(19_844),
                Value::Int64(1_714_571_130_123),
                Value::Int32(3_600_000 + 60_000 + 1_005),
                Value::Null,
                Value::Map(vec![(Value::Int32(7), Value::Int64(3))]),
            ]),
        )
    }

    #[test]
    fn a_struct_becomes_the_documented_json_view() {
        assert_eq!(
            shoe().to_json(),
            json!({
                "name": "shoe",
                "price": 12.5,
                "added": "2024-05-01",
                "at": "2024-05-01T13:45:30.123Z",
                "opens": "01:01:01.005",
                "note": null,
                "stock": [[7, 3]],
            })
        );
    }

    #[test]
    fn display_is_connects_struct_to_string() {
        assert_eq!(
            shoe().to_display_string(),
            "Struct{name=shoe,price=12.50,added=2024-05-01,at=2024-05-01T13:45:30.123Z,opens=01:01:01.005,stock={7=3}}"
        );
    }

    #[test]
    fn decimals_round_trip_and_wide_ones_stay_exact() {
        for (text, scale) in [("-0.01", 2), ("123456.789", 3), ("0", 0), ("-128", 0)] {
            let bytes = decimal_bytes(text, scale).unwrap();
            assert_eq!(decimal_string(&bytes, scale).unwrap(), text);
        }
        // Java's BigInteger(-128).toByteArray() is one byte: 0x80.
        assert_eq!(decimal_bytes("-128", 0).unwrap().as_ref(), &[0x80]);
        let wide = decimal_bytes("1234567890123456.78", 2).unwrap();
        assert_eq!(
            json_view(&Schema::decimal(2), &Value::Bytes(wide)),
            json!("1234567890123456.78")
        );
    }
}
