//! kimiyoung/transformer-xl `pytorch/mem_transformer.py`, `AdaptiveEmbedding`: one table
//! (`div_val = 1`, projected to `d_proj` only when `d_embed != d_proj`) or one table per cluster
//! of width `d_embed / div_val^i`, each projected to `d_proj`; the result is scaled by
//! `sqrt(d_proj)`. Initialised as train.py `weights_init`: tables `N(0, init_std)`, projections
//! `N(0, proj_init_std)`.

use adamp_optim::{ParamKind, ParamMeta};
use candle_core::Tensor;

use crate::builder::ParamBuilder;
use crate::error::Result;
use crate::init::Init;
use crate::lm::config::TransformerXlConfig;

/// `word_emb.emb_layers.<i>.weight` and `word_emb.emb_projs.<i>`.
#[derive(Debug, Clone)]
pub(crate) struct AdaptiveEmbedding {
    /// Embedding tables, one per cluster (`div_val > 1`) or a single one.
    pub(crate) emb_layers: Vec<Tensor>,
    /// Projections `[d_proj, d_emb_i]` (`None`: `div_val = 1` and `d_embed = d_proj`).
    pub(crate) emb_projs: Vec<Option<Tensor>>,
    cutoff_ends: Vec<usize>,
    div_val: usize,
    d_proj: usize,
    emb_scale: f64,
}

impl AdaptiveEmbedding {
    pub(crate) fn new(b: &ParamBuilder, cfg: &TransformerXlConfig) -> Result<Self> {
        let d_proj = cfg.d_model;
        let ends = cfg.cutoff_ends();
        let emb_init = Init::Normal { std: cfg.init_std };
        let proj_init = Init::Normal {
            std: cfg.proj_init_std,
        };
        let emb_meta = ParamMeta::new(ParamKind::Embedding);
        let proj_meta = ParamMeta::new(ParamKind::Linear);
        let (layers, projs) = (b.pp("emb_layers"), b.pp("emb_projs"));
        let mut emb_layers = Vec::new();
        let mut emb_projs = Vec::new();
        if cfg.div_val == 1 {
            let w =
                layers
                    .pp(0)
                    .param("weight", &[cfg.n_token, cfg.d_embed], emb_init, emb_meta)?;
            emb_layers.push(w.as_tensor().clone());
            if d_proj != cfg.d_embed {
                let p = projs.param("0", &[d_proj, cfg.d_embed], proj_init, proj_meta)?;
                emb_projs.push(Some(p.as_tensor().clone()));
            } else {
                emb_projs.push(None);
            }
        } else {
            for i in 0..ends.len() - 1 {
                let d_emb_i = cfg.d_embed / cfg.div_val.pow(i as u32);
                let n_i = ends[i + 1] - ends[i];
                let w = layers
                    .pp(i)
                    .param("weight", &[n_i, d_emb_i], emb_init, emb_meta)?;
                emb_layers.push(w.as_tensor().clone());
                let p = projs.param(&i.to_string(), &[d_proj, d_emb_i], proj_init, proj_meta)?;
                emb_projs.push(Some(p.as_tensor().clone()));
            }
        }
        Ok(Self {
            emb_layers,
            emb_projs,
            cutoff_ends: ends,
            div_val: cfg.div_val,
            d_proj,
            emb_scale: (d_proj as f64).sqrt(),
        })
    }

    /// Embed the (already validated) token ids `ids` (flattened `[N]`): `[N, d_proj]`.
    pub(crate) fn forward(&self, ids: &[u32], device: &candle_core::Device) -> Result<Tensor> {
        let embed = if self.div_val == 1 {
            let idx = Tensor::from_slice(ids, ids.len(), device)?;
            let e = self.emb_layers[0].index_select(&idx, 0)?;
            match &self.emb_projs[0] {
                Some(p) => e.matmul(&p.t()?)?,
                None => e,
            }
        } else {
            // Each cluster's rows, projected, concatenated in cluster order, then put back in
            // token order (the reference's index_copy_ into a zero tensor).
            let mut parts = Vec::new();
            let mut slot = vec![0u32; ids.len()];
            let mut filled = 0u32;
            for i in 0..self.cutoff_ends.len() - 1 {
                let (l, r) = (self.cutoff_ends[i], self.cutoff_ends[i + 1]);
                let mut local = Vec::new();
                for (pos, &t) in ids.iter().enumerate() {
                    let t = t as usize;
                    if t >= l && t < r {
                        local.push((t - l) as u32);
                        slot[pos] = filled;
                        filled += 1;
                    }
                }
                if local.is_empty() {
                    continue;
                }
                let idx = Tensor::from_vec(local.clone(), local.len(), device)?;
                let e = self.emb_layers[i].index_select(&idx, 0)?;
                let p = self.emb_projs[i]
                    .as_ref()
                    .expect("div_val > 1 has every projection");
                parts.push(e.matmul(&p.t()?)?);
            }
            let all = Tensor::cat(&parts, 0)?;
            let slot = Tensor::from_vec(slot, ids.len(), device)?;
            let e = all.index_select(&slot, 0)?;
            debug_assert_eq!(e.dim(1)?, self.d_proj);
            e
        };
        Ok((embed * self.emb_scale)?)
    }
}
