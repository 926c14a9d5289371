//! MagnaTagATune in its own layout, split and tagged as the Harmonic CNN reference does
//! (minzwon/data-driven-harmonic-filters `preprocessing/mtat/split.py`):
//!
//! ```text
//! <root>/annotations_final.csv     tab-separated, fields in double quotes; a header
//!                                  `clip_id, <188 tags>, mp3_path`, then one row per clip
//!                                  (`0`/`1` per tag, mp3_path like `f/<name>.mp3`)
//! <root>/mp3/0/ ... <root>/mp3/f/  the clips, at <root>/mp3/<mp3_path>
//! ```
//!
//! Tags: the 50 most frequent tag columns (`get_top50_tags`: `np.argsort(tag_count)[::-1][:50]`;
//! ties, which the real counts do not have among the top 50, are broken towards the later
//! column, as a stable ascending sort reversed does), or the tags of
//! [`MtatOptions::tags`]. Split (`Split.split`): the first hex digit of `mp3_path` below 12
//! (`0`-`b`) is training, 12 (`c`) validation, 13-15 (`d`-`f`) test; clips with none of the 50
//! tags are left out (not reported: the reference's rule, not damage). Each split keeps the
//! annotation file's order.
//!
//! The reference training code reads `train.npy` / `valid.npy` / `test.npy` made by this same
//! `split.py` (its evaluation reads a `test_new.npy` from the sota-music-tagging-models
//! repository, not available here); this loader rebuilds the `split.py` split from
//! `annotations_final.csv`, so no `.npy` split file is needed. A user holding other split files
//! can filter [`ClipListing::clips`] by path.
//!
//! Hard errors: a missing `annotations_final.csv`, a row with the wrong number of fields, a tag
//! value that is not `0`/`1`, a `mp3_path` that does not start with a hex digit folder, a tag in
//! [`MtatOptions::tags`] that the header does not have (`file:line` or the file). Counted skips:
//! a clip missing from `mp3/` (the reference's `get_exist` drops those), unreadable audio through
//! [`ClipListing::drop_unreadable`] (the real archive holds a few empty MP3s).

use std::path::Path;

use crate::audio::listing::{AudioSplit, ClipLabel, ClipListing, ListedClip, SkippedClip};
use crate::error::{DatasetError, Result};

/// The annotations file.
pub const MTAT_ANNOTATIONS: &str = "annotations_final.csv";
/// The folder holding the `0/` ... `f/` clip folders.
pub const MTAT_AUDIO_DIR: &str = "mp3";
/// How many of the most frequent tags are used.
pub const MTAT_TOP_TAGS: usize = 50;

/// Options of [`list_mtat`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MtatOptions {
    /// The tags to use, in label order; `None`: the [`MTAT_TOP_TAGS`] most frequent.
    pub tags: Option<Vec<String>>,
}

/// Lists MagnaTagATune under `root` (see the module documentation).
pub fn list_mtat(root: &Path, options: &MtatOptions) -> Result<ClipListing> {
    let path = root.join(MTAT_ANNOTATIONS);
    if !path.is_file() {
        return Err(DatasetError::Missing {
            path,
            what: "the MagnaTagATune annotations".into(),
            hint: "download annotations_final.csv from the MagnaTagATune page \
                   (mirg.city.ac.uk/codeapps/the-magnatagatune-dataset) into the dataset root"
                .into(),
        });
    }
    let text = std::fs::read_to_string(&path).map_err(|e| DatasetError::io(&path, e))?;
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let header: Vec<String> = match lines.next() {
        Some((_, l)) => split_row(l),
        None => return Err(DatasetError::format(&path, "the file is empty")),
    };
    if header.len() < 3 {
        return Err(DatasetError::format(
            &path,
            "the header must be `clip_id`, the tags, `mp3_path`",
        ));
    }
    let all_tags = &header[1..header.len() - 1];
    let width = header.len();

    let mut rows: Vec<(usize, Vec<u8>, String)> = Vec::new();
    for (i, line) in lines {
        let fields = split_row(line);
        let line_error = |reason: String| DatasetError::Line {
            path: path.clone(),
            line: i + 1,
            reason,
        };
        if fields.len() != width {
            return Err(line_error(format!(
                "{} fields, the header has {width}",
                fields.len()
            )));
        }
        let mut values = Vec::with_capacity(all_tags.len());
        for (t, v) in fields[1..width - 1].iter().enumerate() {
            values.push(match v.as_str() {
                "0" => 0,
                "1" => 1,
                _ => {
                    return Err(line_error(format!(
                        "tag `{}`: value `{v}` is not 0 or 1",
                        all_tags[t]
                    )))
                }
            });
        }
        rows.push((i + 1, values, fields[width - 1].clone()));
    }

    let columns: Vec<usize> = match &options.tags {
        Some(tags) => tags
            .iter()
            .map(|t| {
                all_tags.iter().position(|a| a == t).ok_or_else(|| {
                    DatasetError::format(
                        &path,
                        format!("unknown tag `{t}`: not a column of the header"),
                    )
                })
            })
            .collect::<Result<_>>()?,
        None => top_tag_columns(&rows, all_tags.len(), MTAT_TOP_TAGS),
    };

    let mut per_split: [Vec<ListedClip>; 3] = Default::default();
    let mut skipped = Vec::new();
    for (line, values, mp3_path) in &rows {
        let multi_hot: Vec<f32> = columns.iter().map(|&c| f32::from(values[c])).collect();
        if multi_hot.iter().all(|&v| v == 0.0) {
            continue;
        }
        let digit = mp3_path
            .chars()
            .next()
            .and_then(|c| c.to_digit(16))
            .filter(|_| mp3_path.as_bytes().get(1) == Some(&b'/'))
            .ok_or_else(|| DatasetError::Line {
                path: path.clone(),
                line: *line,
                reason: format!("mp3_path `{mp3_path}` is not `<hex digit>/<name>.mp3`"),
            })?;
        let (slot, split) = match digit {
            0..=11 => (0, AudioSplit::Train),
            12 => (1, AudioSplit::Valid),
            _ => (2, AudioSplit::Test),
        };
        let audio = root.join(MTAT_AUDIO_DIR).join(mp3_path);
        if !audio.is_file() {
            skipped.push(SkippedClip {
                path: audio,
                reason: format!(
                    "listed in {}:{line} but the audio file is missing",
                    path.display()
                ),
            });
            continue;
        }
        per_split[slot].push(ListedClip {
            path: audio,
            label: ClipLabel::Tags(multi_hot),
            split,
        });
    }
    Ok(ClipListing {
        clips: per_split.into_iter().flatten().collect(),
        classes: columns.iter().map(|&c| all_tags[c].clone()).collect(),
        skipped,
    })
}

/// The `k` tag columns with the most positive clips, most frequent first; ties go to the later
/// column (`np.argsort(counts)[::-1]` with a stable sort).
fn top_tag_columns(rows: &[(usize, Vec<u8>, String)], tags: usize, k: usize) -> Vec<usize> {
    let mut counts = vec![0usize; tags];
    for (_, values, _) in rows {
        for (c, &v) in values.iter().enumerate() {
            counts[c] += usize::from(v);
        }
    }
    let mut order: Vec<usize> = (0..tags).collect();
    order.sort_by(|&a, &b| counts[b].cmp(&counts[a]).then(b.cmp(&a)));
    order.truncate(k);
    order
}

/// The fields of one tab-separated row, surrounding double quotes removed.
fn split_row(line: &str) -> Vec<String> {
    line.trim_end_matches('\r')
        .split('\t')
        .map(|f| {
            let f = f.trim();
            f.strip_prefix('"')
                .and_then(|g| g.strip_suffix('"'))
                .unwrap_or(f)
                .to_string()
        })
        .collect()
}
