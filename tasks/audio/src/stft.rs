//! The power spectrogram of the Harmonic CNN front end.
//!
//! Reference: minzwon/data-driven-harmonic-filters, `training/modules.py`, `HarmonicConv`:
//! `torchaudio.transforms.Spectrogram(n_fft=513, win_length=None, hop_length=None, pad=0,
//! window_fn=torch.hann_window, power=2, normalized=False)` at `sample_rate=16000`
//! (`training/main.py` defaults; `--n_fft` is declared `type=float` there, default 513).
//! torchaudio's documented defaults (<https://pytorch.org/audio/master/generated/torchaudio.transforms.Spectrogram.html>)
//! make that `win_length = n_fft = 513`, `hop_length = win_length // 2 = 256`, `center=True`,
//! `pad_mode="reflect"`, `onesided=True`, so `n_fft / 2 + 1 = 257` bins; `torch.hann_window(513)`
//! is periodic. [`Stft::harmonic_cnn`] builds exactly that.
//!
//! Verified: against a direct DFT (float64) and hand cases (`tests/stft_reference.rs`).
//! Unverified: the output of torchaudio itself (torch is not in the fixture stack), and whether
//! the 2020-era torchaudio the reference ran had the same defaults as the documentation above
//! (read, not run). The reference's later stages (the harmonic triangular filterbank,
//! `AmplitudeToDB`) are not here yet.

use std::sync::Arc;

use realfft::{RealFftPlanner, RealToComplex};

/// Why a spectrogram could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StftError {
    /// `n_fft` or `hop` is zero.
    #[error("n_fft and hop must be positive (n_fft {n_fft}, hop {hop})")]
    ZeroSize { n_fft: usize, hop: usize },
    /// The signal is too short: with `center`, reflect padding by `n_fft / 2` needs more than
    /// `n_fft / 2` samples (torch raises too); without it, at least `n_fft` samples.
    #[error("signal of {len} samples is too short (needs at least {min})")]
    TooShort { len: usize, min: usize },
    /// The FFT backend failed (a buffer of the wrong length; not expected).
    #[error("FFT failed: {0}")]
    Fft(String),
}

/// A short-time Fourier transform with a periodic Hann window of length `n_fft`, returning the
/// power `|X|²` of the one-sided spectrum: `torch.stft(x, n_fft, hop, window=hann_window(n_fft),
/// center, pad_mode="reflect", onesided=True).abs() ** 2`.
#[derive(Clone)]
pub struct Stft {
    n_fft: usize,
    hop: usize,
    center: bool,
    window: Vec<f32>,
    fft: Arc<dyn RealToComplex<f32>>,
}

impl std::fmt::Debug for Stft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stft")
            .field("n_fft", &self.n_fft)
            .field("hop", &self.hop)
            .field("center", &self.center)
            .finish_non_exhaustive()
    }
}

/// `torch.hann_window(n, periodic=True)`: `0.5 − 0.5·cos(2πk/n)`, `k = 0..n`.
pub fn hann_periodic(n: usize) -> Vec<f32> {
    (0..n)
        .map(|k| {
            let phase = 2.0 * std::f64::consts::PI * k as f64 / n as f64;
            (0.5 - 0.5 * phase.cos()) as f32
        })
        .collect()
}

impl Stft {
    /// An STFT of `n_fft` points (window length `n_fft`; odd lengths allowed), hop `hop`;
    /// `center` pads `n_fft / 2` samples on both sides by reflection, as torch's `center=True`.
    pub fn new(n_fft: usize, hop: usize, center: bool) -> Result<Self, StftError> {
        if n_fft == 0 || hop == 0 {
            return Err(StftError::ZeroSize { n_fft, hop });
        }
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n_fft);
        Ok(Self {
            n_fft,
            hop,
            center,
            window: hann_periodic(n_fft),
            fft,
        })
    }

    /// The Harmonic CNN front end: `n_fft = 513`, hop 256, centred (see the module docs).
    pub fn harmonic_cnn() -> Self {
        // 513 and 256 are positive, so `new` cannot fail; build the fields directly.
        Self {
            n_fft: 513,
            hop: 256,
            center: true,
            window: hann_periodic(513),
            fft: RealFftPlanner::<f32>::new().plan_fft_forward(513),
        }
    }

    pub fn n_fft(&self) -> usize {
        self.n_fft
    }

    pub fn hop(&self) -> usize {
        self.hop
    }

    pub fn center(&self) -> bool {
        self.center
    }

    /// Frequency bins per frame: `n_fft / 2 + 1`.
    pub fn n_bins(&self) -> usize {
        self.n_fft / 2 + 1
    }

    /// Frames for a signal of `len` samples, as torch: `1 + (len + 2·(n_fft/2) − n_fft) / hop`
    /// when centred (`1 + len / hop` for an even `n_fft`, `1 + (len − 1) / hop` for an odd one),
    /// `1 + (len − n_fft) / hop` otherwise; `None` when the signal is too short.
    pub fn n_frames(&self, len: usize) -> Option<usize> {
        let padded = self.padded_len(len);
        (padded >= self.n_fft && len >= self.min_len())
            .then(|| 1 + (padded - self.n_fft) / self.hop)
    }

    fn padded_len(&self, len: usize) -> usize {
        if self.center {
            len + 2 * (self.n_fft / 2)
        } else {
            len
        }
    }

    fn min_len(&self) -> usize {
        if self.center {
            self.n_fft / 2 + 1
        } else {
            self.n_fft
        }
    }

    /// The power spectrogram of `signal`, row-major `[frames][n_bins]`: entry
    /// `f * n_bins + k` is `|X_f[k]|²`, `X_f[k] = Σ_n w[n] x_pad[f·hop + n] e^{−2πikn/n_fft}`.
    pub fn power_spectrogram(&self, signal: &[f32]) -> Result<Vec<f32>, StftError> {
        let n_frames = self.n_frames(signal.len()).ok_or(StftError::TooShort {
            len: signal.len(),
            min: self.min_len(),
        })?;
        let padded = if self.center {
            reflect_pad(signal, self.n_fft / 2)
        } else {
            signal.to_vec()
        };
        let n_bins = self.n_bins();
        let mut input = self.fft.make_input_vec();
        let mut spectrum = self.fft.make_output_vec();
        let mut scratch = self.fft.make_scratch_vec();
        let mut out = Vec::with_capacity(n_frames * n_bins);
        for f in 0..n_frames {
            let frame = &padded[f * self.hop..f * self.hop + self.n_fft];
            for ((dst, &x), &w) in input.iter_mut().zip(frame).zip(&self.window) {
                *dst = x * w;
            }
            self.fft
                .process_with_scratch(&mut input, &mut spectrum, &mut scratch)
                .map_err(|e| StftError::Fft(e.to_string()))?;
            out.extend(spectrum.iter().map(|c| c.norm_sqr()));
        }
        Ok(out)
    }
}

/// `torch.nn.functional.pad(x, (pad, pad), mode="reflect")`: mirror without repeating the edge
/// sample. Needs `pad < signal.len()` (checked by the caller).
fn reflect_pad(signal: &[f32], pad: usize) -> Vec<f32> {
    let n = signal.len();
    let mut out = Vec::with_capacity(n + 2 * pad);
    out.extend((1..=pad).rev().map(|i| signal[i]));
    out.extend_from_slice(signal);
    out.extend((1..=pad).map(|i| signal[n - 1 - i]));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflect_pad_mirrors_without_the_edge() {
        assert_eq!(
            reflect_pad(&[1.0, 2.0, 3.0, 4.0], 2),
            vec![3.0, 2.0, 1.0, 2.0, 3.0, 4.0, 3.0, 2.0]
        );
    }
}
