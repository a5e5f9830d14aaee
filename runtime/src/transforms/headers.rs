//! Header SMTs: `DropHeaders`, `InsertHeader`, `HeaderFrom`.
//!
//! Header values on this host are raw bytes: a literal is its UTF-8 bytes,
//! a field copied into a header is its string form (JSON for non-strings).

use std::sync::Arc;

use bytes::Bytes;
use connect_api::schema::{Schema, SchemaAndValue};
use connect_api::{ConfigIssue, Data, SinkRecord};
use serde_json::Value;

use super::typed::{self, Derived};
use super::{Outcome, Part, Settings, Transformation, require_map};

struct DropHeaders(Vec<String>);

impl Transformation for DropHeaders {
    fn apply(&self, r: &mut SinkRecord) -> Result<Outcome, String> {
        r.headers.retain(|(k, _)| !self.0.contains(k));
        Ok(Outcome::Keep)
    }
}

pub(super) fn drop_headers(
    s: &Settings<'_>,
    _: Option<Part>,
) -> Result<Box<dyn Transformation>, ConfigIssue> {
    let headers = s.non_empty_list("headers")?;
    Ok(Box::new(DropHeaders(headers)))
}

struct InsertHeader {
    header: String,
    value: Bytes,
}

impl Transformation for InsertHeader {
    fn apply(&self, r: &mut SinkRecord) -> Result<Outcome, String> {
        r.headers
            .push((self.header.clone(), Some(self.value.clone())));
        Ok(Outcome::Keep)
    }
}

pub(super) fn insert_header(
    s: &Settings<'_>,
    _: Option<Part>,
) -> Result<Box<dyn Transformation>, ConfigIssue> {
    let header = s.required("header")?.to_string();
    let Some(literal) = s.get("value.literal") else {
        return Err(s.issue(
            "value.literal",
            format!(
                "Missing required configuration \"{}value.literal\" which has no default value.",
                s.prefix
            ),
        ));
    };
    Ok(Box::new(InsertHeader {
        header,
        value: Bytes::from(literal.to_string()),
    }))
}

struct HeaderFrom {
    part: Part,
    pairs: Vec<(String, String)>,
    moving: bool,
    /// For `move` on a struct with a schema: the schema without the moved
    /// fields (Connect's), and the positions of the fields kept.
    schema: Derived<(Arc<Schema>, Vec<usize>)>,
}

impl HeaderFrom {
    /// `move` on a struct with a schema: the moved fields leave the struct
    /// and its schema, the rest keep theirs.
    fn move_typed(&self, t: &mut SchemaAndValue) -> Result<(), String> {
        let plan = self.schema.get(&t.schema, |s| {
            let moved = |name: &str| self.pairs.iter().any(|(f, _)| f == name);
            let (fields, positions): (Vec<_>, Vec<_>) = s
                .fields()
                .iter()
                .enumerate()
                .filter(|(_, f)| !moved(&f.name))
                .map(|(i, f)| (f.clone(), i))
                .unzip();
            Ok((Arc::new(typed::with_fields(s, fields)), positions))
        })?;
        typed::keep_fields(t, &plan.0, &plan.1);
        Ok(())
    }
}

fn header_bytes(v: &Value) -> Option<Bytes> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(Bytes::from(s.clone())),
        other => Some(Bytes::from(other.to_string())),
    }
}

impl Transformation for HeaderFrom {
    fn apply(&self, r: &mut SinkRecord) -> Result<Outcome, String> {
        let purpose = if self.moving {
            "header move"
        } else {
            "header copy"
        };
        let Some(map) = require_map(self.part.get(r), purpose)? else {
            for (_, h) in &self.pairs {
                r.headers.push((h.clone(), None));
            }
            return Ok(Outcome::Keep);
        };
        // Values are read from the original map, so that one field can feed
        // several headers even when it is moved (as Connect does).
        let mut updated = map.clone();
        for (f, h) in &self.pairs {
            if self.moving {
                updated.remove(f);
            }
            r.headers
                .push((h.clone(), map.get(f).and_then(header_bytes)));
        }
        if self.moving {
            match self.part.get_mut(r) {
                Data::Typed(t) if typed::struct_value(t) => self.move_typed(t)?,
                part => *part = Data::Json(Value::Object(updated)),
            }
        }
        Ok(Outcome::Keep)
    }
}

pub(super) fn header_from(
    s: &Settings<'_>,
    p: Option<Part>,
) -> Result<Box<dyn Transformation>, ConfigIssue> {
    let fields = s.non_empty_list("fields")?;
    let headers = s.list("headers");
    if fields.len() != headers.len() {
        return Err(s.issue("headers", format!("'fields' config must have the same number of elements as 'headers' config ({} vs {})", fields.len(), headers.len())));
    }
    let moving = match s.get("operation").map(str::trim) {
        Some("move") => true,
        Some("copy") => false,
        other => {
            return Err(s.invalid(
                "operation",
                other.unwrap_or(""),
                "String must be one of: move, copy",
            ));
        }
    };
    Ok(Box::new(HeaderFrom {
        part: Part::or_value(p),
        pairs: fields.into_iter().zip(headers).collect(),
        moving,
        schema: Derived::default(),
    }))
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use connect_api::Data;
    use serde_json::json;

    use super::super::test_support::{apply, chain, record, try_chain};

    fn with_headers(h: &[(&str, &str)]) -> connect_api::SinkRecord {
        let mut r = record(json!({"a": 1}));
        r.headers = h
            .iter()
            .map(|(k, v)| (k.to_string(), Some(Bytes::from(v.to_string()))))
            .collect();
        r
    }

    /// Kafka's HeaderFromTest with a schema: `move` takes the fields out of
    /// the struct and its schema; `copy` leaves both as they were.
    #[test]
    fn header_from_with_schema() {
        use connect_api::schema::{Field, Schema, SchemaAndValue, SchemaKind as K, Value as V};
        let schema = Schema::new(K::Struct(vec![
            Field::new("field1", Schema::new(K::String)),
            Field::new("field2", Schema::new(K::Int32)),
            Field::new("field3", Schema::new(K::Boolean)),
        ]))
        .named("shop.Event");
        let value = V::Struct(vec![V::String("abc".into()), V::Int32(7), V::Boolean(true)]);
        let input = || {
            let mut r = record(json!(null));
            r.value = Data::Typed(SchemaAndValue::new(schema.clone(), value.clone()));
            r
        };
        let settings = |op| {
            [
                ("fields", "field1,field2"),
                ("headers", "h1,h2"),
                ("operation", op),
            ]
        };
        let moved = apply(&chain("HeaderFrom$Value", &settings("move")), input());
        let header = |v: &str| Some(Bytes::from(v.to_string()));
        assert_eq!(
            moved.headers,
            vec![("h1".into(), header("abc")), ("h2".into(), header("7"))]
        );
        let Data::Typed(t) = moved.value else {
            panic!("the schema is kept: {:?}", moved.value)
        };
        let mut expected = Schema::new(K::Struct(vec![Field::new(
            "field3",
            Schema::new(K::Boolean),
        )]))
        .named("shop.Event");
        expected.optional = false;
        assert_eq!(*t.schema, expected);
        assert_eq!(t.value, V::Struct(vec![V::Boolean(true)]));
        let copied = apply(&chain("HeaderFrom$Value", &settings("copy")), input());
        assert_eq!(copied.headers.len(), 2);
        assert_eq!(copied.value, input().value);
    }

    #[test]
    fn drop_headers() {
        let c = chain("DropHeaders", &[("headers", "a,b")]);
        let out = apply(
            &c,
            with_headers(&[("a", "1"), ("x", "2"), ("b", "3"), ("a", "4")]),
        );
        assert_eq!(out.headers, vec![("x".to_string(), Some(Bytes::from("2")))]);
        assert!(try_chain("DropHeaders", &[]).is_err());
    }

    #[test]
    fn insert_header() {
        let c = chain(
            "InsertHeader",
            &[("header", "inserted"), ("value.literal", "lit")],
        );
        let out = apply(&c, with_headers(&[("a", "1")]));
        assert_eq!(
            out.headers[1],
            ("inserted".to_string(), Some(Bytes::from("lit")))
        );
        assert!(try_chain("InsertHeader", &[("header", "h")]).is_err());
        assert!(try_chain("InsertHeader", &[("value.literal", "v")]).is_err());
    }

    #[test]
    fn header_from_copy_and_move() {
        let c = chain(
            "HeaderFrom$Value",
            &[
                ("fields", "a,s"),
                ("headers", "ha,hs"),
                ("operation", "copy"),
            ],
        );
        let mut r = record(json!({"a": 1, "s": "x", "k": true}));
        r.headers.push(("old".into(), None));
        let out = apply(&c, r);
        assert_eq!(out.value, Data::Json(json!({"a": 1, "s": "x", "k": true})));
        assert_eq!(out.headers[1], ("ha".to_string(), Some(Bytes::from("1"))));
        assert_eq!(out.headers[2], ("hs".to_string(), Some(Bytes::from("x"))));
        let c = chain(
            "HeaderFrom$Value",
            &[("fields", "a"), ("headers", "ha"), ("operation", "move")],
        );
        let out = apply(&c, record(json!({"a": 1, "b": 2})));
        assert_eq!(out.value, Data::Json(json!({"b": 2})));
        assert!(
            try_chain(
                "HeaderFrom$Value",
                &[("fields", "a,b"), ("headers", "x"), ("operation", "move")]
            )
            .is_err()
        );
        assert!(
            try_chain(
                "HeaderFrom$Key",
                &[("fields", "a"), ("headers", "x"), ("operation", "swap")]
            )
            .is_err()
        );
    }
}
