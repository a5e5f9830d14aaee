//! `io.confluent.connect.json.JsonSchemaConverter`: Confluent's wire format
//! (magic byte 0, schema id, JSON text) with the writer's JSON Schema from
//! the Schema Registry, mapped to Connect as Confluent's `JsonSchemaData`
//! maps it:
//!
//! - `object` with `properties` → STRUCT named by `title` (or
//!   `connect.name`), fields ordered by `connect.index`, else as written;
//!   a property is optional unless listed in `required`;
//! - `object` with only `additionalProperties` → MAP of STRING keys;
//! - `integer` → INT64, `number` → FLOAT64, narrowed by `connect.type`
//!   (`int8`…`int32`, `float32`); `string` with `connect.type: bytes` → BYTES;
//! - `["X", "null"]` and `oneOf [{"type":"null"}, X]` → optional X;
//! - any other `oneOf`/`anyOf`, or a list of types → a STRUCT named
//!   `io.confluent.connect.json.OneOf` with one optional field per branch
//!   (`….field.0`, `….field.1`, …), optional when a branch is `null`; a
//!   value sets the first branch its JSON type simply is, else the first it
//!   converts under (Confluent validates each branch; we match by type);
//! - the logical types by name (`title` or `connect.name`), with
//!   `connect.parameters`;
//! - `$ref`s: local ones (`#/definitions/…`, `#/$defs/…`), and those to
//!   other subjects, by the reference's name (`address.json`,
//!   `address.json#/definitions/Street`) or the referenced schema's `$id`.
//!
//! - a string `enum` (or a lone `const`) → STRING with
//!   `io.confluent.connect.json.Enum` parameters naming its symbols;
//! - `allOf` as `allOfToConnectSchema` maps it (see [`Schemas::all_of`]).
//!
//! `flatten.singleton.unions` and `generalized.sum.type.support` are read
//! as `JsonSchemaDataConfig` reads them ([`Options`]).
//! Values are read under the schema with JsonConverter's rules
//! ([`super::json::to_value`]).

use std::cell::Cell;
use std::sync::Arc;

use connect_api::ConfigMap;
use connect_api::schema::{Field, Schema, SchemaAndValue, SchemaKind};
use futures::FutureExt as _;
use serde_json::Value as Json;

use super::json::ONE_OF;
use super::registry::{
    self, Parse, RegisteredSchema, RegistryClient, RegistryConverter, RegistryError, SchemaCache,
};

/// `JsonSchemaData`'s name for the parameters of an enum's symbols.
const ENUM: &str = "io.confluent.connect.json.Enum";

/// `JsonSchemaDataConfig`'s toConnect settings this converter reads.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// `flatten.singleton.unions` (default true): a `oneOf`, `anyOf` or
    /// `allOf` of one branch is that branch.
    pub flatten_singleton_unions: bool,
    /// `generalized.sum.type.support`: a union is a struct named
    /// `connect_union_<n>` (numbered within the schema) with fields
    /// `connect_union_field_<i>`, marked as Connect's `Union`; an enum's
    /// parameters are Connect's `Enum` with its symbols' indexes.
    pub generalized: bool,
}

/// The JsonSchemaConverter settings [`Options`] reads.
pub(super) const SETTINGS: &[&str] = &["flatten.singleton.unions", "generalized.sum.type.support"];

impl Options {
    pub fn from_props(props: &ConfigMap) -> Self {
        let flag = |key: &str, default: bool| registry::flag(props, SETTINGS, key, default);
        Self {
            flatten_singleton_unions: flag("flatten.singleton.unions", true),
            generalized: flag("generalized.sum.type.support", false),
        }
    }
}

/// [`Options`]' settings as `JsonSchemaDataConfig` defines them, for the
/// plugin's config definitions.
#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
pub(super) struct JsonSchemaDataConfig {
    /// Whether to flatten singleton unions
    #[schemars(rename = "flatten.singleton.unions", default = "super::yes", extend("x-importance" = "LOW"))]
    flatten_singleton_unions: bool,
    /// Toggle for enabling/disabling generalized sum type support: interoperability of enum/union with other schema formats
    #[schemars(rename = "generalized.sum.type.support", default, extend("x-importance" = "MEDIUM"))]
    generalized_sum_type_support: bool,
}

/// `JsonSchemaConverter`: the registry converter with JSON Schema's decoder.
pub type JsonSchemaConverter = RegistryConverter<Decoder>;

pub fn converter(
    config: registry::RegistryConfig,
    is_key: bool,
    options: Options,
) -> JsonSchemaConverter {
    let parse: Parse<Decoder> = Arc::new(move |client, schema, subject| {
        async move { build(&client, schema, &subject, options).await.map(Decoder) }.boxed()
    });
    RegistryConverter::new(
        "io.confluent.connect.json.JsonSchemaConverter",
        "JSON",
        SchemaCache::new(config),
        parse,
        is_key,
    )
}

/// A registered JSON Schema as Connect's schema; values are read under it
/// with JsonConverter's rules.
pub struct Decoder(Arc<Schema>);

impl registry::Decode for Decoder {
    fn decode(&self, body: &[u8]) -> Result<SchemaAndValue, String> {
        let json: Json = serde_json::from_slice(body).map_err(|e| e.to_string())?;
        let value = super::json::to_value(&self.0, &json)?;
        Ok(SchemaAndValue::new(self.0.clone(), value))
    }
}

async fn build(
    client: &RegistryClient,
    registered: RegisteredSchema,
    subject: &str,
    options: Options,
) -> Result<Arc<Schema>, RegistryError> {
    if registered.schema_type != "JSON" {
        return Err(RegistryError::Invalid(format!(
            "schema is {}, not JSON",
            registered.schema_type
        )));
    }
    let parse = |text: &str| {
        serde_json::from_str::<Json>(text)
            .map_err(|e| RegistryError::Invalid(format!("invalid JSON Schema: {e}")))
    };
    let mut documents = Vec::new();
    for (name, text) in client
        .fetch_references(&registered.references, false)
        .await?
    {
        documents.push((name, parse(&text)?));
    }
    let root = parse(&registered.schema)?;
    let mut schema = Schemas::new(&root, &documents, options)
        .to_connect(&root, &root)
        .map_err(RegistryError::Invalid)?;
    // The version, as the Avro converter sets it: best-effort.
    if schema.version.is_none()
        && let Ok(version) = client.lookup_version(subject, &registered).await
    {
        schema.version = Some(version);
    }
    Ok(Arc::new(schema))
}

/// A property of an `allOf`'s object branches, with the document its own
/// `$ref`s resolve in.
struct Property<'a> {
    name: &'a str,
    schema: &'a Json,
    document: &'a Json,
    required: bool,
}

/// The property names an object schema lists under `required`.
fn required(json: &Json) -> Vec<&str> {
    json.get("required")
        .and_then(Json::as_array)
        .map(|r| r.iter().filter_map(Json::as_str).collect())
        .unwrap_or_default()
}

/// The documents `$ref`s resolve in: the registered schema and the schemas
/// its references name, under the names they are imported by.
struct Schemas<'a> {
    root: &'a Json,
    documents: &'a [(String, Json)],
    options: Options,
    /// The generalized unions numbered so far in this schema.
    unions: Cell<usize>,
}

impl<'a> Schemas<'a> {
    fn new(root: &'a Json, documents: &'a [(String, Json)], options: Options) -> Self {
        Self {
            root,
            documents,
            options,
            unions: Cell::new(0),
        }
    }
}

impl Schemas<'_> {
    /// What `reference` points at, and the document it is in (which its own
    /// local `$ref`s resolve against).
    fn resolve<'a>(
        &'a self,
        reference: &str,
        root: &'a Json,
    ) -> Result<(&'a Json, &'a Json), String> {
        self.find(reference, root)
            .ok_or_else(|| format!("unresolvable $ref {reference}"))
    }

    /// [`Self::resolve`]'s lookup: the document, then the fragment's path.
    fn find<'a>(&'a self, reference: &str, root: &'a Json) -> Option<(&'a Json, &'a Json)> {
        let (document, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        let document = if document.is_empty() {
            root
        } else {
            self.documents
                .iter()
                .map(|(name, doc)| (name, doc))
                .chain(std::iter::once((&String::new(), self.root)))
                .find(|(name, doc)| {
                    *name == document || doc.get("$id").and_then(Json::as_str) == Some(document)
                })?
                .1
        };
        let target = fragment
            .strip_prefix('/')
            .into_iter()
            .flat_map(|path| path.split('/'))
            .try_fold(document, |node, key| node.get(key))?;
        Some((target, document))
    }

    fn to_connect(&self, json: &Json, root: &Json) -> Result<Schema, String> {
        // (`true` accepts anything: there is no Connect schema for it.)
        let Json::Object(obj) = json else {
            return Err(format!("unsupported JSON Schema {json}"));
        };
        if let Some(reference) = obj.get("$ref").and_then(Json::as_str) {
            let (target, document) = self.resolve(reference, root)?;
            return self.to_connect(target, document);
        }
        for combinator in ["allOf", "oneOf", "anyOf"] {
            let Some(branches) = obj.get(combinator).and_then(Json::as_array) else {
                continue;
            };
            // `flatten.singleton.unions` (Confluent's default): one branch is that branch.
            if let ([one], true) = (branches.as_slice(), self.options.flatten_singleton_unions) {
                return self.to_connect(one, root);
            }
            return match combinator {
                "allOf" => self.all_of(json, branches, root),
                _ => self.union(branches.to_vec(), root),
            };
        }
        let (type_name, nullable) = match obj.get("type") {
            Some(Json::String(t)) => (t.as_str(), false),
            Some(Json::Array(types)) => {
                let named: Vec<&str> = types.iter().filter_map(Json::as_str).collect();
                let non_null: Vec<&str> = named.iter().copied().filter(|t| *t != "null").collect();
                match non_null.as_slice() {
                    [one] => (*one, non_null.len() < named.len()),
                    // Several types: a union of this schema under each.
                    _ => {
                        let branches = named
                            .iter()
                            .map(|t| {
                                let mut branch = obj.clone();
                                branch.insert("type".into(), Json::from(*t));
                                Json::Object(branch)
                            })
                            .collect();
                        return self.union(branches, root);
                    }
                }
            }
            _ if obj.contains_key("properties") => ("object", false),
            // An enum or a const alone: JsonSchemaData's enum string.
            _ if obj.contains_key("enum") || obj.contains_key("const") => ("string", false),
            _ => return Err(format!("a JSON Schema without a type: {json}")),
        };
        let connect_type = obj.get("connect.type").and_then(Json::as_str);
        let kind = match (type_name, connect_type) {
            ("integer", Some("int8")) => SchemaKind::Int8,
            ("integer", Some("int16")) => SchemaKind::Int16,
            ("integer", Some("int32")) => SchemaKind::Int32,
            ("integer", _) => SchemaKind::Int64,
            ("number", Some("float32")) => SchemaKind::Float32,
            ("number", _) => SchemaKind::Float64,
            ("boolean", _) => SchemaKind::Boolean,
            ("string", Some("bytes")) => SchemaKind::Bytes,
            ("string", _) => SchemaKind::String,
            ("array", _) => {
                let items = obj.get("items").ok_or("an array without items")?;
                SchemaKind::Array(Arc::new(self.to_connect(items, root)?))
            }
            ("object", _) => match obj.get("properties").and_then(Json::as_object) {
                Some(properties) => {
                    let required = required(json);
                    let mut fields = Vec::with_capacity(properties.len());
                    for (position, (name, property)) in properties.iter().enumerate() {
                        let mut schema = self.to_connect(property, root)?;
                        if !required.contains(&name.as_str()) {
                            schema.optional = true;
                        }
                        let index = property
                            .get("connect.index")
                            .and_then(Json::as_u64)
                            .map_or(position, |i| i as usize);
                        fields.push((index, Field::new(name.clone(), schema)));
                    }
                    fields.sort_by_key(|(index, _)| *index);
                    SchemaKind::Struct(fields.into_iter().map(|(_, f)| f).collect())
                }
                None => {
                    let values = match obj.get("additionalProperties") {
                        Some(v @ Json::Object(_)) => self.to_connect(v, root)?,
                        _ => {
                            return Err(
                                "an object without properties or typed additionalProperties".into(),
                            );
                        }
                    };
                    SchemaKind::Map {
                        key: Arc::new(Schema::new(SchemaKind::String)),
                        value: Arc::new(values),
                    }
                }
            },
            (other, _) => return Err(format!("unsupported JSON Schema type {other}")),
        };
        let mut schema = Schema::new(kind);
        schema.optional = nullable;
        schema.name = obj
            .get("connect.name")
            .or_else(|| obj.get("title"))
            .and_then(Json::as_str)
            .map(str::to_string);
        schema.version = obj
            .get("connect.version")
            .and_then(Json::as_i64)
            .and_then(|v| i32::try_from(v).ok());
        schema.doc = obj
            .get("description")
            .and_then(Json::as_str)
            .map(str::to_string);
        if let Some(params) = obj.get("connect.parameters").and_then(Json::as_object) {
            for (k, v) in params {
                let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                schema.parameters.insert(k.clone(), v);
            }
        }
        if let Some(default) = obj.get("default").filter(|d| !d.is_null()) {
            schema.default = super::json::to_value(&schema, default).ok();
        }
        if schema.kind == SchemaKind::String {
            self.enum_parameters(obj, &mut schema);
        }
        Ok(schema)
    }

    /// A string `enum` (or a lone `const`) as `toConnectEnums` marks it: an
    /// empty-named enum parameter, and one per symbol (valued by itself, or
    /// by its index under `generalized.sum.type.support`).
    fn enum_parameters(&self, obj: &serde_json::Map<String, Json>, schema: &mut Schema) {
        let symbols: Vec<&Json> = match (obj.get("enum"), obj.get("const")) {
            (Some(Json::Array(symbols)), _) => symbols.iter().collect(),
            (None, Some(constant)) if !obj.contains_key("type") => vec![constant],
            _ => return,
        };
        // JSON enums have no name: Confluent marks them with "".
        let symbols = symbols.into_iter().map(|symbol| match symbol {
            Json::Null => "<NULL>".to_string(),
            Json::String(s) => s.clone(),
            other => other.to_string(),
        });
        registry::enum_parameters(
            &mut schema.parameters,
            ENUM,
            self.options.generalized,
            "",
            symbols,
        );
    }

    /// An `allOf` as `JsonSchemaData`'s `allOfToConnectSchema` maps it: the
    /// properties of every object branch (through nested `allOf`s and
    /// `$ref`s) as one STRUCT; else a `oneOf`/`anyOf` branch; else the
    /// primitive that `const`, `enum` or `format` branches narrow (a string,
    /// or a number when there is one); else a `$ref` branch's schema.
    fn all_of(&self, json: &Json, branches: &[Json], root: &Json) -> Result<Schema, String> {
        let mut properties = Vec::new();
        self.collect_properties(json, root, &mut properties, 0)?;
        if !properties.is_empty() {
            let mut fields = Vec::with_capacity(properties.len());
            for p in properties {
                let mut schema = self.to_connect(p.schema, p.document)?;
                if !p.required {
                    schema.optional = true;
                }
                fields.push(Field::new(p.name, schema));
            }
            return Ok(Schema::new(SchemaKind::Struct(fields)));
        }
        let has = |key: &str| branches.iter().any(|b| b.get(key).is_some());
        let typed = |names: &[&str]| {
            branches.iter().find(|b| {
                b.get("type")
                    .and_then(Json::as_str)
                    .is_some_and(|t| names.contains(&t))
            })
        };
        let (string, number) = (typed(&["string"]), typed(&["number", "integer"]));
        let chosen = if let Some(union) = branches
            .iter()
            .find(|b| b.get("oneOf").is_some() || b.get("anyOf").is_some())
        {
            Some(union)
        } else if has("const") {
            string.or(number)
        } else if has("enum") {
            // A string enum keeps its symbols; a numeric one is its number.
            let symbols = branches.iter().find(|b| b.get("enum").is_some());
            string.and(symbols).or(number)
        } else if string.is_some_and(|s| s.get("format").is_some()) {
            number.or(string)
        } else {
            branches.iter().find(|b| b.get("$ref").is_some())
        };
        match chosen {
            Some(branch) => self.to_connect(branch, root),
            None => Err(format!("Unsupported criterion allOf for {json}")),
        }
    }

    /// The properties of `json`'s object branches (through nested `allOf`s
    /// and `$ref`s), in order; a later branch's property replaces an
    /// earlier one of the same name in place, as `collectPropertySchemas`
    /// fills its `LinkedHashMap`.
    fn collect_properties<'a>(
        &'a self,
        json: &'a Json,
        root: &'a Json,
        out: &mut Vec<Property<'a>>,
        depth: usize,
    ) -> Result<(), String> {
        if depth > 32 {
            return Err("allOf $refs nest too deep (a cycle?)".into());
        }
        if let Some(reference) = json.get("$ref").and_then(Json::as_str) {
            let (target, document) = self.resolve(reference, root)?;
            return self.collect_properties(target, document, out, depth + 1);
        }
        for branch in json
            .get("allOf")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            self.collect_properties(branch, root, out, depth + 1)?;
        }
        let required = required(json);
        for (name, schema) in json
            .get("properties")
            .and_then(Json::as_object)
            .into_iter()
            .flatten()
        {
            let property = Property {
                name,
                schema,
                document: root,
                required: required.contains(&name.as_str()),
            };
            match out.iter_mut().find(|p| p.name == name) {
                Some(earlier) => *earlier = property,
                None => out.push(property),
            }
        }
        Ok(())
    }

    /// A `oneOf`/`anyOf` (or a list of types) as `JsonSchemaData` maps it:
    /// `null` and one branch is that branch, optional; otherwise a
    /// [`ONE_OF`] struct with a field per non-null branch.
    fn union(&self, branches: Vec<Json>, root: &Json) -> Result<Schema, String> {
        // JsonSchemaData numbers every union it meets, `null`-or-X ones too.
        let name = if self.options.generalized {
            let n = self.unions.get();
            self.unions.set(n + 1);
            registry::generalized_union(n)
        } else {
            ONE_OF.to_string()
        };
        let is_null = |b: &Json| b.get("type").and_then(Json::as_str) == Some("null");
        let nullable = branches.iter().any(is_null);
        let non_null: Vec<&Json> = branches.iter().filter(|b| !is_null(b)).collect();
        if let ([one], true) = (non_null.as_slice(), nullable) {
            let mut inner = self.to_connect(one, root)?;
            inner.optional = true;
            return Ok(inner);
        }
        let mut fields = Vec::with_capacity(non_null.len());
        for (i, branch) in non_null.into_iter().enumerate() {
            let mut schema = self.to_connect(branch, root)?;
            schema.optional = true;
            let field = if self.options.generalized {
                registry::generalized_union_field(i)
            } else {
                format!("{name}.field.{i}")
            };
            fields.push(Field::new(field, schema));
        }
        Ok(registry::union_struct(
            fields,
            name,
            self.options.generalized,
            nullable,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::super::registry::{CONNECT_ENUM, CONNECT_UNION};
    use super::*;
    use connect_api::schema::Logical;

    /// A JSON Schema as a Connect schema, with no other documents.
    fn to_connect_schema(json: &Json, root: &Json) -> Result<Schema, String> {
        with_settings(json, root, &[])
    }

    /// A JSON Schema as a Connect schema under the converter settings `props`.
    fn with_settings(json: &Json, root: &Json, props: &[(&str, &str)]) -> Result<Schema, String> {
        let options = Options::from_props(&crate::test_support::config_map(props));
        Schemas::new(root, &[], options).to_connect(json, root)
    }

    #[test]
    fn json_schemas_map_as_json_schema_data_maps_them() {
        let root: Json = serde_json::from_str(
            r##"{"title":"shop.Product","type":"object","required":["id","name"],"properties":{
                "name":{"type":"string","connect.index":1},
                "id":{"type":"integer","connect.index":0},
                "small":{"type":"integer","connect.type":"int16"},
                "price":{"type":"number"},
                "at":{"type":"integer","title":"org.apache.kafka.connect.data.Timestamp","connect.type":"int64"},
                "note":{"oneOf":[{"type":"null"},{"type":"string"}]},
                "tags":{"type":"array","items":{"type":"string"}},
                "stock":{"type":"object","additionalProperties":{"type":"integer"}},
                "maker":{"$ref":"#/definitions/Maker"}
            },"definitions":{"Maker":{"type":"object","properties":{"name":{"type":"string"}}}}}"##,
        )
        .unwrap();
        let s = to_connect_schema(&root, &root).unwrap();
        assert_eq!(s.name.as_deref(), Some("shop.Product"));
        let names: Vec<&str> = s.fields().iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names[0], "id", "connect.index orders fields");
        let field = |n: &str| s.field(n).unwrap().1.schema.clone();
        assert!(!field("id").optional && !field("name").optional && field("price").optional);
        assert_eq!(field("small").kind, SchemaKind::Int16);
        assert_eq!(field("at").logical(), Some(Logical::Timestamp));
        assert!(field("note").optional);
        assert!(matches!(field("stock").kind, SchemaKind::Map { .. }));
        assert_eq!(field("maker").fields()[0].name, "name");
        // `flatten.singleton.unions`: one branch is that branch.
        let all_of = serde_json::json!({"allOf": [{"type": "string"}]});
        assert_eq!(
            to_connect_schema(&all_of, &all_of).unwrap().kind,
            SchemaKind::String
        );
    }

    #[test]
    fn all_of_merges_object_branches_and_narrows_primitives() {
        let root = serde_json::json!({
            "definitions": {"Base": {"type": "object", "required": ["id"], "properties": {
                "id": {"type": "integer"},
                "name": {"type": "string"},
                "maker": {"$ref": "#/definitions/Maker"}
            }}, "Maker": {"type": "object", "properties": {"name": {"type": "string"}}}},
            "allOf": [
                {"$ref": "#/definitions/Base"},
                {"type": "object", "required": ["price"], "properties": {
                    "price": {"type": "number"},
                    "name": {"type": ["string", "null"]}
                }}
            ]
        });
        let s = to_connect_schema(&root, &root).unwrap();
        let names: Vec<&str> = s.fields().iter().map(|f| f.name.as_str()).collect();
        // A later branch's `name` replaces the first in place.
        assert_eq!(names, ["id", "name", "maker", "price"]);
        let field = |n: &str| s.field(n).unwrap().1.schema.clone();
        assert!(!field("id").optional && !field("price").optional);
        assert!(field("name").optional && field("maker").optional);
        assert_eq!(field("maker").fields()[0].name, "name");
        assert_eq!(field("price").kind, SchemaKind::Float64);
        let value = super::super::json::to_value(
            &s,
            &serde_json::json!({"id": 7, "price": 9.5, "maker": {"name": "Acme"}}),
        )
        .unwrap();
        assert_eq!(
            connect_api::schema::json_view(&s, &value),
            serde_json::json!({"id": 7, "name": null, "maker": {"name": "Acme"}, "price": 9.5})
        );

        let narrowed = |branches: Json| {
            let schema = serde_json::json!({ "allOf": branches });
            to_connect_schema(&schema, &schema)
        };
        let kind = |branches: Json| narrowed(branches).unwrap().kind;
        assert_eq!(
            kind(serde_json::json!([{"type": "string"}, {"enum": ["a", "b"]}])),
            SchemaKind::String
        );
        let symbols = narrowed(serde_json::json!([{"type": "string"}, {"enum": ["a", "b"]}]));
        assert_eq!(symbols.unwrap().parameters[&format!("{ENUM}.b")], "b");
        assert_eq!(
            kind(serde_json::json!([{"const": 3}, {"type": "integer"}])),
            SchemaKind::Int64
        );
        assert_eq!(
            kind(serde_json::json!([{"type": "string", "format": "int"}, {"type": "integer"}])),
            SchemaKind::Int64
        );
        let union = narrowed(serde_json::json!([
            {"description": "either"},
            {"oneOf": [{"type": "string"}, {"type": "integer"}]}
        ]))
        .unwrap();
        assert_eq!(union.name.as_deref(), Some(ONE_OF));
        let refused = narrowed(serde_json::json!([{"type": "string"}, {"type": "integer"}]));
        assert!(
            refused
                .unwrap_err()
                .starts_with("Unsupported criterion allOf for"),
            "two unrelated types cannot both hold"
        );
    }

    #[test]
    fn a_general_one_of_is_a_struct_with_a_field_per_branch() {
        use connect_api::schema::Value as V;
        let root = serde_json::json!({"type": "object", "properties": {"v": {"oneOf": [
            {"type": "null"},
            {"type": "string"},
            {"type": "integer"},
            {"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"]}
        ]}}});
        let schema = to_connect_schema(&root, &root).unwrap();
        let v = &schema.field("v").unwrap().1.schema;
        assert_eq!(v.name.as_deref(), Some(ONE_OF));
        assert!(v.optional, "a null branch makes the union optional");
        let names: Vec<&str> = v.fields().iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "io.confluent.connect.json.OneOf.field.0",
                "io.confluent.connect.json.OneOf.field.1",
                "io.confluent.connect.json.OneOf.field.2"
            ]
        );
        assert!(v.fields().iter().all(|f| f.schema.optional));
        let read = |json: Json| super::super::json::to_value(v, &json);
        assert_eq!(
            read(serde_json::json!("a")).unwrap(),
            V::Struct(vec![V::String("a".into()), V::Null, V::Null])
        );
        assert_eq!(
            read(serde_json::json!(7)).unwrap(),
            V::Struct(vec![V::Null, V::Int64(7), V::Null])
        );
        assert_eq!(
            read(serde_json::json!({"x": 1.5})).unwrap(),
            V::Struct(vec![V::Null, V::Null, V::Struct(vec![V::Float64(1.5)])])
        );
        assert_eq!(read(Json::Null).unwrap(), V::Null);
        assert!(
            read(serde_json::json!([1])).is_err(),
            "no branch is an array"
        );
        // A list of types is the same union.
        let listed = serde_json::json!({"type": ["string", "boolean"]});
        let s = to_connect_schema(&listed, &listed).unwrap();
        assert_eq!(s.name.as_deref(), Some(ONE_OF));
        assert_eq!(s.fields()[1].schema.kind, SchemaKind::Boolean);
    }

    #[test]
    fn generalized_sum_types_number_unions_within_the_schema() {
        use connect_api::schema::Value as V;
        let root = serde_json::json!({"type": "object", "properties": {
            "note": {"oneOf": [{"type": "null"}, {"type": "string"}]},
            "v": {"oneOf": [{"type": "null"}, {"type": "string"}, {"type": "integer"}]},
            "w": {"type": ["boolean", "number"]},
            "colour": {"type": "string", "enum": ["RED", "BLUE"]}
        }});
        let s = with_settings(&root, &root, &[("generalized.sum.type.support", "true")]).unwrap();
        let field = |n: &str| s.field(n).unwrap().1.schema.clone();
        // `note`, a null-or-string union, took number 0.
        assert_eq!(field("note").kind, SchemaKind::String);
        let v = field("v");
        assert_eq!(v.name.as_deref(), Some("connect_union_1"));
        assert_eq!(v.parameters[CONNECT_UNION], "connect_union_1");
        let names: Vec<&str> = v.fields().iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["connect_union_field_0", "connect_union_field_1"]);
        assert_eq!(field("w").name.as_deref(), Some("connect_union_2"));
        assert_eq!(
            super::super::json::to_value(&v, &serde_json::json!(7)).unwrap(),
            V::Struct(vec![V::Null, V::Int64(7)]),
            "a generalized union reads as a union"
        );
        let colour = field("colour");
        assert_eq!(colour.parameters[CONNECT_ENUM], "");
        assert_eq!(colour.parameters[&format!("{CONNECT_ENUM}.BLUE")], "1");
    }

    #[test]
    fn enums_and_singleton_unions_follow_the_settings() {
        let root = serde_json::json!({"type": "object", "properties": {
            "colour": {"type": "string", "enum": ["RED", null]},
            "only": {"const": "x"},
            "size": {"type": "integer", "enum": [1, 2]},
            "one": {"anyOf": [{"type": "string"}]}
        }});
        let s = to_connect_schema(&root, &root).unwrap();
        let field = |s: &Schema, n: &str| s.field(n).unwrap().1.schema.clone();
        let colour = field(&s, "colour");
        assert_eq!(colour.parameters[ENUM], "");
        assert_eq!(colour.parameters[&format!("{ENUM}.RED")], "RED");
        assert_eq!(colour.parameters[&format!("{ENUM}.<NULL>")], "<NULL>");
        assert_eq!(field(&s, "only").kind, SchemaKind::String);
        assert_eq!(field(&s, "only").parameters[&format!("{ENUM}.x")], "x");
        // A numeric enum is just its number.
        assert!(field(&s, "size").parameters.is_empty());
        assert_eq!(field(&s, "one").kind, SchemaKind::String);
        let kept = with_settings(&root, &root, &[("flatten.singleton.unions", "false")]).unwrap();
        let one = field(&kept, "one");
        assert_eq!(one.name.as_deref(), Some(ONE_OF));
        assert_eq!(one.fields()[0].schema.kind, SchemaKind::String);
    }

    #[test]
    fn refs_to_other_subjects_resolve_by_name_or_id() {
        let address = serde_json::json!({
            "$id": "https://example.com/address.schema.json",
            "type": "object",
            "properties": {"street": {"$ref": "#/definitions/Street"}},
            "definitions": {"Street": {"type": "string", "title": "shop.Street"}}
        });
        let root = serde_json::json!({"type": "object", "properties": {
            "home": {"$ref": "address.json"},
            "work": {"$ref": "https://example.com/address.schema.json"},
            "street": {"$ref": "address.json#/definitions/Street"}
        }});
        let documents = vec![("address.json".to_string(), address)];
        let schemas = Schemas::new(&root, &documents, Options::from_props(&ConfigMap::new()));
        let s = schemas.to_connect(&root, &root).unwrap();
        let field = |n: &str| s.field(n).unwrap().1.schema.clone();
        // Local refs inside the referenced document resolve in it.
        assert_eq!(
            field("home").fields()[0].schema.name.as_deref(),
            Some("shop.Street")
        );
        assert_eq!(field("work").fields().len(), 1);
        assert_eq!(field("street").kind, SchemaKind::String);
        let missing = serde_json::json!({"$ref": "other.json"});
        assert!(schemas.to_connect(&missing, &root).is_err());
    }
}
