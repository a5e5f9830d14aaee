//! `connectors.d/`: connector files loaded at start, either the JSON body
//! you would POST (`{"name", "config"}`, or a flat config with `name`) or
//! Connect's `.properties` form.

use std::path::Path;

use connect_api::ConfigMap;
use connect_api::config::json_kind;
use serde_json::Value;

/// A connector file that could be read.
#[derive(Debug)]
pub struct ConnectorFile {
    pub file: String,
    pub name: String,
    pub config: ConfigMap,
}

/// Every connector file in `dir`, in name order; unreadable ones are
/// reported with the reason and skipped.
pub fn load_connectors_dir(dir: &Path) -> (Vec<ConnectorFile>, Vec<String>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (files, errors);
    };
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default();
        if !matches!(ext, "json" | "properties") {
            continue;
        }
        match read_file(&path, ext) {
            Ok((name, config)) => files.push(ConnectorFile {
                file: path.display().to_string(),
                name,
                config,
            }),
            Err(e) => errors.push(format!("{}: {e}", path.display())),
        }
    }
    (files, errors)
}

fn read_file(path: &Path, ext: &str) -> Result<(String, ConfigMap), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut config = if ext == "json" {
        let value: Value =
            serde_json::from_str(&text).map_err(|e| format!("not valid JSON: {e}"))?;
        let Value::Object(mut obj) = value else {
            return Err("expected a JSON object".into());
        };
        let body = match obj.remove("config") {
            Some(Value::Object(config)) => {
                if let Some(name) = obj.remove("name") {
                    let mut config = config;
                    config.entry("name").or_insert(name);
                    config
                } else {
                    config
                }
            }
            Some(_) => return Err("\"config\" must be an object".into()),
            None => obj,
        };
        string_map(body)?
    } else {
        java_properties::read(text.as_bytes())
            .map_err(|e| format!("not a valid properties file: {e}"))?
            .into_iter()
            .collect()
    };
    let name = config
        .get("name")
        .cloned()
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| "missing \"name\"".to_string())?;
    config.insert("name".into(), name.clone());
    Ok((name, config))
}

/// Connect's configs are strings; numbers and booleans are accepted and
/// stored as strings (`"tasks.max": 1`), anything else is refused naming the key.
fn string_map(obj: serde_json::Map<String, Value>) -> Result<ConfigMap, String> {
    obj.into_iter()
        .map(|(k, v)| match config_value(&k, v)? {
            Some(s) => Ok((k, s)),
            None => Err(format!(
                "Invalid value for config \"{k}\": expected a string, got null"
            )),
        })
        .collect()
}

/// One config value as Connect stores it; `None` for null (which PATCH
/// uses to remove a key).
fn config_value(key: &str, v: Value) -> Result<Option<String>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        other => Err(format!(
            "Invalid value for config \"{key}\": expected a string, got {}",
            json_kind(&other)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_json_and_properties_and_reports_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.json"),
            r#"{"name":"a","config":{"connector.class":"file","tasks.max":2}}"#,
        )
        .unwrap();
        std::fs::write(
            dir.path().join("b.properties"),
            "name=b\nconnector.class=file\ntopics=t\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("c.json"), "{broken").unwrap();
        std::fs::write(dir.path().join("d.json"), r#"{"connector.class":"file"}"#).unwrap();
        std::fs::write(dir.path().join("README.md"), "ignored").unwrap();
        let (files, errors) = load_connectors_dir(dir.path());
        assert_eq!(
            files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
            vec!["a", "b"]
        );
        assert_eq!(files[0].config["tasks.max"], "2");
        assert_eq!(files[0].config["name"], "a");
        assert_eq!(files[1].config["topics"], "t");
        assert_eq!(errors.len(), 2);
        assert!(errors[0].contains("c.json") && errors[0].contains("JSON"));
        assert!(errors[1].contains("missing \"name\""));
    }
}
