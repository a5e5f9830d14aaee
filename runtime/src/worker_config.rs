//! Worker settings under Kafka Connect's names, read with the `config` crate
//! from a `.properties` file (Connect's format; `.json`/`.toml` work too) and
//! overridden by `CONNECT_*` environment variables as in Confluent's images.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use config::{Map, Source, Value, ValueKind};
use connect_api::ConfigMap;

/// A setting that cannot be used, named, so start-up can say what to fix.
#[derive(Debug, thiserror::Error)]
pub enum WorkerConfigError {
    #[error("cannot read worker config {path}: {message}")]
    File { path: String, message: String },
    #[error("invalid worker setting '{key}' {value}: {message}")]
    Invalid {
        key: String,
        value: String,
        message: String,
    },
}

/// Settings passed through to librdkafka or converters, by prefix.
const PASS_THROUGH_PREFIXES: &[&str] = &[
    "consumer.",
    "producer.",
    "admin.",
    "key.converter.",
    "value.converter.",
    "header.converter.",
];

/// Settings of Connect workers that this host accepts but has no use for,
/// so existing worker files start unchanged.
const IGNORED: &[&str] = &[
    "plugin.path",
    "offset.storage.file.filename",
    // Sink offsets live in each connector's consumer group.
    "offset.storage.topic",
    "offset.storage.replication.factor",
    "offset.storage.partitions",
    "header.converter",
    "internal.key.converter",
    "internal.value.converter",
    "rest.host.name",
    "config.providers",
];

/// Connect's Docker images read these two variables themselves
/// (`CONNECT_LOG4J_ROOT_LOGLEVEL`, `CONNECT_LOG4J_LOGGERS`); here they set
/// the log levels, as `/admin/loggers` would.
const LOG4J_ROOT: &str = "log4j.root.loglevel";
const LOG4J_LOGGERS: &str = "log4j.loggers";

/// Every setting this worker understands, with its default where it has one.
const KNOWN: &[(&str, Option<&str>)] = &[
    ("bootstrap.servers", Some("localhost:9092")),
    ("listeners", None),
    ("rest.port", None),
    ("rest.advertised.host.name", None),
    ("rest.advertised.port", None),
    ("rest.advertised.listener", None),
    ("group.id", None),
    (
        "key.converter",
        Some("org.apache.kafka.connect.json.JsonConverter"),
    ),
    (
        "value.converter",
        Some("org.apache.kafka.connect.json.JsonConverter"),
    ),
    ("offset.flush.interval.ms", Some("5000")),
    ("task.shutdown.graceful.timeout.ms", Some("5000")),
    ("connectors.dir", Some("connectors.d")),
    ("config.storage.file.filename", Some("connect-configs.json")),
    ("config.storage.topic", Some("connect-configs")),
    ("config.storage.replication.factor", Some("3")),
    ("status.storage.topic", Some("connect-status")),
    ("status.storage.replication.factor", Some("3")),
    ("status.storage.partitions", Some("5")),
    ("scheduled.rebalance.max.delay.ms", Some("10000")),
    ("client.id", None),
    ("topic.tracking.enable", Some("true")),
    ("topic.tracking.allow.reset", Some("true")),
    ("admin.listeners", None),
    ("access.control.allow.origin", Some("")),
    ("access.control.allow.methods", Some("")),
    ("rest.extension.classes", Some("")),
    (LOG4J_ROOT, None),
    (LOG4J_LOGGERS, None),
    ("log.format", Some("text")),
];

/// `log.format`: plain text for people, one JSON object per line for log
/// collectors (with the span fields: connector and task).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            _ => Err("must be 'text' or 'json'".into()),
        }
    }
}

/// Where the `/admin` endpoints are served (Connect's `admin.listeners`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminListeners {
    /// Not set: on the main listener.
    Main,
    /// Set to an empty value: nowhere.
    Disabled,
    /// Only on these `host:port` listeners, not on the main one.
    Separate(Vec<(String, u16)>),
}

/// Browsers from other origins (Connect's `access.control.allow.*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cors {
    /// `*` or a comma-separated list of origins.
    pub allow_origin: String,
    /// Methods a preflight allows; Connect's (Jetty's) default is GET, POST, HEAD.
    pub allow_methods: String,
}

/// Where a standalone worker keeps its connectors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandaloneSettings {
    /// `connectors.dir`: connector files applied at start.
    pub connectors_dir: PathBuf,
    /// `config.storage.file.filename`: configs and target states.
    pub config_storage_file: PathBuf,
}

/// Where the workers of one `group.id` keep their shared state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistributedSettings {
    pub group_id: String,
    pub config_storage_topic: String,
    pub config_storage_replication_factor: i32,
    pub status_storage_topic: String,
    pub status_storage_replication_factor: i32,
    pub status_storage_partitions: i32,
    /// How long a silent worker keeps its work before it is reassigned
    /// (`scheduled.rebalance.max.delay.ms`).
    pub rebalance_delay: Duration,
}

/// How this worker runs, decided by `group.id` as in Kafka Connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkerMode {
    Standalone(StandaloneSettings),
    Distributed(DistributedSettings),
}

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub bootstrap_servers: String,
    pub listen_host: String,
    pub listen_port: u16,
    /// `host:port` other workers and status reports name this worker by.
    pub worker_id: String,
    pub mode: WorkerMode,
    pub offset_flush_interval: Duration,
    pub task_shutdown_timeout: Duration,
    /// `topic.tracking.enable`: record and serve connectors' active topics.
    pub topic_tracking_enable: bool,
    /// `topic.tracking.allow.reset`: allow `PUT …/topics/reset`.
    pub topic_tracking_allow_reset: bool,
    pub admin_listeners: AdminListeners,
    /// `None` unless `access.control.allow.origin` is set.
    pub cors: Option<Cors>,
    /// Logger levels from `log4j.root.loglevel` and `log4j.loggers`, in
    /// order (`root` first).
    pub log_levels: Vec<(String, String)>,
    /// `log.format`: how log lines are written.
    pub log_format: LogFormat,
    /// Every setting as given, defaults filled in.
    pub settings: ConfigMap,
}

/// Settings of standalone mode only, and of distributed mode only.
const STANDALONE_ONLY: &[&str] = &["connectors.dir", "config.storage.file.filename"];
const DISTRIBUTED_ONLY: &[&str] = &[
    "config.storage.topic",
    "config.storage.replication.factor",
    "status.storage.topic",
    "status.storage.replication.factor",
    "status.storage.partitions",
    "scheduled.rebalance.max.delay.ms",
];

/// The settings given that belong to the other mode (they have no effect),
/// with the mode this worker runs in.
fn other_mode_settings(given: &ConfigMap) -> (Vec<&'static str>, &'static str) {
    let distributed = given.get("group.id").is_some_and(|g| !g.trim().is_empty());
    let (other, mode) = if distributed {
        (STANDALONE_ONLY, "distributed (group.id is set)")
    } else {
        (DISTRIBUTED_ONLY, "standalone (no group.id)")
    };
    let given = other.iter().copied().filter(|k| given.contains_key(*k));
    (given.collect(), mode)
}

/// Standalone unless `group.id` is set.
fn mode(settings: &ConfigMap) -> Result<WorkerMode, WorkerConfigError> {
    let Some(group_id) = settings.get("group.id").filter(|g| !g.trim().is_empty()) else {
        return Ok(WorkerMode::Standalone(StandaloneSettings::from_settings(
            settings,
        )));
    };
    let number = |key: &str| parse_num::<i32>(key, &settings[key]);
    Ok(WorkerMode::Distributed(DistributedSettings {
        group_id: group_id.clone(),
        config_storage_topic: settings["config.storage.topic"].clone(),
        config_storage_replication_factor: number("config.storage.replication.factor")?,
        status_storage_topic: settings["status.storage.topic"].clone(),
        status_storage_replication_factor: number("status.storage.replication.factor")?,
        status_storage_partitions: number("status.storage.partitions")?,
        rebalance_delay: Duration::from_millis(parse_num::<u64>(
            "scheduled.rebalance.max.delay.ms",
            &settings["scheduled.rebalance.max.delay.ms"],
        )?),
    }))
}

impl StandaloneSettings {
    /// The standalone settings of `settings` (defaults filled in).
    pub fn from_settings(settings: &ConfigMap) -> Self {
        let path = |key: &str| PathBuf::from(settings.get(key).map_or("", String::as_str));
        Self {
            connectors_dir: path("connectors.dir"),
            config_storage_file: path("config.storage.file.filename"),
        }
    }
}

impl WorkerConfig {
    /// Load from an optional file plus `CONNECT_*` variables from `env`.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, WorkerConfigError> {
        // The config crate reads the sources; they are merged here, in
        // order (file, then environment), because its own merge re-nests
        // dotted keys and would drop `key.converter.schemas.enable` under
        // `key.converter`.
        let mut sources: Vec<Box<dyn Source + Send + Sync>> = Vec::new();
        if let Some(path) = file {
            let display = path.display().to_string();
            if !path.is_file() {
                return Err(WorkerConfigError::File {
                    path: display,
                    message: "no such file".into(),
                });
            }
            match path.extension().and_then(|e| e.to_str()) {
                Some("json") | Some("toml") => sources.push(Box::new(config::File::from(path))),
                _ => sources.push(Box::new(PropertiesFile::read(path)?)),
            }
        }
        sources.push(Box::new(ConfluentEnv::from_vars(env)));
        let mut settings = ConfigMap::new();
        for source in sources {
            let entries = source.collect().map_err(|e| WorkerConfigError::File {
                path: file.map(|p| p.display().to_string()).unwrap_or_default(),
                message: e.to_string(),
            })?;
            for (key, value) in entries {
                flatten_into(&mut settings, key, value);
            }
        }
        Self::from_settings(settings)
    }

    /// The settings given that this worker does not know (it warns about
    /// each and starts, as Connect does); deployment checks use it.
    pub fn unknown_settings(settings: &ConfigMap) -> Vec<&str> {
        settings
            .keys()
            .map(String::as_str)
            .filter(|key| {
                !(KNOWN.iter().any(|(k, _)| k == key)
                    || IGNORED.contains(key)
                    || PASS_THROUGH_PREFIXES.iter().any(|p| key.starts_with(p)))
            })
            .collect()
    }

    pub fn from_settings(mut settings: ConfigMap) -> Result<Self, WorkerConfigError> {
        for key in Self::unknown_settings(&settings) {
            // Connect logs unknown settings and starts; so does this host.
            match did_you_mean(key) {
                Some(near) => tracing::warn!(
                    "The configuration '{key}' was supplied but isn't a known config. Did you mean '{near}'?"
                ),
                None => tracing::warn!(
                    "The configuration '{key}' was supplied but isn't a known config."
                ),
            }
        }
        if let Some(classes) = settings
            .get("rest.extension.classes")
            .filter(|c| !c.trim().is_empty())
        {
            tracing::warn!(
                "rest.extension.classes={classes}: REST extensions are Java classes and cannot be loaded by this host; they are ignored (see the README for its own REST security settings)"
            );
        }
        for ignored in IGNORED {
            if settings.contains_key(*ignored) {
                tracing::warn!(
                    setting = ignored,
                    "worker setting has no effect on this host and is ignored"
                );
            }
        }
        // Said, naming each, rather than ignored silently.
        let (unused, running_as) = other_mode_settings(&settings);
        for key in unused {
            tracing::warn!(
                setting = key,
                "'{key}' has no effect: this worker runs {running_as}"
            );
        }
        for (key, default) in KNOWN {
            if let (Some(default), false) = (default, settings.contains_key(*key)) {
                settings.insert(key.to_string(), default.to_string());
            }
        }
        let (listen_host, listen_port) = listener(&settings)?;
        let advertised_host = settings
            .get("rest.advertised.host.name")
            .cloned()
            .unwrap_or_else(|| {
                if listen_host.is_empty() || listen_host == "0.0.0.0" {
                    hostname()
                } else {
                    listen_host.clone()
                }
            });
        let advertised_port = match settings.get("rest.advertised.port") {
            Some(p) => parse_num::<u16>("rest.advertised.port", p)?,
            None => listen_port,
        };
        let ms = |key: &str| -> Result<Duration, WorkerConfigError> {
            let raw = &settings[key];
            Ok(Duration::from_millis(parse_num::<u64>(key, raw)?))
        };
        if settings
            .get("bootstrap.servers")
            .is_some_and(|s| s.trim().is_empty())
        {
            return Err(invalid(
                "bootstrap.servers",
                "",
                "must list at least one host:port",
            ));
        }
        Ok(Self {
            bootstrap_servers: settings["bootstrap.servers"].clone(),
            worker_id: format!("{advertised_host}:{advertised_port}"),
            listen_host,
            listen_port,
            mode: mode(&settings)?,
            offset_flush_interval: ms("offset.flush.interval.ms")?,
            task_shutdown_timeout: ms("task.shutdown.graceful.timeout.ms")?,
            topic_tracking_enable: parse_bool(&settings, "topic.tracking.enable")?,
            topic_tracking_allow_reset: parse_bool(&settings, "topic.tracking.allow.reset")?,
            admin_listeners: admin_listeners(&settings)?,
            cors: cors(&settings),
            log_levels: log_levels(&settings)?,
            log_format: settings["log.format"].parse().map_err(|message: String| {
                invalid("log.format", &settings["log.format"], &message)
            })?,
            settings,
        })
    }

    /// librdkafka checks `consumer.*`, `producer.*` and `admin.*` settings when
    /// a client is built (nothing connects yet): do it at start-up so a typo
    /// stops the worker instead of failing every task later.
    pub fn check_client_settings(&self) -> Result<(), WorkerConfigError> {
        use rdkafka::ClientConfig;
        for prefix in ["consumer.", "producer.", "admin."] {
            let mut client = ClientConfig::new();
            client.set("bootstrap.servers", &self.bootstrap_servers);
            if prefix == "consumer." {
                client.set("group.id", "connect-host-settings-check");
            }
            for (k, v) in self.with_prefix(prefix) {
                // A Java-client setting the runtime itself uses.
                if k != "max.poll.records" {
                    client.set(k, v);
                }
            }
            let built = if prefix == "producer." {
                client
                    .create::<rdkafka::producer::BaseProducer>()
                    .map(|_| ())
            } else {
                client
                    .create::<rdkafka::consumer::BaseConsumer>()
                    .map(|_| ())
            };
            if let Err(e) = built {
                return Err(WorkerConfigError::Invalid {
                    key: format!("{prefix}*"),
                    value: String::new(),
                    message: e.to_string(),
                });
            }
        }
        Ok(())
    }

    /// Settings under `prefix`, with the prefix removed (e.g. `consumer.`);
    /// the worker's own settings that share a prefix (`admin.listeners`) are not included.
    pub fn with_prefix(&self, prefix: &str) -> ConfigMap {
        let mut map = strip_prefix(&self.settings, prefix);
        map.retain(|k, _| {
            !KNOWN
                .iter()
                .any(|(known, _)| *known == format!("{prefix}{k}"))
        });
        map
    }
}

pub fn strip_prefix(map: &ConfigMap, prefix: &str) -> ConfigMap {
    map.iter()
        .filter_map(|(k, v)| {
            k.strip_prefix(prefix)
                .map(|rest| (rest.to_string(), v.clone()))
        })
        .collect()
}

fn invalid(key: &str, value: &str, message: &str) -> WorkerConfigError {
    WorkerConfigError::Invalid {
        key: key.into(),
        value: value.into(),
        message: message.into(),
    }
}

fn parse_num<T: std::str::FromStr>(key: &str, raw: &str) -> Result<T, WorkerConfigError> {
    raw.trim()
        .parse()
        .map_err(|_| invalid(key, raw, "not a valid number"))
}

fn parse_bool(settings: &ConfigMap, key: &str) -> Result<bool, WorkerConfigError> {
    let raw = &settings[key];
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid(
            key,
            raw,
            "Expected value to be either true or false",
        )),
    }
}

/// The known setting nearest to an unknown one, if it looks like a typo.
fn did_you_mean(key: &str) -> Option<&'static str> {
    KNOWN
        .iter()
        .map(|(k, _)| *k)
        .chain(IGNORED.iter().copied())
        .map(|k| (edit_distance(key, k), k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 8))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// `host:port` of an `http://host:port` listener URI.
fn http_listener(key: &str, all: &str, uri: &str) -> Result<(String, u16), WorkerConfigError> {
    let rest = uri.trim().strip_prefix("http://").ok_or_else(|| {
        invalid(
            key,
            all,
            "only http:// listeners are supported, as http://host:port",
        )
    })?;
    let (host, port) = rest
        .rsplit_once(':')
        .ok_or_else(|| invalid(key, all, "expected http://host:port"))?;
    let port = port
        .parse()
        .map_err(|_| invalid(key, all, "port is not a number"))?;
    Ok((host.trim_matches(['[', ']']).to_string(), port))
}

fn admin_listeners(settings: &ConfigMap) -> Result<AdminListeners, WorkerConfigError> {
    let Some(raw) = settings.get("admin.listeners") else {
        return Ok(AdminListeners::Main);
    };
    let uris: Vec<&str> = raw
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .collect();
    if uris.is_empty() {
        return Ok(AdminListeners::Disabled);
    }
    uris.into_iter()
        .map(|u| http_listener("admin.listeners", raw, u))
        .collect::<Result<_, _>>()
        .map(AdminListeners::Separate)
}

fn cors(settings: &ConfigMap) -> Option<Cors> {
    let origin = settings
        .get("access.control.allow.origin")
        .map(|o| o.trim())
        .filter(|o| !o.is_empty())?;
    let methods = settings
        .get("access.control.allow.methods")
        .map(|m| m.trim())
        .filter(|m| !m.is_empty())
        .unwrap_or("GET,POST,HEAD");
    Some(Cors {
        allow_origin: origin.to_string(),
        allow_methods: methods.to_string(),
    })
}

fn log_levels(settings: &ConfigMap) -> Result<Vec<(String, String)>, WorkerConfigError> {
    let level = |key: &str, raw: &str, level: &str| {
        let upper = level.trim().to_ascii_uppercase();
        if crate::logging::LEVELS.contains(&upper.as_str()) {
            Ok(upper)
        } else {
            Err(invalid(
                key,
                raw,
                &format!(
                    "'{level}' is not a log level ({})",
                    crate::logging::LEVELS.join(", ")
                ),
            ))
        }
    };
    let mut levels = Vec::new();
    if let Some(raw) = settings.get(LOG4J_ROOT) {
        levels.push(("root".to_string(), level(LOG4J_ROOT, raw, raw)?));
    }
    if let Some(raw) = settings.get(LOG4J_LOGGERS) {
        for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (logger, lvl) = entry.split_once('=').ok_or_else(|| {
                invalid(LOG4J_LOGGERS, raw, "expected logger=LEVEL, comma-separated")
            })?;
            levels.push((logger.trim().to_string(), level(LOG4J_LOGGERS, raw, lvl)?));
        }
    }
    Ok(levels)
}

/// `listeners=http://host:port` (first listener), else `rest.port`, else 8083.
fn listener(settings: &ConfigMap) -> Result<(String, u16), WorkerConfigError> {
    if let Some(listeners) = settings.get("listeners") {
        let first = listeners.split(',').next().unwrap_or_default();
        return http_listener("listeners", listeners, first);
    }
    let port = match settings.get("rest.port") {
        Some(p) => parse_num("rest.port", p)?,
        None => 8083,
    };
    Ok((String::new(), port))
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

fn flatten_into(out: &mut ConfigMap, key: String, value: Value) {
    match value.kind {
        ValueKind::Table(table) => {
            for (k, v) in table {
                flatten_into(out, format!("{key}.{k}"), v);
            }
        }
        ValueKind::Array(items) => {
            let joined = items
                .into_iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(",");
            out.insert(key, joined);
        }
        ValueKind::Nil => {}
        _ => {
            out.insert(key, value.to_string());
        }
    }
}

/// A Java `.properties` file, Connect's worker file format.
#[derive(Debug, Clone)]
struct PropertiesFile {
    origin: String,
    entries: BTreeMap<String, String>,
}

impl PropertiesFile {
    fn read(path: &Path) -> Result<Self, WorkerConfigError> {
        let err = |message: String| WorkerConfigError::File {
            path: path.display().to_string(),
            message,
        };
        let file = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
        let entries = java_properties::read(file).map_err(|e| err(e.to_string()))?;
        Ok(Self {
            origin: path.display().to_string(),
            entries: entries.into_iter().collect(),
        })
    }
}

impl Source for PropertiesFile {
    fn clone_into_box(&self) -> Box<dyn Source + Send + Sync> {
        Box::new(self.clone())
    }
    fn collect(&self) -> Result<Map<String, Value>, config::ConfigError> {
        Ok(self
            .entries
            .iter()
            .map(|(k, v)| {
                (
                    k.trim().to_string(),
                    Value::new(Some(&self.origin), v.trim().to_string()),
                )
            })
            .collect())
    }
}

/// `CONNECT_BOOTSTRAP_SERVERS=…` → `bootstrap.servers=…`, with Confluent's
/// escapes: `___` → `-`, `__` → `_`, `_` → `.`.
#[derive(Debug, Clone)]
struct ConfluentEnv(BTreeMap<String, String>);

impl ConfluentEnv {
    fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut map = BTreeMap::new();
        for (name, value) in vars {
            let Some(rest) = name.strip_prefix("CONNECT_") else {
                continue;
            };
            map.insert(env_to_key(rest), value);
        }
        Self(map)
    }
}

pub fn env_to_key(name: &str) -> String {
    name.to_ascii_lowercase()
        .replace("___", "\u{1}")
        .replace("__", "\u{2}")
        .replace('_', ".")
        .replace('\u{1}', "-")
        .replace('\u{2}', "_")
}

impl Source for ConfluentEnv {
    fn clone_into_box(&self) -> Box<dyn Source + Send + Sync> {
        Box::new(self.clone())
    }
    fn collect(&self) -> Result<Map<String, Value>, config::ConfigError> {
        Ok(self
            .0
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    Value::new(Some(&"environment".to_string()), v.clone()),
                )
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_of_the_other_mode_are_named() {
        let map = |pairs: &[(&str, &str)]| -> ConfigMap {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let standalone = map(&[("status.storage.topic", "s"), ("connectors.dir", "d")]);
        assert_eq!(
            other_mode_settings(&standalone).0,
            vec!["status.storage.topic"]
        );
        let cluster = map(&[
            ("group.id", "g"),
            ("status.storage.topic", "s"),
            ("config.storage.file.filename", "f"),
        ]);
        assert_eq!(
            other_mode_settings(&cluster).0,
            vec!["config.storage.file.filename"]
        );
        assert!(other_mode_settings(&map(&[("group.id", "g")])).0.is_empty());
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn confluent_env_names_map_to_connect_keys() {
        assert_eq!(env_to_key("BOOTSTRAP_SERVERS"), "bootstrap.servers");
        assert_eq!(
            env_to_key("CONSUMER_SASL_JAAS__CONFIG"),
            "consumer.sasl.jaas_config"
        );
        assert_eq!(env_to_key("SOME___DASHED"), "some-dashed");
    }

    #[test]
    fn properties_file_then_env_overrides() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("worker.properties");
        std::fs::write(
            &path,
            "bootstrap.servers=broker:9092\nkey.converter=org.apache.kafka.connect.storage.StringConverter\n\
             key.converter.schemas.enable=false\nlisteners=http://127.0.0.1:18083\nplugin.path=/opt\n",
        )
        .unwrap();
        let cfg = WorkerConfig::load(
            Some(&path),
            env(&[
                ("CONNECT_BOOTSTRAP_SERVERS", "other:9093"),
                ("PATH", "/bin"),
            ]),
        )
        .unwrap();
        assert_eq!(cfg.bootstrap_servers, "other:9093");
        assert_eq!(cfg.listen_port, 18083);
        assert_eq!(cfg.worker_id, "127.0.0.1:18083");
        assert_eq!(cfg.settings["key.converter.schemas.enable"], "false");
        assert_eq!(
            cfg.settings["key.converter"],
            "org.apache.kafka.connect.storage.StringConverter"
        );
        assert_eq!(cfg.offset_flush_interval, Duration::from_millis(5000));
    }

    #[test]
    fn unknown_settings_start_with_a_near_miss_named() {
        let cfg = WorkerConfig::load(None, env(&[("CONNECT_BOOTSTRAP_SERVRES", "x:1")])).unwrap();
        assert_eq!(cfg.bootstrap_servers, "localhost:9092");
        assert_eq!(did_you_mean("bootstrap.servres"), Some("bootstrap.servers"));
        assert_eq!(
            did_you_mean("topic.tracking.enabled"),
            Some("topic.tracking.enable")
        );
        assert_eq!(did_you_mean("something.else.entirely"), None);
    }

    #[test]
    fn connect_worker_settings_take_effect() {
        let cfg = WorkerConfig::load(
            None,
            env(&[
                ("CONNECT_TOPIC_TRACKING_ENABLE", "false"),
                ("CONNECT_TOPIC_TRACKING_ALLOW_RESET", "false"),
                ("CONNECT_ADMIN_LISTENERS", "http://127.0.0.1:9999"),
                ("CONNECT_ACCESS_CONTROL_ALLOW_ORIGIN", "*"),
                ("CONNECT_REST_EXTENSION_CLASSES", "com.example.Ext"),
                ("CONNECT_LOG4J_ROOT_LOGLEVEL", "warn"),
                (
                    "CONNECT_LOG4J_LOGGERS",
                    "org.reflections=ERROR, org.apache.kafka=DEBUG",
                ),
                ("CONNECT_ADMIN_SECURITY_PROTOCOL", "PLAINTEXT"),
            ]),
        )
        .unwrap();
        assert!(!cfg.topic_tracking_enable && !cfg.topic_tracking_allow_reset);
        assert_eq!(
            cfg.admin_listeners,
            AdminListeners::Separate(vec![("127.0.0.1".into(), 9999)])
        );
        let cors = cfg.cors.clone().unwrap();
        assert_eq!(
            (cors.allow_origin.as_str(), cors.allow_methods.as_str()),
            ("*", "GET,POST,HEAD")
        );
        assert_eq!(
            cfg.log_levels,
            vec![
                ("root".to_string(), "WARN".to_string()),
                ("org.reflections".to_string(), "ERROR".to_string()),
                ("org.apache.kafka".to_string(), "DEBUG".to_string()),
            ]
        );
        // admin.listeners is the worker's, not an admin-client setting.
        let admin = cfg.with_prefix("admin.");
        assert_eq!(admin.keys().collect::<Vec<_>>(), vec!["security.protocol"]);
        let disabled = WorkerConfig::load(None, env(&[("CONNECT_ADMIN_LISTENERS", "")])).unwrap();
        assert_eq!(disabled.admin_listeners, AdminListeners::Disabled);
        assert!(WorkerConfig::load(None, env(&[])).unwrap().cors.is_none());
    }

    #[test]
    fn invalid_settings_are_named() {
        let err =
            WorkerConfig::load(None, env(&[("CONNECT_LOG4J_ROOT_LOGLEVEL", "LOUD")])).unwrap_err();
        assert!(err.to_string().contains("log4j.root.loglevel"), "{err}");
        let err = WorkerConfig::load(None, env(&[("CONNECT_OFFSET_FLUSH_INTERVAL_MS", "soon")]))
            .unwrap_err();
        assert!(
            err.to_string().contains("offset.flush.interval.ms"),
            "{err}"
        );
        let err = WorkerConfig::load(None, env(&[("CONNECT_LISTENERS", "ftp://x:1")])).unwrap_err();
        assert!(err.to_string().contains("listeners"), "{err}");
        let err =
            WorkerConfig::load(Some(Path::new("/nonexistent/w.properties")), env(&[])).unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent/w.properties"),
            "{err}"
        );
    }
}
