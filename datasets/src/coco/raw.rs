//! The parts of a COCO `instances_*.json` the reader keeps, as serde structs. Every other field
//! (`info`, `licenses`, `segmentation`, `coco_url`, `supercategory`, ...) is skipped while
//! parsing, so a polygon or RLE segmentation is never held in memory.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use serde::Deserialize;

use crate::error::{DatasetError, Result};

/// The top level of an instances file: the three lists the reader needs.
#[derive(Debug, Deserialize)]
pub(crate) struct RawInstances {
    pub images: Vec<RawImage>,
    pub annotations: Vec<RawAnnotation>,
    pub categories: Vec<RawCategory>,
}

/// One entry of `images`.
#[derive(Debug, Deserialize)]
pub(crate) struct RawImage {
    pub id: u64,
    pub file_name: String,
    pub width: u32,
    pub height: u32,
}

/// One entry of `annotations`, without its `segmentation`.
#[derive(Debug, Deserialize)]
pub(crate) struct RawAnnotation {
    pub id: u64,
    pub image_id: u64,
    pub category_id: u64,
    pub bbox: [f64; 4],
    pub area: f64,
    pub iscrowd: u8,
}

/// One entry of `categories`.
#[derive(Debug, Deserialize)]
pub(crate) struct RawCategory {
    pub id: u64,
    pub name: String,
}

/// Parses `path` streaming from a buffered reader. A missing file is [`DatasetError::Missing`];
/// a file that is not JSON, or JSON without `images` / `annotations` / `categories` (or with a
/// field of the wrong type) is a [`DatasetError::Format`] naming the file and serde's line and
/// column.
pub(crate) fn read_instances(path: &Path) -> Result<RawInstances> {
    if !path.is_file() {
        return Err(DatasetError::Missing {
            path: path.to_path_buf(),
            what: "a COCO instances annotation file (annotations/instances_<split>.json)".into(),
            hint: "unpack annotations_trainval2017.zip under the dataset root, or point the \
                   annotation path at the file"
                .into(),
        });
    }
    let file = File::open(path).map_err(|e| DatasetError::io(path, e))?;
    serde_json::from_reader(BufReader::with_capacity(1 << 20, file)).map_err(|e| {
        DatasetError::format(
            path,
            format!(
                "not a COCO instances file (a JSON object with `images`, `annotations` and \
                 `categories` lists): {e}"
            ),
        )
    })
}
