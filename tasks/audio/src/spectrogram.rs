//! Chunks of samples → the `[B, n_bins, T]` power spectrogram batch the Harmonic CNN takes
//! (`HarmonicSTFT.spec`, torchaudio's `Spectrogram(power=2)`, computed by [`Stft`] on the CPU).

use adamp_task_api::{Result, TaskError};
use candle_core::{Device, Tensor};

use crate::stft::Stft;

/// The power spectrograms of `chunks` (all the same length), stacked: `[B, n_bins, frames]`.
pub fn spectrogram_batch(stft: &Stft, chunks: &[Vec<f32>], device: &Device) -> Result<Tensor> {
    let first = chunks
        .first()
        .ok_or_else(|| TaskError::Other("a batch of no chunks".into()))?;
    let frames = stft.n_frames(first.len()).ok_or_else(|| {
        TaskError::Other(format!(
            "a chunk of {} samples is too short for the STFT",
            first.len()
        ))
    })?;
    let bins = stft.n_bins();
    let mut data = Vec::with_capacity(chunks.len() * frames * bins);
    for c in chunks {
        if c.len() != first.len() {
            return Err(TaskError::Other(format!(
                "chunks of {} and {} samples in one batch",
                first.len(),
                c.len()
            )));
        }
        data.extend(
            stft.power_spectrogram(c)
                .map_err(|e| TaskError::Other(e.to_string()))?,
        );
    }
    // [B, frames, bins] → [B, bins, frames].
    let t = Tensor::from_vec(data, (chunks.len(), frames, bins), device)?;
    Ok(t.transpose(1, 2)?.contiguous()?)
}
