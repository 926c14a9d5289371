//! What the three audio loaders return: a [`ClipListing`] of clips (path, label, split), the
//! class or tag names, and the clips left out, each with the file and the reason
//! ([`SkippedClip`]).
//!
//! Hard errors vs counted skips (the same rule in every loader):
//! - a file the dataset's own lists need and cannot do without (a list file, the annotations
//!   file, a class or tag name that the label vocabulary does not know, a malformed line) is a
//!   hard [`crate::DatasetError`] naming the file (and line);
//! - a clip the dataset's distribution is known to lack or to hold damaged (DCASE rows whose
//!   YouTube audio was never downloaded, MagnaTagATune clips absent from `mp3/` or unreadable,
//!   any clip whose audio cannot be decoded) is a counted skip: it leaves the listing and is
//!   reported in [`ClipListing::skipped`] with its path and reason, as the reference
//!   preprocessing prints broken files and goes on (`preprocessing/*/preprocess.py`, `except
//!   RuntimeError: print(fn); continue`).

use std::path::PathBuf;

use crate::audio::clip_cache::{load_clip, ClipCache};
use crate::error::Result;

/// Which part of a dataset a clip belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AudioSplit {
    /// Training clips.
    Train,
    /// Validation clips (model selection).
    Valid,
    /// Test clips (the reported numbers).
    Test,
}

/// A clip's label.
#[derive(Debug, Clone, PartialEq)]
pub enum ClipLabel {
    /// One class index (Speech Commands).
    Class(usize),
    /// A multi-hot vector over the listing's classes, `1.0` where the tag or event is present
    /// (MagnaTagATune, DCASE).
    Tags(Vec<f32>),
}

impl ClipLabel {
    /// The class index of a single-class label.
    pub fn class(&self) -> Option<usize> {
        match self {
            Self::Class(c) => Some(*c),
            Self::Tags(_) => None,
        }
    }

    /// The multi-hot vector of a multi-label label.
    pub fn tags(&self) -> Option<&[f32]> {
        match self {
            Self::Class(_) => None,
            Self::Tags(t) => Some(t),
        }
    }
}

/// One listed clip.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedClip {
    /// The audio file.
    pub path: PathBuf,
    /// Its label.
    pub label: ClipLabel,
    /// Its split.
    pub split: AudioSplit,
}

/// A clip left out of a listing, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedClip {
    /// The audio file (or the file the list names).
    pub path: PathBuf,
    /// Why it was left out.
    pub reason: String,
}

/// The clips of one dataset, in a fixed order (per split, sorted by path unless the loader says
/// otherwise), with the label names and the clips left out.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipListing {
    /// The listed clips.
    pub clips: Vec<ListedClip>,
    /// The class (or tag) names; labels index into this.
    pub classes: Vec<String>,
    /// The clips left out, each with its reason.
    pub skipped: Vec<SkippedClip>,
}

impl ClipListing {
    /// The clips of one split, in listing order.
    pub fn split(&self, split: AudioSplit) -> Vec<&ListedClip> {
        self.clips.iter().filter(|c| c.split == split).collect()
    }

    /// How many clips `split` holds.
    pub fn count(&self, split: AudioSplit) -> usize {
        self.clips.iter().filter(|c| c.split == split).count()
    }

    /// One line per skipped clip (`path: reason`), for the run summary; empty if none.
    pub fn skip_report(&self) -> String {
        self.skipped
            .iter()
            .map(|s| format!("{}: {}\n", s.path.display(), s.reason))
            .collect()
    }

    /// Decodes every listed clip once at `target_rate` (through `cache`, so later epochs read
    /// the cache) and moves the clips whose audio cannot be decoded (a
    /// [`crate::DatasetError::AudioDecode`]) into [`Self::skipped`]; returns how many it moved.
    /// Any other error (I/O on the cache) stops with that error.
    pub fn drop_unreadable(
        &mut self,
        target_rate: u32,
        cache: Option<&ClipCache>,
    ) -> Result<usize> {
        let before = self.skipped.len();
        self.drop_unreadable_with_lengths(target_rate, cache)?;
        Ok(self.skipped.len() - before)
    }

    /// [`Self::drop_unreadable`], returning the length in samples (at `target_rate`) of every
    /// clip kept, in [`Self::clips`] order (to report clips shorter than a chunk).
    pub fn drop_unreadable_with_lengths(
        &mut self,
        target_rate: u32,
        cache: Option<&ClipCache>,
    ) -> Result<Vec<usize>> {
        let mut unreadable = Vec::new();
        let mut lengths = Vec::with_capacity(self.clips.len());
        for (i, clip) in self.clips.iter().enumerate() {
            match load_clip(&clip.path, target_rate, cache) {
                Ok(c) => lengths.push(c.samples.len()),
                Err(e) if e.is_per_sample() => {
                    tracing::warn!("skipping unreadable clip: {e}");
                    unreadable.push((i, e.to_string()));
                }
                Err(e) => return Err(e),
            }
        }
        for &(i, ref reason) in unreadable.iter().rev() {
            let clip = self.clips.remove(i);
            self.skipped.push(SkippedClip {
                path: clip.path,
                reason: reason.clone(),
            });
        }
        // Report in listing order.
        let first_new = self.skipped.len() - unreadable.len();
        self.skipped[first_new..].reverse();
        Ok(lengths)
    }
}
