//! `[task]` of `kind = "adversarial"`: the threat model of PGD adversarial training (Madry et al.
//! 2018, "Towards Deep Learning Models Resistant to Adversarial Attacks"), as the AdamP paper's
//! CIFAR-10 benchmark uses it (arXiv 2006.08217, adversarial training table: ℓ∞ ε = 4/255 and
//! ℓ2 ε = 80/255, 10 PGD steps in training, PGD-10 attacked accuracy).
//!
//! ```toml
//! [task]
//! kind = "adversarial"
//! norm = "linf"              # "linf" | "l2"
//! eps = 0.01568627450980392  # 4/255, on [0, 1] pixels (before normalisation)
//! steps = 10                 # PGD steps per training batch (default 10)
//! # step_size = 0.0039       # default 2.5 * eps / steps (Madry et al. 2018), per attack
//! eval_steps = [10, 20]      # evaluation attacks: attacked_acc (first), attacked_acc_<k> (others)
//! random_start = true        # uniform start in the eps-ball (default true)
//! ```

use adamp_task_api::factory::invalid;
use adamp_task_api::Result;
use serde::{Deserialize, Serialize};

use crate::norm::Norm;

/// The most PGD steps one attack may take: more never changes a result at these step sizes,
/// and a mistyped value must not run for days.
pub const MAX_STEPS: usize = 1000;

/// `[task]` for `kind = "adversarial"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdversarialSettings {
    /// The norm of the threat model's ball.
    pub norm: Norm,
    /// Radius of the ball, in units of the `[0, 1]` pixel range (the paper's 4/255 or 80/255).
    pub eps: f64,
    /// PGD steps of the training attack (the paper: 10).
    #[serde(default = "default_steps")]
    pub steps: usize,
    /// Step size of every attack; when absent, `2.5 * eps / k` for an attack of `k` steps (the
    /// rule of Madry et al. 2018, which lets a k-step attack travel 2.5 radii).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_size: Option<f64>,
    /// The evaluation attacks, by their number of steps; the first gives `attacked_acc` (the
    /// paper's PGD-10), every other one `attacked_acc_<k>`.
    #[serde(default = "default_eval_steps")]
    pub eval_steps: Vec<usize>,
    /// Start every attack at a uniformly drawn point of the ball (Madry et al. 2018); `false`
    /// starts at the clean image.
    #[serde(default = "default_random_start")]
    pub random_start: bool,
}

fn default_steps() -> usize {
    10
}

fn default_eval_steps() -> Vec<usize> {
    vec![10, 20]
}

fn default_random_start() -> bool {
    true
}

impl AdversarialSettings {
    /// The step size of an attack of `steps` steps: `step_size`, or `2.5 * eps / steps`.
    pub fn step_size_for(&self, steps: usize) -> f64 {
        self.step_size
            .unwrap_or(2.5 * self.eps / steps.max(1) as f64)
    }

    /// The evaluation metric of each `eval_steps` entry, in order.
    pub fn attacked_metrics(&self) -> Vec<(usize, String)> {
        self.eval_steps
            .iter()
            .enumerate()
            .map(|(i, &k)| {
                let name = if i == 0 {
                    "attacked_acc".to_string()
                } else {
                    format!("attacked_acc_{k}")
                };
                (k, name)
            })
            .collect()
    }

    /// Every check that needs no data, naming the `[task]` key.
    pub fn validate(&self) -> Result<()> {
        if !self.eps.is_finite() || self.eps <= 0.0 {
            return Err(invalid(
                "eps",
                format!(
                    "expected a radius > 0 on [0, 1] pixels (e.g. 4/255 = 0.0157), got {}",
                    self.eps
                ),
            ));
        }
        if self.norm == Norm::Linf && self.eps >= 1.0 {
            return Err(invalid(
                "eps",
                format!(
                    "expected an ℓ∞ radius < 1 (pixels lie in [0, 1], so a radius of 1 allows any image), got {}",
                    self.eps
                ),
            ));
        }
        check_steps("steps", self.steps)?;
        if let Some(a) = self.step_size {
            if !a.is_finite() || a <= 0.0 {
                return Err(invalid(
                    "step_size",
                    format!(
                        "expected a step size > 0 (leave it out for 2.5 * eps / steps), got {a}"
                    ),
                ));
            }
        }
        if self.eval_steps.is_empty() {
            return Err(invalid(
                "eval_steps",
                "expected at least one evaluation attack (the paper's is [10]), got []",
            ));
        }
        for (i, &k) in self.eval_steps.iter().enumerate() {
            check_steps(&format!("eval_steps[{i}]"), k)?;
            if self.eval_steps[..i].contains(&k) {
                return Err(invalid(
                    format!("eval_steps[{i}]"),
                    format!("expected distinct step counts, got {k} twice"),
                ));
            }
        }
        Ok(())
    }
}

fn check_steps(key: &str, steps: usize) -> Result<()> {
    if steps == 0 || steps > MAX_STEPS {
        return Err(invalid(
            key,
            format!("expected 1 to {MAX_STEPS} PGD steps, got {steps}"),
        ));
    }
    Ok(())
}
