//! Connect's ConfigProviders: a connector config may name its secrets as
//! `${provider:[path:]key}` references instead of holding them, e.g.
//! `"qdrant.api.key": "${file:/etc/connect/secrets.properties:qdrant.api.key}"`.
//!
//! The worker settings `config.providers=file,env,dir` and
//! `config.providers.<name>.class` (+ `config.providers.<name>.param.*`)
//! name the providers, as in Connect: `FileConfigProvider` (a key of a Java
//! `.properties` file), `EnvVarConfigProvider` (an environment variable) and
//! `DirectoryConfigProvider` (the contents of a file in a directory).
//!
//! References are resolved when a connector instance or a task starts
//! ([`crate::worker`]); stores and the REST API only ever hold and show the
//! reference. What an instance knows to be secret ([`Secrets`]: PASSWORD
//! settings, the Kafka clients' passwords, every value a provider supplied)
//! is masked in everything it reports: status traces, log lines, the error
//! log and the dead-letter queue's headers.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, LazyLock, RwLock};

use connect_api::{ConfigDef, ConfigIssue, ConfigMap, ConfigType, SinkError};
use regex::Regex;

/// What is shown instead of a secret (the REST API's mask).
pub const HIDDEN: &str = "[hidden]";

pub const FILE_CONFIG_PROVIDER: &str = "org.apache.kafka.common.config.provider.FileConfigProvider";
pub const ENV_VAR_CONFIG_PROVIDER: &str =
    "org.apache.kafka.common.config.provider.EnvVarConfigProvider";
pub const DIRECTORY_CONFIG_PROVIDER: &str =
    "org.apache.kafka.common.config.provider.DirectoryConfigProvider";

/// `FileConfigProvider`'s and `DirectoryConfigProvider`'s param.
pub const ALLOWED_PATHS: &str = "allowed.paths";
/// `EnvVarConfigProvider`'s param.
pub const ALLOWLIST_PATTERN: &str = "allowlist.pattern";

/// Values supplied by a provider for a setting that is not a secret by its
/// type are masked from this length on (shorter ones, such as a
/// `tasks.max`, would mask every digit of a trace).
const MIN_PROVIDED_SECRET_CHARS: usize = 6;

/// Connect's `ConfigTransformer` pattern: `${provider:[path:]key}`.
static VARIABLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\$\{([^}]*?):(([^}]*?):)?([^}]*?)\}").expect("the variable pattern compiles")
});

// ---------------------------------------------------------------------------
// References
// ---------------------------------------------------------------------------

/// One `${provider:[path:]key}` in a config value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reference<'a> {
    /// The reference as written, `${file:/x:key}`: what errors name.
    pub text: &'a str,
    pub provider: &'a str,
    /// Empty when the reference has none (`${env:VAR}`, `${env::VAR}`).
    pub path: &'a str,
    pub key: &'a str,
    start: usize,
    end: usize,
}

/// The references in `value`, in order.
pub fn references(value: &str) -> impl Iterator<Item = Reference<'_>> {
    VARIABLE.captures_iter(value).map(|c| {
        let whole = c.get(0).expect("group 0 always matches");
        Reference {
            text: whole.as_str(),
            provider: c.get(1).map_or("", |m| m.as_str()),
            path: c.get(3).map_or("", |m| m.as_str()),
            key: c.get(4).map_or("", |m| m.as_str()),
            start: whole.start(),
            end: whole.end(),
        }
    })
}

/// `value` holds at least one reference.
pub fn has_reference(value: &str) -> bool {
    VARIABLE.is_match(value)
}

/// `value` is one reference and nothing else: it says where a secret comes
/// from and is not one itself, so the API shows it as it is.
pub fn is_reference(value: &str) -> bool {
    VARIABLE
        .find(value)
        .is_some_and(|m| m.start() == 0 && m.end() == value.len())
}

/// Connect's `AbstractHerder.reverseTransform`: task configs computed from
/// the resolved connector config get back the references of `raw`, so the
/// stores never hold a resolved value and each task resolves when it starts.
pub fn reverse_transform(raw: &ConfigMap, task_configs: &mut [ConfigMap]) {
    for (key, value) in raw.iter().filter(|(_, v)| has_reference(v)) {
        for task in task_configs.iter_mut() {
            if let Some(slot) = task.get_mut(key) {
                slot.clone_from(value);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// A provider that cannot be set up from the worker settings, or a
/// reference that cannot be resolved. No variant ever carries a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigProviderError {
    #[error(
        "config.providers.{provider}.class is not set: name the class of config provider '{provider}' ({FILE_CONFIG_PROVIDER}, {ENV_VAR_CONFIG_PROVIDER} or {DIRECTORY_CONFIG_PROVIDER})"
    )]
    MissingClass { provider: String },
    #[error(
        "config.providers.{provider}.class={class}: this host has no such ConfigProvider; it has {FILE_CONFIG_PROVIDER}, {ENV_VAR_CONFIG_PROVIDER} and {DIRECTORY_CONFIG_PROVIDER}"
    )]
    UnknownClass { provider: String, class: String },
    #[error("config.providers.{provider}.param.{param}: {reason}")]
    InvalidParam {
        provider: String,
        param: &'static str,
        reason: String,
    },
    #[error("Cannot resolve {reference} in '{key}': {reason}")]
    Unresolved {
        reference: String,
        key: String,
        reason: Unresolved,
    },
    #[error(
        "Cannot resolve {reference} in '{key}': the worker's config providers are misconfigured: {setup}"
    )]
    Misconfigured {
        reference: String,
        key: String,
        setup: Box<ConfigProviderError>,
    },
}

/// Why one reference has no value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unresolved {
    #[error("there is no config provider '{provider}' (config.providers: {configured})")]
    UnknownProvider {
        provider: String,
        configured: String,
    },
    #[error("config provider '{provider}' ({class}) needs a path: ${{{provider}:<path>:<key>}}")]
    MissingPath {
        provider: String,
        class: &'static str,
    },
    #[error(
        "config provider '{provider}' (EnvVarConfigProvider) takes no path: write ${{{provider}:{key}}}"
    )]
    PathNotSupported { provider: String, key: String },
    #[error("{path} is outside config.providers.{provider}.param.allowed.paths")]
    PathNotAllowed { provider: String, path: String },
    #[error("cannot read {path}: {error}")]
    Unreadable { path: String, error: String },
    #[error("no key '{key}' in {path}")]
    MissingKey { path: String, key: String },
    #[error("{path} is not a directory")]
    NotADirectory { path: String },
    #[error("no file '{key}' in directory {path}")]
    MissingFile { path: String, key: String },
    #[error("environment variable {name} is not set")]
    MissingVariable { name: String },
    #[error(
        "environment variable {name} does not match config.providers.{provider}.param.allowlist.pattern"
    )]
    NotAllowlisted { provider: String, name: String },
}

// ---------------------------------------------------------------------------
// Providers
// ---------------------------------------------------------------------------

/// The providers this host has (Connect's classes of the same names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderClass {
    File,
    EnvVar,
    Directory,
}

impl ProviderClass {
    /// Connect's class name, its simple name, or a short alias.
    pub fn from_class(class: &str) -> Option<Self> {
        match class.trim() {
            FILE_CONFIG_PROVIDER | "FileConfigProvider" | "file" => Some(Self::File),
            ENV_VAR_CONFIG_PROVIDER | "EnvVarConfigProvider" | "env" => Some(Self::EnvVar),
            DIRECTORY_CONFIG_PROVIDER | "DirectoryConfigProvider" | "dir" | "directory" => {
                Some(Self::Directory)
            }
            _ => None,
        }
    }

    pub fn class_name(self) -> &'static str {
        match self {
            Self::File => FILE_CONFIG_PROVIDER,
            Self::EnvVar => ENV_VAR_CONFIG_PROVIDER,
            Self::Directory => DIRECTORY_CONFIG_PROVIDER,
        }
    }
}

/// One configured provider.
#[derive(Clone)]
struct Provider {
    name: String,
    class: ProviderClass,
    /// `allowed.paths`: `None` allows every path.
    allowed_paths: Option<Vec<PathBuf>>,
    /// `allowlist.pattern`, anchored (Java's `matches`): `None` allows every variable.
    allowlist: Option<Regex>,
    /// The environment to read instead of the process's (tests).
    env: Option<HashMap<String, String>>,
}

/// Never prints the environment it was given.
impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("name", &self.name)
            .field("class", &self.class)
            .field("allowed_paths", &self.allowed_paths)
            .field("allowlist", &self.allowlist)
            .finish_non_exhaustive()
    }
}

/// What the provider at `name` of a worker setting `config.providers.<name>.param.<param>` says.
fn param<'a>(settings: &'a ConfigMap, name: &str, param: &str) -> Option<&'a String> {
    settings.get(&format!("config.providers.{name}.param.{param}"))
}

impl Provider {
    fn configure(name: &str, settings: &ConfigMap) -> Result<Self, ConfigProviderError> {
        let class = settings
            .get(&format!("config.providers.{name}.class"))
            .filter(|c| !c.trim().is_empty())
            .ok_or_else(|| ConfigProviderError::MissingClass {
                provider: name.to_string(),
            })?;
        let class =
            ProviderClass::from_class(class).ok_or_else(|| ConfigProviderError::UnknownClass {
                provider: name.to_string(),
                class: class.trim().to_string(),
            })?;
        let mut provider = Self {
            name: name.to_string(),
            class,
            allowed_paths: None,
            allowlist: None,
            env: None,
        };
        match class {
            ProviderClass::File | ProviderClass::Directory => {
                provider.allowed_paths = param(settings, name, ALLOWED_PATHS)
                    .map(|paths| allowed_paths(name, paths))
                    .transpose()?
                    .flatten();
            }
            ProviderClass::EnvVar => {
                provider.allowlist = param(settings, name, ALLOWLIST_PATTERN)
                    .map(|pattern| {
                        Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
                            ConfigProviderError::InvalidParam {
                                provider: name.to_string(),
                                param: ALLOWLIST_PATTERN,
                                reason: format!("not a regular expression: {e}"),
                            }
                        })
                    })
                    .transpose()?;
            }
        }
        Ok(provider)
    }

    /// The path a reference may read, normalised when `allowed.paths` is set
    /// (Connect's `AllowedPaths.parseUntrustedPath`).
    fn allowed(&self, path: &str) -> Result<PathBuf, Unresolved> {
        let Some(allowed) = &self.allowed_paths else {
            return Ok(PathBuf::from(path));
        };
        let normalised = normalise(Path::new(path));
        if allowed.iter().any(|a| normalised.starts_with(a)) {
            Ok(normalised)
        } else {
            Err(Unresolved::PathNotAllowed {
                provider: self.name.clone(),
                path: path.to_string(),
            })
        }
    }

    fn needs_path(&self, path: &str) -> Result<(), Unresolved> {
        if path.is_empty() {
            return Err(Unresolved::MissingPath {
                provider: self.name.clone(),
                class: self.class.class_name(),
            });
        }
        Ok(())
    }

    /// Every key of the `.properties` file at `path` (`FileConfigProvider`).
    fn properties(&self, path: &str) -> Result<HashMap<String, String>, Unresolved> {
        self.needs_path(path)?;
        let file = self.allowed(path)?;
        let unreadable = |error: String| Unresolved::Unreadable {
            path: path.to_string(),
            error,
        };
        let bytes = std::fs::read(&file).map_err(|e| unreadable(e.to_string()))?;
        // Connect reads the file as UTF-8, replacing what is not.
        parse_properties(&String::from_utf8_lossy(&bytes)).map_err(|e| unreadable(e.to_string()))
    }

    /// The contents of the file `key` in the directory `path`
    /// (`DirectoryConfigProvider`): as they are, a final newline included.
    fn directory_entry(&self, path: &str, key: &str) -> Result<String, Unresolved> {
        self.needs_path(path)?;
        let dir = self.allowed(path)?;
        if !dir.is_dir() {
            return Err(Unresolved::NotADirectory {
                path: path.to_string(),
            });
        }
        let missing = || Unresolved::MissingFile {
            path: path.to_string(),
            key: key.to_string(),
        };
        // Keys are names of regular files directly in the directory.
        let plain_name = matches!(
            Path::new(key).components().collect::<Vec<_>>().as_slice(),
            [Component::Normal(name)] if *name == std::ffi::OsStr::new(key)
        );
        let file = dir.join(key);
        if !plain_name || !file.is_file() {
            return Err(missing());
        }
        let bytes = std::fs::read(&file).map_err(|e| Unresolved::Unreadable {
            path: file.display().to_string(),
            error: e.to_string(),
        })?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// An environment variable (`EnvVarConfigProvider`).
    fn variable(&self, path: &str, key: &str) -> Result<String, Unresolved> {
        if !path.is_empty() {
            return Err(Unresolved::PathNotSupported {
                provider: self.name.clone(),
                key: key.to_string(),
            });
        }
        // Not allowed is said whether or not it is set: nothing is learnt
        // about the environment beyond the allowlist.
        if self.allowlist.as_ref().is_some_and(|a| !a.is_match(key)) {
            return Err(Unresolved::NotAllowlisted {
                provider: self.name.clone(),
                name: key.to_string(),
            });
        }
        let value = match &self.env {
            Some(env) => env.get(key).cloned(),
            None if key.is_empty() || key.contains(['=', '\0']) => None,
            None => std::env::var_os(key).map(|v| v.to_string_lossy().into_owned()),
        };
        value.ok_or_else(|| Unresolved::MissingVariable {
            name: key.to_string(),
        })
    }
}

/// `allowed.paths`: comma-separated absolute paths that exist.
fn allowed_paths(provider: &str, value: &str) -> Result<Option<Vec<PathBuf>>, ConfigProviderError> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    value
        .split(',')
        .map(|p| {
            let path = normalise(Path::new(p.trim()));
            if path.is_absolute() && path.exists() {
                Ok(path)
            } else {
                Err(ConfigProviderError::InvalidParam {
                    provider: provider.to_string(),
                    param: ALLOWED_PATHS,
                    reason: format!(
                        "path {} is not valid. The path should be absolute and exist",
                        path.display()
                    ),
                })
            }
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// Java's `Path.normalize`: `.` and `..` taken out without reading the disk.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// A Java `.properties` text read as Connect's `FileConfigProvider` reads
/// it (UTF-8). The parser follows the Java specification's ISO-8859-1, so
/// non-ASCII characters reach it as `\uXXXX` escapes, and characters beyond
/// the BMP (which one escape cannot carry) as private-use stand-ins that
/// are swapped back afterwards.
fn parse_properties(
    text: &str,
) -> Result<HashMap<String, String>, java_properties::PropertiesError> {
    use std::fmt::Write as _;
    let present: BTreeSet<char> = text.chars().filter(|c| !c.is_ascii()).collect();
    let mut free = ('\u{E000}'..='\u{F8FF}').filter(|c| !present.contains(c));
    let mut stand_ins: HashMap<char, char> = HashMap::new();
    let mut stand_in_of: HashMap<char, char> = HashMap::new();
    let mut escaped = String::with_capacity(text.len());
    let mut after_backslash = false;
    for c in text.chars() {
        if c.is_ascii() {
            after_backslash = c == '\\' && !after_backslash;
            escaped.push(c);
            continue;
        }
        if after_backslash {
            // `\é` is `é`: the escape is the one written here instead.
            escaped.pop();
            after_backslash = false;
        }
        let unit = if u32::from(c) <= 0xFFFF {
            c
        } else if let Some(s) = stand_in_of.get(&c) {
            *s
        } else {
            // More distinct characters beyond the BMP than private-use
            // code points: the rest are replaced, as undecodable input is.
            let s = free.next().unwrap_or('\u{FFFD}');
            stand_in_of.insert(c, s);
            stand_ins.insert(s, c);
            s
        };
        let _ = write!(escaped, "\\u{:04x}", u32::from(unit));
    }
    let parsed = java_properties::read(escaped.as_bytes())?;
    if stand_ins.is_empty() {
        return Ok(parsed);
    }
    let restore = |s: String| -> String {
        s.chars()
            .map(|c| stand_ins.get(&c).copied().unwrap_or(c))
            .collect()
    };
    Ok(parsed
        .into_iter()
        .map(|(k, v)| (restore(k), restore(v)))
        .collect())
}

/// The providers of `config.providers`, by name.
#[derive(Debug, Clone, Default)]
pub struct ConfigProviders {
    providers: BTreeMap<String, Provider>,
    /// Set when the worker settings are wrong: every reference fails with it.
    misconfigured: Option<ConfigProviderError>,
}

/// A config with its references resolved.
#[derive(Clone, Default)]
pub struct Resolution {
    pub config: ConfigMap,
    /// Every value a provider supplied.
    provided: Vec<String>,
}

impl std::fmt::Debug for Resolution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolution")
            .field("keys", &self.config.keys().collect::<Vec<_>>())
            .field("provided", &self.provided.len())
            .finish()
    }
}

impl ConfigProviders {
    /// The providers the worker settings name (`config.providers`,
    /// `config.providers.<name>.class`, `config.providers.<name>.param.*`).
    pub fn from_settings(settings: &ConfigMap) -> Result<Self, ConfigProviderError> {
        let mut providers = BTreeMap::new();
        for name in settings
            .get("config.providers")
            .map(String::as_str)
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            providers.insert(name.to_string(), Provider::configure(name, settings)?);
        }
        Ok(Self {
            providers,
            misconfigured: None,
        })
    }

    /// Providers that fail every reference with `error` (the worker settings
    /// were wrong; configs without references are unaffected).
    pub fn misconfigured(error: ConfigProviderError) -> Self {
        Self {
            providers: BTreeMap::new(),
            misconfigured: Some(error),
        }
    }

    /// The environment variables the `EnvVarConfigProvider`s read instead
    /// of the process's (tests).
    pub fn with_env(mut self, env: HashMap<String, String>) -> Self {
        for provider in self.providers.values_mut() {
            provider.env = Some(env.clone());
        }
        self
    }

    pub fn is_empty(&self) -> bool {
        self.providers.is_empty()
    }

    /// `name (class)` of each provider, for the start-up log.
    pub fn describe(&self) -> String {
        self.providers
            .values()
            .map(|p| format!("{} ({})", p.name, p.class.class_name()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `config` with every reference replaced by its value; the first
    /// reference that has none is the error.
    pub fn resolve(&self, config: &ConfigMap) -> Result<Resolution, ConfigProviderError> {
        let mut files: HashMap<(String, String), HashMap<String, String>> = HashMap::new();
        let mut resolution = Resolution::default();
        for (key, value) in config {
            if !has_reference(value) {
                resolution.config.insert(key.clone(), value.clone());
                continue;
            }
            let mut resolved = String::with_capacity(value.len());
            let mut last = 0;
            for reference in references(value) {
                let found = self.lookup(&reference, &mut files).map_err(|e| match e {
                    Lookup::Unresolved(reason) => ConfigProviderError::Unresolved {
                        reference: reference.text.to_string(),
                        key: key.clone(),
                        reason,
                    },
                    Lookup::Misconfigured(setup) => ConfigProviderError::Misconfigured {
                        reference: reference.text.to_string(),
                        key: key.clone(),
                        setup: Box::new(setup),
                    },
                })?;
                resolved.push_str(&value[last..reference.start]);
                resolved.push_str(&found);
                last = reference.end;
                resolution.provided.push(found);
            }
            resolved.push_str(&value[last..]);
            resolution.config.insert(key.clone(), resolved);
        }
        Ok(resolution)
    }

    fn lookup(
        &self,
        reference: &Reference<'_>,
        files: &mut HashMap<(String, String), HashMap<String, String>>,
    ) -> Result<String, Lookup> {
        if let Some(setup) = &self.misconfigured {
            return Err(Lookup::Misconfigured(setup.clone()));
        }
        let provider = self.providers.get(reference.provider).ok_or_else(|| {
            Lookup::Unresolved(Unresolved::UnknownProvider {
                provider: reference.provider.to_string(),
                configured: if self.providers.is_empty() {
                    "none".to_string()
                } else {
                    self.providers.keys().cloned().collect::<Vec<_>>().join(",")
                },
            })
        })?;
        let (path, key) = (reference.path, reference.key);
        Ok(match provider.class {
            ProviderClass::File => {
                let cache_key = (provider.name.clone(), path.to_string());
                if !files.contains_key(&cache_key) {
                    let values = provider.properties(path).map_err(Lookup::Unresolved)?;
                    files.insert(cache_key.clone(), values);
                }
                files[&cache_key].get(key).cloned().ok_or_else(|| {
                    Lookup::Unresolved(Unresolved::MissingKey {
                        path: path.to_string(),
                        key: key.to_string(),
                    })
                })?
            }
            ProviderClass::Directory => provider
                .directory_entry(path, key)
                .map_err(Lookup::Unresolved)?,
            ProviderClass::EnvVar => provider.variable(path, key).map_err(Lookup::Unresolved)?,
        })
    }
}

enum Lookup {
    Unresolved(Unresolved),
    Misconfigured(ConfigProviderError),
}

// ---------------------------------------------------------------------------
// Secrets and masking
// ---------------------------------------------------------------------------

/// Settings of the Kafka clients (after `consumer.override.`, `consumer.`,
/// … or none) whose values are secrets: Kafka's PASSWORD settings and
/// librdkafka's sensitive ones.
const CLIENT_SECRETS: &[&str] = &[
    "password",
    "sasl.jaas.config",
    "sasl.oauthbearer.client.secret",
    "sasl.oauthbearer.config",
    "ssl.key.pem",
    "ssl.keystore.key",
    "ssl_key",
];

/// `key` is a Kafka client setting whose value is a secret
/// (`consumer.override.sasl.password`, `producer.ssl.key.password`, …).
pub fn is_client_secret(key: &str) -> bool {
    CLIENT_SECRETS
        .iter()
        .any(|s| key == *s || key.strip_suffix(s).is_some_and(|head| head.ends_with('.')))
}

/// The values an instance must never report, with the forms they take
/// when escaped (Rust's `Debug`, JSON), longest first.
#[derive(Clone, Default)]
pub struct Secrets {
    values: Arc<Vec<String>>,
}

/// Never prints a secret.
impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({} forms)", self.values.len())
    }
}

impl Secrets {
    /// The secrets of a resolved connector or task config: values of its
    /// PASSWORD settings (by `def`) and of the Kafka clients' secret
    /// settings, every value a provider supplied (from
    /// [`MIN_PROVIDED_SECRET_CHARS`] characters on), and the clients'
    /// secrets among the worker's own settings.
    pub fn collect(def: &ConfigDef, resolution: &Resolution, worker_settings: &ConfigMap) -> Self {
        let mut values: Vec<String> = resolution
            .config
            .iter()
            .filter(|(key, _)| {
                is_client_secret(key)
                    || def.key(key).is_some_and(|k| k.kind == ConfigType::Password)
            })
            .map(|(_, v)| v.clone())
            .collect();
        values.extend(
            resolution
                .provided
                .iter()
                .filter(|v| v.chars().count() >= MIN_PROVIDED_SECRET_CHARS)
                .cloned(),
        );
        values.extend(
            worker_settings
                .iter()
                .filter(|(key, _)| is_client_secret(key))
                .map(|(_, v)| v.clone()),
        );
        Self::from_values(values)
    }

    /// These values (empty ones ignored); they are also masked in every
    /// line the process logs through [`RedactingStderr`].
    pub fn from_values(values: impl IntoIterator<Item = String>) -> Self {
        let mut forms = BTreeSet::new();
        for value in values.into_iter().filter(|v| !v.is_empty()) {
            let debug = value.escape_debug().to_string();
            let json = serde_json::to_string(&value).unwrap_or_default();
            let json = json
                .strip_prefix('"')
                .and_then(|j| j.strip_suffix('"'))
                .unwrap_or_default()
                .to_string();
            forms.extend([value, debug, json].into_iter().filter(|f| !f.is_empty()));
        }
        let mut values: Vec<String> = forms.into_iter().collect();
        values.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        register_for_logs(&values);
        Self {
            values: Arc::new(values),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `text` with every secret replaced by `[hidden]`.
    pub fn mask(&self, text: &str) -> String {
        mask_with(&self.values, text).into_owned()
    }

    pub fn mask_issues(&self, issues: Vec<ConfigIssue>) -> Vec<ConfigIssue> {
        issues
            .into_iter()
            .map(|i| ConfigIssue::new(i.key, self.mask(&i.message)))
            .collect()
    }

    pub fn mask_sink_error(&self, error: SinkError) -> SinkError {
        match error {
            SinkError::Retriable(m) => SinkError::Retriable(self.mask(&m)),
            SinkError::Fatal(m) => SinkError::Fatal(self.mask(&m)),
        }
    }
}

fn mask_with<'a>(secrets: &[String], text: &'a str) -> Cow<'a, str> {
    let mut out = Cow::Borrowed(text);
    for secret in secrets {
        if out.contains(secret.as_str()) {
            out = Cow::Owned(out.replace(secret.as_str(), HIDDEN));
        }
    }
    out
}

/// Every secret any instance of this process has known, longest first.
static LOGGED_SECRETS: LazyLock<RwLock<Arc<Vec<String>>>> = LazyLock::new(Default::default);

fn register_for_logs(forms: &[String]) {
    if forms.is_empty() {
        return;
    }
    let mut known = LOGGED_SECRETS.write().unwrap_or_else(|e| e.into_inner());
    if forms.iter().all(|f| known.contains(f)) {
        return;
    }
    let mut all: BTreeSet<String> = known.iter().cloned().collect();
    all.extend(forms.iter().cloned());
    let mut all: Vec<String> = all.into_iter().collect();
    all.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    *known = Arc::new(all);
}

/// `line` with every secret any instance of this process has known
/// replaced by `[hidden]`: for output no instance formats itself, such as
/// the log lines of connector code.
pub fn redact(line: &str) -> Cow<'_, str> {
    let known = LOGGED_SECRETS
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    mask_with(&known, line)
}

/// A `tracing_subscriber` writer to stderr that passes each event through
/// [`redact`]: `fmt::layer().with_writer(RedactingStderr)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct RedactingStderr;

/// One event's bytes, written (redacted) when the event is done.
#[derive(Debug, Default)]
pub struct RedactingWriter {
    buffer: Vec<u8>,
}

impl std::io::Write for RedactingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&self.buffer);
        let result = std::io::stderr().write_all(redact(&text).as_bytes());
        self.buffer.clear();
        result
    }
}

impl Drop for RedactingWriter {
    fn drop(&mut self) {
        let _ = std::io::Write::flush(self);
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for RedactingStderr {
    type Writer = RedactingWriter;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter::default()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use connect_api::ConfigKey;

    use super::*;
    use crate::test_support::config_map as settings;

    fn config(pairs: &[(&str, &str)]) -> ConfigMap {
        settings(pairs)
    }

    /// `file`, `env` and `dir` with Connect's class names; `env` reads `env`.
    fn providers(extra: &[(&str, &str)], env: &[(&str, &str)]) -> ConfigProviders {
        let mut s = settings(&[
            ("config.providers", "file, env,dir"),
            ("config.providers.file.class", FILE_CONFIG_PROVIDER),
            ("config.providers.env.class", ENV_VAR_CONFIG_PROVIDER),
            ("config.providers.dir.class", DIRECTORY_CONFIG_PROVIDER),
        ]);
        s.extend(settings(extra));
        ConfigProviders::from_settings(&s)
            .unwrap()
            .with_env(settings(env).into_iter().collect())
    }

    fn unresolved(error: ConfigProviderError) -> (String, Unresolved) {
        match error {
            ConfigProviderError::Unresolved {
                reference, reason, ..
            } => (reference, reason),
            other => panic!("not an unresolved reference: {other:?}"),
        }
    }

    #[test]
    fn references_follow_connects_pattern() {
        let parts = |v: &str| -> Vec<(String, String, String)> {
            references(v)
                .map(|r| (r.provider.into(), r.path.into(), r.key.into()))
                .collect()
        };
        let t = |p: &str, path: &str, k: &str| (p.to_string(), path.to_string(), k.to_string());
        assert_eq!(
            parts("${file:/etc/s.properties:qdrant.api.key}"),
            [t("file", "/etc/s.properties", "qdrant.api.key")]
        );
        assert_eq!(
            parts("${env:QDRANT_API_KEY}"),
            [t("env", "", "QDRANT_API_KEY")]
        );
        assert_eq!(
            parts("${env::QDRANT_API_KEY}"),
            [t("env", "", "QDRANT_API_KEY")]
        );
        assert_eq!(
            parts("${dir:/run/secrets:qdrant_api_key}"),
            [t("dir", "/run/secrets", "qdrant_api_key")]
        );
        // The path runs to the last colon before the key, as in Java.
        assert_eq!(parts("${file:C:/x:k}"), [t("file", "C", "/x:k")]);
        assert_eq!(
            parts("user=${env:U} pass=${file:/p:pw}!"),
            [t("env", "", "U"), t("file", "/p", "pw")]
        );
        // No colon, no reference: `${topic}` is the collection template.
        assert!(parts("${topic}").is_empty());
        assert!(!has_reference("${topic}") && !has_reference("plain"));
        assert!(has_reference("Bearer ${env:T}"));
        assert!(is_reference("${env:T}"));
        assert!(!is_reference("Bearer ${env:T}") && !is_reference("${env:T}x"));
    }

    #[test]
    fn file_references_read_java_properties_as_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secrets.properties");
        std::fs::write(
            &file,
            "# comment\nqdrant.api.key = s3cr3t-ключ-😀\nescaped=a\\u00e9b\\\ncontinued\nbackslashed=\\é\nemoji.key😀=v\n",
        )
        .unwrap();
        let p = providers(&[], &[]);
        let path = file.display().to_string();
        let r = p
            .resolve(&config(&[
                (
                    "qdrant.api.key",
                    &format!("${{file:{path}:qdrant.api.key}}"),
                ),
                (
                    "x",
                    &format!("<${{file:{path}:escaped}}|${{file:{path}:backslashed}}>"),
                ),
                ("y", &format!("${{file:{path}:emoji.key😀}}")),
                ("plain", "${topic}"),
            ]))
            .unwrap();
        assert_eq!(r.config["qdrant.api.key"], "s3cr3t-ключ-😀");
        assert_eq!(r.config["x"], "<aébcontinued|é>");
        assert_eq!(r.config["y"], "v");
        assert_eq!(r.config["plain"], "${topic}");
        assert_eq!(r.provided.len(), 4);

        let (reference, reason) = unresolved(
            p.resolve(&config(&[("k", &format!("${{file:{path}:nope}}"))]))
                .unwrap_err(),
        );
        assert_eq!(reference, format!("${{file:{path}:nope}}"));
        assert_eq!(
            reason,
            Unresolved::MissingKey {
                path: path.clone(),
                key: "nope".into()
            }
        );
        let missing = dir.path().join("absent.properties").display().to_string();
        let error = p
            .resolve(&config(&[("k", &format!("${{file:{missing}:k}}"))]))
            .unwrap_err();
        let message = error.to_string();
        assert!(
            message.starts_with(&format!(
                "Cannot resolve ${{file:{missing}:k}} in 'k': cannot read {missing}"
            )),
            "{message}"
        );
        let (_, reason) = unresolved(p.resolve(&config(&[("k", "${file::k}")])).unwrap_err());
        assert!(
            matches!(reason, Unresolved::MissingPath { .. }),
            "{reason:?}"
        );
    }

    #[test]
    fn errors_name_the_reference_never_a_value() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.properties");
        std::fs::write(&file, "present=TOPSECRET\n").unwrap();
        let p = providers(&[], &[("SET", "TOPSECRET")]);
        let path = file.display().to_string();
        for value in [
            format!("${{file:{path}:present}}-${{file:{path}:absent}}"),
            "${env:SET}${env:UNSET}".to_string(),
            format!("${{file:{path}:present}}${{vault:/v:k}}"),
        ] {
            let message = p
                .resolve(&config(&[("k", &value)]))
                .unwrap_err()
                .to_string();
            assert!(message.contains("Cannot resolve ${"), "{message}");
            assert!(!message.contains("TOPSECRET"), "{message}");
        }
    }

    #[test]
    fn an_unknown_provider_is_named_with_those_configured() {
        let error = providers(&[], &[])
            .resolve(&config(&[("qdrant.api.key", "${vault:/secret/q:key}")]))
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "Cannot resolve ${vault:/secret/q:key} in 'qdrant.api.key': there is no config provider 'vault' (config.providers: dir,env,file)"
        );
        let none = ConfigProviders::from_settings(&ConfigMap::new()).unwrap();
        assert!(none.is_empty());
        let message = none
            .resolve(&config(&[("k", "${env:X}")]))
            .unwrap_err()
            .to_string();
        assert!(message.contains("(config.providers: none)"), "{message}");
        // Without references nothing is asked of any provider.
        let plain = config(&[("k", "v"), ("collection.name", "${topic}")]);
        assert_eq!(none.resolve(&plain).unwrap().config, plain);
    }

    #[test]
    fn env_references_take_no_path_and_follow_the_allowlist() {
        let p = providers(
            &[(
                "config.providers.env.param.allowlist.pattern",
                "QDRANT_.*|OTHER",
            )],
            &[
                ("QDRANT_API_KEY", "k1"),
                ("OTHER", "o"),
                ("HOME_SECRET", "h"),
            ],
        );
        let r = p
            .resolve(&config(&[
                ("a", "${env:QDRANT_API_KEY}"),
                ("b", "${env::OTHER}"),
            ]))
            .unwrap();
        assert_eq!(
            (r.config["a"].as_str(), r.config["b"].as_str()),
            ("k1", "o")
        );
        let (_, reason) = unresolved(
            p.resolve(&config(&[("a", "${env:HOME_SECRET}")]))
                .unwrap_err(),
        );
        assert!(
            matches!(reason, Unresolved::NotAllowlisted { .. }),
            "{reason:?}"
        );
        // The pattern must match the whole name, as Java's `matches`.
        let (_, reason) = unresolved(p.resolve(&config(&[("a", "${env:XOTHER}")])).unwrap_err());
        assert!(
            matches!(reason, Unresolved::NotAllowlisted { .. }),
            "{reason:?}"
        );
        let (_, reason) = unresolved(
            p.resolve(&config(&[("a", "${env:QDRANT_UNSET}")]))
                .unwrap_err(),
        );
        assert_eq!(
            reason,
            Unresolved::MissingVariable {
                name: "QDRANT_UNSET".into()
            }
        );
        let (_, reason) = unresolved(
            p.resolve(&config(&[("a", "${env:/some/path:OTHER}")]))
                .unwrap_err(),
        );
        assert!(
            matches!(reason, Unresolved::PathNotSupported { .. }),
            "{reason:?}"
        );

        // The process environment when no map is given.
        let real = ConfigProviders::from_settings(&settings(&[
            ("config.providers", "env"),
            ("config.providers.env.class", "EnvVarConfigProvider"),
        ]))
        .unwrap();
        let path = std::env::var("PATH").unwrap();
        assert_eq!(
            real.resolve(&config(&[("p", "${env:PATH}")]))
                .unwrap()
                .config["p"],
            path
        );
    }

    #[test]
    fn dir_references_read_a_file_of_the_directory_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("qdrant_api_key"), "k3y\n").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub").join("inner"), "x").unwrap();
        let p = providers(&[], &[]);
        let d = dir.path().display().to_string();
        let r = p
            .resolve(&config(&[("k", &format!("${{dir:{d}:qdrant_api_key}}"))]))
            .unwrap();
        assert_eq!(r.config["k"], "k3y\n", "Connect keeps the file's bytes");
        for key in ["absent", "sub", "sub/inner", "..", "."] {
            let (_, reason) = unresolved(
                p.resolve(&config(&[("k", &format!("${{dir:{d}:{key}}}"))]))
                    .unwrap_err(),
            );
            assert!(
                matches!(reason, Unresolved::MissingFile { .. }),
                "{key}: {reason:?}"
            );
        }
        let file = dir.path().join("qdrant_api_key").display().to_string();
        let (_, reason) = unresolved(
            p.resolve(&config(&[("k", &format!("${{dir:{file}:x}}"))]))
                .unwrap_err(),
        );
        assert!(
            matches!(reason, Unresolved::NotADirectory { .. }),
            "{reason:?}"
        );
    }

    #[test]
    fn allowed_paths_confine_file_and_dir_providers() {
        let root = tempfile::tempdir().unwrap();
        let allowed = root.path().join("allowed");
        let other = root.path().join("other");
        for d in [&allowed, &other] {
            std::fs::create_dir(d).unwrap();
            std::fs::write(d.join("s.properties"), "k=v\n").unwrap();
            std::fs::write(d.join("k"), "v").unwrap();
        }
        let a = allowed.display().to_string();
        let p = providers(
            &[
                ("config.providers.file.param.allowed.paths", &a),
                ("config.providers.dir.param.allowed.paths", &a),
            ],
            &[],
        );
        let ok = p
            .resolve(&config(&[
                ("f", &format!("${{file:{a}/s.properties:k}}")),
                ("d", &format!("${{dir:{a}:k}}")),
                ("dot", &format!("${{dir:{a}/./:k}}")),
            ]))
            .unwrap();
        assert_eq!(ok.config["f"], "v");
        assert_eq!(ok.config["d"], "v");
        assert_eq!(ok.config["dot"], "v");
        let o = other.display().to_string();
        for value in [
            format!("${{file:{o}/s.properties:k}}"),
            format!("${{dir:{o}:k}}"),
            // `..` is resolved before the check.
            format!("${{file:{a}/../other/s.properties:k}}"),
            format!("${{dir:{a}/..:k}}"),
            "${file:relative/s.properties:k}".to_string(),
        ] {
            let (_, reason) = unresolved(p.resolve(&config(&[("k", &value)])).unwrap_err());
            assert!(
                matches!(reason, Unresolved::PathNotAllowed { .. }),
                "{value}: {reason:?}"
            );
        }
        // An allowed path must be absolute and exist.
        for bad in ["relative/dir", "/no/such/dir/anywhere"] {
            let error = ConfigProviders::from_settings(&settings(&[
                ("config.providers", "file"),
                ("config.providers.file.class", FILE_CONFIG_PROVIDER),
                ("config.providers.file.param.allowed.paths", bad),
            ]))
            .unwrap_err();
            assert!(
                matches!(
                    &error,
                    ConfigProviderError::InvalidParam {
                        param: ALLOWED_PATHS,
                        ..
                    }
                ),
                "{error:?}"
            );
        }
    }

    #[test]
    fn worker_settings_name_known_classes() {
        let from = |pairs: &[(&str, &str)]| ConfigProviders::from_settings(&settings(pairs));
        let error = from(&[("config.providers", "vault")]).unwrap_err();
        assert_eq!(
            error,
            ConfigProviderError::MissingClass {
                provider: "vault".into()
            }
        );
        let error = from(&[
            ("config.providers", "vault"),
            (
                "config.providers.vault.class",
                "io.confluent.csid.config.provider.vault.VaultConfigProvider",
            ),
        ])
        .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("config.providers.vault.class=io.confluent.csid.config.provider.vault.VaultConfigProvider: this host has no such ConfigProvider"),
            "{error}"
        );
        let error = from(&[
            ("config.providers", "env"),
            ("config.providers.env.class", "env"),
            ("config.providers.env.param.allowlist.pattern", "("),
        ])
        .unwrap_err();
        assert!(
            matches!(
                &error,
                ConfigProviderError::InvalidParam {
                    param: ALLOWLIST_PATTERN,
                    ..
                }
            ),
            "{error:?}"
        );
        let ok = from(&[
            ("config.providers", "a,b,c"),
            ("config.providers.a.class", "FileConfigProvider"),
            ("config.providers.b.class", "dir"),
            ("config.providers.c.class", ENV_VAR_CONFIG_PROVIDER),
            // A provider not listed is not set up.
            ("config.providers.d.class", "nonsense"),
        ])
        .unwrap();
        assert_eq!(
            ok.describe(),
            format!(
                "a ({FILE_CONFIG_PROVIDER}), b ({DIRECTORY_CONFIG_PROVIDER}), c ({ENV_VAR_CONFIG_PROVIDER})"
            )
        );
        // Misconfigured providers fail references, and only references.
        let broken = ConfigProviders::misconfigured(error);
        let message = broken
            .resolve(&config(&[("k", "${env:X}")]))
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with("Cannot resolve ${env:X} in 'k': the worker's config providers are misconfigured: config.providers.env.param.allowlist.pattern"),
            "{message}"
        );
        assert!(broken.resolve(&config(&[("k", "v")])).is_ok());
    }

    #[test]
    fn task_configs_get_their_references_back() {
        let raw = config(&[
            ("qdrant.api.key", "${file:/s:k}"),
            ("url", "http://q"),
            ("auth", "Bearer ${env:T}"),
        ]);
        let mut tasks = vec![
            config(&[
                ("qdrant.api.key", "resolved"),
                ("url", "http://q"),
                ("auth", "Bearer t"),
            ]),
            config(&[("url", "http://q"), ("task.only", "x")]),
        ];
        reverse_transform(&raw, &mut tasks);
        assert_eq!(tasks[0]["qdrant.api.key"], "${file:/s:k}");
        assert_eq!(tasks[0]["auth"], "Bearer ${env:T}");
        assert_eq!(tasks[0]["url"], "http://q");
        assert!(!tasks[1].contains_key("qdrant.api.key"), "nothing is added");
    }

    fn def_with_password(name: &str) -> ConfigDef {
        let mut key = ConfigKey::plain(name, "");
        key.kind = ConfigType::Password;
        ConfigDef { keys: vec![key] }
    }

    #[test]
    fn secrets_are_passwords_client_secrets_and_provided_values() {
        let p = providers(&[], &[("URL", "http://qdrant.internal:6334"), ("N", "2")]);
        let resolution = p
            .resolve(&config(&[
                ("qdrant.api.key", "literal-key"),
                ("consumer.override.sasl.password", "kafka-pw"),
                ("qdrant.url", "${env:URL}"),
                ("tasks.max", "${env:N}"),
                ("topics", "orders"),
            ]))
            .unwrap();
        let worker = settings(&[
            ("consumer.ssl.key.password", "worker-pw"),
            ("group.id", "g"),
        ]);
        let secrets = Secrets::collect(&def_with_password("qdrant.api.key"), &resolution, &worker);
        let trace = "key literal-key, sasl kafka-pw, ssl worker-pw, url http://qdrant.internal:6334, tasks 2 of orders";
        assert_eq!(
            secrets.mask(trace),
            "key [hidden], sasl [hidden], ssl [hidden], url [hidden], tasks 2 of orders"
        );
        // Escaped forms are masked too.
        let odd = Secrets::from_values(["a\"b\nc".to_string()]);
        assert_eq!(odd.mask(r#"{"k":"a\"b\nc"}"#), r#"{"k":"[hidden]"}"#);
        assert_eq!(odd.mask(&format!("{:?}", "a\"b\nc")), "\"[hidden]\"");
        // A secret inside another is masked as part of the longer one.
        let nested = Secrets::from_values(["abc".to_string(), "xxabcxx".to_string()]);
        assert_eq!(nested.mask("xxabcxx abc"), "[hidden] [hidden]");
        assert_eq!(
            format!("{secrets:?}"),
            format!("Secrets({} forms)", secrets.values.len())
        );
        assert!(!format!("{resolution:?}").contains("literal-key"));
        let error = secrets.mask_sink_error(SinkError::fatal("bad key literal-key"));
        assert_eq!(error.to_string(), "bad key [hidden]");
    }

    #[test]
    fn client_secrets_are_recognised_by_name() {
        for key in [
            "consumer.override.sasl.password",
            "producer.override.ssl.key.password",
            "consumer.sasl.jaas.config",
            "admin.override.sasl.oauthbearer.client.secret",
            "ssl.truststore.password",
            "sasl.password",
        ] {
            assert!(is_client_secret(key), "{key}");
        }
        for key in [
            "consumer.override.sasl.username",
            "passwordless",
            "qdrant.api.key",
            "topics",
        ] {
            assert!(!is_client_secret(key), "{key}");
        }
    }

    #[test]
    fn the_log_writer_redacts_every_known_secret() {
        let secret = format!("log-secret-{}", std::process::id());
        let _ = Secrets::from_values([secret.clone()]);
        assert_eq!(
            redact(&format!("warn: key {secret} refused")),
            "warn: key [hidden] refused"
        );
        assert!(matches!(redact("nothing here"), Cow::Borrowed(_)));
        let mut writer = RedactingWriter::default();
        writer.write_all(b"part one ").unwrap();
        writer.write_all(secret.as_bytes()).unwrap();
        writer.write_all(b" (the log writer test)\n").unwrap();
        assert!(String::from_utf8_lossy(&writer.buffer).contains(&secret));
        // Written (redacted) when the event is done.
        writer.flush().unwrap();
        assert!(writer.buffer.is_empty());
    }
}
