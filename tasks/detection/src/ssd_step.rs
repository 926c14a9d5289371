//! SSD's training loss and detection on a batch (amdegroot/ssd.pytorch `train.py`: `loss =
//! loss_l + loss_c` of `MultiBoxLoss`; `ssd.py` test phase: softmax, then `Detect`): boxes in
//! input pixels are normalised by the input size for matching, detections are scaled back.

use adamp_datasets::coco::augment::DetectionSample;
use adamp_models::detection::SsdOutput;
use adamp_task_api::Result;
use candle_core::{DType, Tensor};

use crate::ssd::{detect, DetectSpec, MultiBoxLoss};

/// The two losses and their sum.
pub struct SsdLoss {
    /// `loss_l + loss_c`.
    pub total: Tensor,
    /// Smooth L1 over the positives, per positive.
    pub loc: f64,
    /// Cross entropy over positives and mined negatives, per positive.
    pub conf: f64,
    /// Matched priors in the batch.
    pub positives: usize,
}

/// Per image: ground truths as normalised `[x1, y1, x2, y2]` and their labels.
fn targets(samples: &[DetectionSample], input: usize) -> Vec<(Vec<[f32; 4]>, Vec<u32>)> {
    let s = input as f32;
    samples
        .iter()
        .map(|x| {
            (
                x.boxes
                    .iter()
                    .map(|b| [b[0] / s, b[1] / s, b[2] / s, b[3] / s])
                    .collect(),
                x.labels.clone(),
            )
        })
        .collect()
}

/// `MultiBoxLoss` of the batch.
pub fn loss(
    out: &SsdOutput,
    samples: &[DetectionSample],
    input: usize,
    priors: &[[f32; 4]],
    criterion: &MultiBoxLoss,
) -> Result<SsdLoss> {
    let m = criterion.loss(&out.loc, &out.conf, priors, &targets(samples, input))?;
    let value = |x: &Tensor| -> Result<f64> { Ok(x.to_dtype(DType::F64)?.to_scalar::<f64>()?) };
    Ok(SsdLoss {
        loc: value(&m.loc)?,
        conf: value(&m.conf)?,
        positives: m.positives,
        total: (&m.loc + &m.conf)?,
    })
}

/// `Detect` of every image: `[x1, y1, x2, y2, score, class]` in input pixels.
pub fn decode(
    out: &SsdOutput,
    priors: &[[f32; 4]],
    variance: [f64; 2],
    spec: &DetectSpec,
    input: usize,
) -> Result<Vec<Vec<[f32; 6]>>> {
    let probs = candle_nn::ops::softmax_last_dim(&out.conf.to_dtype(DType::F32)?)?;
    let (b, p, c1) = probs.dims3()?;
    let probs: Vec<f32> = probs.flatten_all()?.to_vec1()?;
    let loc: Vec<f32> = out.loc.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?;
    let s = input as f32;
    Ok((0..b)
        .map(|i| {
            detect(
                &loc[i * p * 4..(i + 1) * p * 4],
                &probs[i * p * c1..(i + 1) * p * c1],
                priors,
                variance,
                spec,
            )
            .into_iter()
            .map(|d| {
                [
                    d.bbox[0] * s,
                    d.bbox[1] * s,
                    d.bbox[2] * s,
                    d.bbox[3] * s,
                    d.score,
                    d.label as f32,
                ]
            })
            .collect()
        })
        .collect())
}
