//! One keyword clip as Speech Commands stores it: 16-bit mono WAV, 16 kHz, 1 s (16,000 frames).
//!
//! Every source file (espeak-ng's 22.05 kHz output, the asterisk 8 kHz recordings) goes through
//! the same steps, so training and test clips are cut alike:
//! 1. decode ([`crate::audio::decode_file`]) and resample to 16 kHz
//!    ([`crate::audio::resample::resample`]);
//! 2. trim the silence at both ends: keep from the first to the last 10 ms frame whose RMS is
//!    within [`TRIM_DB`] dB of the loudest frame's;
//! 3. fit to 1 s: a shorter word is centred between zeros; a longer one keeps the 1 s window of
//!    most energy (the earliest among equals);
//! 4. write with `hound`, each sample `round(x * 32768)` clamped to the 16-bit range (the
//!    inverse of the decoder's scaling).

use std::path::Path;

use crate::audio::{decode_file, resample};
use crate::error::{DatasetError, Result};

/// The clips' sample rate (Speech Commands').
pub const CLIP_RATE: u32 = 16_000;
/// The clips' length in frames: 1 s.
pub const CLIP_FRAMES: usize = 16_000;
/// The trimming frame: 10 ms at 16 kHz.
pub const TRIM_FRAME: usize = 160;
/// Frames quieter than this (dB below the loudest frame) at either end are trimmed.
pub const TRIM_DB: f64 = 40.0;

/// Decodes `path`, resamples it to [`CLIP_RATE`] and fits it to [`CLIP_FRAMES`] (see the
/// module documentation). A file without sound is an [`DatasetError::AudioDecode`] naming it.
pub fn prepare_clip(path: &Path) -> Result<Vec<f32>> {
    let decoded = decode_file(path)?;
    let samples = resample(&decoded.samples, decoded.sample_rate, CLIP_RATE)?;
    fit_clip(&samples, CLIP_FRAMES)
        .ok_or_else(|| DatasetError::audio_decode(path, "the recording is silent"))
}

/// Trims the silence at both ends of `samples` and fits the rest to `len` frames; `None` when
/// every sample is zero.
pub fn fit_clip(samples: &[f32], len: usize) -> Option<Vec<f32>> {
    let (start, end) = sounding_span(samples)?;
    let word = &samples[start..end];
    if word.len() > len {
        let from = loudest_window(word, len);
        return Some(word[from..from + len].to_vec());
    }
    let mut out = vec![0.0; len];
    let pad = (len - word.len()) / 2;
    out[pad..pad + word.len()].copy_from_slice(word);
    Some(out)
}

/// `[start, end)` from the first to the last [`TRIM_FRAME`] frame within [`TRIM_DB`] of the
/// loudest frame (in energy); `None` when all is zero.
fn sounding_span(samples: &[f32]) -> Option<(usize, usize)> {
    let energy: Vec<f64> = samples
        .chunks(TRIM_FRAME)
        .map(|f| f.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / f.len() as f64)
        .collect();
    let max = energy.iter().copied().fold(0.0, f64::max);
    if max <= 0.0 {
        return None;
    }
    let floor = max * 10f64.powf(-TRIM_DB / 10.0);
    let first = energy.iter().position(|&e| e >= floor)?;
    let last = energy.iter().rposition(|&e| e >= floor)?;
    Some((
        first * TRIM_FRAME,
        ((last + 1) * TRIM_FRAME).min(samples.len()),
    ))
}

/// The start of the `len`-frame window of `x` with the most energy (the earliest among equals).
fn loudest_window(x: &[f32], len: usize) -> usize {
    let mut prefix = Vec::with_capacity(x.len() + 1);
    prefix.push(0.0f64);
    for &s in x {
        prefix.push(prefix[prefix.len() - 1] + f64::from(s).powi(2));
    }
    let mut best = (0, f64::MIN);
    for from in 0..=x.len() - len {
        let e = prefix[from + len] - prefix[from];
        if e > best.1 {
            best = (from, e);
        }
    }
    best.0
}
