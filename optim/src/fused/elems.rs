//! Per-element update rules for the fused CPU kernels, one struct per optimizer.
//!
//! Each mirrors the reference's tensor expressions element by element, in the parameter's own type
//! with the scalars rounded to it, in the reference's operation order:
//! - [`SgdElem`]/[`SgdNoMomentumElem`]: torch 2.15 `optim/sgd.py::_single_tensor_sgd`;
//! - [`SgdpElem`]: `adamp` 0.3.0 `sgdp.py::SGDP.step`;
//! - [`AdamElem`]: torch 2.15 `optim/adam.py::_single_tensor_adam` (Adam and AdamW);
//! - [`AdamPElem`]: `adamp` 0.3.0 `adamp.py::AdamP.step`.
//!
//! `advance` updates the state slots and returns the update direction `u`; `apply` turns `w` and
//! `u` into the new weight (decay, then `w - lr*u`). The projecting rules also `recompute` `u` from
//! the already-advanced state (second sweep) and may `store_projected` it.

use crate::real::Real;

/// One optimizer's element rule. `SLOTS` state values per element (`a`, `b`; unused ones ignored).
pub(crate) trait Elem<T: Real>: Sync {
    /// Number of state buffers (0, 1 or 2).
    const SLOTS: usize;
    /// Update the state at one element and return the update direction.
    fn advance(&self, w: T, g: T, a: &mut T, b: &mut T) -> T;
    /// The new weight from the old weight and the (projected) direction.
    fn apply(&self, w: T, u: T) -> T;
}

/// A rule whose direction can be projected (SGDP, AdamP).
pub(crate) trait ProjElem<T: Real>: Elem<T> {
    /// Whether [`ProjElem::store_projected`] may change state slot 0 (so it must be stored).
    const ALIASES_SLOT0: bool;
    /// The direction from the state already advanced by [`Elem::advance`] this step.
    fn recompute(&self, g: T, a: T, b: T) -> T;
    /// Write the projected direction back into the state where the reference aliases it.
    fn store_projected(&self, u: T, a: &mut T);
    /// The vector kernel for this rule's channel-view rows, where one applies (f32 on a CPU
    /// with AVX-512F or AVX2); `None` runs the generic sweep.
    #[cfg(target_arch = "x86_64")]
    fn row_kernel(&self) -> Option<super::proj_row::RowKernel> {
        None
    }
}

/// torch SGD with momentum.
pub(crate) struct SgdElem<T> {
    pub wd: T,
    pub has_wd: bool,
    pub momentum: T,
    pub one_minus_dampening: T,
    pub nesterov: bool,
    /// First step: `buf = grad.clone()` (no dampening), as torch does when the buffer is None.
    pub first: bool,
    pub neg_lr: T,
}

impl<T: Real> Elem<T> for SgdElem<T> {
    const SLOTS: usize = 1;
    #[inline(always)]
    fn advance(&self, w: T, g: T, a: &mut T, _b: &mut T) -> T {
        // `grad = grad.add(param, alpha=weight_decay)`
        let g = if self.has_wd { g + self.wd * w } else { g };
        // `buf = grad.clone()` on the first step, else `buf.mul_(momentum).add_(grad, alpha=1-dampening)`
        *a = if self.first {
            g
        } else {
            *a * self.momentum + self.one_minus_dampening * g
        };
        // `grad = grad.add(buf, alpha=momentum)` (nesterov) else `grad = buf`
        if self.nesterov {
            g + self.momentum * *a
        } else {
            *a
        }
    }
    #[inline(always)]
    fn apply(&self, w: T, u: T) -> T {
        // `param.add_(grad, alpha=-lr)`
        w + self.neg_lr * u
    }
}

/// torch SGD without momentum (no state).
pub(crate) struct SgdNoMomentumElem<T> {
    pub wd: T,
    pub has_wd: bool,
    pub neg_lr: T,
}

impl<T: Real> Elem<T> for SgdNoMomentumElem<T> {
    const SLOTS: usize = 0;
    #[inline(always)]
    fn advance(&self, w: T, g: T, _a: &mut T, _b: &mut T) -> T {
        if self.has_wd {
            g + self.wd * w
        } else {
            g
        }
    }
    #[inline(always)]
    fn apply(&self, w: T, u: T) -> T {
        w + self.neg_lr * u
    }
}

/// `adamp.SGDP` (buffer starts at zero; decoupled decay scaled by `1/(1-momentum)`).
pub(crate) struct SgdpElem<T> {
    pub momentum: T,
    pub one_minus_dampening: T,
    pub nesterov: bool,
    pub decay: T,
    pub neg_lr: T,
}

impl<T: Real> Elem<T> for SgdpElem<T> {
    const SLOTS: usize = 1;
    #[inline(always)]
    fn advance(&self, _w: T, g: T, a: &mut T, _b: &mut T) -> T {
        // sgdp.py: `buf.mul_(momentum).add_(grad, alpha=1 - dampening)`
        *a = *a * self.momentum + self.one_minus_dampening * g;
        self.recompute(g, *a, T::ZERO)
    }
    #[inline(always)]
    fn apply(&self, w: T, u: T) -> T {
        // `p.data.mul_(1 - lr*wd*wd_ratio/(1-momentum))` then `p.data.add_(d_p, alpha=-lr)`
        w * self.decay + self.neg_lr * u
    }
}

impl<T: Real> ProjElem<T> for SgdpElem<T> {
    const ALIASES_SLOT0: bool = true;
    #[inline(always)]
    fn recompute(&self, g: T, a: T, _b: T) -> T {
        // `d_p = grad + momentum * buf` (nesterov) else `d_p = buf`
        if self.nesterov {
            g + self.momentum * a
        } else {
            a
        }
    }
    #[inline(always)]
    fn store_projected(&self, u: T, a: &mut T) {
        // sgdp.py: without nesterov `d_p` IS `buf`, and `_projection` does `perturb -= ...` in
        // place, so the momentum buffer itself is projected. Pinned to the reference.
        if !self.nesterov {
            *a = u;
        }
    }
    #[cfg(target_arch = "x86_64")]
    fn row_kernel(&self) -> Option<super::proj_row::RowKernel> {
        super::proj_row::RowKernel::sgdp(self, None)
    }
}

/// torch Adam (`coupled = true`: L2 added to the gradient) and AdamW (decay in `decay`).
pub(crate) struct AdamElem<T> {
    pub wd: T,
    pub coupled: bool,
    /// `1 - beta1`, the `lerp` weight.
    pub lerp_weight: T,
    pub lerp_small: bool,
    pub one_minus_lerp_weight: T,
    pub beta2: T,
    pub one_minus_beta2: T,
    pub bias_correction2_sqrt: T,
    pub eps: T,
    pub decay: T,
    pub neg_step: T,
}

impl<T: Real> Elem<T> for AdamElem<T> {
    const SLOTS: usize = 2;
    #[inline(always)]
    fn advance(&self, w: T, g: T, a: &mut T, b: &mut T) -> T {
        // `grad = grad.add(param, alpha=weight_decay)` (Adam only)
        let g = if self.coupled { g + self.wd * w } else { g };
        // `exp_avg.lerp_(grad, 1 - beta1)`; torch's CPU lerp: `weight < 0.5 ? self + weight*(end-self)
        // : end - (end-self)*(1-weight)`
        let m = *a;
        *a = if self.lerp_small {
            m + self.lerp_weight * (g - m)
        } else {
            g - (g - m) * self.one_minus_lerp_weight
        };
        // `exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)`
        *b = *b * self.beta2 + self.one_minus_beta2 * g * g;
        // `denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)`
        let denom = b.sqrt() / self.bias_correction2_sqrt + self.eps;
        *a / denom
    }
    #[inline(always)]
    fn apply(&self, w: T, u: T) -> T {
        // AdamW: `param.mul_(1 - lr*weight_decay)`; then `param.addcdiv_(exp_avg, denom, value=-step_size)`
        w * self.decay + self.neg_step * u
    }
}

/// `adamp.AdamP`.
pub(crate) struct AdamPElem<T> {
    pub beta1: T,
    pub one_minus_beta1: T,
    pub beta2: T,
    pub one_minus_beta2: T,
    pub bias_correction2_sqrt: T,
    pub eps: T,
    pub nesterov: bool,
    pub decay: T,
    pub neg_step: T,
}

impl<T: Real> Elem<T> for AdamPElem<T> {
    const SLOTS: usize = 2;
    #[inline(always)]
    fn advance(&self, _w: T, g: T, a: &mut T, b: &mut T) -> T {
        // `exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)`
        *a = *a * self.beta1 + self.one_minus_beta1 * g;
        // `exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)`
        *b = *b * self.beta2 + self.one_minus_beta2 * g * g;
        self.recompute(g, *a, *b)
    }
    #[inline(always)]
    fn apply(&self, w: T, u: T) -> T {
        // `p.data.mul_(1 - lr*wd*wd_ratio)` then `p.data.add_(perturb, alpha=-step_size)`
        w * self.decay + self.neg_step * u
    }
}

impl<T: Real> ProjElem<T> for AdamPElem<T> {
    const ALIASES_SLOT0: bool = false;
    #[inline(always)]
    fn recompute(&self, g: T, a: T, b: T) -> T {
        // `denom = (exp_avg_sq.sqrt() / math.sqrt(bias_correction2)).add_(eps)`
        let denom = b.sqrt() / self.bias_correction2_sqrt + self.eps;
        // `perturb = (beta1*exp_avg + (1-beta1)*grad) / denom` (nesterov) else `exp_avg / denom`.
        // One division after a cheap select: a branch around two divisions would keep the
        // compiler from vectorising the block.
        let numerator = if self.nesterov {
            self.beta1 * a + self.one_minus_beta1 * g
        } else {
            a
        };
        numerator / denom
    }
    #[inline(always)]
    fn store_projected(&self, _u: T, _a: &mut T) {}
    #[cfg(target_arch = "x86_64")]
    fn row_kernel(&self) -> Option<super::proj_row::RowKernel> {
        super::proj_row::RowKernel::adamp(self, None)
    }
}
