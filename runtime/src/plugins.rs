//! The plain registry of connector classes this host ships.

use std::sync::Arc;

use connect_api::SinkConnectorPlugin;

#[derive(Clone, Default)]
pub struct PluginRegistry {
    plugins: Vec<Arc<dyn SinkConnectorPlugin>>,
}

impl PluginRegistry {
    pub fn new(plugins: Vec<Arc<dyn SinkConnectorPlugin>>) -> Self {
        Self { plugins }
    }

    /// Look up by full class name or alias, as `connector.class` allows.
    pub fn find(&self, name: &str) -> Option<Arc<dyn SinkConnectorPlugin>> {
        let name = name.trim();
        self.plugins
            .iter()
            .find(|p| {
                p.class_name() == name || p.aliases().iter().any(|a| a.eq_ignore_ascii_case(name))
            })
            .cloned()
    }

    pub fn all(&self) -> &[Arc<dyn SinkConnectorPlugin>] {
        &self.plugins
    }

    /// Connect's message for a `connector.class` no plugin answers to.
    pub fn unknown(&self, class: &str) -> String {
        let known: Vec<&str> = self.plugins.iter().map(|p| p.class_name()).collect();
        format!(
            "Failed to find any class that implements Connector and which name matches {class}, available connectors are: {}",
            known.join(", ")
        )
    }
}
