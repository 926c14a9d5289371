//! The first `n` samples of a dataset, for the embedded profiles' smaller training sets.

use std::sync::Arc;

use adamp_datasets::{ImageSource, ImageU8, Result};

/// The first `len` samples of `inner` (a fixed, seed-independent subset, so every seed and
/// every optimizer trains on the same images).
pub struct Prefix {
    inner: Arc<dyn ImageSource>,
    len: usize,
}

impl Prefix {
    /// Wrap `inner`, keeping `min(len, inner.len())` samples.
    pub fn new(inner: Arc<dyn ImageSource>, len: usize) -> Self {
        let len = len.min(inner.len());
        Self { inner, len }
    }
}

impl ImageSource for Prefix {
    fn len(&self) -> usize {
        self.len
    }

    fn num_classes(&self) -> usize {
        self.inner.num_classes()
    }

    fn label(&self, i: usize) -> u32 {
        self.inner.label(i)
    }

    fn image(&self, i: usize) -> Result<ImageU8> {
        self.inner.image(i)
    }

    fn describe(&self) -> String {
        format!(
            "the first {} samples of {}",
            self.len,
            self.inner.describe()
        )
    }
}

/// `source` itself, or its first `n` samples when `n` is given.
pub fn maybe_prefix(source: Arc<dyn ImageSource>, n: Option<usize>) -> Arc<dyn ImageSource> {
    match n {
        Some(n) => Arc::new(Prefix::new(source, n)),
        None => source,
    }
}
