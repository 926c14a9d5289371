//! The Harmonic CNN of benchmarks 6-8 (Won et al., ICASSP 2020; minzwon/data-driven-harmonic-filters
//! `training/modules.py`, `training/model.py`), from the power spectrogram on:
//!
//! * [`centre_frequencies`]: `initialize_filterbank` and the librosa note/MIDI/Hz conversions;
//! * [`harmonic_filterbank`]: the learnable triangular harmonic filterbank (`bw_Q`) and
//!   `AmplitudeToDB`, `[B, n_bins, T]` → `[B, n_harmonic, level, T]` dB;
//! * [`res_blocks`]: `Conv3_2d`, `Conv3_2d_resmp` and their (rectangular) max pooling;
//! * [`harmonic_cnn`]: `hstft` + `hstft_bn` + the `ResNet_mtat` / `ResNet_keyword` /
//!   `ResNet_dcase` CNNs and heads, under the torch `state_dict` names.
//!
//! The STFT (`torchaudio.transforms.Spectrogram`) is adamp-task-audio's `Stft`.

pub mod centre_frequencies;
pub mod harmonic_cnn;
pub mod harmonic_filterbank;
pub mod res_blocks;

pub use centre_frequencies::{initialize_filterbank, HarmonicCentres};
pub use harmonic_cnn::{HarmonicCnn, HarmonicCnnConfig, HarmonicCnnVariant};
pub use harmonic_filterbank::{
    amplitude_to_db, BandwidthMode, HarmonicFilterbank, HarmonicFilterbankConfig,
};
