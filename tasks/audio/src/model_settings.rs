//! `[model]` of `kind = "audio"`: the Harmonic CNN (`adamp_models::audio::HarmonicCnn`), its
//! fields named as minzwon/data-driven-harmonic-filters `training/main.py`'s arguments, with the
//! reference's defaults. The network variant (`ResNet_mtat` / `ResNet_keyword` / `ResNet_dcase`)
//! follows `[data] dataset`; the number of outputs follows the dataset's label set.
//!
//! ```toml
//! [model]
//! kind = "harmonic_cnn"
//! conv_channels = 128     # --conv_channels
//! n_fft = 513             # torchaudio Spectrogram n_fft (model.py / eval.sh: 513), hop n_fft / 2
//! n_harmonic = 6          # --n_harmonic
//! semitone_scale = 2      # --semitone_scale
//! bw_q = 1.0              # HarmonicSTFT's initial bw_Q
//! learn_bw = "only_q"     # --learn_bw only_Q | fix
//! dropout = 0.5           # the head's nn.Dropout(0.5)
//! ```

use adamp_models::audio::{
    BandwidthMode, HarmonicCnnConfig, HarmonicCnnVariant, HarmonicFilterbankConfig,
};
use adamp_models::LayerImpl;
use adamp_task_api::factory::invalid;
use adamp_task_api::Result;
use serde::{Deserialize, Serialize};

use crate::stft::Stft;

/// The `[model] kind`s.
pub const MODEL_KINDS: &[&str] = &["harmonic_cnn"];

/// The widest network a config may ask for.
const MAX_CHANNELS: usize = 4096;

/// `[model] kind`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AudioModelKind {
    /// The Harmonic CNN (Won et al., ICASSP 2020).
    #[default]
    HarmonicCnn,
}

/// `[model]` for `kind = "audio"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AudioModelSettings {
    /// The network.
    #[serde(default)]
    pub kind: AudioModelKind,
    /// Channels of the first blocks (`--conv_channels`, 128); the last blocks have twice as many.
    #[serde(default = "conv_channels")]
    pub conv_channels: usize,
    /// STFT size (hop `n_fft / 2`, periodic Hann window, centred).
    #[serde(default = "n_fft")]
    pub n_fft: usize,
    /// Harmonics per band (`--n_harmonic`, 6).
    #[serde(default = "n_harmonic")]
    pub n_harmonic: usize,
    /// Bands per semitone (`--semitone_scale`, 2).
    #[serde(default = "semitone_scale")]
    pub semitone_scale: usize,
    /// Initial quality factor of the bandwidths (1.0).
    #[serde(default = "bw_q")]
    pub bw_q: f64,
    /// Whether `bw_Q` is learnt (`only_q`, the reference's default) or fixed (`fix`).
    #[serde(default)]
    pub learn_bw: BandwidthMode,
    /// The head's dropout probability (0.5).
    #[serde(default = "dropout")]
    pub dropout: f64,
}

fn conv_channels() -> usize {
    128
}
fn n_fft() -> usize {
    513
}
fn n_harmonic() -> usize {
    6
}
fn semitone_scale() -> usize {
    2
}
fn bw_q() -> f64 {
    1.0
}
fn dropout() -> f64 {
    0.5
}

impl Default for AudioModelSettings {
    fn default() -> Self {
        Self {
            kind: AudioModelKind::HarmonicCnn,
            conv_channels: conv_channels(),
            n_fft: n_fft(),
            n_harmonic: n_harmonic(),
            semitone_scale: semitone_scale(),
            bw_q: bw_q(),
            learn_bw: BandwidthMode::OnlyQ,
            dropout: dropout(),
        }
    }
}

impl AudioModelSettings {
    /// Every check that needs no data, naming the `[model]` key (the filterbank's band count is
    /// checked when the network is built, still before anything is written).
    pub fn validate(&self) -> Result<()> {
        for (key, v, max) in [
            ("conv_channels", self.conv_channels, MAX_CHANNELS),
            ("n_fft", self.n_fft, 8192),
            ("n_harmonic", self.n_harmonic, 64),
            ("semitone_scale", self.semitone_scale, 64),
        ] {
            if !(1..=max).contains(&v) {
                return Err(invalid(
                    format!("model.{key}"),
                    format!("in 1..={max}, got {v}"),
                ));
            }
        }
        if self.n_fft < 4 {
            return Err(invalid(
                "model.n_fft",
                format!(
                    "at least 4 points (the reference's 513), got {}",
                    self.n_fft
                ),
            ));
        }
        if !(self.bw_q.is_finite() && self.bw_q > 0.0) {
            return Err(invalid(
                "model.bw_q",
                format!(
                    "a quality factor > 0 (the reference's 1.0), got {}",
                    self.bw_q
                ),
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(invalid(
                "model.dropout",
                format!("a probability in [0, 1), got {}", self.dropout),
            ));
        }
        Ok(())
    }

    /// The STFT front end: `n_fft` points, hop `n_fft / 2` (torchaudio's default), centred.
    pub fn stft(&self) -> Result<Stft> {
        Stft::new(self.n_fft, self.n_fft / 2, true)
            .map_err(|e| invalid("model.n_fft", e.to_string()))
    }

    /// The network config for `variant` with `num_classes` outputs, initialised from `seed`.
    pub fn config(
        &self,
        variant: HarmonicCnnVariant,
        num_classes: usize,
        seed: u64,
    ) -> HarmonicCnnConfig {
        HarmonicCnnConfig {
            variant,
            conv_channels: self.conv_channels,
            filterbank: HarmonicFilterbankConfig {
                sample_rate: adamp_datasets::audio::DEFAULT_TARGET_RATE,
                n_bins: self.n_fft / 2 + 1,
                n_harmonic: self.n_harmonic,
                semitone_scale: self.semitone_scale,
                bw_q: self.bw_q,
                learn_bw: self.learn_bw,
            },
            num_classes: Some(num_classes),
            dropout: self.dropout,
            seed,
            layer_impl: LayerImpl::Fast,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> AudioModelSettings {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn defaults_are_main_py_s() {
        let m = parse("kind = \"harmonic_cnn\"");
        assert_eq!(m, AudioModelSettings::default());
        m.validate().unwrap();
        let c = m.config(HarmonicCnnVariant::Keyword, 35, 3);
        assert_eq!(
            (c.conv_channels, c.filterbank.n_bins, c.seed),
            (128, 257, 3)
        );
        assert_eq!(c.filterbank.learn_bw, BandwidthMode::OnlyQ);
        assert_eq!(m.stft().unwrap().hop(), 256);
        assert_eq!(parse("learn_bw = \"fix\"").learn_bw, BandwidthMode::Fix);
    }

    #[test]
    fn bad_values_name_their_key() {
        for (text, key) in [
            ("conv_channels = 0", "model.conv_channels"),
            ("n_fft = 2", "model.n_fft"),
            ("bw_q = 0.0", "model.bw_q"),
            ("dropout = 1.0", "model.dropout"),
            ("n_harmonic = 0", "model.n_harmonic"),
        ] {
            let e = parse(text).validate().unwrap_err().to_string();
            assert!(e.starts_with(key), "{text}: {e}");
        }
        assert!(toml::from_str::<AudioModelSettings>("kind = \"sample_cnn\"").is_err());
        assert!(toml::from_str::<AudioModelSettings>("channels = 2").is_err());
    }
}
