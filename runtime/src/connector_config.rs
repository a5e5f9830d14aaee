//! Settings every sink connector has (Connect's `ConnectorConfig`,
//! `SinkConnectorConfig` and error-handling keys), their validation, and the
//! typed view the runtime works from.

use std::time::Duration;

use connect_api::{ConfigDef, ConfigIssue, ConfigMap, SinkConnectorPlugin};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::converters;
use crate::worker_config::{WorkerConfig, strip_prefix};

/// Connect's common connector settings.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct CommonConfig {
    /// Globally unique name to use for this connector.
    pub name: String,
    /// Name or alias of the class for this connector.
    #[serde(rename = "connector.class")]
    pub connector_class: String,
    /// Maximum number of tasks to use for this connector.
    #[serde(rename = "tasks.max", default = "one")]
    #[schemars(range(min = 1))]
    pub tasks_max: u32,
    /// List of topics to consume, separated by commas.
    #[serde(default)]
    pub topics: Vec<String>,
    /// Regular expression giving topics to consume. Exactly one of topics or topics.regex must be set.
    #[serde(rename = "topics.regex", default)]
    pub topics_regex: Option<String>,
    /// Converter class for record keys; overrides the worker's.
    #[serde(rename = "key.converter", default)]
    pub key_converter: Option<String>,
    /// Converter class for record values; overrides the worker's.
    #[serde(rename = "value.converter", default)]
    pub value_converter: Option<String>,
}

/// How failures are tolerated, retried, logged and dead-lettered.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct ErrorHandlingConfig {
    /// The maximum duration in milliseconds that a failed operation will be reattempted. 0 disables retries, -1 retries forever.
    #[serde(rename = "errors.retry.timeout", default)]
    #[schemars(range(min = -1))]
    pub retry_timeout_ms: i64,
    /// The maximum duration in milliseconds between consecutive retry attempts (capped exponential backoff with jitter).
    #[serde(rename = "errors.retry.delay.max.ms", default = "sixty_seconds")]
    #[schemars(range(min = 1))]
    pub retry_delay_max_ms: u64,
    /// Behavior for tolerating errors: 'none' fails the task at the first bad record; 'all' skips bad records (to the dead-letter queue when one is set).
    #[serde(rename = "errors.tolerance", default)]
    pub tolerance: Tolerance,
    /// If true, write each error and the details of the failed operation to the log.
    #[serde(rename = "errors.log.enable", default)]
    pub log_enable: bool,
    /// Whether to include the record's key and value in the error log.
    #[serde(rename = "errors.log.include.messages", default)]
    pub log_include_messages: bool,
    /// The name of the topic to be used as the dead letter queue (DLQ) for records that error while being processed. Empty disables it.
    #[serde(rename = "errors.deadletterqueue.topic.name", default)]
    pub dlq_topic: String,
    /// Replication factor used to create the dead letter queue topic when it doesn't already exist.
    #[serde(
        rename = "errors.deadletterqueue.topic.replication.factor",
        default = "three"
    )]
    #[schemars(range(min = 1, max = 32767))]
    pub dlq_replication_factor: i32,
    /// If true, add headers containing error context to the messages written to the dead letter queue.
    #[serde(rename = "errors.deadletterqueue.context.headers.enable", default)]
    pub dlq_context_headers: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum Tolerance {
    #[default]
    #[serde(rename = "none")]
    None,
    #[serde(rename = "all")]
    All,
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
    pub fn retry_timeout(&self) -> Option<Duration> {
        (self.retry_timeout_ms >= 0).then(|| Duration::from_millis(self.retry_timeout_ms as u64))
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

/// All definitions of a connector: common, error handling, then its own.
pub fn full_def(plugin: &dyn SinkConnectorPlugin) -> ConfigDef {
    common_def()
        .with(error_handling_def())
        .with(plugin.config_def())
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
    ) -> Result<std::sync::Arc<dyn converters::Converter>, String> {
        converter_for(&self.raw, worker, which)
    }
}

fn converter_for(
    config: &ConfigMap,
    worker: &WorkerConfig,
    which: &str,
) -> Result<std::sync::Arc<dyn converters::Converter>, String> {
    let class = config
        .get(which)
        .or_else(|| worker.settings.get(which))
        .cloned()
        .unwrap_or_else(|| "org.apache.kafka.connect.json.JsonConverter".to_string());
    let mut props = worker.with_prefix(&format!("{which}."));
    props.extend(strip_prefix(config, &format!("{which}.")));
    converters::create(&class, &props)
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
        if let Err(e) = converter_for(config, worker, which) {
            issues.push(ConfigIssue::new(which, e));
        }
    }
    if let Some(name) = config.get("name") {
        if name.trim().is_empty() {
            issues.push(ConfigIssue::new("name", "Connector name must not be empty"));
        } else if name.chars().any(|c| c.is_control()) {
            issues.push(ConfigIssue::new(
                "name",
                "Connector name must not contain control characters",
            ));
        }
    }
    issues
}
