//! The threat model's norm and one projected ascent step in it (Madry et al. 2018, "Towards
//! Deep Learning Models Resistant to Adversarial Attacks", Section 2 and Appendix: projected
//! gradient descent on the negative loss).
//!
//! For an image `x` in `[0, 1]`, an iterate `a` and the loss gradient `g = dL/da`:
//! - ℓ∞: `a' = clamp(min(max(a + α·sign(g), x − ε), x + ε), 0, 1)` — Madry et al.'s CIFAR-10
//!   `LinfPGDAttack.perturb`, with pixels on `[0, 1]` instead of `[0, 255]`;
//! - ℓ2: `a'' = a + α·g / (‖g‖₂ + 1e-10)` per sample, then `δ = a'' − x` scaled by
//!   `min(1, ε / ‖δ‖₂)` (the projection onto the ball), then `a' = clamp(x + δ, 0, 1)` — the
//!   normalised-gradient step and projection of Madry et al.'s `robustness` library
//!   (`L2Step`), written as a minimum instead of `renorm`.
//!
//! Clamping to `[0, 1]` after projecting onto the ball keeps the iterate in both sets: `x` lies in
//! `[0, 1]`, so clamping only moves a coordinate towards `x`.

use candle_core::{Result, Tensor};
use serde::{Deserialize, Serialize};

/// The norm of the perturbation ball.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Norm {
    /// `‖δ‖∞ ≤ ε` (the paper's ε = 4/255 row).
    Linf,
    /// `‖δ‖₂ ≤ ε` over the whole image (the paper's ε = 80/255 row).
    L2,
}

impl std::fmt::Display for Norm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Norm::Linf => "ℓ∞",
            Norm::L2 => "ℓ2",
        })
    }
}

/// Added to the gradient's norm before dividing by it (the `robustness` library's constant), so
/// an all-zero gradient gives a zero step.
const GRAD_NORM_FLOOR: f64 = 1e-10;

/// The ℓ2 norm of each sample of `t` (`[B, ...]`), as `[B, 1, ..., 1]` for broadcasting.
pub fn sample_l2_norms(t: &Tensor) -> Result<Tensor> {
    let b = t.dim(0)?;
    let mut keep = vec![1usize; t.rank()];
    keep[0] = b;
    t.flatten_from(1)?
        .sqr()?
        .sum_keepdim(1)?
        .sqrt()?
        .reshape(keep)
}

impl Norm {
    /// One ascent step from `adv` along `grad`, projected onto the `eps`-ball around `x` and
    /// onto `[0, 1]`.
    pub fn step(
        self,
        x: &Tensor,
        adv: &Tensor,
        grad: &Tensor,
        eps: f64,
        step_size: f64,
    ) -> Result<Tensor> {
        match self {
            Norm::Linf => {
                let moved = (adv + (grad.sign()? * step_size)?)?;
                let (lo, hi) = ((x - eps)?, (x + eps)?);
                moved.maximum(&lo)?.minimum(&hi)?.clamp(0f32, 1f32)
            }
            Norm::L2 => {
                let unit = grad.broadcast_div(&(sample_l2_norms(grad)? + GRAD_NORM_FLOOR)?)?;
                let moved = (adv + (unit * step_size)?)?;
                let delta = self.project(&(moved - x)?, eps)?;
                (x + delta)?.clamp(0f32, 1f32)
            }
        }
    }

    /// `delta` projected onto the `eps`-ball of this norm.
    pub fn project(self, delta: &Tensor, eps: f64) -> Result<Tensor> {
        match self {
            Norm::Linf => delta.clamp(-eps as f32, eps as f32),
            Norm::L2 => {
                // min(1, eps / n); a zero delta gives eps / 0 = inf -> 1.
                let factor = (sample_l2_norms(delta)?.recip()? * eps)?.minimum(1f32)?;
                delta.broadcast_mul(&factor)
            }
        }
    }
}
