//! Decoded, resampled clips cached on disk so epochs do not decode the same file again.
//!
//! # Cache file format (version 1)
//!
//! One file per (source file, target rate): `<cache_dir>/<key>.f32`, where `<key>` is the
//! lower-case hex SHA-256 of the UTF-8 text
//!
//! ```text
//! adamp clip cache v1
//! path=<source path relative to the dataset root, '/'-separated; the path as given when it is
//!       not under the root>
//! size=<source file size in bytes>
//! mtime_ns=<source modification time, nanoseconds since the Unix epoch; 0 when unknown>
//! rate=<target sample rate in Hz>
//! resampler=<RESAMPLER_ID>
//! ```
//!
//! (one `key=value` per line, each line ending in `\n`), so editing or replacing a source file,
//! asking for another rate or changing the resampler's parameters gives a new key. Moving the
//! whole dataset folder keeps the keys (the path is relative to the root).
//!
//! The file, all integers little-endian:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `ADAMPCLP` |
//! | 8 | 4 | format version, `u32` = 1 |
//! | 12 | 4 | sample rate in Hz, `u32` (the target rate) |
//! | 16 | 8 | frame count `n`, `u64` (≥ 1) |
//! | 24 | 32 | the key (SHA-256, raw bytes), the same as the file name |
//! | 56 | 4 n | the mono samples, `f32` |
//!
//! Files are written atomically ([`adamp_fsio::write_atomic_with`]: a reader sees a whole file
//! or none). A file is trusted only if its size is exactly `56 + 4 n` and its magic, version,
//! sample rate and key match and every sample is finite; otherwise it is counted
//! ([`CacheStats::replaced`]), decoded again and replaced.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::UNIX_EPOCH;

use sha2::{Digest, Sha256};

use super::decode::decode_file;
use super::resample::{resample, RESAMPLER_ID};
use crate::error::{DatasetError, Result};

/// The first 8 bytes of a cache file.
pub const CACHE_MAGIC: [u8; 8] = *b"ADAMPCLP";

/// The cache file format version.
pub const CACHE_VERSION: u32 = 1;

/// The size of a cache file's header in bytes.
pub const CACHE_HEADER_LEN: usize = 56;

/// Serialises cache writes within the process: [`adamp_fsio::temp_path`] is per process, so two
/// threads writing the same entry at once would share a temporary file.
static WRITE_LOCK: Mutex<()> = Mutex::new(());

/// A mono clip at the requested sample rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Clip {
    /// The samples, one per frame.
    pub samples: Vec<f32>,
    /// The sample rate in Hz.
    pub sample_rate: u32,
}

/// What a [`ClipCache`] did so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    /// Clips read from a valid cache file.
    pub hits: usize,
    /// Clips decoded from their source (no cache file, or an invalid one).
    pub decodes: usize,
    /// Cache files found invalid (short, corrupt, another format version), decoded again and
    /// replaced; included in `decodes`.
    pub replaced: usize,
}

/// A folder of decoded clips (see the module documentation for the format).
#[derive(Debug)]
pub struct ClipCache {
    dir: PathBuf,
    root: PathBuf,
    hits: AtomicUsize,
    decodes: AtomicUsize,
    replaced: AtomicUsize,
}

impl ClipCache {
    /// A cache in `dir` (created if missing) for the clips of the dataset under `dataset_root`.
    pub fn new(dir: impl Into<PathBuf>, dataset_root: impl Into<PathBuf>) -> Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|e| DatasetError::io(&dir, e))?;
        Ok(Self {
            dir,
            root: dataset_root.into(),
            hits: AtomicUsize::new(0),
            decodes: AtomicUsize::new(0),
            replaced: AtomicUsize::new(0),
        })
    }

    /// The cache folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The counts of hits, decodes and replaced files so far.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            decodes: self.decodes.load(Ordering::Relaxed),
            replaced: self.replaced.load(Ordering::Relaxed),
        }
    }

    /// The key of `source` at `target_rate` (reads the source's size and modification time).
    pub fn key(&self, source: &Path, target_rate: u32) -> Result<[u8; 32]> {
        let meta = std::fs::metadata(source).map_err(|e| DatasetError::io(source, e))?;
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        let text = format!(
            "adamp clip cache v{CACHE_VERSION}\npath={}\nsize={}\nmtime_ns={mtime_ns}\nrate={target_rate}\nresampler={RESAMPLER_ID}\n",
            self.relative_name(source),
            meta.len(),
        );
        Ok(Sha256::digest(text.as_bytes()).into())
    }

    /// The cache file of `source` at `target_rate`.
    pub fn entry_path(&self, source: &Path, target_rate: u32) -> Result<PathBuf> {
        Ok(self.path_for_key(&self.key(source, target_rate)?))
    }

    fn path_for_key(&self, key: &[u8; 32]) -> PathBuf {
        self.dir.join(format!("{}.f32", hex(key)))
    }

    /// `source` relative to the dataset root, `/`-separated (as given when outside the root).
    fn relative_name(&self, source: &Path) -> String {
        let rel = source.strip_prefix(&self.root).unwrap_or(source);
        let parts: Vec<String> = rel
            .components()
            .filter(|c| !matches!(c, Component::CurDir))
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        parts.join("/")
    }
}

/// Load `path` as a mono clip at `target_rate` Hz: decoded ([`decode_file`]) and resampled
/// ([`resample`]), or read from `cache` when it holds a valid entry (written there otherwise).
///
/// Errors: those of [`decode_file`] and [`resample`]; with a cache, failing to write its file
/// ([`DatasetError::Io`] naming it). An invalid cache file is not an error: it is decoded again
/// and replaced.
pub fn load_clip(path: &Path, target_rate: u32, cache: Option<&ClipCache>) -> Result<Clip> {
    let Some(cache) = cache else {
        return decode_and_resample(path, target_rate);
    };
    let key = cache.key(path, target_rate)?;
    let entry = cache.path_for_key(&key);
    match read_entry(&entry, &key, target_rate) {
        Ok(samples) => {
            cache.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(Clip {
                samples,
                sample_rate: target_rate,
            });
        }
        Err(EntryError::Missing) => {}
        Err(EntryError::Invalid(reason)) => {
            tracing::warn!(
                cache_file = %entry.display(),
                source = %path.display(),
                "invalid clip cache file ({reason}); decoding the source again and replacing it"
            );
            cache.replaced.fetch_add(1, Ordering::Relaxed);
        }
    }
    let clip = decode_and_resample(path, target_rate)?;
    cache.decodes.fetch_add(1, Ordering::Relaxed);
    write_entry(&entry, &key, &clip)?;
    Ok(clip)
}

fn decode_and_resample(path: &Path, target_rate: u32) -> Result<Clip> {
    let decoded = decode_file(path)?;
    let samples = resample(&decoded.samples, decoded.sample_rate, target_rate)?;
    Ok(Clip {
        samples,
        sample_rate: target_rate,
    })
}

enum EntryError {
    Missing,
    Invalid(String),
}

/// Read and validate a cache file.
fn read_entry(
    entry: &Path,
    key: &[u8; 32],
    target_rate: u32,
) -> std::result::Result<Vec<f32>, EntryError> {
    let mut bytes = Vec::new();
    match File::open(entry).and_then(|mut f| f.read_to_end(&mut bytes)) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(EntryError::Missing),
        Err(e) => return Err(EntryError::Invalid(format!("unreadable: {e}"))),
    }
    let invalid = |reason: String| Err(EntryError::Invalid(reason));
    if bytes.len() < CACHE_HEADER_LEN {
        return invalid(format!("{} bytes, shorter than the header", bytes.len()));
    }
    if bytes[..8] != CACHE_MAGIC {
        return invalid("bad magic".into());
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version != CACHE_VERSION {
        return invalid(format!(
            "format version {version}, expected {CACHE_VERSION}"
        ));
    }
    let rate = u32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes"));
    if rate != target_rate {
        return invalid(format!("sample rate {rate}, expected {target_rate}"));
    }
    if bytes[24..56] != key[..] {
        return invalid("the key in the header is not the file's".into());
    }
    let frames = u64::from_le_bytes(bytes[16..24].try_into().expect("8 bytes"));
    let expected_len = (frames as u128) * 4 + CACHE_HEADER_LEN as u128;
    if frames == 0 || bytes.len() as u128 != expected_len {
        return invalid(format!(
            "{} bytes for {frames} frames (expected {expected_len})",
            bytes.len()
        ));
    }
    let samples: Vec<f32> = bytes[CACHE_HEADER_LEN..]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
        .collect();
    if let Some(i) = samples.iter().position(|s| !s.is_finite()) {
        return invalid(format!("sample {i} is not finite"));
    }
    Ok(samples)
}

/// Write a cache file atomically.
fn write_entry(entry: &Path, key: &[u8; 32], clip: &Clip) -> Result<()> {
    let _guard = WRITE_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    adamp_fsio::write_atomic_with(entry, |tmp| -> std::io::Result<()> {
        let mut w = BufWriter::new(File::create(tmp)?);
        w.write_all(&CACHE_MAGIC)?;
        w.write_all(&CACHE_VERSION.to_le_bytes())?;
        w.write_all(&clip.sample_rate.to_le_bytes())?;
        w.write_all(&(clip.samples.len() as u64).to_le_bytes())?;
        w.write_all(key)?;
        for s in &clip.samples {
            w.write_all(&s.to_le_bytes())?;
        }
        w.flush()
    })
    .map_err(|e| DatasetError::io(entry, e))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
