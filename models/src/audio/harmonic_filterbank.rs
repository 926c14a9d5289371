//! The learnable harmonic filterbank and `AmplitudeToDB`: minzwon/data-driven-harmonic-filters
//! `training/modules.py`, `HarmonicSTFT` after its spectrogram (`get_harmonic_fb`, the matmul,
//! the reshape to `[B, n_harmonic, level, T]`, `torchaudio.transforms.AmplitudeToDB()`).
//!
//! Input: a power spectrogram `[B, n_bins, T]` (torchaudio `Spectrogram(power=2)`; adamp-task-audio
//! computes it). Filter `k` is a triangle centred on `f0_k` (see [`super::centre_frequencies`])
//! of bandwidth `bw_k = (0.1079 · f0_k + 24.7) / bw_Q` (the ERB rule divided by the learnable
//! quality factor `bw_Q`) over the bin frequencies `torch.linspace(0, sample_rate // 2, n_bins)`:
//! `fb[i, k] = max(0, min(1 + 2(f_i − f0_k)/bw_k, 1 − 2(f_i − f0_k)/bw_k))`, each term evaluated
//! in f32 in the reference's order. Output: `10 · log10(max(spec^T · fb, 1e-10))` reshaped to
//! `[B, n_harmonic, level, T]` (harmonic-major bands, as the reference's `view`).

use adamp_optim::{ParamKind, ParamMeta};
use candle_core::{DType, Device, Tensor};

use super::centre_frequencies::{initialize_filterbank, HarmonicCentres};
use crate::builder::ParamBuilder;
use crate::error::{shape_err, ModelError, Result};
use crate::init::Init;

/// The reference's ERB bandwidth slope (`bw_alpha`).
pub const BW_ALPHA: f32 = 0.1079;
/// The reference's ERB bandwidth offset in Hz (`bw_beta`).
pub const BW_BETA: f32 = 24.7;
/// `AmplitudeToDB`'s `amin`.
pub const AMIN: f64 = 1e-10;

/// Whether `bw_Q` is trained (the reference's `learn_bw`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum BandwidthMode {
    /// `learn_bw='only_Q'` (the reference's `main.py` default): `hstft.bw_Q` is a parameter.
    #[default]
    OnlyQ,
    /// `learn_bw='fix'`: `bw_Q` is a constant and not in the parameter list.
    Fix,
}

/// The filterbank's hyper-parameters (the reference's `HarmonicSTFT` arguments besides the
/// spectrogram's, plus the bin count of the spectrogram it takes).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HarmonicFilterbankConfig {
    /// Sample rate in Hz (16000).
    pub sample_rate: u32,
    /// Frequency bins of the input spectrogram, `n_fft / 2 + 1` (257 for `n_fft` 512 or 513).
    pub n_bins: usize,
    /// Harmonics per band (6).
    pub n_harmonic: usize,
    /// Bands per semitone (2).
    pub semitone_scale: usize,
    /// Initial quality factor `bw_Q` (1.0).
    pub bw_q: f64,
    /// Whether `bw_Q` is learnt.
    pub learn_bw: BandwidthMode,
}

impl Default for HarmonicFilterbankConfig {
    fn default() -> Self {
        Self {
            sample_rate: 16000,
            n_bins: 257,
            n_harmonic: 6,
            semitone_scale: 2,
            bw_q: 1.0,
            learn_bw: BandwidthMode::OnlyQ,
        }
    }
}

/// `torch.linspace(start, end, steps)` in f32 (aten `RangeFactoriesKernel.cpp`: the first half
/// counts up from `start`, the second half down from `end`).
pub fn torch_linspace_f32(start: f32, end: f32, steps: usize) -> Vec<f32> {
    if steps == 1 {
        return vec![start];
    }
    let step = (end - start) / (steps - 1) as f32;
    let halfway = steps / 2;
    (0..steps)
        .map(|i| {
            if i < halfway {
                start + step * i as f32
            } else {
                end - step * (steps - i - 1) as f32
            }
        })
        .collect()
}

/// The harmonic filterbank front end with `hstft.bw_Q` (shape `[1]`).
#[derive(Debug, Clone)]
pub struct HarmonicFilterbank {
    path: String,
    config: HarmonicFilterbankConfig,
    centres: HarmonicCentres,
    bw_q: Tensor,
    /// `0.1079 · f0 + 24.7` (f32), `[1, n_band]`.
    erb: Tensor,
    /// `2 · f0`, `[1, n_band]`.
    two_f0: Tensor,
    /// Bin frequencies, `[n_bins, 1]`.
    fft_bins: Tensor,
}

impl HarmonicFilterbank {
    /// Register `<prefix>.bw_Q` (a parameter under [`BandwidthMode::OnlyQ`], kind `other`, not
    /// followed by a norm: the filters' shape, not their scale, depends on it).
    pub fn new(b: &ParamBuilder, config: &HarmonicFilterbankConfig) -> Result<Self> {
        let path = b.prefix().to_string();
        if config.n_bins < 2 {
            return Err(ModelError::Config(format!(
                "layer `{path}`: n_bins = {} must be at least 2",
                config.n_bins
            )));
        }
        if !(config.bw_q.is_finite() && config.bw_q > 0.0) {
            return Err(ModelError::Config(format!(
                "layer `{path}`: bw_q = {} must be positive",
                config.bw_q
            )));
        }
        let centres =
            initialize_filterbank(config.sample_rate, config.n_harmonic, config.semitone_scale)?;
        let dev = b.device();
        let bw_q = match config.learn_bw {
            BandwidthMode::OnlyQ => b
                .param(
                    "bw_Q",
                    &[1],
                    Init::Const(config.bw_q),
                    ParamMeta::new(ParamKind::Other),
                )?
                .as_tensor()
                .clone(),
            BandwidthMode::Fix => Tensor::from_vec(vec![config.bw_q as f32], 1, &dev)?,
        };
        let n_band = centres.centre_hz.len();
        let row = |v: Vec<f32>| Tensor::from_vec(v, (1, n_band), &dev);
        let erb = row(centres
            .centre_hz
            .iter()
            .map(|&f| BW_ALPHA * f + BW_BETA)
            .collect())?;
        let two_f0 = row(centres.centre_hz.iter().map(|&f| 2.0 * f).collect())?;
        let nyquist = (config.sample_rate / 2) as f32;
        let fft_bins = Tensor::from_vec(
            torch_linspace_f32(0.0, nyquist, config.n_bins),
            (config.n_bins, 1),
            &dev,
        )?;
        Ok(Self {
            path,
            config: *config,
            centres,
            bw_q,
            erb,
            two_f0,
            fft_bins,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &HarmonicFilterbankConfig {
        &self.config
    }

    /// Bands per harmonic (128 at 16 kHz with 6 harmonics and 2 bands per semitone).
    pub fn level(&self) -> usize {
        self.centres.level
    }

    /// Harmonics (the output's channel count).
    pub fn n_harmonic(&self) -> usize {
        self.config.n_harmonic
    }

    /// The centre frequencies in Hz, harmonic-major (`n_harmonic · level`).
    pub fn centre_hz(&self) -> &[f32] {
        &self.centres.centre_hz
    }

    /// The centre-frequency layout (MIDI range, level, frequencies).
    pub fn centres(&self) -> &HarmonicCentres {
        &self.centres
    }

    /// The current `bw_Q` (a `[1]` tensor; the parameter itself under [`BandwidthMode::OnlyQ`]).
    pub fn bw_q(&self) -> &Tensor {
        &self.bw_q
    }

    /// The triangular filters `[n_bins, n_harmonic · level]` at the current `bw_Q`
    /// (`get_harmonic_fb`), differentiable with respect to `bw_Q`.
    pub fn filterbank(&self) -> Result<Tensor> {
        let bw = self.erb.broadcast_div(&self.bw_q)?; // [1, n_band]
        let two_over_bw = Tensor::full(2f32, bw.shape(), bw.device())?.div(&bw)?;
        let shift = self.two_f0.div(&bw)?; // 2 · f0 / bw
        let ramp = self.fft_bins.broadcast_mul(&two_over_bw)?; // [n_bins, n_band]
        let up = (ramp.clone() + 1.0)?.broadcast_sub(&shift)?;
        let down = (ramp.neg()? + 1.0)?.broadcast_add(&shift)?;
        Ok(down.minimum(&up)?.maximum(0f64)?)
    }

    /// `[B, n_bins, T]` power spectrogram → `[B, n_harmonic, level, T]` decibels. A spectrogram
    /// of another rank or bin count is an error naming this layer and both shapes.
    pub fn forward(&self, power_spec: &Tensor) -> Result<Tensor> {
        let dims = power_spec.dims();
        let (b, t) = match *dims {
            [b, n, t] if n == self.config.n_bins && t > 0 => (b, t),
            _ => {
                return Err(shape_err(
                    &self.path,
                    "power spectrogram shape",
                    format!("[B, {}, T] with T >= 1", self.config.n_bins),
                    format!("{dims:?}"),
                ))
            }
        };
        if power_spec.dtype() != DType::F32 {
            return Err(shape_err(
                &self.path,
                "power spectrogram dtype",
                "f32",
                format!("{:?}", power_spec.dtype()),
            ));
        }
        let fb = self.filterbank()?;
        let banded = power_spec
            .transpose(1, 2)?
            .contiguous()?
            .broadcast_matmul(&fb)? // [B, T, n_band]
            .transpose(1, 2)?
            .contiguous()?
            .reshape((b, self.config.n_harmonic, self.centres.level, t))?;
        amplitude_to_db(&banded)
    }

    /// The device the filterbank lives on.
    pub fn device(&self) -> &Device {
        self.fft_bins.device()
    }
}

/// `torchaudio.transforms.AmplitudeToDB()` (stype "power", ref 1, top_db None):
/// `10 · log10(max(x, 1e-10))`.
pub fn amplitude_to_db(x: &Tensor) -> Result<Tensor> {
    Ok((x.maximum(AMIN)?.log()? * (10.0 / std::f64::consts::LN_10))?)
}
