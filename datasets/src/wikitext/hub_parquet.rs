//! WikiText from the Hugging Face hub's parquet files (`Salesforce/wikitext`, config
//! `wikitext-103-v1`), read into the same [`WikiText`] as the token-file folder with the same
//! lines: the same [`Vocab`] order and the same id streams.
//!
//! Layout: the repository holds one folder per config, with the `datasets` library's shards
//! `<config>/train-00000-of-00002.parquet`, `<config>/validation-00000-of-00001.parquet`,
//! `<config>/test-00000-of-00001.parquet` (or, on the `refs/convert/parquet` revision,
//! `<config>/<split>/0000.parquet`); [`is_config_split_file`]. Each file has one string column
//! `text`, one row per line of the release's token file, in order: the `datasets` loading
//! script (`wikitext.py`, `_generate_examples`) iterates the token file as Python text and yields
//! a line as it reads it, trailing `"\n"` included, or `""` for a line that is blank after
//! `strip()`. Splits map as `train` -> `wiki.train.tokens`, `validation` -> `wiki.valid.tokens`,
//! `test` -> `wiki.test.tokens`.
//!
//! A row is one line whether or not it ends with a line end: one trailing `"\n"`, `"\r\n"` or
//! `"\r"` is removed ([`row_line`]); a row still holding a line end inside is refused (the
//! script can not produce one, and reading it as one line would give a different stream than the
//! token file). A null row, a file without a `text` string column, a split without parquet
//! files, or with no row at all, is an error naming the file or folder.
//!
//! Through the hub client ([`open_wikitext_hub`]) only the config's three splits are
//! downloaded (as [`crate::hf_parquet::HfParquetImages::from_hub`] does for image datasets; with
//! `HF_HUB_OFFLINE=1` the cached snapshot is used); [`open_wikitext_hub_cache`] reads a cache
//! filled elsewhere without a client; [`open_wikitext_parquet`] reads given files.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use parquet::basic::{ConvertedType, LogicalType, Type as PhysicalType};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use parquet::schema::types::Type;

use super::vocab::unknown_symbol;
use super::{Vocab, WikiText};
use crate::error::{DatasetError, Result};
use crate::hf_parquet::{check_shards, is_split_file, snapshot_dir, split_files};

/// The hub dataset repository of WikiText.
pub const WIKITEXT_REPO: &str = "Salesforce/wikitext";
/// The config (folder) of WikiText-103 with `<unk>` (the tokenised release Transformer-XL reads).
pub const WIKITEXT_103_CONFIG: &str = "wikitext-103-v1";
/// The hub's split names, in the order train, valid, test.
pub const HUB_SPLITS: [&str; 3] = ["train", "validation", "test"];
/// The string column holding the lines.
pub const TEXT_COLUMN: &str = "text";

/// Whether the repository file `path` (`/`-separated) is a parquet file of `split` in the folder
/// of `config`: [`is_split_file`] on the path below `<config>/`.
pub fn is_config_split_file(path: &str, config: &str, split: &str) -> bool {
    path.strip_prefix(config)
        .and_then(|rest| rest.strip_prefix('/'))
        .is_some_and(|rest| is_split_file(rest, split))
}

/// One split's lines (newlines removed) and where each came from.
#[derive(Debug, Clone)]
pub struct ParquetLines {
    /// The split's files, in reading order.
    pub files: Vec<PathBuf>,
    /// Every row's line, all files concatenated.
    pub lines: Vec<String>,
    /// Index into `lines` of each file's first row.
    starts: Vec<usize>,
}

impl ParquetLines {
    /// Reads `files` in order (see the module docs); `split` names the split in the error for a
    /// split without rows.
    pub fn read(split: &str, files: Vec<PathBuf>) -> Result<Self> {
        let Some(first) = files.first() else {
            return Err(DatasetError::Config {
                name: format!("{split} split"),
                reason: "no parquet files given".into(),
            });
        };
        let first = first.clone();
        let mut lines = Vec::new();
        let mut starts = Vec::with_capacity(files.len());
        for path in &files {
            starts.push(lines.len());
            read_text_rows(path, &mut lines)?;
        }
        if lines.is_empty() {
            let place = first.parent().map(Path::to_path_buf).unwrap_or(first);
            return Err(DatasetError::format(
                place,
                format!(
                    "split `{split}` is empty: its {} parquet file(s) hold no row, so no line and \
                     no <eos>",
                    files.len()
                ),
            ));
        }
        Ok(Self {
            files,
            lines,
            starts,
        })
    }

    /// The file and 0-based row within it of line `n`.
    pub fn locate(&self, n: usize) -> (&Path, usize) {
        let f = self.starts.partition_point(|&s| s <= n) - 1;
        (&self.files[f], n - self.starts[f])
    }

    /// What names the whole split in an error: its only file, else their folder.
    fn source(&self) -> PathBuf {
        match self.files.as_slice() {
            [one] => one.clone(),
            [first, ..] => first.parent().map_or(first.clone(), Path::to_path_buf),
            [] => PathBuf::new(),
        }
    }

    /// The ids of the split's lines under `vocab` ([`Vocab::encode_lines`]); an unknown symbol
    /// names the file and row.
    pub fn encode(&self, vocab: &Vocab) -> Result<Vec<u32>> {
        vocab.encode_lines(&self.lines, |n, s| {
            let (file, row) = self.locate(n);
            DatasetError::format(file, format!("row {row}: {}", unknown_symbol(s)))
        })
    }
}

/// The line of one row: one trailing `"\n"`, `"\r\n"` or `"\r"` removed; `None` when a line end
/// remains inside (a row of more than one line).
pub fn row_line(text: &str) -> Option<&str> {
    let line = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .or_else(|| text.strip_suffix('\r'))
        .unwrap_or(text);
    (!line.contains(['\n', '\r'])).then_some(line)
}

/// The `text` column of the file's schema, if it is a top-level string (UTF-8 byte array).
fn text_field(schema: &Type) -> std::result::Result<Arc<Type>, String> {
    let fields = schema.get_fields();
    let Some(field) = fields.iter().find(|f| f.name() == TEXT_COLUMN) else {
        let names: Vec<&str> = fields.iter().map(|f| f.name()).collect();
        return Err(format!(
            "no `{TEXT_COLUMN}` column (columns: {}); a WikiText parquet file has one string \
             column `{TEXT_COLUMN}`, one row per line",
            if names.is_empty() {
                "none".into()
            } else {
                names.join(", ")
            }
        ));
    };
    let is_string = field.is_primitive()
        && field.get_physical_type() == PhysicalType::BYTE_ARRAY
        && (matches!(
            field.get_basic_info().logical_type(),
            Some(LogicalType::String)
        ) || field.get_basic_info().converted_type() == ConvertedType::UTF8);
    if !is_string {
        return Err(format!(
            "column `{TEXT_COLUMN}` is not a string column (UTF-8 byte array); a WikiText \
             parquet file has one string column `{TEXT_COLUMN}`, one row per line"
        ));
    }
    Ok(field.clone())
}

/// Appends the lines of the parquet file `path` (its `text` column, see the module docs).
pub fn read_text_rows(path: &Path, out: &mut Vec<String>) -> Result<()> {
    let bad = |reason: String| DatasetError::format(path, reason);
    let file = std::fs::File::open(path).map_err(|e| DatasetError::io(path, e))?;
    let reader = SerializedFileReader::new(file)
        .map_err(|e| bad(format!("not a readable parquet file: {e}")))?;
    let field = text_field(reader.metadata().file_metadata().schema()).map_err(bad)?;
    let projection = Type::group_type_builder("schema")
        .with_fields(vec![field])
        .build()
        .map_err(|e| bad(format!("cannot select column `{TEXT_COLUMN}`: {e}")))?;
    let rows = reader
        .get_row_iter(Some(projection))
        .map_err(|e| bad(format!("cannot read rows: {e}")))?;
    for (r, row) in rows.enumerate() {
        let row = row.map_err(|e| bad(format!("row {r}: {e}")))?;
        let text = match row.get_column_iter().next() {
            Some((_, Field::Str(s))) => s.as_str(),
            _ => return Err(bad(format!("row {r}: `{TEXT_COLUMN}` is null"))),
        };
        let line = row_line(text).ok_or_else(|| {
            bad(format!(
                "row {r}: `{TEXT_COLUMN}` holds a line end before its end (more than one line; \
                 a WikiText row is one line of the token file)"
            ))
        })?;
        out.push(line.to_string());
    }
    Ok(())
}

/// Reads the three splits from their parquet files (train, validation, test; each in order)
/// into a [`WikiText`] whose `dir` is the folder of the first training file: the vocabulary of
/// the training lines and the three id streams, as [`super::open_wikitext`] reads a folder of
/// token files with the same lines.
pub fn open_wikitext_parquet(
    train: Vec<PathBuf>,
    valid: Vec<PathBuf>,
    test: Vec<PathBuf>,
) -> Result<WikiText> {
    let dir = train
        .first()
        .and_then(|f| f.parent())
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let train = ParquetLines::read(HUB_SPLITS[0], train)?;
    let vocab = Vocab::from_lines(&train.lines, &train.source())?;
    let train_ids = train.encode(&vocab)?;
    drop(train);
    let valid = ParquetLines::read(HUB_SPLITS[1], valid)?.encode(&vocab)?;
    let test = ParquetLines::read(HUB_SPLITS[2], test)?.encode(&vocab)?;
    Ok(WikiText {
        dir,
        vocab,
        train: train_ids,
        valid,
        test,
    })
}

/// Reads `config` of the dataset `repo` at `revision` (a branch or tag under `refs/`, or a
/// commit) from the hub cache folder `cache` (layout: [`crate::hf_parquet`]), without a hub
/// client. Each split must be whole ([`check_shards`]).
pub fn open_wikitext_hub_cache(
    cache: &Path,
    repo: &str,
    config: &str,
    revision: &str,
) -> Result<WikiText> {
    let snap = snapshot_dir(cache, repo, revision)?;
    let folder = snap.join(config);
    if !folder.is_dir() {
        return Err(DatasetError::Missing {
            path: folder,
            what: format!("the folder of config `{config}` of dataset {repo}"),
            hint: format!(
                "check the config name (WikiText-103: `{WIKITEXT_103_CONFIG}`), or download it: \
                 `hf download --repo-type dataset {repo} --revision {revision} --include \
                 '{config}/*'`"
            ),
        });
    }
    let [train, valid, test] = each_split(|split| {
        let files = split_files(&folder, split)?;
        check_shards(&files)?;
        Ok(files)
    })?;
    open_wikitext_parquet(train, valid, test)
}

/// Reads `config` of the dataset `repo` at `revision` through the hub client `hub`: only the
/// parquet files of the config's three splits ([`is_config_split_file`]) are downloaded into its
/// cache, or taken from it when cached (offline: from the cache only).
pub fn open_wikitext_hub(
    hub: &adamp_hub::Hub,
    repo: &str,
    config: &str,
    revision: &str,
) -> Result<WikiText> {
    let [train, valid, test] = each_split(|split| {
        let files = hub
            .files(
                adamp_hub::RepoKind::Dataset,
                repo,
                revision,
                &format!(
                    "the parquet files of split `{split}` of config `{config}` \
                     ({config}/{split}-*.parquet or {config}/{split}/*.parquet)"
                ),
                &|p| is_config_split_file(p, config, split),
            )
            .map_err(|e| DatasetError::Hub {
                repo: repo.to_string(),
                source: e,
            })?;
        check_shards(&files)?;
        Ok(files)
    })?;
    open_wikitext_parquet(train, valid, test)
}

/// `f` on each of [`HUB_SPLITS`], stopping at the first error.
fn each_split(mut f: impl FnMut(&str) -> Result<Vec<PathBuf>>) -> Result<[Vec<PathBuf>; 3]> {
    Ok([f(HUB_SPLITS[0])?, f(HUB_SPLITS[1])?, f(HUB_SPLITS[2])?])
}
