//! Single Message Transforms and predicates (Connect's `transforms` and
//! `predicates`), schemaless: keys and values are JSON maps, lists, strings,
//! numbers, booleans or null.
//!
//! The chain is parsed and validated the way Connect's `ConnectorConfig`
//! does: aliases in order, a `type` each, an optional `predicate` (listed in
//! `predicates`) with `negate`. Classes this host cannot run are refused,
//! never ignored.

mod catalog;
mod dates;
mod debezium;
mod fields;
mod headers;
#[cfg(test)]
mod kafka_cases;
mod predicates;
mod routing;
mod shape;
mod timestamp_converter;
mod typed;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use connect_api::{ConfigIssue, ConfigMap, Data, SinkRecord};

pub use catalog::{alias_keys, config_def, plugin_classes};
pub use predicates::Predicate;

const TRANSFORMS_PACKAGE: &str = "org.apache.kafka.connect.transforms.";
const PREDICATES_PACKAGE: &str = "org.apache.kafka.connect.transforms.predicates.";

/// What a transformation did with its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Changed in place, or left as it was: it goes on down the chain.
    Keep,
    /// Dropped (Connect's SMT returning null).
    Discard,
}

/// One transformation. It changes the record in place: a record is a few
/// hundred bytes, and moving it in and out of every step of a chain cost
/// more than most steps do.
pub trait Transformation: Send + Sync {
    fn apply(&self, record: &mut SinkRecord) -> Result<Outcome, String>;
}

/// Settings of one SMT or predicate (`transforms.<alias>.` stripped).
pub(crate) struct Settings<'a> {
    /// The key prefix, for issues: `transforms.<alias>.`.
    prefix: String,
    map: &'a BTreeMap<String, String>,
}

impl Settings<'_> {
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.map.get(key).map(String::as_str)
    }
    /// The setting names given (without the prefix).
    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(String::as_str)
    }
    pub(crate) fn get_or<'b>(&'b self, key: &str, default: &'b str) -> &'b str {
        self.get(key).unwrap_or(default)
    }
    /// The class of a transformation or predicate (`type`); a missing one
    /// is an issue naming `what` (its kind and alias).
    fn class(&self, what: &str, issues: &mut Vec<ConfigIssue>) -> Option<String> {
        match self.required("type") {
            Ok(class) => Some(class.trim().to_string()),
            Err(e) => {
                issues.push(ConfigIssue::new(
                    e.key.clone(),
                    format!("{what}: {}", e.message),
                ));
                None
            }
        }
    }

    pub(crate) fn required(&self, key: &str) -> Result<&str, ConfigIssue> {
        match self.get(key) {
            Some(v) if !v.trim().is_empty() => Ok(v),
            _ => Err(self.issue(
                key,
                format!(
                    "Missing required configuration \"{}{key}\" which has no default value.",
                    self.prefix
                ),
            )),
        }
    }
    pub(crate) fn boolean(&self, key: &str, default: bool) -> Result<bool, ConfigIssue> {
        match self.get(key).map(str::trim) {
            None => Ok(default),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(self.invalid(key, v, "Expected value to be either true or false")),
        }
    }
    pub(crate) fn list(&self, key: &str) -> Vec<String> {
        split_list(self.get(key).unwrap_or(""))
    }
    /// [`Self::list`] for a setting Connect validates as `NonEmptyList`.
    pub(crate) fn non_empty_list(&self, key: &str) -> Result<Vec<String>, ConfigIssue> {
        let list = self.list(key);
        if list.is_empty() {
            return Err(self.invalid(key, self.get_or(key, ""), "Empty list"));
        }
        Ok(list)
    }
    pub(crate) fn issue(&self, key: &str, message: impl Into<String>) -> ConfigIssue {
        ConfigIssue::new(format!("{}{key}", self.prefix), message)
    }
    pub(crate) fn invalid(&self, key: &str, value: &str, why: &str) -> ConfigIssue {
        self.issue(
            key,
            format!(
                "Invalid value {value} for configuration {}{key}: {why}",
                self.prefix
            ),
        )
    }
}

pub(crate) fn split_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Whether a transformation works on the key or the value (`$Key`/`$Value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Key,
    Value,
}

impl Part {
    /// The part a `$Key`/`$Value` variant names; the value for classes
    /// without variants.
    pub(crate) fn or_value(variant: Option<Part>) -> Part {
        variant.unwrap_or(Part::Value)
    }
    pub(crate) fn get(self, r: &SinkRecord) -> &Data {
        match self {
            Part::Key => &r.key,
            Part::Value => &r.value,
        }
    }
    pub(crate) fn get_mut(self, r: &mut SinkRecord) -> &mut Data {
        match self {
            Part::Key => &mut r.key,
            Part::Value => &mut r.value,
        }
    }
    /// Move the part out of `r` (leaving null), for a transformation that
    /// sets it again: no copy of the value.
    pub(crate) fn take(self, r: &mut SinkRecord) -> Data {
        let part = match self {
            Part::Key => &mut r.key,
            Part::Value => &mut r.value,
        };
        std::mem::replace(part, Data::Null)
    }
    pub(crate) fn set(self, r: &mut SinkRecord, data: Data) {
        match self {
            Part::Key => r.key = data,
            Part::Value => r.value = data,
        }
    }
}

/// The operated part as JSON (`None` for a null / tombstone), or the error
/// Connect gives for something that is not schemaless data.
pub(crate) fn json_of(data: &Data) -> Result<Option<serde_json::Value>, String> {
    match data {
        // Only what is owned is copied; a schema'd value is converted.
        Data::Json(_) | Data::Text(_) => into_json(data.clone()),
        Data::Typed(v) if !data.is_null() => Ok(Some(v.to_json())),
        Data::Typed(_) | Data::Null => Ok(None),
        Data::Bytes(_) => into_json(Data::Bytes(Default::default())),
    }
}

/// [`json_of`] on a part taken out of its record ([`Part::take`]).
pub(crate) fn into_json(data: Data) -> Result<Option<serde_json::Value>, String> {
    match data {
        d if d.is_null() => Ok(None),
        Data::Json(v) => Ok(Some(v)),
        Data::Text(s) => Ok(Some(serde_json::Value::String(s))),
        Data::Bytes(_) => {
            Err("Only Map objects supported in absence of schema, found: byte[]".into())
        }
        Data::Null => Ok(None),
        // Schema'd values are transformed through their JSON view (README).
        Data::Typed(v) => Ok(Some(v.to_json())),
    }
}

/// The operated part as a map, for `purpose` (Connect's `requireMap`).
pub(crate) fn require_map(
    data: &Data,
    purpose: &str,
) -> Result<Option<serde_json::Map<String, serde_json::Value>>, String> {
    as_map(json_of(data), purpose)
}

/// [`require_map`] on a part taken out of its record ([`Part::take`]).
pub(crate) fn into_map(
    data: Data,
    purpose: &str,
) -> Result<Option<serde_json::Map<String, serde_json::Value>>, String> {
    as_map(into_json(data), purpose)
}

fn as_map(
    json: Result<Option<serde_json::Value>, String>,
    purpose: &str,
) -> Result<Option<serde_json::Map<String, serde_json::Value>>, String> {
    match json {
        Ok(None) => Ok(None),
        Ok(Some(serde_json::Value::Object(m))) => Ok(Some(m)),
        Ok(Some(other)) => Err(format!(
            "Only Map objects supported in absence of schema for [{purpose}], found: {}",
            java_type(&other)
        )),
        Err(_) => Err(format!(
            "Only Map objects supported in absence of schema for [{purpose}], found: byte[]"
        )),
    }
}

pub(crate) fn java_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "java.lang.Boolean",
        serde_json::Value::Number(n) if n.is_f64() => "java.lang.Double",
        serde_json::Value::Number(_) => "java.lang.Long",
        serde_json::Value::String(_) => "java.lang.String",
        serde_json::Value::Array(_) => "java.util.ArrayList",
        serde_json::Value::Object(_) => "java.util.HashMap",
    }
}

/// What a transformation class resolves to: a constructor from settings.
type Factory = fn(&Settings<'_>, Option<Part>) -> Result<Box<dyn Transformation>, ConfigIssue>;

/// `(short name, has $Key/$Value variants, factory)`.
fn transformation_factories() -> Vec<(&'static str, bool, Factory)> {
    vec![
        ("Filter", false, routing::filter),
        ("RegexRouter", false, routing::regex_router),
        ("TimestampRouter", false, routing::timestamp_router),
        (
            "TimestampConverter",
            true,
            timestamp_converter::timestamp_converter,
        ),
        ("InsertField", true, fields::insert_field),
        ("ReplaceField", true, fields::replace_field),
        ("ExtractField", true, shape::extract_field),
        ("HoistField", true, shape::hoist_field),
        ("MaskField", true, fields::mask_field),
        ("Flatten", true, shape::flatten),
        ("Cast", true, fields::cast),
        ("SetSchemaMetadata", true, fields::set_schema_metadata),
        ("ValueToKey", false, shape::value_to_key),
        ("DropHeaders", false, headers::drop_headers),
        ("InsertHeader", false, headers::insert_header),
        ("HeaderFrom", true, headers::header_from),
    ]
}

/// What a predicate class resolves to.
type PredicateFactory = fn(&Settings<'_>) -> Result<Arc<dyn Predicate>, ConfigIssue>;

/// `(short name, factory)` of every predicate.
fn predicate_factories() -> Vec<(&'static str, PredicateFactory)> {
    vec![
        ("TopicNameMatches", predicates::topic_name_matches),
        ("HasHeaderKey", predicates::has_header_key),
        ("RecordIsTombstone", |_| {
            Ok(Arc::new(predicates::RecordIsTombstone))
        }),
    ]
}

fn unknown_class(class: &str) -> String {
    if class.contains('.') {
        format!("Class {class} could not be found: {class} is a Java class this host cannot load")
    } else {
        format!("Class {class} could not be found.")
    }
}

/// The type problems of the settings Connect's definitions of `class`
/// give a type (BOOLEAN, INT, LIST), as Connect's `ConfigDef.parse` reports
/// them; required keys and allowed values are the factories' to check.
fn type_issues(class: &str, settings: &Settings<'_>) -> Vec<ConfigIssue> {
    let Some(mut def) = catalog::transformation_def(class) else {
        return Vec::new();
    };
    for key in &mut def.keys {
        key.required = false;
    }
    def.validate(settings.map)
        .into_iter()
        .map(|issue| {
            let message = issue.message.replace(
                &format!("configuration {}:", issue.key),
                &format!("configuration {}{}:", settings.prefix, issue.key),
            );
            settings.issue(&issue.key, message)
        })
        .collect()
}

fn build_transformation(
    class: &str,
    settings: &Settings<'_>,
) -> Result<Box<dyn Transformation>, Vec<ConfigIssue>> {
    if class == debezium::CLASS {
        return debezium::extract_new_record_state(settings).map_err(|e| vec![e]);
    }
    let short = class.strip_prefix(TRANSFORMS_PACKAGE).unwrap_or(class);
    let (base, variant) = match short.split_once('$') {
        Some((b, "Key")) => (b, Some(Part::Key)),
        Some((b, "Value")) => (b, Some(Part::Value)),
        Some(_) => ("", None),
        None => (short, None),
    };
    for (name, variants, factory) in transformation_factories() {
        if name != base || base.contains('.') {
            continue;
        }
        if variants != variant.is_some() {
            let why = if variants {
                format!("{class} is abstract; use {name}$Key or {name}$Value")
            } else {
                format!("Class {class} could not be found.")
            };
            return Err(vec![settings.invalid("type", class, &why)]);
        }
        let issues = type_issues(class, settings);
        if !issues.is_empty() {
            return Err(issues);
        }
        return factory(settings, variant).map_err(|e| vec![e]);
    }
    Err(vec![settings.invalid("type", class, &unknown_class(class))])
}

fn build_predicate(
    class: &str,
    settings: &Settings<'_>,
) -> Result<Arc<dyn Predicate>, ConfigIssue> {
    let short = class.strip_prefix(PREDICATES_PACKAGE).unwrap_or(class);
    match predicate_factories()
        .into_iter()
        .find(|(name, _)| *name == short)
    {
        Some((_, factory)) => factory(settings),
        None => Err(settings.invalid("type", class, &unknown_class(class))),
    }
}

/// One configured step of the chain.
pub struct TransformStage {
    pub alias: String,
    /// The class as configured: what the DLQ names as the executing class.
    pub class: String,
    transformation: Box<dyn Transformation>,
    predicate: Option<(Arc<dyn Predicate>, bool)>,
}

/// Why a transformation failed on one record.
#[derive(Debug, Clone)]
pub struct TransformError {
    pub class: String,
    pub message: String,
}

/// The configured transformations, in order.
#[derive(Default)]
pub struct TransformChain {
    stages: Vec<TransformStage>,
}

impl std::fmt::Debug for TransformChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.stages.iter().map(|s| (&s.alias, &s.class)))
            .finish()
    }
}

fn with_prefix(config: &ConfigMap, prefix: &str) -> BTreeMap<String, String> {
    config
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(prefix).map(|k| (k.to_string(), v.clone())))
        .collect()
}

impl TransformChain {
    pub fn is_empty(&self) -> bool {
        self.stages.is_empty()
    }

    /// Parse `transforms`/`predicates` as Connect does; every problem is
    /// returned, each under the key it is about.
    pub fn from_config(config: &ConfigMap) -> Result<Self, Vec<ConfigIssue>> {
        let mut issues = Vec::new();
        let aliases = split_list(config.get("transforms").map(String::as_str).unwrap_or(""));
        let predicate_aliases =
            split_list(config.get("predicates").map(String::as_str).unwrap_or(""));
        for (key, list) in [("transforms", &aliases), ("predicates", &predicate_aliases)] {
            let mut seen = HashSet::new();
            for a in list.iter() {
                if !seen.insert(a) {
                    issues.push(ConfigIssue::new(
                        key,
                        format!("Duplicate alias provided: '{a}' appears more than once in {key}"),
                    ));
                }
            }
        }
        // Predicates first: transformations refer to them.
        let mut predicates: BTreeMap<&str, Arc<dyn Predicate>> = BTreeMap::new();
        for alias in &predicate_aliases {
            let prefix = format!("predicates.{alias}.");
            let map = with_prefix(config, &prefix);
            let settings = Settings { prefix, map: &map };
            let Some(class) = settings.class(&format!("Predicate '{alias}'"), &mut issues) else {
                continue;
            };
            match build_predicate(&class, &settings) {
                Ok(p) => {
                    predicates.insert(alias, p);
                }
                Err(e) => issues.push(ConfigIssue::new(
                    e.key.clone(),
                    format!("Predicate '{alias}' ({class}): {}", e.message),
                )),
            }
        }
        let mut stages = Vec::new();
        for alias in &aliases {
            let prefix = format!("transforms.{alias}.");
            let map = with_prefix(config, &prefix);
            let settings = Settings { prefix, map: &map };
            let Some(class) = settings.class(&format!("Transformation '{alias}'"), &mut issues)
            else {
                continue;
            };
            let name = |m: &str| format!("Transformation '{alias}' ({class}): {m}");
            let negate = match settings.get("negate").map(str::trim) {
                None => None,
                Some(v) if v.eq_ignore_ascii_case("true") => Some(true),
                Some(v) if v.eq_ignore_ascii_case("false") => Some(false),
                Some(v) => {
                    issues.push(settings.issue(
                        "negate",
                        name(&format!("Invalid value {v} for configuration {}negate: Expected value to be either true or false", settings.prefix)),
                    ));
                    None
                }
            };
            let predicate = match settings.get("predicate").map(str::trim) {
                None | Some("") => {
                    if settings.get("negate").is_some() {
                        issues.push(settings.issue(
                            "negate",
                            name(&format!(
                                "'negate' is set but no 'predicate' is; set {}predicate or remove {}negate",
                                settings.prefix, settings.prefix
                            )),
                        ));
                    }
                    None
                }
                Some(p) => match predicates.get(p) {
                    Some(pred) => Some((pred.clone(), negate.unwrap_or(false))),
                    None => {
                        if !predicate_aliases.iter().any(|a| a == p) {
                            issues.push(settings.issue(
                                "predicate",
                                name(&format!("predicate '{p}' is not listed in 'predicates'")),
                            ));
                        }
                        None
                    }
                },
            };
            match build_transformation(&class, &settings) {
                Ok(transformation) => stages.push(TransformStage {
                    alias: alias.clone(),
                    class: class.clone(),
                    transformation,
                    predicate,
                }),
                Err(errors) => issues.extend(
                    errors
                        .into_iter()
                        .map(|e| ConfigIssue::new(e.key.clone(), name(&e.message))),
                ),
            }
        }
        if issues.is_empty() {
            Ok(Self { stages })
        } else {
            Err(issues)
        }
    }

    /// Apply every stage in order; `Ok(None)` when one dropped the record.
    pub fn apply(&self, mut record: SinkRecord) -> Result<Option<SinkRecord>, TransformError> {
        for stage in &self.stages {
            if let Some((predicate, negate)) = &stage.predicate
                && predicate.test(&record) == *negate
            {
                continue;
            }
            match stage.transformation.apply(&mut record) {
                Ok(Outcome::Keep) => {}
                Ok(Outcome::Discard) => return Ok(None),
                Err(message) => {
                    return Err(TransformError {
                        class: stage.class.clone(),
                        message,
                    });
                }
            }
        }
        Ok(Some(record))
    }
}

/// The issues of `transforms`/`predicates` in `config`, for validation.
pub fn validate(config: &ConfigMap) -> Vec<ConfigIssue> {
    TransformChain::from_config(config)
        .err()
        .unwrap_or_default()
}

#[cfg(test)]
pub(crate) mod test_support {
    use connect_api::{ConfigMap, Data, SinkRecord};

    use super::TransformChain;

    pub fn record(value: serde_json::Value) -> SinkRecord {
        SinkRecord {
            topic: "test".into(),
            partition: 0,
            offset: 42,
            timestamp: Some(1_483_425_001_864),
            key: Data::Null,
            value: Data::Json(value),
            headers: Vec::new(),
        }
    }

    /// A chain of one transformation `class` with `settings`.
    pub fn chain(class: &str, settings: &[(&str, &str)]) -> TransformChain {
        try_chain(class, settings).unwrap()
    }

    pub fn try_chain(
        class: &str,
        settings: &[(&str, &str)],
    ) -> Result<TransformChain, Vec<connect_api::ConfigIssue>> {
        let mut config = ConfigMap::new();
        config.insert("transforms".into(), "t".into());
        config.insert("transforms.t.type".into(), class.into());
        for (k, v) in settings {
            config.insert(format!("transforms.t.{k}"), v.to_string());
        }
        TransformChain::from_config(&config)
    }

    pub fn apply(chain: &TransformChain, r: SinkRecord) -> SinkRecord {
        chain.apply(r).unwrap().unwrap()
    }
}

#[cfg(test)]
mod tests {
    use connect_api::Data;
    use serde_json::json;

    use super::test_support::record;
    use super::*;
    use crate::test_support::config_map as config;

    fn issues(pairs: &[(&str, &str)]) -> Vec<ConfigIssue> {
        TransformChain::from_config(&config(pairs)).unwrap_err()
    }

    #[test]
    fn empty_config_is_an_empty_chain() {
        assert!(
            TransformChain::from_config(&config(&[]))
                .unwrap()
                .is_empty()
        );
        assert!(validate(&config(&[("transforms", "")])).is_empty());
    }

    #[test]
    fn missing_type_names_the_alias() {
        let i = issues(&[("transforms", "foo")]);
        assert_eq!(i.len(), 1);
        assert_eq!(i[0].key, "transforms.foo.type");
        assert!(i[0].message.contains("foo"), "{}", i[0].message);
    }

    #[test]
    fn duplicate_aliases_are_refused() {
        let i = issues(&[("transforms", "a,a"), ("transforms.a.type", "Filter")]);
        assert!(
            i.iter()
                .any(|i| i.key == "transforms" && i.message.contains("'a'"))
        );
        let i = issues(&[
            ("predicates", "p,p"),
            ("predicates.p.type", "RecordIsTombstone"),
        ]);
        assert!(
            i.iter()
                .any(|i| i.key == "predicates" && i.message.contains("'p'"))
        );
    }

    #[test]
    fn negate_without_predicate_is_refused() {
        let i = issues(&[
            ("transforms", "a"),
            ("transforms.a.type", "Filter"),
            ("transforms.a.negate", "true"),
        ]);
        assert_eq!(i[0].key, "transforms.a.negate");
        assert!(i[0].message.contains("'a'") && i[0].message.contains("Filter"));
    }

    #[test]
    fn predicate_must_be_listed() {
        let i = issues(&[
            ("transforms", "a"),
            ("transforms.a.type", "Filter"),
            ("transforms.a.predicate", "nope"),
        ]);
        assert_eq!(i[0].key, "transforms.a.predicate");
        assert!(i[0].message.contains("nope"));
    }

    #[test]
    fn unknown_and_java_classes_are_refused() {
        let i = issues(&[
            ("transforms", "unwrap"),
            (
                "transforms.unwrap.type",
                "io.debezium.transforms.ByLogicalTableRouter",
            ),
        ]);
        assert_eq!(i[0].key, "transforms.unwrap.type");
        assert!(
            i[0].message
                .contains("is a Java class this host cannot load"),
            "{}",
            i[0].message
        );
        assert!(i[0].message.contains("unwrap"));
        let i = issues(&[("transforms", "x"), ("transforms.x.type", "NoSuchThing")]);
        assert!(i[0].message.contains("NoSuchThing could not be found"));
        let i = issues(&[("transforms", "x"), ("transforms.x.type", "InsertField")]);
        assert!(i[0].message.contains("InsertField$Value"));
        let i = issues(&[
            ("transforms", "x"),
            (
                "transforms.x.type",
                "org.apache.kafka.connect.transforms.TimestampConverter",
            ),
        ]);
        assert!(
            i[0].message.contains("TimestampConverter$Value"),
            "{}",
            i[0].message
        );
        let i = issues(&[("predicates", "p"), ("predicates.p.type", "com.acme.Pred")]);
        assert_eq!(i[0].key, "predicates.p.type");
        assert!(i[0].message.contains("'p'"));
    }

    #[test]
    fn bad_smt_settings_are_refused_under_their_key() {
        let i = issues(&[
            ("transforms", "route"),
            ("transforms.route.type", "RegexRouter"),
        ]);
        assert_eq!(i[0].key, "transforms.route.regex");
        assert!(i[0].message.contains("route") && i[0].message.contains("RegexRouter"));
        let i = issues(&[
            ("transforms", "r"),
            ("transforms.r.type", "RegexRouter"),
            ("transforms.r.regex", "("),
            ("transforms.r.replacement", "x"),
        ]);
        assert_eq!(i[0].key, "transforms.r.regex");
    }

    #[test]
    fn setting_types_are_checked_per_alias() {
        let i = issues(&[
            ("transforms", "x"),
            ("transforms.x.type", "SetSchemaMetadata$Value"),
            ("transforms.x.schema.version", "two"),
            ("transforms.x.replace.null.with.default", "maybe"),
        ]);
        assert_eq!(i.len(), 2, "{i:?}");
        assert_eq!(i[0].key, "transforms.x.schema.version");
        assert!(
            i[0].message
                .contains("Invalid value two for configuration transforms.x.schema.version"),
            "{}",
            i[0].message
        );
        assert_eq!(i[1].key, "transforms.x.replace.null.with.default");
    }

    #[test]
    fn full_class_names_and_aliases_are_accepted() {
        for class in [
            "org.apache.kafka.connect.transforms.InsertField$Value",
            "InsertField$Key",
        ] {
            let c = config(&[
                ("transforms", "a"),
                ("transforms.a.type", class),
                ("transforms.a.static.field", "s"),
                ("transforms.a.static.value", "v"),
            ]);
            assert!(TransformChain::from_config(&c).is_ok(), "{class}");
        }
    }

    #[test]
    fn chain_applies_in_order_gated_by_predicates() {
        let chain = TransformChain::from_config(&config(&[
            ("transforms", "drop,hoist,ins"),
            (
                "transforms.drop.type",
                "org.apache.kafka.connect.transforms.Filter",
            ),
            ("transforms.drop.predicate", "skip"),
            ("transforms.hoist.type", "HoistField$Value"),
            ("transforms.hoist.field", "inner"),
            ("transforms.ins.type", "InsertField$Value"),
            ("transforms.ins.topic.field", "t"),
            ("transforms.ins.predicate", "orders"),
            ("transforms.ins.negate", "true"),
            ("predicates", "skip,orders"),
            (
                "predicates.skip.type",
                "org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
            ),
            ("predicates.skip.name", "skip-me"),
            ("predicates.orders.type", "TopicNameMatches"),
            ("predicates.orders.pattern", "orders.*"),
        ]))
        .unwrap();
        let out = chain.apply(record(json!(1))).unwrap().unwrap();
        assert_eq!(out.value, Data::Json(json!({"inner": 1, "t": "test"})));
        let mut orders = record(json!(1));
        orders.topic = "orders-1".into();
        let out = chain.apply(orders).unwrap().unwrap();
        assert_eq!(out.value, Data::Json(json!({"inner": 1})));
        let mut skipped = record(json!(1));
        skipped.headers.push(("skip-me".into(), None));
        assert!(chain.apply(skipped).unwrap().is_none());
    }

    #[test]
    fn errors_name_the_class() {
        let chain = test_support::chain("ExtractField$Value", &[("field", "a")]);
        let e = chain.apply(record(json!([1]))).unwrap_err();
        assert_eq!(e.class, "ExtractField$Value");
        assert!(e.message.contains("Only Map objects supported"));
    }
}
