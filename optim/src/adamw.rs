//! AdamW: Adam with decoupled weight decay.
//!
//! - Paper: the AdamW baseline of Heo et al., ICLR 2021 (Section 3; retrieval and language
//!   modelling benchmarks).
//! - Reference: `torch.optim.AdamW`, torch 2.15.0 (`adamw.py` = `adam.py::_single_tensor_adam`
//!   with `decoupled_weight_decay=True`): `w *= 1 - lr*wd` first, then the Adam step without L2.
//! - Defaults: the reference's (lr 1e-3, betas (0.9, 0.999), eps 1e-8, **weight_decay 1e-2**).
//! - Deliberate deviations: as [`crate::Adam`].

use crate::algo::Algo;
use crate::engine::Engine;
use crate::error::Result;
use crate::macros::impl_optimizer;
use crate::param::ParamList;

/// Hyperparameters of [`AdamW`] (as [`crate::AdamConfig`], but the default decay is 1e-2).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(default, deny_unknown_fields)
)]
pub struct AdamWConfig {
    /// Learning rate (default 1e-3).
    pub lr: f64,
    /// `betas[0]` (default 0.9).
    pub beta1: f64,
    /// `betas[1]` (default 0.999).
    pub beta2: f64,
    /// Added to the denominator (default 1e-8).
    pub eps: f64,
    /// Decoupled weight decay: `w *= 1 - lr*wd` (default 1e-2, torch's AdamW default).
    pub weight_decay: f64,
}

impl Default for AdamWConfig {
    /// torch 2.15 `AdamW` defaults.
    fn default() -> Self {
        AdamWConfig {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 1e-2,
        }
    }
}

impl AdamWConfig {
    /// Check every hyperparameter (torch's checks).
    pub fn validate(&self) -> Result<()> {
        crate::adam::validate_adam(self.lr, self.beta1, self.beta2, self.eps, self.weight_decay)
    }
}

/// `torch.optim.AdamW` (see the module docs).
#[derive(Debug)]
pub struct AdamW {
    engine: Engine,
    config: AdamWConfig,
}

impl AdamW {
    /// Validate `config` and create the optimizer over `params`.
    pub fn new(params: ParamList, config: AdamWConfig) -> Result<Self> {
        config.validate()?;
        let algo = Algo::Adam {
            beta1: config.beta1,
            beta2: config.beta2,
            eps: config.eps,
            decoupled: true,
        };
        let engine = Engine::new("adamw", algo, config.lr, config.weight_decay, params)?;
        Ok(AdamW { engine, config })
    }
}

impl_optimizer!(AdamW, AdamWConfig);
