//! The classification datasets by name: where each split lives, its class names, and the
//! transforms the benchmark uses for it (training augmentation, evaluation resize,
//! per-dataset normalisation).

use std::path::Path;
use std::sync::Arc;

use crate::cifar::load_cifar10;
use crate::error::Result;
use crate::idx::{load_idx_split, Split};
use crate::image_folder::ImageFolder;
use crate::source::ImageSource;
use crate::transforms::{Augment, Normalize, Transform};

/// The image-classification datasets this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatasetKind {
    /// Fashion-MNIST, IDX files (the embedded default; `<data_root>/fashion-mnist`).
    FashionMnist,
    /// MNIST, IDX files.
    Mnist,
    /// CIFAR-10, binary batches.
    Cifar10,
    /// ImageNet (ILSVRC2012) in the folder layout `train/<wnid>/`, `val/<wnid>/`.
    ImageNet,
}

/// Fashion-MNIST's class names (Zalando's README), in label order.
pub const FASHION_MNIST_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// CIFAR-10's class names (`batches.meta.txt`), in label order.
pub const CIFAR10_CLASSES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

/// A dataset's splits with the transforms to use on them.
#[derive(Clone)]
pub struct ClassificationData {
    /// Which dataset.
    pub kind: DatasetKind,
    /// Training split.
    pub train: Arc<dyn ImageSource>,
    /// Evaluation split (`t10k`, `test_batch`, `val`).
    pub test: Arc<dyn ImageSource>,
    /// Class names in label order.
    pub class_names: Vec<String>,
    /// Image channels after the transform.
    pub channels: usize,
    /// Training transform: pad 4 + crop + flip for the small datasets (no flip for MNIST
    /// digits), RandomResizedCrop(224) + flip for ImageNet.
    pub train_transform: Transform,
    /// Evaluation transform: identity for the small datasets, Resize(256) + CenterCrop(224)
    /// for ImageNet.
    pub eval_transform: Transform,
}

impl ClassificationData {
    /// Number of classes.
    pub fn num_classes(&self) -> usize {
        self.class_names.len()
    }
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Opens `kind` from `dir`: the IDX folder (MNIST, Fashion-MNIST), the CIFAR-10 root, or the
/// ImageNet root holding `train/` and `val/`.
pub fn open_classification(kind: DatasetKind, dir: &Path) -> Result<ClassificationData> {
    let small = |normalize: Normalize, flip: bool| {
        (
            Transform {
                augment: Augment::PadCropFlip { padding: 4, flip },
                normalize: normalize.clone(),
            },
            Transform {
                augment: Augment::Identity,
                normalize,
            },
        )
    };
    match kind {
        DatasetKind::FashionMnist | DatasetKind::Mnist => {
            let (name, norm, flip, classes) = if kind == DatasetKind::FashionMnist {
                (
                    "Fashion-MNIST",
                    Normalize::fashion_mnist(),
                    true,
                    names(&FASHION_MNIST_CLASSES),
                )
            } else {
                (
                    "MNIST",
                    Normalize::mnist(),
                    false,
                    (0..10).map(|d| d.to_string()).collect(),
                )
            };
            let (train_transform, eval_transform) = small(norm, flip);
            Ok(ClassificationData {
                kind,
                train: Arc::new(load_idx_split(dir, Split::Train, name)?),
                test: Arc::new(load_idx_split(dir, Split::Test, name)?),
                class_names: classes,
                channels: 1,
                train_transform,
                eval_transform,
            })
        }
        DatasetKind::Cifar10 => {
            let (train_transform, eval_transform) = small(Normalize::cifar10(), true);
            Ok(ClassificationData {
                kind,
                train: Arc::new(load_cifar10(dir, Split::Train)?),
                test: Arc::new(load_cifar10(dir, Split::Test)?),
                class_names: names(&CIFAR10_CLASSES),
                channels: 3,
                train_transform,
                eval_transform,
            })
        }
        DatasetKind::ImageNet => {
            let train = ImageFolder::open(&dir.join("train"))?;
            let val = ImageFolder::open_with_classes(&dir.join("val"), train.classes())?;
            Ok(ClassificationData {
                kind,
                class_names: train.classes().to_vec(),
                train: Arc::new(train),
                test: Arc::new(val),
                channels: 3,
                train_transform: Transform {
                    augment: Augment::imagenet_train(),
                    normalize: Normalize::imagenet(),
                },
                eval_transform: Transform {
                    augment: Augment::imagenet_eval(),
                    normalize: Normalize::imagenet(),
                },
            })
        }
    }
}

/// Opens an ImageNet-style classification dataset published on the Hugging Face hub as parquet
/// (`image {bytes}`, `label`), through the hub client `hub` (its cache, offline mode and endpoint;
/// only the two splits' files are downloaded). Uses ImageNet's transforms (RandomResizedCrop(224)
/// + flip; resize 256 + centre crop 224) and class names from the parquet metadata.
pub fn open_hf_classification(
    hub: &adamp_hub::Hub,
    repo: &str,
    revision: &str,
    splits: (&str, &str),
    columns: &crate::hf_parquet::HfColumns,
) -> Result<ClassificationData> {
    use crate::hf_parquet::HfParquetImages;
    let train = HfParquetImages::from_hub(hub, repo, revision, splits.0, columns)?;
    let test = HfParquetImages::from_hub(hub, repo, revision, splits.1, columns)?;
    let class_names = if train.class_names().is_empty() {
        (0..train.num_classes()).map(|c| c.to_string()).collect()
    } else {
        train.class_names().to_vec()
    };
    Ok(ClassificationData {
        kind: DatasetKind::ImageNet,
        train: Arc::new(train),
        test: Arc::new(test),
        class_names,
        channels: 3,
        train_transform: Transform {
            augment: Augment::imagenet_train(),
            normalize: Normalize::imagenet(),
        },
        eval_transform: Transform {
            augment: Augment::imagenet_eval(),
            normalize: Normalize::imagenet(),
        },
    })
}
