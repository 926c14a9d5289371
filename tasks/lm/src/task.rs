//! The language-modelling task: Transformer-XL on a WikiText stream, trained as
//! kimiyoung/transformer-xl `pytorch/train.py` and evaluated as `pytorch/eval.py`
//! (AdamP, arXiv 2006.08217, Section 4 language modelling).
//!
//! Per step ([`Task::train_step`]): the segment [`StreamPosition::segment`] names, the memories
//! of the previous step (empty at the start of each pass over the stream), dropout masks drawn
//! from [`dropout_seed`]`(seed, step)`, loss = mean NLL of the segment's tokens, gradients
//! clipped to a global norm of `task.clip` ([`clip_grad_norm`]), one optimizer step. Per
//! evaluation: perplexity of the whole validation and test streams ([`stream_loss`]) and the
//! vocabulary as `tokenizer.json`.

use adamp_datasets::wikitext::{OrderedBatches, Vocab};
use adamp_datasets::DatasetError;
use adamp_models::lm::{Mems, SegmentSpec, TransformerXl};
use adamp_optim::ParamList;
use adamp_task_api::factory::invalid;
use adamp_task_api::{
    EvalOutput, OptimizerStep, ParamSet, Result, StepIndex, StepOutput, Task, TaskContext,
    TaskError,
};
use candle_core::{DType, Device, Tensor};

use crate::clip::clip_grad_norm;
use crate::data::{self, data_err};
use crate::data_settings::LmDataSettings;
use crate::fingerprint::VocabFingerprint;
use crate::mem_buffers::MemLayout;
use crate::model_settings::LmModelSettings;
use crate::perplexity::stream_loss;
use crate::settings::LmSettings;
use crate::stream::{dropout_seed, StreamPosition};

/// The file each evaluation leaves in the run folder: the vocabulary as a `tokenizers`
/// WordLevel tokenizer (`Vocab::save_tokenizer`'s content).
pub const TOKENIZER_FILE: &str = "tokenizer.json";

/// The metrics of [`Task::evaluate`] (recorded as `eval_<name>`).
pub const METRICS: [&str; 4] = ["valid_ppl", "test_ppl", "valid_loss", "test_loss"];

fn model_err(e: adamp_models::ModelError) -> TaskError {
    TaskError::Other(e.to_string())
}

/// Transformer-XL language modelling with one optimizer.
pub struct LmTask {
    model: TransformerXl,
    params: ParamList,
    train: OrderedBatches,
    valid: OrderedBatches,
    test: OrderedBatches,
    position: StreamPosition,
    train_spec: SegmentSpec,
    eval_spec: SegmentSpec,
    clip: f64,
    /// The memories after the last step taken.
    mems: Mems,
    layout: MemLayout,
    fingerprint: VocabFingerprint,
    tokenizer_json: Vec<u8>,
    source: String,
    seed: u64,
    device: Device,
    describe: String,
}

/// The ordered batches of one split (`OrderedBatches::new` refuses a stream too short for the
/// batch or the segment), with errors naming the config keys `keys = (batch, tgt_len)`.
fn batches(
    split: &str,
    ids: &[u32],
    batch: usize,
    tgt_len: usize,
    keys: (&str, &str),
) -> Result<OrderedBatches> {
    OrderedBatches::new(split, ids, batch, tgt_len, 0).map_err(|e| {
        let key = match &e {
            DatasetError::Config { name, .. } if name == "tgt_len" => keys.1,
            _ => keys.0,
        };
        invalid(key, e.to_string())
    })
}

impl LmTask {
    /// Opens the data and builds the model; every check that needs the data or the batch size
    /// runs here, before training.
    pub fn new(
        settings: &LmSettings,
        model_settings: &LmModelSettings,
        data_settings: &LmDataSettings,
        ctx: &TaskContext,
    ) -> Result<Self> {
        settings.validate()?;
        model_settings.validate()?;
        let corpus = data::open(data_settings)?;
        Self::with_corpus(settings, model_settings, corpus, ctx)
    }

    /// [`LmTask::new`] on a corpus already read.
    pub fn with_corpus(
        settings: &LmSettings,
        model_settings: &LmModelSettings,
        corpus: data::Corpus,
        ctx: &TaskContext,
    ) -> Result<Self> {
        let text = &corpus.text;
        let vocab: &Vocab = &text.vocab;
        model_settings.check_vocab(vocab.len())?;
        let train = batches(
            "train",
            &text.train,
            ctx.batch_size,
            settings.tgt_len,
            ("training.batch_size", "tgt_len"),
        )?;
        let eval = &settings.eval;
        let valid = batches(
            "valid",
            &text.valid,
            eval.batch_size,
            eval.tgt_len,
            ("eval.batch_size", "eval.tgt_len"),
        )?;
        let test = batches(
            "test",
            &text.test,
            eval.batch_size,
            eval.tgt_len,
            ("eval.batch_size", "eval.tgt_len"),
        )?;
        let cfg = model_settings.config(vocab.len(), ctx.seed);
        cfg.validate()
            .map_err(|e| invalid("model", e.to_string()))?;
        let model = TransformerXl::new(&cfg, &ctx.device).map_err(model_err)?;
        let params = model.weights().params();
        let mems = model
            .empty_mems(ctx.batch_size, &ctx.device)
            .map_err(model_err)?;
        let tokenizer_json = vocab
            .to_tokenizer()
            .map_err(data_err)?
            .to_string(true)
            .map_err(|e| TaskError::Other(format!("writing {TOKENIZER_FILE}: {e}")))?
            .into_bytes();
        let invariant = params
            .params()
            .iter()
            .filter(|p| p.meta.followed_by_norm)
            .count();
        let position = StreamPosition {
            n_batches: train.n_batches(),
        };
        let describe = format!(
            "language model: Transformer-XL ({} layers, d_model {}, {} heads of {}, d_inner {}, \
             cutoffs {:?}, {}weight norm, {} parameters) on {} ({} symbols); train {} of {} ids \
             in {} segments of {} x {} (mem_len {}, clip {}), valid {} / test {} ids in \
             batches of {} x {} (mem_len {}, clamp_len {}, same_length {}); {} tensors, \
             {invariant} scale-invariant",
            cfg.n_layer,
            cfg.d_model,
            cfg.n_head,
            cfg.d_head,
            cfg.d_inner,
            cfg.cutoffs,
            if cfg.weight_norm { "" } else { "no " },
            model.num_params(),
            corpus.source,
            vocab.len(),
            text.train.len(),
            corpus.train_total,
            position.n_batches,
            settings.tgt_len,
            ctx.batch_size,
            settings.mem_len,
            settings.clip,
            text.valid.len(),
            text.test.len(),
            eval.tgt_len,
            eval.batch_size,
            eval.mem_len,
            eval.clamp_len,
            eval.same_length,
            params.len(),
        );
        Ok(Self {
            layout: MemLayout {
                layers: cfg.n_layer + 1,
                mem_len: settings.mem_len,
                batch: ctx.batch_size,
                d_model: cfg.d_model,
            },
            train_spec: SegmentSpec {
                mem_len: settings.mem_len,
                ext_len: 0,
                clamp_len: 0,
                same_length: false,
            },
            eval_spec: SegmentSpec {
                mem_len: eval.mem_len,
                ext_len: 0,
                clamp_len: eval.clamp_len,
                same_length: eval.same_length,
            },
            fingerprint: VocabFingerprint::of(vocab),
            clip: settings.clip,
            source: corpus.source.clone(),
            model,
            params,
            train,
            valid,
            test,
            position,
            mems,
            tokenizer_json,
            seed: ctx.seed,
            device: ctx.device.clone(),
            describe,
        })
    }

    /// The model.
    pub fn model(&self) -> &TransformerXl {
        &self.model
    }

    /// The training memories after the last step.
    pub fn mems(&self) -> &Mems {
        &self.mems
    }

    /// The step → segment mapping of the training stream.
    pub fn position(&self) -> StreamPosition {
        self.position
    }

    /// The training stream's batches.
    pub fn train_batches(&self) -> &OrderedBatches {
        &self.train
    }

    /// The validation and test streams' batches.
    pub fn eval_batches(&self) -> (&OrderedBatches, &OrderedBatches) {
        (&self.valid, &self.test)
    }

    /// How training segments are run.
    pub fn train_spec(&self) -> SegmentSpec {
        self.train_spec
    }

    /// How evaluation segments are run.
    pub fn eval_spec(&self) -> SegmentSpec {
        self.eval_spec
    }
}

impl Task for LmTask {
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
        let mut out = self.fingerprint.buffers(&self.device)?;
        out.extend(self.layout.to_buffers(&self.mems, &self.device)?);
        Ok(out)
    }

    fn load_buffers(&mut self, buffers: &[(String, Tensor)]) -> Result<()> {
        self.fingerprint.check_saved(buffers, &self.source)?;
        let empty = self
            .model
            .empty_mems(self.layout.batch, &self.device)
            .map_err(model_err)?;
        self.mems = self.layout.from_buffers(buffers, empty)?;
        Ok(())
    }

    fn steps_per_epoch(&self) -> Option<usize> {
        None
    }

    fn train_step(
        &mut self,
        index: StepIndex,
        optimizers: &mut dyn OptimizerStep,
    ) -> Result<StepOutput> {
        let k = self.position.segment(index.step);
        if k == 0 {
            self.mems = self
                .model
                .empty_mems(self.layout.batch, &self.device)
                .map_err(model_err)?;
        }
        let seg = self.train.segment(k).map_err(data_err)?;
        let data = seg.data_tensor(&self.device).map_err(data_err)?;
        let target = seg.target_tensor(&self.device).map_err(data_err)?;
        let out = self
            .model
            .forward(
                &data,
                &target,
                &self.mems,
                &self.train_spec,
                Some(dropout_seed(self.seed, index.step)),
            )
            .map_err(model_err)?;
        let loss = out.nll.mean_all()?;
        let value = loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        let mut grads = loss.backward()?;
        let grad_norm = clip_grad_norm(&mut grads, &self.params, self.clip)?;
        optimizers.step_with_grads(0, &grads)?;
        self.mems = out.mems;
        Ok(StepOutput {
            loss: value,
            scalars: vec![
                ("ppl".to_string(), value.exp()),
                ("grad_norm".to_string(), grad_norm),
                ("segment".to_string(), k as f64),
            ],
        })
    }

    fn evaluate(&mut self) -> Result<EvalOutput> {
        let valid = stream_loss(&self.model, &self.valid, &self.eval_spec, &self.device)?;
        let test = stream_loss(&self.model, &self.test, &self.eval_spec, &self.device)?;
        Ok(EvalOutput {
            metrics: vec![
                ("valid_ppl".to_string(), valid.perplexity()),
                ("test_ppl".to_string(), test.perplexity()),
                ("valid_loss".to_string(), valid.mean_nll),
                ("test_loss".to_string(), test.mean_nll),
            ],
            files: vec![(TOKENIZER_FILE.to_string(), self.tokenizer_json.clone())],
        })
    }
}
