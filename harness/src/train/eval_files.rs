//! The files a task's evaluation leaves in the run folder ([`adamp_task_api::EvalOutput::files`],
//! e.g. the detection task's `detections.json`), each written atomically so a kill never
//! leaves half a file, and each replacing the previous evaluation's.

use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::lock::LOCK_FILE;

/// Names the loop itself writes in a run folder; a task may not write over them.
const RESERVED: &[&str] = &[
    "summary.csv",
    "metrics.csv",
    "config.resolved.toml",
    "checkpoint",
    LOCK_FILE,
];

/// Refuse a name that is not a plain file name (a folder, `..`, a hidden or temporary name) or
/// is one of the loop's own files.
fn check_name(name: &str) -> Result<()> {
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\'])
        && !adamp_fsio::is_temp_name(name);
    if !plain {
        bail!("an evaluation file must be a plain file name, got `{name}`");
    }
    if RESERVED.contains(&name) || name.starts_with("checkpoint") {
        bail!("an evaluation file may not be named `{name}`: the training loop writes that file");
    }
    Ok(())
}

/// Write `files` into `folder`; every name is checked before anything is written.
pub(super) fn write_eval_files(folder: &Path, files: &[(String, Vec<u8>)]) -> Result<()> {
    for (name, _) in files {
        check_name(name)?;
    }
    for (name, bytes) in files {
        let path = folder.join(name);
        adamp_fsio::write_atomic(&path, bytes)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_are_written_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        write_eval_files(dir.path(), &[("detections.json".into(), b"[1]".to_vec())]).unwrap();
        write_eval_files(dir.path(), &[("detections.json".into(), b"[2]".to_vec())]).unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("detections.json")).unwrap(),
            b"[2]"
        );
    }

    #[test]
    fn folders_hidden_names_and_the_loops_files_are_refused_before_writing() {
        let dir = tempfile::tempdir().unwrap();
        for bad in [
            "../x.json",
            "sub/x.json",
            ".hidden",
            "",
            "summary.csv",
            "checkpoint",
        ] {
            let files = [
                ("ok.json".to_string(), b"{}".to_vec()),
                (bad.to_string(), b"{}".to_vec()),
            ];
            let err = write_eval_files(dir.path(), &files)
                .unwrap_err()
                .to_string();
            assert!(err.contains("evaluation file"), "{bad}: {err}");
            assert!(
                !dir.path().join("ok.json").exists(),
                "{bad}: wrote before checking"
            );
        }
    }
}
