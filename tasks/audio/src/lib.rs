//! # adamp-task-audio
//!
//! This crate will hold benchmarks 6-8 of the AdamP paper (Heo et al., ICLR 2021, arXiv
//! 2006.08217): the Harmonic CNN (Won et al., ICASSP 2020; code: minzwon/data-driven-harmonic-filters
//! and minzwon/sota-music-tagging-models) on MagnaTagATune tagging (macro ROC-AUC and PR-AUC),
//! Speech Commands keyword spotting (accuracy) and DCASE 2017 task 4 sound events (F1 averaged
//! over samples at threshold 0.1). It is **not a harness task yet**. Today it holds two pieces
//! that are checked against their references:
//!
//! * [`metrics`]: scikit-learn's `roc_auc_score`, `average_precision_score`, `accuracy_score` and
//!   `f1_score(average="samples")`, checked against scikit-learn 1.9.1 on the fixtures written by
//!   `tools/gen_audio_metric_fixtures.py`;
//! * [`stft`]: the power spectrogram of `torchaudio.transforms.Spectrogram` (periodic Hann window,
//!   `center=True` reflect padding, `power=2`) on `realfft`, checked against a direct DFT.

pub mod metrics;
pub mod stft;

pub use metrics::{
    accuracy, average_precision, f1_samples, f1_samples_binary, macro_pr_auc, macro_roc_auc,
    roc_auc, MacroScore, MetricError,
};
pub use stft::{hann_periodic, Stft, StftError};
