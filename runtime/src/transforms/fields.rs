//! Field-level SMTs: `InsertField`, `ReplaceField`, `MaskField`, `Cast`,
//! `SetSchemaMetadata`, each with a path for schemaless maps and one for
//! structs with a schema (helpers in `typed.rs`). The SMTs that reshape a
//! value are in `shape.rs`.

use std::collections::HashMap;
use std::sync::Arc;

use connect_api::schema::{self as connect, Field, Schema, SchemaAndValue, SchemaKind};
use connect_api::{ConfigIssue, Data, SinkRecord};
use serde_json::{Map, Value};

use super::typed::{self, Derived};

use super::{Outcome, Part, Settings, Transformation, into_json, into_map, java_type, split_list};

/// A field name of InsertField: `name`, `name!` (required) or `name?`.
fn field_name(v: Option<&str>) -> Option<String> {
    let v = v?.trim();
    let v = v.strip_suffix(['!', '?']).unwrap_or(v);
    (!v.is_empty()).then(|| v.to_string())
}

/// The coordinates of a record that InsertField can insert (the topic
/// only when it is inserted: sharing it costs two atomic operations).
struct RecordAt {
    topic: Option<Arc<str>>,
    partition: i32,
    offset: i64,
    timestamp: Option<i64>,
}

struct InsertField {
    part: Part,
    /// Field names given with `!`: required in the schema path.
    required: Vec<String>,
    schema: Derived<Arc<Schema>>,
    topic: Option<String>,
    partition: Option<String>,
    offset: Option<String>,
    timestamp: Option<String>,
    static_field: Option<(String, String)>,
}

impl InsertField {
    /// The inserted fields, in order, with their schemas.
    fn inserted_fields(&self) -> Vec<(&String, Schema)> {
        let string = || Schema::new(SchemaKind::String);
        [
            (&self.topic, string()),
            (&self.partition, Schema::new(SchemaKind::Int32)),
            (&self.offset, Schema::new(SchemaKind::Int64)),
            (&self.timestamp, Schema::timestamp()),
        ]
        .into_iter()
        .filter_map(|(name, schema)| Some((name.as_ref()?, schema)))
        .chain(self.static_field.iter().map(|(f, _)| (f, string())))
        .collect()
    }

    /// Appends the inserted values for the record at `at`, in the order of
    /// [`Self::inserted_fields`] (pushed one by one: building them aside
    /// and moving them in cost more than inserting them).
    fn push_values(&self, at: &RecordAt, out: &mut Vec<connect::Value>) {
        use connect::Value as V;
        if let Some(topic) = &at.topic {
            out.push(V::String(topic.to_string()));
        }
        if self.partition.is_some() {
            out.push(V::Int32(at.partition));
        }
        if self.offset.is_some() {
            out.push(V::Int64(at.offset));
        }
        if self.timestamp.is_some() {
            out.push(at.timestamp.map_or(V::Null, V::Int64));
        }
        if let Some((_, v)) = &self.static_field {
            out.push(V::String(v.clone()));
        }
    }

    /// The schema path; `false` when the part is not a struct with a schema.
    fn typed(&self, r: &mut SinkRecord) -> Result<bool, String> {
        if typed::as_struct_mut(self.part.get_mut(r)).is_none() {
            return Ok(false);
        }
        // Where the record is first: `t` borrows the record.
        let at = RecordAt {
            topic: self.topic.as_ref().map(|_| r.topic.clone()),
            partition: r.partition,
            offset: r.offset,
            timestamp: r.timestamp,
        };
        let t = typed::as_struct_mut(self.part.get_mut(r)).expect("checked above");
        let schema = self.schema.get(&t.schema, |s| {
            let mut fields = s.fields().to_vec();
            for (name, schema) in self.inserted_fields() {
                if fields.iter().any(|f| &f.name == name) {
                    return Err(format!(
                        "Cannot create field because of field name duplication {name}"
                    ));
                }
                let schema = if self.required.contains(name) {
                    schema
                } else {
                    schema.optional()
                };
                fields.push(Field::new(name.as_str(), schema));
            }
            Ok(Arc::new(typed::with_fields(s, fields)))
        })?;
        let struct_values = typed::fields_mut(&mut t.value);
        struct_values.reserve_exact(schema.fields().len() - struct_values.len());
        self.push_values(&at, struct_values);
        t.schema = Arc::clone(&schema);
        Ok(true)
    }
}

impl Transformation for InsertField {
    fn apply(&self, r: &mut SinkRecord) -> Result<Outcome, String> {
        if self.typed(r)? {
            return Ok(Outcome::Keep);
        }
        let Some(mut map) = into_map(self.part.take(r), "field insertion")? else {
            return Ok(Outcome::Keep);
        };
        if let Some(f) = &self.topic {
            map.insert(f.clone(), Value::String(r.topic.to_string()));
        }
        if let Some(f) = &self.partition {
            map.insert(f.clone(), Value::from(r.partition));
        }
        if let Some(f) = &self.offset {
            map.insert(f.clone(), Value::from(r.offset));
        }
        if let Some(f) = &self.timestamp {
            map.insert(
                f.clone(),
                r.timestamp.map(Value::from).unwrap_or(Value::Null),
            );
        }
        if let Some((f, v)) = &self.static_field {
            map.insert(f.clone(), Value::String(v.clone()));
        }
        self.part.set(r, Data::Json(Value::Object(map)));
        Ok(Outcome::Keep)
    }
}

pub(super) fn insert_field(
    s: &Settings<'_>,
    p: Option<Part>,
) -> Result<Box<dyn Transformation>, ConfigIssue> {
    let static_field = match (field_name(s.get("static.field")), s.get("static.value")) {
        (Some(f), Some(v)) => Some((f, v.to_string())),
        (Some(_), None) => {
            return Err(s.issue(
                "static.value",
                "static.value is required when static.field is set",
            ));
        }
        _ => None,
    };
    let required = [
        "topic.field",
        "partition.field",
        "offset.field",
        "timestamp.field",
        "static.field",
    ]
    .iter()
    .filter_map(|k| s.get(k))
    .filter(|v| v.trim().ends_with('!'))
    .filter_map(|v| field_name(Some(v)))
    .collect();
    let t = InsertField {
        part: Part::or_value(p),
        required,
        schema: Derived::default(),
        topic: field_name(s.get("topic.field")),
        partition: field_name(s.get("partition.field")),
        offset: field_name(s.get("offset.field")),
        timestamp: field_name(s.get("timestamp.field")),
        static_field,
    };
    Ok(Box::new(t))
}

struct ReplaceField {
    part: Part,
    exclude: Vec<String>,
    include: Vec<String>,
    renames: HashMap<String, String>,
    /// The output schema and the input positions of its fields.
    schema: Derived<(Arc<Schema>, Vec<usize>)>,
}

impl ReplaceField {
    fn keeps(&self, name: &str) -> bool {
        !self.exclude.iter().any(|e| e == name)
            && (self.include.is_empty() || self.include.iter().any(|i| i == name))
    }

    fn typed(&self, t: &mut SchemaAndValue) -> Result<(), String> {
        let plan = self.schema.get(&t.schema, |s| {
            let (mut fields, mut positions) = (Vec::new(), Vec::new());
            for (i, f) in s
                .fields()
                .iter()
                .enumerate()
                .filter(|(_, f)| self.keeps(&f.name))
            {
                let name = self.renames.get(&f.name).unwrap_or(&f.name);
                fields.push(Field {
                    name: name.clone(),
                    schema: f.schema.clone(),
                });
                positions.push(i);
            }
            Ok((Arc::new(typed::with_fields(s, fields)), positions))
        })?;
        typed::keep_fields(t, &plan.0, &plan.1);
        Ok(())
    }
}

impl Transformation for ReplaceField {
    fn apply(&self, r: &mut SinkRecord) -> Result<Outcome, String> {
        if let Some(t) = typed::as_struct_mut(self.part.get_mut(r)) {
            self.typed(t)?;
            return Ok(Outcome::Keep);
        }
        let Some(mut map) = into_map(self.part.take(r), "field replacement")? else {
            return Ok(Outcome::Keep);
        };
        if self.renames.is_empty() {
            // Nothing renamed: drop fields in place, keeping the order.
            map.retain(|k, _| self.keeps(k));
            self.part.set(r, Data::Json(Value::Object(map)));
            return Ok(Outcome::Keep);
        }
        let mut out = Map::new();
        for (k, v) in map {
            if self.keeps(&k) {
                let name = self.renames.get(&k).cloned().unwrap_or(k);
                out.insert(name, v);
            }
        }
        self.part.set(r, Data::Json(Value::Object(out)));
        Ok(Outcome::Keep)
    }
}

pub(super) fn replace_field(
    s: &Settings<'_>,
    p: Option<Part>,
) -> Result<Box<dyn Transformation>, ConfigIssue> {
    let list = |new: &str, old: &str| {
        if s.get(new).is_some() {
            s.list(new)
        } else {
            s.list(old)
        }
    };
    let mut renames = HashMap::new();
    for pair in s.list("renames") {
        match pair.split_once(':') {
            Some((a, b)) if !a.is_empty() && !b.is_empty() => {
                renames.insert(a.to_string(), b.to_string());
            }
            _ => {
                return Err(s.invalid(
                    "renames",
                    s.get_or("renames", ""),
                    "Invalid rename mapping; expected a comma-separated list of 'old:new'",
                ));
            }
        }
    }
    Ok(Box::new(ReplaceField {
        part: Part::or_value(p),
        exclude: list("exclude", "blacklist"),
        include: list("include", "whitelist"),
        renames,
        schema: Derived::default(),
    }))
}

struct MaskField {
    part: Part,
    fields: Vec<String>,
    replacement: Option<String>,
    /// Per input schema, the positions of the masked fields it has.
    positions: Derived<Vec<usize>>,
}

impl MaskField {
    fn masked(&self, field: &str, v: &Value) -> Result<Value, String> {
        if v.is_null() {
            return Ok(Value::Null);
        }
        let Some(rep) = &self.replacement else {
            return Ok(match v {
                Value::Bool(_) => Value::Bool(false),
                Value::Number(n) if n.is_f64() => Value::from(0.0),
                Value::Number(_) => Value::from(0),
                Value::String(_) => Value::String(String::new()),
                Value::Array(_) => Value::Array(Vec::new()),
                Value::Object(_) => Value::Object(Map::new()),
                Value::Null => Value::Null,
            });
        };
        let bad = || {
            format!(
                "Unable to convert {rep} ({}) to number for field {field}",
                "java.lang.String"
            )
        };
        Ok(match v {
            Value::String(_) => Value::String(rep.clone()),
            Value::Number(n) if n.is_f64() => Value::from(rep.parse::<f64>().map_err(|_| bad())?),
            Value::Number(_) => Value::from(rep.parse::<i64>().map_err(|_| bad())?),
            other => {
                return Err(format!(
                    "Cannot mask value of type {} with custom replacement.",
                    java_type(other)
                ));
            }
        })
    }
}

impl MaskField {
    /// A primitive masked without its JSON view (the same result, faster):
    /// the type's zero, or the replacement for a string. `None` for the
    /// other cases, which go through JSON.
    fn masked_primitive(&self, v: &connect::Value) -> Option<connect::Value> {
        use connect::Value as V;
        Some(match (&self.replacement, v) {
            (_, V::Null) => V::Null,
            (Some(rep), V::String(_)) => V::String(rep.clone()),
            (Some(_), _) => return None,
            (None, V::Int8(_)) => V::Int8(0),
            (None, V::Int16(_)) => V::Int16(0),
            (None, V::Int32(_)) => V::Int32(0),
            (None, V::Int64(_)) => V::Int64(0),
            (None, V::Float32(_)) => V::Float32(0.0),
            (None, V::Float64(_)) => V::Float64(0.0),
            (None, V::Boolean(_)) => V::Boolean(false),
            (None, V::String(_)) => V::String(String::new()),
            (None, _) => return None,
        })
    }

    /// The masked struct: each listed field masked as its JSON view would
    /// be (logical types to their zero), read back under its schema.
    fn typed(&self, t: &mut SchemaAndValue) -> Result<(), String> {
        let positions = self.positions.get(&t.schema, |s| {
            Ok(self
                .fields
                .iter()
                .filter_map(|f| s.field(f).map(|(i, _)| i))
                .collect())
        })?;
        let values = typed::fields_mut(&mut t.value);
        for &i in positions.iter() {
            let field = &t.schema.fields()[i];
            let f = &field.name;
            let zero = typed::logical_zero(&field.schema).filter(|_| self.replacement.is_none());
            values[i] = match zero {
                Some(zero) if values[i] != connect::Value::Null => zero,
                _ => match self.masked_primitive(&values[i]) {
                    Some(masked) => masked,
                    None => typed::through_json(&field.schema, &field.schema, &values[i], |v| {
                        self.masked(f, v)
                    })?,
                },
            };
        }
        Ok(())
    }
}

impl Transformation for MaskField {
    fn apply(&self, r: &mut SinkRecord) -> Result<Outcome, String> {
        if let Some(t) = typed::as_struct_mut(self.part.get_mut(r)) {
            self.typed(t)?;
            return Ok(Outcome::Keep);
        }
        let Some(mut map) = into_map(self.part.take(r), "masking fields")? else {
            return Ok(Outcome::Keep);
        };
        for f in &self.fields {
            if let Some(v) = map.get(f) {
                let m = self.masked(f, v)?;
                map.insert(f.clone(), m);
            }
        }
        self.part.set(r, Data::Json(Value::Object(map)));
        Ok(Outcome::Keep)
    }
}

pub(super) fn mask_field(
    s: &Settings<'_>,
    p: Option<Part>,
) -> Result<Box<dyn Transformation>, ConfigIssue> {
    let fields = s.non_empty_list("fields")?;
    // Connect's `NonEmptyString`: an empty replacement is refused, not unset.
    if s.get("replacement") == Some("") {
        return Err(s.invalid("replacement", "", "String must be non-empty"));
    }
    let replacement = s.get("replacement").map(str::to_string);
    Ok(Box::new(MaskField {
        part: Part::or_value(p),
        fields,
        replacement,
        positions: Derived::default(),
    }))
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum CastType {
    Int(u32),
    Float32,
    Float64,
    Boolean,
    String,
}

fn cast_type(name: &str) -> Option<CastType> {
    Some(match name.trim() {
        "int8" => CastType::Int(8),
        "int16" => CastType::Int(16),
        "int32" => CastType::Int(32),
        "int64" => CastType::Int(64),
        "float32" => CastType::Float32,
        "float64" => CastType::Float64,
        "boolean" => CastType::Boolean,
        "string" => CastType::String,
        _ => return None,
    })
}

fn cast_value(v: &Value, to: CastType) -> Result<Value, String> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    let as_f64 = |v: &Value| -> Result<f64, String> {
        match v {
            Value::Number(n) => Ok(n.as_f64().unwrap_or_default()),
            Value::Bool(b) => Ok(if *b { 1.0 } else { 0.0 }),
            Value::String(s) => s
                .trim()
                .parse::<f64>()
                .map_err(|_| format!("Value ({s}) was out of range for requested data type")),
            other => Err(format!(
                "Unexpected type in Cast transformation: {}",
                java_type(other)
            )),
        }
    };
    Ok(match to {
        CastType::String => match v {
            Value::String(s) => Value::String(s.clone()),
            Value::Array(_) | Value::Object(_) => {
                return Err(format!(
                    "Unexpected type in Cast transformation: {}",
                    java_type(v)
                ));
            }
            other => Value::String(other.to_string()),
        },
        CastType::Boolean => match v {
            Value::Bool(b) => Value::Bool(*b),
            Value::String(s) => Value::Bool(s.trim().eq_ignore_ascii_case("true")),
            other => Value::Bool(as_f64(other)? != 0.0),
        },
        CastType::Float32 => Value::from(as_f64(v)? as f32 as f64),
        CastType::Float64 => Value::from(as_f64(v)?),
        CastType::Int(bits) => {
            let i = match v {
                Value::Number(n) if n.is_i64() || n.is_u64() => n.as_i64().unwrap_or(i64::MAX),
                Value::String(s) if s.trim().parse::<i64>().is_ok() => {
                    s.trim().parse::<i64>().unwrap_or_default()
                }
                other => as_f64(other)?.trunc() as i64,
            };
            // Java's narrowing conversions wrap.
            Value::from(match bits {
                8 => i as i8 as i64,
                16 => i as i16 as i64,
                32 => i as i32 as i64,
                _ => i,
            })
        }
    })
}

/// [`cast_value`] on a primitive with a schema, in place and without its
/// JSON view (the same result, faster); `false`, leaving `v` as it was,
/// where the JSON path decides: bytes, floats that are not finite, and
/// floats cast to strings (their text is JSON's). In place because moving
/// the value out and back through a returned enum cost more than the cast.
fn cast_primitive(v: &mut connect::Value, to: CastType) -> bool {
    use connect::Value as V;
    let int = |i: i64| match to {
        // Java's narrowing conversions wrap.
        CastType::Int(8) => V::Int8(i as i8),
        CastType::Int(16) => V::Int16(i as i16),
        CastType::Int(32) => V::Int32(i as i32),
        CastType::Int(_) => V::Int64(i),
        CastType::Float32 => V::Float32(i as f64 as f32),
        CastType::Float64 => V::Float64(i as f64),
        CastType::Boolean => V::Boolean(i != 0),
        CastType::String => V::String(i.to_string()),
    };
    let float = |f: f64| match to {
        CastType::Int(_) => Some(int(f.trunc() as i64)),
        // Out of f32's range: JSON's null decides.
        CastType::Float32 => Some(f as f32).filter(|f| f.is_finite()).map(V::Float32),
        CastType::Float64 => Some(V::Float64(f)),
        CastType::Boolean => Some(V::Boolean(f != 0.0)),
        CastType::String => None,
    };
    let cast = match &*v {
        V::Null => return true,
        V::Int8(i) => int(i64::from(*i)),
        V::Int16(i) => int(i64::from(*i)),
        V::Int32(i) => int(i64::from(*i)),
        V::Int64(i) => int(*i),
        V::Float32(f) if f.is_finite() => match float(f64::from(*f)) {
            Some(cast) => cast,
            None => return false,
        },
        V::Float64(f) if f.is_finite() => match float(*f) {
            Some(cast) => cast,
            None => return false,
        },
        V::Boolean(b) => match to {
            CastType::Boolean => return true,
            CastType::String => V::String((if *b { "true" } else { "false" }).to_string()),
            _ => int(i64::from(*b)),
        },
        V::String(s) => match to {
            CastType::String => return true,
            CastType::Boolean => V::Boolean(s.trim().eq_ignore_ascii_case("true")),
            _ => return false,
        },
        _ => return false,
    };
    *v = cast;
    true
}

struct Cast {
    part: Part,
    whole: Option<CastType>,
    fields: Vec<(String, CastType)>,
    schema: Derived<CastPlan>,
}

/// What Cast derives from an input schema.
struct CastPlan {
    schema: Arc<Schema>,
    /// The positions of the fields cast, with the type each is cast to.
    casts: Vec<(usize, CastType)>,
}

impl CastType {
    fn kind(self) -> SchemaKind {
        match self {
            CastType::Int(8) => SchemaKind::Int8,
            CastType::Int(16) => SchemaKind::Int16,
            CastType::Int(32) => SchemaKind::Int32,
            CastType::Int(_) => SchemaKind::Int64,
            CastType::Float32 => SchemaKind::Float32,
            CastType::Float64 => SchemaKind::Float64,
            CastType::Boolean => SchemaKind::Boolean,
            CastType::String => SchemaKind::String,
        }
    }
}

/// A primitive field's schema cast to `to`, as Connect's Cast builds it
/// (optionality kept); structs, arrays, maps and logical types are refused.
fn cast_schema(field: &Field, to: CastType) -> Result<Schema, String> {
    let s = &field.schema;
    if matches!(
        s.kind,
        SchemaKind::Struct(_) | SchemaKind::Array(_) | SchemaKind::Map { .. }
    ) || s.logical().is_some()
    {
        return Err(format!(
            "Cast transformation does not support casting to/from {} (field {})",
            s.name.as_deref().unwrap_or(s.kind.type_name()),
            field.name
        ));
    }
    let mut out = Schema::new(to.kind());
    out.optional = s.optional;
    Ok(out)
}

impl Cast {
    fn typed(&self, t: &mut SchemaAndValue) -> Result<(), String> {
        let plan = self.schema.get(&t.schema, |s| {
            let mut fields = Vec::new();
            let mut casts = Vec::new();
            for (i, f) in s.fields().iter().enumerate() {
                let to = self
                    .fields
                    .iter()
                    .find(|(n, _)| *n == f.name)
                    .map(|(_, t)| *t);
                fields.push(match to {
                    Some(to) => {
                        casts.push((i, to));
                        Field::new(f.name.as_str(), cast_schema(f, to)?)
                    }
                    None => f.clone(),
                });
            }
            Ok(CastPlan {
                schema: Arc::new(typed::with_fields(s, fields)),
                casts,
            })
        })?;
        let values = typed::fields_mut(&mut t.value);
        let (from, to) = (t.schema.fields(), plan.schema.fields());
        for &(i, cast) in &plan.casts {
            let value = &mut values[i];
            if !cast_primitive(value, cast) {
                *value = typed::through_json(&from[i].schema, &to[i].schema, value, |v| {
                    cast_value(v, cast)
                })?;
            }
        }
        t.schema = plan.schema.clone();
        Ok(())
    }
}

impl Transformation for Cast {
    fn apply(&self, r: &mut SinkRecord) -> Result<Outcome, String> {
        if self.whole.is_none()
            && let Some(t) = typed::as_struct_mut(self.part.get_mut(r))
        {
            self.typed(t)?;
            return Ok(Outcome::Keep);
        }
        let Some(v) = into_json(self.part.take(r))? else {
            return Ok(Outcome::Keep);
        };
        let out = if let Some(to) = self.whole {
            cast_value(&v, to)?
        } else {
            let Value::Object(mut map) = v else {
                return Err(format!(
                    "Only Map objects supported in absence of schema for [cast types], found: {}",
                    java_type(&v)
                ));
            };
            for (f, to) in &self.fields {
                if let Some(old) = map.get(f) {
                    let new = cast_value(old, *to)?;
                    map.insert(f.clone(), new);
                }
            }
            Value::Object(map)
        };
        self.part.set(r, Data::Json(out));
        Ok(Outcome::Keep)
    }
}

pub(super) fn cast(
    s: &Settings<'_>,
    p: Option<Part>,
) -> Result<Box<dyn Transformation>, ConfigIssue> {
    let spec = s.required("spec")?;
    let entries = split_list(spec);
    let bad = |why: &str| s.invalid("spec", spec, why);
    let mut whole = None;
    let mut fields = Vec::new();
    for e in &entries {
        match e.split_once(':') {
            Some((f, t)) => {
                let t = cast_type(t)
                    .ok_or_else(|| bad(&format!("Invalid type found in casting spec: {t}")))?;
                fields.push((f.trim().to_string(), t));
            }
            None if entries.len() == 1 => {
                whole = Some(
                    cast_type(e)
                        .ok_or_else(|| bad(&format!("Invalid type found in casting spec: {e}")))?,
                );
            }
            None => {
                return Err(bad(
                    "Must specify field:type pairs, or a single type to cast the whole value",
                ));
            }
        }
    }
    Ok(Box::new(Cast {
        part: Part::or_value(p),
        whole,
        fields,
        schema: Derived::default(),
    }))
}

/// Renames (and versions) the schema of a record that has one; schemaless
/// records have no schema to rename and pass through unchanged.
struct SetSchemaMetadata {
    part: Part,
    name: Option<String>,
    version: Option<i32>,
    schema: Derived<Arc<Schema>>,
}

impl Transformation for SetSchemaMetadata {
    fn apply(&self, r: &mut SinkRecord) -> Result<Outcome, String> {
        if let Data::Typed(t) = self.part.get(r) {
            let schema = self.schema.get(&t.schema, |s| {
                let mut s = Schema::clone(s);
                if let Some(name) = &self.name {
                    s.name = Some(name.clone());
                }
                if let Some(version) = self.version {
                    s.version = Some(version);
                }
                Ok(Arc::new(s))
            })?;
            let Data::Typed(t) = self.part.take(r) else {
                unreachable!("checked above")
            };
            self.part.set(
                r,
                Data::Typed(SchemaAndValue::new(Arc::clone(&schema), t.value)),
            );
        }
        Ok(Outcome::Keep)
    }
}

pub(super) fn set_schema_metadata(
    s: &Settings<'_>,
    p: Option<Part>,
) -> Result<Box<dyn Transformation>, ConfigIssue> {
    let version = match s.get("schema.version") {
        Some(v) => Some(
            v.trim()
                .parse::<i32>()
                .map_err(|_| s.invalid("schema.version", v, "Not a number of type INT"))?,
        ),
        None => None,
    };
    Ok(Box::new(SetSchemaMetadata {
        part: Part::or_value(p),
        name: s.get("schema.name").map(str::to_string),
        version,
        schema: Derived::default(),
    }))
}

#[cfg(test)]
mod tests {
    use connect_api::Data;
    use serde_json::json;

    use super::super::test_support::{apply, chain, record, try_chain};

    fn value(c: &super::super::TransformChain, v: serde_json::Value) -> Data {
        apply(c, record(v)).value
    }

    /// Primitives of every kind, edge values included.
    fn primitives() -> Vec<(connect_api::schema::Schema, connect_api::schema::Value)> {
        use connect_api::schema::{Schema, SchemaKind as K, Value as V};
        let s = Schema::new;
        vec![
            (s(K::Int8), V::Int8(-128)),
            (s(K::Int16), V::Int16(300)),
            (s(K::Int32), V::Int32(-70_000)),
            (s(K::Int64), V::Int64(i64::MAX)),
            (s(K::Int64), V::Int64(1 << 40)),
            (s(K::Float32), V::Float32(4.5)),
            (s(K::Float32), V::Float32(-1e10)),
            (s(K::Float32), V::Float32(f32::NAN)),
            (s(K::Float64), V::Float64(-2.75)),
            (s(K::Float64), V::Float64(1e300)),
            (s(K::Float64), V::Float64(3.0)),
            (s(K::Boolean), V::Boolean(true)),
            (s(K::Boolean), V::Boolean(false)),
            (s(K::String), V::String(" TRUE ".into())),
            (s(K::String), V::String("12".into())),
            (s(K::String), V::String("x".into())),
            (s(K::String).optional(), V::Null),
        ]
    }

    #[test]
    fn cast_native_path_matches_the_json_path() {
        use super::{CastType, cast_primitive, cast_schema, cast_value};
        use connect_api::schema::Field;
        let types = [
            CastType::Int(8),
            CastType::Int(16),
            CastType::Int(32),
            CastType::Int(64),
            CastType::Float32,
            CastType::Float64,
            CastType::Boolean,
            CastType::String,
        ];
        let mut native = 0;
        for (schema, v) in primitives() {
            for to in types {
                let field = Field::new("f", schema.clone());
                let to_schema = cast_schema(&field, to).unwrap();
                let reference =
                    super::typed::through_json(&schema, &to_schema, &v, |j| cast_value(j, to));
                let mut fast = v.clone();
                if cast_primitive(&mut fast, to) {
                    native += 1;
                    assert_eq!(Ok(fast), reference, "{v:?} to {to:?}");
                } else {
                    // (Compared as text: NaN is one of them.)
                    assert_eq!(
                        format!("{fast:?}"),
                        format!("{v:?}"),
                        "a value the JSON path casts is left as it was"
                    );
                }
            }
        }
        assert!(native > 100, "only {native} casts took the native path");
    }

    #[test]
    fn mask_native_path_matches_the_json_path() {
        for replacement in [None, Some("***")] {
            let mask = super::MaskField {
                part: super::Part::Value,
                fields: vec!["f".into()],
                replacement: replacement.map(str::to_string),
                positions: super::Derived::default(),
            };
            for (schema, v) in primitives() {
                let Some(fast) = mask.masked_primitive(&v) else {
                    continue;
                };
                if matches!(v, connect_api::schema::Value::Float32(f) if f.is_nan()) {
                    // NaN's JSON view is null; Connect masks it to 0 by its
                    // type, as the native path does.
                    assert_eq!(fast, connect_api::schema::Value::Float32(0.0));
                    continue;
                }
                let reference =
                    super::typed::through_json(&schema, &schema, &v, |j| mask.masked("f", j));
                assert_eq!(Ok(fast), reference, "{v:?} with {replacement:?}");
            }
        }
    }

    #[test]
    fn insert_field_schemaless() {
        let c = chain(
            "InsertField$Value",
            &[
                ("topic.field", "topic_field!"),
                ("partition.field", "partition_field"),
                ("timestamp.field", "timestamp_field?"),
                ("static.field", "instance_id"),
                ("static.value", "my-instance-id"),
                ("offset.field", "offset_field"),
            ],
        );
        assert_eq!(
            value(&c, json!({"magic": 42})),
            Data::Json(json!({
                "magic": 42, "topic_field": "test", "partition_field": 0,
                "timestamp_field": 1_483_425_001_864i64, "instance_id": "my-instance-id",
                "offset_field": 42
            }))
        );
        // Tombstones pass through unchanged.
        let mut t = record(json!(null));
        t.value = Data::Null;
        assert_eq!(apply(&c, t).value, Data::Null);
        // A non-map is refused.
        assert!(c.apply(record(json!(42))).is_err());
        let k = chain("InsertField$Key", &[("topic.field", "t")]);
        let mut r = record(json!(1));
        r.key = Data::Json(json!({}));
        assert_eq!(apply(&k, r).key, Data::Json(json!({"t": "test"})));
    }

    #[test]
    fn replace_field_schemaless() {
        let c = chain(
            "ReplaceField$Value",
            &[("exclude", "dont"), ("renames", "abc:xyz,foo:bar")],
        );
        assert_eq!(
            value(
                &c,
                json!({"dont": "whatever", "abc": 42, "foo": true, "etc": "etc"})
            ),
            Data::Json(json!({"xyz": 42, "bar": true, "etc": "etc"}))
        );
        let c = chain(
            "ReplaceField$Value",
            &[("include", "abc,foo"), ("renames", "abc:xyz")],
        );
        assert_eq!(
            value(&c, json!({"dont": 1, "abc": 42, "foo": true})),
            Data::Json(json!({"xyz": 42, "foo": true}))
        );
        let c = chain(
            "ReplaceField$Value",
            &[("blacklist", "dont"), ("whitelist", "abc,dont")],
        );
        assert_eq!(
            value(&c, json!({"dont": 1, "abc": 2, "x": 3})),
            Data::Json(json!({"abc": 2}))
        );
        assert!(try_chain("ReplaceField$Value", &[("renames", "a")]).is_err());
    }

    #[test]
    fn extract_field_schemaless() {
        let c = chain("ExtractField$Value", &[("field", "magic")]);
        assert_eq!(value(&c, json!({"magic": 42})), Data::Json(json!(42)));
        assert_eq!(value(&c, json!({"other": 42})), Data::Null);
        let k = chain("ExtractField$Key", &[("field", "magic")]);
        let mut r = record(json!(1));
        r.key = Data::Json(json!({"magic": {"x": 1}}));
        assert_eq!(apply(&k, r).key, Data::Json(json!({"x": 1})));
        let mut t = record(json!(1));
        t.value = Data::Null;
        assert_eq!(apply(&c, t).value, Data::Null);
        let n = chain(
            "ExtractField$Value",
            &[("field", "a.`b.c`"), ("field.syntax.version", "V2")],
        );
        assert_eq!(value(&n, json!({"a": {"b.c": 7}})), Data::Json(json!(7)));
        assert!(try_chain("ExtractField$Value", &[]).is_err());
    }

    #[test]
    fn hoist_field_schemaless() {
        let c = chain("HoistField$Value", &[("field", "magic")]);
        assert_eq!(value(&c, json!(42)), Data::Json(json!({"magic": 42})));
        let k = chain("HoistField$Key", &[("field", "k")]);
        let mut r = record(json!(1));
        r.key = Data::Text("id".into());
        assert_eq!(apply(&k, r).key, Data::Json(json!({"k": "id"})));
    }

    #[test]
    fn mask_field_schemaless() {
        let c = chain(
            "MaskField$Value",
            &[("fields", "int,str,bool,arr,map,nil,dbl")],
        );
        assert_eq!(
            value(
                &c,
                json!({"int": 42, "str": "s", "bool": true, "arr": [1], "map": {"a": 1}, "nil": null, "dbl": 1.5, "keep": 1})
            ),
            Data::Json(
                json!({"int": 0, "str": "", "bool": false, "arr": [], "map": {}, "nil": null, "dbl": 0.0, "keep": 1})
            )
        );
        let c = chain(
            "MaskField$Value",
            &[("fields", "int,str"), ("replacement", "123")],
        );
        assert_eq!(
            value(&c, json!({"int": 42, "str": "s"})),
            Data::Json(json!({"int": 123, "str": "123"}))
        );
        let c = chain(
            "MaskField$Value",
            &[("fields", "int"), ("replacement", "abc")],
        );
        assert!(c.apply(record(json!({"int": 1}))).is_err());
        let c = chain("MaskField$Value", &[("fields", "b"), ("replacement", "x")]);
        assert!(c.apply(record(json!({"b": true}))).is_err());
    }

    #[test]
    fn flatten_schemaless() {
        let c = chain("Flatten$Value", &[]);
        assert_eq!(
            value(
                &c,
                json!({"A": {"B": {"int8": 8, "arr": [1]}, "s": "x"}, "n": null, "top": 1})
            ),
            Data::Json(json!({"A.B.int8": 8, "A.B.arr": [1], "A.s": "x", "n": null, "top": 1}))
        );
        let c = chain("Flatten$Value", &[("delimiter", "#")]);
        assert_eq!(
            value(&c, json!({"a": {"b": 1}})),
            Data::Json(json!({"a#b": 1}))
        );
        assert!(c.apply(record(json!(1))).is_err());
    }

    #[test]
    fn cast_schemaless() {
        let c = chain(
            "Cast$Value",
            &[(
                "spec",
                "a:int8,b:int32,c:float32,d:boolean,e:string,f:int64",
            )],
        );
        assert_eq!(
            value(
                &c,
                json!({"a": 300, "b": "42", "c": 1.5, "d": 0, "e": 12, "f": 3.9, "g": 1})
            ),
            Data::Json(json!({"a": 44, "b": 42, "c": 1.5, "d": false, "e": "12", "f": 3, "g": 1}))
        );
        let w = chain("Cast$Value", &[("spec", "int32")]);
        assert_eq!(value(&w, json!("7")), Data::Json(json!(7)));
        let w = chain("Cast$Value", &[("spec", "string")]);
        assert_eq!(value(&w, json!(true)), Data::Json(json!("true")));
        assert!(try_chain("Cast$Value", &[("spec", "a:nope")]).is_err());
        assert!(try_chain("Cast$Value", &[("spec", "int32,a:int8")]).is_err());
    }

    #[test]
    fn value_to_key_schemaless() {
        let c = chain("ValueToKey", &[("fields", "a,b")]);
        let out = apply(&c, record(json!({"a": 1, "b": 2, "c": 3})));
        assert_eq!(out.key, Data::Json(json!({"a": 1, "b": 2})));
        assert_eq!(out.value, Data::Json(json!({"a": 1, "b": 2, "c": 3})));
        assert!(try_chain("ValueToKey", &[]).is_err());
    }

    #[test]
    fn set_schema_metadata_passes_schemaless_through() {
        let c = chain(
            "SetSchemaMetadata$Value",
            &[("schema.name", "foo"), ("schema.version", "2")],
        );
        assert_eq!(value(&c, json!({"a": 1})), Data::Json(json!({"a": 1})));
        assert!(try_chain("SetSchemaMetadata$Value", &[("schema.version", "x")]).is_err());
    }
}
