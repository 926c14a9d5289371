//! Per-sample transforms, as torchvision defines them: `RandomCrop(size, padding)` +
//! `RandomHorizontalFlip` (CIFAR / Fashion-MNIST training), `RandomResizedCrop(224)` + flip
//! (ImageNet training), `Resize(256)` + `CenterCrop(224)` (ImageNet evaluation), then
//! `ToTensor` + `Normalize(mean, std)` into `f32` CHW.
//!
//! Deviation: resizing uses the `image` crate's bilinear (`Triangle`) filter, which like
//! torchvision's antialiased bilinear widens the kernel when shrinking; pixel values can differ
//! from PIL's by rounding.

use image::imageops::{self, FilterType};
use rand::Rng;

use crate::error::{DatasetError, Result};
use crate::source::ImageU8;

/// Per-channel normalisation `(x / 255 - mean) / std`.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalize {
    /// Per-channel mean (of the `[0, 1]`-scaled pixels).
    pub mean: Vec<f32>,
    /// Per-channel standard deviation.
    pub std: Vec<f32>,
}

impl Normalize {
    /// ImageNet (torchvision's reference training scripts).
    pub fn imagenet() -> Self {
        Self {
            mean: vec![0.485, 0.456, 0.406],
            std: vec![0.229, 0.224, 0.225],
        }
    }
    /// CIFAR-10 training-set statistics.
    pub fn cifar10() -> Self {
        Self {
            mean: vec![0.4914, 0.4822, 0.4465],
            std: vec![0.2470, 0.2435, 0.2616],
        }
    }
    /// MNIST training-set statistics (0.1307, 0.3081).
    pub fn mnist() -> Self {
        Self {
            mean: vec![0.1307],
            std: vec![0.3081],
        }
    }
    /// Fashion-MNIST training-set statistics (0.2860, 0.3530).
    pub fn fashion_mnist() -> Self {
        Self {
            mean: vec![0.2860],
            std: vec![0.3530],
        }
    }
}

/// The geometric augmentation (or evaluation resize) applied before normalisation.
#[derive(Debug, Clone, PartialEq)]
pub enum Augment {
    /// No change (evaluation on small images).
    Identity,
    /// Zero-pad by `padding` on every side, take a random crop of the original size, flip
    /// horizontally with probability 1/2 if `flip` (torchvision `RandomCrop(padding=4)` +
    /// `RandomHorizontalFlip`).
    PadCropFlip {
        /// Pixels of zero padding per side.
        padding: usize,
        /// Random horizontal flip.
        flip: bool,
    },
    /// torchvision `RandomResizedCrop(size, scale, ratio)` (10 tries, then a centre crop) with
    /// an optional horizontal flip.
    RandomResizedCrop {
        /// Output side.
        size: usize,
        /// Range of the crop's area fraction (torchvision: 0.08..1).
        scale: (f64, f64),
        /// Range of the crop's aspect ratio (torchvision: 3/4..4/3).
        ratio: (f64, f64),
        /// Random horizontal flip.
        flip: bool,
    },
    /// torchvision `Resize(resize)` (shorter side) then `CenterCrop(crop)`.
    ResizeCenterCrop {
        /// Shorter side after resizing (256 for ImageNet).
        resize: usize,
        /// Side of the centre crop (224 for ImageNet).
        crop: usize,
    },
}

impl Augment {
    /// ImageNet training: `RandomResizedCrop(224)` + flip.
    pub fn imagenet_train() -> Self {
        Self::RandomResizedCrop {
            size: 224,
            scale: (0.08, 1.0),
            ratio: (3.0 / 4.0, 4.0 / 3.0),
            flip: true,
        }
    }
    /// ImageNet evaluation: `Resize(256)` + `CenterCrop(224)`.
    pub fn imagenet_eval() -> Self {
        Self::ResizeCenterCrop {
            resize: 256,
            crop: 224,
        }
    }
    /// CIFAR-style training: pad 4, random crop, flip.
    pub fn pad_crop_flip() -> Self {
        Self::PadCropFlip {
            padding: 4,
            flip: true,
        }
    }
}

/// Augmentation followed by normalisation: `u8` HWC in, `f32` CHW out.
#[derive(Debug, Clone, PartialEq)]
pub struct Transform {
    /// The geometric part.
    pub augment: Augment,
    /// The normalisation (its length must equal the image channels).
    pub normalize: Normalize,
}

impl Transform {
    /// Applies the transform, drawing every random choice from `rng`. Returns the normalised
    /// image as CHW `f32` with its shape `(channels, height, width)`.
    pub fn apply(&self, img: &ImageU8, rng: &mut impl Rng) -> Result<(Vec<f32>, [usize; 3])> {
        if self.normalize.mean.len() != img.channels || self.normalize.std.len() != img.channels {
            return Err(DatasetError::Config {
                name: "normalize".into(),
                reason: format!(
                    "{} means / {} stds for images with {} channels",
                    self.normalize.mean.len(),
                    self.normalize.std.len(),
                    img.channels
                ),
            });
        }
        let out = augment(&self.augment, img, rng)?;
        Ok(normalize_chw(&out, &self.normalize))
    }
}

/// `(x / 255 - mean[c]) / std[c]`, HWC `u8` → CHW `f32`.
pub fn normalize_chw(img: &ImageU8, n: &Normalize) -> (Vec<f32>, [usize; 3]) {
    let (h, w, c) = (img.height, img.width, img.channels);
    let mut out = vec![0f32; c * h * w];
    for ch in 0..c {
        let (m, s) = (n.mean[ch], n.std[ch]);
        let plane = &mut out[ch * h * w..(ch + 1) * h * w];
        for (p, o) in plane.iter_mut().enumerate() {
            *o = (f32::from(img.data[p * c + ch]) / 255.0 - m) / s;
        }
    }
    (out, [c, h, w])
}

fn augment(a: &Augment, img: &ImageU8, rng: &mut impl Rng) -> Result<ImageU8> {
    Ok(match *a {
        Augment::Identity => img.clone(),
        Augment::PadCropFlip { padding, flip } => {
            let top = rng.random_range(0..=2 * padding);
            let left = rng.random_range(0..=2 * padding);
            let cropped = pad_crop(img, padding, top, left);
            if flip && rng.random_bool(0.5) {
                hflip(&cropped)
            } else {
                cropped
            }
        }
        Augment::RandomResizedCrop {
            size,
            scale,
            ratio,
            flip,
        } => {
            let (top, left, h, w) = rrc_box(img.height, img.width, scale, ratio, rng);
            let out = resize(&crop(img, top, left, h, w), size, size)?;
            if flip && rng.random_bool(0.5) {
                hflip(&out)
            } else {
                out
            }
        }
        Augment::ResizeCenterCrop { resize: r, crop: c } => {
            let (h, w) = (img.height, img.width);
            let (nh, nw) = if h <= w {
                (r, (r as f64 * w as f64 / h as f64) as usize)
            } else {
                ((r as f64 * h as f64 / w as f64) as usize, r)
            };
            let resized = resize(img, nh, nw)?;
            if nh < c || nw < c {
                return Err(DatasetError::Config {
                    name: "crop".into(),
                    reason: format!("centre crop {c} is larger than the resized image {nh}x{nw}"),
                });
            }
            let top = ((nh - c) as f64 / 2.0).round() as usize;
            let left = ((nw - c) as f64 / 2.0).round() as usize;
            crop(&resized, top, left, c, c)
        }
    })
}

/// The crop box `(top, left, height, width)` of torchvision's `RandomResizedCrop.get_params`.
pub fn rrc_box(
    height: usize,
    width: usize,
    scale: (f64, f64),
    ratio: (f64, f64),
    rng: &mut impl Rng,
) -> (usize, usize, usize, usize) {
    let area = (height * width) as f64;
    let (lr0, lr1) = (ratio.0.ln(), ratio.1.ln());
    for _ in 0..10 {
        let target = area * rng.random_range(scale.0..=scale.1);
        let aspect = rng.random_range(lr0..=lr1).exp();
        let w = (target * aspect).sqrt().round() as usize;
        let h = (target / aspect).sqrt().round() as usize;
        if 0 < w && w <= width && 0 < h && h <= height {
            let top = rng.random_range(0..=height - h);
            let left = rng.random_range(0..=width - w);
            return (top, left, h, w);
        }
    }
    // Fallback: a centre crop with the aspect ratio clamped into `ratio`.
    let in_ratio = width as f64 / height as f64;
    let (w, h) = if in_ratio < ratio.0 {
        (
            width,
            ((width as f64 / ratio.0).round() as usize).min(height),
        )
    } else if in_ratio > ratio.1 {
        (
            ((height as f64 * ratio.1).round() as usize).min(width),
            height,
        )
    } else {
        (width, height)
    };
    ((height - h) / 2, (width - w) / 2, h, w)
}

/// Zero-pads by `padding` and crops the original size at `(top, left)` of the padded image.
pub fn pad_crop(img: &ImageU8, padding: usize, top: usize, left: usize) -> ImageU8 {
    let (h, w, c) = (img.height, img.width, img.channels);
    let mut data = vec![0u8; h * w * c];
    for y in 0..h {
        let sy = (y + top) as isize - padding as isize;
        if sy < 0 || sy >= h as isize {
            continue;
        }
        for x in 0..w {
            let sx = (x + left) as isize - padding as isize;
            if sx < 0 || sx >= w as isize {
                continue;
            }
            let (s, d) = (((sy as usize) * w + sx as usize) * c, (y * w + x) * c);
            data[d..d + c].copy_from_slice(&img.data[s..s + c]);
        }
    }
    ImageU8 {
        height: h,
        width: w,
        channels: c,
        data,
    }
}

/// The `h`x`w` window at `(top, left)`.
pub fn crop(img: &ImageU8, top: usize, left: usize, h: usize, w: usize) -> ImageU8 {
    let c = img.channels;
    let mut data = Vec::with_capacity(h * w * c);
    for y in top..top + h {
        let s = (y * img.width + left) * c;
        data.extend_from_slice(&img.data[s..s + w * c]);
    }
    ImageU8 {
        height: h,
        width: w,
        channels: c,
        data,
    }
}

/// Mirrors left-right.
pub fn hflip(img: &ImageU8) -> ImageU8 {
    let (h, w, c) = (img.height, img.width, img.channels);
    let mut data = Vec::with_capacity(h * w * c);
    for y in 0..h {
        for x in (0..w).rev() {
            let s = (y * w + x) * c;
            data.extend_from_slice(&img.data[s..s + c]);
        }
    }
    ImageU8 {
        height: h,
        width: w,
        channels: c,
        data,
    }
}

/// Bilinear resize to `h`x`w` (the `image` crate's `Triangle` filter).
pub fn resize(img: &ImageU8, h: usize, w: usize) -> Result<ImageU8> {
    if h == 0 || w == 0 {
        return Err(DatasetError::Config {
            name: "resize".into(),
            reason: format!("target size {h}x{w} is empty"),
        });
    }
    let bad = || DatasetError::Config {
        name: "resize".into(),
        reason: "image buffer does not match its size".into(),
    };
    let (iw, ih) = (img.width as u32, img.height as u32);
    let data = match img.channels {
        1 => {
            let b = image::GrayImage::from_raw(iw, ih, img.data.clone()).ok_or_else(bad)?;
            imageops::resize(&b, w as u32, h as u32, FilterType::Triangle).into_raw()
        }
        _ => {
            let b = image::RgbImage::from_raw(iw, ih, img.data.clone()).ok_or_else(bad)?;
            imageops::resize(&b, w as u32, h as u32, FilterType::Triangle).into_raw()
        }
    };
    Ok(ImageU8 {
        height: h,
        width: w,
        channels: img.channels,
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn ramp(h: usize, w: usize, c: usize) -> ImageU8 {
        let data = (0..h * w * c).map(|i| (i % 251) as u8 + 1).collect();
        ImageU8::new(h, w, c, data).unwrap()
    }

    #[test]
    fn pad_crop_shifts_and_zero_fills() {
        let img = ramp(5, 6, 1);
        let same = pad_crop(&img, 2, 2, 2);
        assert_eq!(same, img);
        let shifted = pad_crop(&img, 2, 0, 1); // down 2, right 1
        assert_eq!(shifted.at(0, 3, 0), 0);
        assert_eq!(shifted.at(2, 0, 0), 0);
        assert_eq!(shifted.at(2, 1, 0), img.at(0, 0, 0));
        assert_eq!(shifted.at(4, 5, 0), img.at(2, 4, 0));
    }

    #[test]
    fn hflip_and_crop_move_pixels() {
        let img = ramp(3, 4, 3);
        let f = hflip(&img);
        assert_eq!(f.at(1, 0, 2), img.at(1, 3, 2));
        assert_eq!(hflip(&f), img);
        let c = crop(&img, 1, 2, 2, 2);
        assert_eq!(c.at(1, 1, 1), img.at(2, 3, 1));
    }

    #[test]
    fn normalize_is_chw_and_uses_mean_std() {
        let img = ImageU8::new(1, 2, 3, vec![0, 255, 51, 255, 0, 102]).unwrap();
        let n = Normalize {
            mean: vec![0.0, 0.5, 0.2],
            std: vec![1.0, 0.5, 0.1],
        };
        let (v, shape) = normalize_chw(&img, &n);
        assert_eq!(shape, [3, 1, 2]);
        let want = [0.0, 1.0, 1.0, -1.0, 0.0, 2.0];
        for (a, b) in v.iter().zip(want) {
            assert!((a - b).abs() < 1e-6, "{v:?}");
        }
    }

    #[test]
    fn random_resized_crop_box_stays_inside_and_respects_scale() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..200 {
            let (t, l, h, w) = rrc_box(300, 400, (0.08, 1.0), (0.75, 4.0 / 3.0), &mut rng);
            assert!(t + h <= 300 && l + w <= 400 && h > 0 && w > 0);
            let frac = (h * w) as f64 / 120_000.0;
            assert!((0.07..=1.0).contains(&frac), "{frac}");
        }
        // A very thin image forces the centre-crop fallback with the ratio clamped.
        let (t, l, h, w) = rrc_box(4, 400, (0.9, 1.0), (0.75, 4.0 / 3.0), &mut rng);
        assert_eq!((t, h), (0, 4));
        assert_eq!(w, 5);
        assert_eq!(l, (400 - 5) / 2);
    }

    #[test]
    fn imagenet_train_and_eval_give_224() {
        let img = ramp(60, 90, 3);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for aug in [Augment::imagenet_train(), Augment::imagenet_eval()] {
            let t = Transform {
                augment: aug,
                normalize: Normalize::imagenet(),
            };
            let (v, shape) = t.apply(&img, &mut rng).unwrap();
            assert_eq!(shape, [3, 224, 224]);
            assert_eq!(v.len(), 3 * 224 * 224);
        }
        // Resize(256) keeps the aspect ratio: 60x90 → 256x384, crop rows 0.., cols 80..
        let r = augment(
            &Augment::ResizeCenterCrop {
                resize: 30,
                crop: 20,
            },
            &ImageU8::new(60, 90, 1, vec![7; 5400]).unwrap(),
            &mut rng,
        )
        .unwrap();
        assert_eq!((r.height, r.width), (20, 20));
        assert!(r.data.iter().all(|&p| p == 7));
    }

    #[test]
    fn channel_mismatch_is_a_config_error() {
        let t = Transform {
            augment: Augment::Identity,
            normalize: Normalize::imagenet(),
        };
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let err = t.apply(&ramp(2, 2, 1), &mut rng).unwrap_err();
        assert!(err.to_string().contains("normalize"), "{err}");
    }
}
