//! Helpers shared by the ReBias integration tests: tiny data in the real layouts, settings, an
//! optimizer per parameter set, and one training step.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use adamp_datasets::texture_fmnist::{build_texture_dataset, TextureSpec};
use adamp_models::{LayerImpl, ModelKind};
use adamp_optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig};
use adamp_task_api::{OptimizerSet, StepIndex, StepOutput, Task, TaskContext};
use adamp_task_rebias::{
    BiasedMnistData, Digits, ImageNet9Data, ReBiasData, ReBiasModels, ReBiasSettings, ReBiasTask,
    TextureData,
};
use candle_core::Device;

/// A CPU context.
pub fn ctx(batch_size: usize, seed: u64) -> TaskContext {
    TaskContext {
        seed,
        device: Device::Cpu,
        batch_size,
    }
}

/// An MNIST-layout IDX folder of 80 train / 40 test 28x28 digit-like images on black
/// (labels `i % 10`).
pub fn mnist_folder(dir: &Path) -> PathBuf {
    let root = dir.join("mnist");
    adamp_datasets::testdata_rebias::write_digit_idx(&root, 80, 40, 5).unwrap();
    root
}

/// Biased-MNIST over `root` at `rho`, downsampled 2x (14 x 14) to keep the tests quick.
pub fn biased_mnist(root: &Path, rho: f64) -> ReBiasData {
    ReBiasData::BiasedMnist(BiasedMnistData {
        digits: Digits::Mnist,
        root: Some(root.to_path_buf()),
        rho,
        unbiased_rho: 0.1,
        biased_rho: None,
        downsample: 2,
        train_subset: None,
        test_subset: None,
        workers: 1,
        fetch: false,
    })
}

/// The ReBias Biased-MNIST networks.
pub fn simple_convs() -> ReBiasModels {
    ReBiasModels {
        f: ModelKind::SimpleConvNet { kernel: 7 },
        g: ModelKind::SimpleConvNet { kernel: 1 },
        layers: LayerImpl::Fast,
    }
}

/// The ReBias 9-class ImageNet networks.
pub fn resnet_bagnet() -> ReBiasModels {
    ReBiasModels {
        f: ModelKind::ResNet18,
        g: ModelKind::BagNet18,
        layers: LayerImpl::Fast,
    }
}

/// A tiny texture-biased Fashion-MNIST under `dir` (4 / 20 / 2 images per class; every val
/// cell of the own texture holds 10 images).
pub fn texture_folder(dir: &Path) -> PathBuf {
    let fm = dir.join("fm");
    adamp_datasets::testdata::write_idx_dataset(&fm, 60, 230, 28, 8).unwrap();
    let spec = TextureSpec {
        folder: "tex",
        train_per_class: 6,
        val_per_class: 20,
        a_per_class: 2,
        train_rho: 0.9,
        val_rho: 0.5,
        seed: 3,
    };
    build_texture_dataset(&spec, &fm, dir).unwrap();
    dir.join("tex")
}

/// Texture-biased Fashion-MNIST data settings.
pub fn texture(root: &Path) -> ReBiasData {
    ReBiasData::TextureFmnist(TextureData {
        root: Some(root.to_path_buf()),
        train_subset: None,
        test_subset: None,
        workers: 1,
        fetch: false,
    })
}

/// 9-class ImageNet data settings over the tiny layout of `adamp_datasets::testdata_rebias`,
/// 64-pixel inputs.
pub fn imagenet9(root: &Path, clusters: &Path) -> ReBiasData {
    ReBiasData::Imagenet9(ImageNet9Data {
        root: Some(root.to_path_buf()),
        clusters: clusters.to_path_buf(),
        imagenet_a: Some(root.join("imagenet-a")),
        crop: 64,
        train_subset: Some(8),
        test_subset: None,
        workers: 1,
    })
}

/// Adam (lr 1e-3, weight decay 1e-4) for f and for g.
pub fn adams(task: &ReBiasTask) -> OptimizerSet {
    let opts: Vec<Box<dyn Optimizer>> = task
        .param_sets()
        .into_iter()
        .map(|s| {
            let cfg = AdamConfig {
                lr: 1e-3,
                weight_decay: 1e-4,
                ..Default::default()
            };
            Box::new(Adam::new(s.params, cfg).unwrap()) as Box<dyn Optimizer>
        })
        .collect();
    OptimizerSet::new(opts)
}

/// Plain SGD (lr 0.1) for f and for g: updates proportional to the gradients, so a small HSIC
/// term shows (Adam's first steps are nearly sign(gradient), which hides it).
pub fn sgds(task: &ReBiasTask) -> OptimizerSet {
    let opts: Vec<Box<dyn Optimizer>> = task
        .param_sets()
        .into_iter()
        .map(|s| Box::new(Sgd::new(s.params, SgdConfig::new(0.1)).unwrap()) as Box<dyn Optimizer>)
        .collect();
    OptimizerSet::new(opts)
}

/// Train step `s` (0-based), calling `begin_epoch` at epoch starts.
pub fn step(task: &mut ReBiasTask, opts: &mut OptimizerSet, s: usize) -> StepOutput {
    let per_epoch = task.steps_per_epoch().unwrap();
    let index = StepIndex {
        step: s + 1,
        epoch: s / per_epoch + 1,
        batch: s % per_epoch,
    };
    if index.batch == 0 {
        task.begin_epoch(index.epoch).unwrap();
    }
    task.train_step(index, opts).unwrap()
}

/// The default ReBias settings (lambda 1, unbiased HSIC, fixed sigma 1).
pub fn rebias() -> ReBiasSettings {
    ReBiasSettings::default()
}
