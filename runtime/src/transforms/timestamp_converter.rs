//! `TimestampConverter$Key` / `$Value`: converts a timestamp (the whole
//! key/value, or its `field`) between a Unix epoch number, a string written
//! with a `SimpleDateFormat` pattern, and Connect's Date/Time/Timestamp.
//!
//! With a schema (a typed key/value), Connect's schema path: the input's
//! type is its schema's, a Timestamp, Date or Time logical type, a STRING
//! (parsed with `format`) or an INT64 (a Unix time in `unix.precision`);
//! any other schema is refused with Connect's message. The output gets the
//! target type's schema (STRING, INT64, or the Date, Time and Timestamp
//! logical types), optional as the input was. With `field` the value must
//! be a STRUCT: only that field's schema is replaced (optional as the field
//! was), the struct schema keeps its name, version, doc and parameters, and
//! its default is converted too. With `replace.null.with.default` (the
//! default) a null field reads as its schema's default, as Connect's
//! `Struct.get` does; without it, it stays null. A null value stays null.
//!
//! Without a schema, as Kafka's schemaless path does, the input's kind is
//! inferred: a whole number is a Unix time in `unix.precision`, a string is
//! parsed with `format`.
//!
//! Deliberate difference on the schemaless path: Connect's Date, Time and
//! Timestamp have no JSON form in this host's schemaless world, so the
//! targets `Timestamp`, `Date` and `Time` are written as epoch milliseconds
//! numbers (`Date` at midnight UTC of its day, `Time` as milliseconds since
//! midnight UTC, on 1970-01-01), not as `java.util.Date` objects; `unix` is
//! a number in `unix.precision` and `string` is formatted with `format` in
//! UTC.

use std::sync::Arc;

use connect_api::schema::{
    Field, Logical, Schema, SchemaAndValue, SchemaKind, Value as SchemaValue, json_view,
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
    /// The target type's schema, required and optional (Kafka's
    /// `typeSchema(false)` and `typeSchema(true)`), built once.
    target_schemas: [Arc<Schema>; 2],
    /// Per input struct schema: the schema with `field` of the target type.
    schema: Derived<Arc<Schema>>,
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
/// (Unix time). The error names the schema as Connect's `toString` does.
fn check_input_schema(schema: &Schema) -> Result<(), String> {
    if schema
        .logical()
        .is_some_and(|l| matches!(l, Logical::Timestamp | Logical::Date | Logical::Time))
        || matches!(schema.kind, SchemaKind::String | SchemaKind::Int64)
    {
        return Ok(());
    }
    let kind = schema.kind.type_name();
    let described = match &schema.name {
        Some(name) => format!("{name}:{kind}"),
        None => kind.to_string(),
    };
    Err(format!(
        "Schema Schema{{{described}}} does not correspond to a known timestamp type format"
    ))
}

/// The Java class Connect would hold a value of `schema` as, for
/// `requireStructOrNull`'s error.
fn java_class(schema: &Schema, value: &SchemaValue) -> &'static str {
    match (schema.logical(), value) {
        (Some(Logical::Decimal { .. }), SchemaValue::Bytes(_)) => "java.math.BigDecimal",
        (Some(_), SchemaValue::Int32(_) | SchemaValue::Int64(_)) => "java.util.Date",
        (_, SchemaValue::Null) => "null",
        (_, SchemaValue::Int8(_)) => "java.lang.Byte",
        (_, SchemaValue::Int16(_)) => "java.lang.Short",
        (_, SchemaValue::Int32(_)) => "java.lang.Integer",
        (_, SchemaValue::Int64(_)) => "java.lang.Long",
        (_, SchemaValue::Float32(_)) => "java.lang.Float",
        (_, SchemaValue::Float64(_)) => "java.lang.Double",
        (_, SchemaValue::Boolean(_)) => "java.lang.Boolean",
        (_, SchemaValue::String(_)) => "java.lang.String",
        (_, SchemaValue::Bytes(_)) => "[B",
        (_, SchemaValue::Array(_)) => "java.util.ArrayList",
        (_, SchemaValue::Map(_)) => "java.util.HashMap",
        (_, SchemaValue::Struct(_)) => "org.apache.kafka.connect.data.Struct",
    }
}

impl TimestampConverter {
    /// The target type's Connect schema, as Kafka's translators give it.
    fn target_schema(&self, optional: bool) -> &Arc<Schema> {
        &self.target_schemas[usize::from(optional)]
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

    /// A value of `schema` converted to the target type (null stays null);
    /// the schema is checked first, even for a null, as Kafka's is.
    fn convert_typed(&self, schema: &Schema, value: &SchemaValue) -> Result<SchemaValue, String> {
        check_input_schema(schema)?;
        if *value == SchemaValue::Null {
            return Ok(SchemaValue::Null);
        }
        Ok(self.target_value(self.convert(schema_input(schema, value))?))
    }

    /// Kafka's `applyValueWithSchema` on the values of a struct of `from`,
    /// in place: `field` (at `i`) converted and, with
    /// `replace.null.with.default`, null fields given their defaults (as
    /// `Struct.get` reads them). Nothing changes when the conversion fails.
    fn convert_struct(
        &self,
        from: &Schema,
        i: usize,
        values: &mut [SchemaValue],
    ) -> Result<(), String> {
        let fields = from.fields();
        let (Some(field), Some(value)) = (fields.get(i), values.get(i)) else {
            return Ok(());
        };
        let input = match (value, &field.schema.default) {
            (SchemaValue::Null, Some(default)) if self.replace_null_with_default => default,
            (v, _) => v,
        };
        let converted = self.convert_typed(&field.schema, input)?;
        if converted == SchemaValue::Null && !field.schema.optional {
            // Connect's `Struct.put` into the target schema, which has no default.
            return Err(format!(
                "Invalid value: null used for required field: \"{}\", schema type: {}",
                field.name,
                self.target_schema(false).kind.type_name()
            ));
        }
        if self.replace_null_with_default {
            for (v, f) in values.iter_mut().zip(fields) {
                if *v == SchemaValue::Null
                    && let Some(default) = &f.schema.default
                {
                    *v = default.clone();
                }
            }
        }
        values[i] = converted;
        Ok(())
    }

    /// The struct schema `from` with its field at `i` of the target type
    /// (optional as it was), and its default struct converted.
    fn struct_schema(&self, from: &Schema, i: usize) -> Result<Arc<Schema>, String> {
        let mut fields = from.fields().to_vec();
        fields[i] = Field {
            name: fields[i].name.clone(),
            schema: Arc::clone(self.target_schema(fields[i].schema.optional)),
        };
        let mut schema = typed::with_fields(from, fields);
        if let Some(SchemaValue::Struct(default)) = &from.default {
            let mut default = default.clone();
            self.convert_struct(from, i, &mut default)?;
            schema.default = Some(SchemaValue::Struct(default));
        }
        Ok(Arc::new(schema))
    }

    /// Connect's schema path, in place: the whole value, or the struct's
    /// `field`, converted to the target type, the schema changed to match.
    fn typed(&self, t: &mut SchemaAndValue) -> Result<(), String> {
        if self.field.is_empty() {
            t.value = self.convert_typed(&t.schema, &t.value)?;
            t.schema = Arc::clone(self.target_schema(t.schema.optional));
            return Ok(());
        }
        // Kafka's `requireStructOrNull`, then the schema's fields.
        if !matches!(t.value, SchemaValue::Struct(_) | SchemaValue::Null) {
            return Err(format!(
                "Only Struct objects supported for [{PURPOSE}], found: {}",
                java_class(&t.schema, &t.value)
            ));
        }
        if !matches!(t.schema.kind, SchemaKind::Struct(_)) {
            return Err("Cannot list fields on non-struct type".into());
        }
        let Some((i, _)) = t.schema.field(&self.field) else {
            // No such field: Connect's copy of the schema and struct is the same.
            return Ok(());
        };
        let schema = self.schema.get(&t.schema, |s| self.struct_schema(s, i))?;
        if let SchemaValue::Struct(values) = &mut t.value {
            self.convert_struct(&t.schema, i, values)?;
        }
        t.schema = Arc::clone(&schema);
        Ok(())
    }
}

impl Transformation for TimestampConverter {
    fn apply(&self, r: &mut SinkRecord) -> Result<Outcome, String> {
        let data = match self.part.get_mut(r) {
            Data::Typed(t) => {
                self.typed(t)?;
                return Ok(Outcome::Keep);
            }
            data => &*data,
        };
        if data.is_null() {
            return Ok(Outcome::Keep);
        }
        let updated = if self.field.is_empty() {
            let input = match data {
                Data::Json(v) => Input::Json(v.clone()),
                Data::Text(s) => Input::Json(Value::String(s.clone())),
                // Raw bytes (a typed part took the schema path above).
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
    let target_schema = |optional: bool| {
        let mut schema = match target {
            Target::String => Schema::new(SchemaKind::String),
            Target::Unix => Schema::new(SchemaKind::Int64),
            Target::Date => Schema::date(),
            Target::Time => Schema::time(),
            Target::Timestamp => Schema::timestamp(),
        };
        schema.optional = optional;
        Arc::new(schema)
    };
    Ok(Box::new(TimestampConverter {
        part: Part::or_value(part),
        field: s.get_or("field", "").trim().to_string(),
        target,
        format,
        precision,
        replace_null_with_default: s.boolean("replace.null.with.default", true)?,
        target_schemas: [target_schema(false), target_schema(true)],
        schema: Derived::default(),
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

    // The schema path, after Kafka's `TimestampConverterTest` `testWithSchema*`
    // cases: Date values are days, Time values milliseconds of the day and
    // Timestamp values epoch milliseconds, as `Value` keeps them.

    const KEY: &str = "org.apache.kafka.connect.transforms.TimestampConverter$Key";
    /// 1970-01-02 in days since the epoch.
    const DATE_DAYS: i32 = 1;
    const TIME_MILLIS: i32 = 1234;

    fn int64() -> Schema {
        Schema::new(SchemaKind::Int64)
    }

    fn string() -> Schema {
        Schema::new(SchemaKind::String)
    }

    fn text(s: &str) -> SchemaValue {
        SchemaValue::String(s.into())
    }

    /// Kafka's test struct: `ts` of the given schema, and `other` a STRING.
    fn ts_struct(ts: Schema) -> Schema {
        Schema::new(SchemaKind::Struct(vec![
            Field::new("ts", ts),
            Field::new("other", string()),
        ]))
    }

    fn typed_record(schema: Schema, value: SchemaValue) -> connect_api::SinkRecord {
        let mut r = record(Value::Null);
        r.value = Data::Typed(SchemaAndValue::new(schema, value));
        r
    }

    /// The value after the transformation, which must keep a schema.
    fn with_schema(
        settings: &[(&str, &str)],
        schema: Schema,
        value: SchemaValue,
    ) -> SchemaAndValue {
        match apply(&chain(VALUE, settings), typed_record(schema, value)).value {
            Data::Typed(t) => t,
            other => panic!("the schema is kept: {other:?}"),
        }
    }

    fn with_schema_error(settings: &[(&str, &str)], schema: Schema, value: SchemaValue) -> String {
        chain(VALUE, settings)
            .apply(typed_record(schema, value))
            .expect_err("refused")
            .message
    }

    /// Kafka's `testWithSchema*` conversions of a whole value: (case,
    /// settings, input schema and value, output schema and value). A coarser
    /// target type than the input's leaves it unchanged.
    #[test]
    fn with_schema_conversions() {
        type Case = (
            &'static str,
            &'static [(&'static str, &'static str)],
            Schema,
            SchemaValue,
            Schema,
            SchemaValue,
        );
        let cases: Vec<Case> = vec![
            (
                "testWithSchemaIdentity",
                &[("target.type", "Timestamp")],
                Schema::timestamp(),
                SchemaValue::Int64(DATE_PLUS_TIME),
                Schema::timestamp(),
                SchemaValue::Int64(DATE_PLUS_TIME),
            ),
            (
                "testWithSchemaTimestampToDate",
                &[("target.type", "Date")],
                Schema::timestamp(),
                SchemaValue::Int64(DATE_PLUS_TIME),
                Schema::date(),
                SchemaValue::Int32(DATE_DAYS),
            ),
            (
                "testWithSchemaTimestampToTime",
                &[("target.type", "Time")],
                Schema::timestamp(),
                SchemaValue::Int64(DATE_PLUS_TIME),
                Schema::time(),
                SchemaValue::Int32(TIME_MILLIS),
            ),
            (
                "testWithSchemaTimestampToUnix",
                &[("target.type", "unix")],
                Schema::timestamp(),
                SchemaValue::Int64(DATE_PLUS_TIME),
                int64(),
                SchemaValue::Int64(DATE_PLUS_TIME),
            ),
            (
                "testWithSchemaTimestampToString",
                &[("target.type", "string"), ("format", STRING_DATE_FMT)],
                Schema::timestamp(),
                SchemaValue::Int64(DATE_PLUS_TIME),
                string(),
                text(DATE_PLUS_TIME_STRING),
            ),
            (
                "testWithSchemaDateToTimestamp",
                &[("target.type", "Timestamp")],
                Schema::date(),
                SchemaValue::Int32(DATE_DAYS),
                Schema::timestamp(),
                SchemaValue::Int64(DATE),
            ),
            (
                "testWithSchemaTimeToTimestamp",
                &[("target.type", "Timestamp")],
                Schema::time(),
                SchemaValue::Int32(TIME_MILLIS),
                Schema::timestamp(),
                SchemaValue::Int64(TIME),
            ),
            (
                "testWithSchemaStringToTimestamp",
                &[("target.type", "Timestamp"), ("format", STRING_DATE_FMT)],
                string(),
                text(DATE_PLUS_TIME_STRING),
                Schema::timestamp(),
                SchemaValue::Int64(DATE_PLUS_TIME),
            ),
        ];
        for (case, settings, schema, value, expected_schema, expected_value) in cases {
            let t = with_schema(settings, schema, value);
            assert_eq!(*t.schema, expected_schema, "{case}");
            assert_eq!(t.value, expected_value, "{case}");
        }
    }

    /// Kafka's `unix` translator's `toType` in each `unix.precision`.
    #[test]
    fn with_schema_timestamp_to_unix_in_each_precision() {
        for (precision, expected) in [
            ("seconds", 86_401),
            ("milliseconds", DATE_PLUS_TIME),
            ("microseconds", DATE_PLUS_TIME * 1000),
            ("nanoseconds", DATE_PLUS_TIME * 1_000_000),
        ] {
            let t = with_schema(
                &[("target.type", "unix"), ("unix.precision", precision)],
                Schema::timestamp().optional(),
                SchemaValue::Int64(DATE_PLUS_TIME),
            );
            assert_eq!(*t.schema, int64().optional(), "{precision}");
            assert_eq!(t.value, SchemaValue::Int64(expected), "{precision}");
        }
    }

    /// Kafka's `testWithSchemaUnixToTimestamp`, and its `unix` translator's
    /// `toRaw` in the other precisions.
    #[test]
    fn with_schema_unix_to_timestamp() {
        let t = with_schema(
            &[("target.type", "Timestamp")],
            int64(),
            SchemaValue::Int64(DATE_PLUS_TIME),
        );
        assert_eq!(*t.schema, Schema::timestamp());
        assert_eq!(t.value, SchemaValue::Int64(DATE_PLUS_TIME));
        let micros = DATE_PLUS_TIME * 1000 + 123;
        for (precision, unix, expected) in [
            ("seconds", 86_401, 86_401_000),
            ("microseconds", micros, DATE_PLUS_TIME),
            ("nanoseconds", micros * 1000 + 456, DATE_PLUS_TIME),
        ] {
            let t = with_schema(
                &[("target.type", "Timestamp"), ("unix.precision", precision)],
                int64(),
                SchemaValue::Int64(unix),
            );
            assert_eq!(*t.schema, Schema::timestamp(), "{precision}");
            assert_eq!(t.value, SchemaValue::Int64(expected), "{precision}");
        }
    }

    /// Each target type with its optional schema, and Kafka's optional
    /// input schemas of its null-value cases.
    fn null_cases() -> Vec<(&'static str, Schema)> {
        vec![
            ("Timestamp", Schema::timestamp().optional()),
            ("unix", int64().optional()),
            ("Time", Schema::time().optional()),
            ("Date", Schema::date().optional()),
            ("string", string().optional()),
        ]
    }

    fn optional_inputs() -> [Schema; 5] {
        [
            int64().optional(),
            Schema::time().optional(),
            Schema::date().optional(),
            string().optional(),
            Schema::timestamp().optional(),
        ]
    }

    /// Kafka's `testWithSchemaNullValueTo{Timestamp,Unix,Time,Date,String}`.
    #[test]
    fn with_schema_null_value_to_each_type() {
        for (target, expected) in null_cases() {
            for input in optional_inputs() {
                let what = format!("{:?} to {target}", input.name);
                let t = with_schema(
                    &[("target.type", target), ("format", STRING_DATE_FMT)],
                    input,
                    SchemaValue::Null,
                );
                assert_eq!(*t.schema, expected, "{what}");
                assert_eq!(t.value, SchemaValue::Null, "{what}");
            }
        }
    }

    /// Kafka's `testWithSchemaNullFieldTo{Timestamp,Unix,Time,Date,String}`:
    /// a null field, then a null (optional) struct.
    #[test]
    fn with_schema_null_field_to_each_type() {
        for (target, expected) in null_cases() {
            for input in optional_inputs() {
                let what = format!("{:?} to {target}", input.name);
                let settings = [
                    ("target.type", target),
                    ("format", STRING_DATE_FMT),
                    ("field", "ts"),
                ];
                let t = with_schema(
                    &settings,
                    ts_struct(input.clone()),
                    SchemaValue::Struct(vec![SchemaValue::Null, text("test")]),
                );
                assert_eq!(*t.schema, ts_struct(expected.clone()), "{what}");
                assert_eq!(
                    t.value,
                    SchemaValue::Struct(vec![SchemaValue::Null, text("test")]),
                    "{what}"
                );
                let t = with_schema(&settings, ts_struct(input).optional(), SchemaValue::Null);
                assert_eq!(*t.schema, ts_struct(expected.clone()).optional(), "{what}");
                assert_eq!(t.value, SchemaValue::Null, "{what}");
            }
        }
    }

    /// Kafka's `testWithSchemaFieldConversion`: only `ts` changes, in the
    /// struct and in its schema.
    #[test]
    fn with_schema_field_conversion() {
        let t = with_schema(
            &[("target.type", "Timestamp"), ("field", "ts")],
            ts_struct(int64()),
            SchemaValue::Struct(vec![SchemaValue::Int64(DATE_PLUS_TIME), text("test")]),
        );
        assert_eq!(*t.schema, ts_struct(Schema::timestamp()));
        assert_eq!(
            t.value,
            SchemaValue::Struct(vec![SchemaValue::Int64(DATE_PLUS_TIME), text("test")])
        );
    }

    /// Kafka's `testWithSchemaNullFieldWithDefaultConversion`, for both
    /// settings of `replace.null.with.default` (its data: `false` gives
    /// null, `true` the default, 0, as the epoch).
    #[test]
    fn with_schema_null_field_with_default() {
        let mut ts = int64().optional();
        ts.default = Some(SchemaValue::Int64(0));
        for (replace, expected) in [
            ("false", SchemaValue::Null),
            ("true", SchemaValue::Int64(0)),
        ] {
            let t = with_schema(
                &[
                    ("target.type", "Timestamp"),
                    ("field", "ts"),
                    ("replace.null.with.default", replace),
                ],
                ts_struct(ts.clone()),
                SchemaValue::Struct(vec![SchemaValue::Null, text("test")]),
            );
            // The target schema has no default.
            assert_eq!(
                *t.schema,
                ts_struct(Schema::timestamp().optional()),
                "{replace}"
            );
            assert_eq!(
                t.value,
                SchemaValue::Struct(vec![expected, text("test")]),
                "{replace}"
            );
        }
    }

    /// Kafka's `testWithSchemaFieldConversion_{Micros,Nanos,Seconds}`.
    #[test]
    fn with_schema_field_conversion_in_each_unix_precision() {
        let micros = DATE_PLUS_TIME * 1000 + 123;
        let only_ts = |ts: Schema| Schema::new(SchemaKind::Struct(vec![Field::new("ts", ts)]));
        for (precision, unix, expected) in [
            ("microseconds", micros, DATE_PLUS_TIME),
            ("nanoseconds", micros * 1000 + 456, DATE_PLUS_TIME),
            // 1970-01-02T00:00:01Z: the milliseconds are lost.
            ("seconds", 86_401, 86_401_000),
        ] {
            let t = with_schema(
                &[
                    ("target.type", "Timestamp"),
                    ("field", "ts"),
                    ("unix.precision", precision),
                ],
                only_ts(int64()),
                SchemaValue::Struct(vec![SchemaValue::Int64(unix)]),
            );
            assert_eq!(*t.schema, only_ts(Schema::timestamp()), "{precision}");
            assert_eq!(
                t.value,
                SchemaValue::Struct(vec![SchemaValue::Int64(expected)]),
                "{precision}"
            );
        }
    }

    /// Kafka's `testKey`, with a key schema: the whole key, then a key
    /// struct's field; the value is left alone.
    #[test]
    fn with_schema_key() {
        let mut r = record(json!(1));
        r.key = Data::Typed(SchemaAndValue::new(
            Schema::timestamp(),
            SchemaValue::Int64(DATE_PLUS_TIME),
        ));
        let r = apply(&chain(KEY, &[("target.type", "Date")]), r);
        let Data::Typed(key) = r.key else {
            panic!("the key schema is kept: {:?}", r.key)
        };
        assert_eq!(*key.schema, Schema::date());
        assert_eq!(key.value, SchemaValue::Int32(DATE_DAYS));
        assert_eq!(r.value, Data::Json(json!(1)));

        let mut r = record(json!(1));
        r.key = Data::Typed(SchemaAndValue::new(
            ts_struct(Schema::timestamp()),
            SchemaValue::Struct(vec![SchemaValue::Int64(DATE_PLUS_TIME), text("k")]),
        ));
        let c = chain(
            KEY,
            &[
                ("target.type", "string"),
                ("format", STRING_DATE_FMT),
                ("field", "ts"),
            ],
        );
        let r = apply(&c, r);
        let Data::Typed(key) = r.key else {
            panic!("the key schema is kept: {:?}", r.key)
        };
        assert_eq!(*key.schema, ts_struct(string()));
        assert_eq!(
            key.value,
            SchemaValue::Struct(vec![text(DATE_PLUS_TIME_STRING), text("k")])
        );
        assert_eq!(r.value, Data::Json(json!(1)));
    }

    /// Connect's `SchemaUtil.copySchemaBasics` and optionality: the struct
    /// schema keeps its name, version, doc and parameters, and its default
    /// struct is converted as a value is.
    #[test]
    fn with_schema_struct_keeps_its_metadata_and_converts_its_default() {
        let with = |ts: Schema, default: SchemaValue| {
            let mut s = ts_struct(ts)
                .named("shop.Event")
                .parameter("k", "v")
                .optional();
            s.version = Some(2);
            s.doc = Some("an event".into());
            s.default = Some(SchemaValue::Struct(vec![default, text("x")]));
            s
        };
        let input = with(Schema::timestamp(), SchemaValue::Int64(DATE_PLUS_TIME));
        let expected = with(Schema::date(), SchemaValue::Int32(DATE_DAYS));
        let settings = [("target.type", "Date"), ("field", "ts")];
        let t = with_schema(
            &settings,
            input.clone(),
            SchemaValue::Struct(vec![SchemaValue::Int64(DATE), text("test")]),
        );
        assert_eq!(*t.schema, expected);
        assert_eq!(
            t.value,
            SchemaValue::Struct(vec![SchemaValue::Int32(DATE_DAYS), text("test")])
        );
        let t = with_schema(&settings, input, SchemaValue::Null);
        assert_eq!(*t.schema, expected);
        assert_eq!(t.value, SchemaValue::Null);
    }

    /// As Connect's `getFieldValue` copies every field: with
    /// `replace.null.with.default` the other null fields take their
    /// defaults too; without it they stay null.
    #[test]
    fn with_schema_other_null_fields_read_as_their_defaults() {
        let mut n = Schema::new(SchemaKind::Int32).optional();
        n.default = Some(SchemaValue::Int32(7));
        let schema = Schema::new(SchemaKind::Struct(vec![
            Field::new("ts", Schema::timestamp()),
            Field::new("n", n.clone()),
        ]));
        for (replace, expected) in [
            ("true", SchemaValue::Int32(7)),
            ("false", SchemaValue::Null),
        ] {
            let t = with_schema(
                &[
                    ("target.type", "unix"),
                    ("field", "ts"),
                    ("replace.null.with.default", replace),
                ],
                schema.clone(),
                SchemaValue::Struct(vec![SchemaValue::Int64(DATE), SchemaValue::Null]),
            );
            assert_eq!(
                *t.schema,
                Schema::new(SchemaKind::Struct(vec![
                    Field::new("ts", int64()),
                    Field::new("n", n.clone()),
                ])),
                "{replace}"
            );
            assert_eq!(
                t.value,
                SchemaValue::Struct(vec![SchemaValue::Int64(DATE), expected]),
                "{replace}"
            );
        }
    }

    /// Kafka's `timestampTypeFromSchema`: a schema of no timestamp type is
    /// refused, named as Connect's `Schema.toString` names it; a null
    /// value is no exception, but a null struct is (its field is not read).
    #[test]
    fn with_schema_of_no_timestamp_type_is_refused() {
        let date = [("target.type", "Date")];
        let e = with_schema_error(&date, Schema::new(SchemaKind::Int32), SchemaValue::Int32(1));
        assert_eq!(
            e,
            "Schema Schema{INT32} does not correspond to a known timestamp type format"
        );
        let e = with_schema_error(&date, Schema::decimal(2).optional(), SchemaValue::Null);
        assert_eq!(
            e,
            "Schema Schema{org.apache.kafka.connect.data.Decimal:BYTES} does not correspond to a known timestamp type format"
        );
        let field = [("target.type", "Date"), ("field", "ts")];
        let bad = || ts_struct(Schema::new(SchemaKind::Boolean).optional());
        let e = with_schema_error(
            &field,
            bad(),
            SchemaValue::Struct(vec![SchemaValue::Null, text("test")]),
        );
        assert_eq!(
            e,
            "Schema Schema{BOOLEAN} does not correspond to a known timestamp type format"
        );
        let t = with_schema(&field, bad().optional(), SchemaValue::Null);
        assert_eq!(*t.schema, ts_struct(Schema::date().optional()).optional());
        assert_eq!(t.value, SchemaValue::Null);
    }

    /// Kafka's `requireStructOrNull`: with `field`, a schema'd value must
    /// be a struct.
    #[test]
    fn with_schema_field_needs_a_struct() {
        let field = [("target.type", "unix"), ("field", "ts")];
        let e = with_schema_error(&field, int64(), SchemaValue::Int64(1));
        assert_eq!(
            e,
            "Only Struct objects supported for [converting timestamp formats], found: java.lang.Long"
        );
        let e = with_schema_error(&field, Schema::timestamp(), SchemaValue::Int64(1));
        assert!(e.ends_with("found: java.util.Date"), "{e}");
        let e = with_schema_error(&field, string().optional(), SchemaValue::Null);
        assert_eq!(e, "Cannot list fields on non-struct type");
    }

    /// A struct without `field` is unchanged, as Connect's copy of it is.
    #[test]
    fn with_schema_absent_field_leaves_the_struct_as_it_is() {
        let schema = ts_struct(int64()).named("shop.Event");
        let value = SchemaValue::Struct(vec![SchemaValue::Int64(1), text("test")]);
        let t = with_schema(
            &[("target.type", "Date"), ("field", "missing")],
            schema.clone(),
            value.clone(),
        );
        assert_eq!(*t.schema, schema);
        assert_eq!(t.value, value);
    }

    /// A null left in a required field has no place in the target schema,
    /// which has no default: Connect's `Struct.put` refuses it.
    #[test]
    fn with_schema_null_in_a_required_field_is_refused() {
        let mut ts = int64();
        ts.default = Some(SchemaValue::Int64(0));
        let value = SchemaValue::Struct(vec![SchemaValue::Null, text("test")]);
        let settings = |replace| {
            [
                ("target.type", "Timestamp"),
                ("field", "ts"),
                ("replace.null.with.default", replace),
            ]
        };
        let e = with_schema_error(&settings("false"), ts_struct(ts.clone()), value.clone());
        assert_eq!(
            e,
            "Invalid value: null used for required field: \"ts\", schema type: INT64"
        );
        let t = with_schema(&settings("true"), ts_struct(ts), value);
        assert_eq!(*t.schema, ts_struct(Schema::timestamp()));
        assert_eq!(
            t.value,
            SchemaValue::Struct(vec![SchemaValue::Int64(0), text("test")])
        );
    }

    /// A STRING input is parsed with `format`, which it needs.
    #[test]
    fn with_schema_unparseable_string_fails() {
        let e = with_schema_error(&[("target.type", "Date")], string(), text("2017"));
        assert_eq!(
            e,
            "TimestampConverter requires format option to be specified when using string timestamps"
        );
        let e = with_schema_error(
            &[("target.type", "Date"), ("format", "yyyy-MM-dd")],
            string(),
            text("not a date"),
        );
        assert_eq!(
            e,
            "Could not parse timestamp: value (not a date) does not match pattern (yyyy-MM-dd)"
        );
    }

    /// The output struct schema is built once for the records that share
    /// an input schema (equal, not only the same `Arc`).
    #[test]
    fn with_schema_output_schema_is_built_once() {
        let c = chain(VALUE, &[("target.type", "Date"), ("field", "ts")]);
        let out = || {
            let r = typed_record(
                ts_struct(Schema::timestamp()),
                SchemaValue::Struct(vec![SchemaValue::Int64(DATE_PLUS_TIME), text("test")]),
            );
            match apply(&c, r).value {
                Data::Typed(t) => t.schema,
                other => panic!("{other:?}"),
            }
        };
        assert!(Arc::ptr_eq(&out(), &out()));
    }
}
