//! The training batch a [`StepIndex`] names: class-balanced (`m` images of `batch_size / m`
//! classes, [`ClassBalancedSampler`], as ProxyAnchor's `BalancedSampler` with `--IPC m`) or
//! uniformly shuffled full batches (the codebase without `--IPC`: `shuffle=True,
//! drop_last=True`). Both orders are functions of `(seed, epoch)`, so a run resumed mid-epoch
//! reads the same batches.

use adamp_datasets::loader::EpochBatches;
use adamp_datasets::retrieval::ClassBalancedSampler;
use adamp_datasets::{Batch, BatchLoader};
use adamp_task_api::{Result, StepIndex, TaskError};
use candle_core::Device;

use crate::data::data_err;

/// How training batches are drawn.
pub enum Sampling {
    /// Uniformly shuffled, last partial batch dropped.
    Shuffled,
    /// Class-balanced, with the training labels.
    Balanced(ClassBalancedSampler, Vec<u32>),
}

struct Position {
    epoch: usize,
    next_batch: usize,
    batches: EpochBatches,
}

/// The training loader, its sampling and where the run is in the current epoch.
pub struct TrainBatches {
    loader: BatchLoader,
    sampling: Sampling,
    seed: u64,
    per_epoch: usize,
    position: Option<Position>,
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
            position: None,
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

    fn open_epoch(&self, epoch: usize) -> Result<EpochBatches> {
        Ok(match &self.sampling {
            Sampling::Shuffled => self.loader.epoch(epoch as u64),
            Sampling::Balanced(s, labels) => {
                let order = s.order(labels, self.seed, epoch as u64).map_err(data_err)?;
                self.loader.epoch_in_order(epoch as u64, order)
            }
        })
    }

    /// The batch `index` names, on `device`.
    pub fn next(&mut self, index: StepIndex, device: &Device) -> Result<Batch> {
        let fresh = match &self.position {
            Some(p) => p.epoch != index.epoch || p.next_batch != index.batch,
            None => true,
        };
        if fresh {
            let mut batches = self.open_epoch(index.epoch)?;
            for _ in 0..index.batch {
                batches.next();
            }
            self.position = Some(Position {
                epoch: index.epoch,
                next_batch: index.batch,
                batches,
            });
        }
        let position = self.position.as_mut().expect("position was just set");
        let batch = position.batches.next().ok_or_else(|| {
            TaskError::Other(format!(
                "epoch {} has no batch {} (it has {})",
                index.epoch, index.batch, self.per_epoch
            ))
        })?;
        position.next_batch += 1;
        batch.map_err(data_err)?.to_device(device).map_err(data_err)
    }
}
