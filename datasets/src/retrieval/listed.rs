//! A retrieval split as a list of image files, each with the dataset's own class id, read from
//! the dataset's split files (CUB's `images.txt`, SOP's `Ebay_*.txt`, In-Shop's
//! `list_eval_partition.txt`, Cars' annotation table). Images are decoded lazily, one file per
//! [`ImageSource::image`] call, with [`decode_rgb`] (as [`crate::image_folder::ImageFolder`]).
//!
//! Labels are contiguous and 0-based: the split's distinct class ids, sorted ascending, numbered
//! `0, 1, 2, ...` ([`ListedImages::class_ids`] maps a label back to the dataset's id). Every
//! listed image must exist when the split is opened: a missing one is an error naming the image,
//! the split file and its line, before any training starts.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::error::{DatasetError, Result};
use crate::image_folder::decode_rgb;
use crate::source::{ImageSource, ImageU8};

/// One line of a split file: an image and its dataset class id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedEntry {
    /// The image file (absolute, or relative to the working folder).
    pub path: PathBuf,
    /// The dataset's class id (CUB class, SOP `class_id`, In-Shop item number, Cars class).
    pub class_id: u64,
    /// The split file that names the image.
    pub list: PathBuf,
    /// Its 1-based line (or record) number in `list`.
    pub line: usize,
}

/// An [`ImageSource`] over listed image files with contiguous labels (see the module docs).
#[derive(Debug, Clone)]
pub struct ListedImages {
    description: String,
    class_ids: Vec<u64>,
    samples: Vec<(PathBuf, u32)>,
}

impl ListedImages {
    /// Builds a split from `entries`, numbering the sorted distinct class ids `0..`. An empty
    /// split is an error naming `what` (e.g. "CUB-200-2011 evaluation split") and `list`; a
    /// listed image that is not a file is an error naming it and its `file:line`.
    pub fn new(what: &str, list: &Path, entries: Vec<ListedEntry>) -> Result<Self> {
        let ids: BTreeSet<u64> = entries.iter().map(|e| e.class_id).collect();
        Self::with_classes(what, list, entries, &ids.into_iter().collect::<Vec<_>>())
    }

    /// As [`ListedImages::new`] with the label numbering given: `class_ids` (sorted, distinct)
    /// holds the id of each label, so two splits can share one numbering (In-Shop's query and
    /// gallery). An entry whose id is not in `class_ids` is an error naming its `file:line`.
    pub fn with_classes(
        what: &str,
        list: &Path,
        entries: Vec<ListedEntry>,
        class_ids: &[u64],
    ) -> Result<Self> {
        if entries.is_empty() {
            return Err(DatasetError::format(
                list,
                format!("the {what} is empty (no image is listed for it)"),
            ));
        }
        let mut samples = Vec::with_capacity(entries.len());
        for e in entries {
            let Ok(label) = class_ids.binary_search(&e.class_id) else {
                return Err(DatasetError::format(
                    line_path(&e.list, e.line),
                    format!("class {} is not among the {what}'s classes", e.class_id),
                ));
            };
            if !e.path.is_file() {
                return Err(DatasetError::Missing {
                    path: e.path,
                    what: format!(
                        "the image named at {}:{} ({what})",
                        e.list.display(),
                        e.line
                    ),
                    hint: "the split file and the image folder do not match: unpack every \
                           image of the dataset under its root, keeping the dataset's layout"
                        .into(),
                });
            }
            samples.push((e.path, label as u32));
        }
        tracing::debug!(
            split = what,
            images = samples.len(),
            classes = class_ids.len(),
            "opened a listed split"
        );
        Ok(Self {
            description: format!("{what} ({})", list.display()),
            class_ids: class_ids.to_vec(),
            samples,
        })
    }

    /// The dataset's class id of each label (`class_ids()[label]`).
    pub fn class_ids(&self) -> &[u64] {
        &self.class_ids
    }

    /// The image file of sample `i`.
    pub fn path(&self, i: usize) -> &Path {
        &self.samples[i].0
    }

    /// Every sample's label, in sample order.
    pub fn labels(&self) -> Vec<u32> {
        self.samples.iter().map(|s| s.1).collect()
    }
}

impl ImageSource for ListedImages {
    fn len(&self) -> usize {
        self.samples.len()
    }
    fn num_classes(&self) -> usize {
        self.class_ids.len()
    }
    fn label(&self, i: usize) -> u32 {
        self.samples[i].1
    }
    fn image(&self, i: usize) -> Result<ImageU8> {
        decode_rgb(&self.samples[i].0)
    }
    fn describe(&self) -> String {
        self.description.clone()
    }
}

/// `file:line` as a path, for errors about one line of a split file.
pub fn line_path(file: &Path, line: usize) -> PathBuf {
    PathBuf::from(format!("{}:{line}", file.display()))
}

/// The non-blank lines of a text split file as `(1-based line number, line)`.
pub fn read_lines(file: &Path, hint: &str) -> Result<Vec<(usize, String)>> {
    if !file.is_file() {
        return Err(DatasetError::Missing {
            path: file.to_path_buf(),
            what: "a split file of the dataset".into(),
            hint: hint.into(),
        });
    }
    let text = std::fs::read_to_string(file).map_err(|e| DatasetError::io(file, e))?;
    Ok(text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r').to_string()))
        .collect())
}

/// A malformed line: `file:line: expected <expected>, found <the line>`.
pub fn malformed(file: &Path, line: usize, expected: &str, found: &str) -> DatasetError {
    DatasetError::format(
        line_path(file, line),
        format!("expected `{expected}`, found `{}`", found.trim()),
    )
}

/// Parses a positive integer field of a line, or a [`malformed`] error.
pub fn parse_id(file: &Path, line: usize, expected: &str, text: &str, field: &str) -> Result<u64> {
    field
        .parse::<u64>()
        .map_err(|_| malformed(file, line, expected, text))
}

/// Splits entries by class id: the first half of the sorted distinct ids (`⌊C/2⌋` of `C`)
/// train, the rest evaluate (CUB 1-100 / 101-200, Cars 1-98 / 99-196: the ProxyAnchor and
/// pytorch-metric-learning split). Fewer than two classes is an error naming `list`.
pub fn split_class_halves(
    list: &Path,
    entries: Vec<ListedEntry>,
) -> Result<(Vec<ListedEntry>, Vec<ListedEntry>)> {
    let ids: Vec<u64> = entries
        .iter()
        .map(|e| e.class_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if ids.len() < 2 {
        return Err(DatasetError::format(
            list,
            format!(
                "{} class(es) listed; the class split needs at least 2 (first half train, rest evaluate)",
                ids.len()
            ),
        ));
    }
    let first_eval = ids[ids.len() / 2];
    Ok(entries.into_iter().partition(|e| e.class_id < first_eval))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(dir: &Path, name: &str, class_id: u64, line: usize) -> ListedEntry {
        ListedEntry {
            path: dir.join(name),
            class_id,
            list: dir.join("list.txt"),
            line,
        }
    }

    #[test]
    fn labels_are_the_sorted_class_ids_numbered_from_zero() {
        let t = tempfile::tempdir().unwrap();
        for n in ["a.png", "b.png", "c.png"] {
            crate::image_folder::tests::write_image(&t.path().join(n), 4, 3, 9);
        }
        let entries = vec![
            entry(t.path(), "a.png", 40, 1),
            entry(t.path(), "b.png", 7, 2),
            entry(t.path(), "c.png", 40, 3),
        ];
        let s = ListedImages::new("tiny split", &t.path().join("list.txt"), entries).unwrap();
        assert_eq!(s.class_ids(), [7, 40]);
        assert_eq!((s.len(), s.num_classes()), (3, 2));
        assert_eq!(s.labels(), [1, 0, 1]);
        assert_eq!(s.image(1).unwrap().width, 4);
    }

    #[test]
    fn a_missing_image_names_the_image_file_and_line_and_an_empty_split_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let list = t.path().join("list.txt");
        let msg = ListedImages::new("x split", &list, vec![entry(t.path(), "gone.jpg", 1, 7)])
            .unwrap_err()
            .to_string();
        assert!(msg.contains("gone.jpg"), "{msg}");
        assert!(msg.contains("list.txt:7"), "{msg}");
        let msg = ListedImages::new("x split", &list, vec![])
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("x split is empty") && msg.contains("list.txt"),
            "{msg}"
        );
    }

    #[test]
    fn class_halves_split_by_sorted_id() {
        let t = tempfile::tempdir().unwrap();
        let entries: Vec<ListedEntry> = [3, 1, 2, 4, 5, 1]
            .iter()
            .enumerate()
            .map(|(i, &c)| entry(t.path(), "x", c, i + 1))
            .collect();
        let (train, eval) = split_class_halves(Path::new("l"), entries).unwrap();
        let ids = |v: &[ListedEntry]| v.iter().map(|e| e.class_id).collect::<Vec<_>>();
        assert_eq!(ids(&train), [1, 2, 1]);
        assert_eq!(ids(&eval), [3, 4, 5]);
        let one = vec![entry(t.path(), "x", 1, 1)];
        assert!(split_class_halves(Path::new("l"), one).is_err());
    }
}
