//! [`Mems`]: the per-layer memories of kimiyoung/transformer-xl `pytorch/mem_transformer.py`
//! (`MemTransformerLM.init_mems` / `_update_mems`).

use candle_core::{DType, Device, Tensor};

use crate::error::Result;

/// Per-layer memories: `n_layer + 1` tensors `[mlen, batch, d_model]` f32, detached
/// (the embedding output and every layer's output); `mlen = 0` at the start of a stream.
#[derive(Debug, Clone)]
pub struct Mems {
    /// One tensor per layer input (index 0: dropped-out word embeddings).
    pub layers: Vec<Tensor>,
}

impl Mems {
    /// Empty memories (`mlen = 0`) for `n_layer` layers and `batch` streams.
    pub fn empty(n_layer: usize, batch: usize, d_model: usize, device: &Device) -> Result<Self> {
        let t = Tensor::zeros((0, batch, d_model), DType::F32, device)?;
        Ok(Self {
            layers: vec![t; n_layer + 1],
        })
    }

    /// Memory length (0 when empty).
    pub fn mlen(&self) -> usize {
        self.layers.first().map(|t| t.dims()[0]).unwrap_or(0)
    }

    /// Number of parallel streams.
    pub fn batch(&self) -> usize {
        self.layers
            .first()
            .and_then(|t| t.dims().get(1).copied())
            .unwrap_or(0)
    }
}

/// `_update_mems`: keep rows `[beg, end)` of `cat([mem, hid])` with
/// `end = mlen + max(0, qlen - ext_len)`, `beg = max(0, end - mem_len)`, detached.
///
/// The reference calls `_update_mems(hids, mems, mlen, qlen)` against its signature
/// `(hids, mems, qlen, mlen)`; the two agree for `ext_len = 0` (every published setting), and
/// this follows the documented intent (cache the steps up to `mlen + qlen - ext_len`).
/// `mem` and `hid` are `[mlen * batch, d]` and `[qlen * batch, d]` (rows time-major).
pub(crate) fn update_mem(
    mem: Option<&Tensor>,
    hid: &Tensor,
    mlen: usize,
    qlen: usize,
    batch: usize,
    mem_len: usize,
    ext_len: usize,
) -> Result<Tensor> {
    let d = hid.dim(1)?;
    let end = mlen + qlen.saturating_sub(ext_len);
    let beg = end.saturating_sub(mem_len);
    let hid = hid.detach();
    let cat = match mem {
        Some(m) if mlen > 0 => Tensor::cat(&[&m.detach(), &hid], 0)?,
        _ => hid,
    };
    let kept = cat.narrow(0, beg * batch, (end - beg) * batch)?;
    Ok(kept.reshape((end - beg, batch, d))?.detach())
}
