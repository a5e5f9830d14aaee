//! Connector settings as Connect models them (string maps described by a
//! `ConfigDef`), derived from a typed Rust struct's JSON Schema.
//!
//! A connector writes `#[derive(Deserialize, JsonSchema)] struct MyConfig`,
//! with `#[serde(rename = "dotted.name")]` fields and doc comments; the doc
//! comments become Connect's `documentation`, `Option`/defaulted fields become
//! optional keys, and [`ConfigDef::parse`] turns the string map into the struct.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// What Connect stores for a connector: every value a string.
pub type ConfigMap = BTreeMap<String, String>;

/// Connect's `ConfigDef.Type`, serialised as Connect's REST API shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum ConfigType {
    Boolean,
    String,
    Short,
    Int,
    Long,
    Double,
    List,
    Class,
    Password,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Importance {
    High,
    Medium,
    Low,
}

/// One setting's definition (Connect's `ConfigKeyInfo`).
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigKey {
    pub name: String,
    pub kind: ConfigType,
    pub required: bool,
    pub default_value: Option<String>,
    pub importance: Importance,
    pub documentation: String,
    pub group: String,
    pub order: i32,
    /// Connect's `display_name` (the key's name unless the schema gives one).
    pub display_name: String,
    /// Connect's `width`: SHORT, MEDIUM, LONG or NONE.
    pub width: &'static str,
    pub recommended_values: Vec<String>,
    /// The recommended values are the only valid ones (a schema `enum`);
    /// false when they are suggestions (`x-recommended-values`), as for
    /// `cuda:N` beside `auto`, `cpu` and `cuda`.
    pub only_recommended: bool,
    /// Inclusive numeric bounds (from the schema's `minimum`/`maximum`).
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl ConfigKey {
    /// An optional STRING key with nothing but a name, in `group`.
    pub fn plain(name: impl Into<String>, group: impl Into<String>) -> Self {
        let name = name.into();
        Self {
            display_name: name.clone(),
            name,
            kind: ConfigType::String,
            required: false,
            default_value: None,
            importance: Importance::Low,
            documentation: String::new(),
            group: group.into(),
            order: -1,
            width: "NONE",
            recommended_values: Vec::new(),
            only_recommended: false,
            min: None,
            max: None,
        }
    }
}

/// A problem with one key; several may be reported for one config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    pub key: String,
    pub message: String,
}

impl ConfigIssue {
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// The definitions of a group of settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigDef {
    pub keys: Vec<ConfigKey>,
}

impl ConfigDef {
    /// Definitions for every field of `T`, in declaration order, in `group`.
    pub fn from_schema<T: JsonSchema>(group: &str) -> Self {
        let schema = schemars::schema_for!(T);
        let root = schema.as_value();
        let defs = root.get("$defs").cloned().unwrap_or(Value::Null);
        let required: Vec<&str> = root
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut keys = Vec::new();
        if let Some(props) = root.get("properties").and_then(Value::as_object) {
            for (order, (name, prop)) in props.iter().enumerate() {
                let prop = resolve_ref(prop, &defs);
                let kind = config_type(&prop, &defs);
                let is_required = required.contains(&name.as_str());
                // Connect metadata a schema can carry with `extend(...)`.
                let ext = |field: &str| prop.get(field).and_then(Value::as_str);
                let importance = match ext("x-importance") {
                    Some("HIGH") => Importance::High,
                    Some("MEDIUM") => Importance::Medium,
                    Some("LOW") => Importance::Low,
                    _ if is_required => Importance::High,
                    _ => Importance::Medium,
                };
                keys.push(ConfigKey {
                    name: name.clone(),
                    kind,
                    required: is_required,
                    default_value: prop.get("default").and_then(default_string),
                    importance,
                    display_name: ext("x-display-name").unwrap_or(name).to_string(),
                    width: match ext("x-width") {
                        Some("SHORT") => "SHORT",
                        Some("MEDIUM") => "MEDIUM",
                        Some("LONG") => "LONG",
                        _ => "NONE",
                    },
                    documentation: prop
                        .get("description")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    group: ext("x-group").unwrap_or(group).to_string(),
                    order: prop
                        .get("x-order")
                        .and_then(Value::as_i64)
                        .map_or(order as i32 + 1, |o| o as i32),
                    recommended_values: enum_values(&prop, &defs)
                        .or_else(|| suggested_values(&prop))
                        .unwrap_or_default(),
                    only_recommended: enum_values(&prop, &defs).is_some(),
                    min: prop.get("minimum").and_then(Value::as_f64),
                    max: prop.get("maximum").and_then(Value::as_f64),
                });
            }
        }
        Self { keys }
    }

    pub fn key(&self, name: &str) -> Option<&ConfigKey> {
        self.keys.iter().find(|k| k.name == name)
    }

    /// Extend with another group's keys.
    pub fn with(mut self, other: ConfigDef) -> Self {
        self.keys.extend(other.keys);
        self
    }

    /// Type and presence problems of every key defined here; keys not defined
    /// here are left to whoever defines them.
    pub fn validate(&self, config: &ConfigMap) -> Vec<ConfigIssue> {
        let mut issues = Vec::new();
        for key in &self.keys {
            match config.get(&key.name) {
                None if key.required => issues.push(ConfigIssue::new(
                    &key.name,
                    format!(
                        "Missing required configuration \"{}\" which has no default value.",
                        key.name
                    ),
                )),
                None => {}
                Some(raw) => {
                    if let Err(message) = typed_value(key, raw) {
                        issues.push(ConfigIssue::new(&key.name, message));
                    }
                }
            }
        }
        issues
    }

    /// Parse `config` into `T`, reporting every problem found.
    pub fn parse<T: DeserializeOwned>(&self, config: &ConfigMap) -> Result<T, Vec<ConfigIssue>> {
        let issues = self.validate(config);
        if !issues.is_empty() {
            return Err(issues);
        }
        let mut object = Map::new();
        for key in &self.keys {
            if let Some(raw) = config.get(&key.name) {
                // validate() above has already accepted the value.
                object.insert(
                    key.name.clone(),
                    typed_value(key, raw).unwrap_or(Value::Null),
                );
            }
        }
        serde_json::from_value(Value::Object(object)).map_err(|e| {
            let message = e.to_string();
            let key = self
                .keys
                .iter()
                .find(|k| message.contains(&format!("`{}`", k.name)))
                .map(|k| k.name.clone())
                .unwrap_or_default();
            vec![ConfigIssue::new(key, message)]
        })
    }
}

/// "a string", "an object", … for error messages about JSON input.
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The JSON value a string setting stands for, or why it is not one.
fn typed_value(key: &ConfigKey, raw: &str) -> Result<Value, String> {
    let trimmed = raw.trim();
    let invalid = |what: &str| {
        format!(
            "Invalid value {raw} for configuration {}: Not a {what}",
            key.name
        )
    };
    let value = match key.kind {
        ConfigType::Boolean => match trimmed.to_ascii_lowercase().as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => {
                return Err(format!(
                    "Invalid value {raw} for configuration {}: Expected value to be either true or false",
                    key.name
                ));
            }
        },
        ConfigType::Short | ConfigType::Int | ConfigType::Long => Value::from(
            trimmed
                .parse::<i64>()
                .map_err(|_| invalid("number of type INT"))?,
        ),
        ConfigType::Double => {
            let n = trimmed
                .parse::<f64>()
                .map_err(|_| invalid("number of type DOUBLE"))?;
            serde_json::Number::from_f64(n)
                .map(Value::Number)
                .ok_or_else(|| invalid("finite number"))?
        }
        ConfigType::List => Value::Array(
            trimmed
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_string()))
                .collect(),
        ),
        ConfigType::String | ConfigType::Class | ConfigType::Password => {
            Value::String(raw.to_string())
        }
    };
    if let Some(n) = value.as_f64() {
        if let Some(min) = key.min.filter(|min| n < *min) {
            return Err(format!(
                "Invalid value {raw} for configuration {}: Value must be at least {min}",
                key.name
            ));
        }
        if let Some(max) = key.max.filter(|max| n > *max) {
            return Err(format!(
                "Invalid value {raw} for configuration {}: Value must be no more than {max}",
                key.name
            ));
        }
    }
    if key.only_recommended
        && let Value::String(s) = &value
        && !key.recommended_values.iter().any(|v| v == s)
    {
        return Err(format!(
            "Invalid value {raw} for configuration {}: must be one of {}",
            key.name,
            key.recommended_values.join(", ")
        ));
    }
    Ok(value)
}

fn resolve_ref(prop: &Value, defs: &Value) -> Value {
    // `Option<Enum>` shows up as anyOf[$ref, null]; plain enums as $ref.
    if let Some(r) = prop.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or_default();
        let mut resolved = defs.get(name).cloned().unwrap_or(Value::Null);
        if let (Some(obj), Some(desc)) = (resolved.as_object_mut(), prop.get("description")) {
            obj.insert("description".into(), desc.clone());
        }
        if let (Some(obj), Some(default)) = (resolved.as_object_mut(), prop.get("default")) {
            obj.insert("default".into(), default.clone());
        }
        return resolved;
    }
    if let Some(any) = prop.get("anyOf").and_then(Value::as_array)
        && let Some(inner) = any
            .iter()
            .find(|v| v.get("type") != Some(&Value::from("null")))
    {
        let mut merged = resolve_ref(inner, defs);
        if let Some(obj) = merged.as_object_mut() {
            for field in ["description", "default", "writeOnly"] {
                if let Some(v) = prop.get(field) {
                    obj.insert(field.into(), v.clone());
                }
            }
        }
        return merged;
    }
    prop.clone()
}

fn config_type(prop: &Value, defs: &Value) -> ConfigType {
    if prop.get("writeOnly") == Some(&Value::Bool(true)) {
        return ConfigType::Password;
    }
    // Connect types JSON Schema cannot tell apart (CLASS vs STRING, SHORT vs INT).
    match prop.get("x-connect-type").and_then(Value::as_str) {
        Some("CLASS") => return ConfigType::Class,
        Some("SHORT") => return ConfigType::Short,
        Some("INT") => return ConfigType::Int,
        Some("LIST") => return ConfigType::List,
        _ => {}
    }
    let ty = match prop.get("type") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("string")
            .to_string(),
        _ if enum_values(prop, defs).is_some_and(|v| !v.is_empty()) => "string".into(),
        _ => "string".into(),
    };
    match ty.as_str() {
        "boolean" => ConfigType::Boolean,
        "integer" => match prop.get("format").and_then(Value::as_str) {
            Some("int32" | "uint16" | "uint8" | "int16" | "int8") => ConfigType::Int,
            _ => ConfigType::Long,
        },
        "number" => ConfigType::Double,
        "array" => ConfigType::List,
        _ => ConfigType::String,
    }
}

/// The values a schema `enum` (or `oneOf` of consts) allows.
fn enum_values(prop: &Value, _defs: &Value) -> Option<Vec<String>> {
    if let Some(values) = prop.get("enum").and_then(Value::as_array) {
        return Some(
            values
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
        );
    }
    // schemars writes documented variants as `const`s and groups the
    // undocumented ones into one `enum`.
    prop.get("oneOf").and_then(Value::as_array).map(|one_of| {
        one_of
            .iter()
            .flat_map(|v| {
                let consts = v.get("const").into_iter();
                let enums = v
                    .get("enum")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten();
                consts.chain(enums)
            })
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    })
}

/// Values a key suggests without limiting itself to them.
fn suggested_values(prop: &Value) -> Option<Vec<String>> {
    prop.get("x-recommended-values")
        .and_then(Value::as_array)
        .map(|values| {
            values
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
}

fn default_string(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => Some(
            items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| i.to_string())
                })
                .collect::<Vec<_>>()
                .join(","),
        ),
        other => Some(other.to_string()),
    }
}

/// A config as Connect takes it: string values; a number or boolean is
/// taken as its text (`"tasks.max": 1`); `null` means "remove" in a PATCH
/// and is refused elsewhere.
#[derive(Debug, Clone, Default, PartialEq, JsonSchema)]
#[schemars(
    with = "BTreeMap<String, Option<String>>",
    extend("additionalProperties" = {"type": ["string", "number", "boolean", "null"]})
)]
pub struct ConfigValues(pub Vec<(String, Option<String>)>);

impl ConfigValues {
    /// The config, refusing `null` values (only a PATCH may remove keys).
    pub fn into_config(self) -> Result<ConfigMap, NullValue> {
        self.0
            .into_iter()
            .map(|(k, v)| v.map(|v| (k.clone(), v)).ok_or(NullValue(k)))
            .collect()
    }
}

/// A `null` config value where no key may be removed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid value for config \"{0}\": expected a string, got null")]
pub struct NullValue(pub String);

impl<'de> serde::Deserialize<'de> for ConfigValues {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{self, MapAccess, Visitor};
        use std::fmt;
        struct Values;
        impl<'de> Visitor<'de> for Values {
            type Value = ConfigValues;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object of string values")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<ConfigValues, M::Error> {
                let mut values = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Value>()? {
                    let value = match value {
                        Value::Null => None,
                        Value::String(s) => Some(s),
                        Value::Number(n) => Some(n.to_string()),
                        Value::Bool(b) => Some(b.to_string()),
                        other => {
                            return Err(de::Error::custom(format!(
                                "Invalid value for config \"{key}\": expected a string, got {}",
                                json_kind(&other)
                            )));
                        }
                    };
                    values.push((key, value));
                }
                Ok(ConfigValues(values))
            }
        }
        d.deserialize_map(Values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, JsonSchema)]
    #[allow(dead_code)]
    enum Mode {
        #[serde(rename = "fast")]
        Fast,
        #[serde(rename = "safe")]
        Safe,
    }

    /// Some variants documented, some not: schemars mixes `const`s and an `enum`.
    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(rename_all = "lowercase")]
    #[allow(dead_code)]
    enum Level {
        /// Picked for you.
        Auto,
        Low,
        High,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct WithLevel {
        #[serde(default = "default_level")]
        level: Level,
    }
    fn default_level() -> Level {
        Level::Auto
    }

    #[test]
    fn every_variant_is_allowed_when_only_some_are_documented() {
        let def = ConfigDef::from_schema::<WithLevel>("Levels");
        for ok in ["auto", "low", "high"] {
            assert!(def.validate(&map(&[("level", ok)])).is_empty(), "{ok}");
        }
        let issues = def.validate(&map(&[("level", "medium")]));
        assert_eq!(issues.len(), 1, "{issues:?}");
        let message = issues[0].to_string();
        for named in ["auto", "low", "high"] {
            assert!(message.contains(named), "{message}");
        }
    }

    /// A test config.
    #[derive(Debug, Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Sample {
        /// Where to write.
        #[serde(rename = "target.url")]
        url: String,
        /// How many at once.
        #[serde(rename = "batch.size", default = "default_batch")]
        batch: u32,
        /// Secret.
        #[serde(rename = "api.key")]
        #[schemars(extend("writeOnly" = true))]
        api_key: Option<String>,
        #[serde(rename = "fields", default)]
        fields: Vec<String>,
        #[serde(rename = "mode", default = "default_mode")]
        mode: Mode,
        #[serde(rename = "enabled", default)]
        enabled: bool,
    }
    fn default_batch() -> u32 {
        64
    }
    fn default_mode() -> Mode {
        Mode::Safe
    }

    fn map(pairs: &[(&str, &str)]) -> ConfigMap {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn schema_gives_connect_definitions() {
        let def = ConfigDef::from_schema::<Sample>("Sample");
        let url = def.key("target.url").unwrap();
        assert!(url.required);
        assert_eq!(url.documentation, "Where to write.");
        let batch = def.key("batch.size").unwrap();
        assert!(!batch.required);
        assert_eq!(batch.kind, ConfigType::Long);
        assert_eq!(batch.default_value.as_deref(), Some("64"));
        assert_eq!(def.key("api.key").unwrap().kind, ConfigType::Password);
        assert_eq!(def.key("fields").unwrap().kind, ConfigType::List);
        assert_eq!(
            def.key("mode").unwrap().recommended_values,
            vec!["fast", "safe"]
        );
        assert_eq!(def.key("enabled").unwrap().kind, ConfigType::Boolean);
    }

    #[test]
    fn every_problem_is_reported() {
        let def = ConfigDef::from_schema::<Sample>("Sample");
        let issues = def.validate(&map(&[
            ("batch.size", "many"),
            ("mode", "reckless"),
            ("enabled", "yes"),
        ]));
        let keys: Vec<_> = issues.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, vec!["target.url", "batch.size", "mode", "enabled"]);
    }

    #[test]
    fn parses_strings_into_the_typed_struct() {
        let def = ConfigDef::from_schema::<Sample>("Sample");
        let parsed: Sample = def
            .parse(&map(&[
                ("target.url", "http://x"),
                ("fields", "a, b,c"),
                ("mode", "fast"),
                ("enabled", "TRUE"),
            ]))
            .unwrap();
        assert_eq!(parsed.batch, 64);
        assert_eq!(parsed.fields, vec!["a", "b", "c"]);
        assert!(matches!(parsed.mode, Mode::Fast));
        assert!(parsed.enabled);
        let err = def
            .parse::<Sample>(&map(&[("target.url", "x"), ("batch.size", "-1")]))
            .unwrap_err();
        assert_eq!(err[0].key, "batch.size");
    }
}
