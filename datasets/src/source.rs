//! Images as `u8` HWC plus labels, and the [`ImageSource`] trait every loader implements.

use std::sync::Arc;

use crate::error::{DatasetError, Result};

/// One image, `u8`, height × width × channels, row-major (HWC), channels 1 (grey) or 3 (RGB).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageU8 {
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// 1 (grey) or 3 (RGB).
    pub channels: usize,
    /// `height * width * channels` bytes, HWC.
    pub data: Vec<u8>,
}

impl ImageU8 {
    /// Builds an image, checking that `data` has `height * width * channels` bytes.
    pub fn new(height: usize, width: usize, channels: usize, data: Vec<u8>) -> Result<Self> {
        if data.len() != height * width * channels || !(channels == 1 || channels == 3) {
            return Err(DatasetError::Config {
                name: "image".into(),
                reason: format!(
                    "{} bytes for {height}x{width}x{channels} (channels must be 1 or 3)",
                    data.len()
                ),
            });
        }
        Ok(Self {
            height,
            width,
            channels,
            data,
        })
    }

    /// The byte at row `y`, column `x`, channel `c`.
    pub fn at(&self, y: usize, x: usize, c: usize) -> u8 {
        self.data[(y * self.width + x) * self.channels + c]
    }
}

/// A labelled image dataset: `len` samples, each an [`ImageU8`] with a class label.
///
/// In-memory formats (IDX, CIFAR binary) return copies of stored bytes; folder formats decode
/// the file on each `image` call, so a loader's worker threads do the decoding lazily per batch.
pub trait ImageSource: Send + Sync {
    /// Number of samples.
    fn len(&self) -> usize;
    /// Whether the dataset holds no samples.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Number of classes (labels are `0..num_classes`).
    fn num_classes(&self) -> usize;
    /// The label of sample `i` (cheap: never decodes).
    fn label(&self, i: usize) -> u32;
    /// The image of sample `i` (may read and decode a file). A [`DatasetError::Decode`] means
    /// this one sample is damaged; loaders skip it, warn and count it.
    fn image(&self, i: usize) -> Result<ImageU8>;
    /// A short description for logs and error messages (format and path).
    fn describe(&self) -> String;
}

/// A dataset held in memory as one contiguous HWC `u8` buffer of equally sized images
/// (what IDX and CIFAR-10 binary files hold).
#[derive(Debug, Clone)]
pub struct InMemoryImages {
    height: usize,
    width: usize,
    channels: usize,
    num_classes: usize,
    pixels: Arc<Vec<u8>>,
    labels: Arc<Vec<u32>>,
    description: String,
}

impl InMemoryImages {
    /// Wraps `pixels` (`labels.len()` images of `height * width * channels` bytes each, HWC).
    pub fn new(
        height: usize,
        width: usize,
        channels: usize,
        num_classes: usize,
        pixels: Vec<u8>,
        labels: Vec<u32>,
        description: String,
    ) -> Result<Self> {
        let per = height * width * channels;
        if pixels.len() != per * labels.len() {
            return Err(DatasetError::Config {
                name: description,
                reason: format!(
                    "{} pixel bytes for {} images of {height}x{width}x{channels}",
                    pixels.len(),
                    labels.len()
                ),
            });
        }
        if let Some(bad) = labels.iter().find(|&&l| l as usize >= num_classes) {
            return Err(DatasetError::Config {
                name: description,
                reason: format!("label {bad} is not below the class count {num_classes}"),
            });
        }
        Ok(Self {
            height,
            width,
            channels,
            num_classes,
            pixels: Arc::new(pixels),
            labels: Arc::new(labels),
            description,
        })
    }

    /// Image height.
    pub fn height(&self) -> usize {
        self.height
    }
    /// Image width.
    pub fn width(&self) -> usize {
        self.width
    }
    /// Channels per pixel.
    pub fn channels(&self) -> usize {
        self.channels
    }
    /// All labels.
    pub fn labels(&self) -> &[u32] {
        &self.labels
    }
    /// The bytes of image `i` (HWC).
    pub fn pixels_of(&self, i: usize) -> &[u8] {
        let per = self.height * self.width * self.channels;
        &self.pixels[i * per..(i + 1) * per]
    }
}

impl ImageSource for InMemoryImages {
    fn len(&self) -> usize {
        self.labels.len()
    }
    fn num_classes(&self) -> usize {
        self.num_classes
    }
    fn label(&self, i: usize) -> u32 {
        self.labels[i]
    }
    fn image(&self, i: usize) -> Result<ImageU8> {
        Ok(ImageU8 {
            height: self.height,
            width: self.width,
            channels: self.channels,
            data: self.pixels_of(i).to_vec(),
        })
    }
    fn describe(&self) -> String {
        self.description.clone()
    }
}
