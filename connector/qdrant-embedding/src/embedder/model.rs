//! A sentence-transformer model directory: tokenizer, BERT weights, pooling
//! and normalisation exactly as its `modules.json` says.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use tch::{Device, Kind, Tensor};
use tokenizers::{Tokenizer, TruncationParams};

use super::bert::{Bert, BertConfig, WeightsError};
use super::device::{DeviceError, DeviceSpec, Precision};

#[derive(Debug, Deserialize)]
struct PoolingConfig {
    #[serde(default)]
    pooling_mode_cls_token: bool,
    #[serde(default)]
    pooling_mode_mean_tokens: bool,
    #[serde(default)]
    pooling_mode_max_tokens: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pooling {
    Mean,
    Cls,
    Max,
}

#[derive(Debug, Deserialize)]
struct Module {
    #[serde(default)]
    path: String,
    #[serde(rename = "type")]
    kind: String,
}

/// A tokenized text: ids and token type ids, truncated to the model's limit.
pub struct Encoded {
    pub ids: Vec<i64>,
    pub type_ids: Vec<i64>,
}

/// A loaded sentence-transformer, in the two parts that run on different
/// threads: the tokenizer (tokenizing stage) and the network (forward stage).
pub struct SentenceTransformer {
    pub encoder: TextEncoder,
    pub model: EncoderModel,
}

/// Text → token ids, truncated as sentence-transformers truncates.
pub struct TextEncoder {
    tokenizer: Tokenizer,
    limit: usize,
}

/// Token ids → pooled, normalised vectors.
pub struct EncoderModel {
    bert: Bert,
    pooling: Pooling,
    normalize: bool,
    pub device: Device,
    pub kind: Kind,
    pub dimension: usize,
    pub dir: PathBuf,
}

/// Why a model could not be loaded; names the file at fault.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(
        "model directory '{}' not found or incomplete: it needs model.safetensors, tokenizer.json and config.json",
        .0.display()
    )]
    Incomplete(PathBuf),
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot parse {}: {source}", .path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot load {}: {message}", .path.display())]
    Tokenizer { path: PathBuf, message: String },
    #[error(transparent)]
    Device(#[from] DeviceError),
    #[error(transparent)]
    Weights(#[from] WeightsError),
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| LoadError::Parse {
        path: path.to_path_buf(),
        source,
    })
}

/// A model directory has what loading needs; if not, which directory.
pub fn check_model_dir(dir: &Path) -> Result<(), LoadError> {
    let complete = ["model.safetensors", "tokenizer.json", "config.json"]
        .iter()
        .all(|f| dir.join(f).is_file());
    if complete {
        Ok(())
    } else {
        Err(LoadError::Incomplete(dir.to_path_buf()))
    }
}

impl SentenceTransformer {
    pub fn load(dir: &Path, device: DeviceSpec, precision: Precision) -> Result<Self, LoadError> {
        check_model_dir(dir)?;
        let device = device.resolve()?;
        let kind = precision.kind(device);
        let config: BertConfig = read_json(&dir.join("config.json"))?;
        let dimension = config.hidden_size as usize;
        // sentence-transformers truncates at max_seq_length (256 here), not
        // at the 128 the tokenizer file carries, and pads per batch.
        let max_seq_length = read_json::<serde_json::Value>(&dir.join("sentence_bert_config.json"))
            .ok()
            .and_then(|v| v["max_seq_length"].as_u64())
            .unwrap_or(config.max_position_embeddings as u64) as usize;
        let tokenizer_path = dir.join("tokenizer.json");
        let tokenizer_error = |e: tokenizers::Error| LoadError::Tokenizer {
            path: tokenizer_path.clone(),
            message: e.to_string(),
        };
        let mut tokenizer = Tokenizer::from_file(&tokenizer_path).map_err(tokenizer_error)?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_seq_length,
                ..Default::default()
            }))
            .map_err(tokenizer_error)?;

        let modules: Vec<Module> = read_json(&dir.join("modules.json")).unwrap_or_default();
        let normalize = modules.iter().any(|m| m.kind.ends_with("Normalize"));
        let pooling_dir = modules
            .iter()
            .find(|m| m.kind.ends_with("Pooling"))
            .map(|m| dir.join(&m.path))
            .unwrap_or_else(|| dir.join("1_Pooling"));
        let pooling = match read_json::<PoolingConfig>(&pooling_dir.join("config.json")) {
            Ok(p) if p.pooling_mode_cls_token => Pooling::Cls,
            Ok(p) if p.pooling_mode_max_tokens && !p.pooling_mode_mean_tokens => Pooling::Max,
            _ => Pooling::Mean,
        };
        let bert = Bert::load(dir, config, device, kind)?;
        tracing::info!(model = %dir.display(), ?device, ?kind, ?pooling, normalize, dimension, "embedding model loaded");
        Ok(Self {
            encoder: TextEncoder {
                limit: bert.max_positions() as usize,
                tokenizer,
            },
            model: EncoderModel {
                bert,
                pooling,
                normalize,
                device,
                kind,
                dimension,
                dir: dir.to_path_buf(),
            },
        })
    }
}

impl TextEncoder {
    pub fn encode(&self, text: &str) -> Result<Encoded, String> {
        let enc = self
            .tokenizer
            .encode(text, true)
            .map_err(|e| format!("tokenizer failed: {e}"))?;
        Ok(self.ids(&enc))
    }

    /// Every text, tokenized on all cores; a text the tokenizer refuses
    /// gets its own error.
    pub fn encode_all(&self, texts: &[&str]) -> Vec<Result<Encoded, String>> {
        match self.tokenizer.encode_batch(texts.to_vec(), true) {
            Ok(all) => all.iter().map(|e| Ok(self.ids(e))).collect(),
            // Find which: one at a time.
            Err(_) => texts.iter().map(|t| self.encode(t)).collect(),
        }
    }

    fn ids(&self, enc: &tokenizers::Encoding) -> Encoded {
        Encoded {
            ids: enc
                .get_ids()
                .iter()
                .take(self.limit)
                .map(|&i| i as i64)
                .collect(),
            type_ids: enc
                .get_type_ids()
                .iter()
                .take(self.limit)
                .map(|&i| i as i64)
                .collect(),
        }
    }
}

impl EncoderModel {
    /// Pooled (and normalised, if the model says so) fp32 vectors
    /// `[rows, dimension]` of a padded pass, left on the device. Panics from
    /// libtorch (e.g. out of memory) propagate to the caller, which splits
    /// the pass.
    pub fn pooled(&self, ids: &Tensor, types: &Tensor, mask: &Tensor) -> Tensor {
        // Pinned host memory: the copies do not wait for the device.
        let to = |t: &Tensor| t.to_device_(self.device, Kind::Int64, true, false);
        let (ids, types, mask) = (to(ids), to(types), to(mask));
        let tokens = self.bert.forward(&ids, &types, &mask).to_kind(Kind::Float);
        let maskf = mask.to_kind(Kind::Float).unsqueeze(-1);
        let pooled = match self.pooling {
            Pooling::Mean => {
                (&tokens * &maskf).sum_dim_intlist(1, false, Kind::Float)
                    / maskf.sum_dim_intlist(1, false, Kind::Float).clamp_min(1e-9)
            }
            Pooling::Cls => tokens.select(1, 0),
            Pooling::Max => (&tokens + (maskf - 1.0) * 1e9).amax(1, false),
        };
        if self.normalize {
            let norm = pooled.norm_scalaropt_dim(2, 1, true).clamp_min(1e-12);
            pooled / norm
        } else {
            pooled
        }
    }
}
