//! A BERT encoder forward pass on libtorch, reading Hugging Face weight
//! names (`embeddings.word_embeddings.weight`, `encoder.layer.0.…`).

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;
use tch::{Device, Kind, Tensor};

/// The parts of `config.json` the forward pass needs.
#[derive(Debug, Clone, Deserialize)]
pub struct BertConfig {
    pub hidden_size: i64,
    pub num_attention_heads: i64,
    pub num_hidden_layers: i64,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    #[serde(default = "default_act")]
    pub hidden_act: String,
    pub max_position_embeddings: i64,
}

fn default_eps() -> f64 {
    1e-12
}
fn default_act() -> String {
    "gelu".into()
}

struct Linear {
    weight: Tensor,
    bias: Tensor,
}

impl Linear {
    fn forward(&self, x: &Tensor) -> Tensor {
        x.linear(&self.weight, Some(&self.bias))
    }
}

struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
}

struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attention_out: Linear,
    attention_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    output_norm: LayerNorm,
}

pub struct Bert {
    config: BertConfig,
    word: Tensor,
    position: Tensor,
    token_type: Tensor,
    embeddings_norm: LayerNorm,
    layers: Vec<Layer>,
}

/// Why `model.safetensors` is not a BERT this embedder runs.
#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        path: std::path::PathBuf,
        #[source]
        source: tch::TchError,
    },
    #[error("{} has no tensor '{name}': not a BERT model", .path.display())]
    Missing {
        path: std::path::PathBuf,
        name: String,
    },
    #[error("unsupported hidden_act '{0}': only gelu BERT models are supported")]
    Activation(String),
}

impl Bert {
    /// Load `model.safetensors` onto `device` in `kind`.
    pub fn load(
        dir: &Path,
        config: BertConfig,
        device: Device,
        kind: Kind,
    ) -> Result<Self, WeightsError> {
        let path = dir.join("model.safetensors");
        let tensors: HashMap<String, Tensor> = Tensor::read_safetensors(&path)
            .map_err(|source| WeightsError::Read {
                path: path.clone(),
                source,
            })?
            .into_iter()
            // Some exports prefix every name with `bert.`.
            .map(|(name, t)| (name.strip_prefix("bert.").unwrap_or(&name).to_string(), t))
            .collect();
        let take = |name: &str| -> Result<Tensor, WeightsError> {
            tensors
                .get(name)
                .map(|t| t.to_device(device).to_kind(kind))
                .ok_or_else(|| WeightsError::Missing {
                    path: path.clone(),
                    name: name.to_string(),
                })
        };
        let linear = |prefix: &str| -> Result<Linear, WeightsError> {
            Ok(Linear {
                weight: take(&format!("{prefix}.weight"))?,
                bias: take(&format!("{prefix}.bias"))?,
            })
        };
        let norm = |prefix: &str| -> Result<LayerNorm, WeightsError> {
            Ok(LayerNorm {
                weight: take(&format!("{prefix}.weight"))?,
                bias: take(&format!("{prefix}.bias"))?,
            })
        };
        let layers = (0..config.num_hidden_layers)
            .map(|i| {
                let p = format!("encoder.layer.{i}");
                Ok(Layer {
                    query: linear(&format!("{p}.attention.self.query"))?,
                    key: linear(&format!("{p}.attention.self.key"))?,
                    value: linear(&format!("{p}.attention.self.value"))?,
                    attention_out: linear(&format!("{p}.attention.output.dense"))?,
                    attention_norm: norm(&format!("{p}.attention.output.LayerNorm"))?,
                    intermediate: linear(&format!("{p}.intermediate.dense"))?,
                    output: linear(&format!("{p}.output.dense"))?,
                    output_norm: norm(&format!("{p}.output.LayerNorm"))?,
                })
            })
            .collect::<Result<Vec<_>, WeightsError>>()?;
        if config.hidden_act != "gelu" {
            return Err(WeightsError::Activation(config.hidden_act));
        }
        Ok(Self {
            word: take("embeddings.word_embeddings.weight")?,
            position: take("embeddings.position_embeddings.weight")?,
            token_type: take("embeddings.token_type_embeddings.weight")?,
            embeddings_norm: norm("embeddings.LayerNorm")?,
            layers,
            config,
        })
    }

    fn layer_norm(&self, x: &Tensor, norm: &LayerNorm) -> Tensor {
        x.layer_norm(
            [self.config.hidden_size],
            Some(&norm.weight),
            Some(&norm.bias),
            self.config.layer_norm_eps,
            true,
        )
    }

    /// Token embeddings `[batch, len, hidden]` for `ids` and `mask` (`[batch, len]`, int64).
    pub fn forward(&self, ids: &Tensor, type_ids: &Tensor, mask: &Tensor) -> Tensor {
        let (batch, len) = ids.size2().expect("ids are 2-d");
        let positions = Tensor::arange(len, (Kind::Int64, ids.device()));
        let x = Tensor::embedding(&self.word, ids, -1, false, false)
            + Tensor::embedding(&self.position, &positions, -1, false, false).unsqueeze(0)
            + Tensor::embedding(&self.token_type, type_ids, -1, false, false);
        let mut x = self.layer_norm(&x, &self.embeddings_norm);
        let heads = self.config.num_attention_heads;
        let head_dim = self.config.hidden_size / heads;
        let attention = Attention::new(mask, batch, heads, len, x.kind());
        let split = |t: Tensor| t.view([batch, len, heads, head_dim]).transpose(1, 2);
        for layer in &self.layers {
            let q = split(layer.query.forward(&x));
            let k = split(layer.key.forward(&x));
            let v = split(layer.value.forward(&x));
            let context = attention
                .apply(&q, &k, &v)
                .transpose(1, 2)
                .contiguous()
                .view([batch, len, self.config.hidden_size]);
            x = self.layer_norm(
                &(layer.attention_out.forward(&context) + &x),
                &layer.attention_norm,
            );
            let hidden = layer.intermediate.forward(&x).gelu("none");
            x = self.layer_norm(&(layer.output.forward(&hidden) + &x), &layer.output_norm);
        }
        x
    }

    pub fn max_positions(&self) -> i64 {
        self.config.max_position_embeddings
    }
}

/// How padded keys are kept out of attention.
///
/// On the CPU: `scaled_dot_product_attention` with a boolean mask. On CUDA:
/// the memory-efficient kernel with an additive bias, called directly. Through
/// SDPA, fp16 with a mask picks cuDNN attention, which builds a plan for every
/// new shape (measured on an H100: 68–114 ms on the first call of a shape,
/// 0.14 ms after); the efficient kernel needs none (2.5 ms first call). The
/// kernel wants the bias's batch stride a multiple of 8: lengths are padded
/// to multiples of 16 on CUDA (see `plan`), and the bias is allocated with
/// its last dimension rounded up to 8 regardless.
enum Attention {
    Mask(Tensor),
    Bias(Tensor),
}

impl Attention {
    fn new(mask: &Tensor, batch: i64, heads: i64, len: i64, kind: Kind) -> Self {
        if !mask.device().is_cuda() {
            // True where a key position may be attended to: [batch, 1, 1, len].
            return Self::Mask(mask.to_kind(Kind::Bool).view([batch, 1, 1, len]));
        }
        let stride = (len + 7) / 8 * 8;
        let bias = Tensor::zeros([batch, 1, 1, stride], (kind, mask.device()));
        let blocked = mask.eq(0).view([batch, 1, 1, len]);
        let _ = bias.narrow(3, 0, len).masked_fill_(&blocked, -1e4);
        Self::Bias(
            bias.narrow(3, 0, len)
                .expand([batch, heads, len, len], false),
        )
    }

    fn apply(&self, q: &Tensor, k: &Tensor, v: &Tensor) -> Tensor {
        match self {
            Self::Mask(mask) => {
                Tensor::scaled_dot_product_attention(q, k, v, Some(mask), 0.0, false, None, false)
            }
            Self::Bias(bias) => {
                Tensor::internal_scaled_dot_product_efficient_attention(
                    q,
                    k,
                    v,
                    Some(bias),
                    false,
                    0.0,
                    false,
                    None,
                )
                .0
            }
        }
    }
}
