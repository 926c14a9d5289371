//! kimiyoung/transformer-xl `pytorch/mem_transformer.py`, `RelPartialLearnableMultiHeadAttn`
//! (with `RelMultiHeadAttn._rel_shift`): relative multi-head attention with the learnable
//! global biases `r_w_bias` (content term AC) and `r_r_bias` (position term BD).
//!
//! The reference's einsums run as batched matrix products with the heads leading:
//! `AC = (q + r_w_bias) k^T` on `[H * B, qlen, d_head] x [H * B, d_head, klen]`, and
//! `BD = (q + r_r_bias) r^T` on `[H, B * qlen, d_head] x [H, d_head, klen]` (the positional keys
//! are shared by the batch), both giving scores laid out `[H, B, qlen, klen]`.

use candle_core::{IndexOp, Tensor};

use crate::builder::ParamBuilder;
use crate::error::Result;
use crate::lm::config::TransformerXlConfig;
use crate::lm::dropout_stream::DropoutStream;
use crate::lm::fused::softmax_last;
use crate::lm::layer_norm::LayerNorm;
use crate::lm::wn_linear::WnLinear;

/// `_rel_shift` on scores `x` of shape `[N, qlen, klen]` (the reference's `[qlen, klen, ...]`
/// with the trailing batch/head dimensions moved in front): pad one zero column on the left,
/// view the `qlen x (klen + 1)` block as `(klen + 1) x qlen`, drop its first row and view the
/// rest as `qlen x klen`. Entry `(i, j)` becomes `x[i, j + qlen - 1 - i]` for
/// `j <= i + klen - qlen`; the other (masked) entries hold what the reference leaves there.
pub fn rel_shift(x: &Tensor) -> Result<Tensor> {
    let (n, qlen, klen) = x.dims3()?;
    let zeros = Tensor::zeros((n, qlen, 1), x.dtype(), x.device())?;
    let padded = Tensor::cat(&[&zeros, x], 2)?.reshape((n, qlen * (klen + 1)))?;
    Ok(padded
        .narrow(1, qlen, qlen * klen)?
        .reshape((n, qlen, klen))?)
}

/// The attention sub-block of a decoder layer (`<path>.qkv_net`, `.r_net`, `.o_net`, `.layer_norm`).
#[derive(Debug, Clone)]
pub(crate) struct RelPartialLearnableAttn {
    path: String,
    qkv_net: WnLinear,
    r_net: WnLinear,
    o_net: WnLinear,
    layer_norm: LayerNorm,
    n_head: usize,
    d_head: usize,
    scale: f64,
    dropout: f64,
    dropatt: f64,
    pre_lnorm: bool,
}

/// What every layer of one segment shares: positional embedding, global biases, mask.
pub(crate) struct AttnInputs<'a> {
    /// Positional embedding (after dropout), `[klen, d_model]`.
    pub r: &'a Tensor,
    /// `[n_head, d_head]`.
    pub r_w_bias: &'a Tensor,
    /// `[n_head, d_head]`.
    pub r_r_bias: &'a Tensor,
    /// Additive mask `[qlen, klen]` (0 or -inf).
    pub mask: &'a Tensor,
    pub qlen: usize,
    pub mlen: usize,
    pub batch: usize,
}

impl RelPartialLearnableAttn {
    pub(crate) fn new(b: &ParamBuilder, cfg: &TransformerXlConfig) -> Result<Self> {
        let hd = cfg.n_head * cfg.d_head;
        let (wn, std) = (cfg.weight_norm, cfg.init_std);
        Ok(Self {
            path: b.prefix().to_string(),
            qkv_net: WnLinear::new(&b.pp("qkv_net"), cfg.d_model, 3 * hd, false, wn, std)?,
            r_net: WnLinear::new(&b.pp("r_net"), cfg.d_model, hd, false, wn, std)?,
            o_net: WnLinear::new(&b.pp("o_net"), hd, cfg.d_model, false, wn, std)?,
            layer_norm: LayerNorm::new(&b.pp("layer_norm"), cfg.d_model, std)?,
            n_head: cfg.n_head,
            d_head: cfg.d_head,
            scale: 1.0 / (cfg.d_head as f64).sqrt(),
            dropout: cfg.dropout,
            dropatt: cfg.dropatt,
            pre_lnorm: cfg.pre_lnorm,
        })
    }

    /// `w`: `[qlen * B, d_model]` (rows time-major), `mem`: `[mlen * B, d_model]` or `None`.
    pub(crate) fn forward(
        &self,
        w: &Tensor,
        mem: Option<&Tensor>,
        a: &AttnInputs,
        drop: &DropoutStream,
    ) -> Result<Tensor> {
        let (h, dh, bsz, qlen, mlen) = (self.n_head, self.d_head, a.batch, a.qlen, a.mlen);
        let klen = qlen + mlen;
        let cat = match mem {
            Some(m) if mlen > 0 => Tensor::cat(&[m, w], 0)?,
            _ => w.clone(),
        };
        let cat = if self.pre_lnorm {
            self.layer_norm.forward(&cat)?
        } else {
            cat
        };
        // torch.chunk(w_heads, 3, -1): columns [q | k | v], each (head, d_head)
        let heads = self.qkv_net.forward(&cat)?.reshape((klen, bsz, 3, h, dh))?;
        // [qlen, B, H, D] -> [H, B, qlen, D]
        let q = heads
            .narrow(0, mlen, qlen)?
            .i((.., .., 0))?
            .permute((2, 1, 0, 3))?;
        let k = heads
            .i((.., .., 1))?
            .permute((2, 1, 3, 0))?
            .contiguous()?
            .reshape((h * bsz, dh, klen))?;
        let v = heads
            .i((.., .., 2))?
            .permute((2, 1, 0, 3))?
            .contiguous()?
            .reshape((h * bsz, klen, dh))?;
        // [klen, H*D] -> [H, D, klen]
        let r_k = self
            .r_net
            .forward(a.r)?
            .reshape((klen, h, dh))?
            .permute((1, 2, 0))?
            .contiguous()?;

        let rw_q = q.broadcast_add(&a.r_w_bias.reshape((h, 1, 1, dh))?)?;
        let ac = rw_q.reshape((h * bsz, qlen, dh))?.matmul(&k)?;
        let rr_q = q.broadcast_add(&a.r_r_bias.reshape((h, 1, 1, dh))?)?;
        let bd = rr_q.reshape((h, bsz * qlen, dh))?.matmul(&r_k)?;
        let bd = rel_shift(&bd.reshape((h * bsz, qlen, klen))?)?;

        let score = ((ac + bd)? * self.scale)?.broadcast_add(a.mask)?;
        let prob = softmax_last(&score)?;
        let prob = drop.apply(&prob, self.dropatt, &format!("{}.dropatt", self.path))?;

        let vec = prob
            .matmul(&v)?
            .reshape((h, bsz, qlen, dh))?
            .permute((2, 1, 0, 3))?
            .contiguous()?
            .reshape((qlen * bsz, h * dh))?;
        let out = self.o_net.forward(&vec)?;
        let out = drop.apply(&out, self.dropout, &format!("{}.drop", self.path))?;
        if self.pre_lnorm {
            Ok((w + out)?)
        } else {
            self.layer_norm.forward(&(w + out)?)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// The reference's `_rel_shift` on a 3 x 5 block (qlen 3, mlen 2), worked by hand.
    #[test]
    fn rel_shift_matches_hand_example() -> Result<()> {
        let x: Vec<f32> = (1..=15).map(|v| v as f32).collect();
        let x = Tensor::from_vec(x, (1, 3, 5), &Device::Cpu)?;
        let got = rel_shift(&x)?.to_vec3::<f32>()?;
        // padded rows: [0 1 2 3 4 5] [0 6 7 8 9 10] [0 11 12 13 14 15];
        // flat, drop the first 3 values, read 3 rows of 5
        let want = vec![
            vec![3.0, 4.0, 5.0, 0.0, 6.0],
            vec![7.0, 8.0, 9.0, 10.0, 0.0],
            vec![11.0, 12.0, 13.0, 14.0, 15.0],
        ];
        assert_eq!(got[0], want);
        Ok(())
    }
}
