//! `io.confluent.connect.avro.AvroConverter`: Confluent's wire format
//! (magic byte 0, schema id, Avro binary) read with the writer's schema from
//! the Schema Registry, mapped to Connect as Confluent's `AvroData` maps it.
//!
//! The Connect schema is built from the registered schema's raw JSON, since
//! `apache-avro` drops custom attributes (`connect.type`, `connect.name`, …)
//! on primitive schemas; `apache-avro` decodes the binary.

use std::collections::HashMap;
use std::sync::Arc;

use apache_avro::types::Value as Avro;
use connect_api::schema::{Field, Schema, SchemaAndValue, SchemaKind, Value};
use futures::FutureExt as _;
use serde_json::Value as Json;

use super::registry::{
    self, Parse, RegisteredSchema, RegistryClient, RegistryConverter, RegistryError, SchemaCache,
};

/// Connect's name for the struct a general Avro union becomes.
const UNION: &str = "io.confluent.connect.avro.Union";
const ENUM: &str = "io.confluent.connect.avro.Enum";

/// `AvroConverter`: the registry converter with Avro's decoder.
pub type AvroConverter = RegistryConverter<Decoder>;

pub fn converter(config: registry::RegistryConfig, is_key: bool) -> AvroConverter {
    let parse: Parse<Decoder> = Arc::new(move |client, schema, subject| {
        async move { Decoder::build(&client, schema, &subject).await }.boxed()
    });
    RegistryConverter::new(
        "io.confluent.connect.avro.AvroConverter",
        "Avro",
        SchemaCache::new(config),
        parse,
        is_key,
    )
}

/// One registered schema, ready to decode: apache-avro's schema for the
/// binary, and the plan that maps its values to Connect.
pub struct Decoder {
    writer: apache_avro::Schema,
    references: Vec<apache_avro::Schema>,
    plan: Plan,
}

impl Decoder {
    async fn build(
        client: &RegistryClient,
        registered: RegisteredSchema,
        subject: &str,
    ) -> Result<Self, RegistryError> {
        if registered.schema_type != "AVRO" {
            return Err(RegistryError::Invalid(format!(
                "schema is {}, not AVRO",
                registered.schema_type
            )));
        }
        let referenced: Vec<String> = client
            .fetch_references(&registered.references, false)
            .await?
            .into_iter()
            .map(|(_, text)| text)
            .collect();
        let texts: Vec<&str> = referenced.iter().map(String::as_str).collect();
        let (writer, references) =
            apache_avro::Schema::parse_str_with_list(&registered.schema, &texts)
                .map_err(|e| RegistryError::Invalid(format!("invalid Avro schema: {e}")))?;
        let mut names = Names::default();
        for text in &referenced {
            let json: Json = serde_json::from_str(text)
                .map_err(|e| RegistryError::Invalid(format!("invalid Avro schema: {e}")))?;
            plan(&json, None, &mut names).map_err(RegistryError::Invalid)?;
        }
        let json: Json = serde_json::from_str(&registered.schema)
            .map_err(|e| RegistryError::Invalid(format!("invalid Avro schema: {e}")))?;
        let mut plan = plan(&json, None, &mut names).map_err(RegistryError::Invalid)?;
        // The Connect schema's version, as AvroConverter sets it: from the
        // subject, best-effort (a 40401/40403 here never fails a record).
        if plan.schema.version.is_none()
            && let Ok(version) = client.lookup_version(subject, &registered).await
        {
            let mut schema = (*plan.schema).clone();
            schema.version = Some(version);
            plan.schema = Arc::new(schema);
        }
        Ok(Self {
            writer,
            references,
            plan,
        })
    }
}

impl registry::Decode for Decoder {
    fn decode(&self, mut body: &[u8]) -> Result<SchemaAndValue, String> {
        let reader = apache_avro::reader::datum::GenericDatumReader::builder(&self.writer);
        let reader = if self.references.is_empty() {
            reader.build()
        } else {
            reader
                .writer_schemata(self.references.iter().collect())
                .and_then(|r| r.build())
        }
        .map_err(|e| e.to_string())?;
        let value = reader.read_value(&mut body).map_err(|e| e.to_string())?;
        Ok(SchemaAndValue::new(
            self.plan.schema.clone(),
            self.plan.value(value)?,
        ))
    }
}

/// A node of the mapping from Avro values to Connect values, beside its
/// Connect schema.
#[derive(Debug, Clone)]
struct Plan {
    schema: Arc<Schema>,
    shape: Shape,
}

#[derive(Debug, Clone)]
enum Shape {
    Scalar,
    Record(Vec<Plan>),
    Array(Box<Plan>),
    Map(Box<Plan>),
    /// `["null", X]`: X, optional.
    Optional(Box<Plan>),
    /// Any other union: a struct with one field per non-null branch;
    /// `None` marks the null branch.
    Union(Vec<Option<usize>>, Vec<Plan>),
}

/// Named types seen so far, by full and by simple name.
#[derive(Default)]
struct Names(HashMap<String, Plan>);

fn full_name(name: &str, namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) if !name.contains('.') && !ns.is_empty() => format!("{ns}.{name}"),
        _ => name.to_string(),
    }
}

fn plan(json: &Json, namespace: Option<&str>, names: &mut Names) -> Result<Plan, String> {
    match json {
        Json::String(name) => primitive(name, &serde_json::Map::new())
            .or_else(|| {
                names
                    .0
                    .get(&full_name(name, namespace))
                    .or_else(|| names.0.get(name))
                    .cloned()
            })
            .ok_or_else(|| format!("unknown Avro type {name}")),
        Json::Array(branches) => union(branches, namespace, names),
        Json::Object(obj) => {
            let type_name = obj.get("type").ok_or("Avro schema without a type")?;
            let Json::String(type_name) = type_name else {
                // {"type": {...}} or {"type": [...]}: the inner schema.
                return plan(type_name, namespace, names);
            };
            let mut plan = match type_name.as_str() {
                "record" | "error" => record(obj, namespace, names)?,
                "enum" => named(obj, namespace, names, |name| {
                    let mut s = Schema::new(SchemaKind::String)
                        .named(name.to_string())
                        .parameter(ENUM, name);
                    for symbol in obj
                        .get("symbols")
                        .and_then(Json::as_array)
                        .into_iter()
                        .flatten()
                    {
                        if let Some(symbol) = symbol.as_str() {
                            s = s.parameter(format!("{ENUM}.{symbol}"), symbol);
                        }
                    }
                    s
                })?,
                "fixed" => named(obj, namespace, names, |name| {
                    let size = obj.get("size").and_then(Json::as_u64).unwrap_or(0);
                    decimal_or(obj, Schema::new(SchemaKind::Bytes).named(name.to_string()))
                        .parameter("connect.fixed.size", size.to_string())
                })?,
                "array" => {
                    let items = plan(
                        obj.get("items").ok_or("array without items")?,
                        namespace,
                        names,
                    )?;
                    Plan {
                        schema: Arc::new(Schema::new(SchemaKind::Array(items.schema.clone()))),
                        shape: Shape::Array(Box::new(items)),
                    }
                }
                "map" => {
                    let values = plan(
                        obj.get("values").ok_or("map without values")?,
                        namespace,
                        names,
                    )?;
                    Plan {
                        schema: Arc::new(Schema::new(SchemaKind::Map {
                            key: Arc::new(Schema::new(SchemaKind::String)),
                            value: values.schema.clone(),
                        })),
                        shape: Shape::Map(Box::new(values)),
                    }
                }
                other => {
                    primitive(other, obj).ok_or_else(|| format!("unknown Avro type {other}"))?
                }
            };
            connect_properties(obj, &mut plan);
            Ok(plan)
        }
        other => Err(format!("not an Avro schema: {other}")),
    }
}

/// A primitive type with its logical type and `connect.type`, from the
/// raw attributes.
fn primitive(name: &str, attrs: &serde_json::Map<String, Json>) -> Option<Plan> {
    let logical = attrs.get("logicalType").and_then(Json::as_str);
    let connect_type = attrs.get("connect.type").and_then(Json::as_str);
    let schema = match (name, logical, connect_type) {
        ("int", Some("date"), _) => Schema::date(),
        ("int", Some("time-millis"), _) => Schema::time(),
        ("int", _, Some("int8")) => Schema::new(SchemaKind::Int8),
        ("int", _, Some("int16")) => Schema::new(SchemaKind::Int16),
        ("int", _, _) => Schema::new(SchemaKind::Int32),
        ("long", Some("timestamp-millis"), _) => Schema::timestamp(),
        ("long", _, _) => Schema::new(SchemaKind::Int64),
        ("float", _, _) => Schema::new(SchemaKind::Float32),
        ("double", _, _) => Schema::new(SchemaKind::Float64),
        ("boolean", _, _) => Schema::new(SchemaKind::Boolean),
        ("string", _, _) => Schema::new(SchemaKind::String),
        ("bytes", _, _) => decimal_or(attrs, Schema::new(SchemaKind::Bytes)),
        ("null", _, _) => Schema::new(SchemaKind::String).optional(),
        _ => return None,
    };
    Some(Plan {
        schema: Arc::new(schema),
        shape: Shape::Scalar,
    })
}

/// `decimal` bytes or fixed become Connect's Decimal with its scale.
fn decimal_or(attrs: &serde_json::Map<String, Json>, otherwise: Schema) -> Schema {
    if attrs.get("logicalType").and_then(Json::as_str) != Some("decimal") {
        return otherwise;
    }
    let scale = attrs.get("scale").and_then(Json::as_i64).unwrap_or(0) as i32;
    let mut s = Schema::decimal(scale);
    if let Some(p) = attrs.get("precision").and_then(Json::as_i64) {
        s = s.parameter("connect.decimal.precision", p.to_string());
    }
    s
}

/// A named type (enum, fixed), registered under its names.
fn named(
    obj: &serde_json::Map<String, Json>,
    namespace: Option<&str>,
    names: &mut Names,
    schema: impl FnOnce(&str) -> Schema,
) -> Result<Plan, String> {
    let name = obj
        .get("name")
        .and_then(Json::as_str)
        .ok_or("named type without a name")?;
    let ns = obj.get("namespace").and_then(Json::as_str).or(namespace);
    let full = full_name(name, ns);
    let plan = Plan {
        schema: Arc::new(schema(&full)),
        shape: Shape::Scalar,
    };
    names.0.insert(full, plan.clone());
    names
        .0
        .entry(name.to_string())
        .or_insert_with(|| plan.clone());
    Ok(plan)
}

fn record(
    obj: &serde_json::Map<String, Json>,
    namespace: Option<&str>,
    names: &mut Names,
) -> Result<Plan, String> {
    let name = obj
        .get("name")
        .and_then(Json::as_str)
        .ok_or("record without a name")?;
    let ns = obj.get("namespace").and_then(Json::as_str).or(namespace);
    let full = full_name(name, ns);
    let inner_ns = full.rsplit_once('.').map(|(ns, _)| ns.to_string());
    let mut fields = Vec::new();
    let mut plans = Vec::new();
    for f in obj
        .get("fields")
        .and_then(Json::as_array)
        .ok_or("record without fields")?
    {
        let field_name = f
            .get("name")
            .and_then(Json::as_str)
            .ok_or("field without a name")?;
        let mut field_plan = plan(
            f.get("type").ok_or("field without a type")?,
            inner_ns.as_deref(),
            names,
        )?;
        if let Some(default) = f.get("default") {
            let mut schema = (*field_plan.schema).clone();
            schema.default = default_value(&schema, default);
            if let Some(doc) = f.get("doc").and_then(Json::as_str) {
                schema.doc = Some(doc.to_string());
            }
            field_plan.schema = Arc::new(schema);
        }
        fields.push(Field {
            name: field_name.to_string(),
            schema: field_plan.schema.clone(),
        });
        plans.push(field_plan);
    }
    let mut schema = Schema::new(SchemaKind::Struct(fields)).named(full.clone());
    schema.doc = obj.get("doc").and_then(Json::as_str).map(str::to_string);
    let plan = Plan {
        schema: Arc::new(schema),
        shape: Shape::Record(plans),
    };
    names.0.insert(full, plan.clone());
    names
        .0
        .entry(name.to_string())
        .or_insert_with(|| plan.clone());
    Ok(plan)
}

fn union(branches: &[Json], namespace: Option<&str>, names: &mut Names) -> Result<Plan, String> {
    let is_null = |b: &Json| b.as_str() == Some("null");
    let non_null: Vec<&Json> = branches.iter().filter(|b| !is_null(b)).collect();
    let has_null = non_null.len() < branches.len();
    if has_null && non_null.len() == 1 {
        let inner = plan(non_null[0], namespace, names)?;
        let mut schema = (*inner.schema).clone();
        schema.optional = true;
        return Ok(Plan {
            schema: Arc::new(schema),
            shape: Shape::Optional(Box::new(inner)),
        });
    }
    let mut index = Vec::new();
    let mut plans = Vec::new();
    let mut fields = Vec::new();
    for b in branches {
        if is_null(b) {
            index.push(None);
            continue;
        }
        let p = plan(b, namespace, names)?;
        let field_name = match (&p.schema.kind, &p.schema.name) {
            (SchemaKind::Struct(_), Some(name)) => {
                name.rsplit('.').next().unwrap_or(name).to_string()
            }
            (_, Some(name)) if p.schema.logical().is_none() => {
                name.rsplit('.').next().unwrap_or(name).to_string()
            }
            (kind, _) => kind.type_name().to_ascii_lowercase(),
        };
        let mut field_schema = (*p.schema).clone();
        field_schema.optional = true;
        fields.push(Field::new(field_name, field_schema));
        index.push(Some(plans.len()));
        plans.push(p);
    }
    let mut schema = Schema::new(SchemaKind::Struct(fields)).named(UNION);
    schema.optional = has_null;
    Ok(Plan {
        schema: Arc::new(schema),
        shape: Shape::Union(index, plans),
    })
}

/// `connect.name`, `connect.version`, `connect.doc` and `connect.parameters`,
/// which Confluent's AvroData writes and reads back.
fn connect_properties(obj: &serde_json::Map<String, Json>, plan: &mut Plan) {
    let mut schema = (*plan.schema).clone();
    let mut changed = false;
    if let Some(name) = obj.get("connect.name").and_then(Json::as_str) {
        schema.name = Some(name.to_string());
        changed = true;
    }
    if let Some(version) = obj.get("connect.version").and_then(Json::as_i64) {
        schema.version = i32::try_from(version).ok();
        changed = true;
    }
    if let Some(doc) = obj.get("connect.doc").and_then(Json::as_str) {
        schema.doc = Some(doc.to_string());
        changed = true;
    }
    if let Some(params) = obj.get("connect.parameters").and_then(Json::as_object) {
        for (k, v) in params {
            schema.parameters.insert(
                k.clone(),
                v.as_str().map_or_else(|| v.to_string(), str::to_string),
            );
        }
        changed = true;
    }
    if let Some(default) = obj.get("connect.default") {
        schema.default = default_value(&schema, default);
        changed = true;
    }
    if changed {
        plan.schema = Arc::new(schema);
    }
}

/// An Avro field default as a Connect value, for the scalar types.
fn default_value(schema: &Schema, json: &Json) -> Option<Value> {
    Some(match (&schema.kind, json) {
        (_, Json::Null) => Value::Null,
        (SchemaKind::Int8, Json::Number(n)) => Value::Int8(i8::try_from(n.as_i64()?).ok()?),
        (SchemaKind::Int16, Json::Number(n)) => Value::Int16(i16::try_from(n.as_i64()?).ok()?),
        (SchemaKind::Int32, Json::Number(n)) => Value::Int32(i32::try_from(n.as_i64()?).ok()?),
        (SchemaKind::Int64, Json::Number(n)) => Value::Int64(n.as_i64()?),
        (SchemaKind::Float32, Json::Number(n)) => Value::Float32(n.as_f64()? as f32),
        (SchemaKind::Float64, Json::Number(n)) => Value::Float64(n.as_f64()?),
        (SchemaKind::Boolean, Json::Bool(b)) => Value::Boolean(*b),
        (SchemaKind::String, Json::String(s)) => Value::String(s.clone()),
        _ => return None,
    })
}

impl Plan {
    /// An apache-avro value as the Connect value of this plan's schema.
    fn value(&self, avro: Avro) -> Result<Value, String> {
        Ok(match (&self.shape, avro) {
            (_, Avro::Null) => Value::Null,
            (Shape::Optional(inner), Avro::Union(_, v)) => inner.value(*v)?,
            (Shape::Union(index, plans), Avro::Union(branch, v)) => {
                let mut values = vec![Value::Null; plans.len()];
                if let Some(Some(i)) = index.get(branch as usize) {
                    values[*i] = plans[*i].value(*v)?;
                }
                Value::Struct(values)
            }
            (Shape::Record(plans), Avro::Record(fields)) => {
                let mut values =
                    Vec::with_capacity(plans.len() + connect_api::schema::SPARE_FIELDS);
                for (p, (_, v)) in plans.iter().zip(fields) {
                    values.push(p.value(v)?);
                }
                Value::Struct(values)
            }
            (Shape::Array(items), Avro::Array(values)) => Value::Array(
                values
                    .into_iter()
                    .map(|v| items.value(v))
                    .collect::<Result<_, _>>()?,
            ),
            (Shape::Map(values), Avro::Map(entries)) => Value::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| Ok((Value::String(k), values.value(v)?)))
                    .collect::<Result<_, String>>()?,
            ),
            (_, scalar) => self.scalar(scalar)?,
        })
    }

    fn scalar(&self, avro: Avro) -> Result<Value, String> {
        let kind = &self.schema.kind;
        let out_of_range = |v: i64| format!("{v} does not fit {}", kind.type_name());
        Ok(match avro {
            Avro::Boolean(b) => Value::Boolean(b),
            Avro::Int(i) | Avro::Date(i) | Avro::TimeMillis(i) => match kind {
                SchemaKind::Int8 => {
                    Value::Int8(i8::try_from(i).map_err(|_| out_of_range(i.into()))?)
                }
                SchemaKind::Int16 => {
                    Value::Int16(i16::try_from(i).map_err(|_| out_of_range(i.into()))?)
                }
                _ => Value::Int32(i),
            },
            Avro::Long(l)
            | Avro::TimeMicros(l)
            | Avro::TimestampMillis(l)
            | Avro::TimestampMicros(l)
            | Avro::TimestampNanos(l)
            | Avro::LocalTimestampMillis(l)
            | Avro::LocalTimestampMicros(l)
            | Avro::LocalTimestampNanos(l) => Value::Int64(l),
            Avro::Float(f) => Value::Float32(f),
            Avro::Double(d) => Value::Float64(d),
            Avro::Bytes(b) | Avro::Fixed(_, b) => Value::Bytes(b.into()),
            Avro::Decimal(d) => {
                Value::Bytes(Vec::<u8>::try_from(&d).map_err(|e| e.to_string())?.into())
            }
            Avro::String(s) | Avro::Enum(_, s) => Value::String(s),
            Avro::Uuid(u) => Value::String(u.to_string()),
            other => return Err(format!("unsupported Avro value {other:?}")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_of(schema: &str) -> Plan {
        plan(
            &serde_json::from_str(schema).unwrap(),
            None,
            &mut Names::default(),
        )
        .unwrap()
    }

    #[test]
    fn avro_schemas_map_as_avro_data_maps_them() {
        let p = plan_of(
            r#"{"type":"record","name":"Product","namespace":"shop","connect.version":3,"fields":[
                {"name":"id","type":"long"},
                {"name":"small","type":{"type":"int","connect.type":"int16"}},
                {"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}},
                {"name":"day","type":{"type":"int","logicalType":"date"}},
                {"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}},
                {"name":"note","type":["null","string"],"default":null},
                {"name":"colour","type":{"type":"enum","name":"Colour","symbols":["RED","BLUE"]}},
                {"name":"either","type":["int","string","Colour"]},
                {"name":"tags","type":{"type":"map","values":"string"}}
            ]}"#,
        );
        let s = &p.schema;
        assert_eq!(s.name.as_deref(), Some("shop.Product"));
        assert_eq!(s.version, Some(3));
        let kind = |n: &str| s.field(n).unwrap().1.schema.clone();
        assert_eq!(kind("small").kind, SchemaKind::Int16);
        assert_eq!(
            kind("price").logical(),
            Some(connect_api::schema::Logical::Decimal { scale: 2 })
        );
        assert_eq!(kind("price").parameters["connect.decimal.precision"], "9");
        assert_eq!(
            kind("day").logical(),
            Some(connect_api::schema::Logical::Date)
        );
        assert_eq!(
            kind("at").logical(),
            Some(connect_api::schema::Logical::Timestamp)
        );
        assert!(kind("note").optional);
        assert_eq!(kind("colour").kind, SchemaKind::String);
        assert_eq!(kind("colour").parameters[ENUM], "shop.Colour");
        let either = kind("either");
        assert_eq!(either.name.as_deref(), Some(UNION));
        let names: Vec<&str> = either.fields().iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["int32", "string", "Colour"]);
    }
}
