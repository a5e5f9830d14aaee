//! `io.confluent.connect.avro.AvroConverter`: Confluent's wire format
//! (magic byte 0, schema id, Avro binary) read with the writer's schema from
//! the Schema Registry, mapped to Connect as Confluent's `AvroData` maps it.
//!
//! The Connect schema is built from the registered schema's raw JSON, since
//! `apache-avro` drops custom attributes (`connect.type`, `connect.name`, …)
//! on primitive schemas; `apache-avro` decodes the binary.
//! `AvroDataConfig`'s toConnect settings are read as [`Options`].

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use apache_avro::types::Value as Avro;
use connect_api::ConfigMap;
use connect_api::schema::{Field, Schema, SchemaAndValue, SchemaKind, Value};
use futures::FutureExt as _;
use serde_json::Value as Json;

use super::registry::{
    self, Parse, RegisteredSchema, RegistryClient, RegistryConverter, RegistryError, SchemaCache,
};

/// AvroData's namespace, which prefixes the names and parameters it sets.
const NAMESPACE: &str = "io.confluent.connect.avro";
/// Connect's name for the struct a general Avro union becomes.
const UNION: &str = "io.confluent.connect.avro.Union";
const ENUM: &str = "io.confluent.connect.avro.Enum";
/// The record AvroData writes a map with non-string keys as (an array of).
const MAP_ENTRY: &str = "io.confluent.connect.avro.MapEntry";

/// `AvroDataConfig`'s toConnect settings this converter reads.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// `flatten.singleton.unions` (default true): a union of one branch is
    /// that branch.
    pub flatten_singleton_unions: bool,
    /// `enhanced.avro.schema.support`: a union's record, enum or fixed
    /// branch is named by its full name rather than its simple one.
    pub enhanced: bool,
    /// `generalized.sum.type.support`: a union is a struct named
    /// `connect_union_<n>` with fields `connect_union_field_<branch>`,
    /// marked as Connect's `Union`; an enum is marked as Connect's `Enum`
    /// with its symbols' indexes.
    pub generalized: bool,
    /// `connect.meta.data` (default true): Avro docs and defaults as
    /// schema parameters, and `connect.doc` / `connect.parameters` honoured.
    pub meta_data: bool,
    /// `discard.type.doc.default`: Avro docs become the Connect schemas'
    /// docs instead of AvroData's parameters.
    pub discard_type_doc_default: bool,
}

/// The AvroConverter settings [`Options`] reads.
pub(super) const SETTINGS: &[&str] = &[
    "flatten.singleton.unions",
    "enhanced.avro.schema.support",
    "generalized.sum.type.support",
    "connect.meta.data",
    "discard.type.doc.default",
];

impl Options {
    pub fn from_props(props: &ConfigMap) -> Self {
        let flag = |key: &str, default: bool| registry::flag(props, SETTINGS, key, default);
        Self {
            flatten_singleton_unions: flag("flatten.singleton.unions", true),
            enhanced: flag("enhanced.avro.schema.support", false),
            generalized: flag("generalized.sum.type.support", false),
            meta_data: flag("connect.meta.data", true),
            discard_type_doc_default: flag("discard.type.doc.default", false),
        }
    }
}

/// [`Options`]' settings as `AvroDataConfig` defines them, for the plugin's
/// config definitions.
#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
pub(super) struct AvroDataConfig {
    /// Whether to flatten singleton unions
    #[schemars(rename = "flatten.singleton.unions", default = "super::yes", extend("x-importance" = "LOW"))]
    flatten_singleton_unions: bool,
    /// Toggle for enabling/disabling enhanced avro schema support: Enum symbol preservation and Package Name awareness
    #[schemars(rename = "enhanced.avro.schema.support", default, extend("x-importance" = "MEDIUM"))]
    enhanced_avro_schema_support: bool,
    /// Toggle for enabling/disabling generalized sum type support: interoperability of enum/union with other schema formats
    #[schemars(rename = "generalized.sum.type.support", default, extend("x-importance" = "MEDIUM"))]
    generalized_sum_type_support: bool,
    /// Toggle for enabling/disabling connect converter to add its meta data to the output schema or not
    #[schemars(rename = "connect.meta.data", default = "super::yes", extend("x-importance" = "LOW"))]
    connect_meta_data: bool,
    /// Only Avro field doc and default will be retained during conversion of Avro and Connect schema.
    #[schemars(rename = "discard.type.doc.default", default, extend("x-importance" = "LOW"))]
    discard_type_doc_default: bool,
}

/// `AvroConverter`: the registry converter with Avro's decoder.
pub type AvroConverter = RegistryConverter<Decoder>;

pub fn converter(
    config: registry::RegistryConfig,
    is_key: bool,
    options: Options,
) -> AvroConverter {
    // AvroData numbers generalized unions per converter, in the order it
    // converts them, across schemas.
    let unions = Arc::new(AtomicUsize::new(0));
    let parse: Parse<Decoder> = Arc::new(move |client, schema, subject| {
        let unions = unions.clone();
        async move { Decoder::build(&client, schema, &subject, options, &unions).await }.boxed()
    });
    RegistryConverter::new(
        "io.confluent.connect.avro.AvroConverter",
        "Avro",
        SchemaCache::new(config),
        parse,
        is_key,
    )
}

/// One registered schema, ready to decode: apache-avro's reader for the
/// binary, and the plan that maps its values to Connect.
pub struct Decoder {
    reader: Reader,
    plan: Plan,
}

/// apache-avro's reader of one writer schema (with the schemas it
/// references), built once: building it resolves the schema's names into
/// hash maps, which per record cost a tenth of decoding one.
#[ouroboros::self_referencing]
struct Reader {
    schemata: (apache_avro::Schema, Vec<apache_avro::Schema>),
    #[borrows(schemata)]
    #[covariant]
    reader: apache_avro::reader::datum::GenericDatumReader<'this>,
}

impl Reader {
    fn build(
        writer: apache_avro::Schema,
        references: Vec<apache_avro::Schema>,
    ) -> apache_avro::AvroResult<Self> {
        ReaderTryBuilder {
            schemata: (writer, references),
            reader_builder: |(writer, references)| {
                let reader = apache_avro::reader::datum::GenericDatumReader::builder(writer);
                if references.is_empty() {
                    reader.build()
                } else {
                    reader
                        .writer_schemata(references.iter().collect())
                        .and_then(|r| r.build())
                }
            },
        }
        .try_build()
    }
}

impl Decoder {
    async fn build(
        client: &RegistryClient,
        registered: RegisteredSchema,
        subject: &str,
        options: Options,
        unions: &AtomicUsize,
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
        let mut planner = Planner::new(options, unions);
        for text in &referenced {
            let json: Json = serde_json::from_str(text)
                .map_err(|e| RegistryError::Invalid(format!("invalid Avro schema: {e}")))?;
            planner.plan(&json, None).map_err(RegistryError::Invalid)?;
        }
        let json: Json = serde_json::from_str(&registered.schema)
            .map_err(|e| RegistryError::Invalid(format!("invalid Avro schema: {e}")))?;
        let mut plan = planner.plan(&json, None).map_err(RegistryError::Invalid)?;
        // The Connect schema's version, as AvroConverter sets it: from the
        // subject, best-effort (a 40401/40403 here never fails a record).
        if plan.schema.version.is_none()
            && let Ok(version) = client.lookup_version(subject, &registered).await
        {
            let mut schema = (*plan.schema).clone();
            schema.version = Some(version);
            plan.schema = Arc::new(schema);
        }
        let reader = Reader::build(writer, references)
            .map_err(|e| RegistryError::Invalid(format!("invalid Avro schema: {e}")))?;
        Ok(Self { reader, plan })
    }
}

impl registry::Decode for Decoder {
    fn decode(&self, mut body: &[u8]) -> Result<SchemaAndValue, String> {
        let value = self
            .reader
            .borrow_reader()
            .read_value(&mut body)
            .map_err(|e| e.to_string())?;
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
    /// An array of AvroData's `MapEntry` records: a MAP; `key_at` is the
    /// position of the `key` field (`value` is the other one).
    MapEntries {
        key: Box<Plan>,
        value: Box<Plan>,
        key_at: usize,
    },
    /// `["null", X]`: X, optional.
    Optional(Box<Plan>),
    /// Any other union: a struct with one field per non-null branch;
    /// `None` marks the null branch.
    Union(Vec<Option<usize>>, Vec<Plan>),
}

fn full_name(name: &str, namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) if !name.contains('.') && !ns.is_empty() => format!("{ns}.{name}"),
        _ => name.to_string(),
    }
}

/// A named type's name as written and its full name (its own
/// `namespace`, else the enclosing one).
fn declared_name<'a>(
    obj: &'a serde_json::Map<String, Json>,
    namespace: Option<&str>,
) -> Option<(&'a str, String)> {
    let name = obj.get("name").and_then(Json::as_str)?;
    let ns = obj.get("namespace").and_then(Json::as_str).or(namespace);
    Some((name, full_name(name, ns)))
}

/// The part of a full name after its namespace.
fn simple_name(full: &str) -> &str {
    full.rsplit('.').next().unwrap_or(full)
}

/// Builds the plans of one schema and those it references, as AvroData's
/// `toConnectSchema` maps them under its settings.
struct Planner<'a> {
    options: Options,
    /// Named types seen so far, by full and by simple name.
    names: HashMap<String, Plan>,
    /// The converter's count of generalized unions.
    unions: &'a AtomicUsize,
}

impl<'a> Planner<'a> {
    fn new(options: Options, unions: &'a AtomicUsize) -> Self {
        Self {
            options,
            names: HashMap::new(),
            unions,
        }
    }

    /// The named type `name` refers to from `namespace`, with its full name.
    fn lookup(&self, name: &str, namespace: Option<&str>) -> Option<(String, &Plan)> {
        let full = full_name(name, namespace);
        match self.names.get(&full) {
            Some(plan) => Some((full, plan)),
            None => self.names.get(name).map(|plan| (name.to_string(), plan)),
        }
    }

    fn plan(&mut self, json: &Json, namespace: Option<&str>) -> Result<Plan, String> {
        match json {
            Json::String(name) => primitive(name, &serde_json::Map::new())
                .or_else(|| self.lookup(name, namespace).map(|(_, plan)| plan.clone()))
                .ok_or_else(|| format!("unknown Avro type {name}")),
            Json::Array(branches) => self.union(branches, namespace),
            Json::Object(obj) => {
                let type_name = obj.get("type").ok_or("Avro schema without a type")?;
                let Json::String(type_name) = type_name else {
                    // {"type": {...}} or {"type": [...]}: the inner schema.
                    return self.plan(type_name, namespace);
                };
                let options = self.options;
                let mut plan = match type_name.as_str() {
                    "record" | "error" => self.record(obj, namespace)?,
                    "enum" => self.named(obj, namespace, |name| enum_schema(obj, name, options))?,
                    "fixed" => self.named(obj, namespace, |name| {
                        let size = obj.get("size").and_then(Json::as_u64).unwrap_or(0);
                        decimal_or(obj, Schema::new(SchemaKind::Bytes).named(name.to_string()))
                            .parameter("connect.fixed.size", size.to_string())
                    })?,
                    "array" => {
                        let items_json = obj.get("items").ok_or("array without items")?;
                        let items = self.plan(items_json, namespace)?;
                        if is_map_entry(items_json, namespace) {
                            map_entries(items)?
                        } else {
                            Plan {
                                schema: Arc::new(Schema::new(SchemaKind::Array(
                                    items.schema.clone(),
                                ))),
                                shape: Shape::Array(Box::new(items)),
                            }
                        }
                    }
                    "map" => {
                        let values =
                            self.plan(obj.get("values").ok_or("map without values")?, namespace)?;
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
                self.connect_properties(obj, &mut plan);
                Ok(plan)
            }
            other => Err(format!("not an Avro schema: {other}")),
        }
    }

    /// A named type (enum, fixed), registered under its names.
    fn named(
        &mut self,
        obj: &serde_json::Map<String, Json>,
        namespace: Option<&str>,
        schema: impl FnOnce(&str) -> Schema,
    ) -> Result<Plan, String> {
        let (name, full) = declared_name(obj, namespace).ok_or("named type without a name")?;
        let plan = Plan {
            schema: Arc::new(schema(&full)),
            shape: Shape::Scalar,
        };
        self.register(full, name, &plan);
        Ok(plan)
    }

    fn register(&mut self, full: String, name: &str, plan: &Plan) {
        self.names.insert(full, plan.clone());
        self.names
            .entry(name.to_string())
            .or_insert_with(|| plan.clone());
    }

    fn record(
        &mut self,
        obj: &serde_json::Map<String, Json>,
        namespace: Option<&str>,
    ) -> Result<Plan, String> {
        let (name, full) = declared_name(obj, namespace).ok_or("record without a name")?;
        let inner_ns = full.rsplit_once('.').map(|(ns, _)| ns.to_string());
        // AvroData's parameters for the docs and defaults it found.
        let metadata = self.options.meta_data && !self.options.discard_type_doc_default;
        let mut schema = Schema::new(SchemaKind::Struct(Vec::new())).named(full.clone());
        if let Some(doc) = obj.get("doc").and_then(Json::as_str).filter(|_| metadata) {
            schema = schema.parameter(format!("{NAMESPACE}.record.doc"), doc);
        }
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
            let field_type = f.get("type").ok_or("field without a type")?;
            let field_doc = f.get("doc").and_then(Json::as_str);
            if let Some(doc) = field_doc.filter(|_| metadata) {
                schema = schema.parameter(format!("{NAMESPACE}.field.doc.{field_name}"), doc);
            }
            let mut field_plan = self.plan(field_type, inner_ns.as_deref())?;
            let default = f.get("default");
            let doc = field_doc.filter(|_| self.options.discard_type_doc_default);
            if default.is_some() || doc.is_some() {
                let mut field_schema = (*field_plan.schema).clone();
                if let Some(default) = default {
                    field_schema.default = default_value(&field_schema, default);
                    if metadata && field_type.get("connect.default").is_none() {
                        field_schema
                            .parameters
                            .insert(format!("{NAMESPACE}.field.default"), "true".into());
                    }
                }
                if let Some(doc) = doc {
                    field_schema.doc = Some(doc.to_string());
                }
                field_plan.schema = Arc::new(field_schema);
            }
            fields.push(Field {
                name: field_name.to_string(),
                schema: field_plan.schema.clone(),
            });
            plans.push(field_plan);
        }
        schema.kind = SchemaKind::Struct(fields);
        let plan = Plan {
            schema: Arc::new(schema),
            shape: Shape::Record(plans),
        };
        self.register(full, name, &plan);
        Ok(plan)
    }

    fn union(&mut self, branches: &[Json], namespace: Option<&str>) -> Result<Plan, String> {
        if let ([one], true) = (branches, self.options.flatten_singleton_unions) {
            return self.plan(one, namespace);
        }
        let is_null = |b: &Json| b.as_str() == Some("null");
        let non_null: Vec<&Json> = branches.iter().filter(|b| !is_null(b)).collect();
        let has_null = non_null.len() < branches.len();
        if has_null && non_null.len() == 1 {
            let inner = self.plan(non_null[0], namespace)?;
            let mut schema = (*inner.schema).clone();
            schema.optional = true;
            return Ok(Plan {
                schema: Arc::new(schema),
                shape: Shape::Optional(Box::new(inner)),
            });
        }
        let name = if self.options.generalized {
            registry::generalized_union(self.unions.fetch_add(1, Ordering::Relaxed))
        } else {
            UNION.to_string()
        };
        let mut index = Vec::new();
        let mut plans = Vec::new();
        let mut fields: Vec<Field> = Vec::new();
        for (position, b) in branches.iter().enumerate() {
            if is_null(b) {
                index.push(None);
                continue;
            }
            let p = self.plan(b, namespace)?;
            let field_name = self.union_field_name(b, namespace, position);
            if fields.iter().any(|f| f.name == field_name) {
                return Err("Multiple union schemas map to the Connect union field name".into());
            }
            let mut field_schema = (*p.schema).clone();
            field_schema.optional = true;
            fields.push(Field::new(field_name, field_schema));
            index.push(Some(plans.len()));
            plans.push(p);
        }
        let schema = registry::union_struct(fields, name, self.options.generalized, has_null);
        Ok(Plan {
            schema: Arc::new(schema),
            shape: Shape::Union(index, plans),
        })
    }

    /// AvroData's `unionMemberFieldName`: the Avro type's name, or a named
    /// type's (simple) name, or `connect_union_field_<position>`.
    fn union_field_name(&self, branch: &Json, namespace: Option<&str>, position: usize) -> String {
        if self.options.generalized {
            return registry::generalized_union_field(position);
        }
        let named = |full: String| {
            if self.options.enhanced {
                full
            } else {
                simple_name(&full).to_string()
            }
        };
        match branch {
            Json::String(name) => match self.lookup(name, namespace) {
                Some((full, _)) if primitive(name, &serde_json::Map::new()).is_none() => {
                    named(full)
                }
                _ => name.clone(),
            },
            Json::Object(obj) => match obj.get("type") {
                Some(Json::String(t))
                    if matches!(t.as_str(), "record" | "error" | "enum" | "fixed") =>
                {
                    named(
                        declared_name(obj, namespace)
                            .map(|(_, full)| full)
                            .unwrap_or_default(),
                    )
                }
                Some(Json::String(t)) => t.clone(),
                Some(inner) => self.union_field_name(inner, namespace, position),
                None => String::new(),
            },
            other => other.to_string(),
        }
    }

    /// `connect.name`, `connect.version`, `connect.doc`, `connect.parameters`
    /// and `connect.default`, which Confluent's AvroData writes and reads
    /// back, and the `avro*` properties it keeps as parameters.
    fn connect_properties(&self, obj: &serde_json::Map<String, Json>, plan: &mut Plan) {
        let Options {
            meta_data,
            discard_type_doc_default,
            ..
        } = self.options;
        let mut schema = (*plan.schema).clone();
        if let Some(name) = obj.get("connect.name").and_then(Json::as_str) {
            schema.name = Some(name.to_string());
        }
        if let Some(version) = obj.get("connect.version").and_then(Json::as_i64) {
            schema.version = i32::try_from(version).ok();
        }
        let connect_doc = obj.get("connect.doc").and_then(Json::as_str);
        let doc = obj.get("doc").and_then(Json::as_str);
        if discard_type_doc_default {
            if let Some(doc) = doc.or(connect_doc) {
                schema.doc = Some(doc.to_string());
            }
            if let Some(doc) = doc.filter(|_| meta_data) {
                schema
                    .parameters
                    .insert("connect.record.doc".into(), doc.to_string());
            }
        } else if let Some(doc) = connect_doc.filter(|_| meta_data) {
            schema.doc = Some(doc.to_string());
        }
        if let Some(params) = obj
            .get("connect.parameters")
            .and_then(Json::as_object)
            .filter(|_| meta_data)
        {
            for (k, v) in params {
                schema.parameters.insert(k.clone(), json_text(v));
            }
        }
        for (k, v) in obj.iter().filter(|(k, _)| k.starts_with("avro")) {
            schema.parameters.insert(k.clone(), json_text(v));
        }
        if let Some(default) = obj.get("connect.default") {
            schema.default = default_value(&schema, default);
        }
        if schema != *plan.schema {
            plan.schema = Arc::new(schema);
        }
    }
}

/// A JSON property as the string parameter AvroData keeps.
fn json_text(v: &Json) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

/// An enum as AvroData maps it: a STRING named after it, its symbols as
/// parameters (by name, or by index under `generalized.sum.type.support`),
/// its doc and default as parameters under `connect.meta.data`.
fn enum_schema(obj: &serde_json::Map<String, Json>, full: &str, options: Options) -> Schema {
    let mut s = Schema::new(SchemaKind::String).named(full.to_string());
    let simple = simple_name(full);
    if options.meta_data {
        if let Some(doc) = obj.get("doc").and_then(Json::as_str) {
            let key = if options.discard_type_doc_default {
                "connect.enum.doc".to_string()
            } else {
                format!("{NAMESPACE}.enum.doc.{simple}")
            };
            s = s.parameter(key, doc);
        }
        if let Some(default) = obj
            .get("default")
            .and_then(Json::as_str)
            .filter(|_| !options.discard_type_doc_default)
        {
            s = s.parameter(format!("{NAMESPACE}.enum.default.{simple}"), default);
        }
    }
    let symbols = obj.get("symbols").and_then(Json::as_array);
    let symbols = symbols.into_iter().flatten().filter_map(Json::as_str);
    registry::enum_parameters(
        &mut s.parameters,
        ENUM,
        options.generalized,
        full,
        symbols.map(str::to_string),
    );
    s
}

/// Whether an array's items are AvroData's `MapEntry` records (its own
/// name, or `connect.internal.type: MapEntry`).
fn is_map_entry(items: &Json, namespace: Option<&str>) -> bool {
    let Some(obj) = items.as_object() else {
        return false;
    };
    if !matches!(obj.get("type").and_then(Json::as_str), Some("record")) {
        return false;
    }
    declared_name(obj, namespace).is_some_and(|(_, full)| full == MAP_ENTRY)
        || obj.get("connect.internal.type").and_then(Json::as_str) == Some("MapEntry")
}

/// An array of `MapEntry` records as the Connect MAP AvroData reads it.
fn map_entries(entries: Plan) -> Result<Plan, String> {
    let malformed = || {
        "Found map encoded as array of key-value pairs, but array elements do not match the \
         expected format."
            .to_string()
    };
    let Shape::Record(mut plans) = entries.shape else {
        return Err(malformed());
    };
    let names: Vec<&str> = entries
        .schema
        .fields()
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    let key_at = match names.as_slice() {
        ["key", "value"] => 0,
        ["value", "key"] => 1,
        _ => return Err(malformed()),
    };
    let value = plans.remove(1 - key_at);
    let key = plans.remove(0);
    Ok(Plan {
        schema: Arc::new(Schema::new(SchemaKind::Map {
            key: key.schema.clone(),
            value: value.schema.clone(),
        })),
        shape: Shape::MapEntries {
            key: Box::new(key),
            value: Box::new(value),
            key_at,
        },
    })
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
            // A flattened singleton union.
            (_, Avro::Union(_, v)) => self.value(*v)?,
            (Shape::MapEntries { key, value, key_at }, Avro::Array(entries)) => Value::Map(
                entries
                    .into_iter()
                    .map(|entry| {
                        let Avro::Record(mut fields) = entry else {
                            return Err(format!("a map entry that is not a record: {entry:?}"));
                        };
                        if fields.len() != 2 {
                            return Err("a map entry without a key and a value".to_string());
                        }
                        let (_, v) = fields.remove(1 - key_at);
                        let (_, k) = fields.remove(0);
                        Ok((key.value(k)?, value.value(v)?))
                    })
                    .collect::<Result<_, String>>()?,
            ),
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
    use super::super::registry::{CONNECT_ENUM, CONNECT_UNION};
    use super::*;

    fn plan_of(schema: &str) -> Plan {
        plan_with(schema, &[]).unwrap()
    }

    /// The plan of `schema` under the converter settings `props`.
    fn plan_with(schema: &str, props: &[(&str, &str)]) -> Result<Plan, String> {
        let options = Options::from_props(&crate::test_support::config_map(props));
        Planner::new(options, &AtomicUsize::new(0))
            .plan(&serde_json::from_str(schema).unwrap(), None)
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
        assert_eq!(names, ["int", "string", "Colour"]);
    }

    /// Decodes the Avro binary of `value` under `schema` as the converter
    /// would, with the converter settings `props`.
    fn decode(schema: &str, props: &[(&str, &str)], value: Avro) -> SchemaAndValue {
        use registry::Decode as _;
        let writer = apache_avro::Schema::parse_str(schema).unwrap();
        let body = apache_avro::writer::datum::GenericDatumWriter::builder(&writer)
            .build()
            .unwrap()
            .write_value_to_vec(value)
            .unwrap();
        let decoder = Decoder {
            reader: Reader::build(writer, Vec::new()).unwrap(),
            plan: plan_with(schema, props).unwrap(),
        };
        decoder.decode(&body).unwrap()
    }

    #[test]
    fn a_singleton_union_is_its_branch_unless_flattening_is_off() {
        let schema = r#"{"type":"record","name":"R","fields":[{"name":"a","type":["string"]}]}"#;
        let record = || {
            Avro::Record(vec![(
                "a".into(),
                Avro::Union(0, Box::new(Avro::String("x".into()))),
            )])
        };
        let flat = decode(schema, &[], record());
        assert_eq!(flat.schema.fields()[0].schema.kind, SchemaKind::String);
        assert_eq!(flat.value, Value::Struct(vec![Value::String("x".into())]));
        let kept = decode(schema, &[("flatten.singleton.unions", "false")], record());
        let union = &kept.schema.fields()[0].schema;
        assert_eq!(union.name.as_deref(), Some(UNION));
        assert_eq!(union.fields()[0].name, "string");
        assert_eq!(
            kept.value,
            Value::Struct(vec![Value::Struct(vec![Value::String("x".into())])])
        );
    }

    #[test]
    fn generalized_sum_types_name_unions_and_enums_as_connect_does() {
        let schema = r#"{"type":"record","name":"R","namespace":"shop","fields":[
            {"name":"either","type":["null","int",{"type":"enum","name":"Colour","symbols":["RED","BLUE"]}]},
            {"name":"other","type":["long","string"]}
        ]}"#;
        let value = Avro::Record(vec![
            (
                "either".into(),
                Avro::Union(2, Box::new(Avro::Enum(1, "BLUE".into()))),
            ),
            (
                "other".into(),
                Avro::Union(1, Box::new(Avro::String("s".into()))),
            ),
        ]);
        let read = decode(
            schema,
            &[("generalized.sum.type.support", "true")],
            value.clone(),
        );
        let either = &read.schema.fields()[0].schema;
        assert_eq!(either.name.as_deref(), Some("connect_union_0"));
        assert_eq!(either.parameters[CONNECT_UNION], "connect_union_0");
        assert!(either.optional, "the null branch makes the union optional");
        // Fields are numbered by branch, the null branch included.
        let names: Vec<&str> = either.fields().iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["connect_union_field_1", "connect_union_field_2"]);
        let colour = &either.fields()[1].schema;
        assert_eq!(colour.parameters[CONNECT_ENUM], "shop.Colour");
        assert_eq!(colour.parameters[&format!("{CONNECT_ENUM}.BLUE")], "1");
        assert!(!colour.parameters.contains_key(ENUM));
        assert_eq!(
            read.schema.fields()[1].schema.name.as_deref(),
            Some("connect_union_1")
        );
        assert_eq!(
            read.value,
            Value::Struct(vec![
                Value::Struct(vec![Value::Null, Value::String("BLUE".into())]),
                Value::Struct(vec![Value::Null, Value::String("s".into())]),
            ])
        );
        // By default: AvroData's own names, the Avro type's for a primitive.
        let read = decode(schema, &[], value);
        let either = &read.schema.fields()[0].schema;
        assert_eq!(either.name.as_deref(), Some(UNION));
        let names: Vec<&str> = either.fields().iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["int", "Colour"]);
        assert_eq!(
            either.fields()[1].schema.parameters[&format!("{ENUM}.BLUE")],
            "BLUE"
        );
    }

    #[test]
    fn enhanced_schema_support_names_union_branches_by_full_name() {
        let schema = r#"["null",
            {"type":"record","name":"A","namespace":"x","fields":[]},
            {"type":"record","name":"A","namespace":"y","fields":[]}]"#;
        // Both records are `A` by simple name, which AvroData refuses.
        assert_eq!(
            plan_with(schema, &[]).unwrap_err(),
            "Multiple union schemas map to the Connect union field name"
        );
        let plan = plan_with(schema, &[("enhanced.avro.schema.support", "true")]).unwrap();
        let names: Vec<&str> = plan
            .schema
            .fields()
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        assert_eq!(names, ["x.A", "y.A"]);
    }

    #[test]
    fn docs_and_defaults_become_parameters_as_avro_data_sets_them() {
        let schema = r#"{"type":"record","name":"R","doc":"a record","fields":[
            {"name":"a","type":"string","doc":"field a","default":"x"},
            {"name":"c","type":{"type":"enum","name":"C","doc":"colours","symbols":["R"],"default":"R"}},
            {"name":"p","type":{"type":"string","connect.parameters":{"k":"v"},"avro.java.string":"String"}}
        ]}"#;
        let meta = plan_with(schema, &[]).unwrap().schema;
        let params = &meta.parameters;
        assert_eq!(params[&format!("{NAMESPACE}.record.doc")], "a record");
        assert_eq!(params[&format!("{NAMESPACE}.field.doc.a")], "field a");
        assert_eq!(
            meta.doc, None,
            "an Avro doc is a parameter, not the Connect doc"
        );
        let field = |s: &Schema, n: &str| s.field(n).unwrap().1.schema.clone();
        let a = field(&meta, "a");
        assert_eq!(a.default, Some(Value::String("x".into())));
        assert_eq!(a.parameters[&format!("{NAMESPACE}.field.default")], "true");
        assert_eq!(
            field(&meta, "c").parameters[&format!("{NAMESPACE}.enum.doc.C")],
            "colours"
        );
        assert_eq!(
            field(&meta, "c").parameters[&format!("{NAMESPACE}.enum.default.C")],
            "R"
        );
        assert_eq!(field(&meta, "p").parameters["k"], "v");
        assert_eq!(field(&meta, "p").parameters["avro.java.string"], "String");

        let bare = plan_with(schema, &[("connect.meta.data", "false")])
            .unwrap()
            .schema;
        assert!(bare.parameters.is_empty());
        assert_eq!(field(&bare, "a").default, Some(Value::String("x".into())));
        assert!(
            !field(&bare, "a")
                .parameters
                .contains_key(&format!("{NAMESPACE}.field.default"))
        );
        assert!(!field(&bare, "p").parameters.contains_key("k"));
        assert_eq!(field(&bare, "p").parameters["avro.java.string"], "String");

        let docs = plan_with(schema, &[("discard.type.doc.default", "true")])
            .unwrap()
            .schema;
        assert_eq!(docs.doc.as_deref(), Some("a record"));
        assert_eq!(docs.parameters["connect.record.doc"], "a record");
        assert_eq!(field(&docs, "a").doc.as_deref(), Some("field a"));
        assert_eq!(field(&docs, "c").parameters["connect.enum.doc"], "colours");
        assert!(
            !docs
                .parameters
                .contains_key(&format!("{NAMESPACE}.field.doc.a"))
        );
    }

    #[test]
    fn map_entry_arrays_read_as_maps_with_their_keys() {
        // AvroData writes a map with non-string keys as an array of these.
        let schema = r#"{"type":"array","items":{"type":"record","name":"MapEntry",
            "namespace":"io.confluent.connect.avro","fields":[
            {"name":"key","type":"int"},{"name":"value","type":"string"}]}}"#;
        let entry = |k: i32, v: &str| {
            Avro::Record(vec![
                ("key".into(), Avro::Int(k)),
                ("value".into(), Avro::String(v.into())),
            ])
        };
        let read = decode(
            schema,
            &[],
            Avro::Array(vec![entry(1, "one"), entry(2, "two")]),
        );
        let SchemaKind::Map { key, value } = &read.schema.kind else {
            panic!("not a map: {:?}", read.schema);
        };
        assert_eq!(
            (&key.kind, &value.kind),
            (&SchemaKind::Int32, &SchemaKind::String)
        );
        assert_eq!(
            read.value,
            Value::Map(vec![
                (Value::Int32(1), Value::String("one".into())),
                (Value::Int32(2), Value::String("two".into())),
            ])
        );
        let malformed = r#"{"type":"array","items":{"type":"record","name":"E",
            "connect.internal.type":"MapEntry","fields":[{"name":"key","type":"int"}]}}"#;
        assert!(
            plan_with(malformed, &[])
                .unwrap_err()
                .starts_with("Found map encoded as array")
        );
    }
}
