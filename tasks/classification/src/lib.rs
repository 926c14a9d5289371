//! # adamp-task-classification
//!
//! Benchmark 1 of the AdamP paper (Heo et al., ICLR 2021, Section 4.1): image classification,
//! baseline optimizer vs its projected variant (SGD vs SGDP, Adam(W) vs AdamP). At paper scale it
//! trains ResNet-18/50, MobileNetV2 (and ResNet-50 + CutMix) on ImageNet in its folder layout; the
//! embedded default trains a CIFAR-style ResNet on Fashion-MNIST (real IDX files from the Debian
//! package `dataset-fashion-mnist`) through the same loaders and code path.
//!
//! The task plugs into the harness as `[task] kind = "classification"` with `[model]` and `[data]`
//! tables ([`settings`]); it reports `train_acc` per step and `top1`, `top5`, `loss` and
//! `skipped_images` per evaluation.
//!
//! Other tasks that train on these datasets reuse its plumbing: [`task::open_data`],
//! [`task::loaders`], [`task::input_hw`], [`cursor::BatchCursor`] and the settings types.

pub mod cursor;
pub mod metrics;
pub mod pretrained;
pub mod settings;
pub mod subset;
pub mod task;

pub use cursor::BatchCursor;
pub use settings::{ClassificationSettings, CutMixSettings, DataSettings, ModelSettings};
pub use task::ClassificationTask;
