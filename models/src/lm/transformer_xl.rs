//! [`TransformerXl`]: kimiyoung/transformer-xl `pytorch/mem_transformer.py`, `MemTransformerLM`
//! with `attn_type = 0` (relative partial-learnable attention) and the adaptive softmax
//! criterion, initialised as `pytorch/train.py` `weights_init` with `--init normal`.

use adamp_optim::{ParamKind, ParamMeta};
use candle_core::{DType, Device, Tensor};

use crate::builder::{LayerImpl, ParamBuilder};
use crate::error::{shape_err, ModelError, Result};
use crate::init::Init;
use crate::lm::adaptive_embedding::AdaptiveEmbedding;
use crate::lm::adaptive_softmax::ProjectedAdaptiveLogSoftmax;
use crate::lm::config::{SegmentSpec, TransformerXlConfig};
use crate::lm::decoder_layer::DecoderLayer;
use crate::lm::dropout_stream::DropoutStream;
use crate::lm::mems::{update_mem, Mems};
use crate::lm::positional::positional_embedding;
use crate::lm::rel_attention::AttnInputs;
use crate::weights::Weights;

/// The result of one segment.
#[derive(Debug)]
pub struct SegmentOutput {
    /// Per-token negative log-likelihood (natural log), `[tgt_len, batch]` f32, differentiable.
    pub nll: Tensor,
    /// The memories for the next segment (detached).
    pub mems: Mems,
}

/// The Transformer-XL language model.
#[derive(Debug, Clone)]
pub struct TransformerXl {
    cfg: TransformerXlConfig,
    weights: Weights,
    word_emb: AdaptiveEmbedding,
    layers: Vec<DecoderLayer>,
    r_w_bias: Tensor,
    r_r_bias: Tensor,
    crit: ProjectedAdaptiveLogSoftmax,
}

impl TransformerXl {
    /// Build and initialise the network (the config is validated first).
    pub fn new(cfg: &TransformerXlConfig, device: &Device) -> Result<Self> {
        cfg.validate()?;
        let b = ParamBuilder::new(cfg.seed, device, LayerImpl::Candle);
        let word_emb = AdaptiveEmbedding::new(&b.pp("word_emb"), cfg)?;
        let layers = (0..cfg.n_layer)
            .map(|i| DecoderLayer::new(&b.pp("layers").pp(i), cfg))
            .collect::<Result<Vec<_>>>()?;
        let bias_init = Init::Normal { std: cfg.init_std };
        let other = ParamMeta::new(ParamKind::Other);
        let r_w_bias = b.param("r_w_bias", &[cfg.n_head, cfg.d_head], bias_init, other)?;
        let r_r_bias = b.param("r_r_bias", &[cfg.n_head, cfg.d_head], bias_init, other)?;
        let crit = ProjectedAdaptiveLogSoftmax::new(&b.pp("crit"), cfg, &word_emb)?;
        Ok(Self {
            cfg: cfg.clone(),
            weights: b.weights()?,
            word_emb,
            layers,
            r_w_bias: r_w_bias.as_tensor().clone(),
            r_r_bias: r_r_bias.as_tensor().clone(),
            crit,
        })
    }

    /// The configuration the network was built with.
    pub fn config(&self) -> &TransformerXlConfig {
        &self.cfg
    }

    /// Parameters (reference state_dict names; a tied tensor once, under its `word_emb` name)
    /// and buffers (none).
    pub fn weights(&self) -> &Weights {
        &self.weights
    }

    /// Total number of trainable scalars (tied tensors counted once, like
    /// `sum(p.numel() for p in model.parameters())`).
    pub fn num_params(&self) -> usize {
        self.weights.num_params()
    }

    /// Empty memories for `batch` parallel streams.
    pub fn empty_mems(&self, batch: usize, device: &Device) -> Result<Mems> {
        Mems::empty(self.cfg.n_layer, batch, self.cfg.d_model, device)
    }

    /// Token ids of `t` (`[len, batch]` U32), each `< n_token`.
    fn token_ids(&self, what: &str, t: &Tensor) -> Result<(usize, usize, Vec<u32>)> {
        let (len, batch) = match *t.dims() {
            [l, b] if l > 0 && b > 0 => (l, b),
            _ => {
                return Err(shape_err(
                    "transformer_xl",
                    &format!("{what} shape"),
                    "[len > 0, batch > 0]",
                    format!("{:?}", t.dims()),
                ))
            }
        };
        if t.dtype() != DType::U32 {
            return Err(shape_err(
                "transformer_xl",
                &format!("{what} dtype"),
                "u32 token ids",
                format!("{:?}", t.dtype()),
            ));
        }
        let ids = t.flatten_all()?.to_vec1::<u32>()?;
        if let Some(&bad) = ids.iter().find(|&&v| v as usize >= self.cfg.n_token) {
            return Err(ModelError::Config(format!(
                "transformer_xl: {what} holds token id {bad} >= n_token = {}",
                self.cfg.n_token
            )));
        }
        Ok((len, batch, ids))
    }

    fn check_mems(&self, mems: &Mems, batch: usize) -> Result<usize> {
        let want = self.cfg.n_layer + 1;
        if mems.layers.len() != want {
            return Err(shape_err(
                "transformer_xl",
                "mems count",
                want,
                mems.layers.len(),
            ));
        }
        let mlen = mems.mlen();
        for (i, m) in mems.layers.iter().enumerate() {
            let expected = [mlen, batch, self.cfg.d_model];
            if m.dims() != expected || m.dtype() != DType::F32 {
                return Err(shape_err(
                    "transformer_xl",
                    &format!("mems[{i}]"),
                    format!("f32 {expected:?} (mlen, batch, d_model)"),
                    format!("{:?} {:?}", m.dtype(), m.dims()),
                ));
            }
        }
        Ok(mlen)
    }

    /// Additive attention mask `[qlen, klen]`: `-inf` where `MemTransformerLM._forward`'s
    /// `dec_attn_mask` is set (`triu(ones, 1 + mlen)`, plus `tril(ones, -mask_shift_len)` with
    /// `same_length`).
    fn attn_mask(qlen: usize, mlen: usize, spec: &SegmentSpec, device: &Device) -> Result<Tensor> {
        let klen = qlen + mlen;
        let shift: Option<i64> = spec.same_length.then(|| {
            let mask_len = klen as i64 - spec.mem_len as i64;
            if mask_len > 0 {
                qlen as i64 - mask_len
            } else {
                qlen as i64
            }
        });
        let mut m = vec![0f32; qlen * klen];
        for i in 0..qlen {
            for j in 0..klen {
                let upper = j >= i + 1 + mlen;
                let lower = shift.is_some_and(|s| j as i64 <= i as i64 - s);
                if upper || lower {
                    m[i * klen + j] = f32::NEG_INFINITY;
                }
            }
        }
        Ok(Tensor::from_vec(m, (qlen, klen), device)?)
    }

    /// One segment (`MemTransformerLM.forward`): `data` `[qlen, batch]` and `target`
    /// `[tgt_len, batch]` U32 ids (`tgt_len <= qlen`; the last `tgt_len` positions are scored),
    /// `mems` from the previous segment or [`TransformerXl::empty_mems`]. `dropout = Some(seed)`:
    /// training, every mask drawn from a stream of `(seed, dropout site)`; `None`: evaluation.
    pub fn forward(
        &self,
        data: &Tensor,
        target: &Tensor,
        mems: &Mems,
        spec: &SegmentSpec,
        dropout: Option<u64>,
    ) -> Result<SegmentOutput> {
        spec.validate()?;
        let (qlen, bsz, data_ids) = self.token_ids("data", data)?;
        let (tgt_len, tgt_bsz, tgt_ids) = self.token_ids("target", target)?;
        if tgt_bsz != bsz || tgt_len > qlen {
            return Err(shape_err(
                "transformer_xl",
                "target shape",
                format!("[tgt_len <= {qlen}, {bsz}]"),
                format!("{:?}", target.dims()),
            ));
        }
        let mlen = self.check_mems(mems, bsz)?;
        let device = data.device();
        let drop = DropoutStream::new(dropout);
        let p = self.cfg.dropout;
        let klen = qlen + mlen;

        let word_emb = self.word_emb.forward(&data_ids, device)?;
        let mask = Self::attn_mask(qlen, mlen, spec, device)?;
        let pos_emb = positional_embedding(klen, self.cfg.d_model, spec.clamp_len, device)?;
        let core = drop.apply(&word_emb, p, "drop.word_emb")?;
        let pos_emb = drop.apply(&pos_emb, p, "drop.pos_emb")?;
        let a = AttnInputs {
            r: &pos_emb,
            r_w_bias: &self.r_w_bias,
            r_r_bias: &self.r_r_bias,
            mask: &mask,
            qlen,
            mlen,
            batch: bsz,
        };
        let flat_mems: Vec<Tensor> = mems
            .layers
            .iter()
            .map(|m| m.reshape((mlen * bsz, self.cfg.d_model)))
            .collect::<candle_core::Result<_>>()?;
        let mut hids = Vec::with_capacity(self.layers.len() + 1);
        hids.push(core.clone());
        let mut core = core;
        for (i, layer) in self.layers.iter().enumerate() {
            let mem = (mlen > 0).then(|| &flat_mems[i]);
            core = layer.forward(&core, mem, &a, &drop)?;
            hids.push(core.clone());
        }
        let core = drop.apply(&core, p, "drop.output")?;

        let new_mems = hids
            .iter()
            .zip(&flat_mems)
            .map(|(h, m)| update_mem(Some(m), h, mlen, qlen, bsz, spec.mem_len, spec.ext_len))
            .collect::<Result<Vec<_>>>()?;

        let pred = core.narrow(0, (qlen - tgt_len) * bsz, tgt_len * bsz)?;
        let nll = self
            .crit
            .forward(&pred, &tgt_ids, device)?
            .reshape((tgt_len, bsz))?;
        Ok(SegmentOutput {
            nll,
            mems: Mems { layers: new_mems },
        })
    }
}
