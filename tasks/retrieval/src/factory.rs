//! The registration of `[task] kind = "retrieval"`: its tables, checks, metrics and build.

use adamp_task_api::{Length, Result, Task, TaskContext, TaskFactory, TaskSpec};
use adamp_task_classification::settings::MODEL_KINDS;

use crate::data_settings::RetrievalDataSettings;
use crate::model_settings::RetrievalModelSettings;
use crate::settings::{recall_metric, RetrievalSettings};
use crate::task::RetrievalTask;

/// The `[data] format`s the task reads (the datasets' own layouts).
pub const DATA_FORMATS: &[&str] = &["cub", "cars", "sop", "inshop"];

impl TaskFactory for RetrievalTask {
    const KIND: &'static str = "retrieval";
    const LENGTH: Length = Length::Epochs;
    const MODEL_KINDS: &'static [&'static str] = MODEL_KINDS;
    const DATA_KINDS: &'static [&'static str] = DATA_FORMATS;
    type Settings = RetrievalSettings;
    type Model = RetrievalModelSettings;
    type Data = RetrievalDataSettings;

    /// Everything knowable without the data: ranges and combinations of `[task]`, the trunk's
    /// keys and pretrained source, the data keys. Checks that need the data or the batch size
    /// (K against the gallery, `per_class` against the batch and the classes, the embedding
    /// size against a checkpoint) run in `build`, still before anything is written.
    fn check(spec: &TaskSpec<Self>) -> Result<()> {
        spec.task.validate()?;
        spec.model.validate()?;
        spec.data.validate()
    }

    fn eval_metrics(spec: &TaskSpec<Self>) -> Vec<String> {
        spec.task
            .recall_ks(spec.data.format)
            .into_iter()
            .map(recall_metric)
            .collect()
    }

    fn build(spec: &TaskSpec<Self>, ctx: &TaskContext) -> Result<Box<dyn Task>> {
        Ok(Box::new(RetrievalTask::new(
            &spec.task,
            &spec.model,
            &spec.data,
            ctx,
        )?))
    }
}
