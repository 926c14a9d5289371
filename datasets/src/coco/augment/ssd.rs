//! SSD's input (amdegroot/ssd.pytorch `utils/augmentations.py`): training is
//! `SSDAugmentation` (PhotometricDistort, Expand, RandomSampleCrop, RandomMirror, Resize),
//! evaluation `Resize` alone. Boxes are in the reference's continuous convention (`x2 = x +
//! w`; the mirror maps `x` to `width - x`; the resize scales by `size / width`).
//!
//! The geometric steps only translate (Expand, crop), mirror and scale, so they are tracked as
//! one [`Geometry`] and the image is rendered once: output pixel `p` reads the expanded,
//! cropped, mirrored canvas at OpenCV `resize`'s `INTER_LINEAR` position `(p + 0.5) * scale -
//! 0.5` (clamped to the canvas, as OpenCV does), and a canvas pixel is the distorted original
//! or, where Expand added border, the mean colour.
//!
//! Kept as the reference has them: RandomSampleCrop's test `overlap.min() < min_iou and max_iou
//! < overlap.max()`, which with `max_iou = inf` never rejects a crop (so the IoU modes behave
//! like "any"); the crop's `left = uniform(width - w)`, which NumPy reads as `uniform(low =
//! width - w, high = 1)`; integer `int()` truncation of Expand's offset and size and of the
//! crop rectangle. Deviations: an image without boxes is never cropped (the reference fails on
//! it), a crop rectangle less than one pixel wide or high is another rejected trial, and after
//! 1,000 mode draws without success the image is left uncropped (the reference loops until a
//! mode succeeds, and mode `None` always does).

use rand::Rng;

use super::photometric::Photometric;
use super::{coin, finish, rgb_at, uniform, Affine, DetectionSample, Normalize};
use crate::source::ImageU8;

/// `RandomSampleCrop.sample_options` as `(min_iou, max_iou)`; `None` = no crop.
const MODES: [Option<(f64, f64)>; 6] = [
    None,
    Some((0.1, f64::INFINITY)),
    Some((0.3, f64::INFINITY)),
    Some((0.7, f64::INFINITY)),
    Some((0.9, f64::INFINITY)),
    Some((f64::NEG_INFINITY, f64::INFINITY)),
];

/// Trials per mode.
const TRIALS: usize = 50;

/// Mode draws before giving up on cropping.
const MAX_MODE_DRAWS: usize = 1000;

/// Where the pre-resize canvas lies: canvas coordinate = original + `offset`; the canvas is
/// `width x height` and mirrored when `mirrored`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Geometry {
    pub width: usize,
    pub height: usize,
    pub offset: (i64, i64),
    pub mirrored: bool,
}

impl Geometry {
    /// The identity canvas of a `w x h` image.
    pub(super) fn plain(w: usize, h: usize) -> Self {
        Self {
            width: w,
            height: h,
            offset: (0, 0),
            mirrored: false,
        }
    }

    /// Input coordinates (continuous) to original coordinates.
    pub(super) fn to_original(self, size: usize) -> Affine {
        let (sx, sy) = (
            self.width as f64 / size as f64,
            self.height as f64 / size as f64,
        );
        let (ox, oy) = (self.offset.0 as f64, self.offset.1 as f64);
        if self.mirrored {
            Affine {
                m: [-sx, 0.0, self.width as f64 - ox, 0.0, sy, -oy],
            }
        } else {
            Affine {
                m: [sx, 0.0, -ox, 0.0, sy, -oy],
            }
        }
    }
}

/// IoU of `[x1, y1, x2, y2]` boxes (`jaccard_numpy`).
fn jaccard(a: &[f64; 4], b: &[f64; 4]) -> f64 {
    let iw = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let ih = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = iw * ih;
    inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)
}

/// One accepted crop: the rectangle `[x1, y1, x2, y2]` (integers) and which boxes it keeps.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Crop {
    pub rect: [i64; 4],
    pub keep: Vec<bool>,
}

/// RandomSampleCrop's choice on a `w x h` canvas with `boxes` (see the module docs); `None`
/// leaves the canvas as it is.
pub(super) fn sample_crop(
    w: usize,
    h: usize,
    boxes: &[[f64; 4]],
    rng: &mut impl Rng,
) -> Option<Crop> {
    if boxes.is_empty() {
        return None;
    }
    let (wf, hf) = (w as f64, h as f64);
    for _ in 0..MAX_MODE_DRAWS {
        let (min_iou, max_iou) = MODES[rng.random_range(0..MODES.len())]?;
        for _ in 0..TRIALS {
            let cw = uniform(rng, 0.3 * wf, wf);
            let ch = uniform(rng, 0.3 * hf, hf);
            if ch / cw < 0.5 || ch / cw > 2.0 {
                continue;
            }
            let left = uniform(rng, wf - cw, 1.0);
            let top = uniform(rng, hf - ch, 1.0);
            let rect = [
                left as i64,
                top as i64,
                ((left + cw) as i64).min(w as i64),
                ((top + ch) as i64).min(h as i64),
            ];
            if rect[2] <= rect[0] || rect[3] <= rect[1] {
                continue;
            }
            let r = rect.map(|v| v as f64);
            let overlaps = boxes.iter().map(|b| jaccard(b, &r));
            let (lo, hi) = overlaps.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), o| {
                (lo.min(o), hi.max(o))
            });
            if lo < min_iou && max_iou < hi {
                continue;
            }
            let keep: Vec<bool> = boxes
                .iter()
                .map(|b| {
                    let (cx, cy) = ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
                    r[0] < cx && r[1] < cy && r[2] > cx && r[3] > cy
                })
                .collect();
            if !keep.iter().any(|&k| k) {
                continue;
            }
            return Some(Crop { rect, keep });
        }
    }
    None
}

/// Draws Expand, RandomSampleCrop and RandomMirror for a `w x h` image; moves `boxes` (and
/// `labels`) onto the final canvas.
fn draw_geometry(
    w: usize,
    h: usize,
    boxes: &mut Vec<[f64; 4]>,
    labels: &mut Vec<u32>,
    rng: &mut impl Rng,
) -> Geometry {
    let mut g = Geometry::plain(w, h);
    // Expand: skipped when randint(2) is 1.
    if !coin(rng) {
        let ratio = uniform(rng, 1.0, 4.0);
        let (wf, hf) = (w as f64, h as f64);
        let left = uniform(rng, 0.0, wf * ratio - wf) as i64;
        let top = uniform(rng, 0.0, hf * ratio - hf) as i64;
        g.width = ((wf * ratio) as usize).max(w);
        g.height = ((hf * ratio) as usize).max(h);
        g.offset = (left, top);
        for b in boxes.iter_mut() {
            *b = [
                b[0] + left as f64,
                b[1] + top as f64,
                b[2] + left as f64,
                b[3] + top as f64,
            ];
        }
    }
    if let Some(crop) = sample_crop(g.width, g.height, boxes, rng) {
        let r = crop.rect.map(|v| v as f64);
        let mut k = crop.keep.iter();
        let mut kl = crop.keep.iter();
        boxes.retain(|_| *k.next().unwrap_or(&false));
        labels.retain(|_| *kl.next().unwrap_or(&false));
        for b in boxes.iter_mut() {
            *b = [
                b[0].max(r[0]) - r[0],
                b[1].max(r[1]) - r[1],
                b[2].min(r[2]) - r[0],
                b[3].min(r[3]) - r[1],
            ];
        }
        g.width = (crop.rect[2] - crop.rect[0]) as usize;
        g.height = (crop.rect[3] - crop.rect[1]) as usize;
        g.offset = (g.offset.0 - crop.rect[0], g.offset.1 - crop.rect[1]);
    }
    if coin(rng) {
        g.mirrored = true;
        let wf = g.width as f64;
        for b in boxes.iter_mut() {
            *b = [wf - b[2], b[1], wf - b[0], b[3]];
        }
    }
    g
}

/// Per output column (or row): the two original indices read (`-1` = Expand's fill) and the
/// second one's weight, from OpenCV `resize`'s linear positions over a canvas of `canvas`
/// pixels whose original part starts at `offset` and spans `original`.
fn taps(
    size: usize,
    canvas: usize,
    offset: i64,
    original: usize,
    mirrored: bool,
) -> Vec<(i64, i64, f32)> {
    let scale = canvas as f64 / size as f64;
    let last = canvas as i64 - 1;
    let to_original = |i: i64| {
        let c = if mirrored { last - i } else { i };
        let o = c - offset;
        if (0..original as i64).contains(&o) {
            o
        } else {
            -1
        }
    };
    (0..size)
        .map(|d| {
            let f = (d as f64 + 0.5) * scale - 0.5;
            let mut s = f.floor() as i64;
            let mut frac = f - s as f64;
            if s < 0 {
                s = 0;
                frac = 0.0;
            }
            if s >= last {
                s = last;
                frac = 0.0;
            }
            let s1 = (s + 1).min(last);
            (to_original(s), to_original(s1), frac as f32)
        })
        .collect()
}

/// Renders the `size x size` CHW input (0-255 scale) from the distorted original `hwc` (`w`
/// wide) through `g`, filling Expand's border with `fill`.
pub(super) fn render(
    hwc: &[f32],
    w: usize,
    h: usize,
    g: &Geometry,
    size: usize,
    fill: [f32; 3],
) -> Vec<f32> {
    let cols = taps(size, g.width, g.offset.0, w, g.mirrored);
    let rows = taps(size, g.height, g.offset.1, h, false);
    let plane = size * size;
    let mut out = vec![0f32; 3 * plane];
    let at = |x: i64, y: i64| -> [f32; 3] {
        if x < 0 || y < 0 {
            fill
        } else {
            let k = (y as usize * w + x as usize) * 3;
            [hwc[k], hwc[k + 1], hwc[k + 2]]
        }
    };
    for (v, &(y0, y1, fy)) in rows.iter().enumerate() {
        for (u, &(x0, x1, fx)) in cols.iter().enumerate() {
            let (a, b, c, d) = (at(x0, y0), at(x1, y0), at(x0, y1), at(x1, y1));
            let k = v * size + u;
            for ch in 0..3 {
                let top = a[ch] + (b[ch] - a[ch]) * fx;
                let bottom = c[ch] + (d[ch] - c[ch]) * fx;
                out[ch * plane + k] = top + (bottom - top) * fy;
            }
        }
    }
    out
}

/// Runs the pipeline on `boxes` (`[x1, y1, x2, y2]`, original pixels).
pub(super) fn run(
    img: &ImageU8,
    boxes: &[[f64; 4]],
    labels: &[u32],
    size: usize,
    train: bool,
    norm: &Normalize,
    rng: &mut impl Rng,
) -> DetectionSample {
    let (w, h) = (img.width, img.height);
    let mut hwc = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            hwc.extend_from_slice(&rgb_at(img, x, y));
        }
    }
    let (mut boxes, mut labels) = (boxes.to_vec(), labels.to_vec());
    let g = if train {
        Photometric::draw(rng).apply(&mut hwc);
        draw_geometry(w, h, &mut boxes, &mut labels, rng)
    } else {
        Geometry::plain(w, h)
    };
    let mut image = render(&hwc, w, h, &g, size, norm.mean255);
    norm.apply(&mut image);
    let (sx, sy) = (size as f64 / g.width as f64, size as f64 / g.height as f64);
    let boxes: Vec<[f64; 4]> = boxes
        .iter()
        .map(|b| [b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy])
        .collect();
    finish(image, size, &boxes, &labels, g.to_original(size))
}
