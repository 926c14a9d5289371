//! The embedded stand-ins of the audio benchmarks (issue 18; `../shared/data.md`): real audio
//! from Debian packages, written to disk in the real datasets' layouts by `adamp data fetch` (or
//! a config's `fetch = true`) and read by the same loaders as the real datasets. None of them is
//! the paper's dataset; each is labelled as the substitute it is.
//!
//! | stand-in | real layout | folder under the data root | module |
//! |---|---|---|---|
//! | [`AudioStandIn::EspeakKeywords`] | Speech Commands v0.02 | `speech-commands-espeak` | [`super::keywords_espeak`] |
//! | [`AudioStandIn::SonicPiEvents`] | DCASE 2017 task 4 | `dcase2017-sonic-pi` | [`super::events_sonic_pi`] |
//! | [`AudioStandIn::Timgm6mbTags`] | MagnaTagATune | `mtat-timgm6mb` | [`super::tags_timgm6mb`] |

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::fetch::FetchOutcome;

/// An embedded audio stand-in (`[data] stand_in` of the audio configs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AudioStandIn {
    /// Keywords: words spoken by `espeak-ng` (training, validation) and the recorded words of
    /// `asterisk-core-sounds-en-wav` (test), in the Speech Commands layout.
    EspeakKeywords,
    /// Sound events: `sonic-pi-samples` mixed into weakly labelled clips, in the DCASE 2017
    /// task 4 layout.
    SonicPiEvents,
    /// Music tagging: generated MIDI rendered with the `timgm6mb-soundfont` instruments, tagged
    /// by instrument family and tempo, in the MagnaTagATune layout.
    Timgm6mbTags,
}

impl AudioStandIn {
    /// Every stand-in, in the order `adamp data fetch` builds them.
    pub const ALL: [AudioStandIn; 3] = [
        AudioStandIn::EspeakKeywords,
        AudioStandIn::SonicPiEvents,
        AudioStandIn::Timgm6mbTags,
    ];

    /// The `[data] stand_in` name.
    pub fn name(self) -> &'static str {
        match self {
            AudioStandIn::EspeakKeywords => "espeak_keywords",
            AudioStandIn::SonicPiEvents => "sonic_pi_events",
            AudioStandIn::Timgm6mbTags => "timgm6mb_tags",
        }
    }

    /// Its folder under the data root.
    pub fn folder(self) -> &'static str {
        match self {
            AudioStandIn::EspeakKeywords => "speech-commands-espeak",
            AudioStandIn::SonicPiEvents => "dcase2017-sonic-pi",
            AudioStandIn::Timgm6mbTags => "mtat-timgm6mb",
        }
    }

    /// Its folder under `data_root`.
    pub fn dir(self, data_root: &Path) -> PathBuf {
        data_root.join(self.folder())
    }

    /// What `adamp data fetch` says it built.
    pub fn describe(self) -> &'static str {
        match self {
            AudioStandIn::EspeakKeywords => super::keywords_espeak::DESCRIPTION,
            AudioStandIn::SonicPiEvents => super::events_sonic_pi::DESCRIPTION,
            AudioStandIn::Timgm6mbTags => super::tags_timgm6mb::DESCRIPTION,
        }
    }

    /// The class words / tags, in label order (what the loader's options take).
    pub fn classes(self) -> Vec<String> {
        let c: &[&str] = match self {
            AudioStandIn::EspeakKeywords => &super::keywords_espeak::CLASSES,
            AudioStandIn::SonicPiEvents => &super::events_sonic_pi::CLASSES,
            AudioStandIn::Timgm6mbTags => &super::tags_timgm6mb::CLASSES,
        };
        c.iter().map(|s| s.to_string()).collect()
    }

    /// Builds it under `data_root` when missing (idempotent; verified when present).
    pub fn install(self, data_root: &Path) -> Result<FetchOutcome> {
        match self {
            AudioStandIn::EspeakKeywords => super::keywords_espeak::install(data_root),
            AudioStandIn::SonicPiEvents => super::events_sonic_pi::install(data_root),
            AudioStandIn::Timgm6mbTags => super::tags_timgm6mb::install(data_root),
        }
    }
}
