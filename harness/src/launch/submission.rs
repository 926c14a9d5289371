//! A submission's folder, `<out>/slurm/<UTC time>/`: the scripts, the manifests (one line per
//! array index), the logs, and `submission.toml`, the record `adamp status` reads back (which job
//! array ran which run). Every file is written atomically; a folder is never rewritten, so a
//! running array keeps reading the manifest it was submitted with.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// The folder under the results folder holding the submissions.
pub const SLURM_DIR: &str = "slurm";
/// The record's file name.
pub const RECORD: &str = "submission.toml";

/// What was submitted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmissionRecord {
    /// When (UTC).
    pub created: String,
    /// The results folder (absolute).
    pub out: String,
    /// The job arrays.
    #[serde(default)]
    pub arrays: Vec<ArrayRecord>,
    /// The report job's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_job: Option<String>,
}

/// One submitted job array.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArrayRecord {
    /// The config's name.
    pub config: String,
    /// The script's name (`toy2d`, `toy2d.part1`).
    pub name: String,
    /// The job id.
    pub job_id: String,
    /// Array index `i` runs `<config>/<runs[i]>` (the manifest's lines).
    pub runs: Vec<String>,
    /// The indices submitted (the others were finished).
    pub indices: Vec<usize>,
}

impl SubmissionRecord {
    /// Each run id (`<config>/<label>/seed-<n>`) with the job id and array index that ran it.
    pub fn tasks(&self) -> Vec<(String, String, usize)> {
        self.arrays
            .iter()
            .flat_map(|a| {
                a.indices.iter().filter_map(move |&i| {
                    let run = a.runs.get(i)?;
                    Some((format!("{}/{run}", a.config), a.job_id.clone(), i))
                })
            })
            .collect()
    }

    /// The array job ids.
    pub fn job_ids(&self) -> Vec<String> {
        self.arrays.iter().map(|a| a.job_id.clone()).collect()
    }
}

/// Create a new submission folder (and its `logs/`) under `<out>/slurm/`, named by the UTC
/// time (`20261204T165822Z`, `-2`, `-3`, ... when taken).
pub fn create_folder(out: &Path) -> Result<PathBuf> {
    let parent = out.join(SLURM_DIR);
    std::fs::create_dir_all(&parent)
        .with_context(|| format!("creating {} (check --out)", parent.display()))?;
    let stamp: String = crate::record::resolved::utc_now()
        .chars()
        .filter(|c| !matches!(c, '-' | ':'))
        .collect();
    for n in 1.. {
        let name = if n == 1 {
            stamp.clone()
        } else {
            format!("{stamp}-{n}")
        };
        let dir = parent.join(name);
        match std::fs::create_dir(&dir) {
            Ok(()) => {
                std::fs::create_dir(dir.join("logs"))
                    .with_context(|| format!("creating {}/logs", dir.display()))?;
                return Ok(dir);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("creating {}", dir.display())),
        }
    }
    unreachable!("an unbounded range ends only by returning")
}

/// Write `text` to `path` atomically.
pub fn write(path: &Path, text: &str) -> Result<()> {
    adamp_fsio::write_atomic(path, text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

/// The manifest's text: one `--only` value per line, line `i + 1` for array index `i`.
pub fn manifest_text(runs: &[String]) -> String {
    runs.iter().map(|r| format!("{r}\n")).collect()
}

/// Save the record into the submission folder.
pub fn save(dir: &Path, record: &SubmissionRecord) -> Result<()> {
    let text = toml::to_string(record).context("formatting the submission record")?;
    write(
        &dir.join(RECORD),
        &format!("# Written by `adamp --launcher slurm`; read by `adamp status`.\n{text}"),
    )
}

/// Every submission record under `<out>/slurm/`, oldest first.
pub fn load_all(out: &Path) -> Result<Vec<SubmissionRecord>> {
    let parent = out.join(SLURM_DIR);
    if !parent.is_dir() {
        return Ok(Vec::new());
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&parent)
        .with_context(|| format!("listing {}", parent.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join(RECORD).is_file())
        .collect();
    dirs.sort();
    dirs.iter()
        .map(|d| {
            let path = d.join(RECORD);
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            toml::from_str(&text)
                .with_context(|| format!("{}: not a submission record", path.display()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_and_maps_runs_to_array_tasks() {
        let dir = tempfile::tempdir().unwrap();
        let sub = create_folder(dir.path()).unwrap();
        let again = create_folder(dir.path()).unwrap();
        assert_ne!(sub, again, "two submissions in one second get two folders");
        assert!(sub.join("logs").is_dir());
        let record = SubmissionRecord {
            created: "2026-12-04T00:00:00Z".into(),
            out: dir.path().display().to_string(),
            arrays: vec![ArrayRecord {
                config: "toy2d".into(),
                name: "toy2d".into(),
                job_id: "17".into(),
                runs: vec!["gd/seed-0".into(), "sgdp/seed-0".into()],
                indices: vec![1],
            }],
            report_job: Some("18".into()),
        };
        save(&sub, &record).unwrap();
        assert_eq!(load_all(dir.path()).unwrap(), vec![record.clone()]);
        assert_eq!(
            record.tasks(),
            vec![("toy2d/sgdp/seed-0".to_string(), "17".to_string(), 1)]
        );
        assert_eq!(
            manifest_text(&record.arrays[0].runs),
            "gd/seed-0\nsgdp/seed-0\n"
        );
    }
}
