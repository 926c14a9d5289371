//! Projected gradient descent on the input (Madry et al. 2018, "Towards Deep Learning Models
//! Resistant to Adversarial Attacks"): starting from `clamp(x + δ₀, 0, 1)`, `steps` ascent steps
//! of the loss with respect to the *input*, each projected onto the ε-ball around `x` and onto
//! `[0, 1]` ([`Norm::step`]).
//!
//! The attack only differentiates: it never steps an optimizer, and what the loss closure does
//! with the network (the task runs it in evaluation mode, so BatchNorm uses and keeps its running
//! statistics) is the caller's choice. The random start δ₀ is an argument ([`crate::start`]
//! draws it), so a test can pass the reference's own.

use candle_core::{Tensor, Var};

use adamp_task_api::{Result, TaskError};

use crate::norm::Norm;

/// One PGD attack: its ball and its steps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pgd {
    /// The ball's norm.
    pub norm: Norm,
    /// The ball's radius on `[0, 1]` pixels.
    pub eps: f64,
    /// Number of ascent steps.
    pub steps: usize,
    /// Length of each step (ℓ∞: per pixel; ℓ2: of the whole step).
    pub step_size: f64,
}

impl Pgd {
    /// The adversarial images for clean images `x` (`[B, ...]`, in `[0, 1]`), maximising
    /// `loss(x_adv)` (a scalar, e.g. the mean cross-entropy of the network's logits), from
    /// `x + start` (or `x` itself without a start). The result is detached, inside the ball
    /// and inside `[0, 1]`.
    pub fn attack(
        &self,
        x: &Tensor,
        start: Option<&Tensor>,
        mut loss: impl FnMut(&Tensor) -> Result<Tensor>,
    ) -> Result<Tensor> {
        let x = x.detach();
        let mut adv = match start {
            Some(delta) => (&x + delta)?.clamp(0f32, 1f32)?,
            None => x.clone(),
        };
        for step in 0..self.steps {
            // A fresh leaf each step: the gradient is d loss / d adv, nothing further back.
            let leaf = Var::from_tensor(&adv)?;
            let value = loss(leaf.as_tensor())?;
            let grads = value.backward()?;
            let grad = grads.get(leaf.as_tensor()).ok_or_else(|| {
                TaskError::Other(format!(
                    "PGD step {}: the loss does not depend on the input (no gradient reached it)",
                    step + 1
                ))
            })?;
            adv = self.norm.step(&x, &adv, grad, self.eps, self.step_size)?;
        }
        Ok(adv.detach())
    }
}
