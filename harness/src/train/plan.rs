//! A run's length and learning-rate schedule, fixed before the first step.

use adamp_task_api::{StepIndex, Task};
use anyhow::{bail, Result};

use crate::config::RunSpec;

/// How many steps a run takes, where its evaluations fall and which learning rate each step uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    /// Optimizer steps in the whole run.
    pub total_steps: u64,
    /// Steps between evaluations (an epoch, or `eval_every` for step-based tasks).
    pub interval: u64,
    /// Whether the schedule counts epochs (torch's per-epoch `scheduler.step()`) or steps.
    schedule_per_epoch: bool,
    /// The schedule's length in its own unit.
    schedule_total: usize,
    /// The optimizer entry's learning rate.
    base_lr: f64,
}

impl Plan {
    /// The plan of `spec` with `task` (whose data fixes the steps per epoch).
    pub fn new(spec: &RunSpec, task: &dyn Task) -> Result<Self> {
        let training = &spec.config.training;
        let (total_steps, interval, epoch_based) =
            match (training.steps, training.epochs, task.steps_per_epoch()) {
                (Some(steps), None, None) => (
                    steps as u64,
                    training.eval_every.unwrap_or(steps) as u64,
                    false,
                ),
                (None, Some(epochs), Some(per_epoch)) if per_epoch > 0 => {
                    ((epochs * per_epoch) as u64, per_epoch as u64, true)
                }
                // Validation matched the config to the task's registration; a task whose
                // `steps_per_epoch` disagrees with its registered length is a bug in the task.
                (steps, epochs, per_epoch) => bail!(
                    "{}: task `{}` reports {:?} steps per epoch, which does not fit training.steps = {steps:?}, training.epochs = {epochs:?}",
                    spec.source.display(),
                    spec.task.kind(),
                    per_epoch
                ),
            };
        let schedule_per_epoch = epoch_based && !training.schedule_per_step();
        Ok(Self {
            total_steps,
            interval,
            schedule_per_epoch,
            schedule_total: if schedule_per_epoch {
                training.epochs.unwrap_or(1)
            } else {
                total_steps as usize
            },
            base_lr: spec.optimizer().lr(),
        })
    }

    /// Where step `step` (1-based) falls: its epoch and batch.
    pub fn index(&self, step: u64) -> StepIndex {
        StepIndex {
            step: step as usize,
            epoch: ((step - 1) / self.interval + 1) as usize,
            batch: ((step - 1) % self.interval) as usize,
        }
    }

    /// Whether step `step` ends an epoch (or evaluation interval), where the task evaluates.
    pub fn ends_epoch(&self, step: u64) -> bool {
        step.is_multiple_of(self.interval) || step == self.total_steps
    }

    /// The learning rate of step `step`.
    pub fn lr(&self, spec: &RunSpec, step: u64) -> f64 {
        let index = self.index(step);
        let t = if self.schedule_per_epoch {
            index.epoch - 1
        } else {
            index.step - 1
        };
        self.base_lr
            * spec
                .config
                .training
                .lr_schedule
                .factor(t, self.schedule_total)
    }
}
