//! Logging with levels changeable at run time (`/admin/loggers`): logger
//! names are tracing targets (`connect_runtime::sink_task`), plus `root`.

use std::collections::BTreeMap;
use std::sync::Mutex;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Registry, reload};

pub struct LogLevels {
    handle: reload::Handle<EnvFilter, Registry>,
    /// Explicit levels, `root` always present, in Connect's level names.
    levels: Mutex<BTreeMap<String, String>>,
}

const LEVELS: &[&str] = &["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "OFF"];

fn directive_level(level: &str) -> &'static str {
    match level {
        "TRACE" => "trace",
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
        levels.insert("root".to_string(), "INFO".to_string());
        for directive in initial
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
        {
            match directive.split_once('=') {
                Some((target, level)) => {
                    levels.insert(target.to_string(), level.to_ascii_uppercase())
                }
                None => levels.insert("root".to_string(), directive.to_ascii_uppercase()),
            };
        }
        let (filter, handle) = reload::Layer::new(Self::filter(&levels));
        let _ = tracing_subscriber::registry()
            .with(filter)
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())),
            )
            .try_init();
        Self {
            handle,
            levels: Mutex::new(levels),
        }
    }

    fn filter(levels: &BTreeMap<String, String>) -> EnvFilter {
        let mut directives = vec![directive_level(&levels["root"]).to_string()];
        directives.extend(
            levels
                .iter()
                .filter(|(n, _)| *n != "root")
                .map(|(n, l)| format!("{n}={}", directive_level(l))),
        );
        EnvFilter::try_new(directives.join(",")).unwrap_or_else(|_| EnvFilter::new("info"))
    }

    pub fn all(&self) -> BTreeMap<String, String> {
        self.levels
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The level in force for `name`: its own, or its nearest parent's.
    pub fn get(&self, name: &str) -> Option<String> {
        let levels = self.levels.lock().unwrap_or_else(|e| e.into_inner());
        levels.get(name).cloned()
    }

    /// Set `name` (and loggers below it) to `level`; returns the loggers changed.
    pub fn set(&self, name: &str, level: &str) -> Result<Vec<String>, String> {
        let level = level.trim().to_ascii_uppercase();
        if !LEVELS.contains(&level.as_str()) {
            return Err(format!(
                "Invalid level '{level}', must be one of {}",
                LEVELS.join(", ")
            ));
        }
        let name = name.trim();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | ':' | '.' | '-'))
        {
            return Err(format!("Invalid logger name '{name}'"));
        }
        let mut levels = self.levels.lock().unwrap_or_else(|e| e.into_inner());
        let mut changed = Vec::new();
        if name == "root" {
            for (n, l) in levels.iter_mut() {
                *l = level.clone();
                changed.push(n.clone());
            }
        } else {
            let prefix = format!("{name}::");
            for (n, l) in levels.iter_mut().filter(|(n, _)| n.starts_with(&prefix)) {
                *l = level.clone();
                changed.push(n.clone());
            }
            levels.insert(name.to_string(), level);
            changed.push(name.to_string());
        }
        changed.sort();
        self.handle
            .reload(Self::filter(&levels))
            .map_err(|e| e.to_string())?;
        Ok(changed)
    }
}
