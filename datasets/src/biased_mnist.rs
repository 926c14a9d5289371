//! Biased-MNIST (Bahng et al., ICML 2020; clovaai/rebias `datasets/colour_mnist.py`,
//! `ColourBiasedMNIST`) as an [`ImageSource`] over grey MNIST digits (any IDX source): each
//! digit is binarised (every non-zero pixel becomes white, 255 in all three channels) and every
//! zero pixel takes the background colour of the digit's bias class, from the reference's
//! palette of ten colours. Which colour a digit gets follows [`crate::bias::assign_biases`]:
//! its own class's colour for a fraction `rho` of each class, one of the nine others otherwise.
//! Training uses `rho` in {0.999, 0.997, 0.995, 0.990}; the reference's unbiased test set is
//! `rho = 0.1`. Images are 3-channel; the colours are a function of `(seed, rho, labels)`.

use std::sync::Arc;

use crate::bias::assign_biases;
use crate::error::Result;
use crate::source::{ImageSource, ImageU8};
use crate::transforms::Normalize;

/// The reference's background colours, one per class (`BiasedMNIST.COLOUR_MAP`).
pub const COLOUR_MAP: [[u8; 3]; 10] = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
    [225, 225, 0],
    [225, 0, 225],
    [0, 255, 255],
    [255, 128, 0],
    [255, 0, 128],
    [128, 0, 255],
    [128, 128, 128],
];

/// The reference's confusing-colour count (`n_confusing_labels = 9`: every other colour).
pub const N_CONFUSING: usize = 9;

/// The reference's input normalisation: `ToTensor` then `Normalize((0.5,) * 3, (0.5,) * 3)`.
pub fn normalize() -> Normalize {
    Normalize {
        mean: vec![0.5; 3],
        std: vec![0.5; 3],
    }
}

/// Colour-biased digits over a grey 10-class digit source.
pub struct ColourBiasedMnist {
    digits: Arc<dyn ImageSource>,
    colours: Vec<u32>,
    rho: f64,
}

impl ColourBiasedMnist {
    /// Colours `digits` (1-channel, labels 0..9) at correlation `rho` with the colour stream of
    /// `seed`. Errors name `rho` when it is outside `[0, 1]`.
    pub fn new(digits: Arc<dyn ImageSource>, rho: f64, seed: u64) -> Result<Self> {
        let labels: Vec<u32> = (0..digits.len()).map(|i| digits.label(i)).collect();
        let colours = assign_biases(&labels, 10, rho, N_CONFUSING, seed)?;
        Ok(Self {
            digits,
            colours,
            rho,
        })
    }

    /// The colour class (index into [`COLOUR_MAP`]) of sample `i`.
    pub fn colour(&self, i: usize) -> u32 {
        self.colours[i]
    }

    /// The label–colour correlation it was built with.
    pub fn rho(&self) -> f64 {
        self.rho
    }
}

impl ImageSource for ColourBiasedMnist {
    fn len(&self) -> usize {
        self.digits.len()
    }

    fn num_classes(&self) -> usize {
        10
    }

    fn label(&self, i: usize) -> u32 {
        self.digits.label(i)
    }

    fn image(&self, i: usize) -> Result<ImageU8> {
        let grey = self.digits.image(i)?;
        let colour = COLOUR_MAP[self.colours[i] as usize];
        let mut data = Vec::with_capacity(grey.height * grey.width * 3);
        for px in grey.data.chunks(grey.channels) {
            if px[0] != 0 {
                data.extend_from_slice(&[255, 255, 255]);
            } else {
                data.extend_from_slice(&colour);
            }
        }
        ImageU8::new(grey.height, grey.width, 3, data)
    }

    fn describe(&self) -> String {
        format!(
            "Biased-MNIST (colour backgrounds, rho = {}) over {}",
            self.rho,
            self.digits.describe()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::InMemoryImages;

    fn digits(n: usize) -> Arc<dyn ImageSource> {
        // 2x2 digits: pixel 0 lit (value 1..), the rest background.
        let pixels: Vec<u8> = (0..n)
            .flat_map(|i| [1 + (i % 200) as u8, 0, 0, 0])
            .collect();
        let labels: Vec<u32> = (0..n).map(|i| (i % 10) as u32).collect();
        Arc::new(InMemoryImages::new(2, 2, 1, 10, pixels, labels, "tiny".into()).unwrap())
    }

    #[test]
    fn foreground_is_white_and_background_the_bias_colour() {
        let src = ColourBiasedMnist::new(digits(100), 1.0, 0).unwrap();
        for i in 0..100 {
            assert_eq!(
                src.colour(i),
                src.label(i),
                "rho 1: every digit its own colour"
            );
            let img = src.image(i).unwrap();
            assert_eq!((img.height, img.width, img.channels), (2, 2, 3));
            assert_eq!(&img.data[..3], &[255, 255, 255]);
            assert_eq!(&img.data[3..6], &COLOUR_MAP[src.label(i) as usize]);
        }
        let unbiased = ColourBiasedMnist::new(digits(1000), 0.1, 0).unwrap();
        let own = (0..1000)
            .filter(|&i| unbiased.colour(i) == unbiased.label(i))
            .count();
        assert_eq!(own, 100);
        assert!(unbiased.describe().contains("rho = 0.1"));
    }
}
