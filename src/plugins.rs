//! The connector classes built into this host: one plain list.

use std::sync::Arc;

use connect_api::SinkConnectorPlugin;
use connect_runtime::plugins::PluginRegistry;

pub fn registry() -> PluginRegistry {
    #[allow(unused_mut)]
    let mut plugins: Vec<Arc<dyn SinkConnectorPlugin>> = vec![
        Arc::new(qdrant_embedding_sink::QdrantSinkPlugin::EMBEDDING),
        Arc::new(qdrant_embedding_sink::QdrantSinkPlugin::PRE_EMBEDDED),
        Arc::new(file_stream_sink::FileStreamSinkPlugin),
    ];
    #[cfg(feature = "test-plugins")]
    plugins.push(Arc::new(test_sinks::FlakySinkPlugin));
    PluginRegistry::new(plugins)
}
