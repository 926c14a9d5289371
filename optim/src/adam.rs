//! Adam with coupled (L2) weight decay.
//!
//! - Paper: the Adam baseline of Heo et al., ICLR 2021 (Section 3).
//! - Reference: `torch.optim.Adam`, torch 2.15.0, `torch/optim/adam.py::_single_tensor_adam`
//!   (`foreach=False`, `amsgrad=False`): `g += wd*w`; `m.lerp_(g, 1-b1)`;
//!   `v = b2*v + (1-b2)*g*g`; `denom = sqrt(v)/sqrt(1-b2^t) + eps`; `w -= lr/(1-b1^t) * m/denom`.
//! - Defaults: the reference's (lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0).
//! - Deliberate deviations: no `amsgrad`, `maximize`, `capturable`, `differentiable`; the final
//!   update is `w + (-step) * (m/denom)` (torch: `w + (-step*m)/denom`, a rounding-level
//!   difference); a gradient with NaN/Inf leaves the parameter untouched and is reported.

use crate::algo::Algo;
use crate::engine::Engine;
use crate::error::Result;
use crate::hyper;
use crate::macros::impl_optimizer;
use crate::param::ParamList;

/// Hyperparameters of [`Adam`] and [`crate::AdamW`] (names as torch's, `betas` split in two).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(default, deny_unknown_fields)
)]
pub struct AdamConfig {
    /// Learning rate (default 1e-3).
    pub lr: f64,
    /// `betas[0]` (default 0.9).
    pub beta1: f64,
    /// `betas[1]` (default 0.999).
    pub beta2: f64,
    /// Added to the denominator (default 1e-8).
    pub eps: f64,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f64,
}

impl Default for AdamConfig {
    /// torch 2.15 `Adam` defaults.
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }
}

/// Validate the fields shared by Adam, AdamW and AdamP (torch's checks).
pub(crate) fn validate_adam(
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
) -> Result<()> {
    hyper::non_negative("lr", lr)?;
    hyper::non_negative("eps", eps)?;
    hyper::unit_half_open("betas[0]", beta1)?;
    hyper::unit_half_open("betas[1]", beta2)?;
    hyper::non_negative("weight_decay", weight_decay)
}

impl AdamConfig {
    /// Check every hyperparameter (torch's checks).
    pub fn validate(&self) -> Result<()> {
        validate_adam(self.lr, self.beta1, self.beta2, self.eps, self.weight_decay)
    }
}

/// `torch.optim.Adam` (see the module docs).
#[derive(Debug)]
pub struct Adam {
    engine: Engine,
    config: AdamConfig,
}

impl Adam {
    /// Validate `config` and create the optimizer over `params`.
    pub fn new(params: ParamList, config: AdamConfig) -> Result<Self> {
        config.validate()?;
        let algo = Algo::Adam {
            beta1: config.beta1,
            beta2: config.beta2,
            eps: config.eps,
            decoupled: false,
        };
        let engine = Engine::new("adam", algo, config.lr, config.weight_decay, params)?;
        Ok(Adam { engine, config })
    }
}

impl_optimizer!(Adam, AdamConfig);
