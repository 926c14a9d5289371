//! The CUB-like embedded stand-in (issue 15, shared/data.md): Fashion-MNIST written in the
//! CUB-200-2011 layout ([`super::cub`]) so the retrieval task reads it through the same reader.
//! It is NOT CUB: ten clothing classes of 28 x 28 grey images.
//!
//! Class `k` of Fashion-MNIST (0-9) is CUB class id `k + 1`, so the reader's class split gives
//! classes 0-4 (T-shirt/top, Trouser, Pullover, Dress, Coat) to training and 5-9 (Sandal, Shirt,
//! Sneaker, Bag, Ankle boot) to evaluation. Each class holds its first `per_class` images of the
//! Fashion-MNIST training split in file order (300 by default: 1,500 train / 1,500 eval images),
//! written as grey PNGs `images/<id>.<Name>/<Name>_<i>.png` with `images.txt`,
//! `image_class_labels.txt`, `classes.txt`, `train_test_split.txt` (1 for the training classes)
//! and a `GENERATOR` stamp; a folder whose stamp matches and whose listed images are all
//! present is left alone. The folder is written
//! under a temporary name beside the destination and renamed into place.

use std::path::{Path, PathBuf};

use crate::error::{DatasetError, Result, FETCH_HINT};
use crate::fetch::{fashion_mnist_dir, FetchOutcome, FASHION_MNIST};
use crate::idx::{load_idx_split, Split};
use crate::source::ImageSource;

/// A Fashion-MNIST class name ([`crate::catalog::FASHION_MNIST_CLASSES`]) as a CUB folder name:
/// `T-shirt/top` becomes `T-shirt_top`, `Ankle boot` `Ankle_boot`.
fn cub_folder_name(name: &str) -> String {
    name.replace(['/', ' '], "_")
}

/// How the stand-in is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FmnistCubSpec<'a> {
    /// Folder name under the data root.
    pub folder: &'a str,
    /// Images per class (the first ones of the training split).
    pub per_class: usize,
}

/// The embedded default: 300 images per class.
pub const FMNIST_CUB: FmnistCubSpec<'static> = FmnistCubSpec {
    folder: "fmnist-cub",
    per_class: 300,
};

/// Bumped whenever the files a spec produces change.
const GENERATOR_VERSION: u32 = 1;

impl FmnistCubSpec<'_> {
    fn stamp(&self) -> String {
        format!(
            "Fashion-MNIST in the CUB-200-2011 layout, generator {GENERATOR_VERSION}\n\
             source {} {}\nper_class {}\n",
            FASHION_MNIST.package, FASHION_MNIST.version, self.per_class
        )
    }
}

/// `<data_root>/fmnist-cub`, where [`build_fmnist_cub`] writes.
pub fn fmnist_cub_dir(data_root: &Path) -> PathBuf {
    data_root.join(FMNIST_CUB.folder)
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| DatasetError::io(path, e))
}

/// Builds `spec` from the Fashion-MNIST IDX folder `fmnist_dir` into `<data_root>/<folder>`
/// (see the module docs); does nothing when the folder's stamp matches.
pub fn build_fmnist_cub_from(
    spec: &FmnistCubSpec<'_>,
    fmnist_dir: &Path,
    data_root: &Path,
) -> Result<FetchOutcome> {
    let dest = data_root.join(spec.folder);
    if std::fs::read_to_string(dest.join("GENERATOR")).is_ok_and(|s| s == spec.stamp())
        && super::cub::open_cub(&dest).is_ok()
    {
        return Ok(FetchOutcome::AlreadyPresent(dest));
    }
    let train = load_idx_split(fmnist_dir, Split::Train, "Fashion-MNIST").map_err(|e| match e {
        DatasetError::Missing { path, what, .. } => DatasetError::Missing {
            path,
            what,
            hint: format!("the CUB-layout stand-in is built from Fashion-MNIST; {FETCH_HINT}"),
        },
        other => other,
    })?;
    let work = crate::fetch::build_dir(data_root, spec.folder)?;
    let out = work.path().join("out");
    let (mut images, mut labels, mut classes, mut split) =
        (String::new(), String::new(), String::new(), String::new());
    let (h, w) = (train.height() as u32, train.width() as u32);
    let mut id = 0;
    for (k, full_name) in crate::catalog::FASHION_MNIST_CLASSES.iter().enumerate() {
        let name = cub_folder_name(full_name);
        let class_id = k + 1;
        let folder = format!("{class_id:03}.{name}");
        classes.push_str(&format!("{class_id} {folder}\n"));
        let dir = out.join("images").join(&folder);
        std::fs::create_dir_all(&dir).map_err(|e| DatasetError::io(&dir, e))?;
        let members: Vec<usize> = (0..train.len())
            .filter(|&i| train.label(i) as usize == k)
            .take(spec.per_class)
            .collect();
        if members.len() < spec.per_class {
            return Err(DatasetError::format(
                fmnist_dir,
                format!(
                    "class {k} ({name}) has fewer than {} training images",
                    spec.per_class
                ),
            ));
        }
        for (n, &i) in members.iter().enumerate() {
            id += 1;
            let rel = format!("{folder}/{name}_{n:04}.png");
            let path = out.join("images").join(&rel);
            image::GrayImage::from_raw(w, h, train.pixels_of(i).to_vec())
                .ok_or_else(|| DatasetError::format(&path, "image buffer size"))?
                .save_with_format(&path, image::ImageFormat::Png)
                .map_err(|e| DatasetError::io(&path, std::io::Error::other(e)))?;
            images.push_str(&format!("{id} {rel}\n"));
            labels.push_str(&format!("{id} {class_id}\n"));
            split.push_str(&format!("{id} {}\n", u8::from(k < 5)));
        }
    }
    write(&out.join("images.txt"), &images)?;
    write(&out.join("image_class_labels.txt"), &labels)?;
    write(&out.join("classes.txt"), &classes)?;
    write(&out.join("train_test_split.txt"), &split)?;
    write(&out.join("GENERATOR"), &spec.stamp())?;
    crate::fetch::swap_in_folder(&out, &dest, work.path())?;
    tracing::info!(dir = %dest.display(), "wrote Fashion-MNIST in the CUB layout");
    Ok(FetchOutcome::Installed(dest))
}

/// The embedded default ([`FMNIST_CUB`]) from `<data_root>/fashion-mnist`, fetching
/// Fashion-MNIST first when it is not installed ([`crate::fetch::fetch_fashion_mnist`]).
pub fn install_fmnist_cub(data_root: &Path) -> Result<FetchOutcome> {
    let fm = fashion_mnist_dir(data_root);
    if !crate::fetch::is_installed(&FASHION_MNIST, &fm) {
        crate::fetch::fetch_fashion_mnist(data_root)?;
    }
    build_fmnist_cub_from(&FMNIST_CUB, &fm, data_root)
}

/// As [`install_fmnist_cub`]; returns the folder (`<data_root>/fmnist-cub`).
pub fn build_fmnist_cub(data_root: &Path) -> Result<PathBuf> {
    Ok(match install_fmnist_cub(data_root)? {
        FetchOutcome::AlreadyPresent(d) | FetchOutcome::Installed(d) => d,
    })
}
