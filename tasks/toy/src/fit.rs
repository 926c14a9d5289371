//! Fitting the toys' unstated learning rate to the paper's reported numbers.
//!
//! The paper (Section 2.2) reports final norms but not the learning rate. We pick the one learning
//! rate, shared by every run of a toy, that minimises the sum of squared log-ratios between our
//! final values and the paper's, `sum_i ln(ours_i / paper_i)^2`, over a log-spaced grid. A log
//! ratio treats 2.93 vs 27.87 on the same relative footing.

use adamp_task_api::{OptimizerSet, Result, StepIndex, Task};

/// The outcome of a learning-rate fit.
#[derive(Debug, Clone, PartialEq)]
pub struct LrFit {
    /// The best learning rate on the grid.
    pub lr: f64,
    /// `sum_i ln(ours_i / paper_i)^2` at that learning rate.
    pub residual: f64,
    /// Our values at that learning rate, aligned with the targets.
    pub values: Vec<f64>,
}

/// `sum_i ln(ours_i / target_i)^2`; infinite if any value is not finite and positive.
pub fn log_ratio_residual(ours: &[f64], targets: &[f64]) -> f64 {
    ours.iter()
        .zip(targets)
        .map(|(&o, &t)| {
            if o.is_finite() && o > 0.0 {
                (o / t).ln().powi(2)
            } else {
                f64::INFINITY
            }
        })
        .sum()
}

/// `per_decade` log-spaced points from `lo` to `hi` (both included when on the grid).
pub fn log_grid(lo: f64, hi: f64, per_decade: usize) -> Vec<f64> {
    let (a, b) = (lo.log10(), hi.log10());
    let n = ((b - a) * per_decade as f64).round() as usize;
    (0..=n)
        .map(|i| 10f64.powf(a + (b - a) * i as f64 / n.max(1) as f64))
        .collect()
}

/// Grid search: `simulate(lr)` returns our values (aligned with `targets`) for every run at that
/// learning rate; returns the learning rate with the smallest [`log_ratio_residual`].
pub fn fit_learning_rate<E>(
    grid: &[f64],
    targets: &[f64],
    mut simulate: impl FnMut(f64) -> std::result::Result<Vec<f64>, E>,
) -> std::result::Result<Option<LrFit>, E> {
    let mut best: Option<LrFit> = None;
    for &lr in grid {
        let values = simulate(lr)?;
        let residual = log_ratio_residual(&values, targets);
        if best.as_ref().is_none_or(|b| residual < b.residual) {
            best = Some(LrFit {
                lr,
                residual,
                values,
            });
        }
    }
    Ok(best)
}

/// Drive a step-based task for `steps` steps with `optimizers`, without recording (for fits and
/// tests; the harness loop is the real runner).
pub fn drive(task: &mut dyn Task, optimizers: &mut OptimizerSet, steps: usize) -> Result<()> {
    for step in 1..=steps {
        let index = StepIndex {
            step,
            epoch: 1,
            batch: step - 1,
        };
        task.train_step(index, optimizers)?;
        optimizers.take_reports();
    }
    Ok(())
}
