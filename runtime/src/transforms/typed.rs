//! The schema paths of the field SMTs: on a record with a Connect schema
//! (a STRUCT value, as the JSON envelope and the Schema Registry converters
//! give), ReplaceField, InsertField, MaskField, Cast and SetSchemaMetadata
//! change the struct in place and derive the new schema as Connect does,
//! instead of going through the JSON view and losing the schema. The new
//! schema is built once per input schema ([`Derived`]): the records of a
//! topic share theirs.

use std::sync::{Arc, Mutex, OnceLock};

use connect_api::Data;
use connect_api::schema::{Field, Schema, SchemaAndValue, SchemaKind, Value, json_view};

/// What a transformation derives from a key its records repeat (an input
/// schema, a topic), built once per key. The first key's output is read
/// without a lock (the hot path: a topic's records share one schema `Arc`,
/// a task reads few topics); the last other one is kept behind a mutex.
pub(crate) struct Memo<K, T> {
    first: OnceLock<(K, Arc<T>)>,
    last: Mutex<Option<(K, Arc<T>)>>,
}

/// An output derived from an input schema.
pub(crate) type Derived<T> = Memo<Arc<Schema>, T>;

/// A [`Memo`] key: how two keys are told to be the same.
pub(crate) trait MemoKey: Clone {
    fn same(&self, other: &Self) -> bool;
}

impl MemoKey for Arc<Schema> {
    fn same(&self, other: &Self) -> bool {
        Arc::ptr_eq(self, other) || **self == **other
    }
}

impl MemoKey for Arc<str> {
    fn same(&self, other: &Self) -> bool {
        Arc::ptr_eq(self, other) || self == other
    }
}

impl<K, T> Default for Memo<K, T> {
    fn default() -> Self {
        Self {
            first: OnceLock::new(),
            last: Mutex::new(None),
        }
    }
}

/// A [`Memo`] output: borrowed on the hot path, shared otherwise.
pub(crate) enum Got<'a, T> {
    First(&'a T),
    Other(Arc<T>),
}

impl<T> std::ops::Deref for Got<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        match self {
            Got::First(t) => t,
            Got::Other(t) => t,
        }
    }
}

impl<K: MemoKey, T> Memo<K, T> {
    pub(crate) fn get(
        &self,
        key: &K,
        build: impl FnOnce(&K) -> Result<T, String>,
    ) -> Result<Got<'_, T>, String> {
        if let Some((seen, out)) = self.first.get()
            && seen.same(key)
        {
            return Ok(Got::First(out));
        }
        let mut slot = self.last.lock().expect("memo lock");
        if let Some((seen, out)) = slot.as_ref()
            && seen.same(key)
        {
            return Ok(Got::Other(out.clone()));
        }
        let out = Arc::new(build(key)?);
        if self.first.set((key.clone(), out.clone())).is_err() {
            *slot = Some((key.clone(), out.clone()));
        }
        Ok(Got::Other(out))
    }
}

/// `data` as a struct with its schema, for an SMT's schema path; `None`
/// sends the record down the JSON path.
pub(crate) fn as_struct(data: &Data) -> Option<&SchemaAndValue> {
    match data {
        Data::Typed(t) if struct_value(t) => Some(t),
        _ => None,
    }
}

/// [`as_struct`], to change the struct in place.
pub(crate) fn as_struct_mut(data: &mut Data) -> Option<&mut SchemaAndValue> {
    match data {
        Data::Typed(t) if struct_value(t) => Some(t),
        _ => None,
    }
}

/// Whether `t` is a struct value with its STRUCT schema (else the JSON path runs).
pub(crate) fn struct_value(t: &SchemaAndValue) -> bool {
    matches!(t.schema.kind, SchemaKind::Struct(_)) && matches!(t.value, Value::Struct(_))
}

/// The field values of a struct value, to change in place (see [`struct_value`]).
pub(crate) fn fields_mut(value: &mut Value) -> &mut Vec<Value> {
    match value {
        Value::Struct(values) => values,
        _ => unreachable!("struct_value checked it is a struct"),
    }
}

/// `t` with only the fields at `kept` (rising positions), under `schema`:
/// the struct is compacted in place, each kept value moved once.
pub(crate) fn keep_fields(t: &mut SchemaAndValue, schema: &Arc<Schema>, kept: &[usize]) {
    let values = fields_mut(&mut t.value);
    let mut kept = kept.iter().copied().peekable();
    let mut position = 0;
    values.retain(|_| {
        let keep = kept.next_if_eq(&position).is_some();
        position += 1;
        keep
    });
    t.schema = Arc::clone(schema);
}

/// The field values of a struct value (see [`struct_value`]).
pub(crate) fn into_fields(value: Value) -> Vec<Value> {
    match value {
        Value::Struct(values) => values,
        _ => Vec::new(),
    }
}

/// `schema` with other fields, keeping its name, version, doc, parameters
/// and optionality (Connect's `SchemaUtil.copySchemaBasics`).
pub(crate) fn with_fields(schema: &Schema, fields: Vec<Field>) -> Schema {
    Schema {
        kind: SchemaKind::Struct(fields),
        default: None,
        name: schema.name.clone(),
        version: schema.version,
        doc: schema.doc.clone(),
        parameters: schema.parameters.clone(),
        optional: schema.optional,
    }
}

/// A field's value changed through its JSON view by `change` (the
/// schemaless SMT's own rule), read back under `to`.
pub(crate) fn through_json(
    from: &Schema,
    to: &Schema,
    value: &Value,
    change: impl FnOnce(&serde_json::Value) -> Result<serde_json::Value, String>,
) -> Result<Value, String> {
    if *value == Value::Null {
        return Ok(Value::Null);
    }
    let changed = change(&json_view(from, value))?;
    crate::converters::value_from_json(to, &changed)
}

/// The zero of a logical type's physical form (MaskField's mask for
/// Decimal, Date, Time and Timestamp, as Connect's epoch and zero).
pub(crate) fn logical_zero(schema: &Schema) -> Option<Value> {
    schema.logical()?;
    Some(match schema.kind {
        SchemaKind::Int32 => Value::Int32(0),
        SchemaKind::Int64 => Value::Int64(0),
        _ => Value::Bytes(bytes::Bytes::from_static(&[0])),
    })
}

#[cfg(test)]
mod tests {
    use connect_api::Data;
    use connect_api::schema::{Field, Schema, SchemaAndValue, SchemaKind, Value, decimal_bytes};

    use super::super::test_support::{apply, chain, record};

    fn product() -> Data {
        let schema = Schema::new(SchemaKind::Struct(vec![
            Field::new("id", Schema::new(SchemaKind::Int64)),
            Field::new("name", Schema::new(SchemaKind::String)),
            Field::new("secret", Schema::new(SchemaKind::String).optional()),
            Field::new("price", Schema::decimal(2)),
            Field::new("qty", Schema::new(SchemaKind::Int32)),
        ]))
        .named("shop.Product");
        let mut schema = schema;
        schema.version = Some(3);
        Data::Typed(SchemaAndValue::new(
            schema,
            Value::Struct(vec![
                Value::Int64(7),
                Value::String("shoe".into()),
                Value::String("s3cr3t".into()),
                Value::Bytes(decimal_bytes("12.50", 2).unwrap()),
                Value::Int32(5),
            ]),
        ))
    }

    fn run(class: &str, settings: &[(&str, &str)]) -> SchemaAndValue {
        let mut r = record(serde_json::Value::Null);
        r.value = product();
        match apply(&chain(class, settings), r).value {
            Data::Typed(t) => t,
            other => panic!("the schema was lost: {other:?}"),
        }
    }

    fn names(t: &SchemaAndValue) -> Vec<&str> {
        t.schema.fields().iter().map(|f| f.name.as_str()).collect()
    }

    #[test]
    fn replace_field_drops_and_renames_fields_of_the_schema_and_the_struct() {
        let t = run(
            "ReplaceField$Value",
            &[("exclude", "secret"), ("renames", "qty:quantity")],
        );
        assert_eq!(names(&t), ["id", "name", "price", "quantity"]);
        assert_eq!(t.schema.name.as_deref(), Some("shop.Product"));
        assert_eq!(t.schema.version, Some(3));
        assert_eq!(
            t.to_display_string(),
            "Struct{id=7,name=shoe,price=12.50,quantity=5}"
        );
    }

    #[test]
    fn insert_field_adds_optional_fields_unless_marked_required() {
        let t = run(
            "InsertField$Value",
            &[
                ("topic.field", "topic!"),
                ("offset.field", "offset"),
                ("static.field", "src"),
                ("static.value", "e2e"),
            ],
        );
        assert_eq!(
            names(&t),
            [
                "id", "name", "secret", "price", "qty", "topic", "offset", "src"
            ]
        );
        let field = |n: &str| t.schema.field(n).unwrap().1.schema.clone();
        assert!(!field("topic").optional && field("offset").optional);
        assert_eq!(field("offset").kind, SchemaKind::Int64);
        assert!(
            t.to_display_string()
                .ends_with(",topic=test,offset=42,src=e2e}")
        );
        let mut r = record(serde_json::Value::Null);
        r.value = product();
        let dup = chain("InsertField$Value", &[("topic.field", "name")]).apply(r);
        assert!(dup.unwrap_err().message.contains("duplication"));
    }

    #[test]
    fn mask_field_masks_by_type_and_keeps_the_schema() {
        let t = run("MaskField$Value", &[("fields", "secret,qty,price")]);
        assert_eq!(names(&t), ["id", "name", "secret", "price", "qty"]);
        assert_eq!(
            t.to_display_string(),
            "Struct{id=7,name=shoe,secret=,price=0.00,qty=0}"
        );
        let t = run(
            "MaskField$Value",
            &[("fields", "secret"), ("replacement", "***")],
        );
        assert!(t.to_display_string().contains("secret=***"));
    }

    #[test]
    fn cast_changes_field_types_in_the_schema_and_the_values() {
        let t = run("Cast$Value", &[("spec", "qty:string,id:int32")]);
        let field = |n: &str| t.schema.field(n).unwrap().1.schema.kind.clone();
        assert_eq!(field("qty"), SchemaKind::String);
        assert_eq!(field("id"), SchemaKind::Int32);
        let Value::Struct(values) = &t.value else {
            panic!()
        };
        assert_eq!(values[0], Value::Int32(7));
        assert_eq!(values[4], Value::String("5".into()));
        let mut r = record(serde_json::Value::Null);
        r.value = product();
        let refused = chain("Cast$Value", &[("spec", "price:int32")]).apply(r);
        assert!(
            refused
                .unwrap_err()
                .message
                .contains("does not support casting")
        );
    }

    #[test]
    fn set_schema_metadata_renames_and_versions_the_schema() {
        let t = run(
            "SetSchemaMetadata$Value",
            &[("schema.name", "shop.Item"), ("schema.version", "9")],
        );
        assert_eq!(t.schema.name.as_deref(), Some("shop.Item"));
        assert_eq!(t.schema.version, Some(9));
        assert_eq!(names(&t).len(), 5);
    }
}
