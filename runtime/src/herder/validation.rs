//! Connect's validation response (`PUT /connector-plugins/{p}/config/validate`)
//! and the masking of secrets in everything the API returns.

use connect_api::{ConfigDef, ConfigKey, ConfigMap, ConfigType, SinkConnectorPlugin};
use serde::Serialize;

use crate::connector_config::full_def;

/// Connect's `ConfigKeyInfo`.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigKeyInfo {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ConfigType,
    pub required: bool,
    pub default_value: Option<String>,
    pub importance: connect_api::Importance,
    pub documentation: String,
    pub group: String,
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
            group: k.group.clone(),
            width: "NONE",
            display_name: k.name.clone(),
            dependents: Vec::new(),
            order: k.order,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ConfigValueInfo {
    pub name: String,
    pub value: Option<String>,
    pub recommended_values: Vec<String>,
    pub errors: Vec<String>,
    pub visible: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConfigInfo {
    pub definition: ConfigKeyInfo,
    pub value: ConfigValueInfo,
}

/// Connect's `ConfigInfos`.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigInfos {
    pub name: String,
    pub error_count: usize,
    pub groups: Vec<String>,
    pub configs: Vec<ConfigInfo>,
}

/// The validation report for `config`; `issues` come from the full
/// validation (types, required keys, cross-key checks, connector checks).
pub fn config_infos(
    plugin: &dyn SinkConnectorPlugin,
    config: &ConfigMap,
    issues: &[connect_api::ConfigIssue],
) -> ConfigInfos {
    let def = full_def(plugin);
    let mut groups: Vec<String> = Vec::new();
    for key in &def.keys {
        if !groups.contains(&key.group) {
            groups.push(key.group.clone());
        }
    }
    let mut configs: Vec<ConfigInfo> = def
        .keys
        .iter()
        .map(|key| ConfigInfo {
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
                    .or_else(|| key.default_value.clone()),
                recommended_values: key.recommended_values.clone(),
                errors: issues
                    .iter()
                    .filter(|i| i.key == key.name)
                    .map(|i| i.message.clone())
                    .collect(),
                visible: true,
            },
        })
        .collect();
    // Problems not tied to a defined key still count and are shown.
    for issue in issues.iter().filter(|i| def.key(&i.key).is_none()) {
        configs.push(ConfigInfo {
            definition: ConfigKeyInfo::from(&ConfigKey {
                name: issue.key.clone(),
                kind: ConfigType::String,
                required: false,
                default_value: None,
                importance: connect_api::Importance::Low,
                documentation: String::new(),
                group: "Common".into(),
                order: -1,
                recommended_values: Vec::new(),
                min: None,
                max: None,
            }),
            value: ConfigValueInfo {
                name: issue.key.clone(),
                value: config.get(&issue.key).cloned(),
                recommended_values: Vec::new(),
                errors: vec![issue.message.clone()],
                visible: true,
            },
        });
    }
    ConfigInfos {
        name: plugin.class_name().to_string(),
        error_count: issues.len(),
        groups,
        configs,
    }
}

/// What the API shows instead of a secret.
pub const HIDDEN: &str = "[hidden]";

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
