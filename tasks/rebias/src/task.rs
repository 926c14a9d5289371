//! [`ReBiasTask`]: two networks, f (de-biased) and g (intentionally biased), each trained by an
//! optimizer of the configured kind, with the HSIC minimax of [`crate::step`]; its registration
//! ([`TaskFactory`]) as `[task] kind = "rebias"`.

use std::sync::Arc;

use adamp_datasets::loader::EpochBatches;
use adamp_datasets::{Batch, BatchLoader, ImageSource, LoaderConfig};
use adamp_models::{build_with, Model, ModelConfig, ModelKind};
use adamp_task_api::factory::invalid;
use adamp_task_api::{
    EvalOutput, Length, OptimizerStep, ParamSet, Result, StepIndex, StepOutput, Task, TaskContext,
    TaskError, TaskFactory, TaskSpec,
};
use candle_core::{Device, Tensor};

use crate::bandwidth::{Sigma, SIGMA_BUFFER};
use crate::data::{open, Metric, Opened};
use crate::data_settings::{ReBiasData, DATA_KINDS};
use crate::hsic::Estimator;
use crate::settings::{Bandwidth, ReBiasModels, ReBiasSettings};

pub(crate) use crate::data::data_err;

/// Evaluation batch size (memory only).
const EVAL_BATCH: usize = 256;

/// g's initialisation seed is the run's seed with these bits flipped, so f and g never share an
/// initial tensor (both may have e.g. an `fc.weight` of the same shape).
const G_SEED_BITS: u64 = 0x5EED_0000_0000_0000;

pub(crate) fn model_err(e: adamp_models::ModelError) -> TaskError {
    TaskError::Other(e.to_string())
}

/// The epoch iterator being consumed, and where in it.
struct Cursor {
    epoch: usize,
    next_batch: usize,
    batches: EpochBatches,
}

/// ReBias on Biased-MNIST, 9-class ImageNet or texture-biased Fashion-MNIST.
pub struct ReBiasTask {
    pub(crate) f: Model,
    pub(crate) g: Model,
    pub(crate) train: BatchLoader,
    pub(crate) evals: Vec<(BatchLoader, Vec<Metric>)>,
    pub(crate) settings: ReBiasSettings,
    pub(crate) sigma: Sigma,
    pub(crate) device: Device,
    cursor: Option<Cursor>,
    describe: String,
}

/// The metric names `evaluate` returns for `data`, in order.
pub fn eval_metric_names(data: &ReBiasData) -> Vec<String> {
    let names: &[&str] = match data {
        ReBiasData::BiasedMnist(_) => &["unbiased_acc", "biased_acc"],
        _ if data.has_imagenet_a() => &["biased_acc", "unbiased_acc", "imagenet_a_acc"],
        _ => &["biased_acc", "unbiased_acc"],
    };
    names.iter().map(|s| s.to_string()).collect()
}

impl ReBiasTask {
    /// Opens the data (fetching the embedded data when asked), builds both networks and the
    /// loaders.
    pub fn new(
        settings: &ReBiasSettings,
        models: &ReBiasModels,
        data: &ReBiasData,
        ctx: &TaskContext,
    ) -> Result<Self> {
        settings.validate()?;
        data.validate()?;
        let least = match settings.estimator {
            Estimator::Unbiased => 4,
            Estimator::Biased => 2,
        };
        if ctx.batch_size < least {
            return Err(invalid(
                "training.batch_size",
                format!(
                    "the {:?} HSIC estimator needs batches of at least {least} images, got {}",
                    settings.estimator, ctx.batch_size
                ),
            ));
        }
        let opened = open(data, ctx.seed)?;
        let (_, workers) = data.amount();
        let loader = |source: &Arc<dyn ImageSource>, transform, batch_size, shuffle| {
            BatchLoader::new(
                source.clone(),
                transform,
                None,
                LoaderConfig {
                    batch_size,
                    shuffle,
                    drop_last: shuffle,
                    seed: ctx.seed,
                    workers,
                    prefetch: 2,
                },
            )
            .map_err(data_err)
        };
        let train = loader(
            &opened.train,
            opened.train_transform.clone(),
            ctx.batch_size,
            true,
        )?;
        if train.num_batches() == 0 {
            return Err(invalid(
                "training.batch_size",
                format!(
                    "a batch size of at most the {} training images, got {}",
                    opened.train.len(),
                    ctx.batch_size
                ),
            ));
        }
        let build = |kind: ModelKind, seed: u64| {
            build_with(
                &ModelConfig {
                    kind,
                    in_channels: 3,
                    num_classes: opened.num_classes,
                    input_hw: opened.input_hw,
                    seed,
                    layer_impl: models.layers,
                },
                &ctx.device,
            )
            .map_err(model_err)
        };
        let f = build(models.f, ctx.seed)?;
        let g = build(models.g, ctx.seed ^ G_SEED_BITS)?;
        let describe = describe(settings, models, &opened, &train, &f, &g);
        let Opened {
            evals,
            eval_transform,
            ..
        } = opened;
        let evals = evals
            .into_iter()
            .map(|e| {
                Ok((
                    loader(&e.source, eval_transform.clone(), EVAL_BATCH, false)?,
                    e.metrics,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            f,
            g,
            train,
            evals,
            settings: settings.clone(),
            sigma: Sigma::initial(settings.bandwidth),
            device: ctx.device.clone(),
            cursor: None,
            describe,
        })
    }

    /// The de-biased network.
    pub fn f(&self) -> &Model {
        &self.f
    }

    /// The biased network.
    pub fn g(&self) -> &Model {
        &self.g
    }

    /// The current kernel widths `(sigma_f, sigma_g)`.
    pub fn sigma(&self) -> (f64, f64) {
        (self.sigma.f, self.sigma.g)
    }

    /// The batch `index` names; the data depends only on `(seed, epoch, batch)`.
    fn batch(&mut self, index: StepIndex) -> Result<Batch> {
        let fresh = match &self.cursor {
            Some(c) => c.epoch != index.epoch || c.next_batch != index.batch,
            None => true,
        };
        if fresh {
            let mut batches = self.train.epoch(index.epoch as u64);
            for _ in 0..index.batch {
                batches.next();
            }
            self.cursor = Some(Cursor {
                epoch: index.epoch,
                next_batch: index.batch,
                batches,
            });
        }
        let cursor = self.cursor.as_mut().expect("cursor was just set");
        let batch = cursor.batches.next().ok_or_else(|| {
            TaskError::Other(format!(
                "epoch {} has no batch {} (it has {})",
                index.epoch,
                index.batch,
                self.train.num_batches()
            ))
        })?;
        cursor.next_batch += 1;
        batch
            .map_err(data_err)?
            .to_device(&self.device)
            .map_err(data_err)
    }
}

/// The one line the harness logs about what was built.
fn describe(
    s: &ReBiasSettings,
    m: &ReBiasModels,
    opened: &Opened,
    train: &BatchLoader,
    f: &Model,
    g: &Model,
) -> String {
    let bandwidth = match s.bandwidth {
        Bandwidth::Fixed { sigma } => format!("fixed sigma {sigma}"),
        Bandwidth::Median { fraction } => {
            format!("median heuristic per epoch over {fraction} of the batches")
        }
    };
    let evals: Vec<String> = opened
        .evals
        .iter()
        .map(|e| format!("{} images ({})", e.source.len(), e.source.describe()))
        .collect();
    format!(
        "rebias: f = {} ({} parameters), g = {} ({} parameters); lambda_f {}, lambda_g {}, {:?} HSIC, \
         RBF {bandwidth}; train {} images ({}), {} batches of {}; evaluation: {}",
        m.f,
        f.num_params(),
        m.g,
        g.num_params(),
        s.lambda_f,
        s.lambda_g,
        s.estimator,
        opened.train.len(),
        opened.train.describe(),
        train.num_batches(),
        train.batch_size(),
        evals.join("; ")
    )
}

impl TaskFactory for ReBiasTask {
    const KIND: &'static str = "rebias";
    const LENGTH: Length = Length::Epochs;
    const MODEL_KINDS: &'static [&'static str] = &adamp_models::ModelName::NAMES;
    const DATA_KINDS: &'static [&'static str] = DATA_KINDS;
    type Settings = ReBiasSettings;
    type Model = ReBiasModels;
    type Data = ReBiasData;

    fn check(spec: &TaskSpec<Self>) -> Result<()> {
        spec.task.validate()?;
        spec.data.validate()
    }

    fn eval_metrics(spec: &TaskSpec<Self>) -> Vec<String> {
        eval_metric_names(&spec.data)
    }

    fn build(spec: &TaskSpec<Self>, ctx: &TaskContext) -> Result<Box<dyn Task>> {
        Ok(Box::new(ReBiasTask::new(
            &spec.task,
            &spec.model,
            &spec.data,
            ctx,
        )?))
    }
}

impl Task for ReBiasTask {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    fn param_sets(&self) -> Vec<ParamSet> {
        vec![
            ParamSet {
                name: "f".to_string(),
                params: self.f.params(),
            },
            ParamSet {
                name: "g".to_string(),
                params: self.g.params(),
            },
        ]
    }

    fn buffers(&self) -> Result<Vec<(String, Tensor)>> {
        let mut out: Vec<(String, Tensor)> = Vec::new();
        for (p, m) in [("f", &self.f), ("g", &self.g)] {
            out.extend(
                m.weights()
                    .buffer_tensors()
                    .into_iter()
                    .map(|(n, t)| (format!("{p}.{n}"), t)),
            );
        }
        out.push((SIGMA_BUFFER.to_string(), self.sigma.to_tensor()?));
        Ok(out)
    }

    fn load_buffers(&mut self, buffers: &[(String, Tensor)]) -> Result<()> {
        let sigma = buffers
            .iter()
            .find(|(n, _)| n == SIGMA_BUFFER)
            .ok_or_else(|| {
                TaskError::State(format!("the checkpoint has no buffer `{SIGMA_BUFFER}`"))
            })?;
        let sigma = Sigma::from_tensor(&sigma.1)?;
        for (prefix, model) in [("f.", &self.f), ("g.", &self.g)] {
            let own: Vec<(String, Tensor)> = buffers
                .iter()
                .filter_map(|(n, t)| n.strip_prefix(prefix).map(|s| (s.to_string(), t.clone())))
                .collect();
            model
                .weights()
                .load_buffer_tensors(&own)
                .map_err(|e| TaskError::State(format!("{prefix}: {e}")))?;
        }
        self.sigma = sigma;
        Ok(())
    }

    fn steps_per_epoch(&self) -> Option<usize> {
        Some(self.train.num_batches())
    }

    fn begin_epoch(&mut self, epoch: usize) -> Result<()> {
        self.update_bandwidth(epoch)
    }

    fn train_step(
        &mut self,
        index: StepIndex,
        optimizers: &mut dyn OptimizerStep,
    ) -> Result<StepOutput> {
        let batch = self.batch(index)?;
        self.minimax_step(&batch.images, &batch.labels, optimizers)
    }

    fn evaluate(&mut self) -> Result<EvalOutput> {
        self.evaluate_splits()
    }
}
