//! The settings of the classification task: `[task]`, `[model]` and `[data]` of a config.
//!
//! ```toml
//! [task]
//! kind = "classification"
//! cutmix = { alpha = 1.0, prob = 0.5 }   # optional: the ResNet50+CutMix row (arXiv 2006.08217, Table 1)
//!
//! [model]
//! kind = "resnet20"                      # resnet20 | resnet56 | resnet18 | resnet50 | mobilenet_v2 | wide_resnet | simple_conv | bagnet18
//!
//! [data]
//! kind = "fashion_mnist"                 # fashion_mnist | mnist | cifar10 | imagenet | hf_parquet
//! root = "data/fashion-mnist"            # optional; default: <ADAMP_DATA_DIR or data>/<dataset folder>
//! train_subset = 12000                   # optional: the first N training images (embedded profiles)
//! ```

use std::path::PathBuf;

use adamp_datasets::catalog::DatasetKind;
use adamp_models::{LayerImpl, ModelKind, ModelName};
use adamp_task_api::factory::invalid;
use adamp_task_api::Result;
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

impl ClassificationSettings {
    /// CutMix's ranges, named by their `[task]` keys.
    pub fn validate(&self) -> Result<()> {
        let Some(c) = self.cutmix else {
            return Ok(());
        };
        let cutmix = adamp_datasets::cutmix::CutMix {
            alpha: c.alpha,
            prob: c.prob,
        };
        cutmix.validate().map_err(|e| match e {
            adamp_datasets::DatasetError::Config { name, reason } => invalid(name, reason),
            other => invalid("cutmix", other.to_string()),
        })
    }
}

/// `[model]`: which network, and which layer implementation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSettings {
    /// The network.
    pub kind: ModelName,
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
    #[serde(default)]
    pub layers: LayerImpl,
}

/// The valid `model.kind` values, for error messages.
pub const MODEL_KINDS: &[&str] = &ModelName::NAMES;

impl ModelSettings {
    /// The model kind, checking that the kind-specific keys are present exactly when needed.
    pub fn model_kind(&self) -> Result<ModelKind> {
        let needs = |key: &str, v: Option<usize>| {
            v.ok_or_else(|| {
                invalid(
                    format!("model.{key}"),
                    format!("`model.kind = \"{}\"` needs `{key}`", self.kind),
                )
            })
        };
        let given = [
            ("depth", self.depth),
            ("width", self.width),
            ("kernel", self.kernel),
        ];
        let (kind, takes): (ModelKind, &[&str]) = match self.kind {
            ModelName::WideResnet => (
                ModelKind::WideResNet {
                    depth: needs("depth", self.depth)?,
                    width: needs("width", self.width)?,
                },
                &["depth", "width"],
            ),
            ModelName::SimpleConv => (
                ModelKind::SimpleConvNet {
                    kernel: needs("kernel", self.kernel)?,
                },
                &["kernel"],
            ),
            ModelName::Resnet20 => (ModelKind::ResNet20, &[]),
            ModelName::Resnet56 => (ModelKind::ResNet56, &[]),
            ModelName::Resnet18 => (ModelKind::ResNet18, &[]),
            ModelName::Resnet50 => (ModelKind::ResNet50, &[]),
            ModelName::MobilenetV2 => (ModelKind::MobileNetV2, &[]),
            ModelName::Bagnet18 => (ModelKind::BagNet18, &[]),
        };
        if let Some((key, _)) = given
            .iter()
            .find(|(key, v)| v.is_some() && !takes.contains(key))
        {
            return Err(invalid(
                format!("model.{key}"),
                format!("`{key}` does not apply to `model.kind = \"{}\"`", self.kind),
            ));
        }
        Ok(kind)
    }

    /// The layer implementation.
    pub fn layer_impl(&self) -> Result<LayerImpl> {
        Ok(self.layers)
    }
}

/// `[data] kind`: which dataset, in which on-disk format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataKind {
    /// Fashion-MNIST in IDX files (the embedded default).
    FashionMnist,
    /// MNIST in IDX files.
    Mnist,
    /// CIFAR-10 in its binary batches.
    Cifar10,
    /// ImageNet in its folder layout (`train/<wnid>/*.JPEG`, `val/<wnid>/*.JPEG`).
    Imagenet,
    /// An ImageNet-style parquet dataset on the Hugging Face hub (`hf_repo`).
    HfParquet,
}

/// The valid `data.kind` values, for error messages.
pub const DATA_KINDS: &[&str] = &[
    "fashion_mnist",
    "mnist",
    "cifar10",
    "imagenet",
    "hf_parquet",
];

impl DataKind {
    /// Every kind, in the order of [`DATA_KINDS`].
    pub const ALL: [DataKind; 5] = [
        DataKind::FashionMnist,
        DataKind::Mnist,
        DataKind::Cifar10,
        DataKind::Imagenet,
        DataKind::HfParquet,
    ];

    /// The kind as a config spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            DataKind::FashionMnist => "fashion_mnist",
            DataKind::Mnist => "mnist",
            DataKind::Cifar10 => "cifar10",
            DataKind::Imagenet => "imagenet",
            DataKind::HfParquet => "hf_parquet",
        }
    }
}

impl std::fmt::Display for DataKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for DataKind {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        DataKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown data kind `{s}`; valid data kinds: {}",
                    DATA_KINDS.join(", ")
                )
            })
    }
}

/// The most loader threads a run may ask for: more never helps (decoding scales with cores),
/// and a mistyped value must not try to spawn thousands of threads.
pub const MAX_WORKERS: usize = 256;

/// `[data]`: which dataset, where, and how much of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSettings {
    /// The dataset.
    pub kind: DataKind,
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
    /// Loader worker threads (0: decode in the training thread; at most [`MAX_WORKERS`]).
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

impl DataSettings {
    /// The dataset's format.
    pub fn dataset_kind(&self) -> Result<DatasetKind> {
        Ok(match self.kind {
            DataKind::FashionMnist => DatasetKind::FashionMnist,
            DataKind::Mnist => DatasetKind::Mnist,
            DataKind::Cifar10 => DatasetKind::Cifar10,
            DataKind::Imagenet | DataKind::HfParquet => DatasetKind::ImageNet,
        })
    }

    /// Whether the data comes from Hugging Face hub parquet files (`kind = "hf_parquet"`).
    pub fn is_hf_parquet(&self) -> bool {
        self.kind == DataKind::HfParquet
    }

    /// Every check that needs no data: the hub keys go with `hf_parquet` (and it needs
    /// `hf_repo`), subsets are not empty, and `workers` is bounded.
    pub fn validate(&self) -> Result<()> {
        if self.is_hf_parquet() && self.hf_repo.is_none() {
            return Err(invalid(
                "data.hf_repo",
                "`data.kind = \"hf_parquet\"` needs `hf_repo = \"org/name\"` (a dataset repository on the Hugging Face hub)",
            ));
        }
        if !self.is_hf_parquet() {
            for (key, given) in [
                ("hf_repo", self.hf_repo.is_some()),
                ("hf_revision", self.hf_revision.is_some()),
                ("hf_splits", self.hf_splits.is_some()),
            ] {
                if given {
                    return Err(invalid(
                        format!("data.{key}"),
                        format!(
                            "`{key}` applies only to `data.kind = \"hf_parquet\"`, not `\"{}\"`",
                            self.kind
                        ),
                    ));
                }
            }
        }
        for (key, n) in [
            ("train_subset", self.train_subset),
            ("test_subset", self.test_subset),
        ] {
            if n == Some(0) {
                return Err(invalid(
                    format!("data.{key}"),
                    "expected at least 1 image (leave the key out to use the whole split), got 0",
                ));
            }
        }
        if self.workers > MAX_WORKERS {
            return Err(invalid(
                "data.workers",
                format!(
                    "expected at most {MAX_WORKERS} loader threads (0 decodes in the training thread), got {}",
                    self.workers
                ),
            ));
        }
        Ok(())
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
