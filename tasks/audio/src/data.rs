//! Opening the clips a `[data]` table names: the stand-in built first when `fetch` asks, the
//! dataset listed in its own layout (`adamp_datasets::audio::list_*`, with the stand-in's label
//! set when there is one), then every listed clip decoded once at 16 kHz into the clip cache,
//! undecodable clips moved to the counted skips. Everything here runs before anything is
//! written to the run folder.

use adamp_datasets::audio::{
    list_dcase, list_mtat, list_speech_commands, AudioSplit, ClipCache, ClipListing, DcaseOptions,
    MtatOptions, SpeechCommandsOptions, DEFAULT_TARGET_RATE,
};
use adamp_task_api::{Result, TaskError};

use crate::data_settings::AudioDataSettings;
use crate::dataset::AudioDataset;

pub(crate) fn data_err(e: adamp_datasets::DatasetError) -> TaskError {
    TaskError::Other(e.to_string())
}

/// The clips of a run and where they came from.
#[derive(Debug)]
pub struct AudioData {
    /// The listing (unreadable clips already moved to `skipped`).
    pub listing: ClipListing,
    /// The decoded clips.
    pub cache: ClipCache,
    /// The dataset folder, for the run's description and errors.
    pub source: String,
    /// Each listed clip's length in samples at 16 kHz, in [`ClipListing::clips`] order.
    pub lengths: Vec<usize>,
}

impl AudioData {
    /// The clips of `split`, in listing order.
    pub fn split(&self, split: AudioSplit) -> Vec<adamp_datasets::audio::ListedClip> {
        self.listing.split(split).into_iter().cloned().collect()
    }
}

/// Lists `data`'s dataset (see the module docs); errors name the file or key at fault.
pub fn open(data: &AudioDataSettings) -> Result<AudioData> {
    data.validate()?;
    if let Some(s) = data.to_fetch() {
        let root = adamp_datasets::fetch::data_root(None);
        s.install(&root)
            .map_err(|e| TaskError::Other(format!("building the stand-in `{}`: {e}", s.name())))?;
    }
    let dir = data.dir();
    let classes = data.stand_in.map(|s| s.classes());
    let listed = match data.dataset {
        AudioDataset::Mtat => list_mtat(&dir, &MtatOptions { tags: classes }),
        AudioDataset::SpeechCommands => {
            let mut o = SpeechCommandsOptions::default();
            if let Some(c) = classes {
                o.classes = c;
            }
            list_speech_commands(&dir, &o)
        }
        AudioDataset::Dcase2017 => {
            let mut o = DcaseOptions::default();
            if let Some(c) = classes {
                o.classes = c;
            }
            list_dcase(&dir, &o)
        }
    };
    let mut listing = listed.map_err(|e| match (data.stand_in, data.fetch) {
        (Some(_), false) if data.dir.is_none() => TaskError::Other(format!(
            "{e} (the stand-in is built by `adamp data fetch`, or set data.fetch = true)"
        )),
        _ => data_err(e),
    })?;
    let cache = ClipCache::new(data.cache_dir(), &dir).map_err(data_err)?;
    let lengths = listing
        .drop_unreadable_with_lengths(DEFAULT_TARGET_RATE, Some(&cache))
        .map_err(data_err)?;
    Ok(AudioData {
        listing,
        cache,
        source: dir.display().to_string(),
        lengths,
    })
}
