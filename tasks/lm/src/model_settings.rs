//! `[model]` of `kind = "language_model"`: the Transformer-XL (`adamp_models::lm`), its fields
//! named as kimiyoung/transformer-xl `pytorch/train.py`'s arguments, with that script's defaults.
//!
//! ```toml
//! [model]
//! kind = "transformer_xl"
//! n_layer = 16
//! n_head = 10
//! d_model = 410
//! d_head = 41
//! d_inner = 2100
//! # d_embed = 410            # default: d_model (train.py's -1)
//! dropout = 0.1
//! dropatt = 0.0
//! pre_lnorm = false          # post-norm, as the reference's default
//! cutoffs = [20000, 40000, 200000]   # adaptive input + softmax (train.py --adaptive on wt103); [] = plain
//! div_val = 1
//! tie_weight = true          # softmax output weights are the embedding's (not --not_tied)
//! tie_projs = true           # the tail clusters' projections are tied too (wt103 with --adaptive)
//! weight_norm = false        # weight normalisation on every Linear of the decoder layers
//! init_std = 0.02
//! proj_init_std = 0.01
//! ```
//!
//! The vocabulary size (`n_token`) comes from the data; the cutoffs are checked against it when
//! the task is built.

use adamp_models::lm::TransformerXlConfig;
use adamp_task_api::factory::invalid;
use adamp_task_api::Result;
use serde::{Deserialize, Serialize};

/// The `[model] kind`s.
pub const MODEL_KINDS: &[&str] = &["transformer_xl"];

/// The largest width or depth a config may ask for.
const MAX_SIZE: usize = 1 << 16;

/// `[model] kind`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LmModelKind {
    /// Transformer-XL (Dai et al. 2019), `MemTransformerLM` with `attn_type = 0`.
    #[default]
    TransformerXl,
}

/// `[model]` for `kind = "language_model"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LmModelSettings {
    /// The network.
    #[serde(default)]
    pub kind: LmModelKind,
    /// Decoder layers (`--n_layer`, 12).
    #[serde(default = "n_layer")]
    pub n_layer: usize,
    /// Attention heads (`--n_head`, 10).
    #[serde(default = "n_head")]
    pub n_head: usize,
    /// Model width (`--d_model`, 500).
    #[serde(default = "d_model")]
    pub d_model: usize,
    /// Width of one head (`--d_head`, 50).
    #[serde(default = "d_head")]
    pub d_head: usize,
    /// Feed-forward inner width (`--d_inner`, 1000).
    #[serde(default = "d_inner")]
    pub d_inner: usize,
    /// Embedding width (`--d_embed`); default `d_model` (the reference's -1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub d_embed: Option<usize>,
    /// Dropout (`--dropout`, 0).
    #[serde(default)]
    pub dropout: f64,
    /// Attention-probability dropout (`--dropatt`, 0).
    #[serde(default)]
    pub dropatt: f64,
    /// Layer norm before each sub-layer (`--pre_lnorm`, false: post-norm).
    #[serde(default)]
    pub pre_lnorm: bool,
    /// Adaptive input and softmax cutoffs (`--adaptive` on wt103: [20000, 40000, 200000]);
    /// empty: one embedding and a plain softmax.
    #[serde(default)]
    pub cutoffs: Vec<usize>,
    /// Width divisor between adaptive clusters (`--div_val`, 1).
    #[serde(default = "one")]
    pub div_val: usize,
    /// Softmax output weights tied to the embedding (true unless `--not_tied`).
    #[serde(default = "yes")]
    pub tie_weight: bool,
    /// The tail clusters' projections tied too (train.py's `tie_projs` on wt103).
    #[serde(default = "yes")]
    pub tie_projs: bool,
    /// Weight normalisation on every Linear of the decoder layers (the paper's "+ WN" rows).
    #[serde(default)]
    pub weight_norm: bool,
    /// Normal initialisation std of weights (`--init_std`, 0.02).
    #[serde(default = "init_std")]
    pub init_std: f64,
    /// Normal initialisation std of the adaptive projections (`--proj_init_std`, 0.01).
    #[serde(default = "proj_init_std")]
    pub proj_init_std: f64,
}

fn n_layer() -> usize {
    12
}
fn n_head() -> usize {
    10
}
fn d_model() -> usize {
    500
}
fn d_head() -> usize {
    50
}
fn d_inner() -> usize {
    1000
}
fn one() -> usize {
    1
}
fn yes() -> bool {
    true
}
fn init_std() -> f64 {
    0.02
}
fn proj_init_std() -> f64 {
    0.01
}

impl LmModelSettings {
    /// `d_embed`, or `d_model` when not set.
    pub fn d_embed(&self) -> usize {
        self.d_embed.unwrap_or(self.d_model)
    }

    /// Every check that needs no data, naming the `[model]` key.
    pub fn validate(&self) -> Result<()> {
        for (key, v) in [
            ("n_layer", self.n_layer),
            ("n_head", self.n_head),
            ("d_model", self.d_model),
            ("d_head", self.d_head),
            ("d_inner", self.d_inner),
            ("d_embed", self.d_embed()),
            ("div_val", self.div_val),
        ] {
            if !(1..=MAX_SIZE).contains(&v) {
                return Err(invalid(
                    format!("model.{key}"),
                    format!("in 1..={MAX_SIZE}, got {v}"),
                ));
            }
        }
        for (key, p) in [("dropout", self.dropout), ("dropatt", self.dropatt)] {
            if !(0.0..1.0).contains(&p) {
                return Err(invalid(
                    format!("model.{key}"),
                    format!("a probability in [0, 1), got {p}"),
                ));
            }
        }
        for (key, s) in [
            ("init_std", self.init_std),
            ("proj_init_std", self.proj_init_std),
        ] {
            if !(s.is_finite() && s > 0.0) {
                return Err(invalid(
                    format!("model.{key}"),
                    format!("a standard deviation > 0, got {s}"),
                ));
            }
        }
        if self.cutoffs.first() == Some(&0) || self.cutoffs.windows(2).any(|w| w[0] >= w[1]) {
            return Err(invalid(
                "model.cutoffs",
                format!(
                    "strictly increasing cluster boundaries > 0 (e.g. [20000, 40000, 200000]), got {:?}",
                    self.cutoffs
                ),
            ));
        }
        Ok(())
    }

    /// Checks the cutoffs against the vocabulary size (each below it, as the reference's
    /// `cutoffs + [n_token]` needs).
    pub fn check_vocab(&self, n_token: usize) -> Result<()> {
        if let Some(&last) = self.cutoffs.last() {
            if last >= n_token {
                return Err(invalid(
                    "model.cutoffs",
                    format!(
                        "every cutoff below the vocabulary size {n_token} (the data's), got {:?}",
                        self.cutoffs
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The model config for a vocabulary of `n_token` symbols, initialised from `seed`.
    pub fn config(&self, n_token: usize, seed: u64) -> TransformerXlConfig {
        TransformerXlConfig {
            n_token,
            n_layer: self.n_layer,
            n_head: self.n_head,
            d_model: self.d_model,
            d_head: self.d_head,
            d_inner: self.d_inner,
            d_embed: self.d_embed(),
            dropout: self.dropout,
            dropatt: self.dropatt,
            pre_lnorm: self.pre_lnorm,
            cutoffs: self.cutoffs.clone(),
            div_val: self.div_val,
            tie_weight: self.tie_weight,
            tie_projs: self.tie_projs,
            weight_norm: self.weight_norm,
            init_std: self.init_std,
            proj_init_std: self.proj_init_std,
            seed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> LmModelSettings {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn defaults_are_train_py_s() {
        let m = parse("kind = \"transformer_xl\"");
        assert_eq!(
            (m.n_layer, m.n_head, m.d_model, m.d_head, m.d_inner),
            (12, 10, 500, 50, 1000)
        );
        assert_eq!(m.d_embed(), 500);
        assert!(m.tie_weight && m.tie_projs && !m.weight_norm && !m.pre_lnorm);
        m.validate().unwrap();
        let c = m.config(1000, 7);
        assert_eq!((c.n_token, c.d_embed, c.seed), (1000, 500, 7));
    }

    #[test]
    fn bad_values_name_their_key() {
        for (text, key) in [
            ("n_layer = 0", "model.n_layer"),
            ("dropout = 1.0", "model.dropout"),
            ("init_std = 0.0", "model.init_std"),
            ("cutoffs = [10, 10]", "model.cutoffs"),
            ("cutoffs = [0, 10]", "model.cutoffs"),
            ("div_val = 0", "model.div_val"),
        ] {
            let e = parse(text).validate().unwrap_err().to_string();
            assert!(e.starts_with(key), "{text}: {e}");
        }
        let m = parse("cutoffs = [10, 100]");
        m.validate().unwrap();
        m.check_vocab(101).unwrap();
        let e = m.check_vocab(100).unwrap_err().to_string();
        assert!(e.starts_with("model.cutoffs") && e.contains("100"), "{e}");
        assert!(toml::from_str::<LmModelSettings>("kind = \"lstm\"").is_err());
        assert!(toml::from_str::<LmModelSettings>("n_layers = 2").is_err());
    }
}
