//! Softmax and log-softmax over the last dimension from differentiable primitives (the row
//! maximum is subtracted as a constant, which changes neither the value nor the gradient).

use candle_core::{Tensor, D};

use crate::error::Result;

/// `softmax(x, -1)`; a row entry of `-inf` gets probability 0.
pub(crate) fn softmax_last(x: &Tensor) -> Result<Tensor> {
    let max = x.max_keepdim(D::Minus1)?.detach();
    let e = x.broadcast_sub(&max)?.exp()?;
    let s = e.sum_keepdim(D::Minus1)?;
    Ok(e.broadcast_div(&s)?)
}

/// `log_softmax(x, -1)`.
pub(crate) fn log_softmax_last(x: &Tensor) -> Result<Tensor> {
    let max = x.max_keepdim(D::Minus1)?.detach();
    let shifted = x.broadcast_sub(&max)?;
    let lse = shifted.exp()?.sum_keepdim(D::Minus1)?.log()?;
    Ok(shifted.broadcast_sub(&lse)?)
}
