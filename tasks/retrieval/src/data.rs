//! Opening a retrieval dataset for a run: the layout's reader (`adamp_datasets::retrieval`),
//! the embedded stand-in's install when asked, the subsets, the transforms and the loaders.

use std::path::Path;
use std::sync::Arc;

use adamp_datasets::retrieval::{open_retrieval, RetrievalEval};
use adamp_datasets::transforms::{Augment, Normalize, Transform};
use adamp_datasets::{BatchLoader, ImageSource, LoaderConfig};
use adamp_task_api::{Result, TaskError};

use crate::data_settings::{AugmentKind, RetrievalDataSettings, StandIn};
use adamp_datasets::strided::maybe_strided;

/// Evaluation batch size (memory only; embeddings do not depend on it).
pub const EVAL_BATCH: usize = 128;

pub(crate) fn data_err(e: adamp_datasets::DatasetError) -> TaskError {
    TaskError::Other(e.to_string())
}

/// The evaluation images.
#[derive(Clone)]
pub enum EvalSources {
    /// Every image a query against the others.
    Within(Arc<dyn ImageSource>),
    /// Query images against a gallery.
    QueryGallery(Arc<dyn ImageSource>, Arc<dyn ImageSource>),
}

impl EvalSources {
    /// How many images a query is ranked against (the query itself excluded).
    pub fn ranked(&self) -> usize {
        match self {
            EvalSources::Within(s) => s.len().saturating_sub(1),
            EvalSources::QueryGallery(_, g) => g.len(),
        }
    }

    /// A short description for logs.
    pub fn describe(&self) -> String {
        match self {
            EvalSources::Within(s) => format!("{} eval images ({})", s.len(), s.describe()),
            EvalSources::QueryGallery(q, g) => format!(
                "{} queries ({}) vs {} gallery images ({})",
                q.len(),
                q.describe(),
                g.len(),
                g.describe()
            ),
        }
    }
}

/// A dataset opened for a run.
pub struct Opened {
    /// Training images (subset applied).
    pub train: Arc<dyn ImageSource>,
    /// Evaluation images (subsets applied).
    pub eval: EvalSources,
    /// Image channels (1 or 3).
    pub channels: usize,
    /// The network's input size.
    pub input_hw: (usize, usize),
    /// Training transform.
    pub train_transform: Transform,
    /// Evaluation transform.
    pub eval_transform: Transform,
}

/// Install the stand-in when asked and missing.
fn install_stand_in(s: StandIn, data_root: &Path) -> Result<()> {
    match s {
        StandIn::FmnistCub => {
            adamp_datasets::retrieval::build_fmnist_cub(data_root).map_err(data_err)?;
        }
        StandIn::EmojiSop => {
            adamp_datasets::retrieval::fetch_emoji_sop(data_root).map_err(data_err)?;
        }
    }
    Ok(())
}

/// Open `data` (installing its stand-in first when `fetch` is set and `root` is not).
pub fn open(data: &RetrievalDataSettings) -> Result<Opened> {
    if let (true, None, Some(s)) = (data.fetch, &data.root, data.stand_in) {
        install_stand_in(s, &adamp_datasets::fetch::data_root(None))?;
    }
    let dir = data.dataset_dir();
    let opened = open_retrieval(data.format, &dir).map_err(data_err)?;
    let train = maybe_strided(opened.train, data.train_subset).0;
    let eval = match opened.eval {
        RetrievalEval::Within(s) => EvalSources::Within(maybe_strided(s, data.test_subset).0),
        RetrievalEval::QueryGallery { query, gallery } => EvalSources::QueryGallery(
            maybe_strided(query, data.test_subset).0,
            maybe_strided(gallery, data.test_subset).0,
        ),
    };
    let probe = train.image(0).map_err(data_err)?;
    let normalize = match probe.channels {
        1 => Normalize::fashion_mnist(),
        _ => Normalize::imagenet(),
    };
    let (train_augment, eval_augment, input_hw) = match data.augment {
        AugmentKind::Imagenet => {
            let (crop, resize) = data.crop_resize();
            (
                Augment::RandomResizedCrop {
                    size: crop,
                    scale: (0.08, 1.0),
                    ratio: (3.0 / 4.0, 4.0 / 3.0),
                    flip: true,
                },
                Augment::ResizeCenterCrop { resize, crop },
                (crop, crop),
            )
        }
        AugmentKind::Small => (
            Augment::pad_crop_flip(),
            Augment::Identity,
            (probe.height, probe.width),
        ),
    };
    Ok(Opened {
        train,
        eval,
        channels: probe.channels,
        input_hw,
        train_transform: Transform {
            augment: train_augment,
            normalize: normalize.clone(),
        },
        eval_transform: Transform {
            augment: eval_augment,
            normalize,
        },
    })
}

/// A loader over `source`: shuffled with full batches only (training), or in order.
pub fn loader(
    source: &Arc<dyn ImageSource>,
    transform: &Transform,
    batch_size: usize,
    train: bool,
    seed: u64,
    workers: usize,
) -> Result<BatchLoader> {
    BatchLoader::new(
        source.clone(),
        transform.clone(),
        None,
        LoaderConfig {
            batch_size,
            shuffle: train,
            drop_last: train,
            seed,
            workers,
            prefetch: 2,
        },
    )
    .map_err(data_err)
}
