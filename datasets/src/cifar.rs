//! CIFAR-10 binary version (`cifar-10-binary.tar.gz` from Krizhevsky's page, unpacked):
//! `cifar-10-batches-bin/data_batch_{1..5}.bin` and `test_batch.bin`. Each record is one label
//! byte followed by 3072 pixel bytes: the 1024 red values, then green, then blue, each 32x32
//! row-major (CHW). Records are converted to HWC here.

use std::path::{Path, PathBuf};

use crate::error::{DatasetError, Result};
use crate::idx::Split;
use crate::source::InMemoryImages;

/// Bytes per CIFAR-10 record: 1 label + 3 x 32 x 32 pixels.
pub const CIFAR10_RECORD: usize = 1 + 3072;
/// The folder name inside the official archive.
pub const CIFAR10_FOLDER: &str = "cifar-10-batches-bin";

const HINT: &str = "download the CIFAR-10 binary version (cifar-10-binary.tar.gz) from \
https://www.cs.toronto.edu/~kriz/cifar.html and unpack it here; no package registry ships it, \
so the embedded default uses Fashion-MNIST instead";

/// The batch files of a split.
fn batch_files(split: Split) -> Vec<String> {
    match split {
        Split::Train => (1..=5).map(|i| format!("data_batch_{i}.bin")).collect(),
        Split::Test => vec!["test_batch.bin".to_string()],
    }
}

/// Resolves `root` to the folder holding the batch files: `root` itself or
/// `root/cifar-10-batches-bin`.
fn batches_dir(root: &Path) -> Result<PathBuf> {
    let nested = root.join(CIFAR10_FOLDER);
    if nested.is_dir() {
        Ok(nested)
    } else if root.join("test_batch.bin").is_file() || root.join("data_batch_1.bin").is_file() {
        Ok(root.to_path_buf())
    } else {
        Err(DatasetError::Missing {
            path: nested,
            what: "CIFAR-10 binary batches (data_batch_1..5.bin, test_batch.bin)".into(),
            hint: HINT.into(),
        })
    }
}

/// Appends the records of one batch file to `pixels` (HWC) and `labels`.
fn read_batch(path: &Path, pixels: &mut Vec<u8>, labels: &mut Vec<u32>) -> Result<()> {
    let bytes = std::fs::read(path).map_err(|e| DatasetError::io(path, e))?;
    if bytes.is_empty() || bytes.len() % CIFAR10_RECORD != 0 {
        return Err(DatasetError::format(
            path,
            format!(
                "{} bytes is not a whole number of {CIFAR10_RECORD}-byte CIFAR-10 records (truncated)",
                bytes.len()
            ),
        ));
    }
    for (r, rec) in bytes.chunks_exact(CIFAR10_RECORD).enumerate() {
        let label = rec[0];
        if label >= 10 {
            return Err(DatasetError::format(
                path,
                format!("record {r} has label {label}, not a class 0..9"),
            ));
        }
        labels.push(u32::from(label));
        let chw = &rec[1..];
        for p in 0..1024 {
            pixels.extend_from_slice(&[chw[p], chw[1024 + p], chw[2048 + p]]);
        }
    }
    Ok(())
}

/// Loads one split of CIFAR-10 binary from `root` (the `cifar-10-batches-bin` folder or its
/// parent): 32x32x3 HWC images, 10 classes.
pub fn load_cifar10(root: &Path, split: Split) -> Result<InMemoryImages> {
    let dir = batches_dir(root)?;
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for name in batch_files(split) {
        let path = dir.join(&name);
        if !path.is_file() {
            return Err(DatasetError::Missing {
                path,
                what: format!("CIFAR-10 batch file {name}"),
                hint: format!("the folder is incomplete; {HINT}"),
            });
        }
        read_batch(&path, &mut pixels, &mut labels)?;
    }
    InMemoryImages::new(
        32,
        32,
        3,
        10,
        pixels,
        labels,
        format!("CIFAR-10 {split:?} (binary, {})", dir.display()),
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::source::ImageSource;

    /// Writes a batch file of `n` records; record i has label `(i + offset) % 10` and pixel
    /// (channel c, row y, col x) = `(i + offset + 7c + y + x) % 256`.
    pub(crate) fn write_batch(path: &Path, n: usize, offset: usize) {
        let mut b = Vec::with_capacity(n * CIFAR10_RECORD);
        for i in 0..n {
            let k = i + offset;
            b.push((k % 10) as u8);
            for c in 0..3 {
                for y in 0..32 {
                    for x in 0..32 {
                        b.push(((k + 7 * c + y + x) % 256) as u8);
                    }
                }
            }
        }
        std::fs::write(path, b).unwrap();
    }

    pub(crate) fn write_cifar(root: &Path, per_batch: usize) -> PathBuf {
        let dir = root.join(CIFAR10_FOLDER);
        std::fs::create_dir_all(&dir).unwrap();
        for i in 1..=5 {
            write_batch(
                &dir.join(format!("data_batch_{i}.bin")),
                per_batch,
                (i - 1) * per_batch,
            );
        }
        write_batch(&dir.join("test_batch.bin"), per_batch, 1000);
        dir
    }

    #[test]
    fn reads_records_in_order_and_converts_chw_to_hwc() {
        let t = tempfile::tempdir().unwrap();
        write_cifar(t.path(), 3);
        let train = load_cifar10(t.path(), Split::Train).unwrap();
        assert_eq!(train.len(), 15);
        assert_eq!(train.label(7), 7);
        let im = train.image(7).unwrap();
        assert_eq!((im.height, im.width, im.channels), (32, 32, 3));
        for (c, y, x) in [(0, 0, 0), (1, 5, 9), (2, 31, 30)] {
            assert_eq!(im.at(y, x, c) as usize, (7 + 7 * c + y + x) % 256);
        }
        // The batch folder itself also works as the root.
        let test = load_cifar10(&t.path().join(CIFAR10_FOLDER), Split::Test).unwrap();
        assert_eq!(test.len(), 3);
        assert_eq!(test.label(0), 0);
    }

    #[test]
    fn truncated_or_missing_batch_is_an_error_naming_the_file() {
        let t = tempfile::tempdir().unwrap();
        let dir = write_cifar(t.path(), 2);
        let p = dir.join("data_batch_3.bin");
        let bytes = std::fs::read(&p).unwrap();
        std::fs::write(&p, &bytes[..bytes.len() - 100]).unwrap();
        let msg = load_cifar10(t.path(), Split::Train)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("data_batch_3.bin"), "{msg}");
        assert!(msg.contains("truncated"), "{msg}");
        std::fs::remove_file(&p).unwrap();
        let msg = load_cifar10(t.path(), Split::Train)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("data_batch_3.bin"), "{msg}");
        assert!(msg.contains("incomplete"), "{msg}");
        let msg = load_cifar10(&t.path().join("absent"), Split::Test)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("cifar-10-batches-bin"), "{msg}");
        assert!(msg.contains("cifar.html"), "{msg}");
    }

    #[test]
    fn bad_label_is_an_error() {
        let t = tempfile::tempdir().unwrap();
        let dir = write_cifar(t.path(), 2);
        let p = dir.join("test_batch.bin");
        let mut bytes = std::fs::read(&p).unwrap();
        bytes[CIFAR10_RECORD] = 200;
        std::fs::write(&p, bytes).unwrap();
        let msg = load_cifar10(t.path(), Split::Test).unwrap_err().to_string();
        assert!(msg.contains("record 1 has label 200"), "{msg}");
    }
}
