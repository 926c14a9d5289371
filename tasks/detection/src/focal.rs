//! CenterNet's losses on Candle tensors (Zhou et al. 2019, github xingyizhou/CenterNet,
//! `src/lib/models/losses.py`): the penalty-reduced pixel-wise focal loss `_neg_loss`
//! (alpha 2, beta 4) for the heatmap and `RegL1Loss`, the masked L1 for the size and offset
//! heads. Both are built from differentiable Candle ops (any float dtype, any device).

use candle_core::{DType, Result, Tensor, D};

/// `_neg_loss(pred, gt)`: with `pos = (gt == 1)`, `neg = (gt < 1)`,
/// `loss = -(Σ log(p)(1-p)² pos + Σ log(1-p) p² (1-gt)⁴ neg) / num_pos`, or minus the negative
/// sum alone when there is no positive. `pred` are probabilities of the same shape as `gt`
/// (CenterNet passes `clamp(sigmoid(x), 1e-4, 1 - 1e-4)`, see [`clamped_sigmoid`]). Returns a
/// scalar tensor; gradients flow to `pred` (not to `gt`).
pub fn neg_loss(pred: &Tensor, gt: &Tensor) -> Result<Tensor> {
    let gt = gt.to_dtype(pred.dtype())?.detach();
    let pos = gt.eq(1.0)?.to_dtype(pred.dtype())?;
    let neg = gt.lt(1.0)?.to_dtype(pred.dtype())?;
    let neg_weights = gt.affine(-1.0, 1.0)?.sqr()?.sqr()?;
    let one_minus_p = pred.affine(-1.0, 1.0)?;
    let pos_loss = (pred.log()? * one_minus_p.sqr()? * &pos)?.sum_all()?;
    let neg_loss = (one_minus_p.log()? * pred.sqr()? * neg_weights * neg)?.sum_all()?;
    let num_pos = pos.sum_all()?.to_dtype(DType::F64)?.to_scalar::<f64>()?;
    if num_pos == 0.0 {
        neg_loss.neg()
    } else {
        (pos_loss + neg_loss)?.affine(-1.0 / num_pos, 0.0)
    }
}

/// CenterNet's `_sigmoid`: `clamp(sigmoid(x), 1e-4, 1 - 1e-4)`.
pub fn clamped_sigmoid(x: &Tensor) -> Result<Tensor> {
    sigmoid(x)?.clamp(1e-4, 1.0 - 1e-4)
}

/// `sigmoid(x) = 1 / (1 + exp(-x))` from differentiable ops (any float dtype, any device).
pub fn sigmoid(x: &Tensor) -> Result<Tensor> {
    (x.neg()?.exp()? + 1.0)?.recip()
}

/// `_transpose_and_gather_feat(output, ind)`: `output` `[B, C, H, W]`, `ind` `[B, M]` (u32,
/// `y * W + x`) → `[B, M, C]`, the feature vectors at those positions.
pub fn transpose_and_gather_feat(output: &Tensor, ind: &Tensor) -> Result<Tensor> {
    let (b, c, h, w) = output.dims4()?;
    let feat = output
        .reshape((b, c, h * w))?
        .transpose(1, 2)?
        .contiguous()?;
    let rows = (0..b)
        .map(|i| feat.get(i)?.index_select(&ind.get(i)?, 0))
        .collect::<Result<Vec<_>>>()?;
    Tensor::stack(&rows, 0)
}

/// `RegL1Loss()(output, mask, ind, target)`: `output` `[B, C, H, W]`, `mask` `[B, M]` (0/1, any
/// dtype), `ind` `[B, M]` u32, `target` `[B, M, C]`;
/// `Σ |pred·mask - target·mask| / (Σ mask expanded to [B, M, C] + 1e-4)`.
pub fn reg_l1_loss(
    output: &Tensor,
    mask: &Tensor,
    ind: &Tensor,
    target: &Tensor,
) -> Result<Tensor> {
    let pred = transpose_and_gather_feat(output, ind)?;
    let mask = mask
        .to_dtype(pred.dtype())?
        .unsqueeze(D::Minus1)?
        .broadcast_as(pred.shape())?;
    let target = target.to_dtype(pred.dtype())?;
    let loss = ((&pred * &mask)? - (target * &mask)?)?.abs()?.sum_all()?;
    let denom = (mask.sum_all()? + 1e-4)?;
    loss / denom
}
