//! The `[[optimizers]]` entries: one run per entry and seed.
//!
//! An internally tagged enum (`kind = "sgd" | "sgdp" | "adam" | "adamw" | "adamp"`) with newtype
//! variants. Defaults are the references' (`torch.optim` 2.x for SGD/Adam/AdamW, `adamp` 0.3.0 for
//! SGDP/AdamP, via `adamp-optim`'s config defaults), never a framework's own choice. Range checks
//! are the optimizer constructors' own; [`OptimizerEntry::check`] maps their errors to key paths.

use adamp_optim::{
    Adam, AdamConfig, AdamP, AdamPConfig, AdamW, AdamWConfig, OptimError, Optimizer, ParamList,
    Sgd, SgdConfig, Sgdp, SgdpConfig,
};
use serde::{Deserialize, Serialize};

/// The valid `kind`s, for error messages.
pub const OPTIMIZER_KINDS: &[&str] = &["sgd", "sgdp", "adam", "adamw", "adamp"];

/// One optimizer entry of a config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum OptimizerEntry {
    /// `torch.optim.SGD` (momentum, dampening, Nesterov, coupled L2 weight decay).
    #[serde(rename = "sgd")]
    Sgd(SgdEntry),
    /// SGDP (`adamp` 0.3.0 `SGDP`).
    #[serde(rename = "sgdp")]
    Sgdp(SgdpEntry),
    /// `torch.optim.Adam` (coupled L2 weight decay).
    #[serde(rename = "adam")]
    Adam(AdamEntry),
    /// `torch.optim.AdamW` (decoupled weight decay).
    #[serde(rename = "adamw")]
    AdamW(AdamEntry),
    /// AdamP (`adamp` 0.3.0 `AdamP`).
    #[serde(rename = "adamp")]
    AdamP(AdamPEntry),
}

/// `kind = "sgd"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SgdEntry {
    /// Run label (folder name); defaults to the kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Learning rate (required: the papers' values differ per benchmark).
    pub lr: f64,
    /// Heavy-ball momentum (torch default 0).
    #[serde(default)]
    pub momentum: f64,
    /// Dampening (torch default 0).
    #[serde(default)]
    pub dampening: f64,
    /// Coupled L2 weight decay (torch default 0).
    #[serde(default)]
    pub weight_decay: f64,
    /// Nesterov momentum (torch default false).
    #[serde(default)]
    pub nesterov: bool,
}

/// `kind = "sgdp"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SgdpEntry {
    /// Run label (folder name); defaults to the kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Learning rate (required, as in `adamp.SGDP`).
    pub lr: f64,
    /// Momentum (`adamp` default 0).
    #[serde(default)]
    pub momentum: f64,
    /// Dampening (`adamp` default 0).
    #[serde(default)]
    pub dampening: f64,
    /// Weight decay (`adamp` default 0).
    #[serde(default)]
    pub weight_decay: f64,
    /// Nesterov momentum (`adamp` default false).
    #[serde(default)]
    pub nesterov: bool,
    /// `eps` of the cosine test and projection (`adamp` default 1e-8).
    #[serde(default = "sgdp_eps")]
    pub eps: f64,
    /// Projection threshold `delta` (`adamp` default 0.1).
    #[serde(default = "sgdp_delta")]
    pub delta: f64,
    /// Weight-decay ratio when projecting (`adamp` default 0.1).
    #[serde(default = "sgdp_wd_ratio")]
    pub wd_ratio: f64,
}

fn sgdp_eps() -> f64 {
    SgdpConfig::new(0.1).eps
}
fn sgdp_delta() -> f64 {
    SgdpConfig::new(0.1).delta
}
fn sgdp_wd_ratio() -> f64 {
    SgdpConfig::new(0.1).wd_ratio
}

/// `kind = "adam"` and `kind = "adamw"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdamEntry {
    /// Run label (folder name); defaults to the kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Learning rate (torch default 1e-3).
    #[serde(default = "adam_lr")]
    pub lr: f64,
    /// `betas[0]` (torch default 0.9).
    #[serde(default = "adam_beta1")]
    pub beta1: f64,
    /// `betas[1]` (torch default 0.999).
    #[serde(default = "adam_beta2")]
    pub beta2: f64,
    /// `eps` (torch default 1e-8).
    #[serde(default = "adam_eps")]
    pub eps: f64,
    /// Weight decay; when absent, torch's default for the kind (Adam 0, AdamW 1e-2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_decay: Option<f64>,
}

fn adam_lr() -> f64 {
    AdamConfig::default().lr
}
fn adam_beta1() -> f64 {
    AdamConfig::default().beta1
}
fn adam_beta2() -> f64 {
    AdamConfig::default().beta2
}
fn adam_eps() -> f64 {
    AdamConfig::default().eps
}

/// `kind = "adamp"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdamPEntry {
    /// Run label (folder name); defaults to the kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Learning rate (`adamp` default 1e-3).
    #[serde(default = "adamp_lr")]
    pub lr: f64,
    /// `betas[0]` (`adamp` default 0.9).
    #[serde(default = "adamp_beta1")]
    pub beta1: f64,
    /// `betas[1]` (`adamp` default 0.999).
    #[serde(default = "adamp_beta2")]
    pub beta2: f64,
    /// `eps` (`adamp` default 1e-8).
    #[serde(default = "adamp_eps")]
    pub eps: f64,
    /// Decoupled weight decay (`adamp` default 0).
    #[serde(default = "adamp_weight_decay")]
    pub weight_decay: f64,
    /// Projection threshold `delta` (`adamp` default 0.1).
    #[serde(default = "adamp_delta")]
    pub delta: f64,
    /// Weight-decay ratio when projecting (`adamp` default 0.1).
    #[serde(default = "adamp_wd_ratio")]
    pub wd_ratio: f64,
    /// Nesterov momentum (`adamp` default false).
    #[serde(default)]
    pub nesterov: bool,
}

fn adamp_lr() -> f64 {
    AdamPConfig::default().lr
}
fn adamp_beta1() -> f64 {
    AdamPConfig::default().beta1
}
fn adamp_beta2() -> f64 {
    AdamPConfig::default().beta2
}
fn adamp_eps() -> f64 {
    AdamPConfig::default().eps
}
fn adamp_weight_decay() -> f64 {
    AdamPConfig::default().weight_decay
}
fn adamp_delta() -> f64 {
    AdamPConfig::default().delta
}
fn adamp_wd_ratio() -> f64 {
    AdamPConfig::default().wd_ratio
}

impl OptimizerEntry {
    /// The `kind` string.
    pub fn kind(&self) -> &'static str {
        match self {
            OptimizerEntry::Sgd(_) => "sgd",
            OptimizerEntry::Sgdp(_) => "sgdp",
            OptimizerEntry::Adam(_) => "adam",
            OptimizerEntry::AdamW(_) => "adamw",
            OptimizerEntry::AdamP(_) => "adamp",
        }
    }

    /// The label (folder name): the entry's `label`, else its kind.
    pub fn label(&self) -> String {
        let label = match self {
            OptimizerEntry::Sgd(e) => &e.label,
            OptimizerEntry::Sgdp(e) => &e.label,
            OptimizerEntry::Adam(e) | OptimizerEntry::AdamW(e) => &e.label,
            OptimizerEntry::AdamP(e) => &e.label,
        };
        label.clone().unwrap_or_else(|| self.kind().to_string())
    }

    /// The base learning rate.
    pub fn lr(&self) -> f64 {
        match self {
            OptimizerEntry::Sgd(e) => e.lr,
            OptimizerEntry::Sgdp(e) => e.lr,
            OptimizerEntry::Adam(e) | OptimizerEntry::AdamW(e) => e.lr,
            OptimizerEntry::AdamP(e) => e.lr,
        }
    }

    /// Whether the optimizer projects updates of scale-invariant weights (SGDP, AdamP).
    pub fn projects(&self) -> bool {
        matches!(self, OptimizerEntry::Sgdp(_) | OptimizerEntry::AdamP(_))
    }

    /// Fill the defaults that depend on the kind (AdamW's weight decay), so the resolved config
    /// states every value used.
    pub fn resolved(&self) -> Self {
        let mut out = self.clone();
        match &mut out {
            OptimizerEntry::Adam(e) => {
                e.weight_decay
                    .get_or_insert(AdamConfig::default().weight_decay);
            }
            OptimizerEntry::AdamW(e) => {
                e.weight_decay
                    .get_or_insert(AdamWConfig::default().weight_decay);
            }
            _ => {}
        }
        out
    }

    /// Build the optimizer over `params` (range checks happen in the constructors).
    pub fn build(&self, params: ParamList) -> Result<Box<dyn Optimizer>, OptimError> {
        Ok(match self.resolved() {
            OptimizerEntry::Sgd(e) => {
                let mut c = SgdConfig::new(e.lr);
                c.momentum = e.momentum;
                c.dampening = e.dampening;
                c.weight_decay = e.weight_decay;
                c.nesterov = e.nesterov;
                Box::new(Sgd::new(params, c)?)
            }
            OptimizerEntry::Sgdp(e) => {
                let mut c = SgdpConfig::new(e.lr);
                c.momentum = e.momentum;
                c.dampening = e.dampening;
                c.weight_decay = e.weight_decay;
                c.nesterov = e.nesterov;
                c.eps = e.eps;
                c.delta = e.delta;
                c.wd_ratio = e.wd_ratio;
                Box::new(Sgdp::new(params, c)?)
            }
            OptimizerEntry::Adam(e) => Box::new(Adam::new(
                params,
                AdamConfig {
                    lr: e.lr,
                    beta1: e.beta1,
                    beta2: e.beta2,
                    eps: e.eps,
                    weight_decay: e.weight_decay.unwrap_or_default(),
                },
            )?),
            OptimizerEntry::AdamW(e) => Box::new(AdamW::new(
                params,
                AdamWConfig {
                    lr: e.lr,
                    beta1: e.beta1,
                    beta2: e.beta2,
                    eps: e.eps,
                    weight_decay: e.weight_decay.unwrap_or_default(),
                },
            )?),
            OptimizerEntry::AdamP(e) => Box::new(AdamP::new(
                params,
                AdamPConfig {
                    lr: e.lr,
                    beta1: e.beta1,
                    beta2: e.beta2,
                    eps: e.eps,
                    weight_decay: e.weight_decay,
                    delta: e.delta,
                    wd_ratio: e.wd_ratio,
                    nesterov: e.nesterov,
                },
            )?),
        })
    }

    /// Check the hyperparameters with the real constructor on an empty parameter list and map a
    /// range error to this entry's key: `(key, message)`.
    pub fn check(&self) -> Result<(), (String, String)> {
        let empty = ParamList::new(Vec::new()).map_err(|e| (String::new(), e.to_string()))?;
        match self.build(empty) {
            Ok(_) => Ok(()),
            Err(OptimError::InvalidHyperparameter {
                name,
                value,
                expected,
            }) => {
                let key = match name {
                    "betas[0]" | "beta1" => "beta1",
                    "betas[1]" | "beta2" => "beta2",
                    other => other,
                };
                Err((key.to_string(), format!("{expected}, got {value}")))
            }
            Err(other) => Err((String::new(), other.to_string())),
        }
    }
}
