//! Helpers shared by the adversarial task's integration tests: settings, a task on generated
//! Fashion-MNIST-layout data, an SGD optimizer set and one training step.
#![allow(dead_code)]

use std::path::Path;

use adamp_optim::{Optimizer, Sgd, SgdConfig};
use adamp_task_adversarial::{AdversarialSettings, AdversarialTask, Norm};
use adamp_task_api::{OptimizerSet, StepIndex, Task, TaskContext};
use adamp_task_classification::{DataSettings, ModelSettings};
use candle_core::{Device, Tensor};

/// `norm` with radius `eps`, 3 training steps, evaluation PGD-3 and PGD-6, random start.
pub fn settings(norm: Norm, eps: f64) -> AdversarialSettings {
    AdversarialSettings {
        norm,
        eps,
        steps: 3,
        step_size: None,
        eval_steps: vec![3, 6],
        random_start: true,
    }
}

/// IDX data under `root` (Fashion-MNIST layout), the whole split.
pub fn data(root: &Path) -> DataSettings {
    DataSettings {
        kind: "fashion_mnist".parse().unwrap(),
        root: Some(root.to_path_buf()),
        train_subset: None,
        test_subset: None,
        workers: 1,
        fetch: false,
        hf_repo: None,
        hf_revision: None,
        hf_splits: None,
    }
}

/// WRN-10-1 (the smallest Wide-ResNet: one pre-activation block per stage), our fast layers.
pub fn model() -> ModelSettings {
    ModelSettings {
        kind: "wide_resnet".parse().unwrap(),
        depth: Some(10),
        width: Some(1),
        kernel: None,
        layers: adamp_models::LayerImpl::Fast,
    }
}

/// A CPU context with seed 5.
pub fn ctx(batch_size: usize) -> TaskContext {
    TaskContext {
        seed: 5,
        device: Device::Cpu,
        batch_size,
    }
}

/// A task on `n_train` / `n_test` generated 28x28 grey images under `root`.
pub fn task(
    root: &Path,
    s: &AdversarialSettings,
    n_train: usize,
    n_test: usize,
    batch: usize,
) -> AdversarialTask {
    adamp_datasets::testdata::write_idx_dataset(root, n_train, n_test, 28, 7).unwrap();
    AdversarialTask::new(s, &model(), &data(root), &ctx(batch)).unwrap()
}

/// SGD (momentum 0.9) over the task's parameters.
pub fn sgd(task: &AdversarialTask, lr: f64) -> OptimizerSet {
    let params = task.param_sets().remove(0).params;
    let mut cfg = SgdConfig::new(lr);
    cfg.momentum = 0.9;
    let opt: Box<dyn Optimizer> = Box::new(Sgd::new(params, cfg).unwrap());
    OptimizerSet::new(vec![opt])
}

/// Train step `s` (0-based); its loss.
pub fn step(task: &mut AdversarialTask, opts: &mut OptimizerSet, s: usize) -> f64 {
    let per_epoch = task.steps_per_epoch().unwrap();
    let index = StepIndex {
        step: s + 1,
        epoch: s / per_epoch + 1,
        batch: s % per_epoch,
    };
    task.train_step(index, opts).unwrap().loss
}

/// Copies of every parameter and buffer, by name.
pub fn snapshot(task: &AdversarialTask) -> Vec<(String, Vec<f32>)> {
    let flat = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let mut out: Vec<(String, Vec<f32>)> = task.param_sets()[0]
        .params
        .params()
        .iter()
        .map(|p| (p.name.clone(), flat(p.var.as_tensor())))
        .collect();
    out.extend(
        task.buffers()
            .unwrap()
            .iter()
            .map(|(n, t)| (n.clone(), flat(t))),
    );
    out
}

/// The value of evaluation metric `name`.
pub fn metric(eval: &adamp_task_api::EvalOutput, name: &str) -> f64 {
    eval.metrics
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no metric {name} in {:?}", eval.metrics))
        .1
}

/// The first `n` test images under `root` as `[n, 1, 28, 28]` pixels in `[0, 1]`, with labels.
pub fn test_images(root: &Path, n: usize) -> (Tensor, Tensor) {
    use adamp_datasets::ImageSource;
    let split = adamp_datasets::idx::load_idx_split(root, adamp_datasets::Split::Test, "generated")
        .unwrap();
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for i in 0..n {
        let img = split.image(i).unwrap();
        pixels.extend(img.data.iter().map(|&p| f32::from(p) / 255.0));
        labels.push(split.label(i));
    }
    (
        Tensor::from_vec(pixels, (n, 1, 28, 28), &Device::Cpu).unwrap(),
        Tensor::from_vec(labels, n, &Device::Cpu).unwrap(),
    )
}
