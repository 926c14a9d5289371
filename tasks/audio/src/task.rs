//! The audio task: the Harmonic CNN on chunked clips, trained as
//! minzwon/data-driven-harmonic-filters `training/solver.py` and evaluated as its `eval.py`
//! (AdamP, arXiv 2006.08217, audio classification table).
//!
//! Per step ([`Task::train_step`]): the clips [`EpochOrder::batch`] names, one chunk of each at
//! a start drawn from `(seed, epoch, clip)` (`ChunkMode::Train`; short clips zero-padded), the
//! power spectrograms, the head's dropout masks drawn from `(seed, step)`, the loss (BCE on the
//! sigmoid outputs, or cross-entropy), one optimizer step. Per evaluation: the validation and the
//! test split scored ([`evaluate_split`]), `bw_q`, and `filterbank.csv` (plus
//! `skipped_clips.txt` when clips were left out).

use adamp_datasets::audio::{cut_chunks, AudioSplit, ChunkMode, ClipLabel, ListedClip};
use adamp_models::audio::HarmonicCnn;
use adamp_optim::ParamList;
use adamp_task_api::factory::invalid;
use adamp_task_api::{
    EvalOutput, OptimizerStep, ParamSet, Result, StepIndex, StepOutput, Task, TaskContext,
    TaskError,
};
use candle_core::{DType, Device, Tensor};

use crate::chunking::{chunk_length, ChunkLength};
use crate::data::{self, data_err, AudioData};
use crate::data_settings::AudioDataSettings;
use crate::dataset::{AudioDataset, Scoring};
use crate::describe::describe;
use crate::evaluate::{evaluate_split, EvalSetup};
use crate::filterbank::{bw_q, filterbank_csv, FILTERBANK_FILE};
use crate::loss::{bce_with_logits, cross_entropy};
use crate::model_settings::AudioModelSettings;
use crate::order::EpochOrder;
use crate::settings::AudioSettings;
use crate::spectrogram::spectrogram_batch;
use crate::stft::Stft;

/// The file listing the clips left out (`path: reason` per line), written when there are some.
pub const SKIPPED_FILE: &str = "skipped_clips.txt";

/// The metrics of [`Task::evaluate`] for `dataset` (recorded as `eval_<name>`).
pub fn metric_names(dataset: AudioDataset) -> Vec<String> {
    let mut out = Vec::new();
    for split in ["valid", "test"] {
        for m in dataset.split_metrics() {
            out.push(format!("{split}_{m}"));
        }
    }
    out.push("bw_q".to_string());
    out
}

fn model_err(e: adamp_models::ModelError) -> TaskError {
    TaskError::Other(e.to_string())
}

/// The dropout seed of step `step`: the run's seed mixed with the step (splitmix64).
pub fn dropout_seed(seed: u64, step: usize) -> u64 {
    let mut z = seed ^ (step as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The Harmonic CNN on one audio dataset, one optimizer.
pub struct AudioTask {
    dataset: AudioDataset,
    model: HarmonicCnn,
    params: ParamList,
    stft: Stft,
    data: AudioData,
    train: Vec<ListedClip>,
    valid: Vec<ListedClip>,
    test: Vec<ListedClip>,
    order: EpochOrder,
    chunk: ChunkLength,
    eval_chunks: usize,
    f1_threshold: f32,
    seed: u64,
    device: Device,
    describe: String,
}

impl AudioTask {
    /// Opens the data and builds the model; every check that needs the data or the batch size
    /// runs here, before training.
    pub fn new(
        settings: &AudioSettings,
        model_settings: &AudioModelSettings,
        data_settings: &AudioDataSettings,
        ctx: &TaskContext,
    ) -> Result<Self> {
        settings.validate()?;
        model_settings.validate()?;
        data_settings.validate()?;
        let dataset = data_settings.dataset;
        let stft = model_settings.stft()?;
        let chunk = chunk_length(settings.input_length, dataset, &stft)?;
        let data = data::open(data_settings)?;
        let train = data.split(AudioSplit::Train);
        let valid = data.split(AudioSplit::Valid);
        let test = data.split(AudioSplit::Test);
        for (name, clips) in [
            ("training", &train),
            ("validation", &valid),
            ("test", &test),
        ] {
            if clips.is_empty() {
                return Err(TaskError::Other(format!(
                    "{}: the {name} split holds no clips ({} listed, {} skipped)",
                    data.source,
                    data.listing.clips.len(),
                    data.listing.skipped.len()
                )));
            }
        }
        let order = EpochOrder {
            clips: train.len(),
            batch: ctx.batch_size,
            seed: ctx.seed,
        };
        if order.batches() == 0 {
            return Err(invalid(
                "training.batch_size",
                format!(
                    "at most the {} training clips of {} (whole batches only, as the reference's \
                     drop_last), got {}",
                    train.len(),
                    data.source,
                    ctx.batch_size
                ),
            ));
        }
        let classes = data.listing.classes.len();
        let cfg = model_settings.config(dataset.variant(), classes, ctx.seed);
        let model =
            HarmonicCnn::new(&cfg, &ctx.device).map_err(|e| invalid("model", e.to_string()))?;
        let params = model.params();
        let eval_chunks = settings.eval_chunks.unwrap_or(dataset.eval_chunks());
        let describe = describe(&crate::describe::Summary {
            dataset,
            model: &model,
            data: &data,
            counts: [train.len(), valid.len(), test.len()],
            chunk,
            eval_chunks,
            batch: ctx.batch_size,
            steps_per_epoch: order.batches(),
        });
        Ok(Self {
            dataset,
            params,
            model,
            stft,
            data,
            train,
            valid,
            test,
            order,
            chunk,
            eval_chunks,
            f1_threshold: settings.f1_threshold as f32,
            seed: ctx.seed,
            device: ctx.device.clone(),
            describe,
        })
    }

    /// The network.
    pub fn model(&self) -> &HarmonicCnn {
        &self.model
    }

    /// The data (listing with its skips, the clip cache).
    pub fn data(&self) -> &AudioData {
        &self.data
    }

    /// The run's chunk length.
    pub fn chunk(&self) -> ChunkLength {
        self.chunk
    }

    /// Chunks averaged per clip at evaluation.
    pub fn eval_chunks(&self) -> usize {
        self.eval_chunks
    }

    /// The training order.
    pub fn order(&self) -> EpochOrder {
        self.order
    }

    /// The `[B, n_bins, T]` spectrograms and the labels of batch `index`.
    fn batch(&self, index: StepIndex) -> Result<(Tensor, Tensor)> {
        let ids = self.order.batch(index.epoch, index.batch);
        let mut chunks = Vec::with_capacity(ids.len());
        for &id in &ids {
            let clip = &self.train[id];
            let samples = adamp_datasets::audio::load_clip(
                &clip.path,
                adamp_datasets::audio::DEFAULT_TARGET_RATE,
                Some(&self.data.cache),
            )
            .map_err(data_err)?
            .samples;
            let mode = ChunkMode::Train {
                seed: self.seed,
                epoch: index.epoch as u64,
            };
            let mut cut =
                cut_chunks(&samples, self.chunk.samples, mode, id as u64).map_err(data_err)?;
            chunks.push(cut.remove(0));
        }
        let spec = spectrogram_batch(&self.stft, &chunks, &self.device)?;
        let labels = match self.dataset.scoring() {
            Scoring::Class => {
                let c: Vec<u32> = ids
                    .iter()
                    .map(|&id| self.train[id].label.class().unwrap_or(0) as u32)
                    .collect();
                Tensor::from_vec(c, ids.len(), &self.device)?
            }
            Scoring::Tags => {
                let width = self.data.listing.classes.len();
                let mut t = Vec::with_capacity(ids.len() * width);
                for &id in &ids {
                    match &self.train[id].label {
                        ClipLabel::Tags(v) => t.extend_from_slice(v),
                        ClipLabel::Class(_) => {
                            return Err(TaskError::Other(
                                "a single-class label in a tagging dataset".into(),
                            ))
                        }
                    }
                }
                Tensor::from_vec(t, (ids.len(), width), &self.device)?
            }
        };
        Ok((spec, labels))
    }
}

impl Task for AudioTask {
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
        Ok(self.model.weights().buffer_tensors())
    }

    fn load_buffers(&mut self, buffers: &[(String, Tensor)]) -> Result<()> {
        self.model
            .weights()
            .load_buffer_tensors(buffers)
            .map_err(|e| TaskError::State(e.to_string()))
    }

    fn steps_per_epoch(&self) -> Option<usize> {
        Some(self.order.batches())
    }

    fn train_step(
        &mut self,
        index: StepIndex,
        optimizers: &mut dyn OptimizerStep,
    ) -> Result<StepOutput> {
        let (spec, labels) = self.batch(index)?;
        self.model
            .reseed_dropout(dropout_seed(self.seed, index.step));
        let logits = self.model.logits_t(&spec, true).map_err(model_err)?;
        let loss = match self.dataset.scoring() {
            Scoring::Tags => bce_with_logits(&logits, &labels)?,
            Scoring::Class => cross_entropy(&logits, &labels)?,
        };
        let value = loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        optimizers.backward_step(0, &loss)?;
        Ok(StepOutput {
            loss: value,
            scalars: Vec::new(),
        })
    }

    fn evaluate(&mut self) -> Result<EvalOutput> {
        let setup = EvalSetup {
            model: &self.model,
            stft: &self.stft,
            cache: &self.data.cache,
            dataset: self.dataset,
            chunk_len: self.chunk.samples,
            num_chunks: self.eval_chunks,
            seed: self.seed,
            f1_threshold: self.f1_threshold,
            device: &self.device,
        };
        let mut metrics = Vec::new();
        for (split, clips) in [("valid", &self.valid), ("test", &self.test)] {
            for (name, v) in evaluate_split(&setup, clips)? {
                metrics.push((format!("{split}_{name}"), v));
            }
        }
        let fb = self.model.filterbank();
        metrics.push(("bw_q".to_string(), bw_q(fb)?));
        let mut files = vec![(FILTERBANK_FILE.to_string(), filterbank_csv(fb)?)];
        if !self.data.listing.skipped.is_empty() {
            files.push((
                SKIPPED_FILE.to_string(),
                self.data.listing.skip_report().into_bytes(),
            ));
        }
        Ok(EvalOutput { metrics, files })
    }
}
