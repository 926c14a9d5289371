//! Perplexity of a whole stream, as kimiyoung/transformer-xl `pytorch/eval.py` `evaluate()`:
//! the model in evaluation mode (no dropout), memories empty at the stream's start and carried
//! from segment to segment, `total_loss += seq_len * loss.mean()` and
//! `total_len += seq_len` over every segment of the `LMOrderedIterator`, so the result is the
//! mean negative log-likelihood of every target token of the stream; perplexity is its `exp`.

use adamp_datasets::wikitext::OrderedBatches;
use adamp_models::lm::{SegmentSpec, TransformerXl};
use adamp_task_api::{Result, TaskError};
use candle_core::{DType, Device};

/// The mean token NLL of one stream and how many target tokens it covered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StreamLoss {
    /// Mean negative log-likelihood (natural log) per target token.
    pub mean_nll: f64,
    /// Target tokens scored.
    pub tokens: usize,
}

impl StreamLoss {
    /// `exp(mean_nll)`.
    pub fn perplexity(&self) -> f64 {
        self.mean_nll.exp()
    }
}

/// Scores every segment of `batches` in order (see the module docs).
pub fn stream_loss(
    model: &TransformerXl,
    batches: &OrderedBatches,
    spec: &SegmentSpec,
    device: &Device,
) -> Result<StreamLoss> {
    let data_err = |e: adamp_datasets::DatasetError| TaskError::Other(e.to_string());
    let model_err = |e: adamp_models::ModelError| TaskError::Other(e.to_string());
    let mut mems = model
        .empty_mems(batches.batch(), device)
        .map_err(model_err)?;
    let mut total = 0.0f64;
    let mut tokens = 0usize;
    for k in 0..batches.n_batches() {
        let seg = batches.segment(k).map_err(data_err)?;
        let data = seg.data_tensor(device).map_err(data_err)?;
        let target = seg.target_tensor(device).map_err(data_err)?;
        let out = model
            .forward(&data, &target, &mems, spec, None)
            .map_err(model_err)?;
        total += out
            .nll
            .detach()
            .to_dtype(DType::F64)?
            .sum_all()?
            .to_scalar::<f64>()?;
        tokens += seg.seq_len * seg.batch;
        mems = out.mems;
    }
    if tokens == 0 {
        return Err(TaskError::Other(
            "the evaluation stream has no target token".into(),
        ));
    }
    Ok(StreamLoss {
        mean_nll: total / tokens as f64,
        tokens,
    })
}
