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
    // `config.providers.<name>.class` and `.param.*` (Connect's ConfigProviders).
    "config.providers.",
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
    // Kafka's consumer setting of the same name: `false` makes stopping
    // consumers go silently (see `sink_task::close_consumer`).
    ("internal.leave.group.on.close", Some("true")),
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
    ("config.providers", None),
    // REST authentication (see `RestAuth`).
    ("rest.auth.credentials.file", None),
    ("rest.auth.tokens.file", None),
];

/// The HTTPS listeners' TLS settings, after a prefix (`listeners.https.`,
/// `admin.listeners.https.` or none, as Connect reads `ssl.*`).
const TLS_SUFFIXES: &[&str] = &[
    "ssl.certificate.location",
    "ssl.key.location",
    "ssl.key.password",
    "ssl.keystore.location",
    "ssl.keystore.type",
    "ssl.truststore.location",
    "ssl.truststore.type",
    "ssl.client.auth",
];
const MAIN_TLS_PREFIXES: &[&str] = &["listeners.https.", ""];
const ADMIN_TLS_PREFIXES: &[&str] = &["admin.listeners.https.", "listeners.https.", ""];

/// A TLS setting of the REST listeners (any prefix).
fn is_rest_tls_setting(key: &str) -> bool {
    ADMIN_TLS_PREFIXES.iter().any(|prefix| {
        key.strip_prefix(prefix)
            .is_some_and(|rest| TLS_SUFFIXES.contains(&rest))
    })
}

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
    /// Only on these listeners, not on the main one.
    Separate(Vec<RestListener>),
}

/// One REST listener of `listeners` or `admin.listeners`:
/// `http://host:port` or `https://host:port` (an empty host: all interfaces).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestListener {
    /// `https://`: TLS with the PEM files of [`RestTls`].
    pub https: bool,
    pub host: String,
    pub port: u16,
}

impl RestListener {
    pub fn scheme(&self) -> &'static str {
        if self.https { "https" } else { "http" }
    }
}

/// Whether HTTPS listeners ask clients for a certificate (Connect's
/// `ssl.client.auth`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ClientAuth {
    /// No client certificate is asked for (Connect's default).
    #[default]
    None,
    /// Asked for, checked when given, not required.
    Requested,
    /// Connections without a certificate signed by the truststore's CAs fail.
    Required,
}

/// The PEM files of the HTTPS listeners: Connect's `listeners.https.ssl.*`
/// settings, but PEM files rather than Java keystores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestTls {
    /// The certificate chain (server certificate first) and the setting it
    /// came from, for error messages.
    pub certificate: (String, PathBuf),
    /// The unencrypted private key, and its setting.
    pub key: (String, PathBuf),
    /// CA certificates: verify client certificates and, when forwarding to
    /// an https leader, the leader's certificate (system roots otherwise).
    pub truststore: Option<(String, PathBuf)>,
    pub client_auth: ClientAuth,
}

/// REST authentication, as Connect's `BasicAuthSecurityRestExtension`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestAuth {
    /// `rest.auth.credentials.file`: `user: password[, role]` lines.
    pub credentials_file: Option<PathBuf>,
    /// `rest.auth.tokens.file`: `token, role` lines (bearer tokens).
    pub tokens_file: Option<PathBuf>,
}

impl RestAuth {
    pub fn enabled(&self) -> bool {
        self.credentials_file.is_some() || self.tokens_file.is_some()
    }
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
    /// The first of `listeners`.
    pub listen_host: String,
    pub listen_port: u16,
    /// Every listener of `listeners` (the main REST API on each).
    pub listeners: Vec<RestListener>,
    /// The PEM files of the `https://` main listeners; `None` when all are http.
    pub rest_tls: Option<RestTls>,
    /// The PEM files of `https://` admin listeners (`admin.listeners.https.ssl.*`,
    /// else the main listeners' settings).
    pub admin_tls: Option<RestTls>,
    /// Whether other workers reach this one over https (`rest.advertised.listener`,
    /// else the first listener's scheme).
    pub advertised_https: bool,
    /// REST authentication; off unless a credentials or tokens file is set.
    pub rest_auth: RestAuth,
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
    /// `internal.leave.group.on.close`: whether stopping consumers leave
    /// their group (`false` works around a test broker's bug).
    pub leave_group_on_close: bool,
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
                    || is_rest_tls_setting(key)
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
        let listeners = listeners(&settings)?;
        let (listen_host, listen_port) = (listeners[0].host.clone(), listeners[0].port);
        let advertised = advertised_listener(&settings, &listeners)?;
        let advertised_host = settings
            .get("rest.advertised.host.name")
            .cloned()
            .unwrap_or_else(|| {
                if advertised.host.is_empty() || advertised.host == "0.0.0.0" {
                    hostname()
                } else {
                    advertised.host.clone()
                }
            });
        let advertised_port = match settings.get("rest.advertised.port") {
            Some(p) => parse_num::<u16>("rest.advertised.port", p)?,
            None => advertised.port,
        };
        let advertised_https = advertised.https;
        let admin_listeners = admin_listeners(&settings)?;
        let rest_tls = tls_settings(
            &settings,
            MAIN_TLS_PREFIXES,
            listeners.iter().any(|l| l.https),
        )?;
        let admin_tls = match &admin_listeners {
            AdminListeners::Separate(admin) => {
                tls_settings(&settings, ADMIN_TLS_PREFIXES, admin.iter().any(|l| l.https))?
            }
            _ => None,
        };
        let path = |key: &str| {
            settings
                .get(key)
                .map(|p| p.trim())
                .filter(|p| !p.is_empty())
                .map(PathBuf::from)
        };
        let rest_auth = RestAuth {
            credentials_file: path("rest.auth.credentials.file"),
            tokens_file: path("rest.auth.tokens.file"),
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
            listeners,
            rest_tls,
            admin_tls,
            advertised_https,
            rest_auth,
            mode: mode(&settings)?,
            offset_flush_interval: ms("offset.flush.interval.ms")?,
            task_shutdown_timeout: ms("task.shutdown.graceful.timeout.ms")?,
            topic_tracking_enable: parse_bool(&settings, "topic.tracking.enable")?,
            leave_group_on_close: parse_bool(&settings, "internal.leave.group.on.close")?,
            topic_tracking_allow_reset: parse_bool(&settings, "topic.tracking.allow.reset")?,
            admin_listeners,
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
            let key = format!("{prefix}{k}");
            // `admin.listeners.https.*` is the admin listeners' TLS, not
            // an admin-client setting.
            !(KNOWN.iter().any(|(known, _)| *known == key) || key.starts_with("admin.listeners."))
        });
        map
    }

    /// The URL other workers reach this one by: `http(s)://<worker_id>`.
    pub fn advertised_url(&self) -> String {
        let scheme = if self.advertised_https {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.worker_id)
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

/// An `http://host:port` or `https://host:port` listener URI.
fn rest_listener(key: &str, all: &str, uri: &str) -> Result<RestListener, WorkerConfigError> {
    let uri = uri.trim();
    let (https, rest) = if let Some(rest) = strip_prefix_ignore_case(uri, "http://") {
        (false, rest)
    } else if let Some(rest) = strip_prefix_ignore_case(uri, "https://") {
        (true, rest)
    } else {
        return Err(invalid(
            key,
            all,
            "only http:// and https:// listeners are supported, as http://host:port or https://host:port",
        ));
    };
    let (host, port) = rest
        .trim_end_matches('/')
        .rsplit_once(':')
        .ok_or_else(|| invalid(key, all, "expected http(s)://host:port"))?;
    let port = port
        .parse()
        .map_err(|_| invalid(key, all, "port is not a number"))?;
    Ok(RestListener {
        https,
        host: host.trim_matches(['[', ']']).to_string(),
        port,
    })
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    s.get(..prefix.len())
        .filter(|head| head.eq_ignore_ascii_case(prefix))
        .map(|_| &s[prefix.len()..])
}

/// The listener named by `rest.advertised.listener` (`http` or `https`: the
/// first listener of that scheme), else the first listener.
fn advertised_listener<'a>(
    settings: &ConfigMap,
    listeners: &'a [RestListener],
) -> Result<&'a RestListener, WorkerConfigError> {
    let Some(raw) = settings
        .get("rest.advertised.listener")
        .filter(|l| !l.trim().is_empty())
    else {
        return Ok(&listeners[0]);
    };
    let https = match raw.trim().to_ascii_lowercase().as_str() {
        "http" => false,
        "https" => true,
        _ => {
            return Err(invalid(
                "rest.advertised.listener",
                raw,
                "must be 'http' or 'https'",
            ));
        }
    };
    listeners.iter().find(|l| l.https == https).ok_or_else(|| {
        invalid(
            "rest.advertised.listener",
            raw,
            "no listener of 'listeners' has this scheme",
        )
    })
}

/// The TLS files of HTTPS listeners, each setting read under the first of
/// `prefixes` that has it (`listeners.https.ssl.key.location`, else
/// `ssl.key.location`); `None` unless `needed` (an https listener).
fn tls_settings(
    settings: &ConfigMap,
    prefixes: &[&str],
    needed: bool,
) -> Result<Option<RestTls>, WorkerConfigError> {
    if !needed {
        return Ok(None);
    }
    let main = prefixes[0];
    // The key (with its prefix) and value of a setting, if given.
    let get = |suffix: &str| -> Option<(String, String)> {
        prefixes.iter().find_map(|prefix| {
            let key = format!("{prefix}{suffix}");
            settings
                .get(&key)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .map(|v| (key, v))
        })
    };
    let path = |suffix: &str| get(suffix).map(|(k, v)| (k, PathBuf::from(v)));
    let pem_only = |suffix: &str| -> Result<(), WorkerConfigError> {
        match get(suffix) {
            Some((key, kind)) if !kind.eq_ignore_ascii_case("PEM") => Err(invalid(
                &key,
                &kind,
                "this host reads PEM files only (no JKS or PKCS12 keystores): convert them, \
                 e.g. with keytool -importkeystore and openssl, see the README",
            )),
            _ => Ok(()),
        }
    };
    pem_only("ssl.keystore.type")?;
    pem_only("ssl.truststore.type")?;
    if let Some((key, _)) = get("ssl.key.password") {
        return Err(invalid(
            &key,
            "[hidden]",
            "encrypted private keys are not supported: give an unencrypted PEM key \
             (e.g. openssl pkey -in key.pem -out plain.pem) readable by this worker only",
        ));
    }
    let (certificate, key) = match (
        path("ssl.certificate.location"),
        path("ssl.key.location"),
        path("ssl.keystore.location"),
    ) {
        (Some(certificate), Some(key), _) => (certificate, key),
        // Kafka's PEM keystore: the key and the chain in one file.
        (None, None, Some(keystore)) if get("ssl.keystore.type").is_some() => {
            (keystore.clone(), keystore)
        }
        (None, None, Some((key, value))) => {
            return Err(invalid(
                &key,
                &value.display().to_string(),
                &format!(
                    "this host reads PEM files, not Java keystores: set {main}ssl.certificate.location \
                     and {main}ssl.key.location (or {main}ssl.keystore.type=PEM with a file holding \
                     the key and the chain)"
                ),
            ));
        }
        (certificate, _, _) => {
            let missing = if certificate.is_none() {
                "ssl.certificate.location"
            } else {
                "ssl.key.location"
            };
            return Err(invalid(
                &format!("{main}{missing}"),
                "",
                &format!(
                    "an https:// listener needs a PEM certificate chain and its private key: \
                     set {main}ssl.certificate.location and {main}ssl.key.location"
                ),
            ));
        }
    };
    let client_auth = match get("ssl.client.auth") {
        None => ClientAuth::None,
        Some((key, value)) => match value.to_ascii_lowercase().as_str() {
            "none" => ClientAuth::None,
            "requested" => ClientAuth::Requested,
            "required" => ClientAuth::Required,
            _ => {
                return Err(invalid(
                    &key,
                    &value,
                    "must be one of none, requested, required",
                ));
            }
        },
    };
    let truststore = path("ssl.truststore.location");
    if client_auth != ClientAuth::None && truststore.is_none() {
        return Err(invalid(
            &format!("{main}ssl.truststore.location"),
            "",
            "client certificates are asked for (ssl.client.auth): set a PEM file of the CA \
             certificates that sign them",
        ));
    }
    Ok(Some(RestTls {
        certificate,
        key,
        truststore,
        client_auth,
    }))
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
        .map(|u| rest_listener("admin.listeners", raw, u))
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

/// `listeners=http://host:port,https://host:port,…`, else `rest.port`, else
/// `http://:8083`; never empty.
fn listeners(settings: &ConfigMap) -> Result<Vec<RestListener>, WorkerConfigError> {
    if let Some(raw) = settings.get("listeners") {
        let listeners: Vec<RestListener> = raw
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(|u| rest_listener("listeners", raw, u))
            .collect::<Result<_, _>>()?;
        if listeners.is_empty() {
            return Err(invalid(
                "listeners",
                raw,
                "must list at least one http://host:port or https://host:port",
            ));
        }
        return Ok(listeners);
    }
    let port = match settings.get("rest.port") {
        Some(p) => parse_num("rest.port", p)?,
        None => 8083,
    };
    Ok(vec![RestListener {
        https: false,
        host: String::new(),
        port,
    }])
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
            AdminListeners::Separate(vec![RestListener {
                https: false,
                host: "127.0.0.1".into(),
                port: 9999
            }])
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

    #[test]
    fn https_listeners_take_pem_files() {
        let cfg = WorkerConfig::load(
            None,
            env(&[
                (
                    "CONNECT_LISTENERS",
                    "http://127.0.0.1:8083, HTTPS://0.0.0.0:8443",
                ),
                ("CONNECT_LISTENERS_HTTPS_SSL_CERTIFICATE_LOCATION", "/c.pem"),
                ("CONNECT_LISTENERS_HTTPS_SSL_KEY_LOCATION", "/k.pem"),
                ("CONNECT_SSL_CLIENT_AUTH", "required"),
                ("CONNECT_LISTENERS_HTTPS_SSL_TRUSTSTORE_LOCATION", "/ca.pem"),
                ("CONNECT_REST_ADVERTISED_LISTENER", "https"),
                ("CONNECT_ADMIN_LISTENERS", "https://127.0.0.1:9443"),
                ("CONNECT_ADMIN_LISTENERS_HTTPS_SSL_CLIENT_AUTH", "none"),
                ("CONNECT_REST_AUTH_CREDENTIALS_FILE", "/users.properties"),
            ]),
        )
        .unwrap();
        assert_eq!(
            cfg.listeners,
            vec![
                RestListener {
                    https: false,
                    host: "127.0.0.1".into(),
                    port: 8083
                },
                RestListener {
                    https: true,
                    host: "0.0.0.0".into(),
                    port: 8443
                },
            ]
        );
        assert_eq!(
            (cfg.listen_host.as_str(), cfg.listen_port),
            ("127.0.0.1", 8083)
        );
        // The https listener is advertised: its port, and https for forwarding.
        assert!(cfg.advertised_https);
        assert!(cfg.worker_id.ends_with(":8443"), "{}", cfg.worker_id);
        assert!(cfg.advertised_url().starts_with("https://"));
        let tls = cfg.rest_tls.clone().unwrap();
        assert_eq!(tls.certificate.1, PathBuf::from("/c.pem"));
        assert_eq!(tls.key.0, "listeners.https.ssl.key.location");
        assert_eq!(tls.client_auth, ClientAuth::Required);
        assert_eq!(tls.truststore.unwrap().1, PathBuf::from("/ca.pem"));
        // The admin listener's own prefix wins; the rest falls back.
        let admin = cfg.admin_tls.clone().unwrap();
        assert_eq!(admin.client_auth, ClientAuth::None);
        assert_eq!(admin.certificate.1, PathBuf::from("/c.pem"));
        assert_eq!(
            cfg.rest_auth.credentials_file,
            Some(PathBuf::from("/users.properties"))
        );
        assert!(cfg.with_prefix("admin.").is_empty());
        assert!(WorkerConfig::unknown_settings(&cfg.settings).is_empty());

        let plain = WorkerConfig::load(None, env(&[])).unwrap();
        assert!(plain.rest_tls.is_none() && !plain.advertised_https);
        assert!(!plain.rest_auth.enabled());
        assert_eq!(
            plain.advertised_url(),
            format!("http://{}", plain.worker_id)
        );
    }

    #[test]
    fn https_settings_that_cannot_work_are_named() {
        let fails = |pairs: &[(&str, &str)], setting: &str| {
            let err = WorkerConfig::load(None, env(pairs))
                .unwrap_err()
                .to_string();
            assert!(err.contains(setting), "{err}");
        };
        fails(
            &[("CONNECT_LISTENERS", "https://:8443")],
            "listeners.https.ssl.certificate.location",
        );
        fails(
            &[
                ("CONNECT_LISTENERS", "https://:8443"),
                ("CONNECT_LISTENERS_HTTPS_SSL_CERTIFICATE_LOCATION", "/c.pem"),
            ],
            "listeners.https.ssl.key.location",
        );
        fails(
            &[
                ("CONNECT_LISTENERS", "https://:8443"),
                ("CONNECT_LISTENERS_HTTPS_SSL_KEYSTORE_LOCATION", "/ks.jks"),
            ],
            "listeners.https.ssl.keystore.location",
        );
        fails(
            &[
                ("CONNECT_LISTENERS", "https://:8443"),
                ("CONNECT_SSL_CERTIFICATE_LOCATION", "/c.pem"),
                ("CONNECT_SSL_KEY_LOCATION", "/k.pem"),
                ("CONNECT_SSL_CLIENT_AUTH", "required"),
            ],
            "listeners.https.ssl.truststore.location",
        );
        fails(
            &[
                ("CONNECT_LISTENERS", "https://:8443"),
                ("CONNECT_SSL_CERTIFICATE_LOCATION", "/c.pem"),
                ("CONNECT_SSL_KEY_LOCATION", "/k.pem"),
                ("CONNECT_SSL_CLIENT_AUTH", "maybe"),
            ],
            "ssl.client.auth",
        );
        fails(
            &[("CONNECT_REST_ADVERTISED_LISTENER", "https")],
            "rest.advertised.listener",
        );
        fails(&[("CONNECT_LISTENERS", " , ")], "listeners");
        // Kafka's PEM keystore (key and chain in one file) is accepted.
        let cfg = WorkerConfig::load(
            None,
            env(&[
                ("CONNECT_LISTENERS", "https://:8443"),
                ("CONNECT_SSL_KEYSTORE_LOCATION", "/both.pem"),
                ("CONNECT_SSL_KEYSTORE_TYPE", "PEM"),
            ]),
        )
        .unwrap();
        let tls = cfg.rest_tls.unwrap();
        assert_eq!(tls.certificate.1, tls.key.1);
        assert_eq!(tls.key.0, "ssl.keystore.location");
    }
}
