//! Image retrieval (benchmarks 9-12, paper.md sections 3-4): the four datasets in their own
//! layouts, class-balanced batch sampling, and the embedded stand-ins written in two of those
//! layouts.
//!
//! - [`open_retrieval`]`(format, root)` → [`RetrievalData`]: the training source and the
//!   evaluation sources ([`RetrievalEval::Within`] for CUB, Cars, SOP; query/gallery for
//!   In-Shop). Every source is a [`ListedImages`] with contiguous 0-based labels (each split's
//!   dataset class ids in ascending order; see each format's module), decoded lazily per sample.
//!   Readers: [`cub`], [`cars`], [`sop`], [`inshop`].
//! - [`ClassBalancedSampler`]: `m` images per class, `batch_size / m` classes per batch, per
//!   `(seed, epoch)`; feed its order to [`crate::loader::BatchLoader::epoch_in_order`].
//! - Embedded stand-ins: [`fetch_emoji_sop`] (emoji-datasource 16.0.0, SOP layout) and
//!   [`build_fmnist_cub`] (Fashion-MNIST, CUB layout); tiny test data of every layout:
//!   [`crate::testdata_retrieval::write_tiny`].

pub mod cars;
pub mod cub;
mod emoji_sheet;
pub mod emoji_sop;
pub mod fmnist_cub;
pub mod inshop;
pub mod listed;
pub mod sampler;
pub mod sop;

#[cfg(test)]
mod builder_tests;
#[cfg(test)]
mod tests;

use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::source::ImageSource;

pub use emoji_sop::{emoji_sop_dir, fetch_emoji_sop};
pub use fmnist_cub::{build_fmnist_cub, fmnist_cub_dir};
pub use listed::ListedImages;
pub use sampler::ClassBalancedSampler;

/// The on-disk layout of a retrieval dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RetrievalFormat {
    /// CUB-200-2011 (`images.txt`, `image_class_labels.txt`, `images/`).
    #[serde(rename = "cub")]
    Cub,
    /// Cars-196 (`cars_annos.csv`, the devkit table's CSV export; `car_ims/`).
    #[serde(rename = "cars")]
    Cars,
    /// Stanford Online Products (`Ebay_train.txt`, `Ebay_test.txt`).
    #[serde(rename = "sop")]
    Sop,
    /// DeepFashion In-Shop (`list_eval_partition.txt`, `img/`).
    #[serde(rename = "inshop")]
    InShop,
}

impl RetrievalFormat {
    /// Every format.
    pub const ALL: [RetrievalFormat; 4] = [Self::Cub, Self::Cars, Self::Sop, Self::InShop];

    /// The config name (`cub`, `cars`, `sop`, `inshop`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cub => "cub",
            Self::Cars => "cars",
            Self::Sop => "sop",
            Self::InShop => "inshop",
        }
    }
}

impl std::fmt::Display for RetrievalFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A retrieval dataset's training source and evaluation.
#[derive(Clone)]
pub struct RetrievalData {
    /// The training images (classes disjoint from the evaluation's).
    pub train: Arc<dyn ImageSource>,
    /// How retrieval is evaluated.
    pub eval: RetrievalEval,
}

/// The evaluation sources of a retrieval dataset.
#[derive(Clone)]
pub enum RetrievalEval {
    /// CUB, Cars, SOP: every evaluation image is a query against all the others (query excluded).
    Within(Arc<dyn ImageSource>),
    /// In-Shop: query images against the gallery; both use one label numbering.
    QueryGallery {
        /// The query images.
        query: Arc<dyn ImageSource>,
        /// The gallery images.
        gallery: Arc<dyn ImageSource>,
    },
}

/// Opens the dataset at `root` in `format`'s layout. Every listed image is checked to exist;
/// a missing file, a malformed line or an empty split is an error naming the file and line.
pub fn open_retrieval(format: RetrievalFormat, root: &Path) -> Result<RetrievalData> {
    match format {
        RetrievalFormat::Cub => cub::open_cub(root),
        RetrievalFormat::Cars => cars::open_cars(root),
        RetrievalFormat::Sop => sop::open_sop(root),
        RetrievalFormat::InShop => inshop::open_inshop(root),
    }
}
