//! # adamp-task-audio
//!
//! Benchmarks 6-8 of the AdamP paper (Heo et al., ICLR 2021, arXiv 2006.08217, audio
//! classification table): the Harmonic CNN (Won et al., ICASSP 2020; code:
//! minzwon/data-driven-harmonic-filters) on MagnaTagATune tagging (macro ROC-AUC and PR-AUC),
//! Speech Commands v0.02 keyword spotting (accuracy) and DCASE 2017 task 4 sound events (F1
//! averaged over samples at threshold 0.1), Adam vs AdamP. `[task] kind = "audio"`
//! ([`settings`]), `[model]` ([`model_settings`]: `adamp_models::audio::HarmonicCnn`), `[data]`
//! ([`data_settings`]: `dataset = "mtat" | "speech_commands" | "dcase2017"`, a folder in the
//! dataset's own layout or an embedded stand-in in it).
//!
//! ## What maps to what in the reference (`training/`)
//!
//! | reference | here |
//! |---|---|
//! | `main.py --dataset`, `model.py` (`ResNet_mtat` / `_keyword` / `_dcase`) | `[data] dataset` ([`dataset`]) picks the network variant, chunk, loss and metrics |
//! | `--conv_channels`, `--n_fft`, `--n_harmonic`, `--semitone_scale`, `--learn_bw` | `[model]` ([`model_settings`]) |
//! | `--input_length` (80000; 48000 in `eval.sh` for DCASE; 1 s keywords) | `[task] input_length` ([`chunking`]) |
//! | `--batch_size 16`, `--lr 1e-4`, `Adam(..., weight_decay=1e-4)` | `training.batch_size`, the optimizer entries |
//! | `DataLoader(shuffle=True, drop_last=True)` | [`order::EpochOrder`]: a permutation of `(seed, epoch)`, whole batches |
//! | `*_loader.py` `get_npy`: one random chunk per clip, short clips zero-padded | `ChunkMode::Train` seeded by `(seed, epoch, clip)` |
//! | `nn.BCELoss` (sigmoid outputs) / `nn.CrossEntropyLoss` | [`loss`] |
//! | `eval.py` `get_tensor(fn, num_chunks=16)`, `np.array(prd).mean(axis=0)` | [`evaluate`]: `ChunkMode::Eval`, outputs averaged per clip |
//! | `roc_auc_score` / `average_precision_score` (macro), `accuracy_score`, `f1_score(est > 0.1, average='samples')` | [`metrics`], in percent |
//! | `.npy` clips made by `preprocessing/*/preprocess.py` (librosa at 16 kHz) | clips decoded and resampled once into the clip cache (`adamp_datasets::audio::ClipCache`) |
//!
//! ## Deviations
//!
//! * `solver.py` trains Adam for 60 epochs, then switches to SGD (Nesterov, lr 1e-3, 1e-4, 1e-5
//!   after 20 epochs each) up to 200 epochs, reloading no checkpoint. The paper compares Adam
//!   and AdamP; a run here trains one optimizer throughout (the paper-scale configs: the 60
//!   epochs of the Adam phase).
//! * The reference keeps the checkpoint with the best validation score and `eval.py` scores it
//!   on the test split; here every evaluation scores the validation AND the test split, and the
//!   report takes the test metric of the last evaluation.
//! * The default keyword chunk is 16129 samples, not 16000 (see [`chunking`]).
//! * Short clips are padded, chunk starts and dropout masks drawn from seeded streams
//!   (`numpy.random` / torch's global generator in the reference), so a resumed run is the
//!   uninterrupted run exactly.
//! * The BCE is computed from the logits (equal to `BCELoss(sigmoid)` short of torch's clamp).
//!
//! The pieces: [`order`] (batches of an epoch), [`chunking`] (chunk length), [`spectrogram`]
//! ([`stft`] on a batch of chunks), [`loss`], [`evaluate`] (one split), [`filterbank`] (the
//! learnt bandwidth recorded as `bw_q` and `filterbank.csv`), [`describe`], [`data`] (listing,
//! stand-in, clip cache), [`task`], [`factory`].
//!
//! Per step the task records `loss`; per evaluation `valid_*` and `test_*` metrics of the
//! dataset (`roc_auc`, `pr_auc` / `acc` / `f1`, and `loss`) and `bw_q`, and leaves
//! `filterbank.csv` (and `skipped_clips.txt` when clips were left out) in the run folder.
//!
//! [`metrics`] are scikit-learn's, checked against scikit-learn 1.9.1 on the fixtures of
//! `tools/gen_audio_metric_fixtures.py`; [`stft`] is `torchaudio.transforms.Spectrogram`.

pub mod chunking;
pub mod data;
pub mod data_settings;
pub mod dataset;
pub mod describe;
pub mod evaluate;
pub mod factory;
pub mod filterbank;
pub mod loss;
pub mod metrics;
pub mod model_settings;
pub mod order;
pub mod settings;
pub mod spectrogram;
pub mod stft;
pub mod task;

pub use dataset::AudioDataset;
pub use metrics::{
    accuracy, average_precision, f1_samples, f1_samples_binary, macro_pr_auc, macro_roc_auc,
    roc_auc, MacroScore, MetricError,
};
pub use settings::AudioSettings;
pub use stft::{hann_periodic, Stft, StftError};
pub use task::AudioTask;
