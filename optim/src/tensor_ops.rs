//! The tensor-op step: the same update as the fused CPU kernels, written with device-agnostic
//! Candle tensor ops (used on CUDA/Metal, and selectable on CPU with `StepBackend::TensorOps`).
//!
//! Element arithmetic runs in the parameter's dtype in the references' operation order; the row
//! sums for the cosine test, the projection coefficients and the statistics are computed in f64
//! and read back to the host once per parameter (as the reference's `cosine_sim.max() < ...`
//! comparison does).

use candle_core::{DType, Tensor, Var};

use crate::algo::{Algo, StepCtx};
use crate::error::Result;
use crate::fused::Outcome;
use crate::optimizer::ProjectionView;
use crate::projection::{self, RowPost, RowPre};
use crate::state::{Buf, ParamState};

/// `t / s` as a true division by the scalar rounded to `t`'s dtype (Candle's `t / f64` multiplies
/// by the reciprocal).
fn div_scalar(t: &Tensor, s: f64) -> Result<Tensor> {
    let s = Tensor::new(s, t.device())?.to_dtype(t.dtype())?;
    Ok(t.broadcast_div(&s)?)
}

/// Per-row sums of `a * b` in f64 over the channel view `(rows, row_len)`.
fn row_dot(a: &Tensor, b: &Tensor, rows: usize, row_len: usize) -> Result<Vec<f64>> {
    let a = a.to_dtype(DType::F64)?.reshape((rows, row_len))?;
    let b = b.to_dtype(DType::F64)?.reshape((rows, row_len))?;
    Ok((a * b)?.sum(1)?.to_vec1::<f64>()?)
}

/// One parameter's step with tensor ops.
pub(crate) fn step_param(
    algo: &Algo,
    ctx: StepCtx,
    var: &Var,
    grad: &Tensor,
    state: &mut ParamState,
) -> Result<Outcome> {
    let w = var.as_tensor().detach();
    let g = grad.detach().to_dtype(w.dtype())?;
    let dims = w.dims().to_vec();
    // `g * 0` is NaN exactly where g is NaN or infinite.
    let z = g
        .affine(0.0, 0.0)?
        .to_dtype(DType::F64)?
        .sum_all()?
        .to_scalar::<f64>()?;
    if z != 0.0 {
        return Ok(Outcome::NonFinite);
    }
    let (rows, row_len) = projection::channel_view(&dims);
    let pre: Vec<RowPre> = if rows * row_len == 0 {
        Vec::new()
    } else {
        let gw = row_dot(&g, &w, rows, row_len)?;
        let gg = row_dot(&g, &g, rows, row_len)?;
        let ww = row_dot(&w, &w, rows, row_len)?;
        (0..rows)
            .map(|r| RowPre {
                gw: gw[r],
                gg: gg[r],
                ww: ww[r],
            })
            .collect()
    };
    let decision = match algo.projection() {
        Some(pp) => projection::decide(&pre, row_len, dims.len(), &pp),
        None => projection::Decision {
            view: ProjectionView::None,
            ratio: 1.0,
        },
    };
    let decay = algo.decay_factor(ctx.lr, ctx.wd, decision.ratio);
    let tt = ctx.t as f64;
    let first = state.bufs.first().is_some_and(|b| b.is_none());
    let bufs: Vec<Tensor> = (0..state.bufs.len())
        .map(|k| state.tensor(k, &w))
        .collect::<Result<_>>()?;

    // (direction u, new state buffers, neg step, eps for the stats, projection write-back)
    let (u, mut new_bufs, neg_step, eps, alias_buf) = match *algo {
        Algo::Sgd {
            momentum,
            dampening,
            nesterov,
        } => {
            let g = if ctx.wd != 0.0 {
                (&g + (&w * ctx.wd)?)?
            } else {
                g.clone()
            };
            if momentum == 0.0 {
                (g, vec![], -ctx.lr, 1e-8, false)
            } else {
                let buf = if first {
                    g.clone()
                } else {
                    ((&bufs[0] * momentum)? + (&g * (1.0 - dampening))?)?
                };
                let u = if nesterov {
                    (&g + (&buf * momentum)?)?
                } else {
                    buf.clone()
                };
                (u, vec![buf], -ctx.lr, 1e-8, false)
            }
        }
        Algo::Sgdp {
            momentum,
            dampening,
            nesterov,
            proj,
        } => {
            let buf = ((&bufs[0] * momentum)? + (&g * (1.0 - dampening))?)?;
            let u = if nesterov {
                (&g + (&buf * momentum)?)?
            } else {
                buf.clone()
            };
            (u, vec![buf], -ctx.lr, proj.eps, !nesterov)
        }
        Algo::Adam {
            beta1,
            beta2,
            eps,
            decoupled,
        } => {
            let g = if !decoupled && ctx.wd != 0.0 {
                (&g + (&w * ctx.wd)?)?
            } else {
                g.clone()
            };
            let weight = 1.0 - beta1;
            let m0 = &bufs[0];
            // torch's CPU `lerp_`: `weight < 0.5 ? self + weight*(end-self) : end - (end-self)*(1-weight)`
            let m = if weight < 0.5 {
                (m0 + ((&g - m0)? * weight)?)?
            } else {
                (&g - ((&g - m0)? * (1.0 - weight))?)?
            };
            let v = ((&bufs[1] * beta2)? + ((&g * (1.0 - beta2))? * &g)?)?;
            let denom = (div_scalar(&v.sqrt()?, (1.0 - beta2.powf(tt)).sqrt())? + eps)?;
            let u = (&m / &denom)?;
            (
                u,
                vec![m, v],
                -(ctx.lr / (1.0 - beta1.powf(tt))),
                eps,
                false,
            )
        }
        Algo::AdamP {
            beta1,
            beta2,
            eps,
            nesterov,
            proj,
        } => {
            let m = ((&bufs[0] * beta1)? + (&g * (1.0 - beta1))?)?;
            let v = ((&bufs[1] * beta2)? + ((&g * (1.0 - beta2))? * &g)?)?;
            let denom = (div_scalar(&v.sqrt()?, (1.0 - beta2.powf(tt)).sqrt())? + eps)?;
            let u = if nesterov {
                (((&m * beta1)? + (&g * (1.0 - beta1))?)? / &denom)?
            } else {
                (&m / &denom)?
            };
            (
                u,
                vec![m, v],
                -(ctx.lr / (1.0 - beta1.powf(tt))),
                proj.eps,
                false,
            )
        }
    };

    // Projection: u' = u - c_row * w with c = <w,u> / (||w|| + eps)^2 per row (channel) or once.
    let u = match decision.view {
        ProjectionView::None => u,
        ProjectionView::Channel => {
            let wu = row_dot(&w, &u, rows, row_len)?;
            let coef: Vec<f64> = pre
                .iter()
                .zip(&wu)
                .map(|(r, wu)| projection::coefficient(r.ww, *wu, eps))
                .collect();
            let coef = Tensor::from_vec(coef, (rows, 1), w.device())?.to_dtype(w.dtype())?;
            let w2 = w.reshape((rows, row_len))?;
            (u.reshape((rows, row_len))? - w2.broadcast_mul(&coef)?)?.reshape(dims.as_slice())?
        }
        ProjectionView::Layer => {
            let wu: f64 = row_dot(&w, &u, rows, row_len)?.iter().sum();
            let ww: f64 = pre.iter().map(|r| r.ww).sum();
            let coef = Tensor::new(projection::coefficient(ww, wu, eps), w.device())?
                .to_dtype(w.dtype())?;
            (&u - w.broadcast_mul(&coef)?)?
        }
    };
    if alias_buf && decision.view != ProjectionView::None {
        // SGDP without Nesterov: the reference projects the momentum buffer itself (sgdp.py).
        new_bufs[0] = u.clone();
    }
    let w1 = ((&w * decay)? + (&u * neg_step)?)?;
    let post: Vec<RowPost> = if rows * row_len == 0 {
        Vec::new()
    } else {
        let wf = w.to_dtype(DType::F64)?;
        let d = (w1.to_dtype(DType::F64)? - &wf)?;
        let wd = row_dot(&wf, &d, rows, row_len)?;
        let dd = row_dot(&d, &d, rows, row_len)?;
        wd.into_iter()
            .zip(dd)
            .map(|(wd, dd)| RowPost { wd, dd })
            .collect()
    };
    var.set(&w1)?;
    for (slot, b) in state.bufs.iter_mut().zip(new_bufs) {
        *slot = Some(Buf::Tensor(b));
    }
    state.step = ctx.t;
    Ok(Outcome::Updated(projection::stats(
        &pre,
        &post,
        eps,
        decision.view,
        decay,
    )))
}
