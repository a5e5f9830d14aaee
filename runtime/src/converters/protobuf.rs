//! `io.confluent.connect.protobuf.ProtobufConverter`: Confluent's wire format
//! (magic byte 0, schema id, the message-indexes array, the Protobuf
//! message) read with the writer's schema from the Schema Registry, mapped
//! to Connect as Confluent's `ProtobufData` maps it with its default settings.
//!
//! Schemas are fetched with `?format=serialized` (a base64
//! `FileDescriptorProto`, as are their references) into a prost-reflect
//! [`DescriptorPool`] that already holds the types Confluent's serializers
//! treat as built in (`google/protobuf/*`, `google/type/date.proto`,
//! `google/type/timeofday.proto`, `confluent/type/decimal.proto`,
//! `confluent/meta.proto`); records are decoded dynamically.
//!
//! Of `ProtobufDataConfig`, `enhanced.protobuf.schema.support`,
//! `generate.index.for.unions`, `int.for.enums` and `wrapper.for.nullables`
//! are honoured.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine as _;
use connect_api::ConfigMap;
use connect_api::schema::{Field, Schema, SchemaAndValue, SchemaKind, Value};
use futures::FutureExt as _;
use prost_reflect::{
    DescriptorPool, DynamicMessage, EnumDescriptor, FieldDescriptor, FileDescriptor, Kind, MapKey,
    MessageDescriptor, Value as Proto,
};
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, FieldDescriptorProto, FileDescriptorProto, MessageOptions};

use super::registry::{
    self, CONNECT_ENUM, CONNECT_UNION, Parse, RegisteredSchema, RegistryClient, RegistryConverter,
    RegistryError, SchemaCache,
};

const NAMESPACE: &str = "io.confluent.connect.protobuf";

/// `ProtobufDataConfig` settings this converter reads.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// `enhanced.protobuf.schema.support`: full names for structs and enums.
    pub enhanced: bool,
    /// `generate.index.for.unions`: a oneof's field is `<name>_<index>`.
    pub index_for_unions: bool,
    /// `int.for.enums`: enums as INT32 numbers rather than symbol names.
    pub int_for_enums: bool,
    /// `wrapper.for.nullables`: `google.protobuf.*Value` wrappers become
    /// optional primitives, and other fields are required.
    pub wrapper_for_nullables: bool,
    /// `wrapper.for.raw.primitives`: a wrapper message, the record's or a
    /// field's, reads as its primitive rather than a struct with `value`.
    pub raw_primitives: bool,
    /// `optional.for.nullables`: only fields written `optional` are
    /// optional (messages, enums, lists and oneof members still are).
    pub optional_for_nullables: bool,
    /// `optional.for.proto2`: an unset proto2 `optional` scalar reads as
    /// null rather than its default.
    pub optional_for_proto2: bool,
    /// `flatten.unions`: a oneof's members are fields of the message's
    /// struct rather than of a union struct.
    pub flatten_unions: bool,
    /// `generate.struct.for.nulls`: an unset message or `optional` field
    /// reads as its default (a struct of defaults) rather than null.
    pub struct_for_nulls: bool,
    /// `generalized.sum.type.support`: a oneof's struct is named after it
    /// and marked as Connect's `Union`, enums as Connect's `Enum`.
    pub generalized: bool,
}

/// The ProtobufConverter settings [`Options`] reads.
pub(super) const SETTINGS: &[&str] = &[
    "enhanced.protobuf.schema.support",
    "generate.index.for.unions",
    "int.for.enums",
    "wrapper.for.nullables",
    "wrapper.for.raw.primitives",
    "optional.for.nullables",
    "optional.for.proto2",
    "flatten.unions",
    "generate.struct.for.nulls",
    "generalized.sum.type.support",
];

impl Options {
    pub fn from_props(props: &ConfigMap) -> Self {
        let flag = |key: &str, default: bool| registry::flag(props, SETTINGS, key, default);
        Self {
            enhanced: flag("enhanced.protobuf.schema.support", false),
            index_for_unions: flag("generate.index.for.unions", true),
            int_for_enums: flag("int.for.enums", false),
            wrapper_for_nullables: flag("wrapper.for.nullables", false),
            raw_primitives: flag("wrapper.for.raw.primitives", true),
            optional_for_nullables: flag("optional.for.nullables", false),
            optional_for_proto2: flag("optional.for.proto2", true),
            flatten_unions: flag("flatten.unions", false),
            struct_for_nulls: flag("generate.struct.for.nulls", false),
            generalized: flag("generalized.sum.type.support", false),
        }
    }
}

/// [`Options`]' settings as `ProtobufDataConfig` defines them, for the
/// plugin's config definitions.
#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
pub(super) struct ProtobufDataConfig {
    /// Toggle for enabling/disabling enhanced protobuf schema support: package name preservation
    #[schemars(rename = "enhanced.protobuf.schema.support", default, extend("x-importance" = "MEDIUM"))]
    enhanced: bool,
    /// Whether to suffix union names with an underscore followed by an index
    #[schemars(rename = "generate.index.for.unions", default = "super::yes", extend("x-importance" = "LOW"))]
    index_for_unions: bool,
    /// Whether to represent enums as integers
    #[schemars(rename = "int.for.enums", default, extend("x-importance" = "MEDIUM"))]
    int_for_enums: bool,
    /// Whether nullable fields should use primitive wrapper messages
    #[schemars(rename = "wrapper.for.nullables", default, extend("x-importance" = "MEDIUM"))]
    wrapper_for_nullables: bool,
    /// Whether a wrapper message should be interpreted as a raw primitive at the root level
    #[schemars(rename = "wrapper.for.raw.primitives", default = "super::yes", extend("x-importance" = "MEDIUM"))]
    raw_primitives: bool,
    /// Whether nullable fields should be specified with an optional label
    #[schemars(rename = "optional.for.nullables", default, extend("x-importance" = "MEDIUM"))]
    optional_for_nullables: bool,
    /// Whether proto2 optionals are supported
    #[schemars(rename = "optional.for.proto2", default = "super::yes", extend("x-importance" = "MEDIUM"))]
    optional_for_proto2: bool,
    /// Whether to flatten unions (oneofs)
    #[schemars(rename = "flatten.unions", default, extend("x-importance" = "MEDIUM"))]
    flatten_unions: bool,
    /// Whether to generate a default struct for null messages
    #[schemars(rename = "generate.struct.for.nulls", default, extend("x-importance" = "MEDIUM"))]
    struct_for_nulls: bool,
    /// Toggle for enabling/disabling generalized sum type support: interoperability of enum/union with other schema formats
    #[schemars(rename = "generalized.sum.type.support", default, extend("x-importance" = "MEDIUM"))]
    generalized: bool,
}

/// `ProtobufConverter`: the registry converter with Protobuf's decoder.
pub type ProtobufConverter = RegistryConverter<Decoder>;

pub fn converter(
    config: registry::RegistryConfig,
    is_key: bool,
    options: Options,
) -> ProtobufConverter {
    let parse: Parse<Decoder> = Arc::new(move |client, schema, subject| {
        async move { Decoder::build(&client, schema, &subject, options).await }.boxed()
    });
    RegistryConverter::new(
        "io.confluent.connect.protobuf.ProtobufConverter",
        "Protobuf",
        SchemaCache::new(config).serialized(),
        parse,
        is_key,
    )
}

/// One registered schema, ready to decode: its file in a pool with its
/// references, and the Connect plan of each message read so far.
pub struct Decoder {
    file: FileDescriptor,
    version: Option<i32>,
    options: Options,
    plans: Mutex<HashMap<Vec<i64>, Planned>>,
}

/// A record's message type with its plan.
type Planned = Arc<(MessageDescriptor, Plan)>;

impl Decoder {
    async fn build(
        client: &RegistryClient,
        registered: RegisteredSchema,
        subject: &str,
        options: Options,
    ) -> Result<Self, RegistryError> {
        if registered.schema_type != "PROTOBUF" {
            return Err(RegistryError::Invalid(format!(
                "schema is {}, not PROTOBUF",
                registered.schema_type
            )));
        }
        let referenced = client
            .fetch_references(&registered.references, true)
            .await?;
        let file = pool_with(&registered.schema, &referenced).map_err(RegistryError::Invalid)?;
        // The Connect schema's version, as ProtobufConverter sets it: from
        // the subject, best-effort.
        let version = client.lookup_version(subject, &registered).await.ok();
        Ok(Self {
            file,
            version,
            options,
            plans: Mutex::new(HashMap::new()),
        })
    }
}

impl registry::Decode for Decoder {
    fn decode(&self, body: &[u8]) -> Result<SchemaAndValue, String> {
        let (indexes, message) = message_indexes(body)?;
        let planned = self.plan(&indexes)?;
        let (desc, plan) = planned.as_ref();
        let message = DynamicMessage::decode(desc.clone(), message).map_err(|e| e.to_string())?;
        Ok(SchemaAndValue::new(
            plan.schema.clone(),
            plan.value(&Proto::Message(message))?,
        ))
    }
}

impl Decoder {
    /// The message the index path names, with its plan (built once).
    fn plan(&self, indexes: &[i64]) -> Result<Planned, String> {
        if let Some(plan) = self.plans.lock().expect("plans lock").get(indexes) {
            return Ok(plan.clone());
        }
        let desc = message_at(&self.file, indexes)?;
        let mut builder = Builder {
            options: self.options,
            building: Vec::new(),
        };
        let mut plan = builder.top(&desc)?;
        let mut schema = (*plan.schema).clone();
        schema.version = self.version;
        plan.schema = Arc::new(schema);
        let plan = Arc::new((desc, plan));
        self.plans
            .lock()
            .expect("plans lock")
            .insert(indexes.to_vec(), plan.clone());
        Ok(plan)
    }
}

/// The message-indexes array after the schema id, and the message bytes
/// after it: a zigzag varint count, then that many zigzag varint indexes; a
/// count of 0 means `[0]`, the file's first message.
fn message_indexes(mut body: &[u8]) -> Result<(Vec<i64>, &[u8]), String> {
    let next = |body: &mut &[u8]| {
        let n = prost::encoding::decode_varint(body)
            .map_err(|e| format!("bad message indexes: {e}"))?;
        Ok::<_, String>(((n >> 1) as i64) ^ -((n & 1) as i64))
    };
    let count = next(&mut body)?;
    if count == 0 {
        return Ok((vec![0], body));
    }
    if !(1..=100).contains(&count) {
        return Err(format!("bad message indexes: a count of {count}"));
    }
    let mut indexes = Vec::with_capacity(count as usize);
    for _ in 0..count {
        indexes.push(next(&mut body)?);
    }
    Ok((indexes, body))
}

/// The message the index path names: the file's top-level message at the
/// first index, then nested messages.
fn message_at(file: &FileDescriptor, indexes: &[i64]) -> Result<MessageDescriptor, String> {
    let missing = || format!("no message at indexes {indexes:?} in {}", file.name());
    let pick = |mut it: Box<dyn Iterator<Item = MessageDescriptor> + '_>, i: i64| {
        usize::try_from(i).ok().and_then(|i| it.nth(i))
    };
    let (first, rest) = indexes.split_first().ok_or_else(missing)?;
    let mut desc = pick(Box::new(file.messages()), *first).ok_or_else(missing)?;
    for i in rest {
        desc = pick(Box::new(desc.child_messages()), *i).ok_or_else(missing)?;
    }
    Ok(desc)
}

/// A pool with the built-in files, the references (each a base64
/// `FileDescriptorProto`, named as imported) and the schema; its file.
fn pool_with(schema: &str, references: &[(String, String)]) -> Result<FileDescriptor, String> {
    let b64 = |text: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|e| format!("invalid serialized Protobuf schema: {e}"))
    };
    let mut pool = base_pool().clone();
    let mut set = Vec::new();
    let mut names = Vec::new();
    for (name, text) in references {
        let mut file = b64(text)?;
        rename(&mut file, name);
        names.push(name.clone());
        push_file(&mut set, &file);
    }
    let mut main = b64(schema)?;
    let parsed = <FileDescriptorProto as prost::Message>::decode(main.as_slice())
        .map_err(|e| format!("invalid serialized Protobuf schema: {e}"))?;
    let mut main_name = parsed.name().to_string();
    if main_name.is_empty()
        || names.contains(&main_name)
        || pool.get_file_by_name(&main_name).is_some()
    {
        main_name = "confluent-connect/registered.proto".into();
        rename(&mut main, &main_name);
    }
    push_file(&mut set, &main);
    pool.decode_file_descriptor_set(set.as_slice())
        .map_err(|e| format!("invalid Protobuf schema: {e}"))?;
    pool.get_file_by_name(&main_name)
        .ok_or_else(|| format!("invalid Protobuf schema: {main_name} not in its pool"))
}

/// Set a serialized `FileDescriptorProto`'s name by appending field 1: the
/// last value wins, and the rest of the bytes (options, extensions) stay.
fn rename(file: &mut Vec<u8>, name: &str) {
    prost::encoding::string::encode(1, &name.to_string(), file);
}

/// Append a file to a serialized `FileDescriptorSet` (field 1, repeated).
fn push_file(set: &mut Vec<u8>, file: &[u8]) {
    prost::encoding::encode_key(1, prost::encoding::WireType::LengthDelimited, set);
    prost::encoding::encode_varint(file.len() as u64, set);
    set.extend_from_slice(file);
}

/// The well-known types plus the Google and Confluent types that
/// Confluent's serializers do not register as references.
fn base_pool() -> &'static DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        let mut pool = DescriptorPool::global();
        let int32 = |name: &str, n: i32| field(name, n, Type::Int32, None);
        let meta = DescriptorProto {
            name: Some("Meta".into()),
            field: vec![
                field("doc", 1, Type::String, None),
                FieldDescriptorProto {
                    label: Some(Label::Repeated as i32),
                    ..field(
                        "params",
                        2,
                        Type::Message,
                        Some(".confluent.Meta.ParamsEntry"),
                    )
                },
                FieldDescriptorProto {
                    label: Some(Label::Repeated as i32),
                    ..field("tags", 3, Type::String, None)
                },
            ],
            nested_type: vec![DescriptorProto {
                name: Some("ParamsEntry".into()),
                field: vec![
                    field("key", 1, Type::String, None),
                    field("value", 2, Type::String, None),
                ],
                options: Some(MessageOptions {
                    map_entry: Some(true),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            ..Default::default()
        };
        let extensions = ["File", "Message", "Field", "Enum", "EnumValue"].map(|kind| {
            let snake = match kind {
                "EnumValue" => "enum_value".to_string(),
                k => k.to_ascii_lowercase(),
            };
            FieldDescriptorProto {
                extendee: Some(format!(".google.protobuf.{kind}Options")),
                ..field(
                    &format!("{snake}_meta"),
                    1088,
                    Type::Message,
                    Some(".confluent.Meta"),
                )
            }
        });
        let files = vec![
            FileDescriptorProto {
                dependency: vec!["google/protobuf/descriptor.proto".into()],
                extension: extensions.to_vec(),
                ..file("confluent/meta.proto", "confluent", vec![meta])
            },
            file(
                "confluent/type/decimal.proto",
                "confluent.type",
                vec![message(
                    "Decimal",
                    vec![
                        field("value", 1, Type::Bytes, None),
                        field("precision", 2, Type::Uint32, None),
                        int32("scale", 3),
                    ],
                )],
            ),
            file(
                "google/type/date.proto",
                "google.type",
                vec![message(
                    "Date",
                    vec![int32("year", 1), int32("month", 2), int32("day", 3)],
                )],
            ),
            file(
                "google/type/timeofday.proto",
                "google.type",
                vec![message(
                    "TimeOfDay",
                    vec![
                        int32("hours", 1),
                        int32("minutes", 2),
                        int32("seconds", 3),
                        int32("nanos", 4),
                    ],
                )],
            ),
        ];
        pool.add_file_descriptor_protos(files)
            .expect("the built-in Protobuf types are valid");
        pool
    })
}

fn field(name: &str, number: i32, ty: Type, type_name: Option<&str>) -> FieldDescriptorProto {
    FieldDescriptorProto {
        name: Some(name.into()),
        number: Some(number),
        label: Some(Label::Optional as i32),
        r#type: Some(ty as i32),
        type_name: type_name.map(Into::into),
        ..Default::default()
    }
}

fn message(name: &str, fields: Vec<FieldDescriptorProto>) -> DescriptorProto {
    DescriptorProto {
        name: Some(name.into()),
        field: fields,
        ..Default::default()
    }
}

fn file(name: &str, package: &str, messages: Vec<DescriptorProto>) -> FileDescriptorProto {
    FileDescriptorProto {
        name: Some(name.into()),
        package: Some(package.into()),
        message_type: messages,
        syntax: Some("proto3".into()),
        ..Default::default()
    }
}

/// A node of the mapping from Protobuf values to Connect values, beside its
/// Connect schema.
#[derive(Debug)]
struct Plan {
    schema: Arc<Schema>,
    shape: Shape,
}

#[derive(Debug)]
enum Shape {
    Scalar,
    Enum(EnumDescriptor),
    Struct(Vec<Slot>),
    /// A `google.protobuf.*Value` read as its `value`.
    Wrapper,
    Timestamp,
    Date,
    Time,
    Decimal(i32),
    List(Box<Plan>),
    Map(Box<Plan>, Box<Plan>),
}

/// A Connect field of a message's struct.
#[derive(Debug)]
enum Slot {
    /// A field (a oneof member too, with `flatten.unions`), and whether it
    /// reads as null when unset (else its default).
    Field(FieldDescriptor, Plan, bool),
    /// A oneof: a struct with one optional field per member.
    Oneof(Vec<(FieldDescriptor, Plan)>),
}

fn plain(schema: Schema, shape: Shape) -> Plan {
    Plan {
        schema: Arc::new(schema),
        shape,
    }
}

/// Builds plans as ProtobufData's `toConnectSchema` builds schemas.
struct Builder {
    options: Options,
    /// Messages being built, to refuse recursive types (a Connect schema here
    /// is a tree).
    building: Vec<String>,
}

fn is_wrapper(full_name: &str) -> Option<SchemaKind> {
    Some(match full_name {
        "google.protobuf.DoubleValue" => SchemaKind::Float64,
        "google.protobuf.FloatValue" => SchemaKind::Float32,
        "google.protobuf.Int64Value"
        | "google.protobuf.UInt64Value"
        | "google.protobuf.UInt32Value" => SchemaKind::Int64,
        "google.protobuf.Int32Value" => SchemaKind::Int32,
        "google.protobuf.BoolValue" => SchemaKind::Boolean,
        "google.protobuf.StringValue" => SchemaKind::String,
        "google.protobuf.BytesValue" => SchemaKind::Bytes,
        _ => return None,
    })
}

impl Builder {
    /// A record's message: a wrapper becomes its primitive
    /// (`wrapper.for.raw.primitives`), any other message a struct.
    fn top(&mut self, desc: &MessageDescriptor) -> Result<Plan, String> {
        if let Some(kind) = is_wrapper(desc.full_name()).filter(|_| self.options.raw_primitives) {
            return Ok(plain(Schema::new(kind), Shape::Wrapper));
        }
        self.message(desc)
    }

    fn message(&mut self, desc: &MessageDescriptor) -> Result<Plan, String> {
        let full = desc.full_name().to_string();
        if self.building.contains(&full) {
            return Err(format!(
                "recursive message type {full} cannot be mapped to a Connect schema"
            ));
        }
        self.building.push(full.clone());
        let mut fields = Vec::new();
        let mut slots = Vec::new();
        for (index, oneof) in desc.oneofs().enumerate() {
            if oneof.is_synthetic() {
                continue;
            }
            if self.options.flatten_unions {
                // Each member a field of its own, null unless it is the one set.
                for f in oneof.fields() {
                    let plan = self.field(&f, true)?;
                    fields.push(connect_field(&f, &plan));
                    slots.push(Slot::Field(f, plan, true));
                }
                continue;
            }
            let mut members = Vec::new();
            let mut member_fields = Vec::new();
            for f in oneof.fields() {
                let plan = self.field(&f, true)?;
                member_fields.push(connect_field(&f, &plan));
                members.push((f, plan));
            }
            let schema = Schema::new(SchemaKind::Struct(member_fields)).optional();
            let schema = if self.options.generalized {
                schema
                    .named(oneof.name())
                    .parameter(CONNECT_UNION, oneof.name())
            } else if self.options.enhanced {
                schema.named(format!("{NAMESPACE}.Union.{}", oneof.full_name()))
            } else {
                schema.named(format!("{NAMESPACE}.Union.{}", oneof.name()))
            };
            let field_name = if self.options.index_for_unions {
                format!("{}_{index}", oneof.name())
            } else {
                oneof.name().to_string()
            };
            fields.push(Field::new(field_name, schema));
            slots.push(Slot::Oneof(members));
        }
        for f in desc.fields() {
            if f.containing_oneof().is_some_and(|o| !o.is_synthetic()) {
                continue;
            }
            let plan = self.field(&f, false)?;
            fields.push(connect_field(&f, &plan));
            let null_when_unset = self.null_when_unset(&f);
            slots.push(Slot::Field(f, plan, null_when_unset));
        }
        self.building.pop();
        let name = if self.options.enhanced {
            desc.full_name()
        } else {
            desc.name()
        };
        Ok(plain(
            Schema::new(SchemaKind::Struct(fields)).named(name),
            Shape::Struct(slots),
        ))
    }

    /// ProtobufData's `setStructField`: an unset field reads as null when it
    /// is a message or an `optional` scalar, unless `generate.struct.for.nulls`
    /// asks for its default; a plain scalar, list or map always has a value.
    fn null_when_unset(&self, f: &FieldDescriptor) -> bool {
        if self.options.struct_for_nulls {
            return false;
        }
        let message = matches!(f.kind(), Kind::Message(_)) && !f.is_list() && !f.is_map();
        message
            || f.field_descriptor_proto().proto3_optional()
            || (self.options.optional_for_proto2 && has_optional_keyword(f))
    }

    fn field(&mut self, f: &FieldDescriptor, oneof_member: bool) -> Result<Plan, String> {
        let mut plan = self.element(f)?;
        if f.is_list() {
            let mut element = (*plan.schema).clone();
            element.optional = true;
            plan.schema = Arc::new(element);
            plan = plain(
                Schema::new(SchemaKind::Array(plan.schema.clone())).optional(),
                Shape::List(Box::new(plan)),
            );
        }
        let mut schema = (*plan.schema).clone();
        let wrapper = matches!(plan.shape, Shape::Wrapper);
        if oneof_member {
            schema.optional = true;
            if wrapper && self.options.wrapper_for_nullables {
                schema = schema.parameter(format!("{NAMESPACE}.Wrapper"), "true");
            }
        } else if self.options.optional_for_nullables {
            if has_optional_keyword(f) {
                schema.optional = true;
            }
        } else if !self.options.wrapper_for_nullables {
            schema.optional = true;
        }
        schema = schema.parameter(format!("{NAMESPACE}.Tag"), f.number().to_string());
        plan.schema = Arc::new(schema);
        Ok(plan)
    }

    /// The schema of one value of `f` (an element, when it is repeated).
    fn element(&mut self, f: &FieldDescriptor) -> Result<Plan, String> {
        let type_param = |s: Schema, name: &str| s.parameter(format!("{NAMESPACE}.Type"), name);
        Ok(match f.kind() {
            Kind::Int32 => match connect_type(f).as_deref() {
                Some("int8") => plain(Schema::new(SchemaKind::Int8), Shape::Scalar),
                Some("int16") => plain(Schema::new(SchemaKind::Int16), Shape::Scalar),
                _ => plain(Schema::new(SchemaKind::Int32), Shape::Scalar),
            },
            Kind::Sint32 => plain(
                type_param(Schema::new(SchemaKind::Int32), "sint32"),
                Shape::Scalar,
            ),
            Kind::Sfixed32 => plain(
                type_param(Schema::new(SchemaKind::Int32), "sfixed32"),
                Shape::Scalar,
            ),
            Kind::Int64 => plain(Schema::new(SchemaKind::Int64), Shape::Scalar),
            kind @ (Kind::Uint32
            | Kind::Fixed32
            | Kind::Uint64
            | Kind::Sint64
            | Kind::Fixed64
            | Kind::Sfixed64) => {
                let name = format!("{kind:?}").to_ascii_lowercase();
                plain(
                    type_param(Schema::new(SchemaKind::Int64), &name),
                    Shape::Scalar,
                )
            }
            Kind::Float => plain(Schema::new(SchemaKind::Float32), Shape::Scalar),
            Kind::Double => plain(Schema::new(SchemaKind::Float64), Shape::Scalar),
            Kind::Bool => plain(Schema::new(SchemaKind::Boolean), Shape::Scalar),
            Kind::String => plain(Schema::new(SchemaKind::String), Shape::Scalar),
            Kind::Bytes => plain(Schema::new(SchemaKind::Bytes), Shape::Scalar),
            Kind::Enum(e) => {
                let kind = if self.options.int_for_enums {
                    SchemaKind::Int32
                } else {
                    SchemaKind::String
                };
                let name = if self.options.enhanced {
                    e.full_name()
                } else {
                    e.name()
                };
                let param = if self.options.generalized {
                    CONNECT_ENUM.to_string()
                } else {
                    format!("{NAMESPACE}.Enum")
                };
                let mut s = Schema::new(kind)
                    .named(name)
                    .parameter(param.clone(), e.name())
                    .optional();
                for v in e.values() {
                    s = s.parameter(format!("{param}.{}", v.name()), v.number().to_string());
                }
                plain(s, Shape::Enum(e))
            }
            Kind::Message(m) => {
                let mut plan = match m.full_name() {
                    "confluent.type.Decimal" => {
                        let params = field_meta(f);
                        let scale = params
                            .get("scale")
                            .and_then(|s| s.parse().ok())
                            .unwrap_or(0);
                        let mut s = Schema::decimal(scale);
                        if let Some(p) = params.get("precision").and_then(|p| p.parse::<i32>().ok())
                        {
                            s = s.parameter("connect.decimal.precision", p.to_string());
                        }
                        plain(s, Shape::Decimal(scale))
                    }
                    "google.type.Date" => plain(Schema::date(), Shape::Date),
                    "google.type.TimeOfDay" => plain(Schema::time(), Shape::Time),
                    "google.protobuf.Timestamp" => plain(Schema::timestamp(), Shape::Timestamp),
                    name => match is_wrapper(name) {
                        // Unwrapped by `wrapper.for.nullables`, or as any
                        // message is read with `wrapper.for.raw.primitives`.
                        Some(kind)
                            if self.options.wrapper_for_nullables
                                || self.options.raw_primitives =>
                        {
                            plain(Schema::new(kind), Shape::Wrapper)
                        }
                        _ if f.is_map() => {
                            let key = self.field(&m.map_entry_key_field(), false)?;
                            let value = self.field(&m.map_entry_value_field(), false)?;
                            let entry = if self.options.enhanced {
                                m.full_name()
                            } else {
                                m.name()
                            };
                            plain(
                                Schema::new(SchemaKind::Map {
                                    key: key.schema.clone(),
                                    value: value.schema.clone(),
                                })
                                .named(map_field(entry)),
                                Shape::Map(Box::new(key), Box::new(value)),
                            )
                        }
                        _ => self.message(&m)?,
                    },
                };
                let mut schema = (*plan.schema).clone();
                schema.optional = true;
                plan.schema = Arc::new(schema);
                plan
            }
        })
    }
}

/// The Connect field of `f`, under its plan's schema.
fn connect_field(f: &FieldDescriptor, plan: &Plan) -> Field {
    Field {
        name: f.name().to_string(),
        schema: plan.schema.clone(),
    }
}

/// Protobuf's `hasOptionalKeyword`: proto3 `optional`, or a proto2
/// `optional` field outside a oneof.
fn has_optional_keyword(f: &FieldDescriptor) -> bool {
    f.field_descriptor_proto().proto3_optional()
        || (f.parent_file().syntax() == prost_reflect::Syntax::Proto2
            && f.cardinality() == prost_reflect::Cardinality::Optional
            && f.containing_oneof().is_none())
}

/// `confluent.field_meta` params of a field (`connect.type`, decimal
/// `precision` and `scale`).
fn field_meta(f: &FieldDescriptor) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let Some(ext) = f
        .parent_pool()
        .get_extension_by_name("confluent.field_meta")
    else {
        return out;
    };
    let options = f.options();
    if !options.has_extension(&ext) {
        return out;
    }
    if let Proto::Message(meta) = options.get_extension(&ext).as_ref()
        && let Some(params) = meta.get_field_by_name("params")
        && let Proto::Map(params) = params.as_ref()
    {
        for (k, v) in params {
            if let (MapKey::String(k), Proto::String(v)) = (k, v) {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

fn connect_type(f: &FieldDescriptor) -> Option<String> {
    field_meta(f).remove("connect.type")
}

/// ProtobufSchema.toMapField: `FooBarEntry` → `foo_bar`.
fn map_field(name: &str) -> String {
    let (prefix, last) = match name.rsplit_once('.') {
        Some((p, l)) => (Some(p), l),
        None => (None, name),
    };
    let last = match last.strip_suffix("Entry") {
        Some(stem) => {
            let mut out = String::new();
            for (i, c) in stem.chars().enumerate() {
                if c.is_ascii_uppercase() {
                    if i > 0 {
                        out.push('_');
                    }
                    out.push(c.to_ascii_lowercase());
                } else {
                    out.push(c);
                }
            }
            out
        }
        None => last.to_string(),
    };
    match prefix {
        Some(p) => format!("{p}.{last}"),
        None => last,
    }
}

fn int_field(m: &DynamicMessage, name: &str) -> i64 {
    match m.get_field_by_name(name).as_deref() {
        Some(Proto::I32(v)) => i64::from(*v),
        Some(Proto::I64(v)) => *v,
        Some(Proto::U32(v)) => i64::from(*v),
        Some(Proto::U64(v)) => *v as i64,
        _ => 0,
    }
}

fn map_key(k: &MapKey) -> Proto {
    match k {
        MapKey::Bool(b) => Proto::Bool(*b),
        MapKey::I32(v) => Proto::I32(*v),
        MapKey::I64(v) => Proto::I64(*v),
        MapKey::U32(v) => Proto::U32(*v),
        MapKey::U64(v) => Proto::U64(*v),
        MapKey::String(s) => Proto::String(s.clone()),
    }
}

impl Plan {
    /// A Protobuf value as the Connect value of this plan's schema.
    fn value(&self, v: &Proto) -> Result<Value, String> {
        Ok(match (&self.shape, v) {
            (Shape::List(item), Proto::List(items)) => Value::Array(
                items
                    .iter()
                    .map(|v| item.value(v))
                    .collect::<Result<_, _>>()?,
            ),
            (Shape::Map(key, value), Proto::Map(entries)) => {
                let mut sorted: Vec<_> = entries.iter().collect();
                sorted.sort_by(|a, b| a.0.cmp(b.0));
                Value::Map(
                    sorted
                        .into_iter()
                        .map(|(k, v)| Ok((key.value(&map_key(k))?, value.value(v)?)))
                        .collect::<Result<_, String>>()?,
                )
            }
            (Shape::Struct(slots), Proto::Message(m)) => {
                let mut values = Vec::with_capacity(slots.len());
                for slot in slots {
                    values.push(match slot {
                        Slot::Field(f, plan, null_when_unset) => {
                            if *null_when_unset && !m.has_field(f) {
                                Value::Null
                            } else {
                                plan.value(&m.get_field(f))?
                            }
                        }
                        Slot::Oneof(members) => {
                            match members.iter().position(|(f, _)| m.has_field(f)) {
                                None => Value::Null,
                                Some(set) => {
                                    let mut union = vec![Value::Null; members.len()];
                                    let (f, plan) = &members[set];
                                    union[set] = plan.value(&m.get_field(f))?;
                                    Value::Struct(union)
                                }
                            }
                        }
                    });
                }
                Value::Struct(values)
            }
            (Shape::Wrapper, Proto::Message(m)) => match m.get_field_by_name("value") {
                Some(v) => self.scalar(&v)?,
                None => return Err("a wrapper message without a value field".into()),
            },
            (Shape::Timestamp, Proto::Message(m)) => {
                let (seconds, nanos) = (int_field(m, "seconds"), int_field(m, "nanos"));
                if !(0..1_000_000_000).contains(&nanos) {
                    return Err(format!("Timestamp has invalid nanos {nanos}"));
                }
                Value::Int64(
                    seconds
                        .checked_mul(1000)
                        .and_then(|ms| ms.checked_add(nanos / 1_000_000))
                        .ok_or_else(|| format!("Timestamp of {seconds} seconds is out of range"))?,
                )
            }
            (Shape::Date, Proto::Message(m)) => {
                let (y, mo, d) = (
                    int_field(m, "year"),
                    int_field(m, "month"),
                    int_field(m, "day"),
                );
                let date = i32::try_from(y)
                    .ok()
                    .zip(u32::try_from(mo).ok().zip(u32::try_from(d).ok()))
                    .and_then(|(y, (mo, d))| chrono::NaiveDate::from_ymd_opt(y, mo, d))
                    .ok_or_else(|| format!("invalid Date {y}-{mo}-{d}"))?;
                let days = date
                    .signed_duration_since(chrono::NaiveDate::default())
                    .num_days();
                Value::Int32(i32::try_from(days).map_err(|e| e.to_string())?)
            }
            (Shape::Time, Proto::Message(m)) => {
                let (h, mi, s, n) = (
                    int_field(m, "hours"),
                    int_field(m, "minutes"),
                    int_field(m, "seconds"),
                    int_field(m, "nanos"),
                );
                if !((0..24).contains(&h)
                    && (0..60).contains(&mi)
                    && (0..60).contains(&s)
                    && (0..1_000_000_000).contains(&n))
                {
                    return Err(format!("invalid TimeOfDay {h}:{mi}:{s}.{n}"));
                }
                Value::Int32(((h * 3600 + mi * 60 + s) * 1000 + n / 1_000_000) as i32)
            }
            (Shape::Decimal(scale), Proto::Message(m)) => {
                let raw = match m.get_field_by_name("value").as_deref() {
                    Some(Proto::Bytes(b)) if !b.is_empty() => b.clone(),
                    _ => bytes::Bytes::from_static(&[0]),
                };
                let own = int_field(m, "scale") as i32;
                if own == *scale {
                    Value::Bytes(raw)
                } else {
                    let text = connect_api::schema::decimal_string(&raw, own)
                        .ok_or("Decimal wider than 16 bytes")?;
                    Value::Bytes(
                        connect_api::schema::decimal_bytes(&text, *scale).ok_or_else(|| {
                            format!("Decimal {text} does not fit the schema's scale {scale}")
                        })?,
                    )
                }
            }
            (Shape::Enum(e), Proto::EnumNumber(n)) => {
                if self.schema.kind == SchemaKind::Int32 {
                    Value::Int32(*n)
                } else {
                    Value::String(e.get_value(*n).map_or_else(
                        || format!("UNKNOWN_ENUM_VALUE_{}_{n}", e.name()),
                        |v| v.name().to_string(),
                    ))
                }
            }
            (_, v) => self.scalar(v)?,
        })
    }

    fn scalar(&self, v: &Proto) -> Result<Value, String> {
        Ok(match (v, &self.schema.kind) {
            (Proto::I32(i), SchemaKind::Int8) => Value::Int8(*i as i8),
            (Proto::I32(i), SchemaKind::Int16) => Value::Int16(*i as i16),
            (Proto::I32(i), _) => Value::Int32(*i),
            (Proto::I64(i), _) => Value::Int64(*i),
            (Proto::U32(u), _) => Value::Int64(i64::from(*u)),
            (Proto::U64(u), _) => Value::Int64(*u as i64),
            (Proto::F32(f), _) => Value::Float32(*f),
            (Proto::F64(f), _) => Value::Float64(*f),
            (Proto::Bool(b), _) => Value::Boolean(*b),
            (Proto::String(s), _) => Value::String(s.clone()),
            (Proto::Bytes(b), _) => Value::Bytes(b.clone()),
            (other, kind) => {
                return Err(format!(
                    "unexpected Protobuf value {other:?} for {}",
                    kind.type_name()
                ));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_indexes_read_as_confluent_writes_them() {
        assert_eq!(message_indexes(&[0, 8]).unwrap(), (vec![0], &[8u8][..]));
        // count 2 (zigzag 4), indexes 1 (2) and 0 (0).
        assert_eq!(
            message_indexes(&[4, 2, 0, 9]).unwrap(),
            (vec![1, 0], &[9u8][..])
        );
        assert!(message_indexes(&[]).is_err());
    }

    #[test]
    fn map_entries_are_named_as_protobuf_schema_names_them() {
        assert_eq!(map_field("StockLevelsEntry"), "stock_levels");
        assert_eq!(map_field("shop.Product.TagsEntry"), "shop.Product.tags");
    }

    /// `shop.Product`: a plain scalar, a Timestamp, a oneof, a list, a map,
    /// a wrapper and a proto3 `optional` scalar.
    fn product() -> MessageDescriptor {
        use prost::Message as _;
        let repeated = |f: FieldDescriptorProto| FieldDescriptorProto {
            label: Some(Label::Repeated as i32),
            ..f
        };
        let in_oneof = |f: FieldDescriptorProto| FieldDescriptorProto {
            oneof_index: Some(0),
            ..f
        };
        let mut product = message(
            "Product",
            vec![
                field("count", 1, Type::Uint32, None),
                field("at", 2, Type::Message, Some(".google.protobuf.Timestamp")),
                in_oneof(field("note", 3, Type::String, None)),
                repeated(field("tags", 4, Type::String, None)),
                repeated(field(
                    "stock",
                    5,
                    Type::Message,
                    Some(".shop.Product.StockEntry"),
                )),
                field(
                    "nick",
                    6,
                    Type::Message,
                    Some(".google.protobuf.StringValue"),
                ),
                FieldDescriptorProto {
                    oneof_index: Some(1),
                    proto3_optional: Some(true),
                    ..field("rating", 7, Type::Int32, None)
                },
                field("colour", 8, Type::Enum, Some(".shop.Colour")),
            ],
        );
        let oneof = |name: &str| prost_types::OneofDescriptorProto {
            name: Some(name.into()),
            ..Default::default()
        };
        product.oneof_decl = vec![oneof("detail"), oneof("_rating")];
        product.nested_type = vec![DescriptorProto {
            options: Some(MessageOptions {
                map_entry: Some(true),
                ..Default::default()
            }),
            ..message(
                "StockEntry",
                vec![
                    field("key", 1, Type::String, None),
                    field("value", 2, Type::Int32, None),
                ],
            )
        }];
        let file = FileDescriptorProto {
            dependency: vec![
                "google/protobuf/timestamp.proto".into(),
                "google/protobuf/wrappers.proto".into(),
            ],
            enum_type: vec![prost_types::EnumDescriptorProto {
                name: Some("Colour".into()),
                value: ["RED", "GREEN"]
                    .iter()
                    .zip(0..)
                    .map(|(name, number)| prost_types::EnumValueDescriptorProto {
                        name: Some((*name).into()),
                        number: Some(number),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..file("shop/product.proto", "shop", vec![product])
        };
        let text = base64::engine::general_purpose::STANDARD.encode(file.encode_to_vec());
        let file = pool_with(&text, &[]).unwrap();
        message_at(&file, &[0]).unwrap()
    }

    #[test]
    fn schemas_map_as_protobuf_data_maps_them() {
        let desc = product();
        let schema = |options| {
            Builder {
                options,
                building: Vec::new(),
            }
            .top(&desc)
            .unwrap()
            .schema
        };
        let defaults = Options::from_props(&ConfigMap::new());
        let s = schema(defaults);
        assert_eq!(s.name.as_deref(), Some("Product"));
        let names: Vec<&str> = s.fields().iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "detail_0", "count", "at", "tags", "stock", "nick", "rating", "colour"
            ]
        );
        let f = |n: &str| s.field(n).unwrap().1.schema.clone();
        assert!(s.fields().iter().all(|f| f.schema.optional));
        assert_eq!(f("count").kind, SchemaKind::Int64);
        assert_eq!(
            f("count").parameters[&format!("{NAMESPACE}.Type")],
            "uint32"
        );
        assert_eq!(f("count").parameters[&format!("{NAMESPACE}.Tag")], "1");
        assert_eq!(
            f("at").logical(),
            Some(connect_api::schema::Logical::Timestamp)
        );
        assert_eq!(
            f("detail_0").name.as_deref(),
            Some("io.confluent.connect.protobuf.Union.detail")
        );
        assert_eq!(f("stock").name.as_deref(), Some("stock"));
        assert_eq!(f("colour").name.as_deref(), Some("Colour"));
        assert_eq!(
            f("colour").parameters[&format!("{NAMESPACE}.Enum")],
            "Colour"
        );
        assert_eq!(
            f("colour").parameters[&format!("{NAMESPACE}.Enum.GREEN")],
            "1"
        );
        assert!(matches!(f("tags").kind, SchemaKind::Array(_)));
        // `wrapper.for.raw.primitives` (the default) reads a field's wrapper
        // as its primitive too; without it, a struct with `value`.
        assert_eq!(f("nick").kind, SchemaKind::String);
        assert_eq!(f("nick").name, None);
        let s = schema(Options {
            raw_primitives: false,
            ..defaults
        });
        let nick = s.field("nick").unwrap().1.schema.clone();
        assert_eq!(nick.name.as_deref(), Some("StringValue"));
        assert_eq!(nick.fields()[0].name, "value");
        // Only fields written `optional` (and messages, lists, maps, enums)
        // stay optional.
        let s = schema(Options {
            optional_for_nullables: true,
            ..defaults
        });
        let f = |n: &str| s.field(n).unwrap().1.schema.clone();
        assert!(!f("count").optional);
        assert!(f("rating").optional && f("at").optional && f("tags").optional);
        // Connect's generalized union and enum markers.
        let s = schema(Options {
            generalized: true,
            ..defaults
        });
        let f = |n: &str| s.field(n).unwrap().1.schema.clone();
        assert_eq!(f("detail_0").name.as_deref(), Some("detail"));
        assert_eq!(f("detail_0").parameters[CONNECT_UNION], "detail");
        assert_eq!(f("colour").parameters[CONNECT_ENUM], "Colour");
        assert_eq!(f("colour").parameters[&format!("{CONNECT_ENUM}.RED")], "0");
        // Flattened: the oneof's member is a field of the message.
        let s = schema(Options {
            flatten_unions: true,
            ..defaults
        });
        let names: Vec<&str> = s.fields().iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names[..2], ["note", "count"]);
        assert!(s.field("note").unwrap().1.schema.optional);
        let s = schema(Options {
            enhanced: true,
            wrapper_for_nullables: true,
            ..defaults
        });
        assert_eq!(s.name.as_deref(), Some("shop.Product"));
        let f = |n: &str| s.field(n).unwrap().1.schema.clone();
        assert_eq!(f("nick").kind, SchemaKind::String);
        assert!(!f("count").optional);
    }

    #[test]
    fn the_built_in_types_resolve() {
        let pool = base_pool();
        for name in [
            "google.protobuf.Timestamp",
            "google.type.Date",
            "google.type.TimeOfDay",
            "confluent.type.Decimal",
            "confluent.Meta",
        ] {
            assert!(pool.get_message_by_name(name).is_some(), "{name}");
        }
        assert!(pool.get_extension_by_name("confluent.field_meta").is_some());
    }

    #[test]
    fn unset_fields_read_as_protobuf_data_reads_them() {
        let desc = product();
        let mut message = DynamicMessage::new(desc.clone());
        message.set_field_by_name("note", Proto::String("gift".into()));
        let read = |options: Options, message: &DynamicMessage| {
            let plan = Builder {
                options,
                building: Vec::new(),
            }
            .top(&desc)
            .unwrap();
            let Value::Struct(values) = plan.value(&Proto::Message(message.clone())).unwrap()
            else {
                panic!("a struct")
            };
            let names = plan.schema.fields().iter().map(|f| f.name.clone());
            names.zip(values).collect::<HashMap<String, Value>>()
        };
        let defaults = Options::from_props(&ConfigMap::new());
        let v = read(defaults, &message);
        // A plain scalar has its default; a message, a wrapper and an
        // `optional` scalar that are unset are null.
        assert_eq!(v["count"], Value::Int64(0));
        assert_eq!(v["rating"], Value::Null);
        assert_eq!(v["at"], Value::Null);
        assert_eq!(v["nick"], Value::Null);
        assert_eq!(v["tags"], Value::Array(vec![]));
        // An unset enum is its value numbered 0.
        assert_eq!(v["colour"], Value::String("RED".into()));
        assert_eq!(
            v["detail_0"],
            Value::Struct(vec![Value::String("gift".into())])
        );
        let v = read(
            Options {
                struct_for_nulls: true,
                ..defaults
            },
            &message,
        );
        assert_eq!(v["rating"], Value::Int32(0));
        assert_eq!(v["at"], Value::Int64(0));
        assert_eq!(v["nick"], Value::String(String::new()));
        let v = read(
            Options {
                flatten_unions: true,
                struct_for_nulls: true,
                ..defaults
            },
            &message,
        );
        assert_eq!(v["note"], Value::String("gift".into()));
        message.set_field_by_name(
            "nick",
            Proto::Message({
                let mut nick = DynamicMessage::new(
                    base_pool()
                        .get_message_by_name("google.protobuf.StringValue")
                        .unwrap(),
                );
                nick.set_field_by_name("value", Proto::String("ace".into()));
                nick
            }),
        );
        assert_eq!(
            read(defaults, &message)["nick"],
            Value::String("ace".into())
        );
    }
}
