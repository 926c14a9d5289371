//! A tiny MS-COCO dataset in the REAL layout, for tests and smoke runs of the detection task,
//! read back through [`crate::coco::open_coco`]:
//!
//! ```text
//! <root>/annotations/instances_train2017.json   <root>/train2017/<id:012>.jpg
//! <root>/annotations/instances_val2017.json     <root>/val2017/<id:012>.jpg
//! ```
//!
//! Categories 1 `person`, 3 `car`, 90 `toothbrush` (non-contiguous ids). Each split has
//! `images` images of [`WIDTH`] x [`HEIGHT`] (grey background, one coloured rectangle per
//! object); image `j` (0-based) holds `1 + j % 3` objects, except the last image, which holds
//! none and is saved as a grey (1-channel) JPEG. The first object of image 1 is a crowd
//! annotation. Object `o` of image `j`: category `[1, 3, 90][(j + o) % 3]`, box
//! `[4 + 18 o, 4 + 2 j % 8, 12, 10 + o]`, `area` = 0.9 × box area. Image ids: train
//! `1000 + 7 j`, val `5000 + 7 j`; annotation ids count from 1 (train) and 501 (val). The JSON
//! also holds `info`, `licenses`, `segmentation` and `coco_url`, as the real files do.
//! Deterministic: the same arguments write the same bytes.

use std::path::Path;

use serde_json::{json, Value};

use crate::error::{DatasetError, Result};

/// Image width of the tiny data.
pub const WIDTH: u32 = 64;
/// Image height of the tiny data.
pub const HEIGHT: u32 = 48;
/// The category ids and names.
pub const CATEGORIES: [(u64, &str); 3] = [(1, "person"), (3, "car"), (90, "toothbrush")];

/// Objects in image `j` of a split of `n` images.
pub fn objects_in(j: usize, n: usize) -> usize {
    if j + 1 == n {
        0
    } else {
        1 + j % 3
    }
}

/// The box of object `o` in image `j`, `[x, y, w, h]`.
pub fn box_of(j: usize, o: usize) -> [f64; 4] {
    [
        4.0 + 18.0 * o as f64,
        4.0 + (2 * j % 8) as f64,
        12.0,
        10.0 + o as f64,
    ]
}

fn colour(category: u64) -> [u8; 3] {
    match category {
        1 => [220, 40, 40],
        3 => [40, 200, 60],
        _ => [40, 60, 230],
    }
}

/// Writes one split (`train` or `val`) of `n` images; see the module docs.
fn write_split(root: &Path, split: &str, n: usize, first_image: u64, first_ann: u64) -> Result<()> {
    let folder = root.join(format!("{split}2017"));
    std::fs::create_dir_all(&folder).map_err(|e| DatasetError::io(&folder, e))?;
    let (mut images, mut annotations) = (Vec::new(), Vec::new());
    let mut ann_id = first_ann;
    for j in 0..n {
        let id = first_image + 7 * j as u64;
        let file_name = format!("{id:012}.jpg");
        let mut rgb = image::RgbImage::from_pixel(WIDTH, HEIGHT, image::Rgb([128, 128, 128]));
        for o in 0..objects_in(j, n) {
            let category = CATEGORIES[(j + o) % 3].0;
            let bbox = box_of(j, o);
            let [x, y, w, h] = bbox.map(|v| v as u32);
            for yy in y..y + h {
                for xx in x..x + w {
                    rgb.put_pixel(xx, yy, image::Rgb(colour(category)));
                }
            }
            let (bx, by) = (bbox[0], bbox[1]);
            let (ex, ey) = (bx + bbox[2], by + bbox[3]);
            annotations.push(json!({
                "segmentation": [[bx, by, ex, by, ex, ey, bx, ey]],
                "area": 0.9 * bbox[2] * bbox[3],
                "iscrowd": u8::from(j == 1 && o == 0),
                "image_id": id,
                "bbox": bbox,
                "category_id": category,
                "id": ann_id,
            }));
            ann_id += 1;
        }
        let path = folder.join(&file_name);
        let saved = if objects_in(j, n) == 0 {
            image::DynamicImage::ImageRgb8(rgb)
                .into_luma8()
                .save_with_format(&path, image::ImageFormat::Jpeg)
        } else {
            rgb.save_with_format(&path, image::ImageFormat::Jpeg)
        };
        saved.map_err(|e| DatasetError::io(&path, std::io::Error::other(e)))?;
        images.push(json!({
            "license": 1,
            "file_name": file_name,
            "coco_url": format!("http://images.cocodataset.org/{split}2017/{file_name}"),
            "height": HEIGHT,
            "width": WIDTH,
            "date_captured": "2013-11-14 17:02:52",
            "id": id,
        }));
    }
    let categories: Vec<Value> = CATEGORIES
        .iter()
        .map(|(id, name)| json!({"supercategory": "thing", "id": id, "name": name}))
        .collect();
    let doc = json!({
        "info": {"description": "adamp-rs tiny COCO test data", "version": "1.0", "year": 2017},
        "licenses": [{"url": "http://example.invalid/", "id": 1, "name": "test"}],
        "images": images,
        "annotations": annotations,
        "categories": categories,
    });
    let dir = root.join("annotations");
    std::fs::create_dir_all(&dir).map_err(|e| DatasetError::io(&dir, e))?;
    let path = dir.join(format!("instances_{split}2017.json"));
    let text = serde_json::to_string(&doc).expect("a JSON value serialises");
    std::fs::write(&path, text).map_err(|e| DatasetError::io(&path, e))
}

/// Writes the tiny dataset under `root`: `train_images` training and `val_images` validation
/// images (each at least 3, so every split has a crowd box and an image without objects).
pub fn write_tiny(root: &Path, train_images: usize, val_images: usize) -> Result<()> {
    if train_images < 3 || val_images < 3 {
        return Err(DatasetError::Config {
            name: "write_tiny".into(),
            reason: format!(
                "{train_images} training and {val_images} validation images: need at least 3 each"
            ),
        });
    }
    write_split(root, "train", train_images, 1000, 1)?;
    write_split(root, "val", val_images, 5000, 501)
}
