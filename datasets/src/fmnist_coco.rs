//! The embedded detection data (benchmark 2): no package registry ships a detection dataset,
//! so it is GENERATED from Fashion-MNIST. It is NOT COCO: Fashion-MNIST objects pasted on
//! textured canvases, written in the real COCO 2017 layout so the detection task reads it
//! through the same reader ([`crate::coco::open_coco`]):
//!
//! ```text
//! <root>/fmnist-coco/annotations/instances_train2017.json   train2017/<id:012>.png
//! <root>/fmnist-coco/annotations/instances_val2017.json     val2017/<id:012>.png
//! <root>/fmnist-coco/GENERATOR
//! ```
//!
//! Each canvas (module `canvas`) is `canvas x canvas` RGB: a low-contrast random texture (smooth
//! value noise, sine stripes or checks between two colours at most 40 apart per channel), then
//! `1..=max_objects` objects, each a Fashion-MNIST image resized (bilinear, `image`'s
//! `Triangle` filter) to a random square side in `[min_size, max_size]`, tinted with a random
//! colour at least 100 (RGB distance) from the background's mean and alpha-composited with
//! opacity = intensity / 255. A placement whose box has IoU above 0.3 with an earlier box is
//! drawn again (20 tries, then the object is left out). An object's `bbox` is the tight box of
//! its pixels with intensity above [`OBJECT_THRESHOLD`] (`[x, y, w, h]` floats, COCO
//! convention: `x` of the left pixel, `w` in pixels), `area` their count, `iscrowd` 0, and its
//! `segmentation` the box's polygon. Categories are ids 1-10, named
//! [`crate::catalog::FASHION_MNIST_CLASSES`] (Fashion-MNIST label + 1). Training canvases draw
//! their objects from the Fashion-MNIST training split, validation canvases from the test split.
//! Image ids: training `1..=train_images`, validation following on; annotation ids count from 1
//! across both files. The JSON also holds `info` and `licenses` (MIT, Fashion-MNIST's), as the
//! real files do.
//!
//! Deterministic: canvas `j` of a split draws from a ChaCha8 generator seeded from `seed`, the
//! split and `j` ([`crate::loader::derived_rng`]), so the same spec writes the same bytes. A
//! folder whose `GENERATOR` stamp matches the spec and whose two splits open is left alone;
//! otherwise the folder is written under a temporary name beside the destination and renamed
//! into place.

mod canvas;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::catalog::FASHION_MNIST_CLASSES;
use crate::coco::open_coco;
use crate::error::{DatasetError, Result, FETCH_HINT};
use crate::fetch::{fashion_mnist_dir, FetchOutcome, FASHION_MNIST};
use crate::idx::{load_idx_split, Split};
use crate::loader::derived_rng;
use crate::source::{ImageSource, InMemoryImages};

pub use canvas::{MAX_IOU, OBJECT_THRESHOLD};

/// How the detection data is generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FmnistCocoSpec<'a> {
    /// Folder name under the data root.
    pub folder: &'a str,
    /// Canvas side in pixels.
    pub canvas: u32,
    /// Training canvases.
    pub train_images: usize,
    /// Validation canvases.
    pub val_images: usize,
    /// Most objects per canvas (at least 1).
    pub max_objects: usize,
    /// Smallest object side (pixels) after resizing.
    pub min_size: u32,
    /// Largest object side (pixels) after resizing (at most `canvas`).
    pub max_size: u32,
    /// Seed of every random choice.
    pub seed: u64,
}

/// The embedded default: 1,200 training and 200 validation canvases of 64 x 64, 1-3 objects of
/// 16-40 pixels each.
pub const FMNIST_COCO: FmnistCocoSpec<'static> = FmnistCocoSpec {
    folder: "fmnist-coco",
    canvas: 64,
    train_images: 1200,
    val_images: 200,
    max_objects: 3,
    min_size: 16,
    max_size: 40,
    seed: 2017,
};

/// Bumped whenever the files a spec produces change.
const GENERATOR_VERSION: u32 = 1;

/// The RNG stream of canvas drawing ([`derived_rng`]'s `stream`).
const STREAM_CANVAS: u64 = 0xC0C0;

impl FmnistCocoSpec<'_> {
    fn stamp(&self) -> String {
        format!(
            "Fashion-MNIST objects on textured canvases in the COCO 2017 layout, generator \
             {GENERATOR_VERSION}\nsource {} {}\ncanvas {}\ntrain_images {}\nval_images {}\n\
             max_objects {}\nmin_size {}\nmax_size {}\nseed {}\n",
            FASHION_MNIST.package,
            FASHION_MNIST.version,
            self.canvas,
            self.train_images,
            self.val_images,
            self.max_objects,
            self.min_size,
            self.max_size,
            self.seed
        )
    }

    fn check(&self) -> Result<()> {
        let bad = |reason: String| {
            Err(DatasetError::Config {
                name: format!("detection data `{}`", self.folder),
                reason,
            })
        };
        if self.train_images == 0 || self.val_images == 0 {
            return bad("train_images and val_images must be at least 1".into());
        }
        if self.max_objects == 0 {
            return bad("max_objects must be at least 1".into());
        }
        if self.min_size == 0 || self.min_size > self.max_size || self.max_size > self.canvas {
            return bad(format!(
                "object sizes must satisfy 1 <= min_size ({}) <= max_size ({}) <= canvas ({})",
                self.min_size, self.max_size, self.canvas
            ));
        }
        Ok(())
    }

    fn canvas_spec(&self) -> canvas::CanvasSpec {
        canvas::CanvasSpec {
            size: self.canvas,
            max_objects: self.max_objects,
            min_size: self.min_size,
            max_size: self.max_size,
        }
    }
}

/// `<data_root>/fmnist-coco`, where [`build_fmnist_coco`] writes.
pub fn fmnist_coco_dir(data_root: &Path) -> PathBuf {
    data_root.join(FMNIST_COCO.folder)
}

/// A Fashion-MNIST split as the canvas drawer's object pool.
struct Pool<'a>(&'a InMemoryImages);

impl canvas::ObjectPool for Pool<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn side(&self) -> u32 {
        self.0.width() as u32
    }
    fn label(&self, i: usize) -> u32 {
        self.0.label(i)
    }
    fn pixels(&self, i: usize) -> &[u8] {
        self.0.pixels_of(i)
    }
}

/// The `categories` list: ids 1-10 with Fashion-MNIST's class names.
fn categories() -> Vec<Value> {
    FASHION_MNIST_CLASSES
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let supercategory = match k {
                5 | 7 | 9 => "footwear",
                8 => "accessory",
                _ => "clothing",
            };
            json!({"supercategory": supercategory, "id": k + 1, "name": name})
        })
        .collect()
}

/// One split to write.
struct SplitPlan<'a> {
    /// `train` or `val`.
    name: &'a str,
    /// The split's RNG index ([`derived_rng`]'s `epoch`): 0 train, 1 val.
    code: u64,
    /// Canvases.
    count: usize,
    /// The first image id.
    first_image: u64,
}

/// Writes one split: `plan.count` canvases drawn from `source`, annotation ids from
/// `*next_ann`.
fn write_split(
    spec: &FmnistCocoSpec<'_>,
    source: &InMemoryImages,
    plan: SplitPlan<'_>,
    next_ann: &mut u64,
    out: &Path,
) -> Result<()> {
    let SplitPlan {
        name,
        code,
        count,
        first_image,
    } = plan;
    let folder = out.join(format!("{name}2017"));
    std::fs::create_dir_all(&folder).map_err(|e| DatasetError::io(&folder, e))?;
    let (mut images, mut annotations) = (Vec::with_capacity(count), Vec::new());
    for j in 0..count {
        let id = first_image + j as u64;
        let mut rng = derived_rng(spec.seed, code, j as u64, STREAM_CANVAS);
        let c = canvas::draw_canvas(spec.canvas_spec(), &Pool(source), &mut rng);
        let file_name = format!("{id:012}.png");
        let path = folder.join(&file_name);
        image::RgbImage::from_raw(c.size, c.size, c.rgb)
            .ok_or_else(|| DatasetError::format(&path, "canvas buffer size"))?
            .save_with_format(&path, image::ImageFormat::Png)
            .map_err(|e| DatasetError::io(&path, std::io::Error::other(e)))?;
        images.push(json!({
            "license": 1,
            "file_name": file_name,
            "height": c.size,
            "width": c.size,
            "date_captured": "2017-08-28 00:00:00",
            "id": id,
        }));
        for o in &c.objects {
            let [x, y, w, h] = o.bbox;
            annotations.push(json!({
                "segmentation": [[x, y, x + w, y, x + w, y + h, x, y + h]],
                "area": o.area as f64,
                "iscrowd": 0,
                "image_id": id,
                "bbox": o.bbox,
                "category_id": o.label + 1,
                "id": *next_ann,
            }));
            *next_ann += 1;
        }
    }
    let doc = json!({
        "info": {
            "description": "Fashion-MNIST objects on textured canvases in the COCO 2017 layout \
                            (generated by adamp-rs; not COCO)",
            "url": "https://github.com/zalandoresearch/fashion-mnist",
            "version": format!("generator {GENERATOR_VERSION}"),
            "year": 2017,
            "contributor": "adamp-rs (objects: Zalando Research, Fashion-MNIST)",
            "date_created": "2017/08/28",
        },
        "licenses": [{"url": "https://opensource.org/licenses/MIT", "id": 1, "name": "MIT License"}],
        "images": images,
        "annotations": annotations,
        "categories": categories(),
    });
    let dir = out.join("annotations");
    std::fs::create_dir_all(&dir).map_err(|e| DatasetError::io(&dir, e))?;
    let path = dir.join(format!("instances_{name}2017.json"));
    let text = serde_json::to_string(&doc)
        .map_err(|e| DatasetError::format(&path, format!("serialising: {e}")))?;
    std::fs::write(&path, text).map_err(|e| DatasetError::io(&path, e))
}

/// Whether `dir` holds both splits and they open.
fn opens(dir: &Path) -> bool {
    ["train", "val"].iter().all(|s| {
        open_coco(
            &dir.join(format!("annotations/instances_{s}2017.json")),
            &dir.join(format!("{s}2017")),
        )
        .is_ok()
    })
}

/// Loads one Fashion-MNIST split, a missing one naming the fetch command.
fn load(fmnist_dir: &Path, split: Split) -> Result<InMemoryImages> {
    let images = load_idx_split(fmnist_dir, split, "Fashion-MNIST").map_err(|e| match e {
        DatasetError::Missing { path, what, .. } => DatasetError::Missing {
            path,
            what,
            hint: format!(
                "the COCO-layout detection data is generated from Fashion-MNIST; {FETCH_HINT}"
            ),
        },
        other => other,
    })?;
    if images.is_empty() || images.width() != images.height() {
        return Err(DatasetError::format(
            fmnist_dir,
            format!(
                "the {split:?} split holds {} images of {}x{}: need square images",
                images.len(),
                images.height(),
                images.width()
            ),
        ));
    }
    Ok(images)
}

/// Generates `spec` from the Fashion-MNIST IDX folder `fmnist_dir` into
/// `<data_root>/<spec.folder>` (see the module docs); does nothing when the folder's stamp
/// matches and both splits open.
pub fn build_fmnist_coco_from(
    spec: &FmnistCocoSpec<'_>,
    fmnist_dir: &Path,
    data_root: &Path,
) -> Result<FetchOutcome> {
    spec.check()?;
    let dest = data_root.join(spec.folder);
    if std::fs::read_to_string(dest.join("GENERATOR")).is_ok_and(|s| s == spec.stamp())
        && opens(&dest)
    {
        return Ok(FetchOutcome::AlreadyPresent(dest));
    }
    let train = load(fmnist_dir, Split::Train)?;
    let test = load(fmnist_dir, Split::Test)?;
    let work = crate::fetch::build_dir(data_root, spec.folder)?;
    let out = work.path().join("out");
    let mut next_ann = 1;
    let train_plan = SplitPlan {
        name: "train",
        code: 0,
        count: spec.train_images,
        first_image: 1,
    };
    write_split(spec, &train, train_plan, &mut next_ann, &out)?;
    let val_plan = SplitPlan {
        name: "val",
        code: 1,
        count: spec.val_images,
        first_image: spec.train_images as u64 + 1,
    };
    write_split(spec, &test, val_plan, &mut next_ann, &out)?;
    let stamp = out.join("GENERATOR");
    std::fs::write(&stamp, spec.stamp()).map_err(|e| DatasetError::io(&stamp, e))?;
    crate::fetch::swap_in_folder(&out, &dest, work.path())?;
    tracing::info!(dir = %dest.display(), "generated Fashion-MNIST detection data (COCO layout)");
    Ok(FetchOutcome::Installed(dest))
}

/// The embedded default ([`FMNIST_COCO`]) from `<data_root>/fashion-mnist`, fetching
/// Fashion-MNIST first when it is not installed ([`crate::fetch::fetch_fashion_mnist`]).
pub fn install_fmnist_coco(data_root: &Path) -> Result<FetchOutcome> {
    let fm = fashion_mnist_dir(data_root);
    if !crate::fetch::is_installed(&FASHION_MNIST, &fm) {
        crate::fetch::fetch_fashion_mnist(data_root)?;
    }
    build_fmnist_coco_from(&FMNIST_COCO, &fm, data_root)
}

/// As [`install_fmnist_coco`]; returns the folder (`<data_root>/fmnist-coco`).
pub fn build_fmnist_coco(data_root: &Path) -> Result<PathBuf> {
    Ok(match install_fmnist_coco(data_root)? {
        FetchOutcome::AlreadyPresent(d) | FetchOutcome::Installed(d) => d,
    })
}
