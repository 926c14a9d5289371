//! Choosing an optimizer at run time (for the harness): one enum over the five configs.

use crate::error::Result;
use crate::optimizer::Optimizer;
use crate::param::ParamList;
use crate::{
    Adam, AdamConfig, AdamP, AdamPConfig, AdamW, AdamWConfig, Sgd, SgdConfig, Sgdp, SgdpConfig,
};

/// Any of the five optimizers' configurations.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OptimizerConfig {
    /// `torch.optim.SGD`.
    Sgd(SgdConfig),
    /// `adamp.SGDP`.
    Sgdp(SgdpConfig),
    /// `torch.optim.Adam`.
    Adam(AdamConfig),
    /// `torch.optim.AdamW`.
    AdamW(AdamWConfig),
    /// `adamp.AdamP`.
    AdamP(AdamPConfig),
}

impl OptimizerConfig {
    /// Build the optimizer over `params`.
    pub fn build(&self, params: ParamList) -> Result<Box<dyn Optimizer + Send>> {
        Ok(match *self {
            OptimizerConfig::Sgd(c) => Box::new(Sgd::new(params, c)?),
            OptimizerConfig::Sgdp(c) => Box::new(Sgdp::new(params, c)?),
            OptimizerConfig::Adam(c) => Box::new(Adam::new(params, c)?),
            OptimizerConfig::AdamW(c) => Box::new(AdamW::new(params, c)?),
            OptimizerConfig::AdamP(c) => Box::new(AdamP::new(params, c)?),
        })
    }

    /// The optimizer's short name (`sgd`, `sgdp`, `adam`, `adamw`, `adamp`).
    pub fn name(&self) -> &'static str {
        match self {
            OptimizerConfig::Sgd(_) => "sgd",
            OptimizerConfig::Sgdp(_) => "sgdp",
            OptimizerConfig::Adam(_) => "adam",
            OptimizerConfig::AdamW(_) => "adamw",
            OptimizerConfig::AdamP(_) => "adamp",
        }
    }
}
