//! CenterNet's ctdet input (xingyizhou/CenterNet `src/lib/datasets/sample/ctdet.py`,
//! `__getitem__` with `not_rand_crop = False`; `get_affine_transform` and `color_aug` of
//! `src/lib/utils/image.py`).
//!
//! Coordinates follow the reference's pixel-index convention (pixel `i`'s centre at `i`): the
//! flip maps `x` to `w - 1 - x` for the image (`img[:, ::-1]`), for the centre (`c[0] = w -
//! c[0] - 1`) and for the boxes (`bbox[[0, 2]] = w - bbox[[2, 0]] - 1`), and the boxes go
//! through the same affine map as the image. Deviations: the flip is folded into the warp's
//! sampling map instead of copying the flipped image; the warp's bilinear interpolation is
//! this crate's own in `f32` (see the parent module); the draws come in the order scale,
//! centre x, centre y, flip, then colour.

use rand::Rng;

use super::{colour, finish, rgb_at, Affine, DetectionSample, Normalize};
use crate::source::ImageU8;

/// `np.arange(0.6, 1.4, 0.1)`: the training scale factors.
const SCALES: [f64; 8] = [0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3];

/// The reference's random-crop border before shrinking.
const BORDER: i64 = 128;

/// The pipeline's settings.
#[derive(Debug, Clone, Copy)]
pub(super) struct Options {
    pub size: usize,
    pub train: bool,
    pub flip: f64,
    pub color: bool,
}

/// `_get_border(border, size)`: halves `border` until it fits twice into `size`.
pub(super) fn get_border(border: i64, size: i64) -> i64 {
    let mut i = 1;
    while size - border / i <= border / i {
        i *= 2;
    }
    border / i
}

/// The input-to-original map for centre `c`, side `s`, output `size`, the flip folded in
/// (image width `w`).
pub(super) fn to_original(c: (f64, f64), s: f64, size: usize, flipped: bool, w: f64) -> Affine {
    // get_affine_transform(c, s, 0, [size, size]) maps x to (x - c) * size / s + size / 2.
    let a = s / size as f64;
    let half = size as f64 / 2.0;
    let (tx, ty) = (c.0 - half * a, c.1 - half * a);
    if flipped {
        Affine {
            m: [-a, 0.0, w - 1.0 - tx, 0.0, a, ty],
        }
    } else {
        Affine {
            m: [a, 0.0, tx, 0.0, a, ty],
        }
    }
}

/// Bilinear sample of `img` at `(x, y)` (pixel-index coordinates), 0 outside: OpenCV's
/// `INTER_LINEAR` with `BORDER_CONSTANT`.
#[inline]
fn sample_zero(img: &ImageU8, x: f64, y: f64) -> [f32; 3] {
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = ((x - x0) as f32, (y - y0) as f32);
    let (x0, y0) = (x0 as i64, y0 as i64);
    let (w, h) = (img.width as i64, img.height as i64);
    let mut out = [0f32; 3];
    for (dy, wy) in [(0, 1.0 - fy), (1, fy)] {
        let yy = y0 + dy;
        if wy == 0.0 || yy < 0 || yy >= h {
            continue;
        }
        for (dx, wx) in [(0, 1.0 - fx), (1, fx)] {
            let xx = x0 + dx;
            if wx == 0.0 || xx < 0 || xx >= w {
                continue;
            }
            let p = rgb_at(img, xx as usize, yy as usize);
            let k = wx * wy;
            for c in 0..3 {
                out[c] += k * p[c];
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
    opts: Options,
    norm: &Normalize,
    rng: &mut impl Rng,
) -> DetectionSample {
    let (w, h) = (img.width as f64, img.height as f64);
    let mut c = (w / 2.0, h / 2.0);
    let mut s = w.max(h);
    let mut flipped = false;
    if opts.train {
        s *= SCALES[rng.random_range(0..SCALES.len())];
        let (iw, ih) = (img.width as i64, img.height as i64);
        let (wb, hb) = (get_border(BORDER, iw), get_border(BORDER, ih));
        c.0 = rng.random_range(wb..iw - wb) as f64;
        c.1 = rng.random_range(hb..ih - hb) as f64;
        if rng.random::<f64>() < opts.flip {
            flipped = true;
            c.0 = w - c.0 - 1.0;
        }
    }
    let map = to_original(c, s, opts.size, flipped, w);
    let n = opts.size;
    let plane = n * n;
    let mut image = vec![0f32; 3 * plane];
    let [a, b, tx, d, e, ty] = map.m;
    for v in 0..n {
        for u in 0..n {
            let (uf, vf) = (u as f64, v as f64);
            let p = sample_zero(img, a * uf + b * vf + tx, d * uf + e * vf + ty);
            let k = v * n + u;
            image[k] = p[0];
            image[plane + k] = p[1];
            image[2 * plane + k] = p[2];
        }
    }
    if opts.train && opts.color {
        colour::ColourAug::draw(rng).apply(&mut image);
    }
    norm.apply(&mut image);
    let forward = map.inverse();
    let boxes: Vec<[f64; 4]> = boxes.iter().map(|&bx| forward.map_box(bx)).collect();
    finish(image, n, &boxes, labels, map)
}
