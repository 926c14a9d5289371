//! Pooling dispatch: fast CPU kernels or Candle's ops.

use candle_core::Tensor;

use super::{dims4, use_fast};
use crate::builder::LayerImpl;
use crate::error::{shape_err, Result};
use crate::ops;
use crate::ops::conv2d::conv_out_len;

/// Mean over height and width: `[N, C, H, W] -> [N, C]` (`AdaptiveAvgPool2d(1)` + flatten).
pub fn global_avg_pool(layer: &str, x: &Tensor, imp: LayerImpl) -> Result<Tensor> {
    dims4(layer, x)?;
    Ok(if use_fast(imp, x) {
        ops::global_avg_pool(x)?
    } else {
        x.mean((2, 3))?
    })
}

/// `MaxPool2d(k, stride, padding)` for non-negative inputs (it follows a ReLU wherever the paper's
/// models use it): Candle's path pads with zeros, which equals torch's `-inf` padding there.
pub fn max_pool2d(
    layer: &str,
    x: &Tensor,
    k: usize,
    stride: usize,
    padding: usize,
    imp: LayerImpl,
) -> Result<Tensor> {
    let (_, _, h, w) = dims4(layer, x)?;
    if conv_out_len(h, k, stride, padding, 1).is_none()
        || conv_out_len(w, k, stride, padding, 1).is_none()
    {
        return Err(shape_err(
            layer,
            "input height/width",
            format!("at least {}", k.saturating_sub(2 * padding).max(1)),
            format!("{h}x{w} (input shape {:?})", x.dims()),
        ));
    }
    if use_fast(imp, x) {
        return Ok(ops::max_pool2d(x, k, stride, padding)?);
    }
    // Candle's own max_pool2d has no padding and no backward for overlapping windows: take the
    // elementwise maximum of the k*k strided views of the zero-padded input instead.
    let (oh, ow) = (
        (h + 2 * padding - k) / stride + 1,
        (w + 2 * padding - k) / stride + 1,
    );
    let (hp, wp) = (
        (k - 1 + stride * oh).max(h + 2 * padding),
        (k - 1 + stride * ow).max(w + 2 * padding),
    );
    let xp = x
        .pad_with_zeros(2, padding, hp - h - padding)?
        .pad_with_zeros(3, padding, wp - w - padding)?;
    let (n, c) = (x.dim(0)?, x.dim(1)?);
    let mut out: Option<Tensor> = None;
    for ki in 0..k {
        for kj in 0..k {
            let view = xp
                .narrow(2, ki, stride * oh)?
                .narrow(3, kj, stride * ow)?
                .reshape((n, c, oh, stride, ow, stride))?
                .narrow(3, 0, 1)?
                .narrow(5, 0, 1)?
                .reshape((n, c, oh, ow))?;
            out = Some(match out {
                None => view,
                Some(o) => o.maximum(&view)?,
            });
        }
    }
    out.ok_or_else(|| shape_err(layer, "kernel size", "at least 1", k))
}
