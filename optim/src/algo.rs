//! The update rules, as plain data: what the engine needs to know about each optimizer.
//!
//! Each public optimizer (`Sgd`, `Sgdp`, `Adam`, `AdamW`, `AdamP`) validates its config and turns
//! it into an [`Algo`]; the fused CPU kernels (`fused/`) and the tensor-op path (`tensor_ops.rs`)
//! both read their scalars from here, so the two paths cannot disagree on a hyperparameter.

/// The projection hyperparameters of SGDP/AdamP (`adamp` 0.3.0, `_projection`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ProjectionParams {
    /// Cosine threshold numerator: project if `max |cos| < delta / sqrt(row_len)`.
    pub delta: f64,
    /// The epsilon of `cosine_similarity` and of `w / (||w|| + eps)`.
    pub eps: f64,
    /// Weight-decay multiplier applied when the projection fires.
    pub wd_ratio: f64,
}

/// One optimizer's update rule with its (validated) hyperparameters, learning rate and weight
/// decay excluded (those are per group).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Algo {
    /// `torch.optim.SGD` (coupled L2 weight decay).
    Sgd {
        momentum: f64,
        dampening: f64,
        nesterov: bool,
    },
    /// `adamp.SGDP`.
    Sgdp {
        momentum: f64,
        dampening: f64,
        nesterov: bool,
        proj: ProjectionParams,
    },
    /// `torch.optim.Adam` (`decoupled = false`, L2 in the gradient) or `torch.optim.AdamW`.
    Adam {
        beta1: f64,
        beta2: f64,
        eps: f64,
        decoupled: bool,
    },
    /// `adamp.AdamP`.
    AdamP {
        beta1: f64,
        beta2: f64,
        eps: f64,
        nesterov: bool,
        proj: ProjectionParams,
    },
}

impl Algo {
    /// The names of the per-parameter state buffers, as the references name them in
    /// `optimizer.state[p]` (used as safetensors keys `<param>.<slot>`).
    pub(crate) fn slots(&self) -> &'static [&'static str] {
        match self {
            Algo::Sgd { momentum, .. } if *momentum == 0.0 => &[],
            Algo::Sgd { .. } => &["momentum_buffer"],
            Algo::Sgdp { .. } => &["momentum"],
            Algo::Adam { .. } | Algo::AdamP { .. } => &["exp_avg", "exp_avg_sq"],
        }
    }

    /// The projection hyperparameters, for the rules that project (SGDP, AdamP).
    pub(crate) fn projection(&self) -> Option<ProjectionParams> {
        match self {
            Algo::Sgdp { proj, .. } | Algo::AdamP { proj, .. } => Some(*proj),
            _ => None,
        }
    }

    /// The multiplicative weight decay applied to `w` this step, given the group's `lr`, `wd` and
    /// the projection's ratio (1 when it did not fire). Coupled (L2) decay reports 1.
    pub(crate) fn decay_factor(&self, lr: f64, wd: f64, ratio: f64) -> f64 {
        match self {
            Algo::Sgd { .. }
            | Algo::Adam {
                decoupled: false, ..
            } => 1.0,
            // sgdp.py: `if weight_decay > 0: p.data.mul_(1 - lr * wd * wd_ratio / (1 - momentum))`
            Algo::Sgdp { momentum, .. } if wd > 0.0 => 1.0 - lr * wd * ratio / (1.0 - momentum),
            // torch adam.py (decoupled): `if weight_decay != 0: param.mul_(1 - lr * weight_decay)`
            Algo::Adam {
                decoupled: true, ..
            } if wd != 0.0 => 1.0 - lr * wd,
            // adamp.py: `if weight_decay > 0: p.data.mul_(1 - lr * wd * wd_ratio)`
            Algo::AdamP { .. } if wd > 0.0 => 1.0 - lr * wd * ratio,
            _ => 1.0,
        }
    }
}

/// The per-parameter, per-step scalars: the group's lr and weight decay and the parameter's step
/// count `t` after this step (1 on the first step).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct StepCtx {
    /// `base_lr * group.lr_scale`.
    pub lr: f64,
    /// The group's weight decay (override or the optimizer's).
    pub wd: f64,
    /// Step count including this step.
    pub t: u64,
}
