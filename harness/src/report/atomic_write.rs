//! Atomic file writes for the report and plots, on top of the runner core's
//! [`crate::atomic`] (temporary file in the same folder, fsync, rename, folder fsync).
//!
//! Plotters' PNG encoder picks the format from the file extension, so plots are first rendered
//! to a temporary name that keeps `.png` ([`temp_path_for`]) and then committed by rename.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// A temporary path next to `path` that keeps its extension: `.<name>.tmp-<pid>-<name>`.
pub(crate) fn temp_path_for(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{}.tmp-{}-{}", name, std::process::id(), name))
}

/// Renames a finished temporary file over `path` (and makes the rename durable).
pub(crate) fn commit_temp(tmp: &Path, path: &Path) -> Result<()> {
    crate::atomic::commit(tmp, path)
        .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
}

/// Writes `bytes` to `path` atomically, creating its folder if needed.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating folder {}", dir.display()))?;
    }
    crate::atomic::write_atomic(path, bytes).with_context(|| format!("writing {}", path.display()))
}
