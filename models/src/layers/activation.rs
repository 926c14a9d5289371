//! ReLU / ReLU6 dispatch: fast CPU kernel or Candle ops.
//!
//! The Candle path builds the activation from comparison masks so that its gradient follows
//! torch exactly (`threshold_backward` / `hardtanh_backward`: no gradient at `x = 0` or `x = 6`).
//! Candle's own `relu` passes the gradient at `x = 0` and `clamp` halves it at the bounds, which
//! matters in practice: BatchNorm channels with zero batch variance output exactly `beta = 0`.

use candle_core::{DType, Tensor};

use super::{use_cuda, use_fast};
use crate::builder::LayerImpl;
use crate::error::Result;
use crate::ops;

/// `max(x, 0)`.
pub fn relu(x: &Tensor, imp: LayerImpl) -> Result<Tensor> {
    if use_fast(imp, x) {
        return Ok(ops::relu(x)?);
    }
    let pass = x.gt(0f64)?.to_dtype(x.dtype())?;
    Ok((x * pass)?)
}

/// `min(max(x, 0), 6)` (MobileNetV2).
pub fn relu6(x: &Tensor, imp: LayerImpl) -> Result<Tensor> {
    if use_fast(imp, x) {
        return Ok(ops::relu6(x)?);
    }
    let dt = x.dtype();
    let inside =
        (x.gt(0f64)?.to_dtype(DType::U8)? * x.lt(6f64)?.to_dtype(DType::U8)?)?.to_dtype(dt)?;
    let above = (x.ge(6f64)?.to_dtype(dt)? * 6.0)?;
    Ok(((x * inside)? + above)?)
}

/// `max(a + b, 0)`: the end of a residual block. Errors name `layer` when the shapes differ.
pub fn add_relu(layer: &str, a: &Tensor, b: &Tensor, imp: LayerImpl) -> Result<Tensor> {
    if a.dims() != b.dims() {
        return Err(crate::error::shape_err(
            layer,
            "residual branch shape",
            format!("{:?}", a.dims()),
            format!("{:?}", b.dims()),
        ));
    }
    if use_fast(imp, a) {
        return Ok(ops::add_relu(a, b)?);
    }
    if use_cuda(imp, a) {
        return Ok(ops::cuda::add_relu(a, b)?);
    }
    relu(&(a + b)?, imp)
}
