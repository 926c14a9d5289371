//! Helpers shared by the classification integration tests: settings, an SGDP optimizer set and
//! one training step.
#![allow(dead_code)]

use adamp_optim::{Optimizer, Sgdp, SgdpConfig};
use adamp_task_api::{OptimizerSet, StepIndex, Task, TaskContext};
use adamp_task_classification::{ClassificationTask, DataSettings, ModelSettings};
use candle_core::Device;

/// Data settings for `kind` under `root`.
pub fn data(root: &std::path::Path, kind: &str) -> DataSettings {
    DataSettings {
        kind: kind.parse().unwrap(),
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

/// Model settings with our fast layers.
pub fn model(kind: &str) -> ModelSettings {
    ModelSettings {
        kind: kind.parse().unwrap(),
        depth: None,
        width: None,
        kernel: None,
        layers: adamp_models::LayerImpl::Fast,
    }
}

/// A CPU context with seed 3.
pub fn ctx(batch_size: usize) -> TaskContext {
    TaskContext {
        seed: 3,
        device: Device::Cpu,
        batch_size,
    }
}

/// SGDP (momentum 0.9) over the task's parameters.
pub fn sgdp(task: &ClassificationTask, lr: f64) -> OptimizerSet {
    let params = task.param_sets().remove(0).params;
    let mut cfg = SgdpConfig::new(lr);
    cfg.momentum = 0.9;
    let opt: Box<dyn Optimizer> = Box::new(Sgdp::new(params, cfg).unwrap());
    OptimizerSet::new(vec![opt])
}

/// Train step `s` (0-based); its loss.
pub fn step(task: &mut ClassificationTask, opts: &mut OptimizerSet, s: usize) -> f64 {
    let per_epoch = task.steps_per_epoch().unwrap();
    let index = StepIndex {
        step: s + 1,
        epoch: s / per_epoch + 1,
        batch: s % per_epoch,
    };
    task.train_step(index, opts).unwrap().loss
}
