//! The settings of the classification task: `[task]`, `[model]` and `[data]` of a config.
//!
//! ```toml
//! [task]
//! kind = "classification"
//! cutmix = { alpha = 1.0, prob = 0.5 }   # optional: the ResNet50+CutMix row (paper.md section 3)
//!
//! [model]
//! kind = "resnet20"                      # resnet20 | resnet56 | resnet18 | resnet50 | mobilenet_v2 | wide_resnet | simple_conv | bagnet18
//!
//! [data]
//! kind = "fashion_mnist"                 # fashion_mnist | mnist | cifar10 | imagenet
//! root = "data/fashion-mnist"            # optional; default: <ADAMP_DATA_DIR or data>/<dataset folder>
//! train_subset = 12000                   # optional: the first N training images (embedded profiles)
//! ```

use std::path::PathBuf;

use adamp_datasets::catalog::DatasetKind;
use adamp_models::{LayerImpl, ModelKind};
use adamp_task_api::{Result, TaskError};
use serde::{Deserialize, Serialize};

/// `[task]` for `kind = "classification"`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassificationSettings {
    /// CutMix (Yun et al., ICCV 2019) for the ResNet50+CutMix row; off when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cutmix: Option<CutMixSettings>,
}

/// `[task.cutmix]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CutMixSettings {
    /// Beta(alpha, alpha) parameter of the mixing ratio (CutMix codebase default 1.0).
    pub alpha: f64,
    /// Probability of mixing a batch (CutMix's ImageNet recipe: 1.0).
    pub prob: f64,
}

/// `[model]`: which network, and which layer implementation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSettings {
    /// `resnet20`, `resnet56`, `resnet18`, `resnet50`, `mobilenet_v2`, `wide_resnet`,
    /// `simple_conv`, `bagnet18`.
    pub kind: String,
    /// Wide-ResNet depth (e.g. 28, 34).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depth: Option<usize>,
    /// Wide-ResNet widening factor (e.g. 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<usize>,
    /// SimpleConvNet kernel size (7 for ReBias' f, 1 for g).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<usize>,
    /// `fast` (this project's CPU kernels; Candle's ops on GPUs) or `candle` (Candle's ops
    /// everywhere, for comparison).
    #[serde(default = "default_layers")]
    pub layers: String,
}

fn default_layers() -> String {
    "fast".to_string()
}

/// The valid `model.kind` values, for error messages.
pub const MODEL_KINDS: &[&str] = &[
    "resnet20",
    "resnet56",
    "resnet18",
    "resnet50",
    "mobilenet_v2",
    "wide_resnet",
    "simple_conv",
    "bagnet18",
];

fn invalid(key: &str, expected: String) -> TaskError {
    TaskError::InvalidSetting {
        key: key.to_string(),
        expected,
    }
}

impl ModelSettings {
    /// The model kind, checking that the kind-specific keys are present exactly when needed.
    pub fn model_kind(&self) -> Result<ModelKind> {
        let needs = |key: &str, v: Option<usize>| {
            v.ok_or_else(|| {
                invalid(
                    &format!("model.{key}"),
                    format!("`model.kind = \"{}\"` needs `{key}`", self.kind),
                )
            })
        };
        let kind = match self.kind.as_str() {
            "wide_resnet" => ModelKind::WideResNet {
                depth: needs("depth", self.depth)?,
                width: needs("width", self.width)?,
            },
            "simple_conv" => ModelKind::SimpleConvNet {
                kernel: needs("kernel", self.kernel)?,
            },
            other => {
                let kind: ModelKind = other.parse().map_err(|_| {
                    invalid(
                        "model.kind",
                        format!(
                            "unknown model kind `{other}`; valid model kinds: {}",
                            MODEL_KINDS.join(", ")
                        ),
                    )
                })?;
                for (key, v) in [
                    ("depth", self.depth),
                    ("width", self.width),
                    ("kernel", self.kernel),
                ] {
                    if v.is_some() {
                        return Err(invalid(
                            &format!("model.{key}"),
                            format!("`{key}` does not apply to `model.kind = \"{other}\"`"),
                        ));
                    }
                }
                kind
            }
        };
        Ok(kind)
    }

    /// The layer implementation.
    pub fn layer_impl(&self) -> Result<LayerImpl> {
        match self.layers.as_str() {
            "fast" => Ok(LayerImpl::Fast),
            "candle" => Ok(LayerImpl::Candle),
            other => Err(invalid(
                "model.layers",
                format!("expected \"fast\" or \"candle\", got \"{other}\""),
            )),
        }
    }
}

/// `[data]`: which dataset, where, and how much of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSettings {
    /// `fashion_mnist`, `mnist`, `cifar10` or `imagenet`.
    pub kind: String,
    /// The dataset folder: the IDX folder, the CIFAR-10 root, or the ImageNet root holding
    /// `train/` and `val/`. Default: `<ADAMP_DATA_DIR or data>/<fashion-mnist|mnist|cifar-10-batches-bin|imagenet>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<PathBuf>,
    /// Train on the first `train_subset` images only (the embedded profiles); all when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_subset: Option<usize>,
    /// Evaluate on the first `test_subset` images only; all when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_subset: Option<usize>,
    /// Loader worker threads (0: decode in the training thread).
    #[serde(default = "default_workers")]
    pub workers: usize,
    /// Fetch the embedded default's data (Fashion-MNIST from its Debian package) when it is
    /// missing; other folder datasets must already be in place (`hf_parquet` data is always
    /// fetched through the hub's cache, see `hf_repo`).
    #[serde(default)]
    pub fetch: bool,
    /// `kind = "hf_parquet"`: the hub repository (`org/name`) of an ImageNet-style dataset
    /// published as parquet. The two splits' files are downloaded through the `hf-hub` crate
    /// into the Hugging Face cache (`root` if set, else `$HF_HUB_CACHE`, `$HF_HOME/hub` or
    /// `~/.cache/huggingface/hub`) unless already there; `HF_HUB_OFFLINE=1` uses the cache only;
    /// `HF_ENDPOINT` and `HF_TOKEN` (gated repositories such as `ILSVRC/imagenet-1k`) apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hf_repo: Option<String>,
    /// `kind = "hf_parquet"`: branch, tag or commit (default `main`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hf_revision: Option<String>,
    /// `kind = "hf_parquet"`: the training and evaluation splits (default `train`, `validation`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hf_splits: Option<(String, String)>,
}

fn default_workers() -> usize {
    1
}

/// The valid `data.kind` values, for error messages.
pub const DATA_KINDS: &[&str] = &[
    "fashion_mnist",
    "mnist",
    "cifar10",
    "imagenet",
    "hf_parquet",
];

impl DataSettings {
    /// The dataset kind.
    pub fn dataset_kind(&self) -> Result<DatasetKind> {
        match self.kind.as_str() {
            "fashion_mnist" => Ok(DatasetKind::FashionMnist),
            "mnist" => Ok(DatasetKind::Mnist),
            "cifar10" => Ok(DatasetKind::Cifar10),
            "imagenet" | "hf_parquet" => Ok(DatasetKind::ImageNet),
            other => Err(invalid(
                "data.kind",
                format!(
                    "unknown data kind `{other}`; valid data kinds: {}",
                    DATA_KINDS.join(", ")
                ),
            )),
        }
    }

    /// Whether the data comes from Hugging Face hub parquet files (`kind = "hf_parquet"`).
    pub fn is_hf_parquet(&self) -> bool {
        self.kind == "hf_parquet"
    }

    /// The dataset folder: `root` if set, else the default folder under the data root (for
    /// `hf_parquet`: the hub cache).
    pub fn dataset_dir(&self) -> Result<PathBuf> {
        if let Some(root) = &self.root {
            return Ok(root.clone());
        }
        if self.is_hf_parquet() {
            return Ok(adamp_datasets::hf_parquet::hub_cache_dir());
        }
        let folder = match self.dataset_kind()? {
            DatasetKind::FashionMnist => "fashion-mnist",
            DatasetKind::Mnist => "mnist",
            DatasetKind::Cifar10 => "cifar-10-batches-bin",
            DatasetKind::ImageNet => "imagenet",
        };
        Ok(adamp_datasets::fetch::data_root(None).join(folder))
    }
}
