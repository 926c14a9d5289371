//! Building a run's task and optimizers from its config.

use adamp_task_api::{OptimizerSet, ParamSet, Task, TaskContext, TaskError};
use anyhow::Result;

use crate::config::cuda_error::Stage;
use crate::config::validate::task_error;
use crate::config::{ConfigError, RunSpec};

/// Build the task of `spec` on `device` through its registration. A setting the task rejects
/// while building (a batch larger than the dataset, say) is a [`ConfigError`] at its key.
pub fn build_task(spec: &RunSpec, device: &candle_core::Device) -> Result<Box<dyn Task>> {
    let ctx = TaskContext {
        seed: spec.seed,
        device: device.clone(),
        batch_size: spec.config.training.batch_size,
    };
    spec.task.build(&ctx).map_err(|e| match e {
        e @ TaskError::InvalidSetting { .. } => task_error(&spec.source, e).into(),
        other => {
            // Out of memory (or an old driver) on a CUDA device: say so and what to do.
            let stage = Stage::Build(format!("the model and data of task `{}`", spec.task.kind()));
            let text = format!("{other} {other:?}");
            if let Some(m) = spec.device.explain_failure(Some(device), &stage, &text) {
                return ConfigError::new(&spec.source, "device", m).into();
            }
            anyhow::Error::from(other).context(format!(
                "{}: building task `{}`",
                spec.source.display(),
                spec.task.kind()
            ))
        }
    })
}

/// One optimizer of the configured kind per parameter set (1-D parameters moved to a no-decay
/// group first when `training.exclude_1d_from_weight_decay`).
pub fn build_optimizers(spec: &RunSpec, sets: &[ParamSet]) -> Result<OptimizerSet> {
    let entry = spec.optimizer();
    let mut optimizers = Vec::with_capacity(sets.len());
    for set in sets {
        let mut params = set.params.clone();
        if spec.config.training.exclude_1d_from_weight_decay {
            params = params.exclude_1d_from_weight_decay();
        }
        let opt = entry.build(params).map_err(|e| {
            ConfigError::new(
                &spec.source,
                "optimizers",
                format!(
                    "building `{}` for parameter set `{}`: {e}",
                    entry.kind(),
                    set.name
                ),
            )
        })?;
        optimizers.push(opt);
    }
    Ok(OptimizerSet::new(optimizers))
}
