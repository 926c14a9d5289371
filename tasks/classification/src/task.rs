//! The image-classification task: a network from `adamp-models` trained with cross-entropy on a
//! dataset from `adamp-datasets` (paper Section 4.1, ImageNet classification; the embedded default
//! runs the same code on Fashion-MNIST).

use adamp_datasets::catalog::{
    open_classification, open_hf_classification, ClassificationData, DatasetKind,
};
use adamp_datasets::cutmix::CutMix;
use adamp_datasets::hf_parquet::HfColumns;
use adamp_datasets::{Batch, BatchLoader, LoaderConfig};
use adamp_models::{build_with, Model, ModelConfig};
use std::sync::Arc;

use adamp_datasets::ImageSource;
use adamp_task_api::factory::invalid;
use adamp_task_api::{
    EvalOutput, Length, OptimizerStep, ParamSet, Result, StepIndex, StepOutput, Task, TaskContext,
    TaskError, TaskFactory, TaskSpec,
};
use candle_core::{Device, Tensor};

use crate::cursor::BatchCursor;
use crate::metrics::{correct_top_k, cross_entropy, soft_cross_entropy};
use crate::settings::{
    ClassificationSettings, DataSettings, ModelSettings, DATA_KINDS, MODEL_KINDS,
};
use crate::subset::maybe_prefix;

/// Evaluation batch size (independent of the training batch; only memory depends on it).
const EVAL_BATCH: usize = 256;

fn data_err(e: adamp_datasets::DatasetError) -> TaskError {
    TaskError::Other(e.to_string())
}

fn model_err(e: adamp_models::ModelError) -> TaskError {
    TaskError::Other(e.to_string())
}

/// Image classification with one network and one optimizer.
pub struct ClassificationTask {
    model: Model,
    data: ClassificationData,
    train: BatchLoader,
    test: BatchLoader,
    device: Device,
    cursor: BatchCursor,
    describe: String,
}

impl ClassificationTask {
    /// Open the data (fetching the embedded default if `data.fetch` is set and it is missing),
    /// build the loaders and the model.
    pub fn new(
        settings: &ClassificationSettings,
        model: &ModelSettings,
        data: &DataSettings,
        ctx: &TaskContext,
    ) -> Result<Self> {
        let opened = open_data(data)?;
        let train_source = maybe_prefix(opened.train.clone(), data.train_subset);
        let test_source = maybe_prefix(opened.test.clone(), data.test_subset);
        let (train, test) = loaders(settings, data, &opened, (&train_source, &test_source), ctx)?;
        let kind = data.dataset_kind()?;
        let probe = train_source.image(0).map_err(data_err)?;
        let config = ModelConfig {
            kind: model.model_kind()?,
            in_channels: opened.channels,
            num_classes: opened.num_classes(),
            input_hw: input_hw(kind, (probe.height, probe.width)),
            seed: ctx.seed,
            layer_impl: model.layer_impl()?,
        };
        let net = build_with(&config, &ctx.device).map_err(model_err)?;
        let describe = describe(
            &config,
            &net,
            (&train_source, &test_source),
            &train,
            settings,
        );
        Ok(Self {
            model: net,
            data: opened,
            train,
            test,
            device: ctx.device.clone(),
            cursor: BatchCursor::default(),
            describe,
        })
    }

    /// The network.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Images left out so far because they failed to decode (training and evaluation).
    pub fn skipped_images(&self) -> usize {
        self.train.skipped_samples() + self.test.skipped_samples()
    }

    /// The batch `index` names (a function of `(seed, epoch, batch)` only).
    fn batch(&mut self, index: StepIndex) -> Result<Batch> {
        self.cursor.next(&self.train, index, &self.device)
    }
}

/// The two splits of the configured dataset: from its folder (fetching the embedded default
/// when asked) or from Hugging Face hub parquet files.
pub fn open_data(data: &DataSettings) -> Result<ClassificationData> {
    let kind = data.dataset_kind()?;
    let dir = data.dataset_dir()?;
    if data.fetch && data.root.is_none() && kind == DatasetKind::FashionMnist {
        let root = adamp_datasets::fetch::data_root(None);
        adamp_datasets::fetch::fetch_fashion_mnist(&root).map_err(data_err)?;
    }
    if !data.is_hf_parquet() {
        return open_classification(kind, &dir).map_err(data_err);
    }
    let repo = data.hf_repo.as_deref().ok_or_else(|| {
        invalid(
            "data.hf_repo",
            "`data.kind = \"hf_parquet\"` needs `hf_repo = \"org/name\"`",
        )
    })?;
    let (train, test) = data
        .hf_splits
        .clone()
        .unwrap_or_else(|| ("train".into(), "validation".into()));
    // `root` (else HF_HUB_CACHE / HF_HOME) is the hub cache; HF_HUB_OFFLINE, HF_ENDPOINT and
    // HF_TOKEN apply as in `huggingface_hub`.
    let hub = adamp_hub::Hub::new(adamp_hub::HubOptions {
        cache_dir: Some(dir),
        ..adamp_hub::HubOptions::from_env()
    })
    .map_err(|e| {
        data_err(adamp_datasets::DatasetError::Hub {
            repo: repo.to_string(),
            source: e,
        })
    })?;
    open_hf_classification(
        &hub,
        repo,
        data.hf_revision.as_deref().unwrap_or("main"),
        (&train, &test),
        &HfColumns::default(),
    )
    .map_err(data_err)
}

/// The shuffled training loader (with CutMix when configured) and the ordered test loader.
pub fn loaders(
    settings: &ClassificationSettings,
    data: &DataSettings,
    opened: &ClassificationData,
    (train_source, test_source): (&Arc<dyn ImageSource>, &Arc<dyn ImageSource>),
    ctx: &TaskContext,
) -> Result<(BatchLoader, BatchLoader)> {
    let cutmix = settings.cutmix.map(|c| CutMix {
        alpha: c.alpha,
        prob: c.prob,
    });
    let loader = |source: &Arc<dyn ImageSource>, transform, cutmix, batch_size, shuffle| {
        BatchLoader::new(
            source.clone(),
            transform,
            cutmix,
            LoaderConfig {
                batch_size,
                shuffle,
                drop_last: shuffle,
                seed: ctx.seed,
                workers: data.workers,
                prefetch: 2,
            },
        )
        .map_err(data_err)
    };
    let train = loader(
        train_source,
        opened.train_transform.clone(),
        cutmix,
        ctx.batch_size,
        true,
    )?;
    if train.num_batches() == 0 {
        return Err(invalid(
            "training.batch_size",
            format!(
                "a batch size of at most the {} training images, got {}",
                train_source.len(),
                ctx.batch_size
            ),
        ));
    }
    let test = loader(
        test_source,
        opened.eval_transform.clone(),
        None,
        EVAL_BATCH,
        false,
    )?;
    Ok((train, test))
}

/// The one line the harness logs about what was built.
fn describe(
    config: &ModelConfig,
    net: &Model,
    (train_source, test_source): (&Arc<dyn ImageSource>, &Arc<dyn ImageSource>),
    train: &BatchLoader,
    settings: &ClassificationSettings,
) -> String {
    let params = net.params();
    let scale_invariant = params
        .params()
        .iter()
        .filter(|p| p.meta.followed_by_norm)
        .count();
    format!(
        "classification: {} on {} ({} train / {} test images, {} classes, input {}x{}x{}); \
         {} parameters in {} tensors, {} scale-invariant; {} batches of {} per epoch{}",
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
        if settings.cutmix.is_some() {
            ", CutMix on"
        } else {
            ""
        },
    )
}

/// The network's input size: ImageNet-layout data is cropped to 224x224 by its transforms;
/// the small datasets keep their native size.
pub fn input_hw(kind: DatasetKind, native: (usize, usize)) -> (usize, usize) {
    match kind {
        DatasetKind::ImageNet => (224, 224),
        DatasetKind::FashionMnist | DatasetKind::Mnist | DatasetKind::Cifar10 => native,
    }
}

/// What the evaluation returns: top-1 / top-5 accuracy (%), mean cross-entropy, and the images
/// left out because they failed to decode.
const EVAL_METRICS: [&str; 4] = ["top1", "top5", "loss", "skipped_images"];

impl TaskFactory for ClassificationTask {
    const KIND: &'static str = "classification";
    const LENGTH: Length = Length::Epochs;
    const MODEL_KINDS: &'static [&'static str] = MODEL_KINDS;
    const DATA_KINDS: &'static [&'static str] = DATA_KINDS;
    type Settings = ClassificationSettings;
    type Model = ModelSettings;
    type Data = DataSettings;

    fn check(spec: &TaskSpec<Self>) -> Result<()> {
        spec.task.validate()?;
        spec.model.model_kind()?;
        spec.data.validate()
    }

    fn eval_metrics(_spec: &TaskSpec<Self>) -> Vec<String> {
        EVAL_METRICS.map(String::from).to_vec()
    }

    fn build(spec: &TaskSpec<Self>, ctx: &TaskContext) -> Result<Box<dyn Task>> {
        Ok(Box::new(ClassificationTask::new(
            &spec.task,
            &spec.model,
            &spec.data,
            ctx,
        )?))
    }
}

impl Task for ClassificationTask {
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
        let batch = self.batch(index)?;
        let logits = self
            .model
            .forward_t(&batch.images, true)
            .map_err(model_err)?;
        let classes = self.data.num_classes();
        let loss = match &batch.mixed {
            Some(mixed) => {
                let b = mixed.labels_a.len();
                let soft =
                    Tensor::from_vec(mixed.soft_targets(classes), (b, classes), &self.device)?;
                soft_cross_entropy(&logits, &soft)?
            }
            None => cross_entropy(&logits, &batch.labels)?,
        };
        let value = loss.to_scalar::<f32>()? as f64;
        let labels: Vec<u32> = batch.labels.to_vec1()?;
        let flat: Vec<f32> = logits.flatten_all()?.to_vec1()?;
        let acc = 100.0 * correct_top_k(&flat, classes, &labels, 1) as f64 / labels.len() as f64;
        optimizers.backward_step(0, &loss)?;
        Ok(StepOutput {
            loss: value,
            scalars: vec![("train_acc".to_string(), acc)],
        })
    }

    fn evaluate(&mut self) -> Result<EvalOutput> {
        let classes = self.data.num_classes();
        let (mut n, mut top1, mut top5, mut loss_sum) = (0usize, 0usize, 0usize, 0f64);
        for batch in self.test.epoch(0) {
            let batch = batch
                .map_err(data_err)?
                .to_device(&self.device)
                .map_err(data_err)?;
            let logits = self
                .model
                .forward_t(&batch.images, false)
                .map_err(model_err)?;
            let b = batch.indices.len();
            loss_sum +=
                cross_entropy(&logits, &batch.labels)?.to_scalar::<f32>()? as f64 * b as f64;
            let labels: Vec<u32> = batch.labels.to_vec1()?;
            let flat: Vec<f32> = logits.flatten_all()?.to_vec1()?;
            top1 += correct_top_k(&flat, classes, &labels, 1);
            top5 += correct_top_k(&flat, classes, &labels, 5.min(classes));
            n += b;
        }
        if n == 0 {
            return Err(TaskError::Other(format!(
                "evaluation read no images from {}",
                self.test.source().describe()
            )));
        }
        let pct = |c: usize| 100.0 * c as f64 / n as f64;
        Ok(EvalOutput::from_metrics(
            EVAL_METRICS
                .iter()
                .map(|m| m.to_string())
                .zip([
                    pct(top1),
                    pct(top5),
                    loss_sum / n as f64,
                    self.skipped_images() as f64,
                ])
                .collect(),
        ))
    }
}
