//! Kafka Connect's `FileStreamSinkConnector`: each record value becomes one
//! line of `file` (standard output when `file` is unset), for drop-in parity,
//! demos and tests.

use async_trait::async_trait;
use connect_api::{
    ConfigDef, ConfigMap, OffsetMap, PutContext, SinkConnector, SinkConnectorPlugin, SinkError,
    SinkRecord, SinkTask,
};
use schemars::JsonSchema;
use serde::Deserialize;
use tokio::io::{AsyncWrite, AsyncWriteExt, BufWriter};

/// Settings of the FileStream sink.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct FileStreamSinkConfig {
    /// Destination filename. If not specified, the standard output will be used.
    #[serde(default)]
    pub file: Option<String>,
}

pub struct FileStreamSinkPlugin;

impl SinkConnectorPlugin for FileStreamSinkPlugin {
    fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }
    fn class_name(&self) -> &'static str {
        "org.apache.kafka.connect.file.FileStreamSinkConnector"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["FileStreamSinkConnector", "FileStreamSink", "file"]
    }
    fn config_def(&self) -> ConfigDef {
        ConfigDef::from_schema::<FileStreamSinkConfig>("File")
    }
    fn create_connector(&self) -> Box<dyn SinkConnector> {
        Box::new(FileStreamSinkConnector)
    }
    fn create_task(&self) -> Box<dyn SinkTask> {
        Box::new(FileStreamSinkTask { out: None })
    }
}

struct FileStreamSinkConnector;

#[async_trait]
impl SinkConnector for FileStreamSinkConnector {
    async fn start(&mut self, _config: &ConfigMap) -> Result<(), SinkError> {
        Ok(())
    }
}

struct FileStreamSinkTask {
    out: Option<BufWriter<Box<dyn AsyncWrite + Send + Unpin>>>,
}

#[async_trait]
impl SinkTask for FileStreamSinkTask {
    async fn start(&mut self, config: &ConfigMap) -> Result<(), SinkError> {
        let config: FileStreamSinkConfig = FileStreamSinkPlugin
            .config_def()
            .parse(config)
            .map_err(|issues| SinkError::fatal(format!("{issues:?}")))?;
        let writer: Box<dyn AsyncWrite + Send + Unpin> = match &config.file {
            Some(path) => Box::new(
                tokio::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .await
                    .map_err(|e| {
                        SinkError::fatal(format!(
                            "Couldn't find or create file '{path}' for FileStreamSinkTask: {e}"
                        ))
                    })?,
            ),
            None => Box::new(tokio::io::stdout()),
        };
        self.out = Some(BufWriter::new(writer));
        Ok(())
    }

    async fn put(
        &mut self,
        records: &[SinkRecord],
        _ctx: &mut PutContext,
    ) -> Result<(), SinkError> {
        let out = self
            .out
            .as_mut()
            .ok_or_else(|| SinkError::fatal("task not started"))?;
        for record in records {
            let mut line = record.value.to_display_string();
            line.push('\n');
            out.write_all(line.as_bytes())
                .await
                .map_err(|e| SinkError::retriable(format!("write failed: {e}")))?;
        }
        Ok(())
    }

    async fn flush(&mut self, _offsets: &OffsetMap) -> Result<(), SinkError> {
        if let Some(out) = self.out.as_mut() {
            out.flush()
                .await
                .map_err(|e| SinkError::retriable(format!("flush failed: {e}")))?;
        }
        Ok(())
    }

    async fn stop(&mut self) {
        if let Some(mut out) = self.out.take() {
            let _ = out.flush().await;
        }
    }
}
