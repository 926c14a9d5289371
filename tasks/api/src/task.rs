//! The [`Task`] trait.

use candle_core::{Device, Tensor};

use adamp_optim::ParamList;

use crate::error::Result;
use crate::step::{EvalOutput, OptimizerStep, StepIndex, StepOutput};

/// What the harness tells a task when it builds one.
#[derive(Debug, Clone)]
pub struct TaskContext {
    /// The run's seed: data order, initialisation and augmentation must be functions of it.
    pub seed: u64,
    /// The device parameters and data live on.
    pub device: Device,
    /// `training.batch_size` (tasks without batches ignore it).
    pub batch_size: usize,
}

/// A named set of parameters trained by one optimizer.
#[derive(Debug, Clone)]
pub struct ParamSet {
    /// A short name used as the checkpoint key prefix (`model`, `f`, `g`).
    pub name: String,
    /// The parameters, sorted by name, with groups (e.g. proxies at 100x lr).
    pub params: ParamList,
}

/// One benchmark: data, train step, evaluation, and the state the loop checkpoints.
///
/// The loop (in `adamp-harness`, `train::run`) builds one optimizer per [`ParamSet`] returned by
/// [`Task::param_sets`], then for every step calls [`Task::train_step`] with an
/// [`OptimizerStep`] handle, records the loss, the task's scalars and the optimizers' step
/// reports, and calls [`Task::evaluate`] at the end of each epoch. It checkpoints the parameters,
/// the [`Task::buffers`] and the optimizer states, so everything else a task holds must be either
/// rebuilt deterministically from `(seed, epoch, batch)` or put in its buffers.
///
/// How the paper's benchmarks map onto it (sketches for the tasks still to be written):
/// - **Toys** (Section 2, `adamp-task-toy`): no data; one `ParamSet` with a single `[1, n]`
///   weight; the step computes the scale-invariant loss, calls `backward_step(0, &loss)`, and
///   returns trajectory coordinates as scalars; `steps_per_epoch` is `None` (step-based).
/// - **Classification** (ImageNet / Fashion-MNIST; CutMix): batches drawn by a permutation of
///   `(seed, epoch)`; BatchNorm running statistics are buffers; evaluate returns `top1`, `top5`.
/// - **Detection** (CenterNet, SSD on COCO): a batch holds images plus a variable-length list of
///   boxes per image, kept inside the task (the loop never sees data); evaluate runs the COCO
///   protocol over the whole val split and returns `ap`, `ap50`, ...
/// - **Language modelling** (Transformer-XL on WikiText-103): the recurrent memory carried across
///   batches is a buffer (so a resumed run continues the same stream); evaluate walks the whole
///   validation stream with its own memory and returns `ppl = exp(mean token NLL)`.
/// - **Retrieval** (CUB, Cars-196, SOP, In-Shop; triplet or ProxyAnchor): the proxies sit in a
///   separate `ParamGroup` with `lr_scale = 100` inside the same `ParamList`; evaluate embeds a
///   whole split and returns `recall_at_1`, ... from a cosine kNN with the query excluded.
/// - **Adversarial training** (PGD on CIFAR-10): `train_step` runs the inner PGD loop itself,
///   taking gradients with respect to the *input* (not stepping any optimizer), then steps the
///   model once on the adversarial batch; evaluate returns `std_acc` and `attacked_acc`.
/// - **ReBias** (Biased-MNIST, 9-class ImageNet): two `ParamSet`s, `f` and `g`, each with its own
///   optimizer of the configured kind; the step computes both losses and the HSIC term and calls
///   `backward_step(0, ..)` and `backward_step(1, ..)` in the reference's order.
/// - **Audio tagging** (MagnaTagATune, Speech Commands, DCASE 2017): chunked clips; evaluate
///   averages chunk predictions and returns `roc_auc`, `pr_auc` / `acc` / `f1`.
pub trait Task {
    /// A one-line description of what was built (sizes, how many tensors are scale-invariant),
    /// which the harness logs (nanoGPT: the program says what it decided).
    fn describe(&self) -> String;

    /// The parameter sets, one optimizer each, in a fixed order. Each call returns handles to the
    /// same variables (Candle `Var`s are shared), so the loop may call it once.
    fn param_sets(&self) -> Vec<ParamSet>;

    /// Non-trainable state the checkpoint must hold (BatchNorm running statistics, an RNG's
    /// words, a recurrent memory, running maxima), by unique name.
    fn buffers(&self) -> Result<Vec<(String, Tensor)>>;

    /// Restore the state saved by [`Task::buffers`]; errors name a missing or mis-shaped buffer.
    fn load_buffers(&mut self, buffers: &[(String, Tensor)]) -> Result<()>;

    /// Batches per epoch for epoch-based tasks; `None` for step-based tasks (the toys), whose
    /// length is `training.steps`.
    fn steps_per_epoch(&self) -> Option<usize>;

    /// Called before the first step of every epoch, also when a run resumes mid-epoch.
    fn begin_epoch(&mut self, _epoch: usize) -> Result<()> {
        Ok(())
    }

    /// Run-level scalars describing the starting point, recorded at step 0 (e.g. a toy's
    /// initial trajectory coordinates). Default: none.
    fn initial_scalars(&self) -> Result<Vec<(String, f64)>> {
        Ok(Vec::new())
    }

    /// One training step: compute the loss(es) on the batch `index` names and step the
    /// optimizers through `optimizers`.
    fn train_step(
        &mut self,
        index: StepIndex,
        optimizers: &mut dyn OptimizerStep,
    ) -> Result<StepOutput>;

    /// Evaluate the current parameters; called at the end of every epoch.
    fn evaluate(&mut self) -> Result<EvalOutput>;
}
