//! `FlakySinkConnector`: a file sink that is unavailable for its first
//! `fail.puts` puts (a retriable error each time), can be slow
//! (`put.delay.ms`, `start.delay.ms`), and reports records whose value contains
//! `errant.marker` as unwritable. Only built with the
//! `test-plugins` feature, for the end-to-end tests of retries and the
//! put-stage dead-letter path.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use connect_api::{
    ConfigDef, ConfigMap, OffsetMap, PutContext, RecordError, SinkConnector, SinkConnectorPlugin,
    SinkError, SinkRecord, SinkTask,
};
use schemars::JsonSchema;
use serde::Deserialize;
use tokio::io::AsyncWriteExt;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct FlakySinkConfig {
    /// File the accepted record values are appended to, one per line.
    pub file: String,
    /// Number of put calls that fail with a retriable error before the sink accepts.
    #[serde(rename = "fail.puts", default)]
    pub fail_puts: u64,
    /// Records whose value contains this text are reported as errant.
    #[serde(rename = "errant.marker", default)]
    pub errant_marker: Option<String>,
    /// File that counts put attempts (one line per attempt), so tests can see redeliveries.
    #[serde(rename = "attempts.file", default)]
    pub attempts_file: Option<String>,
    /// How long each put takes, in milliseconds (a slow sink).
    #[serde(rename = "put.delay.ms", default)]
    pub put_delay_ms: u64,
    /// How long the connector's start takes, in milliseconds (a slow start, e.g. a remote check).
    #[serde(rename = "start.delay.ms", default)]
    pub start_delay_ms: u64,
}

pub struct FlakySinkPlugin;

impl SinkConnectorPlugin for FlakySinkPlugin {
    fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }
    fn class_name(&self) -> &'static str {
        "io.connecthost.test.FlakySinkConnector"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["FlakySinkConnector", "FlakySink"]
    }
    fn config_def(&self) -> ConfigDef {
        ConfigDef::from_schema::<FlakySinkConfig>("Flaky")
    }
    fn create_connector(&self) -> Box<dyn SinkConnector> {
        Box::new(FlakyConnector)
    }
    fn create_task(&self) -> Box<dyn SinkTask> {
        Box::new(FlakyTask {
            config: None,
            failures: Arc::new(AtomicU64::new(0)),
            out: None,
        })
    }
}

struct FlakyConnector;

#[async_trait]
impl SinkConnector for FlakyConnector {
    async fn start(&mut self, config: &ConfigMap) -> Result<(), SinkError> {
        let config: FlakySinkConfig = FlakySinkPlugin
            .config_def()
            .parse(config)
            .map_err(|e| SinkError::fatal(format!("{e:?}")))?;
        tokio::time::sleep(std::time::Duration::from_millis(config.start_delay_ms)).await;
        Ok(())
    }
}

struct FlakyTask {
    config: Option<FlakySinkConfig>,
    failures: Arc<AtomicU64>,
    out: Option<tokio::fs::File>,
}

#[async_trait]
impl SinkTask for FlakyTask {
    async fn start(&mut self, config: &ConfigMap) -> Result<(), SinkError> {
        let config: FlakySinkConfig = FlakySinkPlugin
            .config_def()
            .parse(config)
            .map_err(|e| SinkError::fatal(format!("{e:?}")))?;
        let out = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&config.file)
            .await
            .map_err(|e| SinkError::fatal(e.to_string()))?;
        self.out = Some(out);
        self.config = Some(config);
        Ok(())
    }

    async fn put(&mut self, records: &[SinkRecord], ctx: &mut PutContext) -> Result<(), SinkError> {
        let config = self
            .config
            .as_ref()
            .ok_or_else(|| SinkError::fatal("not started"))?;
        if records.is_empty() {
            return Ok(());
        }
        if let Some(path) = &config.attempts_file {
            let mut f = tokio::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .await
                .map_err(|e| SinkError::fatal(e.to_string()))?;
            f.write_all(format!("{}\n", records.len()).as_bytes())
                .await
                .map_err(|e| SinkError::fatal(e.to_string()))?;
        }
        if config.put_delay_ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(config.put_delay_ms)).await;
        }
        if self.failures.fetch_add(1, Ordering::SeqCst) < config.fail_puts {
            return Err(SinkError::retriable("sink unavailable (simulated)"));
        }
        let mut lines = String::new();
        for record in records {
            let value = record.value.to_display_string();
            if config
                .errant_marker
                .as_ref()
                .is_some_and(|m| value.contains(m.as_str()))
            {
                ctx.report(
                    record,
                    RecordError::new(
                        "io.connecthost.test.ErrantRecord",
                        format!("value contains the errant marker: {value}"),
                    ),
                );
                continue;
            }
            lines.push_str(&value);
            lines.push('\n');
        }
        let out = self
            .out
            .as_mut()
            .ok_or_else(|| SinkError::fatal("not started"))?;
        out.write_all(lines.as_bytes())
            .await
            .map_err(|e| SinkError::retriable(e.to_string()))
    }

    async fn flush(&mut self, _offsets: &OffsetMap) -> Result<(), SinkError> {
        if let Some(out) = self.out.as_mut() {
            out.sync_data()
                .await
                .map_err(|e| SinkError::retriable(e.to_string()))?;
        }
        Ok(())
    }
}
