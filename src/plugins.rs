//! The connector classes built into this host.

use std::sync::Arc;

use connect_runtime::plugins::PluginRegistry;

pub fn registry() -> PluginRegistry {
    #[allow(unused_mut)]
    let mut plugins: Vec<Arc<dyn connect_api::SinkConnectorPlugin>> =
        vec![Arc::new(file_stream_sink::FileStreamSinkPlugin)];
    #[cfg(feature = "test-plugins")]
    plugins.push(Arc::new(test_sinks::FlakySinkPlugin));
    PluginRegistry::new(plugins)
}
