//! The registration of `[task] kind = "audio"`: its tables, checks, metrics and build.

use adamp_task_api::{Length, Result, Task, TaskContext, TaskFactory, TaskSpec};

use crate::chunking::chunk_length;
use crate::data_settings::AudioDataSettings;
use crate::model_settings::{AudioModelSettings, MODEL_KINDS};
use crate::settings::AudioSettings;
use crate::task::{metric_names, AudioTask};

/// The `[data] dataset` names.
pub const DATA_KINDS: &[&str] = &["mtat", "speech_commands", "dcase2017"];

impl TaskFactory for AudioTask {
    const KIND: &'static str = "audio";
    /// solver.py counts epochs over the training clips and validates after each.
    const LENGTH: Length = Length::Epochs;
    const MODEL_KINDS: &'static [&'static str] = MODEL_KINDS;
    const DATA_KINDS: &'static [&'static str] = DATA_KINDS;
    type Settings = AudioSettings;
    type Model = AudioModelSettings;
    type Data = AudioDataSettings;

    /// Ranges of `[task]`, `[model]` and `[data]`, and the chunk length against the network's
    /// time pooling; what needs the data (labels, splits, the batch size against the clips) is
    /// checked in `build`, still before anything is written.
    fn check(spec: &TaskSpec<Self>) -> Result<()> {
        spec.task.validate()?;
        spec.model.validate()?;
        spec.data.validate()?;
        chunk_length(
            spec.task.input_length,
            spec.data.dataset,
            &spec.model.stft()?,
        )
        .map(|_| ())
    }

    fn eval_metrics(spec: &TaskSpec<Self>) -> Vec<String> {
        metric_names(spec.data.dataset)
    }

    fn build(spec: &TaskSpec<Self>, ctx: &TaskContext) -> Result<Box<dyn Task>> {
        Ok(Box::new(AudioTask::new(
            &spec.task,
            &spec.model,
            &spec.data,
            ctx,
        )?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::AudioDataset;

    #[test]
    fn data_kinds_are_the_dataset_names() {
        let names: Vec<&str> = AudioDataset::ALL.iter().map(|d| d.name()).collect();
        assert_eq!(names, DATA_KINDS);
        assert_eq!(
            metric_names(AudioDataset::Mtat),
            [
                "valid_roc_auc",
                "valid_pr_auc",
                "valid_loss",
                "test_roc_auc",
                "test_pr_auc",
                "test_loss",
                "bw_q"
            ]
        );
    }
}
