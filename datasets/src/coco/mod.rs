//! MS-COCO object detection (benchmark 2, issue 16): the instances annotation file
//! (`annotations/instances_<split>2017.json`) and its image folder (`<split>2017/`).
//!
//! [`open_coco`]`(annotation_json, image_dir)` → [`CocoDetection`]: the images in file order
//! (id, path, size, kept boxes), the category map ([`CocoCategories`]: ids ↔ contiguous labels
//! in ascending id order), every annotation in file order ([`CocoDetection::ground_truths`],
//! what pycocotools' `COCO` holds and the evaluator needs), and decoding of image `i` to RGB.
//!
//! Checks at open time, each an error naming the file: not JSON or no `images` /
//! `annotations` / `categories`; duplicate image, annotation or category ids; an annotation
//! whose `category_id` or `image_id` is not listed (named by its annotation id); an image of
//! zero width or height; any listed image file missing (the first one and the count).
//! Boxes that cannot train are counted in [`SkipCounts`] and left out of the images' boxes
//! (not out of [`CocoDetection::ground_truths`], since COCOeval counts them): `w <= 0` or
//! `h <= 0` (`zero_area`), or reaching more than [`BORDER_TOLERANCE`] pixels past the image
//! (`outside_image`; COCO boxes touch or slightly cross the border).
//!
//! [`augment::augment`] turns image `i` and its boxes into a network input with the CenterNet or
//! SSD reference pipeline ([`augment::Pipeline`]).

pub mod augment;
mod categories;
mod raw;

#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

pub use categories::CocoCategories;

use crate::error::{DatasetError, Result};
use crate::image_folder::decode_rgb;
use crate::source::ImageU8;

/// How far (pixels) a box may reach past the image's edges before it is skipped as outside.
pub const BORDER_TOLERANCE: f64 = 1.0;

/// One annotation: a box of one category in one image.
#[derive(Debug, Clone, PartialEq)]
pub struct CocoAnnotation {
    /// The annotation id.
    pub id: u64,
    /// The image's COCO id.
    pub image_id: u64,
    /// The COCO category id.
    pub category_id: u64,
    /// The contiguous label of `category_id` ([`CocoCategories::label_of`]).
    pub label: u32,
    /// `[x, y, w, h]` in pixels, origin at the image's top-left corner.
    pub bbox: [f64; 4],
    /// COCO's `area` field (the segment's area; decides COCOeval's area ranges).
    pub area: f64,
    /// A crowd region (`iscrowd` = 1).
    pub iscrowd: bool,
}

/// One image of the annotation file.
#[derive(Debug, Clone, PartialEq)]
pub struct CocoImage {
    /// The image's COCO id.
    pub id: u64,
    /// `image_dir / file_name`.
    pub path: PathBuf,
    /// Width in pixels, as the annotation file says.
    pub width: u32,
    /// Height in pixels, as the annotation file says.
    pub height: u32,
    /// Indices into [`CocoDetection::ground_truths`] of the boxes kept for training, file order.
    pub boxes: Vec<usize>,
}

/// Annotations left out of the training boxes (see the module docs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SkipCounts {
    /// `w <= 0` or `h <= 0`.
    pub zero_area: usize,
    /// Reaching more than [`BORDER_TOLERANCE`] pixels past the image.
    pub outside_image: usize,
}

impl SkipCounts {
    /// Both counts together.
    pub fn total(&self) -> usize {
        self.zero_area + self.outside_image
    }
}

/// A COCO detection split (see the module docs).
#[derive(Debug, Clone)]
pub struct CocoDetection {
    annotation_file: PathBuf,
    image_dir: PathBuf,
    images: Vec<CocoImage>,
    annotations: Vec<CocoAnnotation>,
    categories: CocoCategories,
    skipped: SkipCounts,
}

/// Why an annotation's box cannot train, if it cannot.
fn skip_reason(bbox: &[f64; 4], width: u32, height: u32) -> Option<bool> {
    let [x, y, w, h] = *bbox;
    if w <= 0.0 || h <= 0.0 {
        return Some(true);
    }
    let t = BORDER_TOLERANCE;
    let outside = x < -t || y < -t || x + w > f64::from(width) + t || y + h > f64::from(height) + t;
    outside.then_some(false)
}

/// Opens the COCO instances file `annotation_json` with its images in `image_dir` (see the
/// module docs for the checks).
pub fn open_coco(annotation_json: &Path, image_dir: &Path) -> Result<CocoDetection> {
    let raw = raw::read_instances(annotation_json)?;
    let bad = |reason: String| DatasetError::format(annotation_json, reason);

    let categories =
        CocoCategories::new(raw.categories.into_iter().map(|c| (c.id, c.name)).collect())
            .map_err(|id| bad(format!("category id {id} is listed twice in `categories`")))?;
    if categories.is_empty() {
        return Err(bad("`categories` is empty".into()));
    }
    if raw.images.is_empty() {
        return Err(bad("`images` is empty".into()));
    }
    if !image_dir.is_dir() {
        return Err(DatasetError::Missing {
            path: image_dir.to_path_buf(),
            what: format!("the image folder of {}", annotation_json.display()),
            hint: "unpack the split's image zip (e.g. val2017.zip) under the dataset root".into(),
        });
    }

    let mut index_of = HashMap::with_capacity(raw.images.len());
    let mut images = Vec::with_capacity(raw.images.len());
    for img in raw.images {
        if img.width == 0 || img.height == 0 {
            return Err(bad(format!(
                "image id {} ({}) has size {}x{}",
                img.id, img.file_name, img.width, img.height
            )));
        }
        if index_of.insert(img.id, images.len()).is_some() {
            return Err(bad(format!(
                "image id {} is listed twice in `images`",
                img.id
            )));
        }
        images.push(CocoImage {
            id: img.id,
            path: image_dir.join(&img.file_name),
            width: img.width,
            height: img.height,
            boxes: Vec::new(),
        });
    }

    let mut seen = HashSet::with_capacity(raw.annotations.len());
    let mut annotations = Vec::with_capacity(raw.annotations.len());
    let mut skipped = SkipCounts::default();
    for a in raw.annotations {
        if !seen.insert(a.id) {
            return Err(bad(format!(
                "annotation id {} is listed twice in `annotations`",
                a.id
            )));
        }
        let Some(label) = categories.label_of(a.category_id) else {
            return Err(bad(format!(
                "annotation id {}: category_id {} is not in `categories`",
                a.id, a.category_id
            )));
        };
        let Some(&i) = index_of.get(&a.image_id) else {
            return Err(bad(format!(
                "annotation id {}: image_id {} is not in `images`",
                a.id, a.image_id
            )));
        };
        let img = &mut images[i];
        match skip_reason(&a.bbox, img.width, img.height) {
            Some(true) => skipped.zero_area += 1,
            Some(false) => skipped.outside_image += 1,
            None => img.boxes.push(annotations.len()),
        }
        annotations.push(CocoAnnotation {
            id: a.id,
            image_id: a.image_id,
            category_id: a.category_id,
            label,
            bbox: a.bbox,
            area: a.area,
            iscrowd: a.iscrowd != 0,
        });
    }

    let missing: Vec<&Path> = images
        .iter()
        .map(|img| img.path.as_path())
        .filter(|p| !p.exists())
        .collect();
    if let Some(first) = missing.first() {
        return Err(DatasetError::Missing {
            path: first.to_path_buf(),
            what: format!(
                "an image listed in {} ({} of its {} image files are missing)",
                annotation_json.display(),
                missing.len(),
                images.len()
            ),
            hint: "the annotation file and the image folder do not match: unpack the split's \
                   image zip (e.g. val2017.zip) into the image folder"
                .into(),
        });
    }

    let data = CocoDetection {
        annotation_file: annotation_json.to_path_buf(),
        image_dir: image_dir.to_path_buf(),
        images,
        annotations,
        categories,
        skipped,
    };
    tracing::debug!(summary = data.describe(), "opened a COCO split");
    Ok(data)
}

impl CocoDetection {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.images.len()
    }

    /// Whether there are no images (never, once opened).
    pub fn is_empty(&self) -> bool {
        self.images.is_empty()
    }

    /// Every image, in file order.
    pub fn images(&self) -> &[CocoImage] {
        &self.images
    }

    /// The boxes of image `i` kept for training, in file order.
    pub fn boxes(&self, i: usize) -> impl Iterator<Item = &CocoAnnotation> + '_ {
        self.images[i].boxes.iter().map(|&k| &self.annotations[k])
    }

    /// Every annotation in file order, skipped boxes included: COCOeval's ground truth
    /// (image id, category id, bbox, area, iscrowd, annotation id).
    pub fn ground_truths(&self) -> &[CocoAnnotation] {
        &self.annotations
    }

    /// The category map (ids ↔ labels, names).
    pub fn categories(&self) -> &CocoCategories {
        &self.categories
    }

    /// Annotations left out of the training boxes.
    pub fn skipped(&self) -> SkipCounts {
        self.skipped
    }

    /// The annotation file.
    pub fn annotation_file(&self) -> &Path {
        &self.annotation_file
    }

    /// The image folder.
    pub fn image_dir(&self) -> &Path {
        &self.image_dir
    }

    /// Image `i` decoded to RGB `u8` HWC (grey images converted). A missing, damaged or
    /// wrongly sized file (not the annotation file's `width` x `height`) is a
    /// [`DatasetError::Decode`] naming it.
    pub fn image(&self, i: usize) -> Result<ImageU8> {
        let info = &self.images[i];
        let img = decode_rgb(&info.path)?;
        if (img.width, img.height) != (info.width as usize, info.height as usize) {
            return Err(DatasetError::Decode {
                path: info.path.clone(),
                reason: format!(
                    "decoded {}x{} but {} says {}x{} for image id {}",
                    img.width,
                    img.height,
                    self.annotation_file.display(),
                    info.width,
                    info.height,
                    info.id
                ),
            });
        }
        Ok(img)
    }

    /// A short description for logs: files, counts and skipped boxes.
    pub fn describe(&self) -> String {
        format!(
            "COCO instances {} (images in {}): {} images, {} annotations, {} categories; \
             skipped {} boxes ({} zero-area, {} outside the image)",
            self.annotation_file.display(),
            self.image_dir.display(),
            self.images.len(),
            self.annotations.len(),
            self.categories.len(),
            self.skipped.total(),
            self.skipped.zero_area,
            self.skipped.outside_image
        )
    }
}
