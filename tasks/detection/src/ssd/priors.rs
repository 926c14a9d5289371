//! SSD's default boxes ("priors"): ssd.pytorch's `data/config.py` (the `coco` config) and
//! `layers/functions/prior_box.py::PriorBox.forward`, plus [`PriorSpec::scaled`], the sizes
//! of Caffe SSD's `ssd_pascal.py` for another input size and set of feature maps.

/// Errors of [`PriorSpec::scaled`].
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SsdError {
    #[error("SSD priors need at least one feature map")]
    NoFeatureMaps,
    #[error("SSD priors need an image size above 0")]
    ZeroImageSize,
    #[error(
        "feature map {index} has size {size}: it must lie in 1..={image_size} (the image size)"
    )]
    BadFeatureMap {
        index: usize,
        size: usize,
        image_size: usize,
    },
}

/// The configuration of [`PriorBox`](https://github.com/amdegroot/ssd.pytorch): one entry of
/// `feature_maps`, `steps`, `min_sizes`, `max_sizes` and `aspect_ratios` per source layer.
/// Sizes and steps are in input pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct PriorSpec {
    pub image_size: usize,
    pub feature_maps: Vec<usize>,
    pub steps: Vec<f64>,
    pub min_sizes: Vec<f64>,
    pub max_sizes: Vec<f64>,
    pub aspect_ratios: Vec<Vec<usize>>,
    pub variance: [f64; 2],
    pub clip: bool,
}

/// The aspect-ratio pattern of [`PriorSpec::scaled`] for `n_sources` feature maps, as anchors
/// per cell (`2 + 2 * len(ar_k)`): `[2]` (4 anchors) for the first map and the last two,
/// `[2, 3]` (6 anchors) for the others, as ssd.pytorch's configs have it for 6 sources.
pub fn anchors_per_cell_for(n_sources: usize) -> Vec<usize> {
    aspect_ratios_for(n_sources)
        .iter()
        .map(|ar| 2 + 2 * ar.len())
        .collect()
}

fn aspect_ratios_for(n: usize) -> Vec<Vec<usize>> {
    (0..n)
        .map(|k| {
            if k == 0 || k + 2 >= n {
                vec![2]
            } else {
                vec![2, 3]
            }
        })
        .collect()
}

impl PriorSpec {
    /// ssd.pytorch's `coco` config (`data/config.py`): 300 px input, maps
    /// `[38, 19, 10, 5, 3, 1]`, steps `[8, 16, 32, 64, 100, 300]`, min sizes
    /// `[21, 45, 99, 153, 207, 261]`, max sizes `[45, 99, 153, 207, 261, 315]`, aspect ratios
    /// `[[2], [2, 3], [2, 3], [2, 3], [2], [2]]`, variance `[0.1, 0.2]`, clipped. 8732 priors.
    pub fn ssd300_coco() -> Self {
        PriorSpec {
            image_size: 300,
            feature_maps: vec![38, 19, 10, 5, 3, 1],
            steps: vec![8.0, 16.0, 32.0, 64.0, 100.0, 300.0],
            min_sizes: vec![21.0, 45.0, 99.0, 153.0, 207.0, 261.0],
            max_sizes: vec![45.0, 99.0, 153.0, 207.0, 261.0, 315.0],
            aspect_ratios: vec![
                vec![2],
                vec![2, 3],
                vec![2, 3],
                vec![2, 3],
                vec![2],
                vec![2],
            ],
            variance: [0.1, 0.2],
            clip: true,
        }
    }

    /// Priors for another input size `S` and feature maps `f_1..f_n` (e.g. 64 px with
    /// `[16, 8, 4, 2, 1]`). The rule is Caffe SSD's (`examples/ssd/ssd_pascal.py`, which gives
    /// ssd.pytorch's `voc` sizes for 300 px and 6 maps: min `[30, 60, 111, 162, 213, 264]`,
    /// max `[60, ..., 264, 315]`), the paper's linear scales `s_k` from 0.2 to 0.9 in integer
    /// percent:
    ///
    /// * the first map: min size `0.1 S`, max size `0.2 S`;
    /// * `step = floor(70 / max(n - 2, 1))` percent; map `k = 1..n-1` (0-based) has ratio
    ///   `r_k = 20 + step (k - 1)`, min size `S r_k / 100`, max size `S (r_k + step) / 100` (so
    ///   the max size of a map is the min size of the next, and the last is `S (r + step) / 100`,
    ///   1.05 S for 6 maps, 1.12 S for 5);
    /// * steps `S / f_k` (so the centres are `(j + 0.5) / f_k`), aspect ratios as
    ///   [`anchors_per_cell_for`], variance `[0.1, 0.2]`, clipped.
    ///
    /// Errors: no map, `S == 0`, or a map of size 0 or larger than `S`.
    pub fn scaled(image_size: usize, feature_maps: &[usize]) -> Result<Self, SsdError> {
        if feature_maps.is_empty() {
            return Err(SsdError::NoFeatureMaps);
        }
        if image_size == 0 {
            return Err(SsdError::ZeroImageSize);
        }
        if let Some((index, &size)) = feature_maps
            .iter()
            .enumerate()
            .find(|(_, &f)| f == 0 || f > image_size)
        {
            return Err(SsdError::BadFeatureMap {
                index,
                size,
                image_size,
            });
        }
        let n = feature_maps.len();
        let s = image_size as f64;
        let step = 70 / n.saturating_sub(2).max(1);
        let mut min_sizes = vec![s * 10.0 / 100.0];
        let mut max_sizes = vec![s * 20.0 / 100.0];
        for k in 0..n - 1 {
            let ratio = 20 + step * k;
            min_sizes.push(s * ratio as f64 / 100.0);
            max_sizes.push(s * (ratio + step) as f64 / 100.0);
        }
        Ok(PriorSpec {
            image_size,
            feature_maps: feature_maps.to_vec(),
            steps: feature_maps.iter().map(|&f| s / f as f64).collect(),
            min_sizes,
            max_sizes,
            aspect_ratios: aspect_ratios_for(n),
            variance: [0.1, 0.2],
            clip: true,
        })
    }

    /// Anchors per feature-map cell, `2 + 2 * len(aspect_ratios[k])` (ssd300: `[4, 6, 6, 6, 4,
    /// 4]`), the channel multiplier of the `k`-th head (ssd.pytorch's `mbox`).
    pub fn anchors_per_cell(&self) -> Vec<usize> {
        self.aspect_ratios
            .iter()
            .map(|ar| 2 + 2 * ar.len())
            .collect()
    }

    /// `PriorBox.forward`: `(cx, cy, w, h)` normalised by the image size, in the reference's
    /// order: map `k`, row `i`, column `j`, then the square prior of side `min_k`, the square
    /// of side `sqrt(min_k max_k)`, and for each aspect ratio `a` the pair
    /// `(min_k sqrt(a), min_k / sqrt(a))`, `(min_k / sqrt(a), min_k sqrt(a))`. Centres are
    /// `((j + 0.5) / f_k, (i + 0.5) / f_k)` with `f_k = image_size / steps[k]`. Computed in
    /// f64 and stored as f32 (`torch.Tensor(mean)`), then clamped to `[0, 1]` when `clip`. If
    /// the per-map lists differ in length, the maps beyond the shortest are left out.
    pub fn priors(&self) -> Vec<[f32; 4]> {
        let size = self.image_size as f64;
        let mut out = Vec::new();
        let maps = self
            .feature_maps
            .iter()
            .zip(&self.steps)
            .zip(self.min_sizes.iter().zip(&self.max_sizes))
            .zip(&self.aspect_ratios);
        for (((&f, &step), (&min_size, &max_size)), ars) in maps {
            let f_k = size / step;
            let s_k = min_size / size;
            let s_k_prime = (s_k * (max_size / size)).sqrt();
            for i in 0..f {
                for j in 0..f {
                    let cx = (j as f64 + 0.5) / f_k;
                    let cy = (i as f64 + 0.5) / f_k;
                    let mut push = |w: f64, h: f64| out.push(self.finish([cx, cy, w, h]));
                    push(s_k, s_k);
                    push(s_k_prime, s_k_prime);
                    for &ar in ars {
                        let r = (ar as f64).sqrt();
                        push(s_k * r, s_k / r);
                        push(s_k / r, s_k * r);
                    }
                }
            }
        }
        out
    }

    fn finish(&self, p: [f64; 4]) -> [f32; 4] {
        p.map(|v| {
            let v = v as f32;
            if self.clip {
                v.clamp(0.0, 1.0)
            } else {
                v
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssd300_counts() {
        let spec = PriorSpec::ssd300_coco();
        assert_eq!(spec.anchors_per_cell(), vec![4, 6, 6, 6, 4, 4]);
        assert_eq!(anchors_per_cell_for(6), spec.anchors_per_cell());
        assert_eq!(spec.priors().len(), 8732);
    }

    #[test]
    fn scaled_sizes_and_errors() {
        let spec = PriorSpec::scaled(300, &[38, 19, 10, 5, 3, 1]).unwrap();
        // ssd.pytorch's `voc` sizes.
        let want_min = [30.0, 60.0, 111.0, 162.0, 213.0, 264.0];
        let want_max = [60.0, 111.0, 162.0, 213.0, 264.0, 315.0];
        for k in 0..6 {
            assert!((spec.min_sizes[k] - want_min[k]).abs() < 1e-9);
            assert!((spec.max_sizes[k] - want_max[k]).abs() < 1e-9);
        }
        assert_eq!(anchors_per_cell_for(5), vec![4, 6, 6, 4, 4]);
        assert_eq!(anchors_per_cell_for(1), vec![4]);
        let spec = PriorSpec::scaled(64, &[16, 8, 4, 2, 1]).unwrap();
        assert_eq!(spec.anchors_per_cell(), anchors_per_cell_for(5));
        assert_eq!(spec.priors().len(), 256 * 4 + 64 * 6 + 16 * 6 + 4 * 4 + 4);
        assert_eq!(PriorSpec::scaled(64, &[]), Err(SsdError::NoFeatureMaps));
        assert_eq!(PriorSpec::scaled(0, &[1]), Err(SsdError::ZeroImageSize));
        assert_eq!(
            PriorSpec::scaled(64, &[8, 65]),
            Err(SsdError::BadFeatureMap {
                index: 1,
                size: 65,
                image_size: 64
            })
        );
        assert!(PriorSpec::scaled(64, &[0]).is_err());
    }
}
