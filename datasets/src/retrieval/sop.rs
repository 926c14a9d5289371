//! Stanford Online Products in its own layout (Oh Song et al. 2016; `Stanford_Online_Products.zip`):
//! `Ebay_train.txt` and `Ebay_test.txt`, each a header line `image_id class_id super_class_id
//! path` then one line per image (`1 1 1 bicycle_final/111085122871_0.JPG`), paths relative to
//! the root. The split is the files' own (11,318 training classes, 11,316 evaluation classes).
//! Labels: each file's `class_id`s in ascending order numbered from 0 (train: id − 1; test:
//! id − 11,319 for SOP). Samples follow file order. The emoji stand-in
//! ([`super::emoji_sop`]) is written in this layout.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::Result;

use super::listed::{malformed, parse_id, read_lines, ListedEntry, ListedImages};
use super::{RetrievalData, RetrievalEval};

const HINT: &str = "point the dataset root at the unpacked Stanford_Online_Products folder \
                    (it holds Ebay_train.txt, Ebay_test.txt and the <category>_final/ folders)";

/// The header of `Ebay_train.txt` / `Ebay_test.txt`.
pub const SOP_HEADER: &str = "image_id class_id super_class_id path";

/// The folder holding `Ebay_train.txt`: `root` itself or `root/Stanford_Online_Products`.
pub fn sop_dir(root: &Path) -> PathBuf {
    let inner = root.join("Stanford_Online_Products");
    if !root.join("Ebay_train.txt").is_file() && inner.join("Ebay_train.txt").is_file() {
        inner
    } else {
        root.to_path_buf()
    }
}

/// The entries of one `Ebay_*.txt` (header checked, every line four fields).
fn read_split(dir: &Path, file: &Path) -> Result<Vec<ListedEntry>> {
    let lines = read_lines(file, HINT)?;
    let mut iter = lines.into_iter();
    match iter.next() {
        Some((_, h)) if h.split_whitespace().eq(SOP_HEADER.split_whitespace()) => {}
        Some((no, h)) => return Err(malformed(file, no, SOP_HEADER, &h)),
        None => return Ok(Vec::new()),
    }
    const EXPECTED: &str = "<image_id> <class_id> <super_class_id> <path>";
    let mut out = Vec::new();
    for (no, line) in iter {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [image_id, class_id, super_id, path] = fields[..] else {
            return Err(malformed(file, no, EXPECTED, &line));
        };
        parse_id(file, no, EXPECTED, &line, image_id)?;
        parse_id(file, no, EXPECTED, &line, super_id)?;
        out.push(ListedEntry {
            path: dir.join(path),
            class_id: parse_id(file, no, EXPECTED, &line, class_id)?,
            list: file.to_path_buf(),
            line: no,
        });
    }
    Ok(out)
}

/// Opens Stanford Online Products at `root` (or `root/Stanford_Online_Products`): train on
/// `Ebay_train.txt`, evaluate within `Ebay_test.txt`.
pub fn open_sop(root: &Path) -> Result<RetrievalData> {
    let dir = sop_dir(root);
    let train_txt = dir.join("Ebay_train.txt");
    let test_txt = dir.join("Ebay_test.txt");
    let train = read_split(&dir, &train_txt)?;
    let test = read_split(&dir, &test_txt)?;
    let train = ListedImages::new("Stanford Online Products training split", &train_txt, train)?;
    let test = ListedImages::new("Stanford Online Products test split", &test_txt, test)?;
    Ok(RetrievalData {
        train: Arc::new(train),
        eval: RetrievalEval::Within(Arc::new(test)),
    })
}
