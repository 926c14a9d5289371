//! Tiny datasets written in the REAL on-disk formats, for tests, examples and smoke runs: the
//! generated files are read back through the same loaders as the real datasets (IDX, CIFAR-10
//! binary, ImageNet folder layout). Content is deterministic in the seed; classes are separable
//! (each class has its own bright stripe), so a network can actually learn from them.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

use crate::error::{DatasetError, Result};
use crate::idx::{IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC};

fn io_err(path: &Path, source: std::io::Error) -> DatasetError {
    DatasetError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Write `bytes` to `path`, gzipped when the name ends in `.gz`.
pub fn write_maybe_gz(path: &Path, bytes: &[u8]) -> Result<()> {
    let run = || -> std::io::Result<()> {
        if path.extension().is_some_and(|e| e == "gz") {
            let f = std::fs::File::create(path)?;
            let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
            gz.write_all(bytes)?;
            gz.finish()?;
            Ok(())
        } else {
            std::fs::write(path, bytes)
        }
    };
    run().map_err(|e| io_err(path, e))
}

/// Write an idx3 image file (`magic 2051, n, rows, cols`, then bytes; gzipped for `.gz`).
pub fn write_idx_images(path: &Path, rows: usize, cols: usize, images: &[Vec<u8>]) -> Result<()> {
    let mut b = IDX_IMAGES_MAGIC.to_be_bytes().to_vec();
    for d in [images.len(), rows, cols] {
        b.extend((d as u32).to_be_bytes());
    }
    for im in images {
        if im.len() != rows * cols {
            return Err(DatasetError::Config {
                name: path.display().to_string(),
                reason: format!("an image has {} bytes, expected {rows}x{cols}", im.len()),
            });
        }
        b.extend(im);
    }
    write_maybe_gz(path, &b)
}

/// Write an idx1 label file (`magic 2049, n`, then one byte per label; gzipped for `.gz`).
pub fn write_idx_labels(path: &Path, labels: &[u8]) -> Result<()> {
    let mut b = IDX_LABELS_MAGIC.to_be_bytes().to_vec();
    b.extend((labels.len() as u32).to_be_bytes());
    b.extend(labels);
    write_maybe_gz(path, &b)
}

/// A small deterministic generator (SplitMix64), so this module needs no RNG crate state.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One `h`x`w` grey image of class `label` (of 10): noise plus a bright horizontal stripe whose
/// row band depends on the class.
pub(crate) fn class_image(h: usize, w: usize, label: usize, state: &mut u64) -> Vec<u8> {
    let band = (label * h) / 10;
    let thick = (h / 10).max(1);
    (0..h * w)
        .map(|p| {
            let y = p / w;
            let noise = (splitmix(state) % 64) as u8;
            if y >= band && y < band + thick {
                190 + noise
            } else {
                noise
            }
        })
        .collect()
}

/// A Fashion-MNIST-layout folder (`train-images-idx3-ubyte.gz`, `train-labels-idx1-ubyte.gz`,
/// `t10k-…`): `n_train` / `n_test` grey `size`x`size` images, labels `i % 10`.
pub fn write_idx_dataset(
    dir: &Path,
    n_train: usize,
    n_test: usize,
    size: usize,
    seed: u64,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    let mut state = seed;
    for (prefix, n) in [("train", n_train), ("t10k", n_test)] {
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        let images: Vec<Vec<u8>> = labels
            .iter()
            .map(|&l| class_image(size, size, l as usize, &mut state))
            .collect();
        write_idx_images(
            &dir.join(format!("{prefix}-images-idx3-ubyte.gz")),
            size,
            size,
            &images,
        )?;
        write_idx_labels(&dir.join(format!("{prefix}-labels-idx1-ubyte.gz")), &labels)?;
    }
    Ok(())
}

/// A CIFAR-10 binary folder (`root/cifar-10-batches-bin/data_batch_{1..5}.bin`,
/// `test_batch.bin`; one label byte then 3072 CHW pixel bytes per record): `per_batch` 32x32 RGB
/// images in each of the five training files and the test file, labels `i % 10`. Returns the
/// `cifar-10-batches-bin` folder.
pub fn write_cifar10_binary(
    root: &Path,
    per_batch: usize,
    seed: u64,
) -> Result<std::path::PathBuf> {
    let dir = root.join(crate::cifar::CIFAR10_FOLDER);
    std::fs::create_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
    let mut state = seed;
    let files = (1..=5)
        .map(|i| format!("data_batch_{i}.bin"))
        .chain(std::iter::once("test_batch.bin".to_string()));
    for name in files {
        let mut bytes = Vec::with_capacity(per_batch * crate::cifar::CIFAR10_RECORD);
        for i in 0..per_batch {
            let label = i % 10;
            bytes.push(label as u8);
            let grey = class_image(32, 32, label, &mut state);
            // Red carries the class stripe, green its half, blue its complement.
            bytes.extend(&grey);
            bytes.extend(grey.iter().map(|v| v / 2));
            bytes.extend(grey.iter().map(|v| 255 - v));
        }
        let path = dir.join(&name);
        std::fs::write(&path, bytes).map_err(|e| io_err(&path, e))?;
    }
    Ok(dir)
}

/// An ImageNet-layout folder: `root/{train,val}/<wnid>/img_<i>.JPEG` for `classes` made-up
/// WordNet ids, `per_class` RGB images of `size`x`size` each (JPEG, as ImageNet ships).
pub fn write_image_folder(
    root: &Path,
    classes: usize,
    per_class: usize,
    size: u32,
    seed: u64,
) -> Result<()> {
    let mut state = seed;
    for split in ["train", "val"] {
        for c in 0..classes {
            let dir = root.join(split).join(format!("n{:08}", 1_440_764 + c));
            std::fs::create_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
            for i in 0..per_class {
                let grey = class_image(size as usize, size as usize, c % 10, &mut state);
                let img = image::RgbImage::from_fn(size, size, |x, y| {
                    let v = grey[(y * size + x) as usize];
                    image::Rgb([v, v / 2, 255 - v])
                });
                let path = dir.join(format!("img_{i:04}.JPEG"));
                img.save_with_format(&path, image::ImageFormat::Jpeg)
                    .map_err(|e| DatasetError::Config {
                        name: path.display().to_string(),
                        reason: format!("could not write the JPEG: {e}"),
                    })?;
            }
        }
    }
    Ok(())
}

/// Write a parquet file as the Hugging Face `datasets` library does: an `image {bytes, path}`
/// group of encoded images, an int64 `label`, snappy compression, and the `huggingface` features
/// metadata naming the classes.
pub fn write_hf_parquet(
    path: &Path,
    images: &[Vec<u8>],
    labels: &[i64],
    classes: &[&str],
) -> Result<()> {
    let bad = |e: parquet::errors::ParquetError| DatasetError::Config {
        name: path.display().to_string(),
        reason: format!("could not write parquet: {e}"),
    };
    let schema = Arc::new(
        parse_message_type(
            "message schema { optional group image { optional binary bytes; \
             optional binary path (STRING); } optional int64 label; }",
        )
        .map_err(bad)?,
    );
    let names: Vec<String> = classes.iter().map(|c| format!("\"{c}\"")).collect();
    let meta = format!(
        r#"{{"info": {{"features": {{"image": {{"_type": "Image"}}, "label": {{"names": [{}], "_type": "ClassLabel"}}}}}}}}"#,
        names.join(", ")
    );
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_key_value_metadata(Some(vec![KeyValue::new("huggingface".into(), meta)]))
            .build(),
    );
    let file = std::fs::File::create(path).map_err(|e| io_err(path, e))?;
    let mut w = SerializedFileWriter::new(file, schema, props).map_err(bad)?;
    let mut rg = w.next_row_group().map_err(bad)?;
    let n = images.len();
    let bytes: Vec<ByteArray> = images.iter().map(|b| ByteArray::from(b.clone())).collect();
    let mut col = rg.next_column().map_err(bad)?.ok_or_else(|| {
        bad(parquet::errors::ParquetError::General(
            "no image.bytes column".into(),
        ))
    })?;
    col.typed::<ByteArrayType>()
        .write_batch(&bytes, Some(&vec![2; n]), None)
        .map_err(bad)?;
    col.close().map_err(bad)?;
    let mut col = rg.next_column().map_err(bad)?.ok_or_else(|| {
        bad(parquet::errors::ParquetError::General(
            "no image.path column".into(),
        ))
    })?;
    col.typed::<ByteArrayType>()
        .write_batch(&[], Some(&vec![1; n]), None)
        .map_err(bad)?;
    col.close().map_err(bad)?;
    let mut col = rg.next_column().map_err(bad)?.ok_or_else(|| {
        bad(parquet::errors::ParquetError::General(
            "no label column".into(),
        ))
    })?;
    col.typed::<Int64Type>()
        .write_batch(labels, Some(&vec![1; n]), None)
        .map_err(bad)?;
    col.close().map_err(bad)?;
    rg.close().map_err(bad)?;
    w.close().map_err(bad)?;
    Ok(())
}

/// A dataset in the Hugging Face hub cache layout under `cache`
/// (`datasets--<org>--<name>/refs/main`, `snapshots/<commit>/data/{train,validation}-00000-of-00001.parquet`):
/// `classes` classes of `per_class` PNG images of `size`x`size` per split.
pub fn write_hf_cache_dataset(
    cache: &Path,
    repo: &str,
    classes: usize,
    per_class: usize,
    size: u32,
    seed: u64,
) -> Result<()> {
    let commit = "0123456789abcdef0123456789abcdef01234567";
    let dir = cache.join(format!("datasets--{}", repo.replace('/', "--")));
    let data = dir.join("snapshots").join(commit).join("data");
    std::fs::create_dir_all(&data).map_err(|e| io_err(&data, e))?;
    std::fs::create_dir_all(dir.join("refs")).map_err(|e| io_err(&dir, e))?;
    std::fs::write(dir.join("refs/main"), commit).map_err(|e| io_err(&dir, e))?;
    let names: Vec<String> = (0..classes).map(|c| format!("class_{c}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut state = seed;
    for split in ["train", "validation"] {
        let mut images = Vec::new();
        let mut labels = Vec::new();
        for i in 0..classes * per_class {
            let c = i % classes;
            let grey = class_image(size as usize, size as usize, c % 10, &mut state);
            let img = image::RgbImage::from_fn(size, size, |x, y| {
                let v = grey[(y * size + x) as usize];
                image::Rgb([v, v / 2, 255 - v])
            });
            let mut png = std::io::Cursor::new(Vec::new());
            img.write_to(&mut png, image::ImageFormat::Png)
                .map_err(|e| DatasetError::Config {
                    name: split.to_string(),
                    reason: format!("could not encode a PNG: {e}"),
                })?;
            images.push(png.into_inner());
            labels.push(c as i64);
        }
        write_hf_parquet(
            &data.join(format!("{split}-00000-of-00001.parquet")),
            &images,
            &labels,
            &names,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{open_classification, DatasetKind};
    use crate::source::ImageSource;

    #[test]
    fn generated_idx_and_folder_data_read_back_through_the_real_loaders() {
        let t = tempfile::tempdir().unwrap();
        write_idx_dataset(&t.path().join("fm"), 30, 20, 28, 7).unwrap();
        let d = open_classification(DatasetKind::FashionMnist, &t.path().join("fm")).unwrap();
        assert_eq!((d.train.len(), d.test.len()), (30, 20));
        assert_eq!(d.train.label(13), 3);
        let im = d.train.image(13).unwrap();
        assert_eq!((im.height, im.width, im.channels), (28, 28, 1));
        // Class 3's stripe is rows 8..10: bright; row 0 is noise only.
        assert!(im.at(8, 5, 0) >= 190 && im.at(0, 5, 0) < 64);

        write_image_folder(&t.path().join("in"), 3, 2, 40, 1).unwrap();
        let d = open_classification(DatasetKind::ImageNet, &t.path().join("in")).unwrap();
        assert_eq!((d.train.len(), d.num_classes()), (6, 3));
        assert_eq!(d.test.image(0).unwrap().channels, 3);

        write_hf_cache_dataset(&t.path().join("hub"), "org/tiny", 3, 2, 16, 1).unwrap();
        let cols = crate::hf_parquet::HfColumns::default();
        let hf = crate::hf_parquet::HfParquetImages::from_cache(
            &t.path().join("hub"),
            "org/tiny",
            "main",
            "validation",
            &cols,
        )
        .unwrap();
        assert_eq!((hf.len(), hf.num_classes()), (6, 3));
        assert_eq!(hf.class_names(), ["class_0", "class_1", "class_2"]);
        assert_eq!(hf.image(4).unwrap().width, 16);
    }
}
