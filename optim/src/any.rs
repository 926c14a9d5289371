//! Choosing an optimizer at run time (for the harness): one enum over the five configs.
//!
//! With the feature `serde` it is the config-file form of an optimizer: a table tagged by
//! `kind = "sgd" | "sgdp" | "adam" | "adamw" | "adamp"` holding that optimizer's keys, unknown
//! keys rejected and missing ones set to the reference's defaults.

use crate::error::{OptimError, Result};
use crate::optimizer::Optimizer;
use crate::param::ParamList;
use crate::{
    Adam, AdamConfig, AdamP, AdamPConfig, AdamW, AdamWConfig, Sgd, SgdConfig, Sgdp, SgdpConfig,
};

/// Any of the five optimizers' configurations.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(tag = "kind")
)]
pub enum OptimizerConfig {
    /// `torch.optim.SGD`.
    #[cfg_attr(feature = "serde", serde(rename = "sgd"))]
    Sgd(SgdConfig),
    /// `adamp.SGDP`.
    #[cfg_attr(feature = "serde", serde(rename = "sgdp"))]
    Sgdp(SgdpConfig),
    /// `torch.optim.Adam`.
    #[cfg_attr(feature = "serde", serde(rename = "adam"))]
    Adam(AdamConfig),
    /// `torch.optim.AdamW`.
    #[cfg_attr(feature = "serde", serde(rename = "adamw"))]
    AdamW(AdamWConfig),
    /// `adamp.AdamP`.
    #[cfg_attr(feature = "serde", serde(rename = "adamp"))]
    AdamP(AdamPConfig),
}

impl OptimizerConfig {
    /// Every optimizer's short name, as [`OptimizerConfig::name`] gives it.
    pub const KINDS: &'static [&'static str] = &["sgd", "sgdp", "adam", "adamw", "adamp"];

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

    /// Check every hyperparameter, as the constructor does.
    pub fn validate(&self) -> Result<()> {
        match self {
            OptimizerConfig::Sgd(c) => c.validate(),
            OptimizerConfig::Sgdp(c) => c.validate(),
            OptimizerConfig::Adam(c) => c.validate(),
            OptimizerConfig::AdamW(c) => c.validate(),
            OptimizerConfig::AdamP(c) => c.validate(),
        }
    }

    /// [`OptimizerConfig::validate`] as `(config key, message)`: the reference's `betas[0]` /
    /// `betas[1]` are the keys `beta1` / `beta2`.
    pub fn check_keys(&self) -> std::result::Result<(), (String, String)> {
        match self.validate() {
            Ok(()) => Ok(()),
            Err(OptimError::InvalidHyperparameter {
                name,
                value,
                expected,
            }) => {
                let key = match name {
                    "betas[0]" => "beta1",
                    "betas[1]" => "beta2",
                    other => other,
                };
                Err((key.to_string(), format!("{expected}, got {value}")))
            }
            Err(other) => Err((String::new(), other.to_string())),
        }
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

    /// The base learning rate.
    pub fn lr(&self) -> f64 {
        match self {
            OptimizerConfig::Sgd(c) => c.lr,
            OptimizerConfig::Sgdp(c) => c.lr,
            OptimizerConfig::Adam(c) => c.lr,
            OptimizerConfig::AdamW(c) => c.lr,
            OptimizerConfig::AdamP(c) => c.lr,
        }
    }

    /// Whether the optimizer projects updates of scale-invariant weights (SGDP, AdamP).
    pub fn projects(&self) -> bool {
        matches!(self, OptimizerConfig::Sgdp(_) | OptimizerConfig::AdamP(_))
    }
}
