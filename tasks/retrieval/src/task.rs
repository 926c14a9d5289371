//! The retrieval task: an embedding network trained with Proxy-Anchor or semi-hard triplet loss,
//! evaluated by Recall@K (AdamP, arXiv 2006.08217, Section 4; the ProxyAnchor codebase's
//! `code/train.py` loop: warm-up, clipping, parameter groups, step decay from the harness's
//! `[training.lr_schedule] kind = "step"`).

use adamp_datasets::retrieval::ClassBalancedSampler;
use adamp_datasets::BatchLoader;
use adamp_models::{ModelConfig, ParamBuilder};
use adamp_optim::ParamList;
use adamp_task_api::factory::invalid;
use adamp_task_api::{
    EvalOutput, OptimizerStep, ParamSet, Result, StepIndex, StepOutput, Task, TaskContext,
    TaskError,
};
use candle_core::{Device, Tensor, Var};

use crate::batches::{Sampling, TrainBatches};
use crate::data::{self, EvalSources, EVAL_BATCH};
use crate::data_settings::RetrievalDataSettings;
use crate::describe::Description;
use crate::embedding::EmbeddingNet;
use crate::freeze::{Freeze, PROXIES};
use crate::groups::{param_groups, proxy_meta};
use crate::model_settings::{BatchNormMode, RetrievalModelSettings};
use crate::proxy_anchor::proxy_init;
use crate::recall::{recall_at_k, Gallery, DEFAULT_BLOCK};
use crate::settings::{recall_metric, Loss, RetrievalSettings};
use adamp_datasets::strided::labels;

/// The evaluation loaders.
enum EvalLoaders {
    Within(BatchLoader),
    QueryGallery(BatchLoader, BatchLoader),
}

/// Deep metric learning of one embedding network with one optimizer.
pub struct RetrievalTask {
    net: EmbeddingNet,
    proxies: Option<Var>,
    loss: Loss,
    params: ParamList,
    freeze: Freeze,
    clip_value: f64,
    train: TrainBatches,
    eval: EvalLoaders,
    ks: Vec<usize>,
    device: Device,
    describe: String,
}

fn other<E: std::fmt::Display>(e: E) -> TaskError {
    TaskError::Other(e.to_string())
}

impl RetrievalTask {
    /// Open the data, build the network (loading its starting weights), the proxies and the
    /// loaders; every check that needs the data or the batch size runs here, before training.
    pub fn new(
        settings: &RetrievalSettings,
        model: &RetrievalModelSettings,
        data: &RetrievalDataSettings,
        ctx: &TaskContext,
    ) -> Result<Self> {
        settings.validate()?;
        model.validate()?;
        data.validate()?;
        let opened = data::open(data)?;
        let ks = settings.recall_ks(data.format);
        let ranked = opened.eval.ranked();
        if let Some(&k) = ks.iter().max().filter(|&&k| k > ranked) {
            return Err(invalid(
                "recall_at",
                format!(
                    "Recall@{k} needs at least {k} images to rank per query, but {} has {ranked}{}",
                    opened.eval.describe(),
                    if settings.recall_at.is_none() {
                        format!(
                            " (the default Ks of data.format = \"{}\"; set task.recall_at)",
                            data.format
                        )
                    } else {
                        String::new()
                    }
                ),
            ));
        }
        let n_classes = opened.train.num_classes();
        let config = ModelConfig {
            kind: model.model_kind()?,
            in_channels: opened.channels,
            num_classes: n_classes.max(1),
            input_hw: opened.input_hw,
            seed: ctx.seed,
            layer_impl: model.layers,
        };
        let bn_frozen = model.batchnorm == BatchNormMode::Frozen;
        let net = EmbeddingNet::new(&config, settings.embedding_dim, bn_frozen, &ctx.device)?;
        let mut loaded = String::new();
        if let Some(p) = &model.pretrained {
            let path = p.source()?.local_file()?;
            let n = net.load_pretrained(&path)?;
            loaded = format!(", {n} tensors from {}", path.display());
        }
        let proxies = if settings.loss.has_proxies() {
            let b = ParamBuilder::new(ctx.seed, &ctx.device, model.layers);
            Some(
                b.param(
                    PROXIES,
                    &[n_classes, settings.embedding_dim],
                    proxy_init(n_classes, settings.embedding_dim),
                    proxy_meta(),
                )
                .map_err(other)?,
            )
        } else {
            None
        };
        let params = param_groups(net.params(), proxies.as_ref(), settings.proxy_lr_scale())?;
        let train_loader = data::loader(
            &opened.train,
            &opened.train_transform,
            ctx.batch_size,
            true,
            ctx.seed,
            data.workers,
        )?;
        let sampling = match settings.per_class {
            None => Sampling::Shuffled,
            Some(m) => {
                let sampler = ClassBalancedSampler::new(m, ctx.batch_size).map_err(|e| {
                    invalid("training.batch_size", format!("task.per_class = {m}: {e}"))
                })?;
                Sampling::Balanced(sampler, labels(opened.train.as_ref()))
            }
        };
        let train = TrainBatches::new(train_loader, sampling, ctx.seed)
            .map_err(|e| invalid("per_class", e.to_string()))?;
        if train.per_epoch() == 0 {
            return Err(invalid(
                "training.batch_size",
                format!(
                    "a batch size of at most the {} training images, got {}",
                    opened.train.len(),
                    ctx.batch_size
                ),
            ));
        }
        let eval_loader = |s| {
            data::loader(
                s,
                &opened.eval_transform,
                EVAL_BATCH,
                false,
                ctx.seed,
                data.workers,
            )
        };
        let eval = match &opened.eval {
            EvalSources::Within(s) => EvalLoaders::Within(eval_loader(s)?),
            EvalSources::QueryGallery(q, g) => {
                EvalLoaders::QueryGallery(eval_loader(q)?, eval_loader(g)?)
            }
        };
        let freeze = Freeze::new(settings.warmup_epochs, &params, bn_frozen);
        let describe = Description {
            settings,
            config: &config,
            bn_frozen,
            loaded: &loaded,
            opened: &opened,
            per_epoch: train.per_epoch(),
            batch_size: ctx.batch_size,
            ks: &ks,
            params: &params,
        }
        .line();
        Ok(Self {
            net,
            proxies,
            loss: settings.loss.loss(),
            params,
            freeze,
            clip_value: settings.clip_value,
            train,
            eval,
            ks,
            device: ctx.device.clone(),
            describe,
        })
    }

    /// The embedding network.
    pub fn net(&self) -> &EmbeddingNet {
        &self.net
    }

    /// The freezing schedule.
    pub fn freeze(&self) -> &Freeze {
        &self.freeze
    }

    /// Unit embeddings and labels of every image of `loader`, in order.
    fn embed_all(&self, loader: &BatchLoader) -> Result<(Tensor, Vec<u32>)> {
        let (mut parts, mut all_labels) = (Vec::new(), Vec::new());
        for batch in loader.epoch(0) {
            let batch = batch
                .map_err(data::data_err)?
                .to_device(&self.device)
                .map_err(data::data_err)?;
            parts.push(self.net.forward(&batch.images, false, false)?.detach());
            all_labels.extend(batch.labels.to_vec1::<u32>()?);
        }
        if parts.is_empty() {
            return Err(TaskError::Other(format!(
                "evaluation read no images from {}",
                loader.source().describe()
            )));
        }
        Ok((Tensor::cat(&parts, 0)?, all_labels))
    }
}

impl Task for RetrievalTask {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    fn param_sets(&self) -> Vec<ParamSet> {
        vec![ParamSet {
            name: "model".to_string(),
            params: self.params.clone(),
        }]
    }

    fn buffers(&self) -> Result<Vec<(String, Tensor)>> {
        Ok(self.net.buffer_tensors())
    }

    fn load_buffers(&mut self, buffers: &[(String, Tensor)]) -> Result<()> {
        self.net.load_buffer_tensors(buffers)
    }

    fn steps_per_epoch(&self) -> Option<usize> {
        Some(self.train.per_epoch())
    }

    fn train_step(
        &mut self,
        index: StepIndex,
        optimizers: &mut dyn OptimizerStep,
    ) -> Result<StepOutput> {
        let batch = self.train.next(index, &self.device)?;
        let labels: Vec<u32> = batch.labels.to_vec1()?;
        let warmup = self.freeze.in_warmup(index.epoch);
        let embeddings = self.net.forward(&batch.images, true, !warmup)?;
        let mut scalars = vec![("warmup".to_string(), if warmup { 1.0 } else { 0.0 })];
        let loss = match (&self.loss, &self.proxies) {
            (Loss::ProxyAnchor(pa), Some(p)) => pa.loss(&embeddings, &labels, p.as_tensor())?,
            (Loss::Triplet(t), _) => {
                let out = t.loss(&embeddings, &labels)?;
                scalars.push(("triplets_mined".to_string(), out.mined as f64));
                scalars.push(("triplets_active".to_string(), out.active as f64));
                out.loss
            }
            (Loss::ProxyAnchor(_), None) => {
                return Err(TaskError::Other("proxy-anchor loss without proxies".into()))
            }
        };
        let value = loss.to_scalar::<f32>()? as f64;
        let mut grads = loss.backward()?;
        self.freeze
            .prepare(&mut grads, &self.params, index.epoch, self.clip_value)?;
        optimizers.step_with_grads(0, &grads)?;
        Ok(StepOutput {
            loss: value,
            scalars,
        })
    }

    fn evaluate(&mut self) -> Result<EvalOutput> {
        let recalls = match &self.eval {
            EvalLoaders::Within(l) => {
                let (x, y) = self.embed_all(l)?;
                recall_at_k(&x, &y, Gallery::Within, &self.ks, DEFAULT_BLOCK)?
            }
            EvalLoaders::QueryGallery(q, g) => {
                let (qx, qy) = self.embed_all(q)?;
                let (gx, gy) = self.embed_all(g)?;
                recall_at_k(
                    &qx,
                    &qy,
                    Gallery::Separate(&gx, &gy),
                    &self.ks,
                    DEFAULT_BLOCK,
                )?
            }
        };
        Ok(EvalOutput::from_metrics(
            self.ks
                .iter()
                .map(|&k| recall_metric(k))
                .zip(recalls)
                .collect(),
        ))
    }
}
