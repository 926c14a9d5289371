//! [`BatchCursor`]: the training batch a [`StepIndex`] names, read from a shuffled
//! [`BatchLoader`] so that the data depends only on `(seed, epoch, batch)` — also after a run
//! resumes mid-epoch. Shared by every task that trains on a classification dataset.

use adamp_datasets::loader::EpochBatches;
use adamp_datasets::{Batch, BatchLoader};
use adamp_task_api::{Result, StepIndex, TaskError};
use candle_core::Device;

/// The epoch iterator being consumed, and where in it the next batch is.
struct Position {
    epoch: usize,
    next_batch: usize,
    batches: EpochBatches,
}

/// Where a task is in its training loader's epochs.
#[derive(Default)]
pub struct BatchCursor {
    position: Option<Position>,
}

impl BatchCursor {
    /// The batch `index` names, on `device`: continues the current epoch's iterator, or (at an
    /// epoch start, or after a resume) opens the epoch and skips to the batch.
    pub fn next(
        &mut self,
        loader: &BatchLoader,
        index: StepIndex,
        device: &Device,
    ) -> Result<Batch> {
        self.next_from(
            |epoch| Ok(loader.epoch(epoch as u64)),
            loader.num_batches(),
            index,
            device,
        )
    }

    /// [`Self::next`] for a task that orders its epochs itself (a sampler): `open_epoch(e)`
    /// gives epoch `e`'s batches, `per_epoch` their number (for the error message).
    pub fn next_from(
        &mut self,
        open_epoch: impl FnOnce(usize) -> Result<EpochBatches>,
        per_epoch: usize,
        index: StepIndex,
        device: &Device,
    ) -> Result<Batch> {
        let fresh = match &self.position {
            Some(p) => p.epoch != index.epoch || p.next_batch != index.batch,
            None => true,
        };
        if fresh {
            let mut batches = open_epoch(index.epoch)?;
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
                "epoch {} has no batch {} (it has {per_epoch})",
                index.epoch, index.batch
            ))
        })?;
        position.next_batch += 1;
        let batch = batch.map_err(|e| TaskError::Other(e.to_string()))?;
        batch
            .to_device(device)
            .map_err(|e| TaskError::Other(e.to_string()))
    }
}
