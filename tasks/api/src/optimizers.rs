//! [`OptimizerSet`]: the plain implementation of [`OptimizerStep`] over boxed optimizers.

use adamp_optim::{Optimizer, StepReport};
use candle_core::backprop::GradStore;
use candle_core::Tensor;

use crate::error::{Result, TaskError};
use crate::step::OptimizerStep;

/// One optimizer per parameter set, plus the reports of the steps taken since the last
/// [`OptimizerSet::take_reports`]. The training loop uses it, and so can tests or fits that drive
/// a task without the loop.
pub struct OptimizerSet {
    optimizers: Vec<Box<dyn Optimizer>>,
    reports: Vec<(usize, StepReport)>,
}

impl OptimizerSet {
    /// Wrap the optimizers, index `i` training parameter set `i`.
    pub fn new(optimizers: Vec<Box<dyn Optimizer>>) -> Self {
        Self {
            optimizers,
            reports: Vec::new(),
        }
    }

    /// The optimizers.
    pub fn optimizers(&self) -> &[Box<dyn Optimizer>] {
        &self.optimizers
    }

    /// The optimizers, mutably (to set the learning rate or load state).
    pub fn optimizers_mut(&mut self) -> &mut [Box<dyn Optimizer>] {
        &mut self.optimizers
    }

    /// The `(set, report)` of every step taken since the last call, in order.
    pub fn take_reports(&mut self) -> Vec<(usize, StepReport)> {
        std::mem::take(&mut self.reports)
    }

    fn check(&self, set: usize) -> Result<()> {
        if set < self.optimizers.len() {
            Ok(())
        } else {
            Err(TaskError::Other(format!(
                "the task stepped optimizer {set} but only {} parameter set(s) exist",
                self.optimizers.len()
            )))
        }
    }
}

impl OptimizerStep for OptimizerSet {
    fn num_sets(&self) -> usize {
        self.optimizers.len()
    }

    fn backward_step(&mut self, set: usize, loss: &Tensor) -> Result<()> {
        self.check(set)?;
        let grads = loss.backward()?;
        self.step_with_grads(set, &grads)
    }

    fn step_with_grads(&mut self, set: usize, grads: &GradStore) -> Result<()> {
        self.check(set)?;
        let report = self.optimizers[set].step(grads)?;
        self.reports.push((set, report));
        Ok(())
    }
}
