//! AdamP: Adam whose update is projected off the radial direction of scale-invariant weights,
//! with decoupled weight decay (Heo et al., ICLR 2021, Algorithm 2 / Section 3.2).
//!
//! - Reference: `adamp` 0.3.0, `adamp/adamp.py::AdamP.step` and `_projection`: Adam moments from
//!   the raw gradient; `denom = sqrt(v)/sqrt(1-b2^t) + eps`; `step = lr/(1-b1^t)`;
//!   `u = (b1*m + (1-b1)*g)/denom` (Nesterov) else `m/denom`; project `u` for parameters with
//!   more than one dimension (cosine test on the raw gradient, see `projection.rs`); if `wd > 0`:
//!   `w *= 1 - lr*wd*ratio`; `w -= step*u`. The moment buffers are never projected.
//! - Defaults: the reference's (lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0,
//!   delta 0.1, wd_ratio 0.1, nesterov off).
//! - Deliberate deviations: betas in [0, 1), eps >= 0, delta > 0, wd_ratio in [0, 1] are
//!   enforced (the reference checks nothing); a gradient with NaN/Inf leaves the parameter
//!   untouched and is reported.

use crate::algo::{Algo, ProjectionParams};
use crate::engine::Engine;
use crate::error::Result;
use crate::hyper;
use crate::macros::impl_optimizer;
use crate::param::ParamList;

/// Hyperparameters of [`AdamP`] (names and defaults as `adamp.AdamP`, `betas` split in two).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(default, deny_unknown_fields)
)]
pub struct AdamPConfig {
    /// Learning rate (default 1e-3).
    pub lr: f64,
    /// `betas[0]` (default 0.9).
    pub beta1: f64,
    /// `betas[1]` (default 0.999).
    pub beta2: f64,
    /// Added to the denominator; also the cosine/projection epsilon (default 1e-8).
    pub eps: f64,
    /// Decoupled weight decay, scaled by `wd_ratio` when projecting (default 0).
    pub weight_decay: f64,
    /// Cosine threshold: project if `max |cos| < delta/sqrt(row_len)` (default 0.1).
    pub delta: f64,
    /// Weight-decay ratio applied when the projection fires (default 0.1).
    pub wd_ratio: f64,
    /// Nesterov-style first moment in the update (default false).
    pub nesterov: bool,
}

impl Default for AdamPConfig {
    /// `adamp` 0.3.0 `AdamP` defaults.
    fn default() -> Self {
        AdamPConfig {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            delta: 0.1,
            wd_ratio: 0.1,
            nesterov: false,
        }
    }
}

impl AdamPConfig {
    /// Check every hyperparameter.
    pub fn validate(&self) -> Result<()> {
        crate::adam::validate_adam(self.lr, self.beta1, self.beta2, self.eps, self.weight_decay)?;
        hyper::positive("delta", self.delta)?;
        hyper::unit_closed("wd_ratio", self.wd_ratio)
    }
}

/// `adamp.AdamP` (see the module docs).
#[derive(Debug)]
pub struct AdamP {
    engine: Engine,
    config: AdamPConfig,
}

impl AdamP {
    /// Validate `config` and create the optimizer over `params`.
    pub fn new(params: ParamList, config: AdamPConfig) -> Result<Self> {
        config.validate()?;
        let algo = Algo::AdamP {
            beta1: config.beta1,
            beta2: config.beta2,
            eps: config.eps,
            nesterov: config.nesterov,
            proj: ProjectionParams {
                delta: config.delta,
                eps: config.eps,
                wd_ratio: config.wd_ratio,
            },
        };
        let engine = Engine::new("adamp", algo, config.lr, config.weight_decay, params)?;
        Ok(AdamP { engine, config })
    }
}

impl_optimizer!(AdamP, AdamPConfig);
