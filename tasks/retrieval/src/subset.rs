//! An evenly strided subset of a dataset: `n` samples at indices `floor(k * len / n)`, fixed
//! (seed-independent, so every seed and optimizer sees the same images) and spread over the
//! classes of class-sorted lists (CUB's `images.txt`, SOP's `Ebay_*.txt`), where a prefix would
//! hold only the first few classes. The same rule as the ReBias task's subsets.

use std::sync::Arc;

use adamp_datasets::{ImageSource, ImageU8, Result};

/// `n` evenly strided samples of an inner source.
pub struct Strided {
    inner: Arc<dyn ImageSource>,
    indices: Vec<usize>,
}

impl Strided {
    /// `min(n, inner.len())` samples of `inner`.
    pub fn new(inner: Arc<dyn ImageSource>, n: usize) -> Self {
        let len = inner.len();
        let n = n.min(len);
        let indices = (0..n).map(|k| k * len / n).collect();
        Self { inner, indices }
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

/// `source`, or its strided subset of `n` when `n` is given.
pub fn maybe_strided(source: Arc<dyn ImageSource>, n: Option<usize>) -> Arc<dyn ImageSource> {
    match n {
        Some(n) => Arc::new(Strided::new(source, n)),
        None => source,
    }
}

/// Every label of `source`.
pub fn labels(source: &dyn ImageSource) -> Vec<u32> {
    (0..source.len()).map(|i| source.label(i)).collect()
}
