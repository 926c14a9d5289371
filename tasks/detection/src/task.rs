//! The detection task: CenterNet or SSD on a COCO-format dataset, Adam vs AdamP, evaluated by
//! the COCO box protocol (AdamP, arXiv 2006.08217, Section 4 object detection).

use adamp_datasets::coco::augment::Pipeline;
use adamp_models::detection::{CenterNet, CenterNetConfig, SsdConfig, SsdNet};
use adamp_models::{ModelKind, Weights};
use adamp_task_api::factory::invalid;
use adamp_task_api::{
    EvalOutput, OptimizerStep, ParamSet, Result, StepIndex, StepOutput, Task, TaskContext,
    TaskError,
};
use candle_core::{Device, Tensor};

use crate::batch::{assemble, epoch_order};
use crate::centernet_step::{self, BatchTargets, LossWeights};
use crate::data::{self, Opened};
use crate::data_settings::DetectionDataSettings;
use crate::model_settings::DetectionModelSettings;
use crate::results::{self, DETECTIONS_FILE, SOURCE_FILE};
use crate::settings::{DetectionSettings, DetectorSettings};
use crate::ssd::{anchors_per_cell_for, DetectSpec, MultiBoxLoss, PriorSpec};
use crate::ssd_step;

/// Images per evaluation batch.
const EVAL_BATCH: usize = 16;

/// The detector and what its loss and decoding need.
enum Detector {
    CenterNet {
        net: Box<CenterNet>,
        weights: LossWeights,
        k: usize,
    },
    Ssd {
        net: Box<SsdNet>,
        priors: Vec<[f32; 4]>,
        variance: [f64; 2],
        criterion: MultiBoxLoss,
        spec: DetectSpec,
    },
}

/// Object detection with one optimizer.
pub struct DetectionTask {
    detector: Detector,
    data: Opened,
    num_classes: usize,
    input: usize,
    train_pipeline: Pipeline,
    eval_pipeline: Pipeline,
    seed: u64,
    batch_size: usize,
    /// This epoch's order ([`Task::begin_epoch`] draws it before the epoch's first step).
    order: Vec<usize>,
    device: Device,
    describe: String,
}

fn model_err(e: adamp_models::ModelError) -> TaskError {
    TaskError::Other(e.to_string())
}

/// The SSD prior layout for the network's source maps: ssd.pytorch's COCO config at 300 px with
/// maps [38, 19, 10, 5, 3, 1], the SSD paper's scale rule otherwise.
fn prior_spec(input: usize, sizes: &[usize]) -> Result<PriorSpec> {
    let ssd300 = PriorSpec::ssd300_coco();
    if input == ssd300.image_size && sizes == ssd300.feature_maps.as_slice() {
        Ok(ssd300)
    } else {
        PriorSpec::scaled(input, sizes).map_err(|e| invalid("input_size", e.to_string()))
    }
}

impl Detector {
    /// The network's parameters and buffers.
    fn weights(&self) -> &Weights {
        match self {
            Detector::CenterNet { net, .. } => net.weights(),
            Detector::Ssd { net, .. } => net.weights(),
        }
    }
}

impl DetectionTask {
    /// Open the data and build the detector (loading its backbone's starting weights); every
    /// check that needs the data or the batch size runs here, before training.
    pub fn new(
        settings: &DetectionSettings,
        model: &DetectionModelSettings,
        data_settings: &DetectionDataSettings,
        ctx: &TaskContext,
    ) -> Result<Self> {
        settings.validate()?;
        model.validate()?;
        data_settings.validate()?;
        let data = data::open(data_settings)?;
        let num_classes = data.train.coco.categories().len();
        let input = settings.input_size;
        let backbone: ModelKind = model.backbone_kind()?;
        let per_epoch = data.train.len() / ctx.batch_size.max(1);
        if ctx.batch_size == 0 || per_epoch == 0 {
            return Err(invalid(
                "training.batch_size",
                format!(
                    "between 1 and the {} training images, got {}",
                    data.train.len(),
                    ctx.batch_size
                ),
            ));
        }
        let (detector, pipelines, what) = match settings.detector {
            DetectorSettings::CenterNet {
                hm_weight,
                wh_weight,
                off_weight,
                head_conv,
                max_detections,
                color_aug,
            } => {
                let net = CenterNet::new(
                    &CenterNetConfig {
                        backbone,
                        in_channels: 3,
                        num_classes,
                        input_hw: (input, input),
                        head_conv,
                        up_channels: vec![256, 128, 64],
                        seed: ctx.seed,
                        layer_impl: model.layers,
                    },
                    &ctx.device,
                )
                .map_err(|e| invalid("model.backbone", e.to_string()))?;
                let pipelines = (
                    Pipeline::CenterNet {
                        size: input,
                        train: settings.augment,
                        flip: if settings.augment { 0.5 } else { 0.0 },
                        color: settings.augment && color_aug,
                    },
                    Pipeline::CenterNet {
                        size: input,
                        train: false,
                        flip: 0.0,
                        color: false,
                    },
                );
                let what = format!(
                    "CenterNet ({backbone} backbone, {} parameters, heatmap {}x{}, K {max_detections})",
                    net.num_params(),
                    input / net.output_stride(),
                    input / net.output_stride()
                );
                let det = Detector::CenterNet {
                    net: Box::new(net),
                    weights: LossWeights {
                        hm: hm_weight,
                        wh: wh_weight,
                        off: off_weight,
                    },
                    k: max_detections,
                };
                (det, pipelines, what)
            }
            DetectorSettings::Ssd {
                overlap,
                neg_pos,
                conf_thresh,
                nms_thresh,
                top_k,
            } => {
                let net = SsdNet::new(
                    &SsdConfig {
                        backbone,
                        in_channels: 3,
                        num_classes,
                        input,
                        seed: ctx.seed,
                        layer_impl: model.layers,
                    },
                    &|sizes: &[usize]| anchors_per_cell_for(sizes.len()),
                    &ctx.device,
                )
                .map_err(|e| invalid("model.backbone", e.to_string()))?;
                let spec = prior_spec(input, net.source_sizes())?;
                let priors = spec.priors();
                let pipelines = (
                    Pipeline::Ssd {
                        size: input,
                        train: settings.augment,
                    },
                    Pipeline::Ssd {
                        size: input,
                        train: false,
                    },
                );
                let what = format!(
                    "SSD{input} ({backbone} backbone, {} parameters, {} priors on maps {:?})",
                    net.num_params(),
                    priors.len(),
                    net.source_sizes()
                );
                let det = Detector::Ssd {
                    net: Box::new(net),
                    variance: spec.variance,
                    priors,
                    criterion: MultiBoxLoss {
                        threshold: overlap,
                        neg_pos,
                        variance: spec.variance,
                    },
                    spec: DetectSpec {
                        conf_thresh,
                        nms_thresh,
                        top_k,
                        keep_top_k: top_k,
                    },
                };
                (det, pipelines, what)
            }
        };
        let mut loaded = String::new();
        if let Some(p) = &model.pretrained {
            let path = p.source()?.local_file()?;
            let n = match &detector {
                Detector::CenterNet { net, .. } => net.load_backbone_pretrained(&path),
                Detector::Ssd { net, .. } => net.load_backbone_pretrained(&path),
            }
            .map_err(model_err)?;
            loaded = format!(", backbone: {n} tensors from {}", path.display());
        }
        let params = detector.weights().params();
        let invariant = params
            .params()
            .iter()
            .filter(|p| p.meta.followed_by_norm)
            .count();
        let describe = format!(
            "detection: {what}{loaded}; {num_classes} classes, input {input}x{input}, train {} ({} batches of {}), val {}; {} tensors, {invariant} scale-invariant",
            data.train.describe(),
            per_epoch,
            ctx.batch_size,
            data.val.describe(),
            params.len(),
        );
        Ok(Self {
            detector,
            num_classes,
            input,
            train_pipeline: pipelines.0,
            eval_pipeline: pipelines.1,
            seed: ctx.seed,
            batch_size: ctx.batch_size,
            order: Vec::new(),
            data,
            device: ctx.device.clone(),
            describe,
        })
    }

    /// Decoded boxes of a batch: `[x1, y1, x2, y2, score, label]` in input pixels per image.
    fn decode(&self, images: &Tensor) -> Result<Vec<Vec<[f32; 6]>>> {
        match &self.detector {
            Detector::CenterNet { net, k, .. } => {
                let out = net.forward_t(images, false).map_err(model_err)?;
                centernet_step::decode(&out, *k)
            }
            Detector::Ssd {
                net,
                priors,
                variance,
                spec,
                ..
            } => {
                let out = net.forward_t(images, false).map_err(model_err)?;
                ssd_step::decode(&out, priors, *variance, spec, self.input)
            }
        }
    }
}

impl Task for DetectionTask {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    fn param_sets(&self) -> Vec<ParamSet> {
        vec![ParamSet {
            name: "model".to_string(),
            params: self.detector.weights().params(),
        }]
    }

    fn buffers(&self) -> Result<Vec<(String, Tensor)>> {
        Ok(self.detector.weights().buffer_tensors())
    }

    fn load_buffers(&mut self, buffers: &[(String, Tensor)]) -> Result<()> {
        self.detector
            .weights()
            .load_buffer_tensors(buffers)
            .map_err(|e| TaskError::State(e.to_string()))
    }

    fn steps_per_epoch(&self) -> Option<usize> {
        Some(self.data.train.len() / self.batch_size)
    }

    fn begin_epoch(&mut self, epoch: usize) -> Result<()> {
        self.order = epoch_order(self.data.train.len(), self.seed, epoch);
        Ok(())
    }

    fn train_step(
        &mut self,
        index: StepIndex,
        optimizers: &mut dyn OptimizerStep,
    ) -> Result<StepOutput> {
        let start = index.batch * self.batch_size;
        let positions = self
            .order
            .get(start..start + self.batch_size)
            .ok_or_else(|| TaskError::Other(format!("batch {} is past the epoch", index.batch)))?
            .to_vec();
        let batch = assemble(
            &self.data.train,
            &positions,
            &self.train_pipeline,
            self.seed,
            index.epoch,
            &self.device,
        )?;
        let objects: usize = batch.samples.iter().map(|s| s.boxes.len()).sum();
        let (loss, mut scalars) = match &self.detector {
            Detector::CenterNet { net, weights, .. } => {
                let out = net.forward_t(&batch.images, true).map_err(model_err)?;
                let targets =
                    BatchTargets::new(&batch.samples, self.num_classes, self.input, &self.device)?;
                let l = centernet_step::loss(&out, &targets, *weights)?;
                let scalars = vec![
                    ("hm_loss".to_string(), l.hm),
                    ("wh_loss".to_string(), l.wh),
                    ("off_loss".to_string(), l.off),
                ];
                (l.total, scalars)
            }
            Detector::Ssd {
                net,
                priors,
                criterion,
                ..
            } => {
                let out = net.forward_t(&batch.images, true).map_err(model_err)?;
                let l = ssd_step::loss(&out, &batch.samples, self.input, priors, criterion)?;
                let scalars = vec![
                    ("loc_loss".to_string(), l.loc),
                    ("conf_loss".to_string(), l.conf),
                    ("positives".to_string(), l.positives as f64),
                ];
                (l.total, scalars)
            }
        };
        scalars.push(("objects".to_string(), objects as f64));
        let value = loss.to_dtype(candle_core::DType::F64)?.to_scalar::<f64>()?;
        optimizers.backward_step(0, &loss)?;
        Ok(StepOutput {
            loss: value,
            scalars,
        })
    }

    fn evaluate(&mut self) -> Result<EvalOutput> {
        let val = &self.data.val;
        let mut detections = Vec::new();
        let positions: Vec<usize> = (0..val.len()).collect();
        for chunk in positions.chunks(EVAL_BATCH) {
            let batch = assemble(val, chunk, &self.eval_pipeline, self.seed, 0, &self.device)?;
            let decoded = self.decode(&batch.images)?;
            for ((boxes, sample), &id) in decoded.iter().zip(&batch.samples).zip(&batch.image_ids) {
                detections.extend(results::to_coco(id, boxes, &sample.to_original, &val.coco));
            }
        }
        let metrics = results::metrics(&val.coco, &val.indices, &detections)?;
        Ok(EvalOutput {
            metrics,
            files: vec![
                (
                    DETECTIONS_FILE.to_string(),
                    results::detections_json(&detections),
                ),
                (
                    SOURCE_FILE.to_string(),
                    results::source_json(val.coco.annotation_file(), val.coco.image_dir()),
                ),
            ],
        })
    }
}
