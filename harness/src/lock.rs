//! One process per run folder: an advisory lock held for the run's life.
//!
//! `run.lock` in the run folder is locked with the operating system's advisory file lock
//! (`flock` on Linux, through `std::fs::File::try_lock`), which the kernel releases when the
//! holder exits, however it exits. The holder writes its process id and start time into the
//! file and empties it when it finishes, so:
//! - a second `adamp run` / `reproduce` on the same folder gets a clear error naming the holder;
//! - a lock file still naming a process but not locked was left by a killed run: it is taken
//!   over (and said so).
//!
//! The file itself is never removed: removing it while others may have it open would let two
//! processes lock two different files of the same name.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// The lock file's name inside a run folder.
pub const LOCK_FILE: &str = "run.lock";

/// A held run-folder lock; released (and the file emptied) when dropped.
#[derive(Debug)]
pub struct RunLock {
    file: File,
    path: PathBuf,
}

impl RunLock {
    /// Lock `folder` (which must exist) for this process, or fail naming the process that
    /// holds it.
    pub fn acquire(folder: &Path) -> Result<Self> {
        let path = folder.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("opening the run lock {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let holder = read_holder(&mut file);
                bail!(
                    "{}: in use by {} (another `adamp run` or `adamp reproduce` is writing this run); wait for it to finish, or give this one another --out",
                    folder.display(),
                    if holder.is_empty() { "another process".to_string() } else { holder }
                );
            }
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("locking {}", path.display()))
            }
        }
        let stale = read_holder(&mut file);
        if !stale.is_empty() {
            tracing::warn!(
                "{}: taking over the lock of {stale}, which no longer holds it (a killed run)",
                folder.display()
            );
        }
        let holder = format!(
            "PID {} (started {})",
            std::process::id(),
            crate::record::resolved::utc_now()
        );
        write_holder(&mut file, &holder).with_context(|| format!("writing {}", path.display()))?;
        Ok(Self { file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Empty the file first, so a later run finds no holder; the lock goes with the file
        // handle (and with the process, if it is killed before this runs).
        let _ = write_holder(&mut self.file, "");
        let _ = self.file.unlock();
    }
}

fn read_holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.seek(SeekFrom::Start(0));
    let _ = file.read_to_string(&mut text);
    text.trim().to_string()
}

fn write_holder(file: &mut File, text: &str) -> std::io::Result<()> {
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    file.write_all(text.as_bytes())?;
    file.sync_data()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_the_first_ones_pid() {
        let dir = tempfile::tempdir().unwrap();
        let first = RunLock::acquire(dir.path()).unwrap();
        let err = RunLock::acquire(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains(&format!("in use by PID {}", std::process::id())),
            "{err}"
        );
        drop(first);
        let again = RunLock::acquire(dir.path()).unwrap();
        assert!(std::fs::read_to_string(again.path())
            .unwrap()
            .starts_with("PID "));
        drop(again);
        assert_eq!(
            std::fs::read_to_string(dir.path().join(LOCK_FILE)).unwrap(),
            "",
            "a released lock names no holder"
        );
    }

    #[test]
    fn a_lock_file_left_by_a_killed_run_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        // A killed holder leaves its line in the file but no lock (the kernel released it).
        std::fs::write(
            dir.path().join(LOCK_FILE),
            "PID 999999 (started 2026-01-01T00:00:00Z)",
        )
        .unwrap();
        let lock = RunLock::acquire(dir.path()).unwrap();
        let text = std::fs::read_to_string(lock.path()).unwrap();
        assert!(
            text.starts_with(&format!("PID {} ", std::process::id())),
            "{text}"
        );
    }
}
