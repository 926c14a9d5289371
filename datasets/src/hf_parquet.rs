//! Hugging Face hub datasets stored as parquet (image bytes + label columns): downloaded through
//! the `hf-hub` crate into the hub cache ([`HfParquetImages::from_hub`]), or read from a cache
//! filled elsewhere ([`HfParquetImages::from_cache`]).
//!
//! Cache layout (huggingface_hub's "Manage the cache" guide, also what the `hf-hub` crate
//! writes): `<cache>/datasets--<org>--<name>/refs/<revision>` holds a commit hash and
//! `<cache>/datasets--<org>--<name>/snapshots/<commit>/` the repository's files. The cache is
//! `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`.
//!
//! Parquet layout (what the `datasets` library writes): an image column that is a struct
//! `{bytes: binary, path: string}` (or plain binary) of encoded PNG/JPEG, an integer label
//! column, and the `datasets` feature description (with the class names) as JSON under the
//! `huggingface` key of the file's key-value metadata. The split's files are the `*.parquet`
//! files named `<split>-*` or `<split>.parquet`, or inside a folder named `<split>`
//! ([`is_split_file`]).
//!
//! Through the hub, only the split's files are downloaded; with `HF_HUB_OFFLINE=1` nothing is
//! requested and the cached snapshot is used (a dataset not in the cache is an error saying how
//! to download it). Encoded image bytes are held in memory (the CIFAR / MNIST-sized datasets on
//! the hub); decoding happens per sample in the loader's workers. Codecs: uncompressed and
//! snappy (the `datasets` default).

use std::path::{Path, PathBuf};

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;

use crate::error::{DatasetError, Result};
use crate::source::{ImageSource, ImageU8};

/// The hub cache folder, as `hf-hub` resolves it ([`adamp_hub::default_cache_dir`]):
/// `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`.
pub fn hub_cache_dir() -> PathBuf {
    adamp_hub::default_cache_dir()
}

/// Resolves `repo` (`org/name`) at `revision` (a branch or tag name, or a 40-hex commit) to its
/// snapshot folder in `cache`.
pub fn snapshot_dir(cache: &Path, repo: &str, revision: &str) -> Result<PathBuf> {
    let repo_dir = cache.join(format!("datasets--{}", repo.replace('/', "--")));
    let hint = format!(
        "the dataset is not in the Hugging Face cache; on a machine with internet run \
         `hf download --repo-type dataset {repo} --revision {revision}` (or `huggingface-cli \
         download`), then copy the cache folder here or point HF_HUB_CACHE / HF_HOME at it"
    );
    if !repo_dir.is_dir() {
        return Err(DatasetError::Missing {
            path: repo_dir,
            what: format!("hub cache folder of dataset {repo}"),
            hint,
        });
    }
    let is_commit = revision.len() == 40 && revision.chars().all(|c| c.is_ascii_hexdigit());
    let commit = if is_commit {
        revision.to_string()
    } else {
        let r = repo_dir.join("refs").join(revision);
        std::fs::read_to_string(&r)
            .map_err(|_| DatasetError::Missing {
                path: r.clone(),
                what: format!("revision `{revision}` of {repo}"),
                hint: hint.clone(),
            })?
            .trim()
            .to_string()
    };
    let snap = repo_dir.join("snapshots").join(&commit);
    if !snap.is_dir() {
        return Err(DatasetError::Missing {
            path: snap,
            what: format!("snapshot {commit} of {repo}"),
            hint,
        });
    }
    Ok(snap)
}

/// Whether the repository file `path` (`/`-separated, relative to the repository root) is a
/// parquet file of `split`: `<split>-*.parquet`, `<split>.parquet`, or any `*.parquet` inside a
/// folder named `<split>`.
pub fn is_split_file(path: &str, split: &str) -> bool {
    let mut parts: Vec<&str> = path.split('/').collect();
    let name = parts.pop().unwrap_or_default();
    name.ends_with(".parquet")
        && (parts.last() == Some(&split)
            || name.starts_with(&format!("{split}-"))
            || name == format!("{split}.parquet"))
}

/// The split's parquet files under `snapshot`, sorted.
pub fn split_files(snapshot: &Path, split: &str) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut stack = vec![snapshot.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).map_err(|e| DatasetError::io(&dir, e))? {
            let p = e.map_err(|e| DatasetError::io(&dir, e))?.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            let parent = p
                .parent()
                .and_then(|d| d.file_name())
                .map(|d| d.to_string_lossy().into_owned())
                .unwrap_or_default();
            if is_split_file(&format!("{parent}/{name}"), split) {
                found.push(p);
            }
        }
    }
    found.sort();
    if found.is_empty() {
        return Err(DatasetError::Missing {
            path: snapshot.to_path_buf(),
            what: format!(
                "parquet files of split `{split}` ({split}-*.parquet or {split}/*.parquet)"
            ),
            hint: "check the split name, or download the repository's parquet files (for datasets \
                   stored in another format, the revision `refs/convert/parquet`)"
                .into(),
        });
    }
    Ok(found)
}

/// `(index, count)` of a shard named as the `datasets` library names them,
/// `<prefix>-<index>-of-<count>.parquet` (`train-00003-of-00257.parquet`).
fn shard_of(path: &Path) -> Option<(usize, usize)> {
    let stem = path.file_name()?.to_str()?.strip_suffix(".parquet")?;
    let (head, count) = stem.rsplit_once("-of-")?;
    let (_, index) = head.rsplit_once('-')?;
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !(all_digits(index) && all_digits(count)) {
        return None;
    }
    Some((index.parse().ok()?, count.parse().ok()?))
}

/// A split read from a cache must be whole: where its files are numbered shards
/// (`<split>-00000-of-00004.parquet`), every index below the count must be there, in each folder.
/// A download that was interrupted, or a cache copied in part, is an error naming the first
/// missing shard, not a silently smaller dataset.
pub fn check_shards(files: &[PathBuf]) -> Result<()> {
    use std::collections::BTreeMap;
    let mut groups: BTreeMap<(PathBuf, usize), Vec<usize>> = BTreeMap::new();
    for f in files {
        if let Some((index, count)) = shard_of(f) {
            let dir = f.parent().map(Path::to_path_buf).unwrap_or_default();
            groups.entry((dir, count)).or_default().push(index);
        }
    }
    for ((dir, count), mut seen) in groups {
        seen.sort_unstable();
        seen.dedup();
        if let Some(missing) = (0..count).find(|i| seen.binary_search(i).is_err()) {
            let example = files
                .iter()
                .find(|f| f.parent() == Some(dir.as_path()) && shard_of(f).is_some())
                .and_then(|f| f.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            return Err(DatasetError::Missing {
                path: dir,
                what: format!(
                    "shard {missing} of {count} (have {} of them, e.g. {example})",
                    seen.len()
                ),
                hint: "the split is incomplete in the cache (an interrupted download or a partial \
                       copy): download it again with network access (unset HF_HUB_OFFLINE) or \
                       copy the whole snapshot"
                    .into(),
            });
        }
    }
    Ok(())
}

/// Which columns hold the image and the label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HfColumns {
    /// The image column (`image` in most datasets, `img` in `uoft-cs/cifar10`).
    pub image: String,
    /// The label column (`label`).
    pub label: String,
}

impl Default for HfColumns {
    fn default() -> Self {
        Self {
            image: "image".into(),
            label: "label".into(),
        }
    }
}

/// A split of a hub parquet dataset: encoded image bytes and labels in memory.
#[derive(Debug, Clone)]
pub struct HfParquetImages {
    files: Vec<PathBuf>,
    /// `(file index, row within file, encoded bytes)` per sample.
    images: Vec<(usize, usize, Vec<u8>)>,
    labels: Vec<u32>,
    class_names: Vec<String>,
}

fn field_label(f: &Field) -> Option<i64> {
    Some(match *f {
        Field::Byte(v) => v.into(),
        Field::Short(v) => v.into(),
        Field::Int(v) => v.into(),
        Field::Long(v) => v,
        Field::UByte(v) => v.into(),
        Field::UShort(v) => v.into(),
        Field::UInt(v) => v.into(),
        Field::ULong(v) => i64::try_from(v).ok()?,
        _ => return None,
    })
}

fn field_bytes(f: &Field) -> Option<Vec<u8>> {
    match f {
        Field::Bytes(b) => Some(b.data().to_vec()),
        Field::Group(row) => row
            .get_column_iter()
            .find(|(n, _)| n.as_str() == "bytes")
            .and_then(|(_, v)| field_bytes(v)),
        _ => None,
    }
}

/// Class names from the `huggingface` metadata JSON (`info.features.<label>.names`).
fn class_names_from_metadata(
    reader: &SerializedFileReader<std::fs::File>,
    label: &str,
) -> Option<Vec<String>> {
    let kv = reader.metadata().file_metadata().key_value_metadata()?;
    let json = kv.iter().find(|k| k.key == "huggingface")?.value.as_ref()?;
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let names = v
        .get("info")?
        .get("features")?
        .get(label)?
        .get("names")?
        .as_array()?;
    names.iter().map(|n| n.as_str().map(String::from)).collect()
}

impl HfParquetImages {
    /// Reads `split` of `repo` at `revision` from the hub cache `cache` (see [`hub_cache_dir`]).
    pub fn from_cache(
        cache: &Path,
        repo: &str,
        revision: &str,
        split: &str,
        columns: &HfColumns,
    ) -> Result<Self> {
        let snap = snapshot_dir(cache, repo, revision)?;
        let files = split_files(&snap, split)?;
        check_shards(&files)?;
        Self::from_files(files, columns)
    }

    /// Reads `split` of `repo` at `revision` through the hub client `hub`: only the split's
    /// parquet files ([`is_split_file`]) are downloaded into its cache, or taken from it when
    /// cached (offline mode: from the cache only).
    pub fn from_hub(
        hub: &adamp_hub::Hub,
        repo: &str,
        revision: &str,
        split: &str,
        columns: &HfColumns,
    ) -> Result<Self> {
        let files = hub
            .files(
                adamp_hub::RepoKind::Dataset,
                repo,
                revision,
                &format!(
                    "the parquet files of split `{split}` ({split}-*.parquet, {split}.parquet or {split}/*.parquet)"
                ),
                &|p| is_split_file(p, split),
            )
            .map_err(|e| DatasetError::Hub {
                repo: repo.to_string(),
                source: e,
            })?;
        check_shards(&files)?;
        Self::from_files(files, columns)
    }

    /// Reads the given parquet files, in order.
    pub fn from_files(files: Vec<PathBuf>, columns: &HfColumns) -> Result<Self> {
        let mut images = Vec::new();
        let mut labels = Vec::new();
        let mut class_names: Option<Vec<String>> = None;
        for (fi, path) in files.iter().enumerate() {
            let bad = |reason: String| DatasetError::format(path, reason);
            let file = std::fs::File::open(path).map_err(|e| DatasetError::io(path, e))?;
            let reader = SerializedFileReader::new(file)
                .map_err(|e| bad(format!("not a readable parquet file: {e}")))?;
            if class_names.is_none() {
                class_names = class_names_from_metadata(&reader, &columns.label);
            }
            let rows = reader
                .get_row_iter(None)
                .map_err(|e| bad(format!("cannot read rows: {e}")))?;
            for (r, row) in rows.enumerate() {
                let row = row.map_err(|e| bad(format!("row {r}: {e}")))?;
                let (mut img, mut lab) = (None, None);
                for (name, f) in row.get_column_iter() {
                    if *name == columns.image {
                        img = Some(field_bytes(f).ok_or_else(|| {
                            bad(format!("row {r}: column `{name}` is not image bytes (binary or {{bytes, path}})"))
                        })?);
                    } else if *name == columns.label {
                        lab = Some(field_label(f).ok_or_else(|| {
                            bad(format!("row {r}: column `{name}` is not an integer label"))
                        })?);
                    }
                }
                let img = img.ok_or_else(|| bad(format!("no image column `{}`", columns.image)))?;
                let lab = lab.ok_or_else(|| bad(format!("no label column `{}`", columns.label)))?;
                let lab = u32::try_from(lab).map_err(|_| {
                    bad(format!(
                        "row {r}: label {lab} is negative (an unlabelled split?)"
                    ))
                })?;
                images.push((fi, r, img));
                labels.push(lab);
            }
        }
        let max = labels.iter().max().map_or(0, |&m| m as usize + 1);
        let class_names = match class_names {
            Some(n) if n.len() >= max => n,
            _ => (0..max).map(|i| i.to_string()).collect(),
        };
        tracing::debug!(
            files = files.len(),
            rows = labels.len(),
            classes = class_names.len(),
            "read HF parquet split"
        );
        Ok(Self {
            files,
            images,
            labels,
            class_names,
        })
    }

    /// Class names (from the dataset's `ClassLabel` metadata, else `0..max+1` as text).
    pub fn class_names(&self) -> &[String] {
        &self.class_names
    }
}

impl ImageSource for HfParquetImages {
    fn len(&self) -> usize {
        self.labels.len()
    }
    fn num_classes(&self) -> usize {
        self.class_names.len()
    }
    fn label(&self, i: usize) -> u32 {
        self.labels[i]
    }
    fn image(&self, i: usize) -> Result<ImageU8> {
        let (fi, row, bytes) = &self.images[i];
        let path = self.files[*fi].join(format!("#row{row}"));
        let img = image::load_from_memory(bytes).map_err(|e| DatasetError::Decode {
            path,
            reason: e.to_string(),
        })?;
        let rgb = img.into_rgb8();
        Ok(ImageU8 {
            height: rgb.height() as usize,
            width: rgb.width() as usize,
            channels: 3,
            data: rgb.into_raw(),
        })
    }
    fn describe(&self) -> String {
        format!(
            "HF parquet {}",
            self.files
                .first()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32, v: u8) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([v, x as u8, y as u8]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    fn write_hf_parquet(path: &Path, images: &[Vec<u8>], labels: &[i64]) {
        crate::testdata::write_hf_parquet(path, images, labels, &["cat", "dog", "emu"]).unwrap();
    }

    /// A hub cache holding `org/tiny` at `main` with train (2 files) and test splits.
    fn write_cache(cache: &Path) -> PathBuf {
        let commit = "0123456789abcdef0123456789abcdef01234567";
        let repo = cache.join("datasets--org--tiny");
        std::fs::create_dir_all(repo.join("refs")).unwrap();
        std::fs::write(repo.join("refs/main"), commit).unwrap();
        let data = repo.join("snapshots").join(commit).join("data");
        std::fs::create_dir_all(&data).unwrap();
        write_hf_parquet(
            &data.join("train-00000-of-00002.parquet"),
            &[png(3, 2, 10), png(3, 2, 11)],
            &[0, 2],
        );
        write_hf_parquet(
            &data.join("train-00001-of-00002.parquet"),
            &[png(3, 2, 12)],
            &[1],
        );
        write_hf_parquet(
            &data.join("test-00000-of-00001.parquet"),
            &[png(5, 4, 9)],
            &[2],
        );
        data
    }

    #[test]
    fn an_incomplete_split_is_named_not_read() {
        let t = tempfile::tempdir().unwrap();
        let data = write_cache(t.path());
        let cols = HfColumns::default();
        assert_eq!(
            HfParquetImages::from_cache(t.path(), "org/tiny", "main", "train", &cols)
                .unwrap()
                .len(),
            3
        );
        std::fs::remove_file(data.join("train-00000-of-00002.parquet")).unwrap();
        let msg = HfParquetImages::from_cache(t.path(), "org/tiny", "main", "train", &cols)
            .err()
            .unwrap()
            .to_string();
        assert!(
            msg.contains("shard 0 of 2") && msg.contains("train-00001-of-00002.parquet"),
            "{msg}"
        );
        assert_eq!(
            shard_of(Path::new("x/train-00003-of-00257.parquet")),
            Some((3, 257))
        );
        assert_eq!(shard_of(Path::new("train.parquet")), None);
        assert_eq!(shard_of(Path::new("my-split-of-x.parquet")), None);
    }

    #[test]
    fn split_files_follow_the_datasets_naming() {
        for (path, split, yes) in [
            ("data/train-00000-of-00002.parquet", "train", true),
            ("train.parquet", "train", true),
            ("plain_text/train/0000.parquet", "train", true),
            ("data/validation-00000-of-00001.parquet", "train", false),
            ("data/train-00000-of-00002.arrow", "train", false),
            ("data/pretrain-00000.parquet", "train", false),
            ("train/README.md", "train", false),
        ] {
            assert_eq!(is_split_file(path, split), yes, "{path} in {split}");
        }
    }

    /// The hub path: only the split's files are downloaded (through `hf-hub`, from the local
    /// stand-in hub), and they read back as the cache reader reads them.
    #[test]
    fn downloads_only_the_split_through_the_hub() {
        use adamp_hub::mock::{MockHub, MockRepo};
        use adamp_hub::{Hub, HubOptions, RepoKind};
        let t = tempfile::tempdir().unwrap();
        let data = write_cache(&t.path().join("source"));
        let mut files = std::collections::BTreeMap::new();
        for e in std::fs::read_dir(&data).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            files.insert(format!("data/{name}"), std::fs::read(&p).unwrap());
        }
        files.insert("README.md".into(), b"# tiny".to_vec());
        let server =
            MockHub::start(vec![MockRepo::new(RepoKind::Dataset, "org/tiny", files)]).unwrap();
        let cache = t.path().join("cache");
        let hub = Hub::new(HubOptions {
            endpoint: Some(server.endpoint()),
            cache_dir: Some(cache.clone()),
            offline: false,
            attempts: Some(1),
        })
        .unwrap();
        let cols = HfColumns::default();
        let train = HfParquetImages::from_hub(&hub, "org/tiny", "main", "train", &cols).unwrap();
        assert_eq!(train.len(), 3);
        assert_eq!((train.label(0), train.label(2)), (0, 1));
        assert_eq!(train.image(2).unwrap().at(0, 0, 0), 12);
        let snap = snapshot_dir(&cache, "org/tiny", "main").unwrap();
        assert!(snap.join("data/train-00001-of-00002.parquet").is_file());
        assert!(!snap.join("data/test-00000-of-00001.parquet").exists());
        assert!(!snap.join("README.md").exists());
        // A split the repository does not have: the message lists what it holds.
        let msg = HfParquetImages::from_hub(&hub, "org/tiny", "main", "validation", &cols)
            .err()
            .unwrap()
            .to_string();
        assert!(
            msg.contains("org/tiny")
                && msg.contains("split `validation`")
                && msg.contains("data/test-00000-of-00001.parquet"),
            "{msg}"
        );
    }

    #[test]
    fn reads_a_split_from_the_hub_cache_layout() {
        let t = tempfile::tempdir().unwrap();
        write_cache(t.path());
        let cols = HfColumns::default();
        let train =
            HfParquetImages::from_cache(t.path(), "org/tiny", "main", "train", &cols).unwrap();
        assert_eq!(train.len(), 3);
        assert_eq!(train.class_names(), ["cat", "dog", "emu"]);
        assert_eq!((train.label(0), train.label(1), train.label(2)), (0, 2, 1));
        let im = train.image(2).unwrap();
        assert_eq!((im.height, im.width, im.channels), (2, 3, 3));
        assert_eq!((im.at(1, 2, 0), im.at(1, 2, 1), im.at(1, 2, 2)), (12, 2, 1));
        let by_commit = HfParquetImages::from_cache(
            t.path(),
            "org/tiny",
            "0123456789abcdef0123456789abcdef01234567",
            "test",
            &cols,
        )
        .unwrap();
        assert_eq!(by_commit.len(), 1);
        assert_eq!(by_commit.image(0).unwrap().width, 5);
    }

    #[test]
    fn missing_dataset_revision_or_split_says_how_to_download() {
        let t = tempfile::tempdir().unwrap();
        let cols = HfColumns::default();
        let msg = HfParquetImages::from_cache(t.path(), "org/absent", "main", "train", &cols)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("datasets--org--absent"), "{msg}");
        assert!(
            msg.contains("hf download --repo-type dataset org/absent"),
            "{msg}"
        );
        write_cache(t.path());
        let msg = HfParquetImages::from_cache(t.path(), "org/tiny", "v2", "train", &cols)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("refs/v2"), "{msg}");
        let msg = HfParquetImages::from_cache(t.path(), "org/tiny", "main", "validation", &cols)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("validation"), "{msg}");
    }

    #[test]
    fn damaged_parquet_bad_label_and_bad_image_are_named() {
        let t = tempfile::tempdir().unwrap();
        let data = write_cache(t.path());
        let cols = HfColumns::default();
        let p = data.join("test-00000-of-00001.parquet");
        let bytes = std::fs::read(&p).unwrap();
        std::fs::write(&p, &bytes[..bytes.len() - 20]).unwrap();
        let msg = HfParquetImages::from_files(vec![p.clone()], &cols)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("test-00000-of-00001.parquet"), "{msg}");
        write_hf_parquet(&p, &[png(2, 2, 0)], &[-1]);
        let msg = HfParquetImages::from_files(vec![p.clone()], &cols)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("label -1 is negative"), "{msg}");
        let wrong = HfColumns {
            image: "img".into(),
            label: "label".into(),
        };
        let msg = HfParquetImages::from_files(vec![p.clone()], &wrong)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("no image column `img`"), "{msg}");
        write_hf_parquet(&p, &[b"not a png".to_vec()], &[1]);
        let ds = HfParquetImages::from_files(vec![p], &cols).unwrap();
        let err = ds.image(0).unwrap_err();
        assert!(err.is_per_sample());
        assert!(err.to_string().contains("#row0"), "{err}");
    }
}
