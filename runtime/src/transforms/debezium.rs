//! Debezium's `io.debezium.transforms.ExtractNewRecordState`, the most
//! common non-Apache SMT in sink configs: a change event's envelope
//! (`before`, `after`, `source`, `op`, `ts_ms`) becomes the row's new state.
//!
//! - creates, updates and snapshot reads become `after`;
//! - deletes and tombstones follow `delete.tombstone.handling.mode`
//!   (`drop`, `tombstone`, `rewrite`, `rewrite-with-tombstone`), or the
//!   older `delete.handling.mode` (`drop`, `none`, `rewrite`) and
//!   `drop.tombstones`, as Debezium reads them; `rewrite` turns a delete
//!   into `before` and adds `__deleted` (`"true"`/`"false"`) to every row;
//! - `add.fields` (prefix `add.fields.prefix`, `__`) copies envelope fields
//!   into the row: `op`, `ts_ms`, or a `source` field by name (`table`,
//!   `lsn`) or path (`source.ts_ms` → `__source_ts_ms`); `add.headers`
//!   (prefix `add.headers.prefix`) does the same into headers;
//! - records that are not change events (heartbeats, schema changes) pass
//!   through.
//!
//! Envelopes with a Connect schema (JSON with `schemas.enable`, Avro)
//! keep it: the row's schema gets the added fields as optional fields.
//! Other Debezium settings are refused with a 400, never ignored.

use std::sync::Arc;

use bytes::Bytes;
use connect_api::schema::{self as connect, Field, Schema, SchemaAndValue, SchemaKind};
use connect_api::{ConfigIssue, Data, SinkRecord};
use serde_json::{Map, Value};

use super::typed::{self, Derived};
use super::{Outcome, Settings, Transformation};

pub(super) const CLASS: &str = "io.debezium.transforms.ExtractNewRecordState";

const SETTINGS: &[&str] = &[
    "delete.tombstone.handling.mode",
    "delete.handling.mode",
    "drop.tombstones",
    "add.fields",
    "add.fields.prefix",
    "add.headers",
    "add.headers.prefix",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Deletes {
    Drop,
    Tombstone,
    Rewrite,
}

struct ExtractNewRecordState {
    deletes: Deletes,
    keep_tombstones: bool,
    /// (envelope path, output name) of each added field and header.
    fields: Vec<(Vec<String>, String)>,
    headers: Vec<(Vec<String>, String)>,
    deleted_field: String,
    /// Per envelope schema: the row schema with the added fields.
    schema: Derived<Arc<Schema>>,
}

/// An `add.fields` entry's path in the envelope and its output name.
fn added(name: &str, prefix: &str) -> (Vec<String>, String) {
    let path = match name {
        "op" | "ts_ms" | "ts_us" | "ts_ns" => vec![name.to_string()],
        n if n.contains('.') => n.split('.').map(str::to_string).collect(),
        n => vec!["source".to_string(), n.to_string()],
    };
    (path, format!("{prefix}{}", name.replace('.', "_")))
}

pub(super) fn extract_new_record_state(
    s: &Settings<'_>,
) -> Result<Box<dyn Transformation>, ConfigIssue> {
    if let Some(key) = s
        .keys()
        .find(|k| !SETTINGS.contains(k) && !matches!(*k, "type" | "predicate" | "negate"))
    {
        return Err(s.issue(
            key,
            format!("{CLASS}: the setting {key} is not supported by this host"),
        ));
    }
    let (deletes, keep_tombstones) = match s.get("delete.tombstone.handling.mode") {
        Some(mode) => match mode.trim() {
            "drop" => (Deletes::Drop, false),
            "tombstone" => (Deletes::Tombstone, true),
            "rewrite" => (Deletes::Rewrite, false),
            "rewrite-with-tombstone" => (Deletes::Rewrite, true),
            other => {
                return Err(s.invalid(
                    "delete.tombstone.handling.mode",
                    other,
                    "expected drop, tombstone, rewrite or rewrite-with-tombstone",
                ));
            }
        },
        None => {
            let deletes = match s.get_or("delete.handling.mode", "drop").trim() {
                "drop" => Deletes::Drop,
                "none" => Deletes::Tombstone,
                "rewrite" => Deletes::Rewrite,
                other => {
                    return Err(s.invalid(
                        "delete.handling.mode",
                        other,
                        "expected drop, none or rewrite",
                    ));
                }
            };
            let drop = match s.get_or("drop.tombstones", "true").trim() {
                "true" => true,
                "false" => false,
                other => {
                    return Err(s.invalid("drop.tombstones", other, "expected true or false"));
                }
            };
            (deletes, !drop)
        }
    };
    let list = |key: &str, prefix_key: &str| {
        let prefix = s.get_or(prefix_key, "__").to_string();
        s.list(key)
            .iter()
            .map(|n| added(n, &prefix))
            .collect::<Vec<_>>()
    };
    Ok(Box::new(ExtractNewRecordState {
        deletes,
        keep_tombstones,
        fields: list("add.fields", "add.fields.prefix"),
        headers: list("add.headers", "add.headers.prefix"),
        deleted_field: format!("{}deleted", s.get_or("add.fields.prefix", "__")),
        schema: Derived::default(),
    }))
}

/// What to do with one change event.
enum Row {
    /// The row state under this envelope field (`after`, or `before` for a
    /// rewritten delete), with `__deleted` when rewriting.
    State(&'static str, Option<&'static str>),
    Tombstone,
    Dropped,
}

impl ExtractNewRecordState {
    fn row(&self, op: Option<&str>) -> Row {
        let deleted = |d| (self.deletes == Deletes::Rewrite).then_some(d);
        match (op, self.deletes) {
            (Some("d"), Deletes::Drop) => Row::Dropped,
            (Some("d"), Deletes::Tombstone) => Row::Tombstone,
            (Some("d"), Deletes::Rewrite) => Row::State("before", Some("true")),
            _ => Row::State("after", deleted("false")),
        }
    }

    /// `add.headers`, read from the event's JSON form.
    fn headers(&self, r: &mut SinkRecord, event: &Value) {
        for (path, name) in &self.headers {
            let text = match at(event, path) {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(Bytes::from(s.clone())),
                Some(other) => Some(Bytes::from(other.to_string())),
            };
            r.headers.push((name.clone(), text));
        }
    }

    fn schemaless(&self, r: &mut SinkRecord, envelope: Map<String, Value>) -> Outcome {
        let event = Value::Object(envelope);
        self.headers(r, &event);
        match self.row(event.get("op").and_then(Value::as_str)) {
            Row::Dropped => return Outcome::Discard,
            Row::Tombstone => r.value = Data::Null,
            Row::State(field, deleted) => {
                let mut row = match event.get(field) {
                    Some(Value::Object(m)) => m.clone(),
                    _ => Map::new(),
                };
                for (path, name) in &self.fields {
                    row.insert(
                        name.clone(),
                        at(&event, path).cloned().unwrap_or(Value::Null),
                    );
                }
                if let Some(d) = deleted {
                    row.insert(self.deleted_field.clone(), Value::String(d.into()));
                }
                r.value = Data::Json(Value::Object(row));
            }
        }
        Outcome::Keep
    }

    fn typed(&self, r: &mut SinkRecord, envelope: SchemaAndValue) -> Result<Outcome, String> {
        // The JSON form only when headers are asked for: the row is read
        // from the struct itself.
        if !self.headers.is_empty() {
            self.headers(r, &envelope.to_json());
        }
        let schema = envelope.schema.clone();
        let mut values = typed::into_fields(envelope.value);
        let op = schema.field("op").and_then(|(i, _)| match &values[i] {
            connect::Value::String(op) => Some(op.as_str()),
            _ => None,
        });
        let (field, deleted) = match self.row(op) {
            Row::Dropped => return Ok(Outcome::Discard),
            Row::Tombstone => {
                r.value = Data::Null;
                return Ok(Outcome::Keep);
            }
            Row::State(field, deleted) => (field, deleted),
        };
        let Some((index, state)) = schema.field(field) else {
            return Err(format!("the change event has no {field} field"));
        };
        let state_value = std::mem::replace(&mut values[index], connect::Value::Null);
        // A row without extra fields keeps its own schema (and its Arc).
        if self.fields.is_empty() && deleted.is_none() {
            r.value = match state_value {
                connect::Value::Null => Data::Null,
                value => Data::Typed(SchemaAndValue::new(state.schema.clone(), value)),
            };
            return Ok(Outcome::Keep);
        }
        // Extra fields: their schemas from the envelope, optional.
        let extra = |path: &[String]| -> Option<(Arc<Schema>, connect::Value)> {
            let (i, f) = schema.field(path.first()?)?;
            let (mut s, mut v) = (f.schema.clone(), values.get(i)?.clone());
            for step in &path[1..] {
                let (j, g) = s.field(step)?;
                v = match v {
                    connect::Value::Struct(vs) => vs.get(j)?.clone(),
                    _ => return None,
                };
                s = g.schema.clone();
            }
            Some((s, v))
        };
        let row_schema = self.schema.get(&schema, |_| {
            let mut fields = state.schema.fields().to_vec();
            for (path, name) in &self.fields {
                let s = extra(path).map_or(Schema::new(SchemaKind::String), |(s, _)| (*s).clone());
                fields.push(Field::new(name.as_str(), s.optional()));
            }
            if deleted.is_some() {
                fields.push(Field::new(
                    self.deleted_field.as_str(),
                    Schema::new(SchemaKind::String).optional(),
                ));
            }
            Ok(Arc::new(typed::with_fields(&state.schema, fields)))
        })?;
        let mut row = match state_value {
            connect::Value::Struct(vs) => vs,
            _ => vec![connect::Value::Null; state.schema.fields().len()],
        };
        for (path, _) in &self.fields {
            row.push(extra(path).map_or(connect::Value::Null, |(_, v)| v));
        }
        if let Some(d) = deleted {
            row.push(connect::Value::String(d.into()));
        }
        r.value = Data::Typed(SchemaAndValue::new(
            Arc::clone(&row_schema),
            connect::Value::Struct(row),
        ));
        Ok(Outcome::Keep)
    }
}

/// The value at `path` in a change event's JSON form.
fn at<'a>(event: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(event, |node, step| node.get(step))
}

/// A change event's envelope: has `op` and a `before` or `after`.
fn is_envelope(names: &[&str]) -> bool {
    names.contains(&"op") && (names.contains(&"after") || names.contains(&"before"))
}

impl Transformation for ExtractNewRecordState {
    fn apply(&self, r: &mut SinkRecord) -> Result<Outcome, String> {
        if r.value.is_null() {
            return Ok(if self.keep_tombstones {
                Outcome::Keep
            } else {
                Outcome::Discard
            });
        }
        match &r.value {
            Data::Typed(t) if typed::struct_value(t) => {
                let names: Vec<&str> = t.schema.fields().iter().map(|f| f.name.as_str()).collect();
                if !is_envelope(&names) {
                    return Ok(Outcome::Keep);
                }
                let Data::Typed(t) = std::mem::replace(&mut r.value, Data::Null) else {
                    unreachable!("matched above")
                };
                self.typed(r, t)
            }
            Data::Json(Value::Object(m)) => {
                let names: Vec<&str> = m.keys().map(String::as_str).collect();
                if !is_envelope(&names) {
                    return Ok(Outcome::Keep);
                }
                let Data::Json(Value::Object(m)) = std::mem::replace(&mut r.value, Data::Null)
                else {
                    unreachable!("matched above")
                };
                Ok(self.schemaless(r, m))
            }
            _ => Ok(Outcome::Keep),
        }
    }
}

#[cfg(test)]
mod tests {
    use connect_api::Data;
    use serde_json::json;

    use super::super::test_support::{chain, record};
    use super::CLASS;

    fn event(op: &str, before: serde_json::Value, after: serde_json::Value) -> serde_json::Value {
        json!({"before": before, "after": after, "op": op, "ts_ms": 1700000000000i64,
               "source": {"table": "products", "lsn": 42, "ts_ms": 1699999999000i64}})
    }

    fn run(
        settings: &[(&str, &str)],
        value: Option<serde_json::Value>,
    ) -> Option<connect_api::SinkRecord> {
        let mut r = record(json!(null));
        r.value = value.map_or(Data::Null, Data::Json);
        chain(CLASS, settings).apply(r).unwrap()
    }

    #[test]
    fn creates_and_updates_become_the_new_row_and_deletes_and_tombstones_are_dropped() {
        let row = run(
            &[],
            Some(event(
                "u",
                json!({"id": 1, "v": "a"}),
                json!({"id": 1, "v": "b"}),
            )),
        );
        assert_eq!(row.unwrap().value, Data::Json(json!({"id": 1, "v": "b"})));
        assert!(run(&[], Some(event("d", json!({"id": 1}), json!(null)))).is_none());
        assert!(run(&[], None).is_none(), "tombstones dropped by default");
        let heartbeat = json!({"ts_ms": 1});
        assert_eq!(
            run(&[], Some(heartbeat.clone())).unwrap().value,
            Data::Json(heartbeat)
        );
    }

    #[test]
    fn rewrite_marks_deletes_and_add_fields_copies_envelope_fields() {
        let settings = [
            ("delete.tombstone.handling.mode", "rewrite-with-tombstone"),
            ("add.fields", "op,table,source.ts_ms"),
            ("add.headers", "op"),
        ];
        let deleted = run(&settings, Some(event("d", json!({"id": 1}), json!(null)))).unwrap();
        assert_eq!(
            deleted.value,
            Data::Json(json!({"id": 1, "__op": "d", "__table": "products",
                              "__source_ts_ms": 1699999999000i64, "__deleted": "true"}))
        );
        assert_eq!(
            deleted.headers,
            vec![("__op".to_string(), Some(bytes::Bytes::from("d")))]
        );
        let created = run(&settings, Some(event("c", json!(null), json!({"id": 2})))).unwrap();
        assert_eq!(created.value.to_json().unwrap()["__deleted"], "false");
        assert!(run(&settings, None).is_some(), "tombstones kept");
        let legacy = run(
            &[("delete.handling.mode", "none")],
            Some(event("d", json!({"id": 1}), json!(null))),
        );
        assert_eq!(legacy.unwrap().value, Data::Null);
    }

    #[test]
    fn an_envelope_with_a_schema_gives_the_row_with_its_schema_and_the_added_fields() {
        use connect_api::schema::{Field, Schema, SchemaAndValue, SchemaKind, Value};
        let row = Schema::new(SchemaKind::Struct(vec![Field::new(
            "id",
            Schema::new(SchemaKind::Int64),
        )]))
        .named("db.products.Value")
        .optional();
        let envelope = Schema::new(SchemaKind::Struct(vec![
            Field::new("before", row.clone()),
            Field::new("after", row),
            Field::new(
                "source",
                Schema::new(SchemaKind::Struct(vec![Field::new(
                    "table",
                    Schema::new(SchemaKind::String),
                )])),
            ),
            Field::new("op", Schema::new(SchemaKind::String)),
            Field::new("ts_ms", Schema::new(SchemaKind::Int64)),
        ]))
        .named("db.products.Envelope");
        let mut r = record(json!(null));
        r.value = Data::Typed(SchemaAndValue::new(
            envelope,
            Value::Struct(vec![
                Value::Null,
                Value::Struct(vec![Value::Int64(5)]),
                Value::Struct(vec![Value::String("products".into())]),
                Value::String("c".into()),
                Value::Int64(1),
            ]),
        ));
        let settings = [
            ("delete.handling.mode", "rewrite"),
            ("add.fields", "op,table"),
        ];
        let out = chain(CLASS, &settings).apply(r).unwrap().unwrap();
        let Data::Typed(t) = out.value else {
            panic!("the schema was lost")
        };
        assert_eq!(t.schema.name.as_deref(), Some("db.products.Value"));
        let names: Vec<&str> = t.schema.fields().iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["id", "__op", "__table", "__deleted"]);
        assert_eq!(
            t.to_display_string(),
            "Struct{id=5,__op=c,__table=products,__deleted=false}"
        );
    }

    #[test]
    fn settings_it_does_not_read_are_refused() {
        let mut config = connect_api::ConfigMap::new();
        config.insert("transforms".into(), "unwrap".into());
        config.insert("transforms.unwrap.type".into(), CLASS.into());
        config.insert("transforms.unwrap.route.by.field".into(), "table".into());
        let issues = super::super::TransformChain::from_config(&config).unwrap_err();
        assert_eq!(issues[0].key, "transforms.unwrap.route.by.field");
        config.remove("transforms.unwrap.route.by.field");
        config.insert(
            "transforms.unwrap.delete.handling.mode".into(),
            "purge".into(),
        );
        assert!(super::super::TransformChain::from_config(&config).is_err());
    }
}
