//! Class-balanced batches for metric learning: every batch holds `batch_size / m` distinct
//! classes with `m` images each, as ProxyAnchor's `BalancedSampler` (`dataset/sampler.py`,
//! `images_per_class`) and pytorch-metric-learning's `MPerClassSampler` (`samplers/
//! m_per_class_sampler.py`) build them, deterministic per `(seed, epoch)`.
//!
//! One epoch is `⌊n / batch_size⌋` batches (at least one), `n` the images of the classes used,
//! as both references (`len(labels) // batch_size`). Within a batch the `m` images of a class
//! are consecutive.
//!
//! - **Which classes**: the classes are visited in a shuffled order, `batch_size / m` per batch;
//!   when the order runs out a fresh shuffle continues it (a class drawn again before the batch
//!   is full waits for the next batch), so every class comes up about equally often, as
//!   `MPerClassSampler` does (ProxyAnchor draws each batch's classes independently).
//! - **Classes with more than `m` images**: each class deals its images from its own shuffled
//!   pool, `m` distinct ones per visit, reshuffling when the pool runs out (without repeating
//!   an image within the batch), so every image is used before any repeats. The references
//!   draw `m` at random each time (ProxyAnchor with replacement).
//! - **Classes with fewer than `m` images** are left out of the batches and counted
//!   ([`ClassBalancedSampler::skipped_classes`], a `tracing` warning naming them), rather than
//!   repeating images within a batch as the references do (a repeated image is a zero-distance
//!   positive pair). If fewer than `batch_size / m` classes remain, [`ClassBalancedSampler::order`]
//!   is an error naming `m`, the counts and the first left-out classes.

use std::collections::VecDeque;

use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::error::{DatasetError, Result};
use crate::loader::derived_rng;

/// The RNG stream of the sampler (distinct from the loader's order, sample and CutMix streams).
const STREAM_SAMPLER: u64 = 4;

/// `m` images per class, `batch_size / m` classes per batch (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassBalancedSampler {
    per_class: usize,
    batch_size: usize,
}

/// The images of each label: `members[label]` = sample indices.
fn members(labels: &[u32]) -> Vec<Vec<usize>> {
    let n = labels.iter().map(|&l| l as usize + 1).max().unwrap_or(0);
    let mut out = vec![Vec::new(); n];
    for (i, &l) in labels.iter().enumerate() {
        out[l as usize].push(i);
    }
    out
}

impl ClassBalancedSampler {
    /// `per_class` (m) images per class in batches of `batch_size`; both at least 1 and
    /// `batch_size` a multiple of `per_class`, else an error naming the setting.
    pub fn new(per_class: usize, batch_size: usize) -> Result<Self> {
        let bad = |name: &str, reason: String| DatasetError::Config {
            name: name.into(),
            reason,
        };
        if per_class == 0 {
            return Err(bad("per_class", "must be at least 1".into()));
        }
        if batch_size == 0 || !batch_size.is_multiple_of(per_class) {
            return Err(bad(
                "batch_size",
                format!(
                    "{batch_size} must be a positive multiple of per_class = {per_class} \
                     (batch_size / per_class classes per batch)"
                ),
            ));
        }
        Ok(Self {
            per_class,
            batch_size,
        })
    }

    /// Images per class in a batch (m).
    pub fn per_class(&self) -> usize {
        self.per_class
    }

    /// Samples per batch.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Classes per batch (`batch_size / m`).
    pub fn classes_per_batch(&self) -> usize {
        self.batch_size / self.per_class
    }

    /// The labels that have fewer than m images (but at least one) and are left out.
    pub fn skipped_classes(&self, labels: &[u32]) -> Vec<u32> {
        members(labels)
            .iter()
            .enumerate()
            .filter(|(_, m)| !m.is_empty() && m.len() < self.per_class)
            .map(|(l, _)| l as u32)
            .collect()
    }

    /// The flat sample order of one epoch: consecutive `batch_size` chunks are the batches
    /// (see the module docs). Depends only on `(labels, seed, epoch)`.
    pub fn order(&self, labels: &[u32], seed: u64, epoch: u64) -> Result<Vec<usize>> {
        let members = members(labels);
        let eligible: Vec<usize> = (0..members.len())
            .filter(|&c| members[c].len() >= self.per_class)
            .collect();
        let skipped = self.skipped_classes(labels);
        let k = self.classes_per_batch();
        if eligible.len() < k {
            let first: Vec<String> = skipped.iter().take(8).map(u32::to_string).collect();
            return Err(DatasetError::Config {
                name: "per_class".into(),
                reason: format!(
                    "{} of {} classes have at least m = {} images, but a batch of {} needs {k} \
                     classes; lower per_class or batch_size (classes with too few images: {}{})",
                    eligible.len(),
                    eligible.len() + skipped.len(),
                    self.per_class,
                    self.batch_size,
                    first.join(", "),
                    if skipped.len() > 8 { ", ..." } else { "" }
                ),
            });
        }
        if !skipped.is_empty() {
            tracing::warn!(
                skipped = skipped.len(),
                m = self.per_class,
                first = ?&skipped[..skipped.len().min(8)],
                "classes with fewer than m images are left out of the class-balanced batches"
            );
        }
        let used: usize = eligible.iter().map(|&c| members[c].len()).sum();
        let n_batches = (used / self.batch_size).max(1);
        let mut rng = derived_rng(seed, epoch, 0, STREAM_SAMPLER);
        let mut pools: Vec<Vec<usize>> = vec![Vec::new(); members.len()];
        let mut queue: VecDeque<usize> = VecDeque::new();
        let mut order = Vec::with_capacity(n_batches * self.batch_size);
        for _ in 0..n_batches {
            let chosen = next_classes(&mut queue, &eligible, k, &mut rng);
            for c in chosen {
                deal(
                    &mut pools[c],
                    &members[c],
                    self.per_class,
                    &mut rng,
                    &mut order,
                );
            }
        }
        Ok(order)
    }
}

/// The next `k` distinct classes from the shuffled visiting order, refilled with a fresh
/// shuffle when it runs out; a class already chosen for this batch waits at the front.
fn next_classes(
    queue: &mut VecDeque<usize>,
    eligible: &[usize],
    k: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<usize> {
    let mut chosen = Vec::with_capacity(k);
    let mut deferred = Vec::new();
    while chosen.len() < k {
        if queue.is_empty() {
            let mut fresh = eligible.to_vec();
            fresh.shuffle(rng);
            queue.extend(fresh);
        }
        let c = queue.pop_front().expect("refilled above");
        if chosen.contains(&c) {
            deferred.push(c);
        } else {
            chosen.push(c);
        }
    }
    for c in deferred.into_iter().rev() {
        queue.push_front(c);
    }
    chosen
}

/// Appends `m` distinct images of one class to `order`, dealt from the end of its shuffled
/// `pool`.
fn deal(
    pool: &mut Vec<usize>,
    all: &[usize],
    m: usize,
    rng: &mut ChaCha8Rng,
    order: &mut Vec<usize>,
) {
    let mut taken: Vec<usize> = Vec::with_capacity(m);
    while taken.len() < m {
        if pool.is_empty() {
            // A fresh shuffle of every image, those already in this batch at the bottom (dealt
            // last, so not again in this batch: the class has at least m images).
            let mut fresh = all.to_vec();
            fresh.shuffle(rng);
            fresh.sort_by_key(|i| !taken.contains(i));
            *pool = fresh;
        }
        taken.push(pool.pop().expect("refilled above"));
    }
    order.extend(taken);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Class `c` has `sizes[c]` images, interleaved (0, 1, 2, ..., 0, 1, ...).
    fn labels_of(sizes: &[usize]) -> Vec<u32> {
        let mut left = sizes.to_vec();
        let mut out = Vec::new();
        while left.iter().any(|&n| n > 0) {
            for (c, n) in left.iter_mut().enumerate() {
                if *n > 0 {
                    out.push(c as u32);
                    *n -= 1;
                }
            }
        }
        out
    }

    fn counts(values: impl Iterator<Item = usize>, n: usize) -> Vec<usize> {
        let mut c = vec![0; n];
        values.for_each(|v| c[v] += 1);
        c
    }

    #[test]
    fn every_batch_holds_batch_size_over_m_classes_of_m_distinct_images() {
        let sizes = [3, 4, 5, 6, 7, 8, 9, 10];
        let labels = labels_of(&sizes);
        let s = ClassBalancedSampler::new(3, 12).unwrap();
        let order = s.order(&labels, 5, 0).unwrap();
        // 52 images: 4 batches of 12.
        assert_eq!(order.len(), 48);
        for batch in order.chunks(12) {
            let mut classes = Vec::new();
            for group in batch.chunks(3) {
                let c = labels[group[0]];
                assert!(group.iter().all(|&i| labels[i] == c), "{batch:?}");
                assert!(group[0] != group[1] && group[1] != group[2] && group[0] != group[2]);
                classes.push(c);
            }
            classes.sort();
            classes.dedup();
            assert_eq!(classes.len(), 4, "{batch:?}");
        }
        // Classes come up about equally often (16 visits of 8 classes: 2 each).
        let visits = counts(order.chunks(3).map(|g| labels[g[0]] as usize), 8);
        assert!(visits.iter().all(|&v| v == 2), "{visits:?}");
    }

    #[test]
    fn images_of_a_class_are_dealt_before_any_repeats() {
        // Two classes of 6, m = 2, 2 classes per batch: 3 batches use every image once.
        let labels = labels_of(&[6, 6]);
        let s = ClassBalancedSampler::new(2, 4).unwrap();
        let o = s.order(&labels, 1, 0).unwrap();
        assert_eq!(counts(o.into_iter(), 12), [1; 12]);
        // A class of 2 and one of 10: the small class repeats (both images in every batch),
        // the large one deals 6 distinct images over the 3 batches.
        let labels = labels_of(&[2, 10]);
        for e in 0..4 {
            let o = s.order(&labels, 1, e).unwrap();
            assert_eq!(o.len(), 12);
            let big = counts(o.iter().copied().filter(|&i| labels[i] == 1), 12);
            assert!(big.iter().all(|&c| c <= 1), "{o:?}");
            for batch in o.chunks(4) {
                let small: Vec<usize> = batch.iter().copied().filter(|&i| labels[i] == 0).collect();
                assert_eq!(small.len(), 2);
                assert_ne!(small[0], small[1]);
            }
        }
    }

    #[test]
    fn deterministic_per_seed_and_epoch_and_different_across_them() {
        let labels = labels_of(&[6; 10]);
        let s = ClassBalancedSampler::new(2, 8).unwrap();
        let a = s.order(&labels, 3, 1).unwrap();
        assert_eq!(a, s.order(&labels, 3, 1).unwrap());
        assert_ne!(a, s.order(&labels, 3, 2).unwrap());
        assert_ne!(a, s.order(&labels, 4, 1).unwrap());
        assert_eq!(a.len(), 56);
    }

    #[test]
    fn classes_with_fewer_than_m_images_are_left_out_and_counted() {
        // Class 1 has 2 images, class 3 has 1: both below m = 3.
        let labels = labels_of(&[4, 2, 5, 1, 3]);
        let s = ClassBalancedSampler::new(3, 6).unwrap();
        assert_eq!(s.skipped_classes(&labels), [1, 3]);
        for e in 0..5 {
            let o = s.order(&labels, 0, e).unwrap();
            // 12 images in the classes used: 2 batches.
            assert_eq!(o.len(), 12);
            assert!(o.iter().all(|&i| labels[i] != 1 && labels[i] != 3), "{o:?}");
        }
        // Too few classes left for a batch: an error naming m and the counts.
        let s = ClassBalancedSampler::new(3, 12).unwrap();
        let msg = s.order(&labels, 0, 0).unwrap_err().to_string();
        assert!(
            msg.contains("3 of 5 classes have at least m = 3 images"),
            "{msg}"
        );
        assert!(
            msg.contains("needs 4 classes") && msg.contains("1, 3"),
            "{msg}"
        );
    }

    #[test]
    fn settings_are_checked() {
        assert!(ClassBalancedSampler::new(0, 4).is_err());
        let msg = ClassBalancedSampler::new(3, 10).unwrap_err().to_string();
        assert!(
            msg.contains("batch_size") && msg.contains("multiple"),
            "{msg}"
        );
        let s = ClassBalancedSampler::new(4, 120).unwrap();
        assert_eq!((s.classes_per_batch(), s.per_class()), (30, 4));
    }
}
