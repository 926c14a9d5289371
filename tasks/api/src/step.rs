//! What a train step receives and returns.

use candle_core::backprop::GradStore;
use candle_core::Tensor;

use crate::error::Result;

/// Where the loop is: passed to every [`crate::Task::train_step`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepIndex {
    /// Global optimizer step about to be taken, 1-based (after this call, `step` updates happened).
    pub step: usize,
    /// Epoch this step belongs to, 1-based. For step-based tasks an "epoch" is one evaluation
    /// interval (`training.eval_every` steps).
    pub epoch: usize,
    /// Index of the batch inside the epoch, 0-based. Together with the seed and `epoch` it must
    /// fully determine the batch (so a run resumed mid-epoch sees the same data).
    pub batch: usize,
}

/// The result of one train step: the loss as its own field, plus named scalars.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepOutput {
    /// The training loss of this step (before the update). NaN/Inf makes the loop stop the run
    /// with status `diverged`.
    pub loss: f64,
    /// Other per-step scalars (`train_acc`, or a toy's trajectory coordinates), recorded by the
    /// loop as run-level rows every `log_every` steps.
    pub scalars: Vec<(String, f64)>,
}

/// The result of an evaluation: named metrics, recorded as `eval_<name>`, and files for the run
/// folder.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EvalOutput {
    /// `(name, value)` pairs without the `eval_` prefix (the loop adds it), e.g. `("top1", 71.6)`.
    pub metrics: Vec<(String, f64)>,
    /// `(file name, bytes)`: files the loop writes into the run folder (atomically, replacing the
    /// previous evaluation's), e.g. a detector's predictions in the COCO results format. Names
    /// are plain file names (no folders); they must not be one of the loop's own files.
    pub files: Vec<(String, Vec<u8>)>,
}

impl EvalOutput {
    /// Metrics only.
    pub fn from_metrics(metrics: Vec<(String, f64)>) -> Self {
        Self {
            metrics,
            files: Vec::new(),
        }
    }
}

/// The loop's handle to the optimizers, given to [`crate::Task::train_step`].
///
/// There is one optimizer per [`crate::ParamSet`] the task returned, in the same order, all of the
/// kind the config names (ReBias trains f and g with two optimizers of the same kind). The task
/// decides when and with which loss each one steps; the loop records what each step did (the
/// optimizer's `StepReport`) and applies the learning-rate schedule, so the task never logs.
pub trait OptimizerStep {
    /// Number of optimizers (= parameter sets).
    fn num_sets(&self) -> usize;

    /// Back-propagate `loss` and apply one update of optimizer `set` with the gradients of that
    /// set's parameters.
    fn backward_step(&mut self, set: usize, loss: &Tensor) -> Result<()>;

    /// Apply one update of optimizer `set` with gradients the task computed itself (e.g. after
    /// one backward pass shared by several losses).
    fn step_with_grads(&mut self, set: usize, grads: &GradStore) -> Result<()>;
}
