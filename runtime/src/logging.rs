//! Logging with levels changeable at run time (`/admin/loggers`): logger
//! names are tracing targets (`connect_runtime::sink_task`), plus `root`.

use std::collections::BTreeMap;
use std::sync::Mutex;

use std::sync::atomic::{AtomicBool, Ordering};

use tracing_subscriber::Layer;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Registry, reload};

/// A level or logger name `/admin/loggers` and the log4j settings refuse
/// (Connect's messages).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LevelError {
    #[error("invalid log level '{0}'.")]
    Level(String),
    #[error("Invalid logger name '{0}'")]
    Logger(String),
    /// The log filter could not be swapped (the subscriber is gone).
    #[error("cannot apply the log levels: {0}")]
    Reload(String),
}

use crate::config_provider::RedactingStderr;
use crate::worker_config::LogFormat;

/// Whether log lines are JSON objects (`log.format=json`): one switch for
/// the process, as there is one subscriber.
static JSON_LINES: AtomicBool = AtomicBool::new(false);

pub struct LogLevels {
    handle: reload::Handle<EnvFilter, Registry>,
    /// Explicit levels, `root` always present.
    levels: Mutex<BTreeMap<String, LoggerLevel>>,
}

/// Connect's `LoggerLevel`: a level in Connect's names, and when it was
/// last changed at run time (ms since the epoch; `None` since start-up).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggerLevel {
    pub level: String,
    pub last_modified: Option<i64>,
}

impl LoggerLevel {
    fn initial(level: String) -> Self {
        Self {
            level,
            last_modified: None,
        }
    }
}

/// Log4j's level names, as Connect accepts them.
pub const LEVELS: &[&str] = &[
    "ALL", "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "OFF",
];

fn directive_level(level: &str) -> &'static str {
    match level {
        "ALL" | "TRACE" => "trace",
        "DEBUG" => "debug",
        "INFO" => "info",
        "WARN" => "warn",
        "ERROR" | "FATAL" => "error",
        _ => "off",
    }
}

impl LogLevels {
    /// Install the global subscriber; `RUST_LOG`-style `initial` directives
    /// seed the levels (default: root INFO).
    pub fn init(initial: Option<&str>) -> Self {
        let mut levels = BTreeMap::new();
        levels.insert("root".to_string(), LoggerLevel::initial("INFO".into()));
        for directive in initial
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
        {
            match directive.split_once('=') {
                Some((target, level)) => levels.insert(
                    target.to_string(),
                    LoggerLevel::initial(level.to_ascii_uppercase()),
                ),
                None => levels.insert(
                    "root".to_string(),
                    LoggerLevel::initial(directive.to_ascii_uppercase()),
                ),
            };
        }
        let (filter, handle) = reload::Layer::new(Self::filter(&levels));
        // Both formats are installed; `log.format` (read after start-up)
        // picks which one writes. Secrets the worker resolved or was given
        // as PASSWORD values are masked in every line.
        let json = |wanted: bool| filter_fn(move |_| JSON_LINES.load(Ordering::Relaxed) == wanted);
        let _ = tracing_subscriber::registry()
            .with(filter)
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(RedactingStderr)
                    .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                    .with_filter(json(false)),
            )
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer(RedactingStderr)
                    .with_filter(json(true)),
            )
            .try_init();
        Self {
            handle,
            levels: Mutex::new(levels),
        }
    }

    /// `log.format`: text (the default) or one JSON object per line.
    pub fn set_format(&self, format: LogFormat) {
        JSON_LINES.store(format == LogFormat::Json, Ordering::Relaxed);
    }

    fn filter(levels: &BTreeMap<String, LoggerLevel>) -> EnvFilter {
        let mut directives = vec![directive_level(&levels["root"].level).to_string()];
        directives.extend(
            levels
                .iter()
                .filter(|(n, _)| *n != "root")
                .map(|(n, l)| format!("{n}={}", directive_level(&l.level))),
        );
        EnvFilter::try_new(directives.join(",")).unwrap_or_else(|_| EnvFilter::new("info"))
    }

    pub fn all(&self) -> BTreeMap<String, LoggerLevel> {
        self.levels
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The level set for `name`.
    pub fn get(&self, name: &str) -> Option<LoggerLevel> {
        let levels = self.levels.lock().unwrap_or_else(|e| e.into_inner());
        levels.get(name).cloned()
    }

    /// Levels from the worker settings (`log4j.root.loglevel`,
    /// `log4j.loggers`): in force from start-up, so not "modified".
    pub fn apply_initial(&self, levels: &[(String, String)]) -> Result<(), LevelError> {
        for (name, level) in levels {
            self.set(name, level)?;
        }
        let mut current = self.levels.lock().unwrap_or_else(|e| e.into_inner());
        for (name, _) in levels {
            if let Some(l) = current.get_mut(name) {
                l.last_modified = None;
            }
        }
        Ok(())
    }

    /// Set `name` (and loggers below it) to `level`; returns the loggers changed.
    pub fn set(&self, name: &str, level: &str) -> Result<Vec<String>, LevelError> {
        let given = level;
        let level = level.trim().to_ascii_uppercase();
        if !LEVELS.contains(&level.as_str()) {
            return Err(LevelError::Level(given.to_string()));
        }
        let name = name.trim();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | ':' | '.' | '-'))
        {
            return Err(LevelError::Logger(name.to_string()));
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        // A logger already at that level keeps its last_modified, as in Connect.
        let set_to = |current: Option<&LoggerLevel>| match current {
            Some(c) if c.level == level => c.clone(),
            _ => LoggerLevel {
                level: level.clone(),
                last_modified: Some(now),
            },
        };
        let mut levels = self.levels.lock().unwrap_or_else(|e| e.into_inner());
        let mut changed = Vec::new();
        if name == "root" {
            for (n, l) in levels.iter_mut() {
                *l = set_to(Some(l));
                changed.push(n.clone());
            }
        } else {
            // Children by Rust path (`a::b`) or by Java package (`a.b`).
            let (rust, java) = (format!("{name}::"), format!("{name}."));
            for (n, l) in levels
                .iter_mut()
                .filter(|(n, _)| n.starts_with(&rust) || n.starts_with(&java))
            {
                *l = set_to(Some(l));
                changed.push(n.clone());
            }
            let new = set_to(levels.get(name));
            levels.insert(name.to_string(), new);
            changed.push(name.to_string());
        }
        changed.sort();
        self.handle
            .reload(Self::filter(&levels))
            .map_err(|e| LevelError::Reload(e.to_string()))?;
        Ok(changed)
    }
}
