//! The SMTs and predicates as plugins: what `GET /connector-plugins` lists
//! and `GET /connector-plugins/{class}/config` shows, each class's
//! `CONFIG_DEF` as Kafka's source defines it.

use std::collections::HashSet;

use connect_api::{ConfigDef, ConfigKey, ConfigMap, ConfigType, Importance};

use super::{
    PREDICATES_PACKAGE, TRANSFORMS_PACKAGE, debezium, predicate_factories, split_list,
    transformation_factories,
};

/// A key's default: none (required), null, or a value.
#[derive(Clone, Copy)]
enum DefaultValue {
    Required,
    Null,
    Is(&'static str),
}

use ConfigType::{Boolean, Int, List, String as Str};
use DefaultValue::{Is, Null, Required};
use Importance::{High, Low, Medium};

/// `(name, type, default, importance, documentation)`, in definition order.
type Key = (
    &'static str,
    ConfigType,
    DefaultValue,
    Importance,
    &'static str,
);

const REPLACE_NULL: Key = (
    "replace.null.with.default",
    Boolean,
    Is("true"),
    Medium,
    "Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used.",
);

/// What every transformation takes besides its own settings.
const IMPLICIT: [Key; 2] = [
    (
        "predicate",
        Str,
        Null,
        Medium,
        "The alias of a predicate used to determine whether to apply this transformation.",
    ),
    (
        "negate",
        Boolean,
        Is("false"),
        Medium,
        "Whether the configured predicate should be negated.",
    ),
];

const OPTIONALITY: &str = "Suffix with <code>!</code> to make this a required field, or <code>?</code> to keep it optional (the default).";

/// The keys of each SMT (by simple name) and predicate.
fn keys(name: &str) -> Option<Vec<Key>> {
    let optional_field = |key, doc: &'static str| -> Key { (key, Str, Null, Medium, doc) };
    Some(match name {
        debezium::CLASS => vec![
            (
                "delete.tombstone.handling.mode",
                Str,
                Null,
                Medium,
                "How delete events and tombstones are handled: drop (both dropped), tombstone (deletes become tombstones), rewrite (deletes become the row with __deleted=true; tombstones dropped) or rewrite-with-tombstone (as rewrite, tombstones kept). Replaces delete.handling.mode and drop.tombstones.",
            ),
            (
                "delete.handling.mode",
                Str,
                Is("drop"),
                Medium,
                "Deprecated (use delete.tombstone.handling.mode): drop, none (deletes become tombstones) or rewrite.",
            ),
            (
                "drop.tombstones",
                Boolean,
                Is("true"),
                Low,
                "Deprecated (use delete.tombstone.handling.mode): whether tombstones are dropped.",
            ),
            (
                "add.fields",
                List,
                Is(""),
                Low,
                "Change-event fields added to the row, e.g. op, ts_ms or source fields (source.ts_ms, table).",
            ),
            (
                "add.fields.prefix",
                Str,
                Is("__"),
                Low,
                "The prefix of the added fields' names.",
            ),
            (
                "add.headers",
                List,
                Is(""),
                Low,
                "Change-event fields added as headers.",
            ),
            (
                "add.headers.prefix",
                Str,
                Is("__"),
                Low,
                "The prefix of the added headers' names.",
            ),
        ],
        "Cast" => vec![
            (
                "spec",
                List,
                Required,
                High,
                "List of fields and the type to cast them to of the form field1:type,field2:type to cast fields of Maps or Structs. A single type to cast the entire value. Valid types are int8, int16, int32, int64, float32, float64, boolean, and string. Note that binary fields can only be cast to string.",
            ),
            REPLACE_NULL,
        ],
        "DropHeaders" => vec![(
            "headers",
            List,
            Required,
            High,
            "The name of the headers to be removed.",
        )],
        "ExtractField" => vec![
            ("field", Str, Required, Medium, "Field name to extract."),
            REPLACE_NULL,
            (
                "field.syntax.version",
                Str,
                Is("V1"),
                High,
                "Defines the version of the syntax to access fields. If set to `V1`, then the field paths are limited to access the elements at the root level of the struct or map. If set to `V2`, the syntax will support accessing nested elements. To access nested elements, dotted notation is used. If dots are already included in the field name, then backtick pairs can be used to wrap field names containing dots. E.g. to access the subfield `baz` from a field named \"foo.bar\" in a struct/map the following format can be used to access its elements: \"`foo.bar`.baz\".",
            ),
        ],
        "Filter" | "RecordIsTombstone" => vec![],
        "Flatten" => vec![(
            "delimiter",
            Str,
            Is("."),
            Medium,
            "Delimiter to insert between field names from the input record when generating field names for the output record",
        )],
        "HeaderFrom" => vec![
            (
                "fields",
                List,
                Required,
                High,
                "Field names in the record whose values are to be copied or moved to headers.",
            ),
            (
                "headers",
                List,
                Required,
                High,
                "Header names, in the same order as the field names listed in the fields configuration property.",
            ),
            (
                "operation",
                Str,
                Required,
                High,
                "Either <code>move</code> if the fields are to be moved to the headers (removed from the key/value), or <code>copy</code> if the fields are to be copied to the headers (retained in the key/value).",
            ),
            REPLACE_NULL,
        ],
        "HoistField" => vec![(
            "field",
            Str,
            Required,
            Medium,
            "Field name for the single field that will be created in the resulting Struct or Map.",
        )],
        "InsertField" => vec![
            optional_field("topic.field", "Field name for Kafka topic. "),
            optional_field("partition.field", "Field name for Kafka partition. "),
            optional_field(
                "offset.field",
                "Field name for Kafka offset - only applicable to sink connectors.<br/>",
            ),
            optional_field("timestamp.field", "Field name for record timestamp. "),
            optional_field("static.field", "Field name for static data field. "),
            optional_field(
                "static.value",
                "Static field value, if field name configured.",
            ),
            REPLACE_NULL,
        ],
        "InsertHeader" => vec![
            ("header", Str, Required, High, "The name of the header."),
            (
                "value.literal",
                Str,
                Required,
                High,
                "The literal value that is to be set as the header value on all records.",
            ),
        ],
        "MaskField" => vec![
            ("fields", List, Required, High, "Names of fields to mask."),
            (
                "replacement",
                Str,
                Null,
                Low,
                "Custom value replacement, that will be applied to all 'fields' values (numeric or non-empty string values only).",
            ),
            REPLACE_NULL,
        ],
        "RegexRouter" => vec![
            (
                "regex",
                Str,
                Required,
                High,
                "Regular expression to use for matching.",
            ),
            ("replacement", Str, Required, High, "Replacement string."),
        ],
        "ReplaceField" => vec![
            (
                "exclude",
                List,
                Is(""),
                Medium,
                "Fields to exclude. This takes precedence over the fields to include.",
            ),
            (
                "include",
                List,
                Is(""),
                Medium,
                "Fields to include. If specified, only these fields will be used.",
            ),
            ("renames", List, Is(""), Medium, "Field rename mappings."),
            REPLACE_NULL,
        ],
        "SetSchemaMetadata" => vec![
            ("schema.name", Str, Null, High, "Schema name to set."),
            ("schema.version", Int, Null, High, "Schema version to set."),
            REPLACE_NULL,
        ],
        "TimestampConverter" => vec![
            (
                "field",
                Str,
                Is(""),
                High,
                "The field containing the timestamp, or empty if the entire value is a timestamp",
            ),
            (
                "target.type",
                Str,
                Required,
                High,
                "The desired timestamp representation: string, unix, Date, Time, or Timestamp",
            ),
            (
                "format",
                Str,
                Is(""),
                Medium,
                "A SimpleDateFormat-compatible format for the timestamp. Used to generate the output when type=string or used to parse the input if the input is a string.",
            ),
            (
                "unix.precision",
                Str,
                Is("milliseconds"),
                Low,
                "The desired Unix precision for the timestamp: seconds, milliseconds, microseconds, or nanoseconds. Used to generate the output when type=unix or used to parse the input if the input is a Long.Note: This SMT will cause precision loss during conversions from, and to, values with sub-millisecond components.",
            ),
            REPLACE_NULL,
        ],
        "TimestampRouter" => vec![
            (
                "topic.format",
                Str,
                Is("${topic}-${timestamp}"),
                High,
                "Format string which can contain <code>${topic}</code> and <code>${timestamp}</code> as placeholders for the topic and timestamp, respectively.",
            ),
            (
                "timestamp.format",
                Str,
                Is("yyyyMMdd"),
                High,
                "Format string for the timestamp that is compatible with <code>java.text.SimpleDateFormat</code>.",
            ),
        ],
        "ValueToKey" => vec![
            (
                "fields",
                List,
                Required,
                High,
                "Field names on the record value to extract as the record key.",
            ),
            REPLACE_NULL,
        ],
        "HasHeaderKey" => vec![("name", Str, Required, Medium, "The header name.")],
        "TopicNameMatches" => vec![(
            "pattern",
            Str,
            Required,
            Medium,
            "A Java regular expression for matching against the name of a record's topic.",
        )],
        _ => return None,
    })
}

fn def_of(keys: Vec<Key>) -> ConfigDef {
    let keys = keys
        .into_iter()
        .map(|(name, kind, default, importance, doc)| {
            // InsertField's field keys end their own text where Kafka
            // appends `OPTIONALITY_DOC`.
            let documentation = if doc.ends_with(". ") || doc.ends_with("<br/>") {
                format!("{doc}{OPTIONALITY}")
            } else {
                doc.to_string()
            };
            ConfigKey {
                kind,
                required: matches!(default, Required),
                default_value: match default {
                    Is(v) => Some(v.to_string()),
                    Required | Null => None,
                },
                importance,
                documentation,
                ..ConfigKey::plain(name, "")
            }
        })
        .collect();
    ConfigDef { keys }
}

/// The simple name of a transformation class this host runs (full or
/// simple name, `$Key`/`$Value` where it has them).
fn transformation_name(class: &str) -> Option<&'static str> {
    if class == debezium::CLASS {
        return Some(debezium::CLASS);
    }
    let short = class.strip_prefix(TRANSFORMS_PACKAGE).unwrap_or(class);
    let (base, variant) = match short.split_once('$') {
        Some((base, "Key" | "Value")) => (base, true),
        Some(_) => return None,
        None => (short, false),
    };
    transformation_factories()
        .into_iter()
        .find(|(name, variants, _)| *name == base && *variants == variant)
        .map(|(name, _, _)| name)
}

fn predicate_name(class: &str) -> Option<&'static str> {
    let short = class.strip_prefix(PREDICATES_PACKAGE).unwrap_or(class);
    predicate_factories()
        .into_iter()
        .find(|(name, _)| *name == short)
        .map(|(name, _)| name)
}

/// Connect's config definitions of a transformation or predicate class
/// (full or simple name), or `None` when it is neither.
pub fn config_def(class: &str) -> Option<ConfigDef> {
    let class = class.trim();
    transformation_name(class)
        .or_else(|| predicate_name(class))
        .and_then(keys)
        .map(def_of)
}

/// The definitions of the transformation `class` (as configured), for
/// checking its settings' types.
pub(super) fn transformation_def(class: &str) -> Option<ConfigDef> {
    transformation_name(class).and_then(keys).map(def_of)
}

/// The keys Connect's `ConnectorConfig.enrich` adds to a connector's
/// validation report: for each alias in `transforms` and `predicates`, its
/// `type` and, when that is a class this host runs, its settings (a
/// transformation's with `predicate` and `negate`) under the alias's prefix,
/// in group `Transforms: <alias>` / `Predicates: <alias>`, ordered as
/// Connect's `ConfigDef.embed` orders them.
pub fn alias_keys(config: &ConfigMap) -> Vec<ConfigKey> {
    let mut out = Vec::new();
    for (list, kind) in [
        ("transforms", "Transformation"),
        ("predicates", "Predicate"),
    ] {
        let mut seen = HashSet::new();
        for alias in split_list(config.get(list).map_or("", String::as_str)) {
            if !seen.insert(alias.clone()) {
                continue;
            }
            let prefix = format!("{list}.{alias}.");
            let group = format!(
                "{}: {alias}",
                if list == "transforms" {
                    "Transforms"
                } else {
                    "Predicates"
                }
            );
            out.push(ConfigKey {
                kind: ConfigType::Class,
                required: true,
                importance: High,
                documentation: format!("Class for the '{alias}' {}.", kind.to_lowercase()),
                order: 0,
                width: "LONG",
                display_name: format!("{kind} type for {alias}"),
                ..ConfigKey::plain(format!("{prefix}type"), group.clone())
            });
            let class = config
                .get(&format!("{prefix}type"))
                .map_or("", |c| c.trim());
            let own = if list == "transforms" {
                transformation_name(class).and_then(keys).map(|own| {
                    let own = own
                        .into_iter()
                        .filter(|k| k.0 != "predicate" && k.0 != "negate");
                    IMPLICIT.into_iter().chain(own).collect()
                })
            } else {
                predicate_name(class).and_then(keys)
            };
            let Some(own) = own else {
                continue;
            };
            let mut own = def_of(own).keys;
            // `ConfigDef.sortedConfigs`: no default first, then by importance and name.
            let rank = |i: Importance| match i {
                High => 0,
                Medium => 1,
                Low => 2,
            };
            own.sort_by(|a, b| {
                (!a.required, rank(a.importance), &a.name).cmp(&(
                    !b.required,
                    rank(b.importance),
                    &b.name,
                ))
            });
            out.extend(own.into_iter().zip(1..).map(|(k, order)| ConfigKey {
                name: format!("{prefix}{}", k.name),
                group: group.clone(),
                order,
                ..k
            }));
        }
    }
    out
}

/// Every transformation and predicate class, as Connect lists them:
/// `(class, "transformation" | "predicate")`, by class name.
pub fn plugin_classes() -> Vec<(String, &'static str)> {
    let mut transformations: Vec<String> = transformation_factories()
        .into_iter()
        .flat_map(|(name, variants, _)| {
            let class = format!("{TRANSFORMS_PACKAGE}{name}");
            if variants {
                vec![format!("{class}$Key"), format!("{class}$Value")]
            } else {
                vec![class]
            }
        })
        .collect();
    transformations.push(debezium::CLASS.to_string());
    transformations.sort();
    let mut predicates: Vec<String> = predicate_factories()
        .into_iter()
        .map(|(name, _)| format!("{PREDICATES_PACKAGE}{name}"))
        .collect();
    predicates.sort();
    transformations
        .into_iter()
        .map(|c| (c, "transformation"))
        .chain(predicates.into_iter().map(|c| (c, "predicate")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_is_listed_with_its_definitions() {
        let classes = plugin_classes();
        assert!(classes.contains(&(
            "org.apache.kafka.connect.transforms.Cast$Key".into(),
            "transformation"
        )));
        assert!(classes.contains(&(
            "org.apache.kafka.connect.transforms.Filter".into(),
            "transformation"
        )));
        assert!(classes.contains(&(
            "org.apache.kafka.connect.transforms.predicates.HasHeaderKey".into(),
            "predicate"
        )));
        assert!(classes.contains(&(
            "io.debezium.transforms.ExtractNewRecordState".into(),
            "transformation"
        )));
        assert!(
            !classes
                .iter()
                .any(|(c, _)| c.ends_with(".Cast") || c.ends_with("Filter$Key"))
        );
        for (class, _) in &classes {
            assert!(config_def(class).is_some(), "{class}");
        }
    }

    #[test]
    fn aliases_add_their_keys_as_connect_enriches() {
        let config: ConfigMap = [
            ("transforms", "ts,nope"),
            ("transforms.ts.type", "TimestampConverter$Value"),
            ("transforms.nope.type", "com.acme.Nope"),
            ("predicates", "p"),
            ("predicates.p.type", "TopicNameMatches"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let keys = alias_keys(&config);
        let names: Vec<(&str, i32)> = keys.iter().map(|k| (k.name.as_str(), k.order)).collect();
        assert_eq!(
            names,
            [
                ("transforms.ts.type", 0),
                ("transforms.ts.target.type", 1),
                ("transforms.ts.field", 2),
                ("transforms.ts.format", 3),
                ("transforms.ts.negate", 4),
                ("transforms.ts.predicate", 5),
                ("transforms.ts.replace.null.with.default", 6),
                ("transforms.ts.unix.precision", 7),
                ("transforms.nope.type", 0),
                ("predicates.p.type", 0),
                ("predicates.p.pattern", 1),
            ]
        );
        assert_eq!(keys[0].group, "Transforms: ts");
        assert_eq!(keys[0].display_name, "Transformation type for ts");
        assert_eq!(keys[0].kind, ConfigType::Class);
        assert_eq!(keys[1].display_name, "target.type");
        assert_eq!(keys[10].group, "Predicates: p");
    }

    #[test]
    fn definitions_follow_kafka() {
        assert!(config_def("Cast").is_none());
        assert!(config_def("com.acme.Cast$Value").is_none());
        let def = config_def("TimestampConverter$Value").unwrap();
        let names: Vec<&str> = def.keys.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "field",
                "target.type",
                "format",
                "unix.precision",
                "replace.null.with.default"
            ]
        );
        let target = def.key("target.type").unwrap();
        assert!(target.required && target.default_value.is_none());
        assert_eq!(target.importance, Importance::High);
        let field = def.key("field").unwrap();
        assert!(!field.required);
        assert_eq!(field.default_value.as_deref(), Some(""));
        let insert = config_def("org.apache.kafka.connect.transforms.InsertField$Key").unwrap();
        let topic = insert.key("topic.field").unwrap();
        assert!(!topic.required && topic.default_value.is_none());
        assert!(
            topic
                .documentation
                .ends_with("keep it optional (the default).")
        );
        let tombstone =
            config_def("org.apache.kafka.connect.transforms.predicates.RecordIsTombstone").unwrap();
        assert!(tombstone.keys.is_empty());
        assert_eq!(
            config_def("SetSchemaMetadata$Value").unwrap().keys[1].kind,
            ConfigType::Int
        );
    }
}
