//! [`TransformerXlConfig`] (the arguments of kimiyoung/transformer-xl `pytorch/mem_transformer.py`
//! `MemTransformerLM.__init__` as `pytorch/train.py` passes them, attn_type 0) and
//! [`SegmentSpec`] (`MemTransformerLM.reset_length` + `same_length` / `clamp_len`).

use crate::error::{ModelError, Result};

/// The network's structure and initialisation.
#[derive(Debug, Clone, PartialEq)]
pub struct TransformerXlConfig {
    /// Vocabulary size.
    pub n_token: usize,
    /// Number of decoder layers.
    pub n_layer: usize,
    /// Attention heads.
    pub n_head: usize,
    /// Hidden width (must be even: the sinusoidal positional embedding has `d_model` channels).
    pub d_model: usize,
    /// Width of one head (`n_head * d_head` need not equal `d_model`, as in the reference).
    pub d_head: usize,
    /// Inner width of the position-wise feed-forward block.
    pub d_inner: usize,
    /// Embedding width (the reference's `-1` default means `d_model`; pass `d_model` then).
    pub d_embed: usize,
    /// Dropout on embeddings, positional embeddings, attention output, feed-forward, final hidden.
    pub dropout: f64,
    /// Dropout on the attention probabilities.
    pub dropatt: f64,
    /// Layer norm before each sub-block (`--pre_lnorm`); `false` = post-norm (reference default).
    pub pre_lnorm: bool,
    /// Adaptive input / softmax cutoffs (increasing, each `< n_token`); empty = one plain softmax.
    pub cutoffs: Vec<usize>,
    /// Divisor of the embedding width per cluster (`--div_val`, reference default 1).
    pub div_val: usize,
    /// Softmax output weights are the embedding tables (`--not_tied` absent).
    pub tie_weight: bool,
    /// Tail projections of the softmax are the embedding projections (train.py:
    /// `tie_projs = [False] + [flag] * len(cutoffs)`; the head projection is never tied).
    pub tie_projs: bool,
    /// Weight normalisation (`torch.nn.utils.weight_norm`, dim 0) on every Linear of the decoder
    /// layers (`qkv_net`, `o_net`, `r_net`, `pos_ff.CoreNet.0`, `pos_ff.CoreNet.3`).
    pub weight_norm: bool,
    /// Standard deviation of the normal initialisation (`--init normal --init_std`).
    pub init_std: f64,
    /// Standard deviation of the projections' initialisation (`--proj_init_std`).
    pub proj_init_std: f64,
    /// Initialisation seed (and nothing else).
    pub seed: u64,
}

fn check(ok: bool, msg: impl FnOnce() -> String) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(ModelError::Config(format!("transformer-xl: {}", msg())))
    }
}

impl TransformerXlConfig {
    /// Every range / divisibility / cutoff-order check; the error names the field.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("n_token", self.n_token),
            ("n_layer", self.n_layer),
            ("n_head", self.n_head),
            ("d_head", self.d_head),
            ("d_inner", self.d_inner),
            ("d_embed", self.d_embed),
            ("div_val", self.div_val),
        ] {
            check(v >= 1, || format!("{name} must be >= 1, got {v}"))?;
        }
        check(self.d_model >= 2 && self.d_model.is_multiple_of(2), || {
            format!(
                "d_model must be even and >= 2 (sinusoidal positional embedding), got {}",
                self.d_model
            )
        })?;
        for (name, p) in [("dropout", self.dropout), ("dropatt", self.dropatt)] {
            check((0.0..1.0).contains(&p), || {
                format!("{name} must be in [0, 1), got {p}")
            })?;
        }
        let mut prev = 0usize;
        for (i, &c) in self.cutoffs.iter().enumerate() {
            check(c > prev && c < self.n_token, || {
                format!(
                    "cutoffs must be increasing, > 0 and < n_token = {}: got {:?} (entry {i})",
                    self.n_token, self.cutoffs
                )
            })?;
            prev = c;
        }
        if self.div_val > 1 {
            let n = self.cutoffs.len() as u32;
            let smallest = self
                .div_val
                .checked_pow(n)
                .map(|d| self.d_embed / d)
                .unwrap_or(0);
            check(smallest >= 1, || {
                format!(
                    "d_embed {} / div_val {}^{n} is 0: the last cluster would have no width",
                    self.d_embed, self.div_val
                )
            })?;
        }
        for (name, s) in [
            ("init_std", self.init_std),
            ("proj_init_std", self.proj_init_std),
        ] {
            check(s.is_finite() && s >= 0.0, || {
                format!("{name} must be finite and >= 0, got {s}")
            })?;
        }
        Ok(())
    }

    /// Sizes of the clusters `[cutoff_ends[i], cutoff_ends[i + 1])` (the reference's
    /// `cutoffs + [n_token]` with a leading 0).
    pub(crate) fn cutoff_ends(&self) -> Vec<usize> {
        let mut ends = vec![0];
        ends.extend(&self.cutoffs);
        ends.push(self.n_token);
        ends
    }
}

/// How one segment is run (`MemTransformerLM.reset_length`, `same_length`, `clamp_len`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentSpec {
    /// Number of hidden states kept as memory for the next segment.
    pub mem_len: usize,
    /// Tokens at the end of a segment not cached (extended context; wt103 uses 0).
    pub ext_len: usize,
    /// Relative positions clamped to at most this; 0 = no clamp (the reference's -1).
    pub clamp_len: usize,
    /// Every query attends to the same number of keys (evaluation setting of the reference).
    pub same_length: bool,
}

impl SegmentSpec {
    /// Reject settings the reference cannot run (same_length with no memory masks every key).
    pub fn validate(&self) -> Result<()> {
        check(!self.same_length || self.mem_len >= 1, || {
            "same_length needs mem_len >= 1 (otherwise every key is masked)".to_string()
        })
    }
}
