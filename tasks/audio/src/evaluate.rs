//! Scoring one split as the reference's `eval.py` / `solver.py` do: each clip cut into
//! `num_chunks` evenly spaced chunks (`ChunkMode::Eval`), the network in evaluation mode on every
//! chunk, the chunk outputs averaged per clip (sigmoid probabilities for the tagging datasets,
//! logits for keywords), then scikit-learn's metric over the clips, in percent:
//! macro ROC-AUC and PR-AUC (MagnaTagATune), accuracy (keywords), F1 averaged over samples with
//! a tag predicted when its mean probability is `> f1_threshold` (DCASE, `est_array > 0.1`).
//! `loss` is the mean over clips of the training loss of the clip's chunks against its label
//! (`solver.py`'s validation loss).
//!
//! Non-finite network outputs make every metric of the split NaN, which the training loop
//! records as a diverged run.

use adamp_datasets::audio::{cut_chunks, ChunkMode, ClipCache, ClipLabel, ListedClip};
use adamp_models::audio::HarmonicCnn;
use adamp_task_api::{Result, TaskError};
use candle_core::Device;

use crate::data::data_err;
use crate::dataset::{AudioDataset, Scoring};
use crate::metrics::{accuracy, f1_samples_binary, macro_pr_auc, macro_roc_auc};
use crate::spectrogram::spectrogram_batch;
use crate::stft::Stft;

/// Chunks per forward pass at evaluation.
pub const EVAL_BATCH_CHUNKS: usize = 16;

/// What a split is scored with.
pub struct EvalSetup<'a> {
    /// The network.
    pub model: &'a HarmonicCnn,
    /// The front end.
    pub stft: &'a Stft,
    /// The decoded clips.
    pub cache: &'a ClipCache,
    /// The dataset (scoring and metrics).
    pub dataset: AudioDataset,
    /// Samples per chunk.
    pub chunk_len: usize,
    /// Chunks per clip.
    pub num_chunks: usize,
    /// The run's seed (padding offsets of short clips).
    pub seed: u64,
    /// DCASE's threshold.
    pub f1_threshold: f32,
    /// The device.
    pub device: &'a Device,
}

/// `log(1 + e^{x})` in f64.
fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// The loss of one chunk's logits against `label`, as [`crate::loss`] computes it.
fn chunk_loss(logits: &[f32], label: &ClipLabel) -> f64 {
    match label {
        ClipLabel::Tags(t) => {
            logits
                .iter()
                .zip(t)
                .map(|(&x, &y)| softplus(x as f64) - x as f64 * y as f64)
                .sum::<f64>()
                / logits.len() as f64
        }
        ClipLabel::Class(c) => {
            let max = logits.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v)) as f64;
            let lse = max
                + logits
                    .iter()
                    .map(|&v| (v as f64 - max).exp())
                    .sum::<f64>()
                    .ln();
            lse - logits[*c] as f64
        }
    }
}

/// The metrics of `clips` (names without the split prefix, in
/// [`AudioDataset::split_metrics`]'s order).
pub fn evaluate_split(setup: &EvalSetup<'_>, clips: &[ListedClip]) -> Result<Vec<(String, f64)>> {
    let tags = setup.dataset.scoring() == Scoring::Tags;
    let per_forward = (EVAL_BATCH_CHUNKS / setup.num_chunks).max(1);
    let mut averaged: Vec<Vec<f32>> = Vec::with_capacity(clips.len());
    let mut loss_sum = 0.0f64;
    for (g, group) in clips.chunks(per_forward).enumerate() {
        let mut chunks = Vec::with_capacity(group.len() * setup.num_chunks);
        for (i, clip) in group.iter().enumerate() {
            let index = (g * per_forward + i) as u64;
            let samples = adamp_datasets::audio::load_clip(
                &clip.path,
                adamp_datasets::audio::DEFAULT_TARGET_RATE,
                Some(setup.cache),
            )
            .map_err(data_err)?
            .samples;
            let mode = ChunkMode::Eval {
                num_chunks: setup.num_chunks,
                seed: setup.seed,
            };
            chunks.extend(cut_chunks(&samples, setup.chunk_len, mode, index).map_err(data_err)?);
        }
        let spec = spectrogram_batch(setup.stft, &chunks, setup.device)?;
        let logits: Vec<Vec<f32>> = setup
            .model
            .logits_t(&spec, false)
            .map_err(|e| TaskError::Other(e.to_string()))?
            .to_vec2()?;
        for (i, clip) in group.iter().enumerate() {
            let rows = &logits[i * setup.num_chunks..(i + 1) * setup.num_chunks];
            let width = rows[0].len();
            let mut mean = vec![0.0f64; width];
            let mut clip_loss = 0.0;
            for row in rows {
                clip_loss += chunk_loss(row, &clip.label);
                for (m, &x) in mean.iter_mut().zip(row) {
                    *m += if tags {
                        1.0 / (1.0 + (-(x as f64)).exp())
                    } else {
                        x as f64
                    };
                }
            }
            loss_sum += clip_loss / rows.len() as f64;
            averaged.push(
                mean.iter()
                    .map(|m| (m / rows.len() as f64) as f32)
                    .collect(),
            );
        }
    }
    let loss = loss_sum / clips.len() as f64;
    let names = setup.dataset.split_metrics();
    if !loss.is_finite() || averaged.iter().flatten().any(|v| !v.is_finite()) {
        return Ok(names.iter().map(|n| (n.to_string(), f64::NAN)).collect());
    }
    let metric_err = |e: crate::metrics::MetricError| TaskError::Other(e.to_string());
    let mut out = Vec::with_capacity(names.len());
    match setup.dataset {
        AudioDataset::Mtat => {
            let truth = tag_truth(clips);
            let roc = macro_roc_auc(&truth, &averaged).map_err(metric_err)?;
            if roc.tags_used == 0 {
                return Err(TaskError::Other(format!(
                    "no tag of the {} evaluation clips has both positive and negative clips: \
                     ROC-AUC and PR-AUC are undefined",
                    clips.len()
                )));
            }
            let pr = macro_pr_auc(&truth, &averaged).map_err(metric_err)?;
            out.push(("roc_auc".to_string(), 100.0 * roc.mean));
            out.push(("pr_auc".to_string(), 100.0 * pr.mean));
        }
        AudioDataset::SpeechCommands => {
            let labels: Vec<usize> = clips.iter().filter_map(|c| c.label.class()).collect();
            let predicted: Vec<usize> = averaged.iter().map(|row| argmax(row)).collect();
            out.push((
                "acc".to_string(),
                100.0 * accuracy(&labels, &predicted).map_err(metric_err)?,
            ));
        }
        AudioDataset::Dcase2017 => {
            let truth = tag_truth(clips);
            let predicted: Vec<Vec<bool>> = averaged
                .iter()
                .map(|row| row.iter().map(|&p| p > setup.f1_threshold).collect())
                .collect();
            out.push((
                "f1".to_string(),
                100.0 * f1_samples_binary(&truth, &predicted).map_err(metric_err)?,
            ));
        }
    }
    out.push(("loss".to_string(), loss));
    Ok(out)
}

/// The multi-hot labels of `clips` as booleans.
fn tag_truth(clips: &[ListedClip]) -> Vec<Vec<bool>> {
    clips
        .iter()
        .map(|c| {
            c.label
                .tags()
                .unwrap_or_default()
                .iter()
                .map(|&v| v > 0.5)
                .collect()
        })
        .collect()
}

/// The first index of the largest value (`np.argmax`).
fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_losses_match_the_tensor_losses() {
        let dev = Device::Cpu;
        let x = [2.0f32, -1.0, 0.5];
        let y = [1.0f32, 0.0, 1.0];
        let t = crate::loss::bce_with_logits(
            &candle_core::Tensor::new(&[x], &dev).unwrap(),
            &candle_core::Tensor::new(&[y], &dev).unwrap(),
        )
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
        let r = chunk_loss(&x, &ClipLabel::Tags(y.to_vec()));
        assert!((t as f64 - r).abs() < 1e-6, "{t} vs {r}");
        let c = crate::loss::cross_entropy(
            &candle_core::Tensor::new(&[x], &dev).unwrap(),
            &candle_core::Tensor::new(&[1u32], &dev).unwrap(),
        )
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
        let r = chunk_loss(&x, &ClipLabel::Class(1));
        assert!((c as f64 - r).abs() < 1e-6, "{c} vs {r}");
        assert_eq!(argmax(&[0.1, 0.7, 0.7]), 1);
    }
}
