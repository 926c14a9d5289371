//! SSD's `PhotometricDistort` (amdegroot/ssd.pytorch `utils/augmentations.py`): on the float
//! image (0-255, no clipping between steps, as in the reference): RandomBrightness (±32,
//! probability 0.5), then with equal odds either RandomContrast, HSV, RandomSaturation,
//! RandomHue, back to RGB, or HSV, RandomSaturation, RandomHue, back to RGB, RandomContrast
//! (contrast and saturation ×U(0.5, 1.5), hue ±18 degrees, each with probability 0.5), then
//! RandomLightingNoise (a random channel permutation, probability 0.5).
//!
//! The colour conversions are OpenCV's float `COLOR_BGR2HSV` / `COLOR_HSV2BGR` formulas (hue in
//! degrees, `FLT_EPSILON` guards), applied to every pixel as in the reference, so values pushed
//! out of 0-255 by brightness or contrast go through them as they do there. Deviations: the
//! image is RGB, so a permutation index picks a different channel order than on BGR (the same
//! six orders, equally likely); every parameter is drawn first and the steps then run in one
//! pass per pixel.

use rand::Rng;

use super::{coin, uniform};

/// `RandomLightingNoise.perms`.
const PERMS: [[usize; 3]; 6] = [
    [0, 1, 2],
    [0, 2, 1],
    [1, 0, 2],
    [1, 2, 0],
    [2, 0, 1],
    [2, 1, 0],
];

/// One draw of the distortion.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Photometric {
    brightness: Option<f32>,
    /// Contrast first (`pd[:-1]`) or last (`pd[1:]`).
    contrast_first: bool,
    contrast: Option<f32>,
    saturation: Option<f32>,
    hue: Option<f32>,
    swap: Option<[usize; 3]>,
}

impl Photometric {
    /// Draws every parameter in the reference's call order.
    pub(super) fn draw(rng: &mut impl Rng) -> Self {
        let brightness = coin(rng).then(|| uniform(rng, -32.0, 32.0) as f32);
        let contrast_first = coin(rng);
        let mut contrast = None;
        if contrast_first {
            contrast = coin(rng).then(|| uniform(rng, 0.5, 1.5) as f32);
        }
        let saturation = coin(rng).then(|| uniform(rng, 0.5, 1.5) as f32);
        let hue = coin(rng).then(|| uniform(rng, -18.0, 18.0) as f32);
        if !contrast_first {
            contrast = coin(rng).then(|| uniform(rng, 0.5, 1.5) as f32);
        }
        let swap = coin(rng).then(|| PERMS[rng.random_range(0..PERMS.len())]);
        Self {
            brightness,
            contrast_first,
            contrast,
            saturation,
            hue,
            swap,
        }
    }

    /// Applies the draw to an HWC RGB buffer (0-255 scale) in place.
    pub(super) fn apply(&self, hwc: &mut [f32]) {
        let delta = self.brightness.unwrap_or(0.0);
        let contrast = self.contrast.unwrap_or(1.0);
        let (before, after) = if self.contrast_first {
            (contrast, 1.0)
        } else {
            (1.0, contrast)
        };
        for p in hwc.chunks_exact_mut(3) {
            let mut rgb = [p[0], p[1], p[2]].map(|v| (v + delta) * before);
            let [mut h, mut s, v] = rgb_to_hsv(rgb);
            if let Some(a) = self.saturation {
                s *= a;
            }
            if let Some(d) = self.hue {
                h += d;
                if h > 360.0 {
                    h -= 360.0;
                }
                if h < 0.0 {
                    h += 360.0;
                }
            }
            rgb = hsv_to_rgb([h, s, v]).map(|x| x * after);
            let order = self.swap.unwrap_or([0, 1, 2]);
            for c in 0..3 {
                p[c] = rgb[order[c]];
            }
        }
    }
}

/// OpenCV's float RGB → HSV (`h` in degrees, `s = (max - min) / (|max| + eps)`, `v = max`).
pub(super) fn rgb_to_hsv([r, g, b]: [f32; 3]) -> [f32; 3] {
    let v = r.max(g).max(b);
    let vmin = r.min(g).min(b);
    let diff = v - vmin;
    let s = diff / (v.abs() + f32::EPSILON);
    let k = 60.0 / (diff + f32::EPSILON);
    let mut h = if v == r {
        (g - b) * k
    } else if v == g {
        (b - r) * k + 120.0
    } else {
        (r - g) * k + 240.0
    };
    if h < 0.0 {
        h += 360.0;
    }
    [h, s, v]
}

/// OpenCV's float HSV → RGB (sector table of `HSV2RGB_native`).
pub(super) fn hsv_to_rgb([h, s, v]: [f32; 3]) -> [f32; 3] {
    if s == 0.0 {
        return [v; 3];
    }
    // (b, g, r) indices into tab per sector.
    const SECTOR: [[usize; 3]; 6] = [
        [1, 3, 0],
        [1, 0, 2],
        [3, 0, 1],
        [0, 2, 1],
        [0, 1, 3],
        [2, 1, 0],
    ];
    let mut h = h * (6.0 / 360.0);
    if h.is_finite() {
        while h < 0.0 {
            h += 6.0;
        }
        while h >= 6.0 {
            h -= 6.0;
        }
    }
    let mut sector = h.floor();
    h -= sector;
    if !(0.0..6.0).contains(&sector) {
        sector = 0.0;
        h = 0.0;
    }
    let tab = [
        v,
        v * (1.0 - s),
        v * (1.0 - s * h),
        v * (1.0 - s * (1.0 - h)),
    ];
    let [bi, gi, ri] = SECTOR[sector as usize];
    [tab[ri], tab[gi], tab[bi]]
}
