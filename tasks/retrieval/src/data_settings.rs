//! `[data]` of `kind = "retrieval"`: which dataset layout, where, how much of it, and the image
//! transforms.
//!
//! ```toml
//! [data]
//! format = "cub"              # cub | cars | sop | inshop (the dataset's own on-disk layout)
//! root = "data/CUB_200_2011"  # default: <ADAMP_DATA_DIR or data>/<stand-in or dataset folder>
//! stand_in = "fmnist_cub"     # optional: an embedded stand-in written in that layout
//!                             #   (fmnist_cub: Fashion-MNIST as CUB; emoji_sop: emoji sprites as SOP)
//! fetch = true                # install the stand-in when missing (`adamp data fetch` does too)
//! train_subset = 2000         # optional: an evenly strided subset of the training images
//! test_subset = 1000          # optional: ... of the evaluation images (query and gallery each)
//! workers = 1                 # loader threads
//! augment = "imagenet"        # imagenet: RandomResizedCrop(crop) + flip / Resize(resize) +
//!                             #   CenterCrop(crop) (the ProxyAnchor codebase's); small: pad-4
//!                             #   crop + flip / as is (the stand-ins' small equal-sized images)
//! crop = 224                  # imagenet only (default 224)
//! resize = 256                # imagenet only (default 256)
//! ```

use std::path::PathBuf;

use adamp_datasets::retrieval::RetrievalFormat;
use adamp_task_api::factory::invalid;
use adamp_task_api::Result;
use adamp_task_classification::settings::MAX_WORKERS;
use serde::{Deserialize, Serialize};

/// An embedded stand-in dataset, written by this project in one of the real layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StandIn {
    /// Fashion-MNIST in the CUB-200-2011 layout (classes 0-4 train, 5-9 evaluate).
    FmnistCub,
    /// The emoji sprites of the npm package `emoji-datasource` 16.0.0 in the SOP layout.
    EmojiSop,
}

impl StandIn {
    /// The layout it is written in.
    pub fn format(self) -> RetrievalFormat {
        match self {
            StandIn::FmnistCub => RetrievalFormat::Cub,
            StandIn::EmojiSop => RetrievalFormat::Sop,
        }
    }

    /// Its folder under the data root.
    pub fn folder(self) -> &'static str {
        match self {
            StandIn::FmnistCub => "fmnist-cub",
            StandIn::EmojiSop => "emoji-sop",
        }
    }

    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            StandIn::FmnistCub => "fmnist_cub",
            StandIn::EmojiSop => "emoji_sop",
        }
    }
}

/// The image transforms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AugmentKind {
    /// The ProxyAnchor codebase's (`code/dataset/utils.py::make_transform`): training
    /// `RandomResizedCrop(crop)` + horizontal flip, evaluation `Resize(resize)` +
    /// `CenterCrop(crop)`, ImageNet normalisation.
    #[default]
    Imagenet,
    /// For small images of one size: training pad-4 random crop + flip, evaluation unchanged.
    Small,
}

/// `[data]` for `kind = "retrieval"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrievalDataSettings {
    /// The on-disk layout.
    pub format: RetrievalFormat,
    /// The dataset folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<PathBuf>,
    /// An embedded stand-in in `format`'s layout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stand_in: Option<StandIn>,
    /// Install the stand-in when it is missing.
    #[serde(default)]
    pub fetch: bool,
    /// An evenly strided subset of the training images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_subset: Option<usize>,
    /// An evenly strided subset of the evaluation images (of query and gallery each).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_subset: Option<usize>,
    /// Loader worker threads.
    #[serde(default = "default_workers")]
    pub workers: usize,
    /// The image transforms.
    #[serde(default)]
    pub augment: AugmentKind,
    /// `augment = "imagenet"`: the crop side (default 224).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crop: Option<usize>,
    /// `augment = "imagenet"`: the evaluation resize of the shorter side (default 256).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resize: Option<usize>,
}

fn default_workers() -> usize {
    1
}

/// The canonical folder of each dataset under the data root.
pub fn default_folder(format: RetrievalFormat) -> &'static str {
    match format {
        RetrievalFormat::Cub => "CUB_200_2011",
        RetrievalFormat::Cars => "cars196",
        RetrievalFormat::Sop => "Stanford_Online_Products",
        RetrievalFormat::InShop => "InShop",
    }
}

impl RetrievalDataSettings {
    /// The dataset folder: `root`, else `<data root>/<stand-in or dataset folder>`.
    pub fn dataset_dir(&self) -> PathBuf {
        if let Some(root) = &self.root {
            return root.clone();
        }
        let folder = match self.stand_in {
            Some(s) => s.folder(),
            None => default_folder(self.format),
        };
        adamp_datasets::fetch::data_root(None).join(folder)
    }

    /// The crop side and evaluation resize of `augment = "imagenet"`.
    pub fn crop_resize(&self) -> (usize, usize) {
        (self.crop.unwrap_or(224), self.resize.unwrap_or(256))
    }

    /// Every check that needs no data.
    pub fn validate(&self) -> Result<()> {
        if let Some(s) = self.stand_in {
            if s.format() != self.format {
                return Err(invalid(
                    "data.stand_in",
                    format!(
                        "`{}` is written in the `{}` layout, but data.format = \"{}\"",
                        s.as_str(),
                        s.format(),
                        self.format
                    ),
                ));
            }
        } else if self.fetch {
            return Err(invalid(
                "data.fetch",
                "only an embedded stand-in can be fetched (set data.stand_in); the real \
                 datasets must be downloaded from their authors and unpacked in place",
            ));
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
        if self.augment == AugmentKind::Small {
            for (key, given) in [("crop", self.crop), ("resize", self.resize)] {
                if given.is_some() {
                    return Err(invalid(
                        format!("data.{key}"),
                        format!("`{key}` applies to augment = \"imagenet\" only"),
                    ));
                }
            }
        }
        let (crop, resize) = self.crop_resize();
        if crop == 0 || resize < crop {
            return Err(invalid(
                "data.crop",
                format!("expected 1 <= crop <= resize, got crop {crop}, resize {resize}"),
            ));
        }
        Ok(())
    }
}
