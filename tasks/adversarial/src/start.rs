//! The random start of PGD (Madry et al. 2018, "Towards Deep Learning Models Resistant to
//! Adversarial Attacks": "a random start in the ε-ball"), drawn uniformly from the ball:
//! - ℓ∞: every pixel offset uniform in `[−ε, ε]` (Madry et al.'s `LinfPGDAttack`, `random_start`);
//! - ℓ2: uniform in the ball of each sample: a Gaussian direction scaled to radius `ε·u^(1/d)`,
//!   `u` uniform in `[0, 1)` and `d` the pixels per sample. (Madry et al.'s `robustness` library
//!   starts on the sphere, radius ε; in the paper's `d = 3072` the uniform radius has median
//!   `ε·0.5^(1/3072) = 0.99977 ε`, so the two differ by less than 0.1% of ε.)
//!
//! The offsets come from an RNG the caller seeds (a function of the run's seed and the batch),
//! so a run resumed mid-epoch draws the same starts. The pixel clamp to `[0, 1]` is the attack's
//! ([`crate::pgd::Pgd::attack`]).

use candle_core::{Device, Result, Tensor};
use rand::Rng;
use rand_distr::StandardNormal;

use crate::norm::Norm;

/// A start offset `δ₀` of `shape` (`[B, ...]`), uniform in the `eps`-ball of `norm`.
pub fn random_start(
    norm: Norm,
    eps: f64,
    shape: &[usize],
    rng: &mut impl Rng,
    device: &Device,
) -> Result<Tensor> {
    let batch = shape.first().copied().unwrap_or(1).max(1);
    let n: usize = shape.iter().product();
    let d = n / batch;
    let values: Vec<f32> = match norm {
        Norm::Linf => (0..n)
            .map(|_| rng.random_range(-eps..=eps) as f32)
            .collect(),
        Norm::L2 => {
            let mut out = Vec::with_capacity(n);
            for _ in 0..batch {
                let dir: Vec<f64> = (0..d).map(|_| rng.sample(StandardNormal)).collect();
                let len = dir.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-300);
                let radius = eps * rng.random::<f64>().powf(1.0 / d.max(1) as f64);
                out.extend(dir.iter().map(|v| (v / len * radius) as f32));
            }
            out
        }
    };
    Tensor::from_vec(values, shape, device)
}
