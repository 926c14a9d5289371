//! An evenly strided subset of a dataset: `n` samples at indices `floor(k * len / n)`. Fixed
//! (seed-independent, so every seed and optimizer sees the same images) and spread over the
//! classes of class-sorted lists (image folders, CUB's `images.txt`, SOP's `Ebay_*.txt`), where
//! a prefix would hold only the first few classes. The `train_subset` / `test_subset` rule of
//! the ReBias and retrieval tasks.

use std::sync::Arc;

use crate::{ImageSource, ImageU8, Result};

/// The indices `floor(k * len / n)`, `k < min(n, len)`: ascending, starting at 0.
pub fn strided_indices(len: usize, n: usize) -> Vec<usize> {
    let n = n.min(len);
    (0..n).map(|k| k * len / n).collect()
}

/// `n` evenly strided samples of an inner source.
pub struct Strided {
    inner: Arc<dyn ImageSource>,
    indices: Vec<usize>,
}

impl Strided {
    /// `min(n, inner.len())` samples of `inner`.
    pub fn new(inner: Arc<dyn ImageSource>, n: usize) -> Self {
        let indices = strided_indices(inner.len(), n);
        Self { inner, indices }
    }

    /// The inner index of each sample.
    pub fn indices(&self) -> &[usize] {
        &self.indices
    }
}

impl ImageSource for Strided {
    fn len(&self) -> usize {
        self.indices.len()
    }

    fn num_classes(&self) -> usize {
        self.inner.num_classes()
    }

    fn label(&self, i: usize) -> u32 {
        self.inner.label(self.indices[i])
    }

    fn image(&self, i: usize) -> Result<ImageU8> {
        self.inner.image(self.indices[i])
    }

    fn describe(&self) -> String {
        format!(
            "{} evenly strided samples of {}",
            self.indices.len(),
            self.inner.describe()
        )
    }
}

/// `source` itself with `0..len` as its indices, or its strided subset of `n` and their indices.
pub fn maybe_strided(
    source: Arc<dyn ImageSource>,
    n: Option<usize>,
) -> (Arc<dyn ImageSource>, Vec<usize>) {
    match n {
        Some(n) => {
            let s = Strided::new(source, n);
            let idx = s.indices().to_vec();
            (Arc::new(s), idx)
        }
        None => {
            let idx = (0..source.len()).collect();
            (source, idx)
        }
    }
}

/// Every label of `source`, in sample order.
pub fn labels(source: &dyn ImageSource) -> Vec<u32> {
    (0..source.len()).map(|i| source.label(i)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InMemoryImages;

    #[test]
    fn strided_subsets_keep_sorted_classes_balanced() {
        let labels_in: Vec<u32> = (0..90).map(|i| i / 10).collect();
        let src: Arc<dyn ImageSource> = Arc::new(
            InMemoryImages::new(1, 1, 1, 9, vec![0; 90], labels_in, "sorted".into()).unwrap(),
        );
        let (sub, idx) = maybe_strided(src.clone(), Some(18));
        assert_eq!(sub.len(), 18);
        let mut per = [0; 9];
        for l in labels(sub.as_ref()) {
            per[l as usize] += 1;
        }
        assert_eq!(per, [2; 9]);
        assert_eq!(&idx[..3], &[0, 5, 10]);
        let (all, idx) = maybe_strided(src, None);
        assert_eq!((all.len(), idx.len()), (90, 90));
        assert_eq!(idx[89], 89);
    }
}
