//! The detection input pipelines of benchmark 2's two references, deterministic given an RNG:
//! one decoded image and its COCO boxes in, a normalised `3 x size x size` CHW input, its boxes
//! in input pixels and the map back to the original image out.
//!
//! - [`Pipeline::CenterNet`]: xingyizhou/CenterNet `src/lib/datasets/sample/ctdet.py`
//!   (`not_rand_crop = False`), with `color_aug` of `src/lib/utils/image.py` (modules
//!   `centernet`, `colour`).
//! - [`Pipeline::Ssd`]: amdegroot/ssd.pytorch `utils/augmentations.py` `SSDAugmentation` for
//!   training, its `Resize` alone for evaluation (modules `ssd`, `photometric`).
//!
//! Deviations common to both (each module lists its own):
//! - No OpenCV: resampling is this module's own bilinear interpolation in `f32`, at the sample
//!   positions OpenCV uses (`warpAffine`: output pixel `p` reads `M⁻¹ p`; `resize`: `(p + 0.5)
//!   * scale - 0.5`), without OpenCV's fixed-point weights and 1/32-pixel position grid on `u8`
//!   images, and without rounding the warped image to `u8`.
//! - Images are RGB (the references read BGR with `cv2.imread`): `mean`/`std` are given in RGB,
//!   and constants defined on BGR channels (CenterNet's PCA eigenvectors) are reordered.
//! - One RNG for every draw (the references mix Python's `random`, `np.random` and CenterNet's
//!   separate `RandomState(123)` for colour).
//! - A grey image is read as RGB with three equal channels.
//! - Boxes are clipped to `[0, size]` and dropped when empty afterwards; CenterNet clips its
//!   (output-resolution) boxes to `[0, out - 1]`, which its target builder still has to do
//!   after dividing by the down ratio (clipping to `[0, size]` first changes nothing there).

mod centernet;
mod colour;
mod photometric;
mod ssd;

#[cfg(test)]
mod tests;

use crate::error::{DatasetError, Result};
use crate::source::ImageU8;

/// A 2 x 3 affine map from input-pixel `(x, y)` to original-image `(x, y)`:
/// `x' = m0 x + m1 y + m2`, `y' = m3 x + m4 y + m5`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine {
    /// The row-major 2 x 3 matrix.
    pub m: [f64; 6],
}

impl Affine {
    /// Maps one point.
    pub fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        let m = &self.m;
        (m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5])
    }

    /// The inverse map (the linear part must be invertible, as every map built here is).
    pub fn inverse(&self) -> Affine {
        let [a, b, c, d, e, f] = self.m;
        let det = a * e - b * d;
        let (ia, ib, id, ie) = (e / det, -b / det, -d / det, a / det);
        Affine {
            m: [ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)],
        }
    }

    /// Maps the box `[x1, y1, x2, y2]` corner by corner, returning the enclosing box (a mirror
    /// swaps the corners).
    pub fn map_box(&self, b: [f64; 4]) -> [f64; 4] {
        let (ax, ay) = self.apply(b[0], b[1]);
        let (bx, by) = self.apply(b[2], b[3]);
        [ax.min(bx), ay.min(by), ax.max(bx), ay.max(by)]
    }
}

/// One network input with its targets.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectionSample {
    /// `3 x size x size`, CHW, RGB, `(v / 255 - mean) / std`.
    pub image: Vec<f32>,
    /// The input's side.
    pub size: usize,
    /// `[x1, y1, x2, y2]` in input pixels, clipped to `[0, size]`; boxes left empty are dropped.
    pub boxes: Vec<[f32; 4]>,
    /// The label of each box.
    pub labels: Vec<u32>,
    /// Input-pixel coordinates to original-image coordinates, in the convention the pipeline's
    /// boxes use: CenterNet's pixel-index one (pixel `i`'s centre at `i`; the same map the image
    /// was warped with), SSD's continuous one (pixel `i` spans `[i, i + 1)`). Detections are
    /// mapped back with it for evaluation.
    pub to_original: Affine,
}

/// A detection input pipeline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pipeline {
    /// CenterNet ctdet (xingyizhou/CenterNet `src/lib/datasets/sample/ctdet.py`,
    /// `not_rand_crop=False`): `c` = image centre, `s = max(h, w)`; training: `s *=` a random
    /// choice of `arange(0.6, 1.4, 0.1)`, `c` drawn inside a border of 128 shrunk to the image
    /// (`_get_border`), a horizontal flip with probability `flip`, and when `color` the colour
    /// augmentation (brightness, contrast, saturation 0.4 in random order, PCA lighting 0.1);
    /// the square of side `s` around `c` warped (bilinear, 0 fill) to `size x size`.
    /// Evaluation draws nothing.
    CenterNet {
        /// Input side (512 in the reference).
        size: usize,
        /// Training augmentation on.
        train: bool,
        /// Flip probability (0.5 in the reference).
        flip: f64,
        /// Colour augmentation on (the reference's default; `--no_color_aug` turns it off).
        color: bool,
    },
    /// SSD (amdegroot/ssd.pytorch `utils/augmentations.py` `SSDAugmentation`): training:
    /// PhotometricDistort, Expand (ratio 1-4, mean fill, probability 0.5), RandomSampleCrop
    /// (min IoU None / 0.1 / 0.3 / 0.7 / 0.9 / any, 50 trials, boxes kept when their centre is
    /// inside), RandomMirror, resize to `size x size`; evaluation: the resize only.
    Ssd {
        /// Input side (300 in the reference).
        size: usize,
        /// Training augmentation on.
        train: bool,
    },
}

/// Runs `pipeline` on `img` (grey is read as RGB) with COCO boxes `boxes_xywh` (`[x, y, w,
/// h]`) labelled `labels`; normalises with `mean` / `std` (RGB, on the 0-1 scale). Every random
/// draw comes from `rng`, so the same RNG state gives the same sample.
pub fn augment(
    img: &ImageU8,
    boxes_xywh: &[[f64; 4]],
    labels: &[u32],
    pipeline: &Pipeline,
    mean: [f32; 3],
    std: [f32; 3],
    rng: &mut impl rand::Rng,
) -> Result<DetectionSample> {
    let size = match *pipeline {
        Pipeline::CenterNet { size, .. } | Pipeline::Ssd { size, .. } => size,
    };
    check(img, boxes_xywh, labels, size, std)?;
    let boxes: Vec<[f64; 4]> = boxes_xywh
        .iter()
        .map(|b| [b[0], b[1], b[0] + b[2], b[1] + b[3]])
        .collect();
    let norm = Normalize::new(mean, std);
    Ok(match *pipeline {
        Pipeline::CenterNet {
            size,
            train,
            flip,
            color,
        } => {
            let opts = centernet::Options {
                size,
                train,
                flip,
                color,
            };
            centernet::run(img, &boxes, labels, opts, &norm, rng)
        }
        Pipeline::Ssd { size, train } => ssd::run(img, &boxes, labels, size, train, &norm, rng),
    })
}

fn check(
    img: &ImageU8,
    boxes: &[[f64; 4]],
    labels: &[u32],
    size: usize,
    std: [f32; 3],
) -> Result<()> {
    let bad = |reason: String| {
        Err(DatasetError::Config {
            name: "detection augmentation".into(),
            reason,
        })
    };
    if size == 0 {
        return bad("the input size is 0".into());
    }
    if img.width == 0
        || img.height == 0
        || !(img.channels == 1 || img.channels == 3)
        || img.data.len() != img.width * img.height * img.channels
    {
        return bad(format!(
            "an image of {}x{}x{} with {} bytes",
            img.height,
            img.width,
            img.channels,
            img.data.len()
        ));
    }
    if boxes.len() != labels.len() {
        return bad(format!("{} boxes but {} labels", boxes.len(), labels.len()));
    }
    if let Some(b) = boxes.iter().find(|b| b.iter().any(|v| !v.is_finite())) {
        return bad(format!("a box with a non-finite coordinate: {b:?}"));
    }
    if std.iter().any(|&s| s == 0.0 || !s.is_finite()) {
        return bad(format!("std {std:?} has a zero or non-finite entry"));
    }
    Ok(())
}

/// `(v / 255 - mean) / std` as `v * scale + shift` per channel (`v` on the 0-255 scale).
pub(crate) struct Normalize {
    scale: [f32; 3],
    shift: [f32; 3],
    /// The mean colour on the 0-255 scale (SSD's Expand fill).
    mean255: [f32; 3],
}

impl Normalize {
    fn new(mean: [f32; 3], std: [f32; 3]) -> Self {
        Self {
            scale: [0, 1, 2].map(|c| 1.0 / (255.0 * std[c])),
            shift: [0, 1, 2].map(|c| -mean[c] / std[c]),
            mean255: mean.map(|m| m * 255.0),
        }
    }

    /// Normalises a CHW buffer of 0-255 values in place.
    fn apply(&self, chw: &mut [f32]) {
        let plane = chw.len() / 3;
        for (c, values) in chw.chunks_mut(plane.max(1)).enumerate().take(3) {
            let (a, b) = (self.scale[c], self.shift[c]);
            for v in values {
                *v = *v * a + b;
            }
        }
    }
}

/// Pixel `(x, y)` of `img` as RGB `f32` (grey repeated).
#[inline]
pub(crate) fn rgb_at(img: &ImageU8, x: usize, y: usize) -> [f32; 3] {
    let k = (y * img.width + x) * img.channels;
    if img.channels == 1 {
        [f32::from(img.data[k]); 3]
    } else {
        [
            f32::from(img.data[k]),
            f32::from(img.data[k + 1]),
            f32::from(img.data[k + 2]),
        ]
    }
}

/// Clips input-pixel boxes to `[0, size]`, drops the empty ones, and builds the sample.
pub(crate) fn finish(
    image: Vec<f32>,
    size: usize,
    boxes: &[[f64; 4]],
    labels: &[u32],
    to_original: Affine,
) -> DetectionSample {
    let s = size as f64;
    let (mut kept, mut kept_labels) = (
        Vec::with_capacity(boxes.len()),
        Vec::with_capacity(boxes.len()),
    );
    for (b, &l) in boxes.iter().zip(labels) {
        let c = b.map(|v| v.clamp(0.0, s));
        if c[2] > c[0] && c[3] > c[1] {
            kept.push(c.map(|v| v as f32));
            kept_labels.push(l);
        }
    }
    DetectionSample {
        image,
        size,
        boxes: kept,
        labels: kept_labels,
        to_original,
    }
}

/// `np.random.uniform(lo, hi)`: `lo + (hi - lo) * u`, `u` in `[0, 1)`.
#[inline]
pub(crate) fn uniform(rng: &mut impl rand::Rng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.random::<f64>()
}

/// `np.random.randint(2)`: a fair coin.
#[inline]
pub(crate) fn coin(rng: &mut impl rand::Rng) -> bool {
    rng.random_range(0..2u32) == 1
}
