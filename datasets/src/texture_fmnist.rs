//! Texture-biased Fashion-MNIST: the embedded stand-in for ReBias's 9-class ImageNet (no
//! registry ships colour natural images). It is NOT ImageNet: nine Fashion-MNIST classes (all
//! but "Shirt") whose black background is filled with one of nine grey textures (stripes of two
//! periods in four orientations, checkerboards, dots), the texture correlated with the class as
//! ReBias's Biased-MNIST correlates colour ([`crate::bias::assign_biases`]): the class's own
//! texture for a fraction `rho` of each class, one of the eight others otherwise. A texture-only
//! network (BagNet-18, the biased `g`) can solve it from the texture; a shape network (ResNet-18,
//! `f`) is asked not to.
//!
//! It is generated once, deterministically, from the real Fashion-MNIST IDX files and written in
//! the ImageNet folder layout so the 9-class task reads it through the same loader
//! ([`crate::image_folder::ImageFolder`]):
//!
//! - `train/<class>/train_<i>.png`: training images at `train_rho`;
//! - `val/<class>/val_<i>.png`: the evaluation split at `val_rho` (lower, so that every
//!   (class, texture) cell has at least 10 images, as the unbiased accuracy needs), and
//!   `val_clusters.csv` (`path,cluster`: the texture of each val image, in the cluster-file
//!   format of [`crate::clusters`]);
//! - `a/<class>/a_<i>.png`: the stand-in for ImageNet-A, every image with another class's
//!   texture (`rho = 0`);
//! - `GENERATOR`: the generator's version and settings; a folder whose stamp matches is left
//!   alone, any other is rebuilt.
//!
//! The whole folder is written under a temporary name beside the destination and renamed into
//! place, so it is never half-written.

use std::path::Path;

use rand::Rng;

use crate::bias::assign_biases;
use crate::error::{DatasetError, Result, FETCH_HINT};
use crate::fetch::FetchOutcome;
use crate::idx::{load_idx_split, Split};
use crate::loader::derived_rng;
use crate::source::{ImageSource, InMemoryImages};

/// The Fashion-MNIST labels kept (every class but 6, "Shirt", the one most confused with
/// T-shirt, pullover and coat), in the new label order.
pub const KEPT_LABELS: [u32; 9] = [0, 1, 2, 3, 4, 5, 7, 8, 9];

/// The class folder names, in label order.
pub const CLASS_FOLDERS: [&str; 9] = [
    "t_shirt_top",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "sneaker",
    "bag",
    "ankle_boot",
];

/// How a texture-biased dataset is generated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextureSpec<'a> {
    /// Folder name under the data root.
    pub folder: &'a str,
    /// Training images per class (the first ones of the Fashion-MNIST training split).
    pub train_per_class: usize,
    /// Evaluation images per class (the first ones of the test split).
    pub val_per_class: usize,
    /// ImageNet-A stand-in images per class (the next ones of the test split).
    pub a_per_class: usize,
    /// Texture–label correlation of the training split.
    pub train_rho: f64,
    /// Texture–label correlation of the evaluation split.
    pub val_rho: f64,
    /// Seed of the texture assignment and phases.
    pub seed: u64,
}

/// The embedded default: 600 / 200 / 50 images per class, rho 0.9 for training and 0.6 for the
/// evaluation split (200 per class at 0.6 leaves exactly 10 images in every off-texture cell).
pub const TEXTURE_FMNIST: TextureSpec<'static> = TextureSpec {
    folder: "texture-fmnist",
    train_per_class: 600,
    val_per_class: 200,
    a_per_class: 50,
    train_rho: 0.9,
    val_rho: 0.6,
    seed: 2020,
};

/// Bumped whenever the images a spec produces change.
const GENERATOR_VERSION: u32 = 1;

impl TextureSpec<'_> {
    fn stamp(&self) -> String {
        format!(
            "texture-biased Fashion-MNIST, generator {GENERATOR_VERSION}\ntrain_per_class {}\n\
             val_per_class {}\na_per_class {}\ntrain_rho {}\nval_rho {}\nseed {}\n",
            self.train_per_class,
            self.val_per_class,
            self.a_per_class,
            self.train_rho,
            self.val_rho,
            self.seed
        )
    }
}

/// The texture intensity of pattern `t` at `(y, x)` (phase already added): two grey levels.
fn texture(t: u32, y: usize, x: usize) -> u8 {
    let on = match t {
        0 => (y / 2).is_multiple_of(2),
        1 => (x / 2).is_multiple_of(2),
        2 => ((x + y) / 2).is_multiple_of(2),
        3 => ((x + 64 - y % 64) / 2).is_multiple_of(2),
        4 => (y / 2 + x / 2).is_multiple_of(2),
        5 => y.is_multiple_of(4) && x.is_multiple_of(4),
        6 => (y / 4).is_multiple_of(2),
        7 => (x / 4).is_multiple_of(2),
        _ => (y / 4 + x / 4).is_multiple_of(2),
    };
    if on {
        200
    } else {
        40
    }
}

/// One grey image: the object's pixels over texture `t` (alpha = pixel / 255).
fn compose(object: &[u8], h: usize, w: usize, t: u32, phase: (usize, usize)) -> Vec<u8> {
    let mut out = Vec::with_capacity(h * w);
    for y in 0..h {
        for x in 0..w {
            let p = f32::from(object[y * w + x]);
            let a = p / 255.0;
            let bg = f32::from(texture(t, y + phase.0, x + phase.1));
            out.push((a * p + (1.0 - a) * bg).round() as u8);
        }
    }
    out
}

/// The indices of `source` of each kept class, first `skip` left out, `take` taken.
fn pick(source: &InMemoryImages, skip: usize, take: usize, what: &Path) -> Result<Vec<usize>> {
    let mut out = Vec::new();
    for (new, &old) in KEPT_LABELS.iter().enumerate() {
        let members: Vec<usize> = (0..source.len())
            .filter(|&i| source.label(i) == old)
            .skip(skip)
            .take(take)
            .collect();
        if members.len() < take {
            return Err(DatasetError::format(
                what,
                format!(
                    "class {old} ({}) has fewer than {} images",
                    CLASS_FOLDERS[new],
                    skip + take
                ),
            ));
        }
        out.extend(members);
    }
    Ok(out)
}

/// Writes one split's PNGs under `dir/<class>/`; returns each image's `(relative path, texture)`.
fn write_split(
    source: &InMemoryImages,
    indices: &[usize],
    rho: f64,
    seed: u64,
    name: &str,
    dir: &Path,
) -> Result<Vec<(String, u32)>> {
    let labels: Vec<u32> = indices
        .iter()
        .map(|&i| {
            KEPT_LABELS
                .iter()
                .position(|&l| l == source.label(i))
                .unwrap_or(0) as u32
        })
        .collect();
    let split_seed = seed
        ^ name
            .bytes()
            .fold(0u64, |h, b| h.wrapping_mul(31) + u64::from(b));
    let textures = assign_biases(&labels, 9, rho, 8, split_seed)?;
    for folder in CLASS_FOLDERS {
        let d = dir.join(folder);
        std::fs::create_dir_all(&d).map_err(|e| DatasetError::io(&d, e))?;
    }
    let (h, w) = (source.height(), source.width());
    let mut written = Vec::with_capacity(indices.len());
    for (k, (&i, &label)) in indices.iter().zip(&labels).enumerate() {
        let mut rng = derived_rng(split_seed, 0, k as u64, 0x7E47);
        let phase = (rng.random_range(0..8usize), rng.random_range(0..8usize));
        let pixels = compose(source.pixels_of(i), h, w, textures[k], phase);
        let rel = format!("{}/{name}_{k:05}.png", CLASS_FOLDERS[label as usize]);
        let path = dir.join(&rel);
        image::GrayImage::from_raw(w as u32, h as u32, pixels)
            .ok_or_else(|| DatasetError::format(&path, "image buffer size"))?
            .save_with_format(&path, image::ImageFormat::Png)
            .map_err(|e| DatasetError::io(&path, std::io::Error::other(e)))?;
        written.push((rel, textures[k]));
    }
    Ok(written)
}

/// Generates `spec` from the Fashion-MNIST IDX folder `fmnist_dir` into
/// `<data_root>/<spec.folder>` (see the module docs); does nothing when the folder's stamp
/// matches.
pub fn build_texture_dataset(
    spec: &TextureSpec<'_>,
    fmnist_dir: &Path,
    data_root: &Path,
) -> Result<FetchOutcome> {
    let dest = data_root.join(spec.folder);
    let stamp_path = dest.join("GENERATOR");
    if std::fs::read_to_string(&stamp_path).is_ok_and(|s| s == spec.stamp()) {
        return Ok(FetchOutcome::AlreadyPresent(dest));
    }
    let train = load_idx_split(fmnist_dir, Split::Train, "Fashion-MNIST").map_err(|e| match e {
        DatasetError::Missing { path, what, .. } => DatasetError::Missing {
            path,
            what,
            hint: format!(
                "texture-biased Fashion-MNIST is generated from Fashion-MNIST; {FETCH_HINT}"
            ),
        },
        other => other,
    })?;
    let test = load_idx_split(fmnist_dir, Split::Test, "Fashion-MNIST")?;
    let work = crate::fetch::build_dir(data_root, spec.folder)?;
    let out = work.path().join("out");
    let train_idx = pick(&train, 0, spec.train_per_class, fmnist_dir)?;
    write_split(
        &train,
        &train_idx,
        spec.train_rho,
        spec.seed,
        "train",
        &out.join("train"),
    )?;
    let val_idx = pick(&test, 0, spec.val_per_class, fmnist_dir)?;
    let val = write_split(
        &test,
        &val_idx,
        spec.val_rho,
        spec.seed,
        "val",
        &out.join("val"),
    )?;
    let a_idx = pick(&test, spec.val_per_class, spec.a_per_class, fmnist_dir)?;
    write_split(&test, &a_idx, 0.0, spec.seed, "a", &out.join("a"))?;
    let mut csv = String::from("path,cluster\n");
    for (rel, t) in &val {
        csv.push_str(&format!("{rel},{t}\n"));
    }
    let write = |name: &str, text: &str| {
        let p = out.join(name);
        std::fs::write(&p, text).map_err(|e| DatasetError::io(&p, e))
    };
    write("val_clusters.csv", &csv)?;
    write("GENERATOR", &spec.stamp())?;
    crate::fetch::swap_in_folder(&out, &dest, work.path())?;
    tracing::info!(dir = %dest.display(), "generated texture-biased Fashion-MNIST");
    Ok(FetchOutcome::Installed(dest))
}

/// The embedded default ([`TEXTURE_FMNIST`]) from `<data_root>/fashion-mnist`.
pub fn build_texture_fmnist(data_root: &Path) -> Result<FetchOutcome> {
    build_texture_dataset(
        &TEXTURE_FMNIST,
        &crate::fetch::fashion_mnist_dir(data_root),
        data_root,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clusters::read_cluster_labels;
    use crate::image_folder::ImageFolder;

    fn tiny() -> TextureSpec<'static> {
        TextureSpec {
            folder: "tex",
            train_per_class: 10,
            val_per_class: 18,
            a_per_class: 2,
            train_rho: 0.9,
            val_rho: 0.5,
            seed: 1,
        }
    }

    #[test]
    fn writes_the_folder_layout_with_correlated_textures_and_is_idempotent() {
        let t = tempfile::tempdir().unwrap();
        let fm = t.path().join("fm");
        crate::testdata::write_idx_dataset(&fm, 150, 200, 28, 3).unwrap();
        let root = t.path().join("data");
        let spec = tiny();
        let dest = root.join("tex");
        assert_eq!(
            build_texture_dataset(&spec, &fm, &root).unwrap(),
            FetchOutcome::Installed(dest.clone())
        );
        let folders: Vec<(&str, u32)> = CLASS_FOLDERS
            .iter()
            .enumerate()
            .map(|(i, f)| (*f, i as u32))
            .collect();
        let names: Vec<String> = CLASS_FOLDERS.iter().map(|s| s.to_string()).collect();
        let train = ImageFolder::open_mapped(&dest.join("train"), &names, &folders).unwrap();
        let val = ImageFolder::open_mapped(&dest.join("val"), &names, &folders).unwrap();
        let a = ImageFolder::open_mapped(&dest.join("a"), &names, &folders).unwrap();
        assert_eq!((train.len(), val.len(), a.len()), (90, 162, 18));
        assert_eq!(train.image(0).unwrap().channels, 3);
        let clusters = read_cluster_labels(&dest.join("val_clusters.csv"), &val).unwrap();
        // val_rho 0.5 of 18: 9 own texture per class.
        let own = (0..val.len())
            .filter(|&i| clusters.labels[0][i] == val.label(i))
            .count();
        assert_eq!(own, 81);
        // Same stamp: left alone; new settings: rebuilt in place.
        assert_eq!(
            build_texture_dataset(&spec, &fm, &root).unwrap(),
            FetchOutcome::AlreadyPresent(dest.clone())
        );
        let bigger = TextureSpec {
            train_per_class: 12,
            ..spec
        };
        build_texture_dataset(&bigger, &fm, &root).unwrap();
        let train = ImageFolder::open_mapped(&dest.join("train"), &names, &folders).unwrap();
        assert_eq!(train.len(), 108);
        assert_eq!(
            std::fs::read_dir(&root).unwrap().count(),
            1,
            "no work folder left"
        );
    }

    #[test]
    fn the_texture_fills_the_background_and_the_object_stays() {
        // A blank object shows texture 0 (horizontal stripes, two rows each) unchanged.
        let blank = compose(&[0; 16], 4, 4, 0, (0, 0));
        assert_eq!(&blank[..8], &[200; 8]);
        assert_eq!(&blank[8..], &[40; 8]);
        // A full-intensity object pixel hides the texture; the phase shifts the pattern.
        let mut obj = [0u8; 16];
        obj[5] = 255;
        let img = compose(&obj, 4, 4, 0, (2, 0));
        assert_eq!(img[5], 255);
        assert_eq!((img[0], img[8]), (40, 200));
        // The nine textures differ from each other on an 8x8 patch.
        let patches: Vec<Vec<u8>> = (0..9)
            .map(|t| (0..64).map(|p| texture(t, p / 8, p % 8)).collect())
            .collect();
        for a in 0..9 {
            for b in a + 1..9 {
                assert_ne!(patches[a], patches[b], "textures {a} and {b}");
            }
        }
    }

    #[test]
    fn missing_fashion_mnist_says_how_to_fetch_it() {
        let t = tempfile::tempdir().unwrap();
        let msg = build_texture_dataset(&tiny(), &t.path().join("none"), &t.path().join("data"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("adamp data fetch"), "{msg}");
        assert!(!t.path().join("data/tex").exists());
    }
}
