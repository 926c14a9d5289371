//! CUB-200-2011 in its own layout (Wah et al. 2011; `CUB_200_2011.tgz`): `images.txt`
//! (`<image_id> <relative path>`), `image_class_labels.txt` (`<image_id> <class_id>`), the
//! images under `images/` (`images/001.Black_footed_Albatross/...jpg`). The retrieval split is
//! by class, not the file's `train_test_split.txt`: classes 1-100 train, 101-200 evaluate
//! (paper.md section 4; ProxyAnchor `dataset/cub.py`), via
//! [`super::listed::split_class_halves`] — the first half of the sorted class ids, so the
//! Fashion-MNIST stand-in in this layout ([`super::fmnist_cub`], ids 1-10) splits 1-5 / 6-10.
//! Labels: each split's class ids in ascending order numbered from 0 (train: id − 1; eval:
//! id − 101 for CUB). Samples follow `images.txt` order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{DatasetError, Result};

use super::listed::{
    line_path, malformed, parse_id, read_lines, split_class_halves, ListedEntry, ListedImages,
};
use super::{RetrievalData, RetrievalEval};

const HINT: &str = "point the dataset root at the unpacked CUB_200_2011 folder (it holds \
                    images.txt, image_class_labels.txt and images/)";

/// The folder holding `images.txt`: `root` itself or `root/CUB_200_2011`.
pub fn cub_dir(root: &Path) -> PathBuf {
    let inner = root.join("CUB_200_2011");
    if !root.join("images.txt").is_file() && inner.join("images.txt").is_file() {
        inner
    } else {
        root.to_path_buf()
    }
}

/// One `<id> <value>` line: `(line number, value, whole line)`.
type IdLine = (usize, String, String);

/// `<id> <value>` lines of `file` as a map, each id once.
fn read_id_table(file: &Path, expected: &str) -> Result<BTreeMap<u64, IdLine>> {
    let mut out = BTreeMap::new();
    for (no, line) in read_lines(file, HINT)? {
        let mut parts = line.trim().splitn(2, char::is_whitespace);
        let (Some(id), Some(value)) = (parts.next(), parts.next()) else {
            return Err(malformed(file, no, expected, &line));
        };
        let id = parse_id(file, no, expected, &line, id)?;
        let value = value.trim();
        if value.is_empty() {
            return Err(malformed(file, no, expected, &line));
        }
        if let Some((first, _, _)) = out.insert(id, (no, value.to_string(), line.clone())) {
            return Err(DatasetError::format(
                line_path(file, no),
                format!("image id {id} is listed twice (first at line {first})"),
            ));
        }
    }
    Ok(out)
}

/// Opens CUB-200-2011 at `root` (or `root/CUB_200_2011`): train on the first half of the class
/// ids, evaluate within the second half (see the module docs).
pub fn open_cub(root: &Path) -> Result<RetrievalData> {
    let dir = cub_dir(root);
    let images_txt = dir.join("images.txt");
    let labels_txt = dir.join("image_class_labels.txt");
    let images = read_id_table(&images_txt, "<image_id> <relative image path>")?;
    let labels = read_id_table(&labels_txt, "<image_id> <class_id>")?;
    let mut entries = Vec::with_capacity(images.len());
    for (id, (no, rel, _)) in &images {
        let Some((label_no, class, label_line)) = labels.get(id) else {
            return Err(DatasetError::format(
                line_path(&images_txt, *no),
                format!("image id {id} has no line in {}", labels_txt.display()),
            ));
        };
        let class_id = parse_id(
            &labels_txt,
            *label_no,
            "<image_id> <class_id>",
            label_line,
            class,
        )?;
        entries.push(ListedEntry {
            path: dir.join("images").join(rel),
            class_id,
            list: images_txt.clone(),
            line: *no,
        });
    }
    if let Some((id, (no, _, _))) = labels.iter().find(|(id, _)| !images.contains_key(id)) {
        return Err(DatasetError::format(
            line_path(&labels_txt, *no),
            format!("image id {id} is not in {}", images_txt.display()),
        ));
    }
    entries.sort_by_key(|e| e.line);
    let (train, eval) = split_class_halves(&labels_txt, entries)?;
    let train = ListedImages::new("CUB-200-2011 training split", &images_txt, train)?;
    let eval = ListedImages::new("CUB-200-2011 evaluation split", &images_txt, eval)?;
    Ok(RetrievalData {
        train: Arc::new(train),
        eval: RetrievalEval::Within(Arc::new(eval)),
    })
}
