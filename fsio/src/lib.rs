//! # adamp-fsio
//!
//! The one way this workspace writes a file that a reader, a resumed run or the report may see:
//! atomically. The bytes go to a temporary file in the same folder, which is fsynced and then
//! renamed over the target (atomic on POSIX file systems), and the folder is fsynced so the
//! rename survives a power cut. A reader sees the old file or the new one, never a mix; a kill
//! leaves at most a temporary file, which [`is_temp_name`] recognises.
//!
//! - [`write_atomic`]: bytes in memory;
//! - [`write_atomic_with`]: a writer that wants a path (safetensors, plotters' image encoder),
//!   given a temporary path that keeps the target's extension.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The marker every temporary name contains (`.<name>.<pid>.tmp[.ext]`).
const TEMP_MARKER: &str = ".tmp";

/// The temporary path used for `path`: `.<file name>.<pid>.tmp` in the same folder, with the
/// target's extension appended when it has one (`.loss.png.42.tmp.png`), for writers that pick
/// a format from the extension. The process id keeps two processes writing the same file apart.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}{TEMP_MARKER}{ext}", std::process::id()))
}

/// Whether a file name is a temporary file of [`temp_path`] (left behind by a kill).
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.contains(TEMP_MARKER)
}

/// Write `bytes` to `path` atomically (temporary file, fsync, rename, folder fsync).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |tmp| {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(tmp)?;
        f.write_all(bytes)
    })
}

/// Let `write` create the file at the temporary path it is given, then make it durable and
/// rename it over `path`. When `write` fails, the temporary file is removed and `path` is left
/// as it was.
pub fn write_atomic_with<E>(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), E>
where
    E: From<std::io::Error>,
{
    let tmp = temp_path(path);
    if let Err(e) = write(&tmp) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    let committed = File::open(&tmp)
        .and_then(|f| f.sync_all())
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = committed {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.into());
    }
    sync_dir(path.parent().unwrap_or(Path::new("."))).map_err(E::from)
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

/// Remove the temporary files (see [`is_temp_name`]) a kill may have left in `folder`.
pub fn remove_temp_files(folder: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(folder)? {
        let entry = entry?;
        if is_temp_name(&entry.file_name().to_string_lossy()) {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_replaces_the_file_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.csv");
        write_atomic(&path, b"old\n").unwrap();
        write_atomic(&path, b"new\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new\n");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["summary.csv"]);
    }

    #[test]
    fn a_failed_writer_keeps_the_old_file_and_removes_its_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.safetensors");
        write_atomic(&path, b"old").unwrap();
        let err = write_atomic_with(&path, |tmp| {
            std::fs::write(tmp, b"half")?;
            Err(std::io::Error::other("disk full"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "disk full");
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert!(!temp_path(&path).exists());
    }

    #[test]
    fn a_kill_before_the_rename_keeps_the_old_file_and_the_leftover_is_recognised() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("loss.png");
        write_atomic(&path, b"old").unwrap();
        // A kill after the temporary file was written, before the rename.
        std::fs::write(temp_path(&path), b"never committed").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        remove_temp_files(dir.path()).unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["loss.png"]);
    }

    #[test]
    fn the_temporary_name_keeps_the_extension_and_is_recognised() {
        let tmp = temp_path(Path::new("/r/plots/loss.png"));
        let name = tmp.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.ends_with(".png"), "{name}");
        assert!(name.starts_with(".loss.png."), "{name}");
        assert!(is_temp_name(&name));
        assert!(!is_temp_name("loss.png"));
        assert!(!is_temp_name(".hidden"));
        assert_eq!(tmp.parent(), Some(Path::new("/r/plots")));
    }
}
