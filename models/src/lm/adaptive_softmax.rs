//! kimiyoung/transformer-xl `pytorch/utils/proj_adaptive_softmax.py`,
//! `ProjectedAdaptiveLogSoftmax`: per-token negative log-likelihood with a head over the first
//! `cutoffs[0]` words plus one logit per tail cluster (cluster `i` is the head's column
//! `head_size - i`, as the reference's `head_logprob_i[:, -i]`), and a softmax per tail cluster;
//! each part's hidden state is first projected by its `out_projs[i]` (when there is one).
//! The result is in token order (the reference's `keep_order=True`; with the default
//! `keep_order=False` it writes the same values grouped by cluster, which leaves the mean loss
//! train.py optimises unchanged).
//!
//! Tying as `MemTransformerLM.__init__` with train.py's `tie_projs = [False] + [flag] * len(cutoffs)`:
//! `tie_weight` makes `out_layers[i].weight` the embedding table `i`; a tied tail projection is
//! `word_emb.emb_projs[0]` (`div_val = 1`, `d_embed != d_model`) or `word_emb.emb_projs[i]`
//! (`div_val > 1`). Initialisation: weights and `cluster_weight` `N(0, init_std)`, biases and
//! `cluster_bias` 0, projections `N(0, proj_init_std)`.

use adamp_optim::{ParamKind, ParamMeta};
use candle_core::{Device, Tensor};

use crate::builder::ParamBuilder;
use crate::error::Result;
use crate::init::Init;
use crate::lm::adaptive_embedding::AdaptiveEmbedding;
use crate::lm::config::TransformerXlConfig;
use crate::lm::fused::{bias_add, row_nll};

/// `crit.*`.
#[derive(Debug, Clone)]
pub(crate) struct ProjectedAdaptiveLogSoftmax {
    out_weights: Vec<Tensor>,
    out_biases: Vec<Tensor>,
    out_projs: Vec<Option<Tensor>>,
    cluster_weight: Option<Tensor>,
    cluster_bias: Option<Tensor>,
    cutoff_ends: Vec<usize>,
    div_val: usize,
}

impl ProjectedAdaptiveLogSoftmax {
    pub(crate) fn new(
        b: &ParamBuilder,
        cfg: &TransformerXlConfig,
        emb: &AdaptiveEmbedding,
    ) -> Result<Self> {
        let d_proj = cfg.d_model;
        let ends = cfg.cutoff_ends();
        let n_clusters = cfg.cutoffs.len();
        let w_init = Init::Normal { std: cfg.init_std };
        let proj_init = Init::Normal {
            std: cfg.proj_init_std,
        };
        let lin = ParamMeta::new(ParamKind::Linear);
        let bias_meta = ParamMeta::new(ParamKind::Bias);
        let (cluster_weight, cluster_bias) = if n_clusters > 0 {
            let w = b.param("cluster_weight", &[n_clusters, cfg.d_embed], w_init, lin)?;
            let c = b.param("cluster_bias", &[n_clusters], Init::Const(0.0), bias_meta)?;
            (Some(w.as_tensor().clone()), Some(c.as_tensor().clone()))
        } else {
            (None, None)
        };
        let (layers, projs) = (b.pp("out_layers"), b.pp("out_projs"));
        // (rows, width) of each out_layer
        let shapes: Vec<(usize, usize)> = if cfg.div_val == 1 {
            vec![(cfg.n_token, cfg.d_embed)]
        } else {
            (0..ends.len() - 1)
                .map(|i| {
                    (
                        ends[i + 1] - ends[i],
                        cfg.d_embed / cfg.div_val.pow(i as u32),
                    )
                })
                .collect()
        };
        let mut out_weights = Vec::new();
        let mut out_biases = Vec::new();
        for (i, &(rows, width)) in shapes.iter().enumerate() {
            let l = layers.pp(i);
            out_weights.push(if cfg.tie_weight {
                emb.emb_layers[i].clone()
            } else {
                l.param("weight", &[rows, width], w_init, lin)?
                    .as_tensor()
                    .clone()
            });
            out_biases.push(
                l.param("bias", &[rows], Init::Const(0.0), bias_meta)?
                    .as_tensor()
                    .clone(),
            );
        }
        let mut out_projs = Vec::new();
        for i in 0..ends.len() - 1 {
            let tied = cfg.tie_projs && i > 0;
            let proj = if cfg.div_val == 1 {
                if d_proj == cfg.d_embed {
                    None
                } else if tied {
                    emb.emb_projs[0].clone()
                } else {
                    let p = projs.param(&i.to_string(), &[d_proj, cfg.d_embed], proj_init, lin)?;
                    Some(p.as_tensor().clone())
                }
            } else if tied {
                emb.emb_projs[i].clone()
            } else {
                let d_emb_i = cfg.d_embed / cfg.div_val.pow(i as u32);
                let p = projs.param(&i.to_string(), &[d_proj, d_emb_i], proj_init, lin)?;
                Some(p.as_tensor().clone())
            };
            out_projs.push(proj);
        }
        Ok(Self {
            out_weights,
            out_biases,
            out_projs,
            cluster_weight,
            cluster_bias,
            cutoff_ends: ends,
            div_val: cfg.div_val,
        })
    }

    /// `_compute_logit`: `(hidden @ proj) @ weight^T + bias`.
    fn logit(
        hidden: &Tensor,
        weight: &Tensor,
        bias: &Tensor,
        proj: Option<&Tensor>,
    ) -> Result<Tensor> {
        let h = match proj {
            Some(p) => hidden.matmul(p)?,
            None => hidden.clone(),
        };
        bias_add(&h.matmul(&weight.t()?)?, bias)
    }

    /// Rows `[l, r)` of cluster `i`'s weight and bias.
    fn cluster_params(&self, i: usize) -> Result<(Tensor, Tensor)> {
        if self.div_val == 1 {
            let (l, r) = (self.cutoff_ends[i], self.cutoff_ends[i + 1]);
            Ok((
                self.out_weights[0].narrow(0, l, r - l)?,
                self.out_biases[0].narrow(0, l, r - l)?,
            ))
        } else {
            Ok((self.out_weights[i].clone(), self.out_biases[i].clone()))
        }
    }

    /// Per-token NLL `[N]` of the (validated) `target` ids given `hidden` `[N, d_proj]`.
    pub(crate) fn forward(
        &self,
        hidden: &Tensor,
        target: &[u32],
        device: &Device,
    ) -> Result<Tensor> {
        let n = target.len();
        let n_clusters = self.cutoff_ends.len() - 2;
        if n_clusters == 0 {
            let logit = Self::logit(
                hidden,
                &self.out_weights[0],
                &self.out_biases[0],
                self.out_projs[0].as_ref(),
            )?;
            return row_nll(&logit, target);
        }
        let (w0, b0) = self.cluster_params(0)?;
        let cw = self
            .cluster_weight
            .as_ref()
            .expect("clusters have a cluster weight");
        let cb = self
            .cluster_bias
            .as_ref()
            .expect("clusters have a cluster bias");
        let head_w = Tensor::cat(&[&w0, cw], 0)?;
        let head_b = Tensor::cat(&[&b0, cb], 0)?;
        let head_size = self.cutoff_ends[1] + n_clusters;
        let head_logit = Self::logit(hidden, &head_w, &head_b, self.out_projs[0].as_ref())?;

        // Head column per token: the word itself (cluster 0) or its cluster's logit.
        let mut head_col: Vec<u32> = target.to_vec();
        // Where each token's tail NLL sits in the concatenated tails; head-cluster tokens read
        // the trailing zero (slot = number of tail tokens, filled in below).
        let mut tail_slot: Vec<Option<u32>> = vec![None; n];
        let mut tails = Vec::new();
        let mut filled = 0u32;
        for i in 1..=n_clusters {
            let (l, r) = (self.cutoff_ends[i], self.cutoff_ends[i + 1]);
            let mut pos = Vec::new();
            let mut local = Vec::new();
            for (p, &t) in target.iter().enumerate() {
                let t = t as usize;
                if t >= l && t < r {
                    pos.push(p as u32);
                    local.push((t - l) as u32);
                    head_col[p] = (head_size - i) as u32;
                    tail_slot[p] = Some(filled);
                    filled += 1;
                }
            }
            if pos.is_empty() {
                continue;
            }
            let m = pos.len();
            let (w, b) = self.cluster_params(i)?;
            let hidden_i = hidden.index_select(&Tensor::from_vec(pos, m, device)?, 0)?;
            let tail_logit = Self::logit(&hidden_i, &w, &b, self.out_projs[i].as_ref())?;
            tails.push(row_nll(&tail_logit, &local)?);
        }
        let head_nll = row_nll(&head_logit, &head_col)?;
        if tails.is_empty() {
            return Ok(head_nll);
        }
        tails.push(Tensor::zeros(1, hidden.dtype(), device)?);
        let all = Tensor::cat(&tails, 0)?;
        let slots: Vec<u32> = tail_slot.iter().map(|s| s.unwrap_or(filled)).collect();
        let tail_nll = all.index_select(&Tensor::from_vec(slots, n, device)?, 0)?;
        Ok((head_nll + tail_nll)?)
    }
}
