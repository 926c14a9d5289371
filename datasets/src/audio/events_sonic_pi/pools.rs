//! The recordings of the package by category, and their split into the pool the training clips
//! draw from and the pool the test clips draw from.
//!
//! Category: the file name up to its first `_` (`ambi_choir.flac` → `ambi`), Sonic Pi's own
//! sample groups. Split rule: within a category, recordings sorted by file name, recording `i`
//! (from 0) is a test recording when `i % 4 == 3` (a quarter, spread over the name order) and a
//! training recording otherwise; a category with fewer than [`MIN_SPLIT`] recordings has no
//! test recording, and both pools use all of its recordings.

use std::path::Path;

use crate::audio::events_sonic_pi::mixer::{trim_silence, Sample};
use crate::audio::{decode_file, resample};
use crate::error::{DatasetError, Result};

/// Fewest recordings of a category for it to have recordings of its own in the test pool.
pub const MIN_SPLIT: usize = 4;

/// The category of a file name: the part before its first `_`.
pub fn prefix(name: &str) -> &str {
    name.split_once('_').map_or(name, |(p, _)| p)
}

/// Loads every `.flac` of `dir` whose prefix is one of `classes` (sorted by name), decoded,
/// resampled to `rate` and trimmed ([`trim_silence`]). Files with a prefix in `dropped` and
/// files that are not `.flac` are left out.
///
/// Errors: a `.flac` of another prefix, a class without recordings (the package does not have
/// the pinned layout), a file that does not decode, a recording that is all silence.
pub fn load_samples(
    dir: &Path,
    classes: &[&str],
    dropped: &[&str],
    rate: u32,
) -> Result<Vec<Sample>> {
    let mut names = Vec::new();
    for e in std::fs::read_dir(dir).map_err(|e| DatasetError::io(dir, e))? {
        let name = e
            .map_err(|e| DatasetError::io(dir, e))?
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".flac") {
            names.push(name);
        }
    }
    names.sort();
    let mut samples = Vec::new();
    for name in names {
        let path = dir.join(&name);
        let p = prefix(&name);
        if dropped.contains(&p) {
            continue;
        }
        let class = classes.iter().position(|c| *c == p).ok_or_else(|| {
            DatasetError::format(
                &path,
                format!(
                    "category `{p}` is neither a class ({}) nor a dropped one ({}); the package \
                     does not have the pinned layout",
                    classes.join(", "),
                    dropped.join(", ")
                ),
            )
        })?;
        let decoded = decode_file(&path)?;
        let audio = resample(&decoded.samples, decoded.sample_rate, rate)?;
        let audio = trim_silence(&audio)
            .ok_or_else(|| DatasetError::audio_decode(&path, "the recording is all silence"))?;
        samples.push(Sample { name, class, audio });
    }
    for (c, class) in classes.iter().enumerate() {
        if !samples.iter().any(|s| s.class == c) {
            return Err(DatasetError::Missing {
                path: dir.join(format!("{class}_*.flac")),
                what: format!("the recordings of category `{class}`"),
                hint: "the package does not have the pinned layout; check its version".into(),
            });
        }
    }
    Ok(samples)
}

/// The training and test pools: `pools[p][c]` lists the indices into `samples` of the
/// recordings of category `c` in pool `p` (0 training, 1 test), by the rule of the module
/// documentation. `samples` must be sorted by name (as [`load_samples`] returns them).
pub fn split_pools(samples: &[Sample], n_classes: usize) -> [Vec<Vec<usize>>; 2] {
    let mut train = vec![Vec::new(); n_classes];
    let mut test = vec![Vec::new(); n_classes];
    for c in 0..n_classes {
        let of_class: Vec<usize> = (0..samples.len())
            .filter(|&i| samples[i].class == c)
            .collect();
        if of_class.len() < MIN_SPLIT {
            train[c] = of_class.clone();
            test[c] = of_class;
            continue;
        }
        for (i, &s) in of_class.iter().enumerate() {
            if i % 4 == 3 {
                test[c].push(s);
            } else {
                train[c].push(s);
            }
        }
    }
    [train, test]
}
