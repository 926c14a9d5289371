//! Cars-196 (Krause et al. 2013) as its devkit annotation table: the struct array
//! `annotations` of `cars_annos.mat` (fields `relative_im_path`, `bbox_x1`, `bbox_y1`,
//! `bbox_x2`, `bbox_y2`, `class`, `test`; images under `car_ims/`), read from its CSV export
//! `cars_annos.csv`: a header naming those fields, then one row per struct element
//! (`car_ims/000001.jpg,112,7,853,717,1,0`), class ids 1-196 as in the `.mat`. The columns are
//! found by name (`relative_im_path` and `class` are required; the others are ignored).
//! `tools/cars_annos_to_csv.py` (scipy) writes this file from `cars_annos.mat`.
//!
//! Why not the `.mat` directly: no maintained crate reads its struct array (checked
//! 2026-12-04): `matfile` 0.5.0 loads numeric arrays only and skips structs; `matrw` 0.1.4
//! parses struct arrays, but only behind a header text beginning exactly `MATLAB 5.0 MAT-file, `
//! (a scipy-written file is refused) and its typed accessors panic (`unwrap`) when a field's
//! numeric type is not the one asked for.
//!
//! The retrieval split is by class: 1-98 train, 99-196 evaluate (paper.md section 4;
//! ProxyAnchor `dataset/cars.py`), the devkit's `test` flag is not used. Labels: each split's
//! class ids in ascending order numbered from 0 (train: id − 1; eval: id − 99). Samples follow
//! row order.

use std::path::Path;
use std::sync::Arc;

use crate::error::{DatasetError, Result};

use super::listed::{
    line_path, malformed, parse_id, read_lines, split_class_halves, ListedEntry, ListedImages,
};
use super::{RetrievalData, RetrievalEval};

/// The annotation table's file name.
pub const CARS_ANNOS_CSV: &str = "cars_annos.csv";

/// The header `tools/cars_annos_to_csv.py` writes: the `.mat` struct's fields in order.
pub const CARS_HEADER: &str = "relative_im_path,bbox_x1,bbox_y1,bbox_x2,bbox_y2,class,test";

const HINT: &str = "point the dataset root at the Cars-196 folder holding car_ims/ and \
                    cars_annos.csv; write the CSV from the devkit's cars_annos.mat with \
                    `python tools/cars_annos_to_csv.py <root>/cars_annos.mat`";

/// Opens Cars-196 at `root` (`cars_annos.csv` + `car_ims/`): train on the first half of the
/// class ids (1-98), evaluate within the rest (99-196).
pub fn open_cars(root: &Path) -> Result<RetrievalData> {
    let file = root.join(CARS_ANNOS_CSV);
    let lines = read_lines(&file, HINT)?;
    let mut iter = lines.into_iter();
    let Some((hno, header)) = iter.next() else {
        return Err(malformed(&file, 1, CARS_HEADER, ""));
    };
    let columns: Vec<&str> = header
        .split(',')
        .map(|c| c.trim().trim_matches('"'))
        .collect();
    let find = |name: &str| {
        columns.iter().position(|c| *c == name).ok_or_else(|| {
            DatasetError::format(
                line_path(&file, hno),
                format!("the header has no `{name}` column (expected `{CARS_HEADER}`)"),
            )
        })
    };
    let (path_col, class_col) = (find("relative_im_path")?, find("class")?);
    let mut entries = Vec::new();
    for (no, line) in iter {
        let cells: Vec<&str> = line
            .split(',')
            .map(|c| c.trim().trim_matches('"'))
            .collect();
        if cells.len() != columns.len() {
            return Err(malformed(&file, no, CARS_HEADER, &line));
        }
        let rel = cells[path_col];
        if rel.is_empty() {
            return Err(malformed(&file, no, CARS_HEADER, &line));
        }
        entries.push(ListedEntry {
            path: root.join(rel),
            class_id: parse_id(&file, no, CARS_HEADER, &line, cells[class_col])?,
            list: file.clone(),
            line: no,
        });
    }
    if entries.is_empty() {
        return Err(DatasetError::format(
            &file,
            "no annotation rows after the header",
        ));
    }
    let (train, eval) = split_class_halves(&file, entries)?;
    let train = ListedImages::new("Cars-196 training split", &file, train)?;
    let eval = ListedImages::new("Cars-196 evaluation split", &file, eval)?;
    Ok(RetrievalData {
        train: Arc::new(train),
        eval: RetrievalEval::Within(Arc::new(eval)),
    })
}
