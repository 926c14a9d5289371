//! CutMix (Yun et al., ICCV 2019), as the reference training script does it
//! (clovaai/CutMix-PyTorch `train.py`, used for the ResNet50+CutMix row of the paper's ImageNet
//! classification table, arXiv 2006.08217):
//! with probability `prob`, draw `lam ~ Beta(alpha, alpha)` and a permutation of the batch,
//! cut a box of side `sqrt(1 - lam)` times the image side centred at a uniform point (clipped
//! at the borders), paste the permuted images' box into every image, then set
//! `lam = 1 - box_area / image_area` — the exact fraction of the image that was not pasted.
//! The loss is `lam * CE(y_a) + (1 - lam) * CE(y_b)`.
//!
//! One box and one `lam` per batch, like the reference; `lam` is returned per sample (equal
//! within a batch, 1 and `y_b = y_a` when CutMix is not applied) so the loss can be written
//! per sample.

use rand::seq::SliceRandom;
use rand::Rng;
use rand_distr::{Beta, Distribution};

use crate::error::{DatasetError, Result};

/// CutMix settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CutMix {
    /// Beta distribution parameter (reference: `--beta 1.0`).
    pub alpha: f64,
    /// Probability of applying CutMix to a batch (reference: `--cutmix_prob 1.0` for ImageNet).
    pub prob: f64,
}

/// The labels of a CutMix batch: sample `k` is `lambda[k]` of class `labels_a[k]` and
/// `1 - lambda[k]` of class `labels_b[k]`.
#[derive(Debug, Clone, PartialEq)]
pub struct MixedLabels {
    /// The original labels.
    pub labels_a: Vec<u32>,
    /// The labels of the images pasted into each sample.
    pub labels_b: Vec<u32>,
    /// Weight of `labels_a` (the unpasted area fraction).
    pub lambda: Vec<f32>,
}

impl MixedLabels {
    /// Soft targets `[B, num_classes]` row-major: `lambda` on `labels_a`, `1 - lambda` on
    /// `labels_b` (summed when they coincide).
    pub fn soft_targets(&self, num_classes: usize) -> Vec<f32> {
        let mut t = vec![0f32; self.lambda.len() * num_classes];
        for (k, &lam) in self.lambda.iter().enumerate() {
            t[k * num_classes + self.labels_a[k] as usize] += lam;
            t[k * num_classes + self.labels_b[k] as usize] += 1.0 - lam;
        }
        t
    }
}

/// The pasted box, `[y0, y1) x [x0, x1)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CutBox {
    /// First row.
    pub y0: usize,
    /// One past the last row.
    pub y1: usize,
    /// First column.
    pub x0: usize,
    /// One past the last column.
    pub x1: usize,
}

/// The reference's `rand_bbox`: side `int(side * sqrt(1 - lam))`, centre uniform, clipped.
pub fn rand_box(h: usize, w: usize, lam: f64, rng: &mut impl Rng) -> CutBox {
    let cut = (1.0 - lam).max(0.0).sqrt();
    let (ch, cw) = ((h as f64 * cut) as usize, (w as f64 * cut) as usize);
    let cy = rng.random_range(0..h) as isize;
    let cx = rng.random_range(0..w) as isize;
    let clip = |v: isize, hi: usize| v.clamp(0, hi as isize) as usize;
    CutBox {
        y0: clip(cy - (ch / 2) as isize, h),
        y1: clip(cy + (ch / 2) as isize, h),
        x0: clip(cx - (cw / 2) as isize, w),
        x1: clip(cx + (cw / 2) as isize, w),
    }
}

impl CutMix {
    /// Checks `alpha > 0` and `prob` in `[0, 1]`.
    pub fn validate(&self) -> Result<()> {
        if !(self.alpha > 0.0 && self.alpha.is_finite()) {
            return Err(DatasetError::Config {
                name: "cutmix.alpha".into(),
                reason: format!("{} must be positive", self.alpha),
            });
        }
        if !(0.0..=1.0).contains(&self.prob) {
            return Err(DatasetError::Config {
                name: "cutmix.prob".into(),
                reason: format!("{} must be in [0, 1]", self.prob),
            });
        }
        Ok(())
    }

    /// Applies CutMix in place to a batch `images` (`[B, C, H, W]` row-major f32) with labels
    /// `labels`, drawing from `rng`. Returns the mixed labels and the box (None if skipped).
    pub fn apply(
        &self,
        images: &mut [f32],
        shape: [usize; 4],
        labels: &[u32],
        rng: &mut impl Rng,
    ) -> Result<(MixedLabels, Option<CutBox>)> {
        let [b, c, h, w] = shape;
        let unmixed = MixedLabels {
            labels_a: labels.to_vec(),
            labels_b: labels.to_vec(),
            lambda: vec![1.0; b],
        };
        if rng.random::<f64>() >= self.prob || b == 0 {
            return Ok((unmixed, None));
        }
        let beta = Beta::new(self.alpha, self.alpha).map_err(|e| DatasetError::Config {
            name: "cutmix.alpha".into(),
            reason: e.to_string(),
        })?;
        let lam = beta.sample(rng);
        let mut perm: Vec<usize> = (0..b).collect();
        perm.shuffle(rng);
        let bx = rand_box(h, w, lam, rng);
        let source = images.to_vec();
        let per = c * h * w;
        for (k, &p) in perm.iter().enumerate() {
            for ch in 0..c {
                for y in bx.y0..bx.y1 {
                    let row = ch * h * w + y * w;
                    let (dst, src) = (k * per + row, p * per + row);
                    images[dst + bx.x0..dst + bx.x1]
                        .copy_from_slice(&source[src + bx.x0..src + bx.x1]);
                }
            }
        }
        let area = ((bx.y1 - bx.y0) * (bx.x1 - bx.x0)) as f64 / (h * w) as f64;
        let lam = (1.0 - area) as f32;
        Ok((
            MixedLabels {
                labels_a: labels.to_vec(),
                labels_b: perm.iter().map(|&p| labels[p]).collect(),
                lambda: vec![lam; b],
            },
            Some(bx),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn lambda_is_the_unpasted_area_fraction_and_labels_follow_pixels() {
        let (b, c, h, w) = (6, 2, 10, 13);
        let cm = CutMix {
            alpha: 1.0,
            prob: 1.0,
        };
        let mut applied = 0;
        for seed in 0..40 {
            // Image k is constant k + 1, so every pixel says which image it came from.
            let mut images: Vec<f32> = (0..b * c * h * w)
                .map(|i| (i / (c * h * w)) as f32 + 1.0)
                .collect();
            let labels: Vec<u32> = (0..b as u32).map(|k| k + 10).collect();
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let (mixed, bx) = cm
                .apply(&mut images, [b, c, h, w], &labels, &mut rng)
                .unwrap();
            let bx = bx.expect("prob 1 always applies");
            applied += 1;
            for k in 0..b {
                let img = &images[k * c * h * w..(k + 1) * c * h * w];
                let own = img.iter().filter(|&&v| v == k as f32 + 1.0).count();
                let partner = mixed.labels_b[k] - 10;
                let pasted = img.iter().filter(|&&v| v == partner as f32 + 1.0).count();
                let total = (c * h * w) as f32;
                if partner as usize != k {
                    assert_eq!(own + pasted, c * h * w);
                    assert!((pasted as f32 / total - (1.0 - mixed.lambda[k])).abs() < 1e-6);
                }
                let box_frac = ((bx.y1 - bx.y0) * (bx.x1 - bx.x0)) as f32 / (h * w) as f32;
                assert!((mixed.lambda[k] - (1.0 - box_frac)).abs() < 1e-6);
                assert_eq!(mixed.labels_a[k], k as u32 + 10);
            }
            let soft = mixed.soft_targets(16);
            for k in 0..b {
                let row: f32 = soft[k * 16..(k + 1) * 16].iter().sum();
                assert!((row - 1.0).abs() < 1e-6);
            }
        }
        assert_eq!(applied, 40);
    }

    #[test]
    fn prob_zero_never_mixes_and_bad_settings_are_errors() {
        let cm = CutMix {
            alpha: 1.0,
            prob: 0.0,
        };
        let mut images = vec![1.0f32; 2 * 4];
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let (m, bx) = cm
            .apply(&mut images, [2, 1, 2, 2], &[3, 4], &mut rng)
            .unwrap();
        assert!(bx.is_none());
        assert_eq!(m.lambda, vec![1.0, 1.0]);
        assert_eq!(m.labels_b, vec![3, 4]);
        assert!(CutMix {
            alpha: 0.0,
            prob: 1.0
        }
        .validate()
        .is_err());
        assert!(CutMix {
            alpha: 1.0,
            prob: 1.5
        }
        .validate()
        .is_err());
    }
}
