//! Which training clips batch `b` of epoch `e` holds: the first `n - n % batch` entries of a
//! permutation of the training clips drawn from `(seed, epoch)`, cut into batches in order
//! (the reference's `DataLoader(shuffle=True, drop_last=True)`), so a run resumed mid-epoch sees
//! the batches an uninterrupted run would.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The training order of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochOrder {
    /// Training clips.
    pub clips: usize,
    /// Clips per batch.
    pub batch: usize,
    /// The run's seed.
    pub seed: u64,
}

impl EpochOrder {
    /// Whole batches per epoch (the last partial batch is dropped).
    pub fn batches(&self) -> usize {
        self.clips.checked_div(self.batch).unwrap_or(0)
    }

    /// The permutation of epoch `epoch` (1-based as the loop counts).
    pub fn permutation(&self, epoch: usize) -> Vec<usize> {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&self.seed.to_le_bytes());
        key[8..16].copy_from_slice(&(epoch as u64).to_le_bytes());
        key[16..].copy_from_slice(b"audio-epoch-perm");
        let mut order: Vec<usize> = (0..self.clips).collect();
        order.shuffle(&mut ChaCha8Rng::from_seed(key));
        order
    }

    /// The clip indices (into the training split) of batch `batch` of `epoch`.
    pub fn batch(&self, epoch: usize, batch: usize) -> Vec<usize> {
        let perm = self.permutation(epoch);
        perm[batch * self.batch..(batch + 1) * self.batch].to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_cover_an_epoch_once_and_depend_on_seed_and_epoch() {
        let o = EpochOrder {
            clips: 10,
            batch: 3,
            seed: 5,
        };
        assert_eq!(o.batches(), 3);
        let mut seen: Vec<usize> = (0..3).flat_map(|b| o.batch(1, b)).collect();
        assert_eq!(seen.len(), 9);
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 9, "no clip twice in an epoch");
        assert_eq!(o.batch(1, 2), o.batch(1, 2));
        assert_ne!(o.permutation(1), o.permutation(2));
        assert_ne!(o.permutation(1), EpochOrder { seed: 6, ..o }.permutation(1));
        assert_eq!(EpochOrder { batch: 11, ..o }.batches(), 0);
    }
}
