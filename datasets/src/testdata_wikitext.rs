//! A tiny WikiText-103-style corpus, for tests and smoke runs of the language-model task: the
//! same lines written as a token-file folder ([`write_tiny_wikitext`], what
//! [`crate::wikitext::open_wikitext`] reads) and as the hub's parquet files in the hub cache
//! layout ([`write_tiny_wikitext_hub_cache`], what [`crate::wikitext::open_wikitext_hub_cache`]
//! and, offline, [`crate::wikitext::open_wikitext_hub`] read). Both read to the same
//! [`crate::wikitext::WikiText`].
//!
//! The lines look like the release's: each starts with a space and ends with ` ` (` = Title = `,
//! ` = = Section = = `, blank lines ` `, text with `@-@`, `@,@`, `@.@`, `<unk>` and numbers);
//! deterministic in the seed. Sizes: train at least [`TINY_TRAIN_TOKENS`] ids, valid and test at
//! least [`TINY_EVAL_TOKENS`] each (ids: symbols plus one `<eos>` per line), enough for a
//! language-model run of a few steps with batch 4 and tgt_len 8. Every symbol of valid and test
//! occurs in train (the reference's `wt103` vocabulary has no unknown-symbol fallback).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{DatasetError, Result};
use crate::wikitext::{SPLIT_FILES, WIKITEXT_103_CONFIG, WIKITEXT_REPO};

/// Least number of ids in the tiny training split.
pub const TINY_TRAIN_TOKENS: usize = 4000;
/// Least number of ids in the tiny valid and test splits, each.
pub const TINY_EVAL_TOKENS: usize = 600;
/// The commit `refs/main` points to in [`write_tiny_wikitext_hub_cache`]'s cache.
pub const TINY_WIKITEXT_COMMIT: &str = "7e57da7a0000000000000000000000000000c0de";

/// Words and fixed phrases of the text, most frequent first (drawn with a skew toward the head).
const PHRASES: &[&str] = &[
    "the",
    ",",
    ".",
    "of",
    "and",
    "in",
    "to",
    "a",
    "<unk>",
    "was",
    "\"",
    "The",
    "'s",
    "on",
    "for",
    "as",
    "with",
    "by",
    "that",
    "is",
    "at",
    "from",
    "his",
    "it",
    "he",
    "were",
    "an",
    "had",
    "which",
    "be",
    "( )",
    "are",
    "first",
    "@-@",
    "her",
    "one",
    "their",
    "after",
    "also",
    "two",
    "game",
    "song",
    "album",
    "ship",
    "river",
    "city",
    "team",
    "season",
    "war",
    "film",
    "series",
    "church",
    "station",
    "road",
    "army",
    "band",
    "storm",
    "island",
    "king",
    "company",
    "player",
    "world",
    "new",
    "early",
    "later",
    "during",
    "until",
    "between",
    "against",
    "about",
    "three",
    "several",
    "British",
    "American",
    "French",
    "German",
    "south",
    "north",
    "mid @-@ 1990s",
    "well @-@ known",
    "long @-@ term",
    "1 @,@ 000",
    "2 @.@ 5",
    "12 @.@ 7",
    "19",
    "1914",
    "1944",
    "1998",
    "2006",
    "2011",
    "10",
    "3",
    "4",
    "5 @,@ 600",
    "km",
    "mi",
    "( 6 @.@ 2 mi )",
    "% ;",
    "released",
    "built",
    "played",
    "recorded",
    "named",
    "described",
    "received",
    "destroyed",
    "completed",
    "won",
];

/// Capitalised title words.
const TITLES: &[&str] = &[
    "Valkyria",
    "Chronicles",
    "Tower",
    "Building",
    "River",
    "Road",
    "Storm",
    "Bridge",
    "Station",
    "Album",
    "Kingdom",
    "Battle",
    "Island",
    "Church",
    "Company",
    "Season",
    "III",
    "1998",
    "of",
    "the",
];

/// Section names.
const SECTIONS: &[&str] = &[
    "History",
    "Background",
    "Reception",
    "Design",
    "Legacy",
    "Track listing",
    "Early life",
    "Aftermath",
];

/// The tiny corpus's lines, newlines removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TinyWikiText {
    /// Lines of `wiki.train.tokens`.
    pub train: Vec<String>,
    /// Lines of `wiki.valid.tokens`.
    pub valid: Vec<String>,
    /// Lines of `wiki.test.tokens`.
    pub test: Vec<String>,
}

impl TinyWikiText {
    /// The three splits' lines in the order train, valid, test.
    pub fn splits(&self) -> [&[String]; 3] {
        [&self.train, &self.valid, &self.test]
    }
}

/// Ids a line gives: its symbols and `<eos>`.
fn ids_of(line: &str) -> usize {
    line.split_whitespace().count() + 1
}

/// One skewed draw from `items` (index `floor(n * u^2)`: the head is drawn far more often).
fn draw<'a>(rng: &mut ChaCha8Rng, items: &[&'a str]) -> &'a str {
    let u: f64 = rng.random();
    items[((u * u) * items.len() as f64) as usize % items.len()]
}

/// Articles of lines until at least `tokens` ids; `glossary` first puts every phrase and title
/// word in a paragraph of its own (so that the training split holds every symbol).
fn article_lines(rng: &mut ChaCha8Rng, tokens: usize, glossary: bool) -> Vec<String> {
    let mut lines = vec![" ".to_string()];
    if glossary {
        lines.push(" = Glossary = ".into());
        lines.push(" ".into());
        let mut all: Vec<&str> = PHRASES.to_vec();
        all.extend(TITLES);
        all.extend(SECTIONS);
        lines.push(format!(" {} ", all.join(" ")));
        lines.push(" ".into());
    }
    while lines.iter().map(|l| ids_of(l)).sum::<usize>() < tokens {
        let title: Vec<&str> = (0..rng.random_range(1..=3))
            .map(|_| draw(rng, TITLES))
            .collect();
        lines.push(format!(" = {} = ", title.join(" ")));
        lines.push(" ".into());
        for section in 0..rng.random_range(1..=3) {
            if section > 0 {
                lines.push(format!(" = = {} = = ", draw(rng, SECTIONS)));
                lines.push(" ".into());
            }
            let mut words = Vec::new();
            for _ in 0..rng.random_range(2..=5) {
                words.push(draw(rng, TITLES));
                for _ in 0..rng.random_range(6..=18) {
                    words.push(draw(rng, PHRASES));
                }
                words.push(".");
            }
            lines.push(format!(" {} ", words.join(" ")));
            lines.push(" ".into());
        }
    }
    lines
}

/// The tiny corpus of `seed` (see the module docs).
pub fn tiny_wikitext_lines(seed: u64) -> TinyWikiText {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    TinyWikiText {
        train: article_lines(&mut rng, TINY_TRAIN_TOKENS, true),
        valid: article_lines(&mut rng, TINY_EVAL_TOKENS, false),
        test: article_lines(&mut rng, TINY_EVAL_TOKENS, false),
    }
}

/// Writes the tiny corpus of `seed` as `dir/wiki.{train,valid,test}.tokens` (every line ended by
/// `\n`, as the release), creating `dir`; returns the lines written.
pub fn write_tiny_wikitext(dir: &Path, seed: u64) -> Result<TinyWikiText> {
    let corpus = tiny_wikitext_lines(seed);
    std::fs::create_dir_all(dir).map_err(|e| DatasetError::io(dir, e))?;
    for (file, lines) in SPLIT_FILES.iter().zip(corpus.splits()) {
        let path = dir.join(file);
        let mut text = String::new();
        for l in lines {
            text.push_str(l);
            text.push('\n');
        }
        std::fs::write(&path, text).map_err(|e| DatasetError::io(&path, e))?;
    }
    Ok(corpus)
}

/// The rows the `datasets` loading script yields for `lines`: a line with its `"\n"`, or `""`
/// for a line that is blank after `strip()` (`wikitext.py`, `_generate_examples`).
pub fn hub_rows(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            if l.trim().is_empty() {
                String::new()
            } else {
                format!("{l}\n")
            }
        })
        .collect()
}

/// Writes `rows` as a parquet file with one optional string column `text` (the layout of the
/// hub's WikiText files), `rows_per_group` rows per row group (at least 1), snappy-compressed.
pub fn write_text_parquet(path: &Path, rows: &[String], rows_per_group: usize) -> Result<()> {
    let bad = |e: parquet::errors::ParquetError| DatasetError::Config {
        name: path.display().to_string(),
        reason: format!("could not write parquet: {e}"),
    };
    let schema = Arc::new(
        parse_message_type("message schema { optional binary text (STRING); }").map_err(bad)?,
    );
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build(),
    );
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| DatasetError::io(dir, e))?;
    }
    let file = std::fs::File::create(path).map_err(|e| DatasetError::io(path, e))?;
    let mut w = SerializedFileWriter::new(file, schema, props).map_err(bad)?;
    for group in rows.chunks(rows_per_group.max(1)) {
        let mut rg = w.next_row_group().map_err(bad)?;
        let mut col = rg.next_column().map_err(bad)?.ok_or_else(|| {
            bad(parquet::errors::ParquetError::General(
                "no text column".into(),
            ))
        })?;
        let values: Vec<ByteArray> = group.iter().map(|r| ByteArray::from(r.as_str())).collect();
        col.typed::<ByteArrayType>()
            .write_batch(&values, Some(&vec![1; group.len()]), None)
            .map_err(bad)?;
        col.close().map_err(bad)?;
        rg.close().map_err(bad)?;
    }
    w.close().map_err(bad)?;
    Ok(())
}

/// Writes the tiny corpus of `seed` into the hub cache folder `cache` as the dataset
/// `Salesforce/wikitext` would be cached: `datasets--Salesforce--wikitext/refs/main` holding
/// [`TINY_WIKITEXT_COMMIT`], and in `snapshots/<commit>/wikitext-103-v1/` the files
/// `train-00000-of-00002.parquet`, `train-00001-of-00002.parquet` (the training rows cut in two,
/// the first file in row groups of 64), `validation-00000-of-00001.parquet` and
/// `test-00000-of-00001.parquet`, rows as [`hub_rows`]. A second config,
/// `wikitext-2-v1/`, holds the first 40 lines of each split, so a reader taking the wrong
/// config's files reads other streams. Returns the snapshot folder and the lines.
pub fn write_tiny_wikitext_hub_cache(cache: &Path, seed: u64) -> Result<(PathBuf, TinyWikiText)> {
    let corpus = tiny_wikitext_lines(seed);
    let repo = cache.join(format!("datasets--{}", WIKITEXT_REPO.replace('/', "--")));
    let refs = repo.join("refs");
    std::fs::create_dir_all(&refs).map_err(|e| DatasetError::io(&refs, e))?;
    std::fs::write(refs.join("main"), TINY_WIKITEXT_COMMIT)
        .map_err(|e| DatasetError::io(refs.join("main"), e))?;
    let snap = repo.join("snapshots").join(TINY_WIKITEXT_COMMIT);
    let config = snap.join(WIKITEXT_103_CONFIG);
    let train = hub_rows(&corpus.train);
    let half = train.len() / 2;
    write_text_parquet(
        &config.join("train-00000-of-00002.parquet"),
        &train[..half],
        64,
    )?;
    write_text_parquet(
        &config.join("train-00001-of-00002.parquet"),
        &train[half..],
        half,
    )?;
    for (split, lines) in [("validation", &corpus.valid), ("test", &corpus.test)] {
        let rows = hub_rows(lines);
        write_text_parquet(
            &config.join(format!("{split}-00000-of-00001.parquet")),
            &rows,
            rows.len(),
        )?;
    }
    let other = snap.join("wikitext-2-v1");
    for (split, lines) in ["train", "validation", "test"].iter().zip(corpus.splits()) {
        let rows = hub_rows(&lines[..lines.len().min(40)]);
        write_text_parquet(
            &other.join(format!("{split}-00000-of-00001.parquet")),
            &rows,
            rows.len(),
        )?;
    }
    Ok((snap, corpus))
}
