//! SGDP: SGD with momentum whose update is projected off the radial direction of scale-invariant
//! weights (Heo et al., ICLR 2021, Algorithm 1 / Section 3.2).
//!
//! - Reference: `adamp` 0.3.0, `adamp/sgdp.py::SGDP.step` and `_projection`:
//!   `buf = mu*buf + (1-dampening)*g` (buffer starts at **zero**, so step 1 gives
//!   `(1-dampening)*g`, unlike torch SGD's `g.clone()`); `d = g + mu*buf` (Nesterov) else `buf`;
//!   project `d` for parameters with more than one dimension (cosine test on the raw gradient,
//!   see `projection.rs`); if `wd > 0`: `w *= 1 - lr*wd*ratio/(1-mu)`; `w -= lr*d`.
//! - Pinned quirk: without Nesterov `d_p = buf` is the same tensor, and `_projection` does
//!   `perturb -= p_n * ...` in place (`sgdp.py`, `perturb -= p_n * view_func(p_n * perturb)...`),
//!   so the **momentum buffer itself is projected** whenever the projection fires. We do the same
//!   (`fused/elems.rs::SgdpElem::store_projected`, `tensor_ops.rs`). With Nesterov the buffer is
//!   not projected.
//! - Defaults: the reference's (`lr` required, momentum 0, dampening 0, weight_decay 0, nesterov
//!   off, eps 1e-8, delta 0.1, wd_ratio 0.1).
//! - Deliberate deviations: momentum must lie in [0, 1) (the decay divides by `1 - momentum`),
//!   dampening in [0, 1], delta > 0, wd_ratio in [0, 1] (the reference checks nothing); a
//!   gradient with NaN/Inf leaves the parameter untouched and is reported.

use crate::algo::{Algo, ProjectionParams};
use crate::engine::Engine;
use crate::error::Result;
use crate::hyper;
use crate::macros::impl_optimizer;
use crate::param::ParamList;

/// Hyperparameters of [`Sgdp`] (names and defaults as `adamp.SGDP`).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(from = "crate::config_serde::SgdpKeys")
)]
pub struct SgdpConfig {
    /// Learning rate (required).
    pub lr: f64,
    /// Momentum factor (default 0), in [0, 1).
    pub momentum: f64,
    /// Dampening (default 0).
    pub dampening: f64,
    /// Decoupled weight decay, scaled by `wd_ratio` when projecting and by `1/(1-momentum)` (default 0).
    pub weight_decay: f64,
    /// Nesterov momentum (default false).
    pub nesterov: bool,
    /// Epsilon of the cosine similarity and of `w/(||w||+eps)` (default 1e-8).
    pub eps: f64,
    /// Cosine threshold: project if `max |cos| < delta/sqrt(row_len)` (default 0.1).
    pub delta: f64,
    /// Weight-decay ratio applied when the projection fires (default 0.1).
    pub wd_ratio: f64,
}

impl SgdpConfig {
    /// `lr` with the reference's defaults for everything else.
    pub fn new(lr: f64) -> Self {
        SgdpConfig {
            lr,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            eps: 1e-8,
            delta: 0.1,
            wd_ratio: 0.1,
        }
    }

    /// Check every hyperparameter.
    pub fn validate(&self) -> Result<()> {
        hyper::non_negative("lr", self.lr)?;
        hyper::unit_half_open("momentum", self.momentum)?;
        hyper::unit_closed("dampening", self.dampening)?;
        hyper::non_negative("weight_decay", self.weight_decay)?;
        hyper::non_negative("eps", self.eps)?;
        hyper::positive("delta", self.delta)?;
        hyper::unit_closed("wd_ratio", self.wd_ratio)
    }
}

/// `adamp.SGDP` (see the module docs).
#[derive(Debug)]
pub struct Sgdp {
    pub(crate) engine: Engine,
    config: SgdpConfig,
}

impl Sgdp {
    /// Validate `config` and create the optimizer over `params`.
    pub fn new(params: ParamList, config: SgdpConfig) -> Result<Self> {
        config.validate()?;
        let algo = Algo::Sgdp {
            momentum: config.momentum,
            dampening: config.dampening,
            nesterov: config.nesterov,
            proj: ProjectionParams {
                delta: config.delta,
                eps: config.eps,
                wd_ratio: config.wd_ratio,
            },
        };
        let engine = Engine::new("sgdp", algo, config.lr, config.weight_decay, params)?;
        Ok(Sgdp { engine, config })
    }
}

impl_optimizer!(Sgdp, SgdpConfig);
