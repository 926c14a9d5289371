//! SGD with momentum, dampening, Nesterov and coupled (L2) weight decay.
//!
//! - Paper: the baseline of Heo et al., ICLR 2021 (Section 3, "momentum SGD").
//! - Reference: `torch.optim.SGD`, torch 2.15.0, `torch/optim/sgd.py::_single_tensor_sgd`
//!   (`foreach=False`): `g += wd*w`; first step `buf = g.clone()` (no dampening), later
//!   `buf = mu*buf + (1-dampening)*g`; `d = g + mu*buf` (Nesterov) else `buf`; `w -= lr*d`.
//! - Defaults: the reference's (`lr` required, momentum 0, dampening 0, weight_decay 0, nesterov off).
//! - Deliberate deviations: `maximize`, `differentiable` and `foreach`/`fused` are not offered;
//!   `dampening` must lie in [0, 1] (torch accepts any value); a gradient with NaN/Inf leaves the
//!   parameter untouched and is reported (torch would write NaN).

use crate::algo::Algo;
use crate::engine::Engine;
use crate::error::Result;
use crate::hyper;
use crate::macros::impl_optimizer;
use crate::param::ParamList;

/// Hyperparameters of [`Sgd`] (names and defaults as `torch.optim.SGD`).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(from = "crate::config_serde::SgdKeys")
)]
pub struct SgdConfig {
    /// Learning rate (required, no default in the reference).
    pub lr: f64,
    /// Momentum factor (default 0: plain SGD).
    pub momentum: f64,
    /// Dampening of the gradient in the momentum update (default 0).
    pub dampening: f64,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f64,
    /// Nesterov momentum (default false; needs momentum > 0 and dampening 0).
    pub nesterov: bool,
}

impl SgdConfig {
    /// `lr` with the reference's defaults for everything else.
    pub fn new(lr: f64) -> Self {
        SgdConfig {
            lr,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
        }
    }

    /// Check every hyperparameter (torch's checks, plus dampening in [0, 1]).
    pub fn validate(&self) -> Result<()> {
        hyper::non_negative("lr", self.lr)?;
        hyper::non_negative("momentum", self.momentum)?;
        hyper::unit_closed("dampening", self.dampening)?;
        hyper::non_negative("weight_decay", self.weight_decay)?;
        hyper::nesterov_sgd(self.nesterov, self.momentum, self.dampening)
    }
}

/// `torch.optim.SGD` (see the module docs).
#[derive(Debug)]
pub struct Sgd {
    engine: Engine,
    config: SgdConfig,
}

impl Sgd {
    /// Validate `config` and create the optimizer over `params`.
    pub fn new(params: ParamList, config: SgdConfig) -> Result<Self> {
        config.validate()?;
        let algo = Algo::Sgd {
            momentum: config.momentum,
            dampening: config.dampening,
            nesterov: config.nesterov,
        };
        let engine = Engine::new("sgd", algo, config.lr, config.weight_decay, params)?;
        Ok(Sgd { engine, config })
    }
}

impl_optimizer!(Sgd, SgdConfig);
