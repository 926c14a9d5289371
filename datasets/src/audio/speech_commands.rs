//! Speech Commands v0.02 in its own layout (minzwon/data-driven-harmonic-filters
//! `preprocessing/keyword/preprocess.py`, `get_paths` / `get_df`):
//!
//! ```text
//! <root>/<word>/<speaker>_nohash_<n>.wav     35 word folders
//! <root>/validation_list.txt                  `<word>/<file>.wav` per line, relative to <root>
//! <root>/testing_list.txt                     likewise
//! <root>/_background_noise_/*.wav             not listed
//! ```
//!
//! Train = every `<word>/*.wav` not named in either list (and not under `_background_noise_`);
//! valid / test = the files the two lists name. Label = the index of the word in
//! [`KEYWORD_CLASSES`] (the reference's order, alphabetical). Each split is sorted by relative
//! path, as the reference sorts its path lists. A file named by both lists is in both splits,
//! as in the reference (the official lists do not overlap).
//!
//! Hard errors (the official lists define the split, so nothing is guessed): a missing list
//! file; a list line naming a missing clip or a word that is not a class (`file:line`); a word
//! folder that is not a class (v0.01 data, a stray folder). Unreadable audio is a counted skip
//! through [`crate::audio::ClipListing::drop_unreadable`].

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use crate::audio::listing::{AudioSplit, ClipLabel, ClipListing, ListedClip};
use crate::error::{DatasetError, Result};

/// The 35 words of Speech Commands v0.02, in the reference's class order.
pub const KEYWORD_CLASSES: [&str; 35] = [
    "backward", "bed", "bird", "cat", "dog", "down", "eight", "five", "follow", "forward", "four",
    "go", "happy", "house", "learn", "left", "marvin", "nine", "no", "off", "on", "one", "right",
    "seven", "sheila", "six", "stop", "three", "tree", "two", "up", "visual", "wow", "yes", "zero",
];

/// The folder of background noise recordings (not a class; left out of every split).
pub const BACKGROUND_NOISE_DIR: &str = "_background_noise_";
/// The validation list file.
pub const VALIDATION_LIST: &str = "validation_list.txt";
/// The test list file.
pub const TESTING_LIST: &str = "testing_list.txt";

/// Options of [`list_speech_commands`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpeechCommandsOptions {
    /// The class words, in label order (default: [`KEYWORD_CLASSES`]). Every word folder and
    /// every listed file must belong to one of them.
    pub classes: Vec<String>,
}

impl Default for SpeechCommandsOptions {
    fn default() -> Self {
        Self {
            classes: KEYWORD_CLASSES.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// Lists Speech Commands under `root` (see the module documentation).
pub fn list_speech_commands(root: &Path, options: &SpeechCommandsOptions) -> Result<ClipListing> {
    let class_of = |word: &str| options.classes.iter().position(|c| c == word);
    let valid = read_list(root, VALIDATION_LIST, &class_of)?;
    let test = read_list(root, TESTING_LIST, &class_of)?;

    let listed: HashSet<&str> = valid.iter().chain(&test).map(|(r, _)| r.as_str()).collect();
    let mut train = Vec::new();
    for word_dir in sorted_entries(root)? {
        let name = file_name(&word_dir);
        if !word_dir.is_dir() || name == BACKGROUND_NOISE_DIR || name.starts_with('.') {
            continue;
        }
        let class = class_of(&name).ok_or_else(|| {
            DatasetError::format(
                &word_dir,
                format!(
                    "word folder `{name}` is not one of the {} classes ({})",
                    options.classes.len(),
                    options.classes.join(", ")
                ),
            )
        })?;
        for file in sorted_entries(&word_dir)? {
            let fname = file_name(&file);
            if !file.is_file() || !fname.to_ascii_lowercase().ends_with(".wav") {
                continue;
            }
            let rel = format!("{name}/{fname}");
            if !listed.contains(rel.as_str()) {
                train.push((rel, class));
            }
        }
    }

    let mut clips = Vec::with_capacity(train.len() + valid.len() + test.len());
    for (split, list) in [
        (AudioSplit::Train, train),
        (AudioSplit::Valid, valid),
        (AudioSplit::Test, test),
    ] {
        clips.extend(list.into_iter().map(|(rel, class)| ListedClip {
            path: root.join(rel),
            label: ClipLabel::Class(class),
            split,
        }));
    }
    Ok(ClipListing {
        clips,
        classes: options.classes.clone(),
        skipped: Vec::new(),
    })
}

/// The `(relative path, class)` pairs a list file names, sorted and without duplicates.
fn read_list(
    root: &Path,
    name: &str,
    class_of: &dyn Fn(&str) -> Option<usize>,
) -> Result<Vec<(String, usize)>> {
    let path = root.join(name);
    if !path.is_file() {
        return Err(DatasetError::Missing {
            path,
            what: "the Speech Commands split list".into(),
            hint: "the v0.02 archive (speech_commands_v0.02.tar.gz) holds it at its top level; \
                   point the root at the extracted folder"
                .into(),
        });
    }
    let text = std::fs::read_to_string(&path).map_err(|e| DatasetError::io(&path, e))?;
    let mut out = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let rel = line.trim();
        if rel.is_empty() {
            continue;
        }
        let line_error = |reason: String| DatasetError::Line {
            path: path.clone(),
            line: i + 1,
            reason,
        };
        let word = match rel.split_once('/') {
            Some((w, f)) if !f.is_empty() && !f.contains('/') => w,
            _ => return Err(line_error(format!("`{rel}` is not `<word>/<file>.wav`"))),
        };
        let class =
            class_of(word).ok_or_else(|| line_error(format!("`{rel}`: unknown word `{word}`")))?;
        if !root.join(rel).is_file() {
            return Err(line_error(format!(
                "names a missing clip {}",
                root.join(rel).display()
            )));
        }
        out.insert((rel.to_string(), class));
    }
    Ok(out.into_iter().collect())
}

/// The entries of `dir`, sorted by name.
pub(crate) fn sorted_entries(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let rd = std::fs::read_dir(dir).map_err(|e| DatasetError::io(dir, e))?;
    let mut out = Vec::new();
    for entry in rd {
        out.push(entry.map_err(|e| DatasetError::io(dir, e))?.path());
    }
    out.sort();
    Ok(out)
}

pub(crate) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
