//! `[task]` and `[model]` of the ReBias task (the `[data]` table is [`crate::data_settings`]).
//!
//! ```toml
//! [task]
//! kind = "rebias"
//! lambda_f = 1.0              # f minimises CE(f) + lambda_f * HSIC(f, g)   (reference f_lambda_outer = 1)
//! lambda_g = 1.0              # g minimises CE(g) - lambda_g * HSIC(g, f)   (reference g_lambda_inner = 1)
//! estimator = "unbiased"      # unbiased (the reference's, Song et al. 2012) | biased (Gretton et al. 2005)
//! bandwidth = { kind = "fixed", sigma = 1.0 }          # Biased-MNIST (reference rbf_sigma_x = rbf_sigma_y = 1)
//! # bandwidth = { kind = "median", fraction = 0.25 }   # 9-class ImageNet: median heuristic per epoch
//!
//! [model]
//! f = { kind = "simple_conv", kernel = 7 }
//! g = { kind = "simple_conv", kernel = 1 }
//! layers = "fast"
//! ```
//!
//! `lambda_f = lambda_g = 0` is the reference's "vanilla" baseline: f trains on its
//! cross-entropy alone (g still trains on its own, as in the reference, without effect on f).

use adamp_models::{LayerImpl, ModelKind};
use adamp_task_api::factory::invalid;
use adamp_task_api::Result;
use serde::{Deserialize, Serialize};

use crate::hsic::Estimator;

fn one() -> f64 {
    1.0
}

/// `[task]` for `kind = "rebias"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReBiasSettings {
    /// Weight of HSIC(f, g) in f's loss (reference `f_lambda_outer`, 1).
    #[serde(default = "one")]
    pub lambda_f: f64,
    /// Weight of −HSIC(g, f) in g's loss (reference `g_lambda_inner`, 1).
    #[serde(default = "one")]
    pub lambda_g: f64,
    /// The HSIC estimator (reference `hsic_alg = 'unbiased'`).
    #[serde(default)]
    pub estimator: Estimator,
    /// The RBF kernels' bandwidth (default: fixed 1, the reference's Biased-MNIST setting).
    #[serde(default)]
    pub bandwidth: Bandwidth,
}

impl Default for ReBiasSettings {
    fn default() -> Self {
        Self {
            lambda_f: 1.0,
            lambda_g: 1.0,
            estimator: Estimator::default(),
            bandwidth: Bandwidth::default(),
        }
    }
}

/// `task.bandwidth`: how the RBF kernels' widths are chosen (reference `criterions/sigma_utils.py`
/// and `Trainer._set_adaptive_sigma`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Bandwidth {
    /// The same fixed sigma for f's and g's features (Biased-MNIST: 1).
    Fixed {
        /// Kernel width.
        sigma: f64,
    },
    /// The median heuristic (9-class ImageNet): before every epoch, sigma = sqrt(median of the
    /// squared pairwise distances, zeros of the diagonal included) of each network's features
    /// over the first `fraction` of a shuffled pass of the training batches (reference
    /// `sigma_update_sampling_rate = 0.25`, `update_sigma_per_epoch = True`).
    Median {
        /// Fraction of the training batches used (0 < fraction <= 1).
        #[serde(default = "quarter")]
        fraction: f64,
    },
}

fn quarter() -> f64 {
    0.25
}

impl Default for Bandwidth {
    fn default() -> Self {
        Bandwidth::Fixed { sigma: 1.0 }
    }
}

impl ReBiasSettings {
    /// Ranges, named by their `[task]` keys.
    pub fn validate(&self) -> Result<()> {
        for (key, v) in [("lambda_f", self.lambda_f), ("lambda_g", self.lambda_g)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(invalid(
                    key,
                    format!("expected a finite weight >= 0 (0 turns the HSIC term off: the vanilla baseline), got {v}"),
                ));
            }
        }
        match self.bandwidth {
            Bandwidth::Fixed { sigma } if !(sigma.is_finite() && sigma > 0.0) => Err(invalid(
                "bandwidth.sigma",
                format!("expected a finite kernel width > 0, got {sigma}"),
            )),
            Bandwidth::Median { fraction } if !(fraction > 0.0 && fraction <= 1.0) => Err(invalid(
                "bandwidth.fraction",
                format!("expected a fraction of the training batches in (0, 1], got {fraction}"),
            )),
            _ => Ok(()),
        }
    }
}

/// `[model]`: the two networks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReBiasModels {
    /// The network being de-biased (Biased-MNIST: SimpleConvNet kernel 7; 9-class ImageNet:
    /// ResNet-18).
    pub f: ModelKind,
    /// The intentionally biased network (SimpleConvNet kernel 1; BagNet-18).
    pub g: ModelKind,
    /// `fast` (this project's CPU kernels) or `candle` (Candle's ops everywhere).
    #[serde(default)]
    pub layers: LayerImpl,
}
