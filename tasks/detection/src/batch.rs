//! Batches of augmented images with their boxes: the order of an epoch is a permutation drawn
//! from `(seed, epoch)`, and every image's augmentation from its own generator seeded by
//! `(seed, epoch, image index)`, so a batch is the same whatever thread prepares it and a
//! resumed run sees the same batches (the generators of the classification loader,
//! `adamp_datasets::loader::derived_rng`). Images are prepared in parallel (rayon).

use adamp_datasets::coco::augment::{augment, DetectionSample, Pipeline};
use adamp_datasets::loader::{derived_rng, STREAM_ORDER, STREAM_SAMPLE};
use adamp_task_api::{Result, TaskError};
use candle_core::{Device, Tensor};
use rand::seq::SliceRandom;
use rayon::prelude::*;

use crate::data::{data_err, Split};

/// torchvision's ImageNet normalisation (the backbones' pretrained weights expect it).
pub const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
/// See [`MEAN`].
pub const STD: [f32; 3] = [0.229, 0.224, 0.225];

/// A batch: the network input and, per image, its sample (boxes in input pixels, labels, the
/// map back to the original image) and COCO image id.
pub struct Batch {
    /// `[B, 3, size, size]`.
    pub images: Tensor,
    /// Per image.
    pub samples: Vec<DetectionSample>,
    /// Per image: the COCO image id.
    pub image_ids: Vec<u64>,
}

/// The positions (into `split.indices`) of `epoch`, shuffled by `(seed, epoch)` as the
/// classification loader shuffles ([`derived_rng`], its order stream).
pub fn epoch_order(len: usize, seed: u64, epoch: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.shuffle(&mut derived_rng(seed, epoch as u64, 0, STREAM_ORDER));
    order
}

/// Prepare the images at `positions` of `split` through `pipeline`.
pub fn assemble(
    split: &Split,
    positions: &[usize],
    pipeline: &Pipeline,
    seed: u64,
    epoch: usize,
    device: &Device,
) -> Result<Batch> {
    let samples: Vec<(u64, DetectionSample)> = positions
        .par_iter()
        .map(|&p| -> Result<(u64, DetectionSample)> {
            let i = split.indices[p];
            let image = split.coco.image(i).map_err(data_err)?;
            let (boxes, labels): (Vec<[f64; 4]>, Vec<u32>) =
                split.coco.boxes(i).map(|a| (a.bbox, a.label)).unzip();
            let mut rng = derived_rng(seed, epoch as u64, i as u64, STREAM_SAMPLE);
            let sample = augment(&image, &boxes, &labels, pipeline, MEAN, STD, &mut rng)
                .map_err(data_err)?;
            Ok((split.coco.images()[i].id, sample))
        })
        .collect::<Result<_>>()?;
    let size = samples
        .first()
        .map(|(_, s)| s.size)
        .ok_or_else(|| TaskError::Other("an empty batch".into()))?;
    let mut pixels = Vec::with_capacity(samples.len() * 3 * size * size);
    for (_, s) in &samples {
        pixels.extend_from_slice(&s.image);
    }
    let images = Tensor::from_vec(pixels, (samples.len(), 3, size, size), device)?;
    let (image_ids, samples) = samples.into_iter().unzip();
    Ok(Batch {
        images,
        samples,
        image_ids,
    })
}
