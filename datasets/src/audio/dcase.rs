//! DCASE 2017 task 4 (large-scale weakly supervised sound event detection for smart cars),
//! audio tagging, in the layout the Harmonic CNN reference reads
//! (minzwon/data-driven-harmonic-filters `preprocessing/dcase/preprocess.py` and `split.py`):
//!
//! ```text
//! <root>/groundtruth_weak_label_training_set.csv     tab-separated, no header:
//! <root>/groundtruth_weak_label_testing_set.csv        <file>\t<start>\t<end>\t<label>
//! <root>/groundtruth_weak_label_evaluation_set.csv     one line per (clip, label)
//! <root>/<audio_dir>/unbalanced_train_segments_training_set_audio_formatted_and_segmented_downloads/Y<file>
//! <root>/<audio_dir>/unbalanced_train_segments_testing_set_audio_formatted_and_segmented_downloads/Y<file>
//! <root>/<audio_dir>/evaluation_set_formatted_audio_segments/Y<file>
//! ```
//!
//! (`<file>` is `<youtube id>_<start>_<end>.wav`; `<audio_dir>` is `raw` in the reference,
//! [`DcaseOptions::audio_dir`].) Labels: the 17 classes of [`DCASE_CLASSES`] in the reference's
//! order (or [`DcaseOptions::classes`]), multi-hot over all lines of a clip (`Split.encoding`). Splits (`Split.validation_split`):
//! the challenge's training and testing lists together form the training pool; for each class,
//! `round(0.1 * n)` of the `n` lines with that label (Python's round, half to even, as pandas'
//! `sample(frac=0.1)`) are drawn, and every clip drawn for any class is validation, the rest
//! training; the evaluation list is the test split. The draw is a seeded Fisher–Yates shuffle
//! ([`DcaseOptions::valid_seed`], 123 like the reference's `random_state`), so the sizes match the
//! reference but not its pandas-drawn clips. Each split is sorted by file name.
//!
//! Hard errors: a missing list file, a line without four tab-separated fields, an unknown label
//! (`file:line`). Counted skips: a listed clip whose audio is not on disk (YouTube-sourced clips
//! are routinely missing from downloads), after the validation draw, so the split does not move
//! when a download fails; unreadable audio through
//! [`crate::audio::ClipListing::drop_unreadable`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::audio::listing::{AudioSplit, ClipLabel, ClipListing, ListedClip, SkippedClip};
use crate::error::{DatasetError, Result};

/// The 17 DCASE 2017 task 4 classes in the reference's order.
pub const DCASE_CLASSES: [&str; 17] = [
    "Train horn",
    "Air horn, truck horn",
    "Car alarm",
    "Reversing beeps",
    "Ambulance (siren)",
    "Police car (siren)",
    "Fire engine, fire truck (siren)",
    "Civil defense siren",
    "Screaming",
    "Bicycle",
    "Skateboard",
    "Car",
    "Car passing by",
    "Bus",
    "Truck",
    "Motorcycle",
    "Train",
];

/// The weak-label list files, with the audio folder each one's clips lie in.
pub const DCASE_LISTS: [(&str, &str); 3] = [
    (
        "groundtruth_weak_label_training_set.csv",
        "unbalanced_train_segments_training_set_audio_formatted_and_segmented_downloads",
    ),
    (
        "groundtruth_weak_label_testing_set.csv",
        "unbalanced_train_segments_testing_set_audio_formatted_and_segmented_downloads",
    ),
    (
        "groundtruth_weak_label_evaluation_set.csv",
        "evaluation_set_formatted_audio_segments",
    ),
];

/// Options of [`list_dcase`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DcaseOptions {
    /// The folder (relative to the root) holding the three audio folders (reference: `raw`).
    pub audio_dir: PathBuf,
    /// Seed of the validation draw (reference: `random_state=123`).
    pub valid_seed: u64,
    /// The class labels, in label order (default: [`DCASE_CLASSES`]); a list line with any other
    /// label is an error. The embedded stand-in (`AudioStandIn::SonicPiEvents`) has its own.
    pub classes: Vec<String>,
}

impl Default for DcaseOptions {
    fn default() -> Self {
        Self {
            audio_dir: PathBuf::from("raw"),
            valid_seed: 123,
            classes: DCASE_CLASSES.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// One clip of a list file: its audio path, its labels (class indices) and
/// where it was first listed.
struct ListedFile {
    audio: PathBuf,
    classes: BTreeSet<usize>,
    list: PathBuf,
    line: usize,
}

/// Lists DCASE 2017 task 4 under `root` (see the module documentation).
pub fn list_dcase(root: &Path, options: &DcaseOptions) -> Result<ClipListing> {
    // Training pool: lines of the training and testing lists, in file order.
    let mut pool_lines: Vec<(String, usize)> = Vec::new();
    let mut pool: BTreeMap<String, ListedFile> = BTreeMap::new();
    let mut eval: BTreeMap<String, ListedFile> = BTreeMap::new();
    for (k, (list, audio_folder)) in DCASE_LISTS.iter().enumerate() {
        let lines = read_weak_labels(&root.join(list), &options.classes)?;
        let target = if k < 2 { &mut pool } else { &mut eval };
        for (file, class, line) in lines {
            if k < 2 {
                pool_lines.push((file.clone(), class));
            }
            target
                .entry(file.clone())
                .or_insert_with(|| ListedFile {
                    audio: root
                        .join(&options.audio_dir)
                        .join(audio_folder)
                        .join(format!("Y{file}")),
                    classes: BTreeSet::new(),
                    list: root.join(list),
                    line,
                })
                .classes
                .insert(class);
        }
    }

    let valid_files = draw_validation(&pool_lines, options.classes.len(), options.valid_seed);
    let mut clips = Vec::new();
    let mut skipped = Vec::new();
    let mut push = |files: Vec<(&String, &ListedFile)>, split: AudioSplit| {
        for (_, f) in files {
            if !f.audio.is_file() {
                skipped.push(SkippedClip {
                    path: f.audio.clone(),
                    reason: format!(
                        "listed in {}:{} but the audio file is missing",
                        f.list.display(),
                        f.line
                    ),
                });
                continue;
            }
            let mut multi_hot = vec![0.0f32; options.classes.len()];
            for &c in &f.classes {
                multi_hot[c] = 1.0;
            }
            clips.push(ListedClip {
                path: f.audio.clone(),
                label: ClipLabel::Tags(multi_hot),
                split,
            });
        }
    };
    push(
        pool.iter()
            .filter(|(n, _)| !valid_files.contains(*n))
            .collect(),
        AudioSplit::Train,
    );
    push(
        pool.iter()
            .filter(|(n, _)| valid_files.contains(*n))
            .collect(),
        AudioSplit::Valid,
    );
    push(eval.iter().collect(), AudioSplit::Test);
    Ok(ClipListing {
        clips,
        classes: options.classes.clone(),
        skipped,
    })
}

/// The validation clips: for each of the `n_classes` classes, `round_half_even(0.1 * n)` of its
/// `n` lines, drawn by a Fisher–Yates shuffle seeded by `(seed, class)`; the union of their files.
pub fn draw_validation(
    pool_lines: &[(String, usize)],
    n_classes: usize,
    seed: u64,
) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for class in 0..n_classes {
        let mut files: Vec<&String> = pool_lines
            .iter()
            .filter(|(_, c)| *c == class)
            .map(|(f, _)| f)
            .collect();
        let take = (0.1 * files.len() as f64).round_ties_even() as usize;
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ ((class as u64) << 32));
        for i in 0..take {
            let j = rng.random_range(i..files.len());
            files.swap(i, j);
        }
        out.extend(files[..take].iter().map(|f| (*f).clone()));
    }
    out
}

/// The `(file, class, line)` triples of a weak-label list.
fn read_weak_labels(path: &Path, classes: &[String]) -> Result<Vec<(String, usize, usize)>> {
    if !path.is_file() {
        return Err(DatasetError::Missing {
            path: path.to_path_buf(),
            what: "a DCASE 2017 task 4 weak-label list".into(),
            hint: "the task 4 development and evaluation releases hold the three \
                   groundtruth_weak_label_*_set.csv files; put them in the dataset root"
                .into(),
        });
    }
    let text = std::fs::read_to_string(path).map_err(|e| DatasetError::io(path, e))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let line_error = |reason: String| DatasetError::Line {
            path: path.to_path_buf(),
            line: i + 1,
            reason,
        };
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() != 4 || fields[0].is_empty() {
            return Err(line_error(format!(
                "expected 4 tab-separated fields (file, start, end, label), found {}",
                fields.len()
            )));
        }
        let label = fields[3].trim();
        let class = classes.iter().position(|c| c == label).ok_or_else(|| {
            line_error(format!(
                "unknown label `{label}` (not one of the {} classes)",
                classes.len()
            ))
        })?;
        out.push((fields[0].to_string(), class, i + 1));
    }
    Ok(out)
}
