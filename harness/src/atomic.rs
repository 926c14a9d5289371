//! Atomic file writes: a kill never leaves a half-written result file.
//!
//! [`write_atomic`] writes to a temporary file in the same folder (`.<name>.tmp`), fsyncs it,
//! renames it over the target (atomic on POSIX file systems) and fsyncs the folder, so a reader
//! sees either the old file or the new one, never a mix.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The temporary path used for `path`: `.<file name>.tmp` in the same folder.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp"))
}

/// Write `bytes` to `path` atomically (temp file + fsync + rename + folder fsync).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = write_temp(path, bytes)?;
    commit(&tmp, path)
}

/// First half of [`write_atomic`]: write and fsync the temporary file; returns its path.
pub fn write_temp(path: &Path, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let tmp = temp_path(path);
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(tmp)
}

/// Second half of [`write_atomic`]: rename `tmp` over `path` and fsync the folder.
pub fn commit(tmp: &Path, path: &Path) -> std::io::Result<()> {
    std::fs::rename(tmp, path)?;
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

/// fsync a folder so a rename inside it is durable (a no-op where folders cannot be opened).
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    match File::open(dir) {
        Ok(f) => f.sync_all().or(Ok(())),
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crash_between_temp_write_and_rename_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.csv");
        write_atomic(&path, b"old\n").unwrap();
        // Simulate a kill after the temp file is written but before the rename.
        let tmp = write_temp(&path, b"new but never committed\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"old\n");
        // The next atomic write replaces both the stale temp file and the target.
        write_atomic(&path, b"new\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new\n");
        assert!(!tmp.exists(), "the temp file is consumed by the rename");
    }
}
