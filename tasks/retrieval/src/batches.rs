//! The training batch a [`StepIndex`] names: class-balanced (`m` images of `batch_size / m`
//! classes, [`ClassBalancedSampler`], as ProxyAnchor's `BalancedSampler` with `--IPC m`) or
//! uniformly shuffled full batches (the codebase without `--IPC`: `shuffle=True,
//! drop_last=True`). Both orders are functions of `(seed, epoch)`, so a run resumed mid-epoch
//! reads the same batches.

use adamp_datasets::loader::EpochBatches;
use adamp_datasets::retrieval::ClassBalancedSampler;
use adamp_datasets::{Batch, BatchLoader};
use adamp_task_api::{Result, StepIndex};
use adamp_task_classification::cursor::BatchCursor;
use candle_core::Device;

use crate::data::data_err;

/// How training batches are drawn.
pub enum Sampling {
    /// Uniformly shuffled, last partial batch dropped.
    Shuffled,
    /// Class-balanced, with the training labels.
    Balanced(ClassBalancedSampler, Vec<u32>),
}

/// The training loader, its sampling and where the run is in the current epoch.
pub struct TrainBatches {
    loader: BatchLoader,
    sampling: Sampling,
    seed: u64,
    per_epoch: usize,
    cursor: BatchCursor,
}

impl TrainBatches {
    /// Batches of `loader` (shuffled, `drop_last`) drawn by `sampling`.
    pub fn new(loader: BatchLoader, sampling: Sampling, seed: u64) -> Result<Self> {
        let per_epoch = match &sampling {
            Sampling::Shuffled => loader.num_batches(),
            Sampling::Balanced(s, labels) => {
                s.order(labels, seed, 1).map_err(data_err)?.len() / loader.batch_size()
            }
        };
        Ok(Self {
            loader,
            sampling,
            seed,
            per_epoch,
            cursor: BatchCursor::default(),
        })
    }

    /// Batches per epoch.
    pub fn per_epoch(&self) -> usize {
        self.per_epoch
    }

    /// The loader.
    pub fn loader(&self) -> &BatchLoader {
        &self.loader
    }

    /// The batch `index` names, on `device` (continuing the epoch, or reopening it after a
    /// resume).
    pub fn next(&mut self, index: StepIndex, device: &Device) -> Result<Batch> {
        let (loader, sampling, seed) = (&self.loader, &self.sampling, self.seed);
        let open_epoch = |epoch: usize| -> Result<EpochBatches> {
            Ok(match sampling {
                Sampling::Shuffled => loader.epoch(epoch as u64),
                Sampling::Balanced(s, labels) => {
                    let order = s.order(labels, seed, epoch as u64).map_err(data_err)?;
                    loader.epoch_in_order(epoch as u64, order)
                }
            })
        };
        self.cursor
            .next_from(open_epoch, self.per_epoch, index, device)
    }
}
