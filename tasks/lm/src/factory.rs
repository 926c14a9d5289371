//! The registration of `[task] kind = "language_model"`: its tables, checks, metrics and build.

use adamp_task_api::{Length, Result, Task, TaskContext, TaskFactory, TaskSpec};

use crate::data_settings::LmDataSettings;
use crate::model_settings::{LmModelSettings, MODEL_KINDS};
use crate::settings::LmSettings;
use crate::task::{LmTask, METRICS};

impl TaskFactory for LmTask {
    const KIND: &'static str = "language_model";
    /// train.py counts `max_step` optimizer steps and evaluates every `eval_interval`: the
    /// harness's `training.steps` and `training.eval_every`.
    const LENGTH: Length = Length::Steps;
    const MODEL_KINDS: &'static [&'static str] = MODEL_KINDS;
    const DATA_KINDS: &'static [&'static str] = &["wikitext"];
    type Settings = LmSettings;
    type Model = LmModelSettings;
    type Data = LmDataSettings;

    /// Ranges of `[task]`, `[model]` and `[data]`; what needs the data (the cutoffs against the
    /// vocabulary, the segment length against the streams) is checked in `build`, still before
    /// anything is written.
    fn check(spec: &TaskSpec<Self>) -> Result<()> {
        spec.task.validate()?;
        spec.model.validate()?;
        spec.data.validate()
    }

    fn eval_metrics(_spec: &TaskSpec<Self>) -> Vec<String> {
        METRICS.iter().map(|m| m.to_string()).collect()
    }

    fn build(spec: &TaskSpec<Self>, ctx: &TaskContext) -> Result<Box<dyn Task>> {
        Ok(Box::new(LmTask::new(
            &spec.task,
            &spec.model,
            &spec.data,
            ctx,
        )?))
    }
}
