//! The tensor-op step: the same update as the fused CPU kernels, written with device-agnostic
//! Candle tensor ops (used on CUDA/Metal, and selectable on CPU with `StepBackend::TensorOps`).
//!
//! Element arithmetic runs in the parameter's dtype in the references' operation order; the row
//! sums for the cosine test, the projection coefficients and the statistics are computed in f64
//! and read back to the host once per parameter (as the reference's `cosine_sim.max() < ...`
//! comparison does).
//!
//! One step (`step_param`) in named parts: the gradient's NaN/Inf check (`grad_is_finite`); the
//! channel-view row sums before the step (`pre_rows`) and the SGDP/AdamP cosine test (`decide`);
//! the rule's state update and direction `u` (`direction`, one function per rule); the projection
//! of `u` (`project`); the update `w' = decay * w - step * u`; the statistics' row sums
//! (`post_rows`) and the write-back of weights and state (`commit`).

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
    if !grad_is_finite(&g)? {
        return Ok(Outcome::NonFinite);
    }
    let (rows, row_len) = projection::channel_view(&dims);
    let pre = pre_rows(&g, &w, rows, row_len)?;
    let decision = decide(algo, &pre, row_len, dims.len());
    let decay = algo.decay_factor(ctx.lr, ctx.wd, decision.ratio);
    let mut dir = direction(algo, ctx, &g, &w, state)?;
    let eps = dir.eps;
    let u = project(dir.u, &w, &pre, decision.view, rows, row_len, eps)?;
    if dir.alias_buf && decision.view != ProjectionView::None {
        // SGDP without Nesterov: the reference projects the momentum buffer itself (sgdp.py).
        dir.bufs[0] = u.clone();
    }
    // The update: decoupled decay (`p.data.mul_(...)`, see `Algo::decay_factor`), then
    // `p.data.add_(u, alpha=-step)`.
    let w1 = ((&w * decay)? + (&u * dir.neg_step)?)?;
    // The statistics' row sums use the old weight, so they are taken before the write-back.
    let post = post_rows(&w, &w1, rows, row_len)?;
    commit(var, &w1, state, dir.bufs, ctx.t)?;
    Ok(Outcome::Updated(projection::stats(
        &pre,
        &post,
        eps,
        decision.view,
        decay,
    )))
}

/// Whether the gradient is free of NaN/Inf: `g * 0` is NaN exactly where g is NaN or infinite,
/// so its f64 sum is 0 only for a finite gradient.
fn grad_is_finite(g: &Tensor) -> Result<bool> {
    let z = g
        .affine(0.0, 0.0)?
        .to_dtype(DType::F64)?
        .sum_all()?
        .to_scalar::<f64>()?;
    Ok(z == 0.0)
}

/// The channel-view row sums `<g,w>`, `||g||^2`, `||w||^2` before the step, in f64 (the inputs of
/// the cosine test in `adamp.py::_projection` and of the statistics); empty for an empty tensor.
fn pre_rows(g: &Tensor, w: &Tensor, rows: usize, row_len: usize) -> Result<Vec<RowPre>> {
    if rows * row_len == 0 {
        return Ok(Vec::new());
    }
    let gw = row_dot(g, w, rows, row_len)?;
    let gg = row_dot(g, g, rows, row_len)?;
    let ww = row_dot(w, w, rows, row_len)?;
    Ok((0..rows)
        .map(|r| RowPre {
            gw: gw[r],
            gg: gg[r],
            ww: ww[r],
        })
        .collect())
}

/// The SGDP/AdamP projection decision (`_projection`'s cosine test, [`projection::decide`]);
/// the rules that do not project get no view and a weight-decay ratio of 1.
fn decide(algo: &Algo, pre: &[RowPre], row_len: usize, rank: usize) -> projection::Decision {
    match algo.projection() {
        Some(pp) => projection::decide(pre, row_len, rank, &pp),
        None => projection::Decision {
            view: ProjectionView::None,
            ratio: 1.0,
        },
    }
}

/// A rule's update direction and advanced state, before the projection.
struct Direction {
    /// The direction `u` (`d_p` in sgd.py/sgdp.py, `perturb` in adamp.py).
    u: Tensor,
    /// The new state buffers, in the rule's slot order.
    bufs: Vec<Tensor>,
    /// The step's signed multiplier of `u`: `-lr`, or `-lr / (1 - beta1^t)` for Adam/AdamP.
    neg_step: f64,
    /// The eps of the projection and the statistics.
    eps: f64,
    /// Whether a projected `u` is also the new slot 0 (SGDP without Nesterov, sgdp.py).
    alias_buf: bool,
}

/// What every rule's state update reads: the gradient, the weight and the state buffers.
struct Inputs<'a> {
    ctx: StepCtx,
    g: &'a Tensor,
    w: &'a Tensor,
    /// The state buffers as tensors like `w` (zeros where not yet allocated).
    bufs: &'a [Tensor],
    /// First step: slot 0 was never written (torch SGD's `buf is None`).
    first: bool,
}

/// The state update and direction of the parameter's rule (reads the state, does not write it).
fn direction(
    algo: &Algo,
    ctx: StepCtx,
    g: &Tensor,
    w: &Tensor,
    state: &ParamState,
) -> Result<Direction> {
    let first = state.bufs.first().is_some_and(|b| b.is_none());
    let bufs: Vec<Tensor> = (0..state.bufs.len())
        .map(|k| state.tensor(k, w))
        .collect::<Result<_>>()?;
    let x = Inputs {
        ctx,
        g,
        w,
        bufs: &bufs,
        first,
    };
    match *algo {
        Algo::Sgd {
            momentum,
            dampening,
            nesterov,
        } => sgd(&x, momentum, dampening, nesterov),
        Algo::Sgdp {
            momentum,
            dampening,
            nesterov,
            proj,
        } => sgdp(&x, momentum, dampening, nesterov, proj.eps),
        Algo::Adam {
            beta1,
            beta2,
            eps,
            decoupled,
        } => adam(&x, beta1, beta2, eps, decoupled),
        Algo::AdamP {
            beta1,
            beta2,
            eps,
            nesterov,
            proj,
        } => adamp(&x, beta1, beta2, eps, nesterov, proj.eps),
    }
}

/// Coupled (L2) weight decay on the gradient, `grad = grad.add(param, alpha=weight_decay)`
/// (torch sgd.py / adam.py), when `on`; else the gradient as is.
fn l2_decay(g: &Tensor, w: &Tensor, wd: f64, on: bool) -> Result<Tensor> {
    Ok(if on { (g + (w * wd)?)? } else { g.clone() })
}

/// The momentum buffer `buf.mul_(momentum).add_(grad, alpha=1 - dampening)` (torch sgd.py,
/// sgdp.py).
fn momentum_buf(buf: &Tensor, g: &Tensor, momentum: f64, dampening: f64) -> Result<Tensor> {
    Ok(((buf * momentum)? + (g * (1.0 - dampening))?)?)
}

/// The momentum direction: `grad + momentum * buf` with Nesterov, else `buf` itself.
fn momentum_dir(g: &Tensor, buf: &Tensor, momentum: f64, nesterov: bool) -> Result<Tensor> {
    Ok(if nesterov {
        (g + (buf * momentum)?)?
    } else {
        buf.clone()
    })
}

/// torch SGD (`sgd.py::_single_tensor_sgd`): coupled decay, then the momentum buffer (the plain
/// gradient on the first step) and direction; no state without momentum.
fn sgd(x: &Inputs, momentum: f64, dampening: f64, nesterov: bool) -> Result<Direction> {
    let g = l2_decay(x.g, x.w, x.ctx.wd, x.ctx.wd != 0.0)?;
    let (u, bufs) = if momentum == 0.0 {
        (g, vec![])
    } else {
        let buf = if x.first {
            g.clone()
        } else {
            momentum_buf(&x.bufs[0], &g, momentum, dampening)?
        };
        (momentum_dir(&g, &buf, momentum, nesterov)?, vec![buf])
    };
    Ok(Direction {
        u,
        bufs,
        neg_step: -x.ctx.lr,
        eps: 1e-8,
        alias_buf: false,
    })
}

/// SGDP (`sgdp.py::SGDP.step`): the momentum buffer (dampened from the first step) and direction;
/// without Nesterov `d_p` is the buffer itself, so a projection rewrites it.
fn sgdp(
    x: &Inputs,
    momentum: f64,
    dampening: f64,
    nesterov: bool,
    proj_eps: f64,
) -> Result<Direction> {
    let buf = momentum_buf(&x.bufs[0], x.g, momentum, dampening)?;
    let u = momentum_dir(x.g, &buf, momentum, nesterov)?;
    Ok(Direction {
        u,
        bufs: vec![buf],
        neg_step: -x.ctx.lr,
        eps: proj_eps,
        alias_buf: !nesterov,
    })
}

/// The second moment `exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)` (adam.py,
/// adamp.py).
fn second_moment(v: &Tensor, g: &Tensor, beta2: f64) -> Result<Tensor> {
    Ok(((v * beta2)? + ((g * (1.0 - beta2))? * g)?)?)
}

/// The denominator `(exp_avg_sq.sqrt() / math.sqrt(bias_correction2)).add_(eps)` with
/// `bias_correction2 = 1 - beta2 ** step` (a float power, as in both references).
fn adam_denom(v: &Tensor, beta2: f64, t: f64, eps: f64) -> Result<Tensor> {
    Ok((div_scalar(&v.sqrt()?, (1.0 - beta2.powf(t)).sqrt())? + eps)?)
}

/// The signed step `-lr / bias_correction1`, `bias_correction1 = 1 - beta1 ** step`.
fn adam_neg_step(lr: f64, beta1: f64, t: f64) -> f64 {
    -(lr / (1.0 - beta1.powf(t)))
}

/// torch Adam/AdamW (`adam.py::_single_tensor_adam`): coupled decay unless decoupled, the first
/// moment by `lerp_`, the second moment and `u = exp_avg / denom`.
fn adam(x: &Inputs, beta1: f64, beta2: f64, eps: f64, decoupled: bool) -> Result<Direction> {
    let tt = x.ctx.t as f64;
    let g = l2_decay(x.g, x.w, x.ctx.wd, !decoupled && x.ctx.wd != 0.0)?;
    let weight = 1.0 - beta1;
    let m0 = &x.bufs[0];
    // torch's CPU `lerp_`: `weight < 0.5 ? self + weight*(end-self) : end - (end-self)*(1-weight)`
    let m = if weight < 0.5 {
        (m0 + ((&g - m0)? * weight)?)?
    } else {
        (&g - ((&g - m0)? * (1.0 - weight))?)?
    };
    let v = second_moment(&x.bufs[1], &g, beta2)?;
    let denom = adam_denom(&v, beta2, tt, eps)?;
    let u = (&m / &denom)?;
    Ok(Direction {
        u,
        bufs: vec![m, v],
        neg_step: adam_neg_step(x.ctx.lr, beta1, tt),
        eps,
        alias_buf: false,
    })
}

/// AdamP (`adamp.py::AdamP.step`): `exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)`, the second
/// moment, and `u = exp_avg / denom` or, with Nesterov, `(beta1 * exp_avg + (1 - beta1) * grad)
/// / denom`.
fn adamp(
    x: &Inputs,
    beta1: f64,
    beta2: f64,
    eps: f64,
    nesterov: bool,
    proj_eps: f64,
) -> Result<Direction> {
    let tt = x.ctx.t as f64;
    let g = x.g;
    let m = ((&x.bufs[0] * beta1)? + (g * (1.0 - beta1))?)?;
    let v = second_moment(&x.bufs[1], g, beta2)?;
    let denom = adam_denom(&v, beta2, tt, eps)?;
    let u = if nesterov {
        (((&m * beta1)? + (g * (1.0 - beta1))?)? / &denom)?
    } else {
        (&m / &denom)?
    };
    Ok(Direction {
        u,
        bufs: vec![m, v],
        neg_step: adam_neg_step(x.ctx.lr, beta1, tt),
        eps: proj_eps,
        alias_buf: false,
    })
}

/// Projection: u' = u - c_row * w with c = <w,u> / (||w|| + eps)^2 per row (channel) or once
/// (layer), as `_projection`'s `perturb -= p_n * view_func(p_n * perturb).sum(dim=1)`.
fn project(
    u: Tensor,
    w: &Tensor,
    pre: &[RowPre],
    view: ProjectionView,
    rows: usize,
    row_len: usize,
    eps: f64,
) -> Result<Tensor> {
    match view {
        ProjectionView::None => Ok(u),
        ProjectionView::Channel => project_channel(&u, w, pre, rows, row_len, eps),
        ProjectionView::Layer => project_layer(&u, w, pre, rows, row_len, eps),
    }
}

/// The channel view's projection: one coefficient per row (`shape[0]` rows of `row_len`).
fn project_channel(
    u: &Tensor,
    w: &Tensor,
    pre: &[RowPre],
    rows: usize,
    row_len: usize,
    eps: f64,
) -> Result<Tensor> {
    let wu = row_dot(w, u, rows, row_len)?;
    let coef: Vec<f64> = pre
        .iter()
        .zip(&wu)
        .map(|(r, wu)| projection::coefficient(r.ww, *wu, eps))
        .collect();
    let coef = Tensor::from_vec(coef, (rows, 1), w.device())?.to_dtype(w.dtype())?;
    let w2 = w.reshape((rows, row_len))?;
    Ok((u.reshape((rows, row_len))? - w2.broadcast_mul(&coef)?)?.reshape(w.dims())?)
}

/// The layer view's projection: one coefficient from the sums over the whole tensor.
fn project_layer(
    u: &Tensor,
    w: &Tensor,
    pre: &[RowPre],
    rows: usize,
    row_len: usize,
    eps: f64,
) -> Result<Tensor> {
    let wu: f64 = row_dot(w, u, rows, row_len)?.iter().sum();
    let ww: f64 = pre.iter().map(|r| r.ww).sum();
    let coef =
        Tensor::new(projection::coefficient(ww, wu, eps), w.device())?.to_dtype(w.dtype())?;
    Ok((u - w.broadcast_mul(&coef)?)?)
}

/// The statistics' row sums of the step `d = w' - w` in f64: `<w,d>` and `||d||^2` per
/// channel-view row; empty for an empty tensor.
fn post_rows(w: &Tensor, w1: &Tensor, rows: usize, row_len: usize) -> Result<Vec<RowPost>> {
    if rows * row_len == 0 {
        return Ok(Vec::new());
    }
    let wf = w.to_dtype(DType::F64)?;
    let d = (w1.to_dtype(DType::F64)? - &wf)?;
    let wd = row_dot(&wf, &d, rows, row_len)?;
    let dd = row_dot(&d, &d, rows, row_len)?;
    Ok(wd
        .into_iter()
        .zip(dd)
        .map(|(wd, dd)| RowPost { wd, dd })
        .collect())
}

/// Write the new weight into the `Var` and the new buffers into the state; record step `t`.
fn commit(var: &Var, w1: &Tensor, state: &mut ParamState, bufs: Vec<Tensor>, t: u64) -> Result<()> {
    var.set(w1)?;
    for (slot, b) in state.bufs.iter_mut().zip(bufs) {
        *slot = Some(Buf::Tensor(b));
    }
    state.step = t;
    Ok(())
}
