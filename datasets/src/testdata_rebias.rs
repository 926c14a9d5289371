//! Tiny ReBias datasets in the REAL on-disk layouts, for tests and smoke runs of the paper-scale
//! configs: the 9-class ImageNet folder layout (the 42 WordNet-id folders of `train/` and `val/`,
//! a cluster-label CSV, an ImageNet-A folder with some of the ids) and an MNIST-layout IDX
//! folder of digit-like images on a black background (what Biased-MNIST colours). Content is
//! deterministic in the seed and separable by class.

use std::path::Path;

use crate::error::{DatasetError, Result};
use crate::imagenet9::WNIDS;
use crate::testdata::{class_image, write_idx_images, write_idx_labels};

fn io_err(path: &Path, source: std::io::Error) -> DatasetError {
    DatasetError::io(path, source)
}

/// `root/{train,val}/<wnid>/img_<i>.JPEG` for all 42 ids (`per_class` RGB `size`x`size` images
/// each), `root/clusters.csv` (the reference's format: `path,category,cluster1,cluster2,cluster3`,
/// clusters `i % 3`, `(i + c) % 4`, `0`) for `val`, and `root/imagenet-a/<wnid>/` for every
/// third id.
pub fn write_imagenet9_layout(root: &Path, per_class: usize, size: u32) -> Result<()> {
    let mut state = 9u64;
    let mut csv = String::from("path,category,cluster1,cluster2,cluster3\n");
    for (split, every) in [("train", 1), ("val", 1), ("imagenet-a", 3)] {
        for (k, (wnid, label)) in WNIDS.iter().enumerate() {
            if k % every != 0 {
                continue;
            }
            let dir = root.join(split).join(wnid);
            std::fs::create_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
            for i in 0..per_class {
                let grey = class_image(size as usize, size as usize, *label as usize, &mut state);
                let img = image::RgbImage::from_fn(size, size, |x, y| {
                    let v = grey[(y * size + x) as usize];
                    image::Rgb([v, 255 - v, v / 2])
                });
                let name = format!("img_{i:03}.JPEG");
                let path = dir.join(&name);
                img.save_with_format(&path, image::ImageFormat::Jpeg)
                    .map_err(|e| io_err(&path, std::io::Error::other(e)))?;
                if split == "val" {
                    let c = *label as usize;
                    csv.push_str(&format!("{wnid}/{name},x,{},{},0\n", i % 3, (i + c) % 4));
                }
            }
        }
    }
    let path = root.join("clusters.csv");
    std::fs::write(&path, csv).map_err(|e| io_err(&path, e))
}

/// An MNIST-layout IDX folder (`{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz`) of 28 x 28
/// "digits": black background (0, which Biased-MNIST colours), a bright stroke whose row and
/// length depend on the class (labels `i % 10`), shifted by up to 3 pixels per image.
pub fn write_digit_idx(dir: &Path, n_train: usize, n_test: usize, seed: u64) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    let mut state = seed;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize
    };
    for (prefix, n) in [("train", n_train), ("t10k", n_test)] {
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        let images: Vec<Vec<u8>> = labels
            .iter()
            .map(|&l| {
                let (dy, dx) = (next() % 4, next() % 4);
                let mut img = vec![0u8; 28 * 28];
                let row = 4 + 2 * l as usize + dy;
                for x in 4 + dx..(10 + 1 + l as usize + dx).min(28) {
                    img[row * 28 + x] = 200 + (next() % 56) as u8;
                    img[(row + 1) * 28 + x] = 120;
                }
                img
            })
            .collect();
        write_idx_images(
            &dir.join(format!("{prefix}-images-idx3-ubyte.gz")),
            28,
            28,
            &images,
        )?;
        write_idx_labels(&dir.join(format!("{prefix}-labels-idx1-ubyte.gz")), &labels)?;
    }
    Ok(())
}
