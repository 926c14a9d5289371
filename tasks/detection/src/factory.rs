//! The registration of `[task] kind = "detection"`: its tables, checks, metrics and build.

use adamp_task_api::{Length, Result, Task, TaskContext, TaskFactory, TaskSpec};

use crate::data_settings::DetectionDataSettings;
use crate::model_settings::{DetectionModelSettings, BACKBONES};
use crate::results::METRICS;
use crate::settings::DetectionSettings;
use crate::task::DetectionTask;

impl TaskFactory for DetectionTask {
    const KIND: &'static str = "detection";
    const LENGTH: Length = Length::Epochs;
    const MODEL_KINDS: &'static [&'static str] = BACKBONES;
    const DATA_KINDS: &'static [&'static str] = &["coco"];
    type Settings = DetectionSettings;
    type Model = DetectionModelSettings;
    type Data = DetectionDataSettings;

    /// Ranges and combinations of `[task]`, the backbone and its weights' source, the data keys;
    /// what needs the data or the batch size is checked in `build`, still before anything is
    /// written.
    fn check(spec: &TaskSpec<Self>) -> Result<()> {
        spec.task.validate()?;
        spec.model.validate()?;
        spec.data.validate()
    }

    fn eval_metrics(_spec: &TaskSpec<Self>) -> Vec<String> {
        METRICS.iter().map(|m| m.to_string()).collect()
    }

    fn build(spec: &TaskSpec<Self>, ctx: &TaskContext) -> Result<Box<dyn Task>> {
        Ok(Box::new(DetectionTask::new(
            &spec.task,
            &spec.model,
            &spec.data,
            ctx,
        )?))
    }
}
