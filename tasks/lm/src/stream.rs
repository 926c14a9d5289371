//! Which segment of the training stream a step trains on, when the memories start over, and the
//! seed of a step's dropout masks.
//!
//! kimiyoung/transformer-xl `pytorch/train.py`: `train()` runs one pass of
//! `tr_iter = corpus.get_iterator('train', ...)` (an `LMOrderedIterator`) with `mems = tuple()`
//! at its start and the previous segment's memories carried otherwise; the outer loop calls
//! `train()` again (a new pass, memories empty again) until `max_step` steps were taken. So the
//! 1-based step `s` trains on segment `(s - 1) mod n_batches`, and the memories are empty
//! exactly when that segment is segment 0.

/// The step → segment mapping of a training stream with `n_batches` segments per pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamPosition {
    /// Segments per pass over the stream (`OrderedBatches::n_batches`), at least 1.
    pub n_batches: usize,
}

impl StreamPosition {
    /// The segment the 1-based `step` trains on.
    pub fn segment(&self, step: usize) -> usize {
        (step.max(1) - 1) % self.n_batches.max(1)
    }

    /// Whether `step` starts a pass over the stream (its memories start empty).
    pub fn starts_pass(&self, step: usize) -> bool {
        self.segment(step) == 0
    }

    /// The 0-based pass over the stream `step` belongs to.
    pub fn pass(&self, step: usize) -> usize {
        (step.max(1) - 1) / self.n_batches.max(1)
    }
}

/// SplitMix64's finaliser: a bijective mix of 64 bits.
fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of step `step`'s dropout masks: a function of the run's seed and the step only, so
/// a resumed run draws the masks an uninterrupted one draws.
pub fn dropout_seed(seed: u64, step: usize) -> u64 {
    mix64(seed ^ mix64(step as u64 ^ 0x6C6D_5F64_726F_706F))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_walk_the_segments_and_wrap() {
        let p = StreamPosition { n_batches: 3 };
        let segs: Vec<usize> = (1..=7).map(|s| p.segment(s)).collect();
        assert_eq!(segs, [0, 1, 2, 0, 1, 2, 0]);
        let starts: Vec<usize> = (1..=7).filter(|&s| p.starts_pass(s)).collect();
        assert_eq!(starts, [1, 4, 7]);
        assert_eq!((p.pass(3), p.pass(4), p.pass(7)), (0, 1, 2));
        let one = StreamPosition { n_batches: 1 };
        assert!((1..5).all(|s| one.segment(s) == 0 && one.starts_pass(s)));
    }

    #[test]
    fn dropout_seeds_differ_by_step_and_run() {
        assert_eq!(dropout_seed(3, 10), dropout_seed(3, 10));
        assert_ne!(dropout_seed(3, 10), dropout_seed(3, 11));
        assert_ne!(dropout_seed(3, 10), dropout_seed(4, 10));
    }
}
