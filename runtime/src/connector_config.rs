//! Settings every sink connector has (Connect's `ConnectorConfig`,
//! `SinkConnectorConfig` and error-handling keys), their validation, and the
//! typed view the runtime works from.

use std::time::Duration;

use connect_api::{ConfigDef, ConfigIssue, ConfigMap, SinkConnectorPlugin};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::converters;
use crate::worker_config::{WorkerConfig, strip_prefix};

/// Connect's common connector settings (`ConnectorConfig` and
/// `SinkConnectorConfig`), with the types, importance, display names,
/// groups and orders Connect's REST API shows for them.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct CommonConfig {
    /// Globally unique name to use for this connector.
    #[schemars(extend("x-importance" = "HIGH", "x-width" = "MEDIUM", "x-display-name" = "Connector name", "x-order" = 1))]
    pub name: String,
    /// Name or alias of the class for this connector.
    #[serde(rename = "connector.class")]
    #[schemars(extend("x-importance" = "HIGH", "x-width" = "LONG", "x-display-name" = "Connector class", "x-order" = 2))]
    pub connector_class: String,
    /// Maximum number of tasks to use for this connector.
    // At most MAX_TASKS: a connector makes a config per task up front, and
    // `tasks.max` = 2147483647 made the worker abort on allocation (found
    // by tests/rest_fuzz.rs).
    #[serde(rename = "tasks.max", default = "one")]
    #[schemars(range(min = 1, max = MAX_TASKS), extend("x-connect-type" = "INT", "x-importance" = "HIGH", "x-width" = "SHORT", "x-display-name" = "Tasks max", "x-order" = 3))]
    pub tasks_max: u32,
    /// (Deprecated) Whether to enforce that the tasks.max property is respected by the connector. This host's connectors never create more tasks than tasks.max, so it always holds.
    #[serde(rename = "tasks.max.enforce", default = "yes")]
    #[schemars(extend("x-importance" = "LOW", "x-width" = "SHORT", "x-display-name" = "Enforce tasks max", "x-order" = 4))]
    pub tasks_max_enforce: bool,
    /// Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka. This controls the format of the keys in messages; overrides the worker's.
    #[serde(rename = "key.converter", default)]
    #[schemars(extend("x-connect-type" = "CLASS", "x-importance" = "LOW", "x-width" = "SHORT", "x-display-name" = "Key converter class", "x-order" = 5))]
    pub key_converter: Option<String>,
    /// Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka. This controls the format of the values in messages; overrides the worker's.
    #[serde(rename = "value.converter", default)]
    #[schemars(extend("x-connect-type" = "CLASS", "x-importance" = "LOW", "x-width" = "SHORT", "x-display-name" = "Value converter class", "x-order" = 6))]
    pub value_converter: Option<String>,
    /// HeaderConverter class used to convert between Kafka Connect format and the serialized form that is written to Kafka. Sinks on this host receive header values as the raw bytes.
    #[serde(rename = "header.converter", default)]
    #[schemars(extend("x-connect-type" = "CLASS", "x-importance" = "LOW", "x-width" = "SHORT", "x-display-name" = "Header converter class", "x-order" = 7))]
    pub header_converter: Option<String>,
    /// Aliases for the transformations to be applied to records.
    #[serde(default)]
    #[schemars(extend("x-importance" = "LOW", "x-width" = "LONG", "x-display-name" = "Transforms", "x-group" = "Transforms", "x-order" = 8))]
    pub transforms: Vec<String>,
    /// Aliases for the predicates used by transformations.
    #[serde(default)]
    #[schemars(extend("x-importance" = "LOW", "x-width" = "LONG", "x-display-name" = "Predicates", "x-group" = "Predicates", "x-order" = 9))]
    pub predicates: Vec<String>,
    /// The action that Connect should take on the connector when changes in external configuration providers result in a change in the connector's configuration properties.
    #[serde(rename = "config.action.reload", default)]
    #[schemars(extend("x-importance" = "LOW", "x-width" = "MEDIUM", "x-display-name" = "Reload Action", "x-order" = 10))]
    pub config_action_reload: ReloadAction,
    /// List of topics to consume, separated by commas.
    #[serde(default)]
    #[schemars(extend("x-importance" = "HIGH", "x-width" = "LONG", "x-display-name" = "Topics", "x-order" = 4))]
    pub topics: Vec<String>,
    /// Regular expression giving topics to consume. Only one of topics or topics.regex should be specified.
    #[serde(rename = "topics.regex", default)]
    #[schemars(extend("default" = "", "x-importance" = "HIGH", "x-width" = "LONG", "x-display-name" = "Topics regex", "x-order" = 4))]
    pub topics_regex: Option<String>,
}

/// Connect's `config.action.reload`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReloadAction {
    None,
    #[default]
    Restart,
}

/// How failures are tolerated, retried, logged and dead-lettered.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct ErrorHandlingConfig {
    /// The maximum duration in milliseconds that a failed operation will be reattempted. The default is 0, which means no retries will be attempted. Use -1 for infinite retries.
    #[serde(rename = "errors.retry.timeout", default)]
    #[schemars(range(min = -1), extend("x-width" = "MEDIUM", "x-display-name" = "Retry Timeout for Errors", "x-order" = 1))]
    pub retry_timeout_ms: i64,
    /// The maximum duration in milliseconds between consecutive retry attempts. Jitter will be added to the delay once this limit is reached to prevent thundering herd issues.
    #[serde(rename = "errors.retry.delay.max.ms", default = "sixty_seconds")]
    #[schemars(range(min = 1), extend("x-width" = "MEDIUM", "x-display-name" = "Maximum Delay Between Retries for Errors", "x-order" = 2))]
    pub retry_delay_max_ms: u64,
    /// Behavior for tolerating errors during connector operation. 'none' is the default value and signals that any error will result in an immediate connector task failure; 'all' changes the behavior to skip over problematic records (to the dead-letter queue when one is set).
    #[serde(rename = "errors.tolerance", default)]
    #[schemars(extend("x-width" = "SHORT", "x-display-name" = "Error Tolerance", "x-order" = 3))]
    pub tolerance: Tolerance,
    /// If true, write each error and the details of the failed operation and problematic record to the Connect application log.
    #[serde(rename = "errors.log.enable", default)]
    #[schemars(extend("x-width" = "SHORT", "x-display-name" = "Log Errors", "x-order" = 4))]
    pub log_enable: bool,
    /// Whether to include in the log the Connect record that resulted in a failure.
    #[serde(rename = "errors.log.include.messages", default)]
    #[schemars(extend("x-width" = "SHORT", "x-display-name" = "Log Error Details", "x-order" = 5))]
    pub log_include_messages: bool,
    /// The name of the topic to be used as the dead letter queue (DLQ) for records that error while being processed by this sink connector or its transformations or converters. The topic name is blank by default, which means that no messages are to be recorded in the DLQ.
    #[serde(rename = "errors.deadletterqueue.topic.name", default)]
    #[schemars(extend("x-width" = "MEDIUM", "x-display-name" = "Dead Letter Queue Topic Name", "x-order" = 6))]
    pub dlq_topic: String,
    /// Replication factor used to create the dead letter queue topic when it doesn't already exist.
    #[serde(
        rename = "errors.deadletterqueue.topic.replication.factor",
        default = "three"
    )]
    #[schemars(range(min = 1, max = 32767), extend("x-connect-type" = "SHORT", "x-width" = "MEDIUM", "x-display-name" = "Dead Letter Queue Topic Replication Factor", "x-order" = 7))]
    pub dlq_replication_factor: i32,
    /// If true, add headers containing error context to the messages written to the dead letter queue. To avoid clashing with headers from the original record, all error context header keys will start with __connect.errors.
    #[serde(rename = "errors.deadletterqueue.context.headers.enable", default)]
    #[schemars(extend("x-width" = "MEDIUM", "x-display-name" = "Enable Error Context Headers", "x-order" = 8))]
    pub dlq_context_headers: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Tolerance {
    #[default]
    #[serde(rename = "none")]
    None,
    #[serde(rename = "all")]
    All,
}

fn yes() -> bool {
    true
}
fn one() -> u32 {
    1
}
fn three() -> i32 {
    3
}
fn sixty_seconds() -> u64 {
    60_000
}

impl ErrorHandlingConfig {
    pub fn retry_limit(&self) -> crate::errors::RetryLimit {
        crate::errors::RetryLimit::from_timeout_ms(self.retry_timeout_ms)
    }
    pub fn retry_delay_max(&self) -> Duration {
        Duration::from_millis(self.retry_delay_max_ms)
    }
}

/// What a sink task subscribes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subscription {
    Topics(Vec<String>),
    Regex(String),
}

/// A validated connector config, typed.
#[derive(Debug, Clone)]
pub struct SinkConnectorConfig {
    pub common: CommonConfig,
    pub errors: ErrorHandlingConfig,
    pub subscription: Subscription,
    pub raw: ConfigMap,
}

pub fn common_def() -> ConfigDef {
    ConfigDef::from_schema::<CommonConfig>("Common")
}

pub fn error_handling_def() -> ConfigDef {
    ConfigDef::from_schema::<ErrorHandlingConfig>("Error Handling")
}

/// Connect's `SinkConnectorConfig.configDef()`, in Connect's key order:
/// the connector keys, the error keys, then the sink's topics and DLQ keys.
pub fn sink_connector_def() -> ConfigDef {
    let is_sink_only =
        |name: &str| name.starts_with("topics") || name.starts_with("errors.deadletterqueue.");
    let (common, topics): (Vec<_>, Vec<_>) = common_def()
        .keys
        .into_iter()
        .partition(|k| !is_sink_only(&k.name));
    let (errors, dlq): (Vec<_>, Vec<_>) = error_handling_def()
        .keys
        .into_iter()
        .partition(|k| !is_sink_only(&k.name));
    ConfigDef {
        keys: [common, errors, topics, dlq].concat(),
    }
}

/// All definitions of a connector: Connect's sink keys, then its own.
pub fn full_def(plugin: &dyn SinkConnectorPlugin) -> ConfigDef {
    sink_connector_def().with(plugin.config_def())
}

/// [`full_def`] and the settings of the converters `config` names, under
/// their prefixes (`value.converter.basic.auth.user.info`): what a
/// validation report lists, and which of `config`'s values are secrets.
pub fn def_for(plugin: &dyn SinkConnectorPlugin, config: &ConfigMap) -> ConfigDef {
    let mut def = full_def(plugin);
    for which in ["key.converter", "value.converter", "header.converter"] {
        if let Some(converter) = config.get(which).and_then(|c| converters::config_def(c)) {
            def.keys.extend(converter.keys.into_iter().map(|mut k| {
                k.name = format!("{which}.{}", k.name);
                k
            }));
        }
    }
    def
}

impl SinkConnectorConfig {
    /// Every problem of `config` for `plugin` against `worker`; empty when valid.
    pub fn validate(
        config: &ConfigMap,
        plugin: &dyn SinkConnectorPlugin,
        worker: &WorkerConfig,
    ) -> Vec<ConfigIssue> {
        let mut issues = common_def().validate(config);
        issues.extend(error_handling_def().validate(config));
        issues.extend(plugin.validate(config));
        issues.extend(cross_checks(config, worker));
        issues
    }

    pub fn parse(config: &ConfigMap) -> Result<Self, Vec<ConfigIssue>> {
        let common: CommonConfig = common_def().parse(config)?;
        let errors: ErrorHandlingConfig = error_handling_def().parse(config)?;
        let subscription = match (&common.topics_regex, common.topics.is_empty()) {
            (Some(regex), true) if !regex.is_empty() => Subscription::Regex(regex.clone()),
            (None, false) => Subscription::Topics(common.topics.clone()),
            (Some(r), false) if r.is_empty() => Subscription::Topics(common.topics.clone()),
            _ => return Err(vec![topics_issue()]),
        };
        Ok(Self {
            common,
            errors,
            subscription,
            raw: config.clone(),
        })
    }

    /// Converter settings: the worker's, overlaid by the connector's.
    pub fn converter(
        &self,
        worker: &WorkerConfig,
        which: &str,
    ) -> Result<std::sync::Arc<dyn converters::Converter>, converters::ConverterConfigError> {
        let (class, props) = converter_settings(&self.raw, worker, which);
        let converter = converters::create(&class, &props)?;
        let unread = converters::unread_settings(&class, &props);
        if !unread.is_empty() {
            // Connect ignores them silently; a user moving a config should see it.
            tracing::warn!(
                "{which} {class}: settings this host does not read, ignored: {}",
                unread.join(", ")
            );
        }
        Ok(converter)
    }
}

/// The converter class named for `which` and its settings: the worker's,
/// overlaid by the connector's.
fn converter_settings(
    config: &ConfigMap,
    worker: &WorkerConfig,
    which: &str,
) -> (String, ConfigMap) {
    let class = config
        .get(which)
        .or_else(|| worker.settings.get(which))
        .cloned()
        .unwrap_or_else(|| "org.apache.kafka.connect.json.JsonConverter".to_string());
    let mut props = worker.with_prefix(&format!("{which}."));
    props.extend(strip_prefix(config, &format!("{which}.")));
    let converter_type = which.strip_suffix(".converter").unwrap_or(which);
    props.insert("converter.type".to_string(), converter_type.to_string());
    (class, props)
}

fn topics_issue() -> ConfigIssue {
    ConfigIssue::new(
        "topics",
        "Must configure one of topics or topics.regex, and not both",
    )
}

fn cross_checks(config: &ConfigMap, worker: &WorkerConfig) -> Vec<ConfigIssue> {
    let mut issues = Vec::new();
    let has_topics = config.get("topics").is_some_and(|t| !t.trim().is_empty());
    let regex = config.get("topics.regex").filter(|r| !r.trim().is_empty());
    if has_topics == regex.is_some() {
        issues.push(topics_issue());
    }
    if let Some(r) = regex
        && let Err(e) = regex::Regex::new(r)
    {
        issues.push(ConfigIssue::new(
            "topics.regex",
            format!("Invalid regular expression: {e}"),
        ));
    }
    if let Some(dlq) = config
        .get("errors.deadletterqueue.topic.name")
        .filter(|d| !d.trim().is_empty())
    {
        let consumes_dlq = config
            .get("topics")
            .is_some_and(|t| t.split(',').any(|t| t.trim() == dlq.trim()))
            || regex
                .and_then(|r| regex::Regex::new(&format!("^(?:{r})$")).ok())
                .is_some_and(|r| r.is_match(dlq));
        if consumes_dlq {
            issues.push(ConfigIssue::new(
                "errors.deadletterqueue.topic.name",
                format!(
                    "The DLQ topic '{dlq}' may not be included in the list of topics to consume"
                ),
            ));
        }
    }
    for which in ["key.converter", "value.converter"] {
        let (class, props) = converter_settings(config, worker, which);
        if let Err(e) = converters::create(&class, &props) {
            issues.push(ConfigIssue::new(which, e.to_string()));
        }
    }
    if let Some(class) = config.get("header.converter")
        && !converters::is_header_converter(class)
    {
        issues.push(ConfigIssue::new(
            "header.converter",
            format!(
                "Invalid value {class} for configuration header.converter: Class {class} could not be found."
            ),
        ));
    }
    // Every alias, class and setting of the chain; classes this host cannot
    // run are refused by name, never accepted and ignored.
    issues.extend(crate::transforms::validate(config));
    if let Some(Err(e)) = config.get("name").map(|n| check_connector_name(n)) {
        issues.push(ConfigIssue::new("name", e.to_string()));
    }
    issues
}

/// The most tasks one connector may ask for (`tasks.max`); Connect sets no
/// bound, but every task is a consumer of its own on this worker.
pub const MAX_TASKS: u32 = 1000;

/// The one rule for connector names, whatever their source (REST, a
/// `connectors.d/` file, the stored configs): every name must be one the
/// REST paths can address and the file store can hold.
pub fn check_connector_name(name: &str) -> Result<(), InvalidName> {
    if name.trim().is_empty() {
        return Err(InvalidName::Empty);
    }
    if name.contains('/') || name.chars().any(char::is_control) {
        return Err(InvalidName::Character(name.escape_default().to_string()));
    }
    if name == "." || name == ".." {
        return Err(InvalidName::Unaddressable(name.to_string()));
    }
    if name.len() > 249 {
        return Err(InvalidName::TooLong(name.len()));
    }
    Ok(())
}

/// Why a connector name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidName {
    #[error("Connector name must not be empty")]
    Empty,
    #[error("Connector name '{0}' may not contain '/' or control characters")]
    Character(String),
    #[error("Connector name '{0}' cannot be addressed in a REST path")]
    Unaddressable(String),
    #[error("Connector name is {0} bytes long; at most 249 are allowed")]
    TooLong(usize),
}

#[cfg(test)]
mod tests {
    use super::check_connector_name;

    #[test]
    fn one_rule_for_connector_names() {
        for good in [
            "orders-file",
            "a.b",
            "with space",
            "ünïcode",
            &"x".repeat(249),
        ] {
            assert!(check_connector_name(good).is_ok(), "{good}");
        }
        for bad in ["", "  ", "a/b", "..", ".", "tab\there", &"x".repeat(250)] {
            assert!(check_connector_name(bad).is_err(), "{bad:?}");
        }
    }
}
