//! Connect's validation response (`PUT /connector-plugins/{p}/config/validate`)
//! and the masking of secrets in everything the API returns.

use connect_api::{ConfigDef, ConfigIssue, ConfigKey, ConfigMap, ConfigType, SinkConnectorPlugin};
use serde::Serialize;

use crate::connector_config::{def_for, sink_connector_def};
use crate::converters;

/// Connect's `ConfigKeyInfo`.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ConfigKeyInfo {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ConfigType,
    pub required: bool,
    pub default_value: Option<String>,
    pub importance: connect_api::Importance,
    pub documentation: String,
    /// Null for keys in no group, as Connect shows them.
    pub group: Option<String>,
    pub width: &'static str,
    pub display_name: String,
    pub dependents: Vec<String>,
    pub order: i32,
}

impl From<&ConfigKey> for ConfigKeyInfo {
    fn from(k: &ConfigKey) -> Self {
        Self {
            name: k.name.clone(),
            kind: k.kind,
            required: k.required,
            default_value: k.default_value.clone(),
            importance: k.importance,
            documentation: k.documentation.clone(),
            group: (!k.group.is_empty()).then(|| k.group.clone()),
            width: k.width,
            display_name: k.display_name.clone(),
            dependents: Vec::new(),
            order: k.order,
        }
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ConfigValueInfo {
    pub name: String,
    pub value: Option<String>,
    pub recommended_values: Vec<String>,
    pub errors: Vec<String>,
    pub visible: bool,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ConfigInfo {
    pub definition: ConfigKeyInfo,
    pub value: ConfigValueInfo,
}

/// Connect's `ConfigInfos`.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ConfigInfos {
    pub name: String,
    pub error_count: usize,
    pub groups: Vec<String>,
    pub configs: Vec<ConfigInfo>,
}

/// Everything a validation report shows for `config`, as Connect's
/// `AbstractHerder.validateConnectorConfig` does: the sink keys and the
/// plugin's, the keys of each transformation and predicate alias, each
/// `consumer.override.*` key given, and the settings of the
/// converters the config names (prefixed, e.g. `value.converter.schemas.enable`).
fn report_def(plugin: &dyn SinkConnectorPlugin, config: &ConfigMap) -> ConfigDef {
    let mut def = def_for(plugin, config);
    def.keys.extend(crate::transforms::alias_keys(config));
    for key in config.keys() {
        if let Some(client_key) = key.strip_prefix("consumer.override.") {
            let mut entry = ConfigKey::plain(key, "");
            entry.display_name = client_key.to_string();
            def.keys.push(entry);
        }
    }
    def
}

/// The validation report for `config`; `issues` come from the full
/// validation (types, required keys, cross-key checks, connector checks).
pub fn config_infos(
    plugin: &dyn SinkConnectorPlugin,
    config: &ConfigMap,
    issues: &[connect_api::ConfigIssue],
) -> ConfigInfos {
    let def = report_def(plugin, config);
    let mut groups: Vec<String> = Vec::new();
    for key in def.keys.iter().filter(|k| !k.group.is_empty()) {
        if !groups.contains(&key.group) {
            groups.push(key.group.clone());
        }
    }
    // Problems not tied to a defined key come first, as in Connect.
    let mut configs: Vec<ConfigInfo> = issues
        .iter()
        .filter(|i| def.key(&i.key).is_none())
        .map(|issue| ConfigInfo {
            definition: ConfigKeyInfo::from(&ConfigKey::plain(&issue.key, "")),
            value: ConfigValueInfo {
                name: issue.key.clone(),
                value: config.get(&issue.key).cloned(),
                recommended_values: Vec::new(),
                errors: vec![issue.message.clone()],
                visible: true,
            },
        })
        .collect();
    configs.extend(def.keys.iter().map(|key| {
        ConfigInfo {
            definition: key.into(),
            value: ConfigValueInfo {
                name: key.name.clone(),
                value: config
                    .get(&key.name)
                    .map(|v| {
                        if key.kind == ConfigType::Password {
                            HIDDEN.to_string()
                        } else {
                            v.clone()
                        }
                    })
                    .or_else(|| converter_type(&key.name))
                    .or_else(|| key.default_value.clone()),
                recommended_values: key.recommended_values.clone(),
                errors: issues
                    .iter()
                    .filter(|i| i.key == key.name)
                    .map(|i| i.message.clone())
                    .collect(),
                visible: true,
            },
        }
    }));
    ConfigInfos {
        name: plugin.class_name().to_string(),
        error_count: issues.len(),
        groups,
        configs,
    }
}

/// Connect fills in `converter.type` from where the converter is used.
fn converter_type(key: &str) -> Option<String> {
    key.strip_suffix(".converter.converter.type")
        .map(str::to_string)
}

/// `GET /connector-plugins/{p}/config` for a connector: its own keys, then
/// Connect's sink keys it does not define itself.
pub fn plugin_config_keys(plugin: &dyn SinkConnectorPlugin) -> Vec<ConfigKeyInfo> {
    let own = plugin.config_def();
    let framework = sink_connector_def()
        .keys
        .into_iter()
        .filter(|k| own.key(&k.name).is_none());
    own.keys
        .iter()
        .cloned()
        .chain(framework)
        .map(|k| ConfigKeyInfo::from(&k))
        .collect()
}

/// `GET /connector-plugins/{converter}/config`: the converter's own keys.
pub fn converter_config_keys(class: &str) -> Option<Vec<ConfigKeyInfo>> {
    converters::config_def(class).map(|def| def.keys.iter().map(ConfigKeyInfo::from).collect())
}

pub use crate::config_provider::HIDDEN;

/// Replace values of PASSWORD settings with `[hidden]`.
pub fn mask(def: &ConfigDef, config: &ConfigMap) -> ConfigMap {
    config
        .iter()
        .map(|(k, v)| {
            let secret = def
                .key(k)
                .is_some_and(|key| key.kind == ConfigType::Password);
            (
                k.clone(),
                if secret {
                    HIDDEN.to_string()
                } else {
                    v.clone()
                },
            )
        })
        .collect()
}

/// Put back the stored secret wherever `incoming` carries the mask for a
/// PASSWORD setting: a client that GETs a config and PUTs it back (kcctl's
/// `patch`) must not replace the secret with the literal mask. A mask with
/// no stored value to stand for stays, and validation refuses it.
pub fn restore_secrets(def: &ConfigDef, incoming: &mut ConfigMap, stored: Option<&ConfigMap>) {
    for (key, value) in incoming.iter_mut() {
        let secret = def.key(key).is_some_and(|k| k.kind == ConfigType::Password);
        if secret
            && value == HIDDEN
            && let Some(real) = stored.and_then(|s| s.get(key))
        {
            value.clone_from(real);
        }
    }
}

/// A PASSWORD setting whose value is the mask itself: never stored.
pub fn masked_secret_issues(def: &ConfigDef, config: &ConfigMap) -> Vec<ConfigIssue> {
    def.keys
        .iter()
        .filter(|k| k.kind == ConfigType::Password)
        .filter(|k| config.get(&k.name).is_some_and(|v| v == HIDDEN))
        .map(|k| {
            ConfigIssue::new(
                &k.name,
                format!(
                    "The value {HIDDEN} is what the API shows in place of a secret and there is no stored secret to keep; give the secret itself"
                ),
            )
        })
        .collect()
}
