//! CenterNet's colour augmentation (xingyizhou/CenterNet `src/lib/utils/image.py`
//! `color_aug`): brightness, contrast and saturation (each `alpha = 1 + U(-0.4, 0.4)`) in a
//! random order, the grey image and its mean taken once before them, then PCA lighting
//! (`alpha ~ N(0, 0.1)` per eigenvector, ctdet's `_eig_val` / `_eig_vec`).
//!
//! Deviations: it runs on the warped image on the 0-255 scale (the reference divides by 255
//! first; the lighting offset is scaled by 255 to match), on RGB with the eigenvectors' BGR
//! rows reordered, and the grey level is `0.299 R + 0.587 G + 0.114 B` (OpenCV's
//! `COLOR_BGR2GRAY`).

use rand::seq::SliceRandom;
use rand::Rng;
use rand_distr::{Distribution, Normal};

use super::uniform;

/// ctdet's `_eig_val`, the reference's digits.
#[allow(clippy::excessive_precision)]
const EIG_VAL: [f32; 3] = [0.214_178_8, 0.018_176_99, 0.002_688_69];

/// ctdet's `_eig_vec` (rows: B, G, R), the reference's digits.
#[allow(clippy::excessive_precision)]
const EIG_VEC: [[f32; 3]; 3] = [
    [-0.587_528_47, -0.695_634_84, 0.413_403_52],
    [-0.583_274_7, 0.009_945_35, -0.812_214_08],
    [-0.560_892_97, 0.718_326_7, 0.285_737_11],
];

/// The variation of brightness, contrast and saturation.
const VAR: f64 = 0.4;

/// The lighting noise's standard deviation.
const ALPHA_STD: f64 = 0.1;

/// The three blends, in the reference's list order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Brightness,
    Contrast,
    Saturation,
}

/// One draw of the colour augmentation.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ColourAug {
    /// The blends with their alphas, in the order applied.
    steps: [(Op, f32); 3],
    /// The lighting offset per RGB channel, 0-255 scale.
    light: [f32; 3],
}

impl ColourAug {
    /// Draws the order, the three alphas and the lighting noise.
    pub(super) fn draw(rng: &mut impl Rng) -> Self {
        let mut ops = [Op::Brightness, Op::Contrast, Op::Saturation];
        ops.shuffle(rng);
        let steps = ops.map(|op| (op, (1.0 + uniform(rng, -VAR, VAR)) as f32));
        let normal = Normal::new(0.0, ALPHA_STD).expect("a positive constant standard deviation");
        let alpha: [f32; 3] = [0, 1, 2].map(|_| normal.sample(rng) as f32);
        let mut bgr = [0f32; 3];
        for (i, row) in EIG_VEC.iter().enumerate() {
            bgr[i] = (0..3).map(|j| row[j] * EIG_VAL[j] * alpha[j]).sum::<f32>() * 255.0;
        }
        Self {
            steps,
            light: [bgr[2], bgr[1], bgr[0]],
        }
    }

    /// Applies the draw to a CHW RGB buffer (0-255 scale) in place.
    pub(super) fn apply(&self, chw: &mut [f32]) {
        let plane = chw.len() / 3;
        if plane == 0 {
            return;
        }
        let grey = |r: f32, g: f32, b: f32| 0.299 * r + 0.587 * g + 0.114 * b;
        let mean = (0..plane)
            .map(|k| f64::from(grey(chw[k], chw[plane + k], chw[2 * plane + k])))
            .sum::<f64>()
            / plane as f64;
        let mean = mean as f32;
        for k in 0..plane {
            let mut p = [chw[k], chw[plane + k], chw[2 * plane + k]];
            let gs = grey(p[0], p[1], p[2]);
            for &(op, a) in &self.steps {
                let target = match op {
                    Op::Brightness => 0.0,
                    Op::Contrast => mean,
                    Op::Saturation => gs,
                };
                for v in &mut p {
                    *v = a * *v + (1.0 - a) * target;
                }
            }
            for c in 0..3 {
                chw[c * plane + k] = p[c] + self.light[c];
            }
        }
    }
}
