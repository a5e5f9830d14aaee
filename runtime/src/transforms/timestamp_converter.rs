//! `TimestampConverter$Key` / `$Value`: converts a timestamp (the whole
//! key/value, or its `field`) between a Unix epoch number, a string written
//! with a `SimpleDateFormat` pattern, and Connect's Date/Time/Timestamp.
//!
//! As Kafka's schemaless path does, the input's kind is inferred: a whole
//! number is a Unix time in `unix.precision`, a string is parsed with
//! `format`; a record with a schema also gives its Date, Time and Timestamp
//! fields as such.
//!
//! With a schema (the whole value, or a struct's `field`), the output keeps
//! one, as Connect's: the target's schema (STRING, INT64, or the Date, Time
//! and Timestamp logical types, optional as the input was), the rest of the
//! struct unchanged; an input schema of no timestamp type is an error.
//!
//! Deliberate difference on the schemaless path: Connect's Date, Time and
//! Timestamp have no JSON form in this host's schemaless world, so the
//! targets `Timestamp`, `Date` and `Time` are written as epoch milliseconds numbers (`Date` at midnight
//! UTC of its day, `Time` as milliseconds since midnight UTC, on
//! 1970-01-01), not as `java.util.Date` objects; `unix` is a number in
//! `unix.precision` and `string` is formatted with `format` in UTC.

use std::sync::Arc;

use connect_api::schema::{
    Logical, Schema, SchemaAndValue, SchemaKind, Value as SchemaValue, json_view,
};
use connect_api::{ConfigIssue, Data, SinkRecord};
use serde_json::Value;

use super::dates::DateFormat;
use super::typed::{self, Derived};
use super::{Outcome, Part, Settings, Transformation, java_type, require_map};

const PURPOSE: &str = "converting timestamp formats";
const MS_PER_DAY: i64 = 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Target {
    String,
    Unix,
    Date,
    Time,
    Timestamp,
}

/// Milliseconds per unit of `unix.precision` (nanos and micros divide).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Precision {
    Seconds,
    Millis,
    Micros,
    Nanos,
}

struct TimestampConverter {
    part: Part,
    field: String,
    target: Target,
    format: Option<DateFormat>,
    precision: Precision,
    replace_null_with_default: bool,
    /// Per input struct schema: the schema with `field` of the target type.
    schema: Derived<Arc<Schema>>,
    /// The target type's schema, required and optional, built once.
    target_schemas: [Arc<Schema>; 2],
}

/// What is converted: epoch millis already (a Connect Date/Time/Timestamp)
/// or a JSON value whose kind says what it is.
enum Input {
    Millis(i64),
    Json(Value),
}

fn schema_input(schema: &Schema, value: &SchemaValue) -> Input {
    match (schema.logical(), value) {
        (Some(Logical::Timestamp), SchemaValue::Int64(ms)) => Input::Millis(*ms),
        (Some(Logical::Date), SchemaValue::Int32(days)) => {
            Input::Millis(i64::from(*days) * MS_PER_DAY)
        }
        (Some(Logical::Time), SchemaValue::Int32(ms)) => Input::Millis(i64::from(*ms)),
        _ => Input::Json(json_view(schema, value)),
    }
}

impl TimestampConverter {
    fn format(&self) -> Result<&DateFormat, String> {
        self.format.as_ref().ok_or_else(|| {
            "TimestampConverter requires format option to be specified when using string timestamps"
                .to_string()
        })
    }

    /// Kafka's `convertTimestamp` with the input's kind inferred.
    fn convert(&self, input: Input) -> Result<Value, String> {
        let millis = match input {
            Input::Millis(ms) => ms,
            Input::Json(Value::Null) => return Ok(Value::Null),
            Input::Json(Value::Number(n)) if n.is_i64() => {
                let unix = n.as_i64().unwrap_or_default();
                match self.precision {
                    Precision::Seconds => unix.saturating_mul(1000),
                    Precision::Millis => unix,
                    Precision::Micros => unix / 1000,
                    Precision::Nanos => unix / 1_000_000,
                }
            }
            Input::Json(Value::String(s)) => {
                let format = self.format()?;
                format.parse(&s).ok_or_else(|| {
                    format!(
                        "Could not parse timestamp: value ({s}) does not match pattern ({})",
                        format.pattern()
                    )
                })?
            }
            Input::Json(other) => {
                let class = match &other {
                    Value::Number(n) if n.is_u64() => "java.math.BigInteger",
                    v => java_type(v),
                };
                return Err(format!(
                    "TimestampConverter does not support class {class} objects as timestamps"
                ));
            }
        };
        Ok(match self.target {
            Target::String => Value::String(self.format()?.format(millis)),
            Target::Unix => Value::from(match self.precision {
                Precision::Seconds => millis / 1000,
                Precision::Millis => millis,
                Precision::Micros => millis.saturating_mul(1000),
                Precision::Nanos => millis.saturating_mul(1_000_000),
            }),
            Target::Timestamp => Value::from(millis),
            Target::Date => Value::from(millis.div_euclid(MS_PER_DAY) * MS_PER_DAY),
            Target::Time => Value::from(millis.rem_euclid(MS_PER_DAY)),
        })
    }
}

/// Kafka's `timestampTypeFromSchema`: a schema'd input must be a
/// Timestamp, Date or Time, a STRING (parsed with `format`) or an INT64
/// (Unix time).
fn check_input_schema(schema: &Schema) -> Result<(), String> {
    if schema
        .logical()
        .is_some_and(|l| matches!(l, Logical::Timestamp | Logical::Date | Logical::Time))
        || matches!(schema.kind, SchemaKind::String | SchemaKind::Int64)
    {
        return Ok(());
    }
    Err(format!(
        "Schema Schema{{{}}} does not correspond to a known timestamp type format",
        schema.name.as_deref().unwrap_or(schema.kind.type_name())
    ))
}

impl TimestampConverter {
    /// The target type's Connect schema, as Kafka's translators give it.
    fn target_schema(&self, optional: bool) -> Arc<Schema> {
        Arc::clone(&self.target_schemas[usize::from(optional)])
    }

    /// [`Self::convert`]'s result as a value of [`Self::target_schema`]:
    /// epoch days for Date, milliseconds of the day for Time.
    fn target_value(&self, converted: Value) -> SchemaValue {
        let number = converted.as_i64().unwrap_or_default();
        match (self.target, converted) {
            (_, Value::Null) => SchemaValue::Null,
            (Target::String, Value::String(s)) => SchemaValue::String(s),
            (Target::String, other) => SchemaValue::String(other.to_string()),
            (Target::Unix | Target::Timestamp, _) => SchemaValue::Int64(number),
            (Target::Date, _) => SchemaValue::Int32((number / MS_PER_DAY) as i32),
            (Target::Time, _) => SchemaValue::Int32(number as i32),
        }
    }

    /// Connect's schema path: the whole value, or the struct's `field`,
    /// converted to the target type, with the schema changed to match.
    fn typed(&self, t: &mut SchemaAndValue) -> Result<(), String> {
        if self.field.is_empty() {
            check_input_schema(&t.schema)?;
            if t.value != SchemaValue::Null {
                t.value = self.target_value(self.convert(schema_input(&t.schema, &t.value))?);
            }
            t.schema = self.target_schema(t.schema.optional);
            return Ok(());
        }
        let Some((i, field)) = t.schema.field(&self.field) else {
            return Ok(());
        };
        check_input_schema(&field.schema)?;
        let schema = self.schema.get(&t.schema, |s| {
            let mut fields = s.fields().to_vec();
            fields[i] = connect_api::schema::Field {
                name: field.name.clone(),
                schema: self.target_schema(field.schema.optional),
            };
            Ok(Arc::new(typed::with_fields(s, fields)))
        })?;
        // The converted field first: on an error the struct is unchanged.
        // A null struct keeps no fields to convert.
        if let SchemaValue::Struct(values) = &t.value {
            let input = match (&values[i], &field.schema.default) {
                (SchemaValue::Null, Some(default)) if self.replace_null_with_default => default,
                (v, _) => v,
            };
            let converted = match input {
                SchemaValue::Null => SchemaValue::Null,
                v => self.target_value(self.convert(schema_input(&field.schema, v))?),
            };
            typed::fields_mut(&mut t.value)[i] = converted;
        }
        t.schema = Arc::clone(&schema);
        Ok(())
    }
}

impl Transformation for TimestampConverter {
    fn apply(&self, r: &mut SinkRecord) -> Result<Outcome, String> {
        if let Data::Typed(t) = self.part.get_mut(r)
            && (self.field.is_empty() || typed::struct_value(t) || t.value == SchemaValue::Null)
        {
            self.typed(t)?;
            return Ok(Outcome::Keep);
        }
        let data = self.part.get(r);
        if data.is_null() {
            return Ok(Outcome::Keep);
        }
        let updated = if self.field.is_empty() {
            let input = match data {
                Data::Json(v) => Input::Json(v.clone()),
                Data::Text(s) => Input::Json(Value::String(s.clone())),
                _ => {
                    return Err(
                        "TimestampConverter does not support class [B objects as timestamps".into(),
                    );
                }
            };
            self.convert(input)?
        } else {
            let mut map = require_map(data, PURPOSE)?.unwrap_or_default();
            let input = Input::Json(map.get(&self.field).cloned().unwrap_or(Value::Null));
            // As Kafka's `HashMap.put`: an absent field is added as null.
            map.insert(self.field.clone(), self.convert(input)?);
            Value::Object(map)
        };
        self.part.set(r, Data::Json(updated));
        Ok(Outcome::Keep)
    }
}

pub(super) fn timestamp_converter(
    s: &Settings<'_>,
    part: Option<Part>,
) -> Result<Box<dyn Transformation>, ConfigIssue> {
    let one_of = |key: &str, value: &str, allowed: &[&str]| {
        s.invalid(
            key,
            value,
            &format!("String must be one of: {}", allowed.join(", ")),
        )
    };
    let target_type = s.required("target.type")?.trim();
    let target = match target_type {
        "string" => Target::String,
        "unix" => Target::Unix,
        "Date" => Target::Date,
        "Time" => Target::Time,
        "Timestamp" => Target::Timestamp,
        other => {
            return Err(one_of(
                "target.type",
                other,
                &["string", "unix", "Date", "Time", "Timestamp"],
            ));
        }
    };
    let precision = match s.get_or("unix.precision", "milliseconds").trim() {
        "seconds" => Precision::Seconds,
        "milliseconds" => Precision::Millis,
        "microseconds" => Precision::Micros,
        "nanoseconds" => Precision::Nanos,
        other => {
            return Err(one_of(
                "unix.precision",
                other,
                &["nanoseconds", "microseconds", "milliseconds", "seconds"],
            ));
        }
    };
    let pattern = s.get_or("format", "").trim();
    if target == Target::String && pattern.is_empty() {
        return Err(s.issue(
            "format",
            "TimestampConverter requires format option to be specified when using string timestamps",
        ));
    }
    let format = if pattern.is_empty() {
        None
    } else {
        Some(DateFormat::new(pattern).map_err(|e| {
            s.invalid(
                "format",
                pattern,
                &format!(
                    "TimestampConverter requires a SimpleDateFormat-compatible pattern for string timestamps: {pattern} ({e})"
                ),
            )
        })?)
    };
    Ok(Box::new(TimestampConverter {
        part: Part::or_value(part),
        field: s.get_or("field", "").trim().to_string(),
        target,
        format,
        precision,
        replace_null_with_default: s.boolean("replace.null.with.default", true)?,
        schema: Derived::default(),
        target_schemas: [false, true].map(|optional| {
            let mut schema = match target {
                Target::String => Schema::new(SchemaKind::String),
                Target::Unix => Schema::new(SchemaKind::Int64),
                Target::Date => Schema::date(),
                Target::Time => Schema::time(),
                Target::Timestamp => Schema::timestamp(),
            };
            schema.optional = optional;
            Arc::new(schema)
        }),
    }))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use connect_api::schema::{SchemaKind, Value as SchemaValue};
    use connect_api::{Data, Field, Schema, SchemaAndValue};
    use serde_json::{Value, json};

    use super::super::test_support::{apply, chain, record, try_chain};

    const VALUE: &str = "org.apache.kafka.connect.transforms.TimestampConverter$Value";
    const STRING_DATE_FMT: &str = "yyyy MM dd HH mm ss SSS z";
    /// 1970-01-02T00:00:01.234Z.
    const DATE_PLUS_TIME: i64 = 86_401_234;
    const DATE: i64 = 86_400_000;
    const TIME: i64 = 1234;
    const DATE_PLUS_TIME_STRING: &str = "1970 01 02 00 00 01 234 UTC";

    fn convert(settings: &[(&str, &str)], value: Value) -> Data {
        apply(&chain(VALUE, settings), record(value)).value
    }

    fn config_error(settings: &[(&str, &str)]) -> String {
        let issues = try_chain(VALUE, settings).expect_err("config refused");
        issues[0].message.clone()
    }

    #[test]
    fn config_is_checked() {
        assert!(config_error(&[]).contains("target.type"));
        assert!(
            config_error(&[("target.type", "invalid")])
                .contains("String must be one of: string, unix, Date, Time, Timestamp")
        );
        assert!(
            config_error(&[("target.type", "unix"), ("unix.precision", "invalid")])
                .contains("unix.precision")
        );
        assert!(
            try_chain(
                VALUE,
                &[("target.type", "unix"), ("unix.precision", "seconds")]
            )
            .is_ok()
        );
        assert!(
            config_error(&[("target.type", "string")])
                .contains("requires format option to be specified")
        );
        let e = config_error(&[("target.type", "string"), ("format", "bad-format")]);
        assert!(e.contains("Illegal pattern character 'b'"), "{e}");
        let e = config_error(&[("target.type", "unix"), ("format", "yyyy-ww")]);
        assert!(
            e.contains("'w'") && e.contains("transforms.t.format"),
            "{e}"
        );
        assert!(
            config_error(&[
                ("target.type", "unix"),
                ("replace.null.with.default", "maybe")
            ])
            .contains("replace.null.with.default")
        );
    }

    #[test]
    fn schemaless_timestamp_to_other_types() {
        let t = |target: &str| convert(&[("target.type", target)], json!(DATE_PLUS_TIME));
        // Timestamp (epoch millis here) in, the same out.
        assert_eq!(t("Timestamp"), Data::Json(json!(DATE_PLUS_TIME)));
        assert_eq!(t("Date"), Data::Json(json!(DATE)));
        assert_eq!(t("Time"), Data::Json(json!(TIME)));
        assert_eq!(t("unix"), Data::Json(json!(DATE_PLUS_TIME)));
        let s = convert(
            &[("target.type", "string"), ("format", STRING_DATE_FMT)],
            json!(DATE_PLUS_TIME),
        );
        assert_eq!(s, Data::Json(json!(DATE_PLUS_TIME_STRING)));
    }

    #[test]
    fn schemaless_coarser_types_to_timestamp_are_unchanged() {
        for v in [DATE, TIME] {
            assert_eq!(
                convert(&[("target.type", "Timestamp")], json!(v)),
                Data::Json(json!(v))
            );
        }
    }

    #[test]
    fn schemaless_string_to_timestamp_and_unix() {
        let from_string = |target: &str, precision: &str| {
            convert(
                &[
                    ("target.type", target),
                    ("format", STRING_DATE_FMT),
                    ("unix.precision", precision),
                ],
                json!(DATE_PLUS_TIME_STRING),
            )
        };
        assert_eq!(
            from_string("Timestamp", "milliseconds"),
            Data::Json(json!(DATE_PLUS_TIME))
        );
        // Sub-millisecond parts are lost, as with Kafka's java.util.Date pivot.
        assert_eq!(
            from_string("unix", "microseconds"),
            Data::Json(json!(86_401_234_000_i64))
        );
        assert_eq!(
            from_string("unix", "nanoseconds"),
            Data::Json(json!(86_401_234_000_000_i64))
        );
        assert_eq!(from_string("unix", "seconds"), Data::Json(json!(86_401)));
    }

    #[test]
    fn schemaless_unix_in_each_precision() {
        let to_ts = |precision: &str, v: i64| {
            convert(
                &[("target.type", "Timestamp"), ("unix.precision", precision)],
                json!(v),
            )
        };
        let micros = DATE_PLUS_TIME * 1000 + 123;
        assert_eq!(
            to_ts("microseconds", micros),
            Data::Json(json!(DATE_PLUS_TIME))
        );
        assert_eq!(
            to_ts("nanoseconds", micros * 1000 + 456),
            Data::Json(json!(DATE_PLUS_TIME))
        );
        assert_eq!(to_ts("seconds", 86_401), Data::Json(json!(86_401_000)));
    }

    #[test]
    fn schemaless_nulls_stay_null() {
        for target in ["string", "Date", "Timestamp", "unix", "Time"] {
            let settings = [("target.type", target), ("format", STRING_DATE_FMT)];
            let c = chain(VALUE, &settings);
            let mut r = record(Value::Null);
            r.value = Data::Null;
            assert!(apply(&c, r).value.is_null(), "{target}");
            let with_field = [settings[0], settings[1], ("field", "ts")];
            let r = apply(&chain(VALUE, &with_field), record(Value::Null));
            assert!(r.value.is_null(), "{target}");
            // A null field stays null.
            assert_eq!(
                convert(&with_field, json!({"ts": null, "other": 1})),
                Data::Json(json!({"ts": null, "other": 1}))
            );
        }
    }

    #[test]
    fn schemaless_field_conversion() {
        let v = convert(
            &[("target.type", "Date"), ("field", "ts")],
            json!({"ts": DATE_PLUS_TIME, "other": "x"}),
        );
        assert_eq!(v, Data::Json(json!({"ts": DATE, "other": "x"})));
        let v = convert(
            &[
                ("target.type", "string"),
                ("field", "ts"),
                ("format", "yyyy-MM-dd"),
            ],
            json!({"ts": 1_483_425_001_864_i64}),
        );
        assert_eq!(v, Data::Json(json!({"ts": "2017-01-03"})));
        let c = chain(VALUE, &[("target.type", "unix"), ("field", "ts")]);
        let e = c.apply(record(json!(1))).unwrap_err();
        assert_eq!(
            e.message,
            "Only Map objects supported in absence of schema for [converting timestamp formats], found: java.lang.Long"
        );
    }

    #[test]
    fn unsupported_and_unparseable_inputs_fail() {
        let c = chain(VALUE, &[("target.type", "unix")]);
        let e = c.apply(record(json!(1.5))).unwrap_err();
        assert_eq!(
            e.message,
            "TimestampConverter does not support class java.lang.Double objects as timestamps"
        );
        let e = c.apply(record(json!("2017"))).unwrap_err();
        assert!(e.message.contains("format option"), "{}", e.message);
        let c = chain(VALUE, &[("target.type", "unix"), ("format", "yyyy-MM-dd")]);
        let e = c.apply(record(json!("not a date"))).unwrap_err();
        assert_eq!(
            e.message,
            "Could not parse timestamp: value (not a date) does not match pattern (yyyy-MM-dd)"
        );
    }

    #[test]
    fn key() {
        let c = chain(
            "TimestampConverter$Key",
            &[("target.type", "string"), ("format", "yyyy")],
        );
        let mut r = record(json!(1));
        r.key = Data::Json(json!(DATE_PLUS_TIME));
        let r = apply(&c, r);
        assert_eq!(r.key, Data::Json(json!("1970")));
        assert_eq!(r.value, Data::Json(json!(1)));
    }

    #[test]
    fn schema_logical_types_are_read_as_such() {
        let schema = Schema::new(SchemaKind::Struct(vec![
            Field::new("ts", Schema::timestamp()),
            Field::new("d", {
                let mut d = Schema::date().optional();
                d.default = Some(SchemaValue::Int32(1));
                d
            }),
        ]));
        let mut r = record(Value::Null);
        r.value = Data::Typed(SchemaAndValue {
            schema: Arc::new(schema),
            value: SchemaValue::Struct(vec![SchemaValue::Int64(DATE_PLUS_TIME), SchemaValue::Null]),
        });
        let unix = |field: &str, replace: &str| {
            let c = chain(
                VALUE,
                &[
                    ("target.type", "unix"),
                    ("field", field),
                    ("replace.null.with.default", replace),
                ],
            );
            let Data::Typed(t) = apply(&c, r.clone()).value else {
                panic!("the schema is kept")
            };
            let (i, f) = t.schema.field(field).unwrap();
            assert_eq!(f.schema.kind, SchemaKind::Int64, "unix is INT64");
            assert_eq!(f.schema.name, None);
            match &t.value {
                SchemaValue::Struct(values) => values[i].clone(),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(unix("ts", "true"), SchemaValue::Int64(DATE_PLUS_TIME));
        assert_eq!(unix("d", "true"), SchemaValue::Int64(DATE));
        assert_eq!(unix("d", "false"), SchemaValue::Null);
    }

    fn typed_record(schema: Schema, value: SchemaValue) -> connect_api::SinkRecord {
        let mut r = record(Value::Null);
        r.value = Data::Typed(SchemaAndValue::new(schema, value));
        r
    }

    fn typed_out(settings: &[(&str, &str)], r: connect_api::SinkRecord) -> SchemaAndValue {
        match apply(&chain(VALUE, settings), r).value {
            Data::Typed(t) => t,
            other => panic!("the schema is kept: {other:?}"),
        }
    }

    /// Kafka's `testWithSchemaTimestampTo{Date,Time,Timestamp,Unix,String}`.
    #[test]
    fn with_schema_timestamp_to_each_type() {
        let input = || typed_record(Schema::timestamp(), SchemaValue::Int64(DATE_PLUS_TIME));
        let to = |target: &str| {
            typed_out(
                &[("target.type", target), ("format", STRING_DATE_FMT)],
                input(),
            )
        };
        let t = to("Date");
        assert_eq!(*t.schema, Schema::date());
        assert_eq!(t.value, SchemaValue::Int32(1));
        let t = to("Time");
        assert_eq!(*t.schema, Schema::time());
        assert_eq!(t.value, SchemaValue::Int32(1234));
        let t = to("Timestamp");
        assert_eq!(*t.schema, Schema::timestamp());
        assert_eq!(t.value, SchemaValue::Int64(DATE_PLUS_TIME));
        let t = to("unix");
        assert_eq!(t.schema.kind, SchemaKind::Int64);
        assert_eq!(t.value, SchemaValue::Int64(DATE_PLUS_TIME));
        let t = to("string");
        assert_eq!(t.schema.kind, SchemaKind::String);
        assert_eq!(
            t.value,
            SchemaValue::String("1970 01 02 00 00 01 234 UTC".into())
        );
    }

    /// Kafka's `testWithSchemaDateToTimestamp`, `testWithSchemaStringToTimestamp`
    /// and `testWithSchemaUnixToTimestamp` (in seconds).
    #[test]
    fn with_schema_other_types_to_timestamp() {
        let t = typed_out(
            &[("target.type", "Timestamp")],
            typed_record(Schema::date(), SchemaValue::Int32(1)),
        );
        assert_eq!((*t.schema).clone(), Schema::timestamp());
        assert_eq!(t.value, SchemaValue::Int64(DATE));
        let t = typed_out(
            &[("target.type", "Timestamp"), ("format", STRING_DATE_FMT)],
            typed_record(
                Schema::new(SchemaKind::String),
                SchemaValue::String("1970 01 02 00 00 01 234 UTC".into()),
            ),
        );
        assert_eq!(t.value, SchemaValue::Int64(DATE_PLUS_TIME));
        let t = typed_out(
            &[("target.type", "Timestamp"), ("unix.precision", "seconds")],
            typed_record(Schema::new(SchemaKind::Int64), SchemaValue::Int64(86_401)),
        );
        assert_eq!(t.value, SchemaValue::Int64(86_401_000));
    }

    /// Kafka's `testWithSchemaNullValueToTimestamp` and friends: an optional
    /// input's null stays null, under the optional target schema.
    #[test]
    fn with_schema_null_value_to_each_type() {
        for target in ["Date", "Time", "Timestamp", "unix", "string"] {
            let t = typed_out(
                &[("target.type", target), ("format", STRING_DATE_FMT)],
                typed_record(Schema::timestamp().optional(), SchemaValue::Null),
            );
            assert!(t.schema.optional, "{target}");
            assert_eq!(t.value, SchemaValue::Null, "{target}");
        }
    }

    /// Kafka's `testWithSchemaFieldConversion`: only the field changes, in
    /// the struct and its schema; and a schema of no timestamp type fails.
    #[test]
    fn with_schema_field_conversion() {
        let schema = Schema::new(SchemaKind::Struct(vec![
            Field::new("ts", Schema::timestamp()),
            Field::new("other", Schema::new(SchemaKind::String)),
        ]))
        .named("shop.Event");
        let t = typed_out(
            &[("target.type", "Date"), ("field", "ts")],
            typed_record(
                schema,
                SchemaValue::Struct(vec![
                    SchemaValue::Int64(DATE_PLUS_TIME),
                    SchemaValue::String("test".into()),
                ]),
            ),
        );
        assert_eq!(t.schema.name.as_deref(), Some("shop.Event"));
        assert_eq!(*t.schema.fields()[0].schema, Schema::date());
        assert_eq!(t.schema.fields()[1].schema.kind, SchemaKind::String);
        assert_eq!(
            t.value,
            SchemaValue::Struct(vec![
                SchemaValue::Int32(1),
                SchemaValue::String("test".into())
            ])
        );
        let bad = chain(VALUE, &[("target.type", "Date")])
            .apply(typed_record(
                Schema::new(SchemaKind::Int32),
                SchemaValue::Int32(1),
            ))
            .unwrap_err();
        assert_eq!(
            bad.message,
            "Schema Schema{INT32} does not correspond to a known timestamp type format"
        );
    }
}
