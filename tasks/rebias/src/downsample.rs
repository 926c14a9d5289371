//! Box downsampling of a dataset's images by an integer factor (each output pixel the rounded
//! mean of a `factor x factor` block; trailing rows and columns that do not fill a block are
//! dropped). Biased-MNIST's embedded default uses factor 2 (14 x 14 digits) so that the kernel-7
//! SimpleConvNet, whose cost grows with the image area and has no stride, fits the CPU budget;
//! the paper scale keeps 28 x 28 (factor 1).

use std::sync::Arc;

use adamp_datasets::{ImageSource, ImageU8, Result};

/// `inner`'s images, box-downsampled by `factor`.
pub struct Downsampled {
    inner: Arc<dyn ImageSource>,
    factor: usize,
}

impl Downsampled {
    /// `inner` itself for factor 1, else its images downsampled.
    pub fn wrap(inner: Arc<dyn ImageSource>, factor: usize) -> Arc<dyn ImageSource> {
        if factor <= 1 {
            inner
        } else {
            Arc::new(Self { inner, factor })
        }
    }
}

/// The box-downsampled image.
pub fn downsample(img: &ImageU8, factor: usize) -> Result<ImageU8> {
    let (h, w, c) = (img.height / factor, img.width / factor, img.channels);
    let mut data = Vec::with_capacity(h * w * c);
    let area = (factor * factor) as u32;
    for y in 0..h {
        for x in 0..w {
            for ch in 0..c {
                let mut sum = 0u32;
                for dy in 0..factor {
                    for dx in 0..factor {
                        sum += u32::from(img.at(y * factor + dy, x * factor + dx, ch));
                    }
                }
                data.push(((sum + area / 2) / area) as u8);
            }
        }
    }
    ImageU8::new(h, w, c, data)
}

impl ImageSource for Downsampled {
    fn len(&self) -> usize {
        self.inner.len()
    }

    fn num_classes(&self) -> usize {
        self.inner.num_classes()
    }

    fn label(&self, i: usize) -> u32 {
        self.inner.label(i)
    }

    fn image(&self, i: usize) -> Result<ImageU8> {
        downsample(&self.inner.image(i)?, self.factor)
    }

    fn describe(&self) -> String {
        format!("{} downsampled {}x", self.inner.describe(), self.factor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_means_round_and_odd_edges_drop() {
        let img = ImageU8::new(3, 5, 1, (0..15).map(|v| v as u8 * 10).collect()).unwrap();
        let d = downsample(&img, 2).unwrap();
        assert_eq!((d.height, d.width), (1, 2));
        // (0 + 10 + 50 + 60) / 4 = 30, (20 + 30 + 70 + 80) / 4 = 50.
        assert_eq!(d.data, [30, 50]);
    }
}
