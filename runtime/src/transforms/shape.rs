//! SMTs that reshape a key or value: `ExtractField`, `HoistField`,
//! `Flatten` and `ValueToKey`. Each has Connect's two paths: on a struct
//! with a schema (the JSON envelope, the Schema Registry converters) the
//! result keeps a schema derived as Connect derives it, built once per input
//! schema; on schemaless maps it works on the JSON.

use std::sync::Arc;

use connect_api::schema::{self as connect, Field, Schema, SchemaAndValue, SchemaKind};
use connect_api::{ConfigIssue, Data, SinkRecord};
use serde_json::{Map, Value};

use super::typed::{self, Derived};
use super::{Outcome, Part, Settings, Transformation, into_json, into_map, require_map};

/// As [`typed::as_struct`], or a null under a STRUCT schema (a tombstone that
/// keeps its schema, as Connect's does).
fn struct_or_null(data: &Data) -> Option<&SchemaAndValue> {
    match data {
        Data::Typed(t)
            if matches!(t.schema.kind, SchemaKind::Struct(_))
                && matches!(t.value, connect::Value::Struct(_) | connect::Value::Null) =>
        {
            Some(t)
        }
        _ => None,
    }
}

struct ExtractField {
    part: Part,
    path: Vec<String>,
    /// The extracted field's schema and its position at each step.
    schema: Derived<(Arc<Schema>, Vec<usize>)>,
}

impl ExtractField {
    /// Connect's schema path: the field's value under the field's schema.
    fn typed(&self, t: SchemaAndValue) -> Result<Data, String> {
        let plan = self.schema.get(&t.schema, |s| {
            let mut positions = Vec::new();
            let mut schema = s;
            let mut field = None;
            for step in &self.path {
                let (i, f) = schema
                    .field(step)
                    .ok_or_else(|| format!("Unknown field: {}", self.path.join(".")))?;
                positions.push(i);
                schema = &f.schema;
                field = Some(f.schema.clone());
            }
            let field = field.ok_or_else(|| "Unknown field: ".to_string())?;
            Ok((field, positions))
        })?;
        let mut value = t.value;
        for &i in &plan.1 {
            value = match value {
                connect::Value::Struct(mut values) => {
                    std::mem::replace(&mut values[i], connect::Value::Null)
                }
                _ => connect::Value::Null,
            };
        }
        Ok(Data::Typed(SchemaAndValue::new(plan.0.clone(), value)))
    }
}

impl Transformation for ExtractField {
    fn apply(&self, r: &mut SinkRecord) -> Result<Outcome, String> {
        if struct_or_null(self.part.get(r)).is_some() {
            let Data::Typed(t) = self.part.take(r) else {
                unreachable!("checked above")
            };
            let data = self.typed(t)?;
            self.part.set(r, data);
            return Ok(Outcome::Keep);
        }
        let Some(map) = into_map(self.part.take(r), "field extraction")? else {
            self.part.set(r, Data::Null);
            return Ok(Outcome::Keep);
        };
        let mut current = Value::Object(map);
        for step in &self.path {
            current = match current {
                Value::Object(mut m) => m.remove(step).unwrap_or(Value::Null),
                _ => Value::Null,
            };
        }
        let data = if current.is_null() {
            Data::Null
        } else {
            Data::Json(current)
        };
        self.part.set(r, data);
        Ok(Outcome::Keep)
    }
}

/// A field path: one name (V1), or dotted with backquotes for names
/// containing dots (V2, `field.syntax.version=V2`).
fn field_path(s: &Settings<'_>, field: &str) -> Result<Vec<String>, ConfigIssue> {
    match s
        .get_or("field.syntax.version", "V1")
        .trim()
        .to_ascii_uppercase()
        .as_str()
    {
        "V1" => Ok(vec![field.to_string()]),
        "V2" => {
            let mut path = Vec::new();
            let mut cur = String::new();
            let mut quoted = false;
            for c in field.chars() {
                match c {
                    '`' => quoted = !quoted,
                    '.' if !quoted => path.push(std::mem::take(&mut cur)),
                    c => cur.push(c),
                }
            }
            path.push(cur);
            Ok(path)
        }
        v => Err(s.invalid("field.syntax.version", v, "String must be one of: V1, V2")),
    }
}

pub(super) fn extract_field(
    s: &Settings<'_>,
    p: Option<Part>,
) -> Result<Box<dyn Transformation>, ConfigIssue> {
    let field = s.required("field")?;
    Ok(Box::new(ExtractField {
        part: Part::or_value(p),
        path: field_path(s, field)?,
        schema: Derived::default(),
    }))
}

struct HoistField {
    part: Part,
    field: String,
    schema: Derived<Arc<Schema>>,
}

impl Transformation for HoistField {
    fn apply(&self, r: &mut SinkRecord) -> Result<Outcome, String> {
        // Any value with a schema, struct or not, is wrapped with it.
        if let Data::Typed(_) = self.part.get(r) {
            let Data::Typed(t) = self.part.take(r) else {
                unreachable!("checked above")
            };
            let schema = self.schema.get(&t.schema, |s| {
                Ok(Arc::new(Schema::new(SchemaKind::Struct(vec![Field {
                    name: self.field.clone(),
                    schema: Arc::clone(s),
                }]))))
            })?;
            let value = connect::Value::Struct(vec![t.value]);
            self.part.set(
                r,
                Data::Typed(SchemaAndValue::new(Arc::clone(&schema), value)),
            );
            return Ok(Outcome::Keep);
        }
        let inner = into_json(self.part.take(r))?.unwrap_or(Value::Null);
        let mut m = Map::new();
        m.insert(self.field.clone(), inner);
        self.part.set(r, Data::Json(Value::Object(m)));
        Ok(Outcome::Keep)
    }
}

pub(super) fn hoist_field(
    s: &Settings<'_>,
    p: Option<Part>,
) -> Result<Box<dyn Transformation>, ConfigIssue> {
    Ok(Box::new(HoistField {
        part: Part::or_value(p),
        field: s.required("field")?.to_string(),
        schema: Derived::default(),
    }))
}
struct Flatten {
    part: Part,
    delimiter: String,
    schema: Derived<Arc<Schema>>,
}

impl Flatten {
    fn name(&self, prefix: &str, name: &str) -> String {
        if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}{}{name}", self.delimiter)
        }
    }

    fn flatten_into(&self, prefix: &str, map: Map<String, Value>, out: &mut Map<String, Value>) {
        for (k, v) in map {
            let name = self.name(prefix, &k);
            match v {
                Value::Object(inner) => self.flatten_into(&name, inner, out),
                other => {
                    out.insert(name, other);
                }
            }
        }
    }

    /// Connect's `buildUpdatedSchema`: nested struct fields become top-level
    /// fields named by their path; a field is optional when it or a struct
    /// above it is, and takes its default, or its parent's default's value.
    fn flatten_schema(
        &self,
        schema: &Schema,
        prefix: &str,
        optional: bool,
        parent_default: Option<&connect::Value>,
        out: &mut Vec<Field>,
    ) {
        for (i, f) in schema.fields().iter().enumerate() {
            let name = self.name(prefix, &f.name);
            let optional = optional || f.schema.optional;
            let default = f.schema.default.as_ref().or(match parent_default {
                Some(connect::Value::Struct(values)) => values.get(i),
                _ => None,
            });
            if let SchemaKind::Struct(_) = f.schema.kind {
                self.flatten_schema(&f.schema, &name, optional, default, out);
                continue;
            }
            // Connect's `copySchemaBasics`: type, name, version, doc, parameters.
            let mut copy = Schema::new(f.schema.kind.clone());
            copy.name = f.schema.name.clone();
            copy.version = f.schema.version;
            copy.doc = f.schema.doc.clone();
            copy.parameters = f.schema.parameters.clone();
            copy.optional = optional;
            copy.default = default.filter(|d| **d != connect::Value::Null).cloned();
            out.push(Field::new(name, copy));
        }
    }
}

/// Connect's `buildWithSchema`: the leaves of `value` (a struct under
/// `schema`) in field order; the leaves under a null struct are null.
fn flatten_values(schema: &Schema, value: connect::Value, out: &mut Vec<connect::Value>) {
    let mut values = match value {
        connect::Value::Struct(values) => values.into_iter(),
        _ => Vec::new().into_iter(),
    };
    for f in schema.fields() {
        let v = values.next().unwrap_or(connect::Value::Null);
        match f.schema.kind {
            SchemaKind::Struct(_) => flatten_values(&f.schema, v, out),
            _ => out.push(v),
        }
    }
}

impl Transformation for Flatten {
    fn apply(&self, r: &mut SinkRecord) -> Result<Outcome, String> {
        if let Some(t) = struct_or_null(self.part.get(r)) {
            let schema = self.schema.get(&t.schema, |s| {
                let mut fields = Vec::new();
                self.flatten_schema(s, "", s.optional, s.default.as_ref(), &mut fields);
                Ok(Arc::new(typed::with_fields(s, fields)))
            })?;
            let Data::Typed(t) = self.part.take(r) else {
                unreachable!("checked above")
            };
            let value = if t.value == connect::Value::Null {
                connect::Value::Null
            } else {
                let mut values = Vec::with_capacity(schema.fields().len());
                flatten_values(&t.schema, t.value, &mut values);
                connect::Value::Struct(values)
            };
            let flat = SchemaAndValue::new(Arc::clone(&schema), value);
            self.part.set(r, Data::Typed(flat));
            return Ok(Outcome::Keep);
        }
        let Some(map) = into_map(self.part.take(r), "flattening")? else {
            return Ok(Outcome::Keep);
        };
        let mut out = Map::new();
        self.flatten_into("", map, &mut out);
        self.part.set(r, Data::Json(Value::Object(out)));
        Ok(Outcome::Keep)
    }
}

pub(super) fn flatten(
    s: &Settings<'_>,
    p: Option<Part>,
) -> Result<Box<dyn Transformation>, ConfigIssue> {
    Ok(Box::new(Flatten {
        part: Part::or_value(p),
        delimiter: s.get_or("delimiter", ".").to_string(),
        schema: Derived::default(),
    }))
}
struct ValueToKey {
    fields: Vec<String>,
    /// The key's schema and the value positions of its fields.
    schema: Derived<(Arc<Schema>, Vec<usize>)>,
}

impl ValueToKey {
    /// Connect's schema path: a struct key of the listed value fields, with
    /// their schemas, the value unchanged.
    fn typed(&self, t: &SchemaAndValue) -> Result<Data, String> {
        let plan = self.schema.get(&t.schema, |s| {
            let mut fields = Vec::new();
            let mut positions = Vec::new();
            for name in &self.fields {
                let (i, f) = s
                    .field(name)
                    .ok_or_else(|| format!("Field does not exist: {name}"))?;
                fields.push(f.clone());
                positions.push(i);
            }
            Ok((Arc::new(Schema::new(SchemaKind::Struct(fields))), positions))
        })?;
        let values = match &t.value {
            connect::Value::Struct(values) => values,
            _ => unreachable!("as_struct checked it is a struct"),
        };
        let key = plan.1.iter().map(|&i| values[i].clone()).collect();
        Ok(Data::Typed(SchemaAndValue::new(
            plan.0.clone(),
            connect::Value::Struct(key),
        )))
    }
}

impl Transformation for ValueToKey {
    fn apply(&self, r: &mut SinkRecord) -> Result<Outcome, String> {
        if let Some(t) = typed::as_struct(&r.value) {
            r.key = self.typed(t)?;
            return Ok(Outcome::Keep);
        }
        let map = require_map(&r.value, "copying fields from value to key")?.unwrap_or_default();
        let key: Map<String, Value> = self
            .fields
            .iter()
            .map(|f| (f.clone(), map.get(f).cloned().unwrap_or(Value::Null)))
            .collect();
        r.key = Data::Json(Value::Object(key));
        Ok(Outcome::Keep)
    }
}

pub(super) fn value_to_key(
    s: &Settings<'_>,
    _: Option<Part>,
) -> Result<Box<dyn Transformation>, ConfigIssue> {
    let fields = s.non_empty_list("fields")?;
    Ok(Box::new(ValueToKey {
        fields,
        schema: Derived::default(),
    }))
}
#[cfg(test)]
mod tests {
    //! The schema-based cases of Kafka's `FlattenTest`, `ExtractFieldTest`,
    //! `HoistFieldTest` and `ValueToKeyTest`, rewritten (the schemaless ones
    //! are in `kafka_cases.rs`).

    use bytes::Bytes;
    use connect_api::Data;
    use connect_api::schema::{Field, Schema, SchemaAndValue, SchemaKind as K, Value as V};

    use super::super::test_support::{apply, chain, record};

    fn structure(fields: Vec<(&str, Schema)>) -> Schema {
        Schema::new(K::Struct(
            fields.into_iter().map(|(n, s)| Field::new(n, s)).collect(),
        ))
    }

    fn typed(schema: Schema, value: V) -> Data {
        Data::Typed(SchemaAndValue::new(schema, value))
    }

    fn with_value(value: Data) -> connect_api::SinkRecord {
        let mut r = record(serde_json::Value::Null);
        r.value = value;
        r
    }

    fn out(data: Data) -> SchemaAndValue {
        match data {
            Data::Typed(t) => t,
            other => panic!("expected a value with a schema, got {other:?}"),
        }
    }

    /// The value of `name` in the flat struct `t`, and its schema.
    fn get<'a>(t: &'a SchemaAndValue, name: &str) -> (&'a V, &'a Schema) {
        let (i, f) = t.schema.field(name).unwrap_or_else(|| panic!("no {name}"));
        match &t.value {
            V::Struct(values) => (&values[i], &f.schema),
            other => panic!("not a struct: {other:?}"),
        }
    }

    fn flatten() -> super::super::TransformChain {
        chain("Flatten$Value", &[])
    }

    #[test]
    fn flatten_test_nested_struct() {
        let leaves = vec![
            ("int8", Schema::new(K::Int8), V::Int8(8)),
            ("int16", Schema::new(K::Int16), V::Int16(16)),
            ("int32", Schema::new(K::Int32), V::Int32(32)),
            ("int64", Schema::new(K::Int64), V::Int64(64)),
            ("float32", Schema::new(K::Float32), V::Float32(32.0)),
            ("float64", Schema::new(K::Float64), V::Float64(64.0)),
            ("boolean", Schema::new(K::Boolean), V::Boolean(true)),
            (
                "string",
                Schema::new(K::String),
                V::String("stringy".into()),
            ),
            (
                "bytes",
                Schema::new(K::Bytes),
                V::Bytes(Bytes::from_static(b"bytes")),
            ),
        ];
        let inner = structure(leaves.iter().map(|(n, s, _)| (*n, s.clone())).collect());
        let one = structure(vec![("B", inner)]);
        let two = structure(vec![("A", one)]);
        let value = V::Struct(vec![V::Struct(vec![V::Struct(
            leaves.iter().map(|(_, _, v)| v.clone()).collect(),
        )])]);
        let t = out(apply(&flatten(), with_value(typed(two, value))).value);
        assert_eq!(t.schema.fields().len(), 9);
        for (name, schema, value) in &leaves {
            let (v, s) = get(&t, &format!("A.B.{name}"));
            assert_eq!((v, s), (value, schema), "{name}");
        }
    }

    #[test]
    fn flatten_test_optional_field_struct() {
        let inner = structure(vec![("opt_int32", Schema::new(K::Int32).optional())]);
        let schema = structure(vec![("B", inner)]);
        let value = V::Struct(vec![V::Struct(vec![V::Null])]);
        let t = out(apply(&flatten(), with_value(typed(schema, value))).value);
        let (v, s) = get(&t, "B.opt_int32");
        assert_eq!(v, &V::Null);
        assert!(s.optional);
    }

    #[test]
    fn flatten_test_optional_struct() {
        let schema = structure(vec![("opt_int32", Schema::new(K::Int32).optional())]).optional();
        let t = out(apply(&flatten(), with_value(typed(schema.clone(), V::Null))).value);
        assert!(matches!(t.schema.kind, K::Struct(_)));
        assert_eq!(t.value, V::Null);
    }

    #[test]
    fn flatten_test_optional_nested_struct() {
        let inner = structure(vec![("opt_int32", Schema::new(K::Int32).optional())]).optional();
        let schema = structure(vec![("B", inner)]);
        let t = out(apply(
            &flatten(),
            with_value(typed(schema, V::Struct(vec![V::Null]))),
        )
        .value);
        assert_eq!(get(&t, "B.opt_int32").0, &V::Null);
    }

    #[test]
    fn flatten_test_optional_and_default_values_nested() {
        let mut opt = Schema::new(K::String).optional();
        opt.default = Some(V::String("child_default".into()));
        let mut schema = structure(vec![
            ("req_field", Schema::new(K::String)),
            ("opt_field", opt),
        ])
        .optional();
        schema.default = Some(V::Struct(vec![V::String("req_default".into()), V::Null]));
        let value = V::Struct(vec![V::Null, V::Null]);
        let t = out(apply(&flatten(), with_value(typed(schema, value))).value);
        assert_eq!(t.schema.fields().len(), 2);
        let mut req = Schema::new(K::String).optional();
        req.default = Some(V::String("req_default".into()));
        assert_eq!(get(&t, "req_field").1, &req, "the parent's default");
        let mut opt = Schema::new(K::String).optional();
        opt.default = Some(V::String("child_default".into()));
        assert_eq!(get(&t, "opt_field").1, &opt, "its own default");
    }

    #[test]
    fn flatten_tombstone_event_with_schema_should_pass_through() {
        let mut schema = structure(vec![("magic", Schema::new(K::Int64).optional())]).named("name");
        schema.version = Some(1);
        schema.doc = Some("doc".into());
        let t = out(apply(&flatten(), with_value(typed(schema.clone(), V::Null))).value);
        assert_eq!((*t.schema).clone(), schema);
        assert_eq!(t.value, V::Null);
    }

    #[test]
    fn flatten_keeps_the_struct_name_and_a_delimiter() {
        let schema = structure(vec![
            ("id", Schema::new(K::Int64)),
            ("address", structure(vec![("city", Schema::new(K::String))])),
        ])
        .named("shop.Order");
        let value = V::Struct(vec![V::Int64(1), V::Struct(vec![V::String("Oslo".into())])]);
        let c = chain("Flatten$Value", &[("delimiter", "_")]);
        let t = out(apply(&c, with_value(typed(schema, value))).value);
        assert_eq!(t.schema.name.as_deref(), Some("shop.Order"));
        let names: Vec<&str> = t.schema.fields().iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["id", "address_city"]);
        assert_eq!(
            t.value,
            V::Struct(vec![V::Int64(1), V::String("Oslo".into())])
        );
    }

    fn magic() -> (Schema, V) {
        (
            structure(vec![("magic", Schema::new(K::Int64))]),
            V::Struct(vec![V::Int64(42)]),
        )
    }

    #[test]
    fn extract_field_test_with_schema() {
        let (schema, value) = magic();
        let c = chain("ExtractField$Value", &[("field", "magic")]);
        let t = out(apply(&c, with_value(typed(schema, value))).value);
        assert_eq!(t.schema.kind, K::Int64);
        assert_eq!(t.value, V::Int64(42));
    }

    #[test]
    fn extract_field_test_null_with_schema() {
        let (schema, _) = magic();
        let c = chain("ExtractField$Value", &[("field", "magic")]);
        let t = out(apply(&c, with_value(typed(schema, V::Null))).value);
        assert_eq!(t.schema.kind, K::Int64);
        assert_eq!(t.value, V::Null);
    }

    #[test]
    fn extract_field_non_existent_field_with_schema_should_fail() {
        let (schema, value) = magic();
        let c = chain("ExtractField$Value", &[("field", "nonexistent")]);
        let err = c.apply(with_value(typed(schema, value))).unwrap_err();
        assert_eq!(err.message, "Unknown field: nonexistent");
    }

    #[test]
    fn extract_field_test_nested_with_schema() {
        let inner = structure(vec![("inner", Schema::new(K::Int32))]);
        let schema = structure(vec![("outer", inner)]);
        let value = V::Struct(vec![V::Struct(vec![V::Int32(7)])]);
        let c = chain(
            "ExtractField$Value",
            &[("field", "outer.inner"), ("field.syntax.version", "V2")],
        );
        let t = out(apply(&c, with_value(typed(schema.clone(), value))).value);
        assert_eq!((t.schema.kind.clone(), t.value), (K::Int32, V::Int32(7)));
        let missing = chain(
            "ExtractField$Value",
            &[("field", "outer.none"), ("field.syntax.version", "V2")],
        );
        let err = missing
            .apply(with_value(typed(schema, V::Null)))
            .unwrap_err();
        assert_eq!(err.message, "Unknown field: outer.none");
    }

    #[test]
    fn hoist_field_with_schema() {
        let c = chain("HoistField$Value", &[("field", "magic")]);
        let t = out(apply(&c, with_value(typed(Schema::new(K::Int32), V::Int32(42)))).value);
        assert_eq!(*t.schema, structure(vec![("magic", Schema::new(K::Int32))]));
        assert_eq!(t.value, V::Struct(vec![V::Int32(42)]));
    }

    #[test]
    fn value_to_key_with_schema() {
        let schema = structure(vec![
            ("a", Schema::new(K::Int32)),
            ("b", Schema::new(K::Int32)),
            ("c", Schema::new(K::Int32)),
        ]);
        let value = V::Struct(vec![V::Int32(1), V::Int32(2), V::Int32(3)]);
        let c = chain("ValueToKey", &[("fields", "a,b")]);
        let r = apply(&c, with_value(typed(schema.clone(), value.clone())));
        let key = out(r.key);
        assert_eq!(
            *key.schema,
            structure(vec![
                ("a", Schema::new(K::Int32)),
                ("b", Schema::new(K::Int32))
            ])
        );
        assert_eq!(key.value, V::Struct(vec![V::Int32(1), V::Int32(2)]));
        assert_eq!(out(r.value).value, value, "the value is unchanged");
    }

    #[test]
    fn value_to_key_non_existent_field_with_schema() {
        let schema = structure(vec![("a", Schema::new(K::Int32))]);
        let c = chain("ValueToKey", &[("fields", "not_exist")]);
        let err = c
            .apply(with_value(typed(schema, V::Struct(vec![V::Int32(1)]))))
            .unwrap_err();
        assert_eq!(err.message, "Field does not exist: not_exist");
    }
}
