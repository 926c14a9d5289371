//! The optimizer interface shared by SGD, SGDP, Adam, AdamW and AdamP, and the per-step report.
//!
//! The report carries what the paper's analysis needs (Section 2 and Figure 2): weight norms before
//! and after the step, the effective step size `|| w'/||w'|| - w/||w|| ||`, the largest
//! `|cos(grad, w)|` over the channel view, and which view (if any) the projection used.

use std::path::Path;

use candle_core::backprop::GradStore;

use crate::error::Result;
use crate::param::ParamList;

/// Which view of a weight the SGDP/AdamP projection used (`adamp` 0.3.0, `_projection`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProjectionView {
    /// The channel view fired: rows are output channels (`w.view(shape[0], -1)`).
    Channel,
    /// The layer view fired: one row, the whole tensor (`w.view(1, -1)`).
    Layer,
    /// No projection (the test did not fire, the parameter is 1-D, or the optimizer never projects).
    None,
}

impl ProjectionView {
    /// A short lower-case name for logs and CSV files.
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectionView::Channel => "channel",
            ProjectionView::Layer => "layer",
            ProjectionView::None => "none",
        }
    }
}

/// What one optimizer step did to one parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamStepStats {
    /// Which view projected the update.
    pub projection: ProjectionView,
    /// The multiplicative factor applied to the weights by weight decay in this step
    /// (`1 - lr*wd*ratio` for decoupled decay, `1.0` when there is none or it is coupled into the
    /// gradient as L2).
    pub decay_factor: f64,
    /// `||w||` before the step.
    pub norm_before: f64,
    /// `||w||` after the step.
    pub norm_after: f64,
    /// Effective step size `|| w'/||w'|| - w/||w|| ||` (paper, Section 2.2).
    pub effective_step: f64,
    /// `max_row |cos(g_row, w_row)|` over the channel view (the quantity the projection tests);
    /// for 1-D parameters, the cosine of the whole vector.
    pub max_abs_cos: f64,
}

/// The outcome of one optimizer step.
#[derive(Debug, Clone, Default)]
pub struct StepReport {
    /// One entry per parameter that had a gradient, in the parameter list's (name) order:
    /// `(index into ParamList::params(), stats)`.
    pub params: Vec<(usize, ParamStepStats)>,
    /// Names of parameters whose gradient held NaN or Inf. Those parameters were **not** updated
    /// (their weights and state are unchanged); the caller decides whether the run has diverged.
    pub nonfinite_grads: Vec<String>,
    /// Names of parameters that had no gradient and were skipped (as the reference does).
    pub skipped: Vec<String>,
    /// Parameters updated without statistics, as indices into `ParamList::params()`: the GPU
    /// path skips them on steps where [`Optimizer::set_stats`] turned them off.
    pub unrecorded: Vec<usize>,
}

/// The interface every optimizer in this crate implements.
pub trait Optimizer {
    /// Apply one update using the gradients in `grads` (from `loss.backward()`), updating every
    /// parameter's `Var` in place. Parameters without a gradient are skipped.
    fn step(&mut self, grads: &GradStore) -> Result<StepReport>;

    /// The base learning rate (group `lr_scale`s multiply it).
    fn learning_rate(&self) -> f64;

    /// Set the base learning rate (for schedules).
    fn set_learning_rate(&mut self, lr: f64);

    /// The parameters this optimizer updates.
    fn params(&self) -> &ParamList;

    /// A short name: `sgd`, `sgdp`, `adam`, `adamw`, `adamp`.
    fn name(&self) -> &'static str;

    /// Save the optimizer state (step counts, moment buffers, current lr), keyed by parameter name,
    /// to a safetensors file, like `torch.optim.Optimizer.state_dict`.
    fn save_state(&self, path: &Path) -> Result<()>;

    /// Load a state saved by [`Optimizer::save_state`]; errors name any parameter that is missing
    /// or mis-shaped.
    fn load_state(&mut self, path: &Path) -> Result<()>;

    /// Whether the following steps compute the per-parameter statistics of [`StepReport::params`]
    /// (default on). A training loop turns them off on the steps it does not log: the fused GPU
    /// path then neither computes nor reads them back (parameters it updated are listed in
    /// [`StepReport::unrecorded`]); the CPU paths compute them anyway, at almost no cost.
    fn set_stats(&mut self, on: bool) {
        let _ = on;
    }
}
