//! The fused CPU step: each parameter's weights and state are updated in place in one or two
//! passes over f32/f64 slices, threaded over chunks of whole rows with rayon.
//!
//! The weights are reached through Candle's in-place custom op (`Tensor::inplace_op2`, which
//! write-locks the `Var`'s storage and read-locks the gradient's); the state buffers are plain
//! vectors owned by the optimizer.
//!
//! Passes per parameter (counting f32 arrays of `numel` moved through memory):
//! - SGD / Adam / AdamW: a read-only scan of `g` for NaN/Inf (1), then one fused sweep that
//!   reads `w, g, state` and writes `w, state` (per-row statistics accumulated on the way).
//! - SGDP / AdamP: pass A reads `g, w` (2) for the row sums of the cosine test (and the NaN/Inf
//!   check); then, for the channel view, each row is advanced and rewritten while in cache (one
//!   sweep over memory); for no projection, one plain sweep; for the layer view (rare), two full
//!   sweeps because the coefficient needs the whole tensor.
//!
//! The channel-view row of an f32 SGDP or AdamP step runs hand-written AVX-512 or AVX2 code
//! (`proj_row.rs`), bit-identical to the generic sweep, which the compiler had left partly
//! scalar.

pub(crate) mod elems;
#[cfg(target_arch = "x86_64")]
pub(crate) mod proj_row;
pub(crate) mod sweep;

use std::sync::Mutex;

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, Layout, Tensor, Var};
use rayon::prelude::*;

use crate::algo::{Algo, StepCtx};
use crate::error::{OptimError, Result};
use crate::optimizer::{ParamStepStats, ProjectionView};
use crate::projection::{self, RowPost, RowPre};
use crate::real::Real;
use crate::state::{HostElem, ParamState};
use elems::{AdamElem, AdamPElem, Elem, ProjElem, SgdElem, SgdNoMomentumElem, SgdpElem};
use sweep::Chunk;

/// Elements per parallel work item (rounded to whole rows).
const CHUNK_ELEMS: usize = 1 << 16;

/// What happened to one parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Outcome {
    /// Updated; its statistics.
    Updated(ParamStepStats),
    /// The gradient held NaN/Inf; weights and state untouched.
    NonFinite,
    /// Updated without computing the statistics (the GPU path on a step that is not logged).
    #[cfg_attr(
        not(any(feature = "cuda", feature = "gpu-emulator")),
        allow(dead_code, reason = "only the GPU step skips its statistics")
    )]
    UpdatedWithoutStats,
}

/// Run one fused step on a CPU parameter.
pub(crate) fn step_param(
    algo: &Algo,
    ctx: StepCtx,
    name: &str,
    var: &Var,
    grad: &Tensor,
    state: &mut ParamState,
) -> Result<Outcome> {
    let grad = grad.contiguous()?;
    let op = FusedOp {
        algo: *algo,
        ctx,
        name: name.to_string(),
        dims: var.dims().to_vec(),
        state: Mutex::new(Some(state)),
        out: Mutex::new(None),
    };
    var.as_tensor().inplace_op2(&grad, &op)?;
    let out = op.out.lock().map_err(|_| poisoned())?.take();
    out.unwrap_or_else(|| {
        Err(OptimError::InvalidParams(format!(
            "fused step of `{name}` did not run"
        )))
    })
}

fn poisoned() -> OptimError {
    OptimError::InvalidParams("fused step: a worker thread panicked".into())
}

struct FusedOp<'s> {
    algo: Algo,
    ctx: StepCtx,
    name: String,
    dims: Vec<usize>,
    state: Mutex<Option<&'s mut ParamState>>,
    out: Mutex<Option<Result<Outcome>>>,
}

impl candle_core::InplaceOp2 for FusedOp<'_> {
    fn name(&self) -> &'static str {
        "adamp-optim-fused-step"
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<()> {
        let mut guard = self
            .state
            .lock()
            .map_err(|_| candle_core::Error::Msg("fused state lock poisoned".into()))?;
        let Some(state) = guard.take() else {
            candle_core::bail!("fused step ran twice")
        };
        let res = (|| -> Result<Outcome> {
            let (w0, w1) = l1.contiguous_offsets().ok_or_else(|| {
                OptimError::InvalidParams(format!(
                    "parameter `{}` is stored non-contiguously (strided view); create the Var from a contiguous tensor",
                    self.name
                ))
            })?;
            let (g0, g1) = l2.contiguous_offsets().ok_or_else(|| {
                OptimError::InvalidParams(format!("gradient of `{}` is not contiguous", self.name))
            })?;
            match (s1, s2) {
                (CpuStorage::F32(w), CpuStorage::F32(g)) => run::<f32>(
                    &self.algo,
                    self.ctx,
                    &self.dims,
                    &mut w[w0..w1],
                    &g[g0..g1],
                    state,
                ),
                (CpuStorage::F64(w), CpuStorage::F64(g)) => run::<f64>(
                    &self.algo,
                    self.ctx,
                    &self.dims,
                    &mut w[w0..w1],
                    &g[g0..g1],
                    state,
                ),
                (w, g) => Err(OptimError::InvalidParams(format!(
                    "parameter `{}` ({:?}) and its gradient ({:?}) must both be f32 or both f64",
                    self.name,
                    w.dtype(),
                    g.dtype()
                ))),
            }
        })();
        *self
            .out
            .lock()
            .map_err(|_| candle_core::Error::Msg("fused output lock poisoned".into()))? = Some(res);
        Ok(())
    }
}

/// Split `w`, `g` and the state vectors into chunks of `chunk` elements.
fn chunks<'a, T: Real>(
    w: &'a mut [T],
    g: &'a [T],
    bufs: &'a mut [&'a mut [T]],
    chunk: usize,
) -> Vec<Chunk<'a, T>> {
    let chunk = chunk.max(1);
    let mut it = bufs.iter_mut();
    let mut a_it = it.next().map(|a| a.chunks_mut(chunk));
    let mut b_it = it.next().map(|b| b.chunks_mut(chunk));
    w.chunks_mut(chunk)
        .zip(g.chunks(chunk))
        .map(|(w, g)| Chunk {
            w,
            g,
            a: a_it.as_mut().and_then(|i| i.next()).unwrap_or(&mut []),
            b: b_it.as_mut().and_then(|i| i.next()).unwrap_or(&mut []),
        })
        .collect()
}

/// The typed body of a fused step: pass A or the NaN/Inf scan (`pass_a`), the state as host
/// slices (`state_slices`), the rule's sweeps over row chunks (`Sweep::run`), then the statistics
/// from the row sums of both passes.
fn run<T: HostElem>(
    algo: &Algo,
    ctx: StepCtx,
    dims: &[usize],
    w: &mut [T],
    g: &[T],
    state: &mut ParamState,
) -> Result<Outcome> {
    let n = w.len();
    let (_, row_len) = projection::channel_view(dims);
    let chunk = chunk_len(n, row_len);
    let eps = stats_eps(algo);

    // Pass A (projecting rules) or the NaN/Inf scan (others).
    let Some(PassA { pre, decision }) = pass_a(algo, dims, w, g, row_len, chunk) else {
        return Ok(Outcome::NonFinite);
    };

    let (first, mut bufs) = state_slices::<T>(state, n)?;
    let decay = algo.decay_factor(ctx.lr, ctx.wd, decision.ratio);
    let chunks = chunks(w, g, &mut bufs, chunk);
    let sweep = Sweep {
        ctx,
        row_len,
        decay,
        first,
    };
    let (rows_pre, post) = sweep.run(algo, chunks, pre, decision.view);
    state.step = ctx.t;
    Ok(Outcome::Updated(projection::stats(
        &rows_pre,
        &post,
        eps,
        decision.view,
        decay,
    )))
}

/// Elements per work item: [`CHUNK_ELEMS`] rounded to whole channel-view rows (at least one row;
/// the whole tensor when it has no rows).
fn chunk_len(n: usize, row_len: usize) -> usize {
    if row_len == 0 {
        n.max(1)
    } else {
        row_len * (CHUNK_ELEMS / row_len).max(1)
    }
}

/// The eps of the step statistics: the projection's eps for SGDP/AdamP, Adam's own eps, `1e-8`
/// for SGD (as the tensor-op path uses).
fn stats_eps(algo: &Algo) -> f64 {
    match algo {
        Algo::Sgdp { proj, .. } | Algo::AdamP { proj, .. } => proj.eps,
        Algo::Adam { eps, .. } => *eps,
        Algo::Sgd { .. } => 1e-8,
    }
}

/// The outcome of pass A for a finite gradient.
struct PassA {
    /// The channel-view row sums `<g,w>`, `||g||^2`, `||w||^2` (projecting rules only).
    pre: Option<Vec<RowPre>>,
    /// The projection decision (no view, ratio 1, for the rules that do not project).
    decision: projection::Decision,
}

/// Pass A: for SGDP/AdamP, one parallel read of `g, w` for the row sums of the cosine test (and
/// the NaN/Inf check), then `_projection`'s decision (`adamp.py`, [`projection::decide`]); for
/// the others, a read-only NaN/Inf scan of `g`. `None` when the gradient holds NaN/Inf.
fn pass_a<T: HostElem>(
    algo: &Algo,
    dims: &[usize],
    w: &[T],
    g: &[T],
    row_len: usize,
    chunk: usize,
) -> Option<PassA> {
    match algo.projection() {
        Some(pp) => {
            let parts: Vec<(Vec<RowPre>, bool)> = w
                .par_chunks(chunk)
                .zip(g.par_chunks(chunk))
                .map(|(w, g)| sweep::pre_rows(w, g, row_len))
                .collect();
            if parts.iter().any(|(_, f)| !f) {
                return None;
            }
            let pre: Vec<RowPre> = parts.into_iter().flat_map(|(r, _)| r).collect();
            let decision = projection::decide(&pre, row_len, dims.len(), &pp);
            Some(PassA {
                pre: Some(pre),
                decision,
            })
        }
        None => {
            if !g.par_chunks(chunk).all(sweep::all_finite) {
                return None;
            }
            Some(PassA {
                pre: None,
                decision: projection::Decision {
                    view: ProjectionView::None,
                    ratio: 1.0,
                },
            })
        }
    }
}

/// The state buffers as host slices of `n` elements (allocated as zeros on first use), and
/// whether this is the first step (slot 0 never written: torch SGD's `buf is None`), read before
/// the allocation.
fn state_slices<T: HostElem>(state: &mut ParamState, n: usize) -> Result<(bool, Vec<&mut [T]>)> {
    let first = state.bufs.first().is_some_and(|b| b.is_none());
    state.host_bufs::<T>(n)?;
    let bufs: Vec<&mut [T]> = state
        .bufs
        .iter_mut()
        .filter_map(|b| b.as_mut().and_then(T::host_mut).map(|v| v.as_mut_slice()))
        .collect();
    Ok((first, bufs))
}

/// The per-step scalars the element rules are built from.
#[derive(Clone, Copy)]
struct Sweep {
    ctx: StepCtx,
    /// The channel view's row length.
    row_len: usize,
    /// The multiplicative weight decay of this step (`Algo::decay_factor`).
    decay: f64,
    /// First step (slot 0 never written).
    first: bool,
}

impl Sweep {
    /// The rule's sweeps over all chunks: one plain sweep for SGD/Adam/AdamW, the projected
    /// sweeps of the decided view for SGDP/AdamP (`pre` are pass A's row sums). Returns the row
    /// sums before and after the step for the statistics.
    fn run<T: HostElem>(
        &self,
        algo: &Algo,
        chunks: Vec<Chunk<'_, T>>,
        pre: Option<Vec<RowPre>>,
        view: ProjectionView,
    ) -> (Vec<RowPre>, Vec<RowPost>) {
        let row_len = self.row_len;
        match *algo {
            Algo::Sgd {
                momentum,
                dampening,
                nesterov,
            } => {
                if momentum == 0.0 {
                    plain(&self.sgd_no_momentum::<T>(), chunks, row_len)
                } else {
                    plain(&self.sgd(momentum, dampening, nesterov), chunks, row_len)
                }
            }
            Algo::Adam {
                beta1,
                beta2,
                eps,
                decoupled,
            } => plain(&self.adam(beta1, beta2, eps, decoupled), chunks, row_len),
            Algo::Sgdp {
                momentum,
                dampening,
                nesterov,
                proj,
            } => {
                let e = self.sgdp(momentum, dampening, nesterov);
                projected(&e, chunks, row_len, pre.unwrap_or_default(), view, proj.eps)
            }
            Algo::AdamP {
                beta1,
                beta2,
                eps,
                nesterov,
                proj,
            } => {
                let e = self.adamp(beta1, beta2, eps, nesterov);
                projected(&e, chunks, row_len, pre.unwrap_or_default(), view, proj.eps)
            }
        }
    }

    /// `bias_correction = 1 - beta ** step` with a float power, as in both references.
    fn bias(&self, b1: f64, b2: f64) -> (f64, f64) {
        let tt = self.ctx.t as f64;
        (1.0 - b1.powf(tt), 1.0 - b2.powf(tt))
    }

    /// torch SGD without momentum (`sgd.py::_single_tensor_sgd`).
    fn sgd_no_momentum<T: Real>(&self) -> SgdNoMomentumElem<T> {
        let t = <T as Real>::from_f64;
        SgdNoMomentumElem {
            wd: t(self.ctx.wd),
            has_wd: self.ctx.wd != 0.0,
            neg_lr: t(-self.ctx.lr),
        }
    }

    /// torch SGD with momentum (`sgd.py::_single_tensor_sgd`).
    fn sgd<T: Real>(&self, momentum: f64, dampening: f64, nesterov: bool) -> SgdElem<T> {
        let t = <T as Real>::from_f64;
        SgdElem {
            wd: t(self.ctx.wd),
            has_wd: self.ctx.wd != 0.0,
            momentum: t(momentum),
            one_minus_dampening: t(1.0 - dampening),
            nesterov,
            first: self.first,
            neg_lr: t(-self.ctx.lr),
        }
    }

    /// torch Adam/AdamW (`adam.py::_single_tensor_adam`); the first moment by torch's `lerp_`.
    fn adam<T: Real>(&self, beta1: f64, beta2: f64, eps: f64, decoupled: bool) -> AdamElem<T> {
        let t = <T as Real>::from_f64;
        let (bc1, bc2) = self.bias(beta1, beta2);
        let weight = 1.0 - beta1;
        AdamElem {
            wd: t(self.ctx.wd),
            coupled: !decoupled && self.ctx.wd != 0.0,
            lerp_weight: t(weight),
            lerp_small: weight < 0.5,
            one_minus_lerp_weight: t(1.0 - weight),
            beta2: t(beta2),
            one_minus_beta2: t(1.0 - beta2),
            bias_correction2_sqrt: t(bc2.sqrt()),
            eps: t(eps),
            decay: t(self.decay),
            neg_step: t(-(self.ctx.lr / bc1)),
        }
    }

    /// SGDP (`sgdp.py::SGDP.step`).
    fn sgdp<T: Real>(&self, momentum: f64, dampening: f64, nesterov: bool) -> SgdpElem<T> {
        let t = <T as Real>::from_f64;
        SgdpElem {
            momentum: t(momentum),
            one_minus_dampening: t(1.0 - dampening),
            nesterov,
            decay: t(self.decay),
            neg_lr: t(-self.ctx.lr),
        }
    }

    /// AdamP (`adamp.py::AdamP.step`).
    fn adamp<T: Real>(&self, beta1: f64, beta2: f64, eps: f64, nesterov: bool) -> AdamPElem<T> {
        let t = <T as Real>::from_f64;
        let (bc1, bc2) = self.bias(beta1, beta2);
        AdamPElem {
            beta1: t(beta1),
            one_minus_beta1: t(1.0 - beta1),
            beta2: t(beta2),
            one_minus_beta2: t(1.0 - beta2),
            bias_correction2_sqrt: t(bc2.sqrt()),
            eps: t(eps),
            nesterov,
            decay: t(self.decay),
            neg_step: t(-(self.ctx.lr / bc1)),
        }
    }
}

/// Unprojected update over all chunks.
fn plain<T: Real, E: Elem<T>>(
    e: &E,
    chunks: Vec<Chunk<'_, T>>,
    row_len: usize,
) -> (Vec<RowPre>, Vec<RowPost>) {
    let parts: Vec<Vec<(RowPre, RowPost)>> = chunks
        .into_par_iter()
        .map(|c| sweep::plain(e, c, row_len))
        .collect();
    parts.into_iter().flatten().unzip()
}

/// Update of a projecting rule after the decision; `pre` are the channel-view row sums of pass A.
fn projected<T: Real, E: ProjElem<T>>(
    e: &E,
    chunks: Vec<Chunk<'_, T>>,
    row_len: usize,
    pre: Vec<RowPre>,
    view: ProjectionView,
    eps: f64,
) -> (Vec<RowPre>, Vec<RowPost>) {
    match view {
        ProjectionView::None => {
            let (_, post) = plain(e, chunks, row_len);
            (pre, post)
        }
        ProjectionView::Channel => {
            let rows_per_chunk = chunks
                .first()
                .map_or(1, |c| c.w.len() / row_len.max(1))
                .max(1);
            let parts: Vec<Vec<RowPost>> = chunks
                .into_par_iter()
                .zip(pre.par_chunks(rows_per_chunk))
                .map(|(c, p)| sweep::channel(e, c, row_len, p, eps))
                .collect();
            (pre, parts.into_iter().flatten().collect())
        }
        ProjectionView::Layer => {
            // Two full passes: the single coefficient needs <w, u> over the whole tensor, and
            // pass 2 recomputes u from the advanced state. Chunks are re-split for pass 2.
            let mut chunks = chunks;
            let wu: f64 = chunks
                .par_iter_mut()
                .map(|c| {
                    sweep::layer_advance(
                        e,
                        Chunk {
                            w: &mut *c.w,
                            g: c.g,
                            a: &mut *c.a,
                            b: &mut *c.b,
                        },
                    )
                })
                .collect::<Vec<f64>>()
                .into_iter()
                .sum();
            let ww: f64 = pre.iter().map(|r| r.ww).sum();
            let coef = T::from_f64(projection::coefficient(ww, wu, eps));
            let parts: Vec<Vec<RowPost>> = chunks
                .into_par_iter()
                .map(|c| sweep::layer_apply(e, c, row_len, coef))
                .collect();
            (pre, parts.into_iter().flatten().collect())
        }
    }
}
