//! Building a run's task and optimizers from its config: the one `match` over task kinds.

use adamp_task_api::{OptimizerSet, ParamSet, Task, TaskContext, TaskError};
use adamp_task_classification::ClassificationTask;
use adamp_task_toy::{Toy2d, Toy3d};
use anyhow::Result;

use crate::config::{ConfigError, RunSpec, TaskConfig};

/// Build the task of `spec` on `device`. Adding a task: one arm here (and one variant in
/// [`TaskConfig`]).
pub fn build_task(spec: &RunSpec, device: &candle_core::Device) -> Result<Box<dyn Task>> {
    let ctx = TaskContext {
        seed: spec.seed,
        device: device.clone(),
        batch_size: spec.config.training.batch_size,
    };
    let task: std::result::Result<Box<dyn Task>, TaskError> = match &spec.config.task {
        TaskConfig::Toy2d(s) => Toy2d::new(s.clone(), &ctx).map(|t| Box::new(t) as Box<dyn Task>),
        TaskConfig::Toy3d(s) => Toy3d::new(s.clone(), &ctx).map(|t| Box::new(t) as Box<dyn Task>),
        TaskConfig::Classification(s) => {
            let (model, data) = spec.config.model_and_data(&spec.source)?;
            ClassificationTask::new(s, model, data, &ctx).map(|t| Box::new(t) as Box<dyn Task>)
        }
    };
    task.map_err(|e| match e {
        TaskError::InvalidSetting { key, expected } => {
            // Tasks name keys inside `[task]`, or (tasks with a model / data) a full path.
            let full = if ["model.", "data.", "training."]
                .iter()
                .any(|p| key.starts_with(p))
            {
                key
            } else {
                format!("task.{key}")
            };
            ConfigError::new(&spec.source, full, expected).into()
        }
        other => anyhow::Error::from(other).context(format!(
            "{}: building task `{}`",
            spec.source.display(),
            spec.config.task.kind()
        )),
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
