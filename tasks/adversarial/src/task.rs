//! The adversarial-training task: every training batch is replaced by its PGD adversarial
//! version before the optimizer step (Madry et al. 2018, "Towards Deep Learning Models
//! Resistant to Adversarial Attacks", the min-max objective), and evaluation reports clean and
//! attacked test accuracy (AdamP, arXiv 2006.08217, adversarial training table).
//!
//! **Network mode during the attack: evaluation.** Every attack step runs the network with
//! BatchNorm on its running statistics, which it neither uses from the batch nor updates, as
//! TRADES' training code does (`model.eval()` before generating adversarial examples, then
//! `model.train()`) and as both TRADES' and Madry et al.'s evaluation attacks do. Madry et al.'s
//! CIFAR-10 training code instead attacks its training-mode graph (batch statistics, and its
//! `updates_collections=None` moving averages then move with every attack step); we do not follow
//! it there, so that attack steps leave the BatchNorm statistics untouched. The training step on
//! the adversarial batch runs in training mode (batch statistics, running statistics updated once
//! per step).

use std::sync::Arc;

use adamp_datasets::loader::derived_rng;
use adamp_datasets::{BatchLoader, ImageSource};
use adamp_models::{build_with, Model, ModelConfig};
use adamp_task_api::factory::invalid;
use adamp_task_api::{
    EvalOutput, OptimizerStep, ParamSet, Result, StepIndex, StepOutput, Task, TaskContext,
    TaskError,
};
use adamp_task_classification::metrics::{correct_top_k, cross_entropy};
use adamp_task_classification::subset::maybe_prefix;
use adamp_task_classification::task::{input_hw, loaders, open_data};
use adamp_task_classification::{BatchCursor, ClassificationSettings, DataSettings, ModelSettings};
use candle_core::{Device, Tensor};
use rand::Rng;

use crate::input_norm::{unit_range, InputNorm};
use crate::norm::Norm;
use crate::pgd::Pgd;
use crate::settings::AdversarialSettings;
use crate::start::random_start;

/// Whether attack steps run the network in training mode: no (see the module documentation).
pub const ATTACK_TRAIN_MODE: bool = false;

/// RNG streams of the random starts (independent of the loaders' streams).
const STREAM_TRAIN_START: u64 = 0xAD_0001;
const STREAM_EVAL_START: u64 = 0xAD_0002;

fn other<E: std::fmt::Display>(e: E) -> TaskError {
    TaskError::Other(e.to_string())
}

/// PGD adversarial training of one network with one optimizer.
pub struct AdversarialTask {
    model: Model,
    input: InputNorm,
    settings: AdversarialSettings,
    train: BatchLoader,
    test: BatchLoader,
    cursor: BatchCursor,
    device: Device,
    seed: u64,
    num_classes: usize,
    describe: String,
}

impl AdversarialTask {
    /// Check the settings, open the data (fetching the embedded default if `data.fetch` is set),
    /// build `[0, 1]`-pixel loaders and the network.
    pub fn new(
        settings: &AdversarialSettings,
        model: &ModelSettings,
        data: &DataSettings,
        ctx: &TaskContext,
    ) -> Result<Self> {
        settings.validate()?;
        crate::factory::check_data_kind(data)?;
        let mut opened = open_data(data)?;
        let stats = opened.train_transform.normalize.clone();
        opened.train_transform.normalize = unit_range(opened.channels);
        opened.eval_transform.normalize = unit_range(opened.channels);
        let train_source = maybe_prefix(opened.train.clone(), data.train_subset);
        let test_source = maybe_prefix(opened.test.clone(), data.test_subset);
        let sources = (&train_source, &test_source);
        let (train, test) = loaders(
            &ClassificationSettings::default(),
            data,
            &opened,
            sources,
            ctx,
        )?;
        let probe = train_source.image(0).map_err(other)?;
        let config = ModelConfig {
            kind: model.model_kind()?,
            in_channels: opened.channels,
            num_classes: opened.num_classes(),
            input_hw: input_hw(data.dataset_kind()?, (probe.height, probe.width)),
            seed: ctx.seed,
            layer_impl: model.layer_impl()?,
        };
        let dims = config.in_channels * config.input_hw.0 * config.input_hw.1;
        if settings.norm == Norm::L2 && settings.eps >= (dims as f64).sqrt() {
            return Err(invalid(
                "eps",
                format!(
                    "expected an ℓ2 radius below {:.2}, the diagonal of the [0, 1] box of these {dims}-pixel images (a larger ball allows any image), got {}",
                    (dims as f64).sqrt(),
                    settings.eps
                ),
            ));
        }
        let net = build_with(&config, &ctx.device).map_err(other)?;
        let describe = describe(settings, &config, &net, sources, &train);
        Ok(Self {
            model: net,
            input: InputNorm::new(&stats, &ctx.device)?,
            settings: settings.clone(),
            train,
            test,
            cursor: BatchCursor::default(),
            device: ctx.device.clone(),
            seed: ctx.seed,
            num_classes: opened.num_classes(),
            describe,
        })
    }

    /// The network.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Logits of `[0, 1]` images: normalisation, then the network (`train`: BatchNorm on batch
    /// statistics, updating its running ones).
    pub fn logits(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let normalised = self.input.apply(x)?;
        self.model.forward_t(&normalised, train).map_err(other)
    }

    /// The PGD attack of `steps` steps this task's settings define.
    pub fn pgd(&self, steps: usize) -> Pgd {
        Pgd {
            norm: self.settings.norm,
            eps: self.settings.eps,
            steps,
            step_size: self.settings.step_size_for(steps),
        }
    }

    /// Adversarial versions of `[0, 1]` images `x` with labels `y`: `pgd` on the mean
    /// cross-entropy, the network in evaluation mode, from a start drawn from `rng` (when
    /// `random_start` is on).
    pub fn attack(&self, pgd: &Pgd, x: &Tensor, y: &Tensor, rng: &mut impl Rng) -> Result<Tensor> {
        let start = if self.settings.random_start {
            Some(random_start(pgd.norm, pgd.eps, x.dims(), rng, x.device())?)
        } else {
            None
        };
        pgd.attack(x, start.as_ref(), |adv| {
            Ok(cross_entropy(&self.logits(adv, ATTACK_TRAIN_MODE)?, y)?)
        })
    }

    /// How many rows of `logits` are classified as `labels` say.
    fn correct(&self, logits: &Tensor, labels: &[u32]) -> Result<usize> {
        let flat: Vec<f32> = logits.flatten_all()?.to_vec1()?;
        Ok(correct_top_k(&flat, self.num_classes, labels, 1))
    }
}

/// The one line the harness logs about what was built.
fn describe(
    s: &AdversarialSettings,
    config: &ModelConfig,
    net: &Model,
    (train_source, test_source): (&Arc<dyn ImageSource>, &Arc<dyn ImageSource>),
    train: &BatchLoader,
) -> String {
    let params = net.params();
    let scale_invariant = params
        .params()
        .iter()
        .filter(|p| p.meta.followed_by_norm)
        .count();
    let evals: Vec<String> = s.eval_steps.iter().map(|k| format!("PGD-{k}")).collect();
    format!(
        "adversarial: PGD-{} eps {:.2}/255 ({:.6}), {} steps of {:.6}{} from {}, attack steps with \
         BatchNorm in evaluation mode; evaluation {}; {} on {} ({} train / {} test images, {} \
         classes, input {}x{}x{}, attacked in [0, 1] pixels before normalisation); {} parameters \
         in {} tensors, {} scale-invariant; {} batches of {} per epoch",
        s.norm,
        s.eps * 255.0,
        s.eps,
        s.steps,
        s.step_size_for(s.steps),
        if s.step_size.is_none() {
            " (2.5 eps / steps)"
        } else {
            ""
        },
        if s.random_start {
            "a uniform random start"
        } else {
            "the clean image"
        },
        evals.join(", "),
        config.kind,
        train_source.describe(),
        train_source.len(),
        test_source.len(),
        config.num_classes,
        config.in_channels,
        config.input_hw.0,
        config.input_hw.1,
        params.numel(),
        params.len(),
        scale_invariant,
        train.num_batches(),
        train.batch_size(),
    )
}

impl Task for AdversarialTask {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    fn param_sets(&self) -> Vec<ParamSet> {
        vec![ParamSet {
            name: "model".to_string(),
            params: self.model.params(),
        }]
    }

    fn buffers(&self) -> Result<Vec<(String, Tensor)>> {
        Ok(self.model.weights().buffer_tensors())
    }

    fn load_buffers(&mut self, buffers: &[(String, Tensor)]) -> Result<()> {
        self.model
            .weights()
            .load_buffer_tensors(buffers)
            .map_err(|e| TaskError::State(e.to_string()))
    }

    fn steps_per_epoch(&self) -> Option<usize> {
        Some(self.train.num_batches())
    }

    fn train_step(
        &mut self,
        index: StepIndex,
        optimizers: &mut dyn OptimizerStep,
    ) -> Result<StepOutput> {
        let batch = self.cursor.next(&self.train, index, &self.device)?;
        let mut rng = derived_rng(
            self.seed,
            index.epoch as u64,
            index.batch as u64,
            STREAM_TRAIN_START,
        );
        let pgd = self.pgd(self.settings.steps);
        let adv = self.attack(&pgd, &batch.images, &batch.labels, &mut rng)?;
        let logits = self.logits(&adv, true)?;
        let loss = cross_entropy(&logits, &batch.labels)?;
        let value = loss.to_scalar::<f32>()? as f64;
        let labels: Vec<u32> = batch.labels.to_vec1()?;
        let acc = 100.0 * self.correct(&logits, &labels)? as f64 / labels.len() as f64;
        optimizers.backward_step(0, &loss)?;
        Ok(StepOutput {
            loss: value,
            scalars: vec![("train_adv_acc".to_string(), acc)],
        })
    }

    fn evaluate(&mut self) -> Result<EvalOutput> {
        let attacks = self.settings.attacked_metrics();
        let (mut n, mut clean) = (0usize, 0usize);
        let mut attacked = vec![0usize; attacks.len()];
        for (b, batch) in self.test.epoch(0).enumerate() {
            let batch = batch
                .map_err(other)?
                .to_device(&self.device)
                .map_err(other)?;
            let labels: Vec<u32> = batch.labels.to_vec1()?;
            clean += self.correct(&self.logits(&batch.images, false)?, &labels)?;
            for (count, (steps, _)) in attacked.iter_mut().zip(&attacks) {
                // The same starts at every evaluation: a function of (seed, batch, steps).
                let mut rng = derived_rng(self.seed, *steps as u64, b as u64, STREAM_EVAL_START);
                let adv = self.attack(&self.pgd(*steps), &batch.images, &batch.labels, &mut rng)?;
                *count += self.correct(&self.logits(&adv, false)?, &labels)?;
            }
            n += labels.len();
        }
        if n == 0 {
            return Err(TaskError::Other(format!(
                "evaluation read no images from {}",
                self.test.source().describe()
            )));
        }
        let pct = |c: usize| 100.0 * c as f64 / n as f64;
        let mut metrics = vec![("std_acc".to_string(), pct(clean))];
        metrics.extend(
            attacks
                .into_iter()
                .zip(attacked)
                .map(|((_, name), c)| (name, pct(c))),
        );
        Ok(EvalOutput::from_metrics(metrics))
    }
}
