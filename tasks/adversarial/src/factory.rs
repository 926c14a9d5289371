//! The registration of `[task] kind = "adversarial"`: its tables, checks, metrics and build.

use adamp_task_api::factory::invalid;
use adamp_task_api::{Length, Result, Task, TaskContext, TaskFactory, TaskSpec};
use adamp_task_classification::settings::{DataKind, MODEL_KINDS};
use adamp_task_classification::{DataSettings, ModelSettings};

use crate::settings::AdversarialSettings;
use crate::task::AdversarialTask;

/// The `[data] kind`s the task reads: the small image datasets whose pixels the attack perturbs
/// (CIFAR-10 is the paper's; Fashion-MNIST the embedded default's).
pub const DATA_KINDS: &[&str] = &["fashion_mnist", "mnist", "cifar10"];

/// `data.kind` is one of [`DATA_KINDS`].
pub fn check_data_kind(data: &DataSettings) -> Result<()> {
    match data.kind {
        DataKind::FashionMnist | DataKind::Mnist | DataKind::Cifar10 => Ok(()),
        other => Err(invalid(
            "data.kind",
            format!(
                "the adversarial task trains on {} (the paper's benchmark is CIFAR-10), got `{other}`",
                DATA_KINDS.join(", ")
            ),
        )),
    }
}

impl TaskFactory for AdversarialTask {
    const KIND: &'static str = "adversarial";
    const LENGTH: Length = Length::Epochs;
    const MODEL_KINDS: &'static [&'static str] = MODEL_KINDS;
    const DATA_KINDS: &'static [&'static str] = DATA_KINDS;
    type Settings = AdversarialSettings;
    type Model = ModelSettings;
    type Data = DataSettings;

    fn check(spec: &TaskSpec<Self>) -> Result<()> {
        spec.task.validate()?;
        spec.model.model_kind()?;
        spec.data.validate()?;
        check_data_kind(&spec.data)
    }

    fn eval_metrics(spec: &TaskSpec<Self>) -> Vec<String> {
        std::iter::once("std_acc".to_string())
            .chain(spec.task.attacked_metrics().into_iter().map(|(_, m)| m))
            .collect()
    }

    fn build(spec: &TaskSpec<Self>, ctx: &TaskContext) -> Result<Box<dyn Task>> {
        Ok(Box::new(AdversarialTask::new(
            &spec.task,
            &spec.model,
            &spec.data,
            ctx,
        )?))
    }
}
