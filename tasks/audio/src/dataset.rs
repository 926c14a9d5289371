//! The three audio datasets of the paper (arXiv 2006.08217, audio classification table) and what
//! differs between them in the Harmonic CNN reference (minzwon/data-driven-harmonic-filters
//! `training/main.py`, `solver.py`, `eval.py`): the network variant, the chunk length, the
//! chunks averaged per clip at evaluation, the loss and the metrics.

use adamp_datasets::audio::{AudioStandIn, DCASE_CHUNK, EVAL_CHUNKS, KEYWORD_CHUNK, MTAT_CHUNK};
use adamp_models::audio::HarmonicCnnVariant;
use serde::{Deserialize, Serialize};

/// `[data] dataset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AudioDataset {
    /// MagnaTagATune, top-50 tags (benchmark 6).
    Mtat,
    /// Speech Commands v0.02, 35 words (benchmark 7).
    SpeechCommands,
    /// DCASE 2017 task 4, 17 sound events (benchmark 8).
    Dcase2017,
}

/// How the per-clip predictions are scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scoring {
    /// Multi-label: sigmoid outputs, `nn.BCELoss`.
    Tags,
    /// One class per clip: logits, `nn.CrossEntropyLoss`.
    Class,
}

impl AudioDataset {
    /// Every dataset, in the paper's order.
    pub const ALL: [AudioDataset; 3] = [
        AudioDataset::Mtat,
        AudioDataset::SpeechCommands,
        AudioDataset::Dcase2017,
    ];

    /// The `[data] dataset` name.
    pub fn name(self) -> &'static str {
        match self {
            AudioDataset::Mtat => "mtat",
            AudioDataset::SpeechCommands => "speech_commands",
            AudioDataset::Dcase2017 => "dcase2017",
        }
    }

    /// The default folder under the data root.
    pub fn folder(self) -> &'static str {
        match self {
            AudioDataset::Mtat => "magnatagatune",
            AudioDataset::SpeechCommands => "speech_commands",
            AudioDataset::Dcase2017 => "dcase2017",
        }
    }

    /// The reference's network for it (`ResNet_mtat`, `ResNet_keyword`, `ResNet_dcase`).
    pub fn variant(self) -> HarmonicCnnVariant {
        match self {
            AudioDataset::Mtat => HarmonicCnnVariant::Mtat,
            AudioDataset::SpeechCommands => HarmonicCnnVariant::Keyword,
            AudioDataset::Dcase2017 => HarmonicCnnVariant::Dcase,
        }
    }

    /// The stand-in written in this dataset's layout.
    pub fn stand_in(self) -> AudioStandIn {
        match self {
            AudioDataset::Mtat => AudioStandIn::Timgm6mbTags,
            AudioDataset::SpeechCommands => AudioStandIn::EspeakKeywords,
            AudioDataset::Dcase2017 => AudioStandIn::SonicPiEvents,
        }
    }

    /// The reference's chunk (`--input_length`) in samples at 16 kHz: 5 s, 1 s, 3 s.
    pub fn chunk(self) -> usize {
        match self {
            AudioDataset::Mtat => MTAT_CHUNK,
            AudioDataset::SpeechCommands => KEYWORD_CHUNK,
            AudioDataset::Dcase2017 => DCASE_CHUNK,
        }
    }

    /// Chunks averaged per clip at evaluation: 16 (`eval.py`'s `num_chunks`), one padded chunk
    /// for keywords (`evaluate_singleclass` feeds the `keyword_loader` batches).
    pub fn eval_chunks(self) -> usize {
        match self {
            AudioDataset::SpeechCommands => 1,
            _ => EVAL_CHUNKS,
        }
    }

    /// Multi-label or single-class.
    pub fn scoring(self) -> Scoring {
        match self {
            AudioDataset::SpeechCommands => Scoring::Class,
            _ => Scoring::Tags,
        }
    }

    /// The metrics of one split's evaluation (without the split prefix).
    pub fn split_metrics(self) -> &'static [&'static str] {
        match self {
            AudioDataset::Mtat => &["roc_auc", "pr_auc", "loss"],
            AudioDataset::SpeechCommands => &["acc", "loss"],
            AudioDataset::Dcase2017 => &["f1", "loss"],
        }
    }
}
