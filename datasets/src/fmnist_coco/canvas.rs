//! One generated detection canvas: a low-contrast texture in two random colours, then
//! Fashion-MNIST objects resized, tinted and alpha-composited by pixel intensity, each with the
//! tight box and pixel count of its visible pixels (intensity above [`OBJECT_THRESHOLD`]).

use image::imageops::{resize, FilterType};
use image::GrayImage;
use rand::Rng;

/// A pasted pixel counts as part of the object (box and area) when its resized Fashion-MNIST
/// intensity is above this (of 255): about 20 % opacity.
pub const OBJECT_THRESHOLD: u8 = 50;

/// Placements tried per object before it is left out.
const PLACEMENT_TRIES: usize = 20;

/// Fashion-MNIST images drawn per object before it is left out (an image with no pixel above
/// the threshold is drawn again).
const IMAGE_TRIES: usize = 8;

/// The largest box IoU a new object may have with an earlier one on the same canvas.
pub const MAX_IOU: f64 = 0.3;

/// Smallest Euclidean RGB distance between an object's tint and the background's mean colour.
const MIN_TINT_DISTANCE: f32 = 100.0;

/// Largest per-channel difference between the background's two colours (low contrast).
const BACKGROUND_CONTRAST: i32 = 40;

/// What [`draw_canvas`] draws from: grey square images with labels.
pub(crate) trait ObjectPool {
    /// Number of images.
    fn len(&self) -> usize;
    /// Side of the square images.
    fn side(&self) -> u32;
    /// The label (0-9) of image `i`.
    fn label(&self, i: usize) -> u32;
    /// The grey pixels of image `i`, row-major.
    fn pixels(&self, i: usize) -> &[u8];
}

/// One object placed on a canvas.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Placed {
    /// Fashion-MNIST label (0-9).
    pub label: u32,
    /// Tight box `[x, y, w, h]` of the visible pixels, in canvas pixels.
    pub bbox: [f64; 4],
    /// Number of visible pixels.
    pub area: usize,
}

/// A canvas: `size x size` RGB bytes (HWC) and its objects in paste order.
pub(crate) struct Canvas {
    pub size: u32,
    pub rgb: Vec<u8>,
    pub objects: Vec<Placed>,
}

/// The canvas settings (from the spec).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CanvasSpec {
    pub size: u32,
    pub max_objects: usize,
    pub min_size: u32,
    pub max_size: u32,
}

/// Draws one canvas from `pool` with `rng` (see the module docs).
pub(crate) fn draw_canvas(spec: CanvasSpec, pool: &impl ObjectPool, rng: &mut impl Rng) -> Canvas {
    let n = spec.size as usize;
    let (mut rgb, bg_mean) = background(n, rng);
    let count = rng.random_range(1..=spec.max_objects.max(1));
    let mut objects: Vec<Placed> = Vec::with_capacity(count);
    for _ in 0..count {
        let Some((label, alpha, side, tight, area)) = pick_object(spec, pool, rng) else {
            continue;
        };
        let tint = tint(bg_mean, rng);
        let free = spec.size - side;
        for _ in 0..PLACEMENT_TRIES {
            let (ox, oy) = (rng.random_range(0..=free), rng.random_range(0..=free));
            let bbox = [
                f64::from(ox + tight[0]),
                f64::from(oy + tight[1]),
                f64::from(tight[2] - tight[0] + 1),
                f64::from(tight[3] - tight[1] + 1),
            ];
            if objects.iter().any(|o| iou(&o.bbox, &bbox) > MAX_IOU) {
                continue;
            }
            paste(&mut rgb, n, &alpha, (ox, oy), tint);
            objects.push(Placed { label, bbox, area });
            break;
        }
    }
    Canvas {
        size: spec.size,
        rgb,
        objects,
    }
}

/// A resized object: label, resized intensities, side, tight box `[x0, y0, x1, y1]` (inclusive,
/// object pixels) and visible pixel count; `None` when no drawn image has a visible pixel.
#[allow(clippy::type_complexity)]
fn pick_object(
    spec: CanvasSpec,
    pool: &impl ObjectPool,
    rng: &mut impl Rng,
) -> Option<(u32, GrayImage, u32, [u32; 4], usize)> {
    let hi = spec.max_size.min(spec.size).max(spec.min_size.max(1));
    for _ in 0..IMAGE_TRIES {
        let i = rng.random_range(0..pool.len());
        let side = rng.random_range(spec.min_size.max(1)..=hi);
        let src = GrayImage::from_raw(pool.side(), pool.side(), pool.pixels(i).to_vec())?;
        let alpha = resize(&src, side, side, FilterType::Triangle);
        let (mut tight, mut area) = ([u32::MAX, u32::MAX, 0, 0], 0usize);
        for (x, y, p) in alpha.enumerate_pixels() {
            if p.0[0] > OBJECT_THRESHOLD {
                tight = [
                    tight[0].min(x),
                    tight[1].min(y),
                    tight[2].max(x),
                    tight[3].max(y),
                ];
                area += 1;
            }
        }
        if area > 0 {
            return Some((pool.label(i), alpha, side, tight, area));
        }
    }
    None
}

/// IoU of two `[x, y, w, h]` boxes.
pub(crate) fn iou(a: &[f64; 4], b: &[f64; 4]) -> f64 {
    let iw = ((a[0] + a[2]).min(b[0] + b[2]) - a[0].max(b[0])).max(0.0);
    let ih = ((a[1] + a[3]).min(b[1] + b[3]) - a[1].max(b[1])).max(0.0);
    let inter = iw * ih;
    let union = a[2] * a[3] + b[2] * b[3] - inter;
    if union > 0.0 {
        inter / union
    } else {
        0.0
    }
}

/// Alpha-composites the object (opacity = intensity / 255) in colour `tint` at `(ox, oy)`.
fn paste(rgb: &mut [u8], n: usize, alpha: &GrayImage, at: (u32, u32), tint: [f32; 3]) {
    for (x, y, p) in alpha.enumerate_pixels() {
        let a = f32::from(p.0[0]) / 255.0;
        if a == 0.0 {
            continue;
        }
        let k = ((at.1 + y) as usize * n + (at.0 + x) as usize) * 3;
        for c in 0..3 {
            let bg = f32::from(rgb[k + c]);
            rgb[k + c] = (a * tint[c] + (1.0 - a) * bg).round().clamp(0.0, 255.0) as u8;
        }
    }
}

/// A random colour at least [`MIN_TINT_DISTANCE`] from `bg` (the opposite corner of the RGB
/// cube when 16 draws miss).
fn tint(bg: [f32; 3], rng: &mut impl Rng) -> [f32; 3] {
    for _ in 0..16 {
        let c = [0, 1, 2].map(|_| f32::from(rng.random::<u8>()));
        let d: f32 = (0..3).map(|k| (c[k] - bg[k]).powi(2)).sum::<f32>().sqrt();
        if d >= MIN_TINT_DISTANCE {
            return c;
        }
    }
    bg.map(|v| if v < 128.0 { 255.0 } else { 0.0 })
}

/// A `n x n` texture (smooth value noise, stripes or checks) between two random colours that
/// differ by at most [`BACKGROUND_CONTRAST`] per channel; returns the bytes and the mean colour.
fn background(n: usize, rng: &mut impl Rng) -> (Vec<u8>, [f32; 3]) {
    let c1 = [0, 1, 2].map(|_| rng.random_range(0..=255i32));
    let c2 = c1
        .map(|v| (v + rng.random_range(-BACKGROUND_CONTRAST..=BACKGROUND_CONTRAST)).clamp(0, 255));
    let pattern = Pattern::draw(rng);
    let mut rgb = Vec::with_capacity(n * n * 3);
    let mut sum = [0f64; 3];
    for y in 0..n {
        for x in 0..n {
            let t = pattern.at(x as f64, y as f64);
            for c in 0..3 {
                let v = (c1[c] as f64 + t * f64::from(c2[c] - c1[c])).round();
                sum[c] += v;
                rgb.push(v as u8);
            }
        }
    }
    let m = (n * n).max(1) as f64;
    (rgb, sum.map(|s| (s / m) as f32))
}

/// A texture in `[0, 1]`.
enum Pattern {
    /// Value noise: random values on a `cell`-pixel lattice, smoothly interpolated.
    Noise {
        cell: f64,
        lattice: Box<[[f64; 8]; 8]>,
    },
    /// Sine stripes of period `period` at angle `angle`.
    Stripes { period: f64, angle: f64, phase: f64 },
    /// A checkerboard of `cell`-pixel squares shifted by `offset`.
    Checks { cell: usize, offset: (usize, usize) },
}

impl Pattern {
    fn draw(rng: &mut impl Rng) -> Self {
        match rng.random_range(0..3) {
            0 => {
                let mut lattice = Box::new([[0.0; 8]; 8]);
                for row in lattice.iter_mut() {
                    for v in row.iter_mut() {
                        *v = rng.random::<f64>();
                    }
                }
                Self::Noise {
                    cell: rng.random_range(8.0..24.0),
                    lattice,
                }
            }
            1 => Self::Stripes {
                period: rng.random_range(4.0..16.0),
                angle: rng.random_range(0.0..std::f64::consts::PI),
                phase: rng.random_range(0.0..std::f64::consts::TAU),
            },
            _ => Self::Checks {
                cell: rng.random_range(4..=12),
                offset: (rng.random_range(0..12), rng.random_range(0..12)),
            },
        }
    }

    fn at(&self, x: f64, y: f64) -> f64 {
        match self {
            Self::Noise { cell, lattice } => {
                let (gx, gy) = (x / cell, y / cell);
                let (ix, iy) = (gx.floor() as usize % 7, gy.floor() as usize % 7);
                let smooth = |t: f64| t * t * (3.0 - 2.0 * t);
                let (fx, fy) = (smooth(gx.fract()), smooth(gy.fract()));
                let top = lattice[iy][ix] * (1.0 - fx) + lattice[iy][ix + 1] * fx;
                let bottom = lattice[iy + 1][ix] * (1.0 - fx) + lattice[iy + 1][ix + 1] * fx;
                top * (1.0 - fy) + bottom * fy
            }
            Self::Stripes {
                period,
                angle,
                phase,
            } => {
                let d = x * angle.cos() + y * angle.sin();
                0.5 + 0.5 * (std::f64::consts::TAU * d / period + phase).sin()
            }
            Self::Checks { cell, offset } => {
                let (cx, cy) = (
                    (x as usize + offset.0) / cell,
                    (y as usize + offset.1) / cell,
                );
                ((cx + cy) % 2) as f64
            }
        }
    }
}
