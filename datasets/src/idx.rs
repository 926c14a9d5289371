//! IDX files (MNIST and Fashion-MNIST), plain `*-ubyte` or gzipped `*-ubyte.gz`.
//!
//! Format (LeCun's MNIST page; Zalando's Fashion-MNIST uses it unchanged): a big-endian `u32`
//! magic `0x0000_08NN` where `08` is the `u8` type and `NN` the number of dimensions (2051 for
//! idx3 images, 2049 for idx1 labels), then one big-endian `u32` per dimension, then the data.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{DatasetError, Result, FETCH_HINT};
use crate::source::InMemoryImages;

/// Magic number of an IDX file of `u8` images (3 dimensions: count, rows, cols).
pub const IDX_IMAGES_MAGIC: u32 = 2051;
/// Magic number of an IDX file of `u8` labels (1 dimension: count).
pub const IDX_LABELS_MAGIC: u32 = 2049;

/// Which split of an MNIST-layout folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// `train-*` files (60,000 samples in MNIST and Fashion-MNIST).
    Train,
    /// `t10k-*` files (10,000 samples).
    Test,
}

impl Split {
    fn prefix(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "t10k",
        }
    }
}

/// Reads a whole file, gunzipping when it starts with the gzip magic (so `.gz` and plain files
/// both work whatever their name).
pub(crate) fn read_maybe_gz(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).map_err(|e| DatasetError::io(path, e))?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(raw.len() * 4);
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| DatasetError::format(path, format!("gzip stream is damaged: {e}")))?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Parses an IDX header with the expected magic, returning the dimensions and the data bytes,
/// checking that the data length equals the product of the dimensions.
fn parse_idx<'a>(path: &Path, bytes: &'a [u8], magic: u32) -> Result<(Vec<usize>, &'a [u8])> {
    let ndims = (magic & 0xff) as usize;
    let header = 4 + 4 * ndims;
    let be = |o: usize| u32::from_be_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]);
    if bytes.len() >= 4 && be(0) != magic {
        return Err(DatasetError::format(
            path,
            format!("IDX magic number is {}, expected {magic}", be(0)),
        ));
    }
    if bytes.len() < header {
        return Err(DatasetError::format(
            path,
            format!(
                "{} bytes is shorter than the IDX header ({header} bytes)",
                bytes.len()
            ),
        ));
    }
    let dims: Vec<usize> = (0..ndims).map(|d| be(4 + 4 * d) as usize).collect();
    let expected: usize = dims.iter().product();
    let data = &bytes[header..];
    if data.len() != expected {
        return Err(DatasetError::format(
            path,
            format!(
                "IDX header says {dims:?} = {expected} bytes of data, the file holds {} (truncated or padded)",
                data.len()
            ),
        ));
    }
    Ok((dims, data))
}

/// Reads an idx3 image file: `(count, rows, cols, pixels)` with pixels row-major.
pub fn read_idx_images(path: &Path) -> Result<(usize, usize, usize, Vec<u8>)> {
    let bytes = read_maybe_gz(path)?;
    let (dims, data) = parse_idx(path, &bytes, IDX_IMAGES_MAGIC)?;
    if dims[1] == 0 || dims[2] == 0 {
        return Err(DatasetError::format(
            path,
            format!(
                "IDX header says images of {} x {} pixels; an image needs at least 1 x 1",
                dims[1], dims[2]
            ),
        ));
    }
    Ok((dims[0], dims[1], dims[2], data.to_vec()))
}

/// Reads an idx1 label file.
pub fn read_idx_labels(path: &Path) -> Result<Vec<u8>> {
    let bytes = read_maybe_gz(path)?;
    let (_, data) = parse_idx(path, &bytes, IDX_LABELS_MAGIC)?;
    Ok(data.to_vec())
}

/// The file `<dir>/<stem>.gz` if present, else `<dir>/<stem>`; a `Missing` error naming both.
fn find_idx_file(dir: &Path, stem: &str) -> Result<PathBuf> {
    let gz = dir.join(format!("{stem}.gz"));
    let plain = dir.join(stem);
    if gz.is_file() {
        Ok(gz)
    } else if plain.is_file() {
        Ok(plain)
    } else {
        Err(DatasetError::Missing {
            path: gz,
            what: format!("IDX file {stem}.gz or {stem}"),
            hint: if dir.is_dir() {
                format!("the folder is incomplete: it needs train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (.gz or plain); {FETCH_HINT}")
            } else {
                format!(
                    "the dataset folder {} does not exist; {FETCH_HINT}",
                    dir.display()
                )
            },
        })
    }
}

/// Loads one split of an MNIST-layout folder (MNIST, Fashion-MNIST): the files
/// `{train,t10k}-images-idx3-ubyte[.gz]` and `{train,t10k}-labels-idx1-ubyte[.gz]`, 10 classes.
/// Images are 1-channel HWC.
pub fn load_idx_split(dir: &Path, split: Split, name: &str) -> Result<InMemoryImages> {
    let images_path = find_idx_file(dir, &format!("{}-images-idx3-ubyte", split.prefix()))?;
    let labels_path = find_idx_file(dir, &format!("{}-labels-idx1-ubyte", split.prefix()))?;
    let (count, rows, cols, pixels) = read_idx_images(&images_path)?;
    let labels = read_idx_labels(&labels_path)?;
    if labels.len() != count {
        return Err(DatasetError::format(
            &labels_path,
            format!(
                "{} labels but {} holds {count} images",
                labels.len(),
                images_path.display()
            ),
        ));
    }
    if let Some(pos) = labels.iter().position(|&l| l >= 10) {
        return Err(DatasetError::format(
            &labels_path,
            format!("label {} at index {pos} is not a class 0..9", labels[pos]),
        ));
    }
    tracing::debug!(dir = %dir.display(), ?split, count, rows, cols, "loaded IDX split");
    InMemoryImages::new(
        rows,
        cols,
        1,
        10,
        pixels,
        labels.into_iter().map(u32::from).collect(),
        format!("{name} {split:?} (IDX, {})", dir.display()),
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Writes an idx3 image file (gzipped when the name ends in `.gz`).
    pub(crate) fn write_idx_images(path: &Path, rows: usize, cols: usize, images: &[Vec<u8>]) {
        crate::testdata::write_idx_images(path, rows, cols, images).unwrap();
    }

    /// Writes an idx1 label file (gzipped when the name ends in `.gz`).
    pub(crate) fn write_idx_labels(path: &Path, labels: &[u8]) {
        crate::testdata::write_idx_labels(path, labels).unwrap();
    }

    /// A tiny MNIST-layout folder: `n` train and `n` test images of 4x3 whose pixel values
    /// encode (index, row, col), labels `i % 10`.
    pub(crate) fn write_mnist_folder(dir: &Path, n: usize, gz: bool) {
        let ext = if gz { ".gz" } else { "" };
        for prefix in ["train", "t10k"] {
            let images: Vec<Vec<u8>> = (0..n)
                .map(|i| (0..12).map(|p| (i * 12 + p) as u8).collect())
                .collect();
            let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
            write_idx_images(
                &dir.join(format!("{prefix}-images-idx3-ubyte{ext}")),
                4,
                3,
                &images,
            );
            write_idx_labels(
                &dir.join(format!("{prefix}-labels-idx1-ubyte{ext}")),
                &labels,
            );
        }
    }

    #[test]
    fn reads_gz_and_plain_idx_identically() {
        use crate::source::ImageSource;
        let t = tempfile::tempdir().unwrap();
        let (a, b) = (t.path().join("a"), t.path().join("b"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        write_mnist_folder(&a, 13, true);
        write_mnist_folder(&b, 13, false);
        let da = load_idx_split(&a, Split::Train, "MNIST").unwrap();
        let db = load_idx_split(&b, Split::Train, "MNIST").unwrap();
        assert_eq!(da.len(), 13);
        assert_eq!((da.height(), da.width(), da.channels()), (4, 3, 1));
        assert_eq!(da.labels(), db.labels());
        assert_eq!(da.label(12), 2);
        let im = da.image(5).unwrap();
        // Row 2, col 1 of image 5 holds 5*12 + 2*3 + 1.
        assert_eq!(im.at(2, 1, 0), (5 * 12 + 7) as u8);
        assert_eq!(im, db.image(5).unwrap());
    }

    #[test]
    fn wrong_magic_is_an_error_naming_the_file() {
        let t = tempfile::tempdir().unwrap();
        write_mnist_folder(t.path(), 4, true);
        // A label file where an image file belongs.
        let p = t.path().join("train-images-idx3-ubyte.gz");
        write_idx_labels(&p, &[1, 2, 3, 4]);
        let err = load_idx_split(t.path(), Split::Train, "MNIST").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("train-images-idx3-ubyte.gz"), "{msg}");
        assert!(msg.contains("magic number is 2049, expected 2051"), "{msg}");
    }

    #[test]
    fn zero_sized_images_are_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("train-images-idx3-ubyte");
        write_idx_images(&path, 0, 28, &[Vec::new(), Vec::new()]);
        let err = read_idx_images(&path).unwrap_err().to_string();
        assert!(err.contains("train-images-idx3-ubyte"), "{err}");
        assert!(err.contains("0 x 28"), "{err}");
    }

    #[test]
    fn truncated_idx_is_an_error_naming_the_file() {
        let t = tempfile::tempdir().unwrap();
        write_mnist_folder(t.path(), 4, false);
        let p = t.path().join("t10k-images-idx3-ubyte");
        let bytes = std::fs::read(&p).unwrap();
        std::fs::write(&p, &bytes[..bytes.len() - 5]).unwrap();
        let msg = load_idx_split(t.path(), Split::Test, "MNIST")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("t10k-images-idx3-ubyte"), "{msg}");
        assert!(msg.contains("truncated"), "{msg}");
        // A header cut short.
        std::fs::write(&p, &bytes[..7]).unwrap();
        let msg = load_idx_split(t.path(), Split::Test, "MNIST")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("shorter than the IDX header"), "{msg}");
    }

    #[test]
    fn truncated_gzip_is_an_error_naming_the_file() {
        let t = tempfile::tempdir().unwrap();
        write_mnist_folder(t.path(), 40, true);
        let p = t.path().join("train-images-idx3-ubyte.gz");
        let bytes = std::fs::read(&p).unwrap();
        std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
        let msg = load_idx_split(t.path(), Split::Train, "MNIST")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("train-images-idx3-ubyte.gz"), "{msg}");
        assert!(msg.contains("gzip"), "{msg}");
    }

    #[test]
    fn missing_or_partial_folder_says_what_to_do() {
        let t = tempfile::tempdir().unwrap();
        let absent = t.path().join("nowhere");
        let msg = load_idx_split(&absent, Split::Train, "MNIST")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("does not exist"), "{msg}");
        assert!(msg.contains("adamp data fetch"), "{msg}");
        write_mnist_folder(t.path(), 3, true);
        std::fs::remove_file(t.path().join("t10k-labels-idx1-ubyte.gz")).unwrap();
        let msg = load_idx_split(t.path(), Split::Test, "MNIST")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("t10k-labels-idx1-ubyte"), "{msg}");
        assert!(msg.contains("incomplete"), "{msg}");
    }

    #[test]
    fn label_count_mismatch_and_bad_label_are_errors() {
        let t = tempfile::tempdir().unwrap();
        write_mnist_folder(t.path(), 5, true);
        let p = t.path().join("train-labels-idx1-ubyte.gz");
        write_idx_labels(&p, &[0, 1, 2]);
        let msg = load_idx_split(t.path(), Split::Train, "MNIST")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("3 labels but"), "{msg}");
        write_idx_labels(&p, &[0, 1, 2, 3, 17]);
        let msg = load_idx_split(t.path(), Split::Train, "MNIST")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("label 17 at index 4"), "{msg}");
    }
}
