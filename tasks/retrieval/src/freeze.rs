//! Which parameters train in which epoch, and the gradient clipping, as the ProxyAnchor codebase's
//! training loop does them (`tjddus9597/Proxy-Anchor-CVPR2020`, `code/train.py`; AdamP paper,
//! arXiv 2006.08217, Section 4: 5 warm-up epochs training only the embedding and the proxies,
//! gradient value clipping at 10):
//!
//! - epochs `1..=warmup_epochs` (the reference's `epoch < args.warm`, 0-based): only the
//!   embedding layer and the proxies receive gradients (`requires_grad = False` elsewhere);
//! - afterwards every parameter does, BatchNorm's affine parameters included (the reference's
//!   `requires_grad = True` at `epoch == args.warm` covers them); with `warmup_epochs = 0` they
//!   keep the `requires_grad_(False)` of `bn_freeze` for the whole run (see [`crate::embedding`]);
//! - after `backward()`, every gradient is clamped to `[-clip, clip]`
//!   (`torch.nn.utils.clip_grad_value_(params, 10)` on the model and on the loss's proxies),
//!   NaN staying NaN as in `torch.clamp` (so a diverging run is still seen as one).
//!
//! A frozen parameter has no gradient in torch (`grad is None`), and `torch.optim` then skips it
//! entirely: no update, no weight decay, no moment or step-count change. Our optimizers do the
//! same for a parameter missing from the `GradStore` (`StepReport::skipped`), so freezing here
//! means removing its gradient before the step.

use std::collections::BTreeSet;

use adamp_optim::{ParamKind, ParamList};
use candle_core::backprop::GradStore;
use candle_core::Result;

use crate::embedding::EMBEDDING_PREFIX;

/// The name of the Proxy-Anchor proxies parameter.
pub const PROXIES: &str = "proxies";

/// The freezing schedule of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Freeze {
    /// Epochs (from the first) in which only the embedding and the proxies train.
    pub warmup_epochs: usize,
    /// Frozen BatchNorm's gains and biases (frozen for the whole run when `warmup_epochs = 0`);
    /// empty with BatchNorm in training mode.
    pub norm_affine: BTreeSet<String>,
}

impl Freeze {
    /// The schedule for `params`: with `bn_frozen`, its BatchNorm affine parameters are the
    /// [`ParamKind::NormGain`] gains and the `bias` beside each.
    pub fn new(warmup_epochs: usize, params: &ParamList, bn_frozen: bool) -> Self {
        let mut norm_affine = BTreeSet::new();
        for p in params.params().iter().filter(|_| bn_frozen) {
            if p.meta.kind == ParamKind::NormGain {
                norm_affine.insert(p.name.clone());
                if let Some(layer) = p.name.strip_suffix(".weight") {
                    norm_affine.insert(format!("{layer}.bias"));
                }
            }
        }
        Self {
            warmup_epochs,
            norm_affine,
        }
    }

    /// Whether `epoch` (1-based) is a warm-up epoch.
    pub fn in_warmup(&self, epoch: usize) -> bool {
        epoch <= self.warmup_epochs
    }

    /// Whether parameter `name` trains in `epoch` (1-based).
    pub fn trains(&self, name: &str, epoch: usize) -> bool {
        if name.starts_with(EMBEDDING_PREFIX) || name == PROXIES {
            return true;
        }
        if self.in_warmup(epoch) {
            return false;
        }
        self.warmup_epochs > 0 || !self.norm_affine.contains(name)
    }

    /// Remove the gradients of the parameters frozen in `epoch` and clamp the others to
    /// `[-clip, clip]` (NaN kept). Returns how many parameters were frozen.
    pub fn prepare(
        &self,
        grads: &mut GradStore,
        params: &ParamList,
        epoch: usize,
        clip: f64,
    ) -> Result<usize> {
        let mut frozen = 0;
        for p in params.params() {
            if !self.trains(&p.name, epoch) {
                grads.remove(p.var.as_tensor());
                frozen += 1;
                continue;
            }
            if let Some(g) = grads.remove(p.var.as_tensor()) {
                grads.insert(p.var.as_tensor(), clip_value(&g, clip)?);
            }
        }
        Ok(frozen)
    }
}

/// `torch.clamp(g, -clip, clip)`: NaN stays NaN (Candle's clamp alone would turn it into a bound).
pub fn clip_value(g: &candle_core::Tensor, clip: f64) -> Result<candle_core::Tensor> {
    let clamped = g.clamp(-clip, clip)?;
    let is_nan = g.ne(g)?;
    is_nan.where_cond(g, &clamped)
}
