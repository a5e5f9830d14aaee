//! `connectors.d/`: connector files loaded at start, either the JSON body
//! you would POST (`{"name", "config"}`, or a flat config with `name`) or
//! Connect's `.properties` form.

use std::path::Path;

use connect_api::ConfigMap;
use connect_api::config::{ConfigValues, NullValue};
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

/// Why a connector file was skipped.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorFileError {
    #[error("{0}")]
    Read(#[from] std::io::Error),
    #[error("not valid JSON: {0}")]
    Json(serde_json::Error),
    #[error("expected a JSON object")]
    NotObject,
    #[error("\"config\" must be an object")]
    ConfigNotObject,
    #[error("{0}")]
    Values(serde_json::Error),
    #[error("{0}")]
    NullValue(#[from] NullValue),
    #[error("not a valid properties file: {0}")]
    Properties(#[from] java_properties::PropertiesError),
    #[error("missing \"name\"")]
    NoName,
}

fn read_file(path: &Path, ext: &str) -> Result<(String, ConfigMap), ConnectorFileError> {
    let text = std::fs::read_to_string(path)?;
    let mut config: ConfigMap = if ext == "json" {
        let value: Value = serde_json::from_str(&text).map_err(ConnectorFileError::Json)?;
        let Value::Object(mut obj) = value else {
            return Err(ConnectorFileError::NotObject);
        };
        // The body you would POST, or a flat config.
        let body = match obj.remove("config") {
            Some(Value::Object(mut config)) => {
                if let Some(name) = obj.remove("name") {
                    config.entry("name").or_insert(name);
                }
                config
            }
            Some(_) => return Err(ConnectorFileError::ConfigNotObject),
            None => obj,
        };
        serde_json::from_value::<ConfigValues>(Value::Object(body))
            .map_err(ConnectorFileError::Values)?
            .into_config()?
    } else {
        java_properties::read(text.as_bytes())?
            .into_iter()
            .collect()
    };
    let name = config
        .get("name")
        .cloned()
        .filter(|n| !n.trim().is_empty())
        .ok_or(ConnectorFileError::NoName)?;
    config.insert("name".into(), name.clone());
    Ok((name, config))
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
