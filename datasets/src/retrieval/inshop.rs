//! DeepFashion In-Shop Clothes Retrieval in its own layout (Liu et al. 2016):
//! `list_eval_partition.txt` — line 1 the image count, line 2 the header `image_name item_id
//! evaluation_status`, then `img/WOMEN/Dresses/id_00000002/02_1_front.jpg id_00000002 train`
//! with status `train`, `query` or `gallery` — and the images under the root (`img/...`), as
//! ProxyAnchor's `dataset/Inshop.py` reads them. The benchmark download's own folders
//! (`Eval/list_eval_partition.txt`, images under `Img/img/...`) are accepted too.
//!
//! Labels: item ids are `id_<number>`; the training split numbers its items' numbers in
//! ascending order from 0; query and gallery share one numbering, that of the items appearing in
//! either (ascending), so a query's label equals the labels of its gallery matches and both
//! sources report the same `num_classes`. Samples follow file order.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{DatasetError, Result};

use super::listed::{line_path, malformed, read_lines, ListedEntry, ListedImages};
use super::{RetrievalData, RetrievalEval};

const HINT: &str = "point the dataset root at the In-Shop folder holding list_eval_partition.txt \
                    and img/ (or Eval/list_eval_partition.txt and Img/img/)";

/// The header (line 2) of `list_eval_partition.txt`.
pub const INSHOP_HEADER: &str = "image_name item_id evaluation_status";

/// `(partition file, image root)`: `root/list_eval_partition.txt` with images under `root`, or
/// the download's `root/Eval/list_eval_partition.txt` with images under `root/Img`.
pub fn inshop_paths(root: &Path) -> (PathBuf, PathBuf) {
    let flat = root.join("list_eval_partition.txt");
    let eval = root.join("Eval").join("list_eval_partition.txt");
    if !flat.is_file() && eval.is_file() {
        (eval, root.join("Img"))
    } else {
        (flat, root.to_path_buf())
    }
}

/// The number of an item id `id_00000002` (2).
fn item_number(file: &Path, no: usize, line: &str, item: &str) -> Result<u64> {
    item.strip_prefix("id_")
        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| {
            malformed(
                file,
                no,
                "<image_name> id_<digits> <train|query|gallery>",
                line,
            )
        })
}

/// Opens In-Shop at `root`: train on the `train` images, evaluate `query` against `gallery`.
pub fn open_inshop(root: &Path) -> Result<RetrievalData> {
    let (file, images) = inshop_paths(root);
    let lines = read_lines(&file, HINT)?;
    let mut iter = lines.into_iter();
    let count = match iter.next() {
        Some((no, l)) => l
            .trim()
            .parse::<usize>()
            .map_err(|_| malformed(&file, no, "<number of images>", &l))?,
        None => return Err(malformed(&file, 1, "<number of images>", "")),
    };
    match iter.next() {
        Some((_, h)) if h.split_whitespace().eq(INSHOP_HEADER.split_whitespace()) => {}
        Some((no, h)) => return Err(malformed(&file, no, INSHOP_HEADER, &h)),
        None => return Err(malformed(&file, 2, INSHOP_HEADER, "")),
    }
    const EXPECTED: &str = "<image_name> <item_id> <train|query|gallery>";
    let (mut train, mut query, mut gallery) = (Vec::new(), Vec::new(), Vec::new());
    let mut listed = 0;
    for (no, line) in iter {
        listed += 1;
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [name, item, status] = fields[..] else {
            return Err(malformed(&file, no, EXPECTED, &line));
        };
        let entry = ListedEntry {
            path: images.join(name),
            class_id: item_number(&file, no, &line, item)?,
            list: file.clone(),
            line: no,
        };
        match status {
            "train" => train.push(entry),
            "query" => query.push(entry),
            "gallery" => gallery.push(entry),
            other => {
                return Err(DatasetError::format(
                    line_path(&file, no),
                    format!(
                        "unknown evaluation_status `{other}` (expected train, query or gallery)"
                    ),
                ))
            }
        }
    }
    if listed != count {
        return Err(DatasetError::format(
            line_path(&file, 1),
            format!("the header says {count} images but {listed} are listed"),
        ));
    }
    let shared: Vec<u64> = query
        .iter()
        .chain(&gallery)
        .map(|e| e.class_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let train = ListedImages::new("In-Shop training split", &file, train)?;
    let query = ListedImages::with_classes("In-Shop query split", &file, query, &shared)?;
    let gallery = ListedImages::with_classes("In-Shop gallery split", &file, gallery, &shared)?;
    Ok(RetrievalData {
        train: Arc::new(train),
        eval: RetrievalEval::QueryGallery {
            query: Arc::new(query),
            gallery: Arc::new(gallery),
        },
    })
}
