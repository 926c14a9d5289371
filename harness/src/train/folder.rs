//! The run folder before the loop: refuse another config's folder, lock it, skip a finished
//! run, start over on `--force`, clear what a kill left behind.

use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::checkpoint;
use crate::config::RunSpec;
use crate::lock::{RunLock, LOCK_FILE};
use crate::record::read::read_summary;
use crate::record::resolved;

/// Make `folder` ready for `spec` and lock it; `None` when it holds a finished run of the same
/// config (and `force` is off), which is then skipped.
pub(super) fn prepare(spec: &RunSpec, folder: &Path, force: bool) -> Result<Option<RunLock>> {
    if !force && same_config(folder, spec)? == Some(false) {
        bail!(
            "{}: holds a run of a different config than {}; pass --force to start it over",
            folder.display(),
            spec.source.display()
        );
    }
    std::fs::create_dir_all(folder).with_context(|| {
        format!(
            "cannot create the run folder {} (check --out)",
            folder.display()
        )
    })?;
    let lock = RunLock::acquire(folder)?;
    if force {
        clear(folder)?;
    } else if let Some(status) = finished_status(folder) {
        tracing::info!(
            "{}: already {status}; skipping (use --force to rerun)",
            spec.run_id()
        );
        return Ok(None);
    }
    adamp_fsio::remove_temp_files(folder)
        .with_context(|| format!("removing temporary files in {}", folder.display()))?;
    checkpoint::clean(folder)?;
    Ok(Some(lock))
}

/// Remove everything in the folder but the lock this process holds (`--force`).
fn clear(folder: &Path) -> Result<()> {
    for entry in std::fs::read_dir(folder)? {
        let path = entry?.path();
        if path.file_name().is_some_and(|n| n == LOCK_FILE) {
            continue;
        }
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.with_context(|| format!("removing {} to start over", path.display()))?;
    }
    Ok(())
}

/// The status on the final summary row of a finished run (`completed` or `diverged`), if any.
fn finished_status(folder: &Path) -> Option<String> {
    let path = folder.join("summary.csv");
    if !path.is_file() {
        return None;
    }
    let summary = read_summary(&path).ok()?;
    summary
        .last_status()
        .filter(|s| matches!(*s, "completed" | "diverged"))
        .map(str::to_string)
}

/// Whether the folder's `config.resolved.toml` describes the same run as `spec` (meta ignored);
/// `None` when there is none.
fn same_config(folder: &Path, spec: &RunSpec) -> Result<Option<bool>> {
    let path = folder.join("config.resolved.toml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    let mut existing: toml::Table = match text.parse() {
        Ok(t) => t,
        Err(_) => return Ok(Some(false)),
    };
    existing.remove("meta");
    Ok(Some(existing == resolved::config_table(spec)?))
}

/// The eval values of the last summary row (for a run resumed at its very end).
pub(super) fn final_evals(folder: &Path) -> Vec<(String, f64)> {
    read_summary(&folder.join("summary.csv"))
        .map(|s| s.last_evals())
        .unwrap_or_default()
}
