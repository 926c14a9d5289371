//! `[data]` of `kind = "audio"`: which dataset, where it is, and where decoded clips are cached.
//!
//! ```toml
//! [data]
//! dataset = "mtat"            # "mtat" | "speech_commands" | "dcase2017"
//! dir = "data/magnatagatune"  # the dataset in its own layout (default: <ADAMP_DATA_DIR or
//!                             #   data>/magnatagatune | speech_commands | dcase2017)
//! # or an embedded stand-in in that layout (NOT the paper's data), with its own label set:
//! # stand_in = "timgm6mb_tags"   # | "espeak_keywords" (speech_commands) | "sonic_pi_events"
//! #                              #   (dcase2017); read from <data root>/<its folder>, or `dir`
//! # fetch = true                 # build it under the data root when missing; not with `dir`
//! # cache_dir = "..."            # decoded 16 kHz clips (default: <data root>/clip-cache/<dataset
//! #                               #   folder's name>; outside the dataset folder, which may be
//! #                               #   read-only and whose stand-ins verify their file lists)
//! ```

use std::path::PathBuf;

use adamp_datasets::audio::AudioStandIn;
use adamp_task_api::factory::invalid;
use adamp_task_api::Result;
use serde::{Deserialize, Serialize};

use crate::dataset::AudioDataset;

/// The folder under the data root that holds one clip cache per dataset folder name. Outside the
/// dataset folders: a user's dataset may be read-only, and the stand-ins treat any file their
/// manifest does not list as damage.
pub const CACHE_FOLDER: &str = "clip-cache";

/// `[data]` for `kind = "audio"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AudioDataSettings {
    /// Which dataset (its layout, network variant, loss and metrics).
    pub dataset: AudioDataset,
    /// The dataset folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
    /// An embedded stand-in in the dataset's layout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stand_in: Option<AudioStandIn>,
    /// Build the stand-in when missing.
    #[serde(default)]
    pub fetch: bool,
    /// Where decoded clips are cached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_dir: Option<PathBuf>,
}

impl AudioDataSettings {
    /// Every check that needs no file, naming the `[data]` key.
    pub fn validate(&self) -> Result<()> {
        if let Some(s) = self.stand_in {
            let want = self.dataset.stand_in();
            if s != want {
                return Err(invalid(
                    "data.stand_in",
                    format!(
                        "`{}` is written in another dataset's layout; the stand-in of dataset \
                         `{}` is `{}`",
                        s.name(),
                        self.dataset.name(),
                        want.name()
                    ),
                ));
            }
        }
        if self.fetch && self.stand_in.is_none() {
            return Err(invalid(
                "data.fetch",
                format!(
                    "`fetch = true` builds an embedded stand-in: set `stand_in = \"{}\"` (the \
                     real dataset is read from `dir`)",
                    self.dataset.stand_in().name()
                ),
            ));
        }
        if self.fetch && self.dir.is_some() {
            return Err(invalid(
                "data.fetch",
                "`fetch` builds the stand-in under the data root (ADAMP_DATA_DIR); with `dir` the \
                 clips are read from that folder: remove `dir` or `fetch`",
            ));
        }
        Ok(())
    }

    /// The dataset folder: `dir`, or the stand-in's folder under the data root, or
    /// `<data root>/<dataset folder>`.
    pub fn dir(&self) -> PathBuf {
        let root = || adamp_datasets::fetch::data_root(None);
        match (&self.dir, self.stand_in) {
            (Some(d), _) => d.clone(),
            (None, Some(s)) => s.dir(&root()),
            (None, None) => root().join(self.dataset.folder()),
        }
    }

    /// The clip cache folder: `cache_dir`, or `<data root>/clip-cache/<dataset folder's name>`
    /// (entries are keyed by the clip's path inside the dataset folder, its size and its
    /// modification time, so two folders of one name do not mix clips unless all three agree).
    pub fn cache_dir(&self) -> PathBuf {
        self.cache_dir.clone().unwrap_or_else(|| {
            let dir = self.dir();
            let name = dir
                .file_name()
                .map(|n| n.to_os_string())
                .unwrap_or_else(|| self.dataset.folder().into());
            adamp_datasets::fetch::data_root(None)
                .join(CACHE_FOLDER)
                .join(name)
        })
    }

    /// The stand-in to build before reading, if any.
    pub fn to_fetch(&self) -> Option<AudioStandIn> {
        self.stand_in.filter(|_| self.fetch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> AudioDataSettings {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn folders_and_defaults() {
        let d = parse("dataset = \"speech_commands\"");
        d.validate().unwrap();
        assert!(
            d.dir().ends_with("speech_commands"),
            "{}",
            d.dir().display()
        );
        assert!(d.cache_dir().ends_with("clip-cache/speech_commands"));
        let s = parse("dataset = \"dcase2017\"\nstand_in = \"sonic_pi_events\"\nfetch = true");
        s.validate().unwrap();
        assert!(s.dir().ends_with("dcase2017-sonic-pi"));
        assert_eq!(s.to_fetch(), Some(AudioStandIn::SonicPiEvents));
        let m = parse("dataset = \"mtat\"\ndir = \"x\"\ncache_dir = \"c\"");
        assert_eq!((m.dir(), m.cache_dir()), ("x".into(), "c".into()));
        assert!(parse("dataset = \"mtat\"").dir().ends_with("magnatagatune"));
    }

    #[test]
    fn bad_combinations_name_their_key() {
        for (text, key) in [
            (
                "dataset = \"mtat\"\nstand_in = \"espeak_keywords\"",
                "data.stand_in",
            ),
            ("dataset = \"mtat\"\nfetch = true", "data.fetch"),
            (
                "dataset = \"mtat\"\nstand_in = \"timgm6mb_tags\"\nfetch = true\ndir = \"x\"",
                "data.fetch",
            ),
        ] {
            let e = parse(text).validate().unwrap_err().to_string();
            assert!(e.starts_with(key), "{text}: {e}");
        }
        assert!(toml::from_str::<AudioDataSettings>("dataset = \"gtzan\"").is_err());
        assert!(toml::from_str::<AudioDataSettings>("dir = \"x\"").is_err());
        assert!(toml::from_str::<AudioDataSettings>("dataset = \"mtat\"\nroot = \"x\"").is_err());
    }
}
