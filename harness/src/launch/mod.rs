//! Where the runs run: here, one after another (the local launcher, `train::Preflight`), or as
//! Slurm job arrays (`--launcher slurm`): one array per config, one array task per run folder,
//! each running `adamp run <config> --only <label>/seed-<n>`, and `adamp report` as a job that
//! depends on all of them (`afterany`), so the results folder ends with the same report.md.
//!
//! A submission checks everything it can before submitting anything: `sbatch` on the PATH, the
//! configs (done by the caller), each script with `sbatch --test-only` (the partition, time
//! limit, account, gres of `[launcher.slurm]`). If a submission fails half-way, the arrays
//! already submitted are cancelled and the submission folder removed.

mod commands;
pub mod script;
pub mod slurm;
pub mod submission;

pub use commands::{describe, reproduce_on_slurm, submit_and_report};

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};

use crate::cli::BadInput;
use crate::config::{Experiment, LoadOptions};
use crate::status::{disk_state, DiskState};
use script::{ArrayJob, TaskCommand};
use submission::{ArrayRecord, SubmissionRecord};

/// `--launcher`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Launcher {
    /// Run here, one run after another.
    #[default]
    Local,
    /// Submit Slurm job arrays (`sbatch`) and a dependent report job.
    Slurm,
}

/// One config to submit, with the options it was loaded with.
#[derive(Debug, Clone)]
pub struct ConfigJob {
    /// The checked config.
    pub experiment: Experiment,
    /// Its profile merge, `--set`, `--seeds`, `--device` (repeated by every array task).
    pub load: LoadOptions,
}

/// What was submitted.
#[derive(Debug, Clone)]
pub struct Submitted {
    /// The submission folder (`<out>/slurm/<time>/`).
    pub dir: PathBuf,
    /// The record written there.
    pub record: SubmissionRecord,
    /// Runs left out.
    pub left_out: LeftOut,
}

/// Runs a submission leaves out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LeftOut {
    /// Their folders hold finished runs.
    pub finished: usize,
    /// A task of an earlier submission is still queued or running them.
    pub queued: usize,
}

pub(crate) fn bad(message: String) -> anyhow::Error {
    BadInput(anyhow!(message)).into()
}

/// Plan the arrays: every run of every config, split at `max_array_size`, each array submitting
/// only the runs whose folders are not finished and that no earlier task still has queued or
/// running (`queued`: run ids).
pub fn plan(
    jobs: &[ConfigJob],
    out: &Path,
    adamp: &Path,
    max_array_size: usize,
    queued: &BTreeSet<String>,
) -> (Vec<ArrayJob>, LeftOut) {
    let mut arrays = Vec::new();
    let mut left_out = LeftOut::default();
    for job in jobs {
        let runs = job.experiment.runs();
        let parts = script::split(runs.len(), max_array_size);
        let several = parts.len() > 1;
        for (k, part) in parts.into_iter().enumerate() {
            let specs = &runs[part];
            let mut indices = Vec::new();
            for (i, spec) in specs.iter().enumerate() {
                if matches!(disk_state(&spec.folder(out)), DiskState::Finished(_)) {
                    left_out.finished += 1;
                } else if queued.contains(&spec.run_id()) {
                    left_out.queued += 1;
                } else {
                    indices.push(i);
                }
            }
            if indices.is_empty() {
                continue;
            }
            let name = if several {
                format!("{}.part{k}", job.experiment.name)
            } else {
                job.experiment.name.clone()
            };
            arrays.push(ArrayJob {
                name,
                config: job.experiment.name.clone(),
                runs: specs
                    .iter()
                    .map(|s| format!("{}/seed-{}", s.label, s.seed))
                    .collect(),
                indices,
                settings: job
                    .experiment
                    .config
                    .launcher
                    .slurm
                    .clone()
                    .unwrap_or_default(),
                command: TaskCommand {
                    adamp: adamp.to_path_buf(),
                    config: std::path::absolute(&job.experiment.path)
                        .unwrap_or_else(|_| job.experiment.path.clone()),
                    load: job.load.clone(),
                    out: out.to_path_buf(),
                },
            });
        }
    }
    (arrays, left_out)
}

/// The run ids that a task of an earlier submission into `out` still has queued or running.
fn queued_runs(out: &Path) -> BTreeSet<String> {
    let records = submission::load_all(out).unwrap_or_else(|e| {
        tracing::warn!("{e:#}; earlier submissions are not checked for queued runs");
        Vec::new()
    });
    let ids: Vec<String> = records.iter().flat_map(|r| r.job_ids()).collect();
    let states = slurm::queue_states(&ids).unwrap_or_default();
    records
        .iter()
        .flat_map(|r| r.tasks())
        .filter(|(_, job, index)| {
            states
                .get(&(job.clone(), *index))
                .is_some_and(|s| slurm::is_live(s))
        })
        .map(|(run, _, _)| run)
        .collect()
}

/// Submit `jobs` as Slurm job arrays writing into `out`, then the report job. `Err(left out)`
/// when every run is finished or still queued (nothing submitted).
pub fn submit(jobs: &[ConfigJob], out: &Path) -> Result<std::result::Result<Submitted, LeftOut>> {
    let workdir = std::env::current_dir().context("reading the working directory")?;
    for (what, path) in [("--out", out), ("the working directory", workdir.as_path())] {
        if path.to_string_lossy().chars().any(char::is_whitespace) {
            return Err(bad(format!(
                "--launcher slurm: {what} {:?} holds a space, which #SBATCH lines (--output, --chdir) cannot; use a path without spaces",
                path.display()
            )));
        }
    }
    if slurm::on_path("sbatch").is_none() {
        return Err(bad(
            "--launcher slurm: `sbatch` is not on the PATH; run this on a machine of the Slurm cluster (a login node), or leave out --launcher slurm to run here".into(),
        ));
    }
    let out = std::path::absolute(out)
        .with_context(|| format!("--out {}: cannot make it absolute", out.display()))?;
    if out.starts_with("/tmp") || out.starts_with("/var/tmp") {
        tracing::warn!(
            "--out {}: under /tmp, which compute nodes usually do not share with this machine; on a cluster give --out a folder on a shared file system",
            out.display()
        );
    }
    let adamp = std::env::current_exe().context("finding the adamp binary to submit")?;
    let queued = queued_runs(&out);
    let (arrays, left_out) = plan(jobs, &out, &adamp, slurm::max_array_size(), &queued);
    if arrays.is_empty() {
        return Ok(Err(left_out));
    }
    let dir = submission::create_folder(&out)?;
    let result = write_and_submit(&arrays, &out, &adamp, &workdir, &dir);
    match result {
        Ok(record) => Ok(Ok(Submitted {
            dir,
            record,
            left_out,
        })),
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            Err(e)
        }
    }
}

/// Write the scripts and manifests, test each script, submit the arrays, then the report job;
/// on a failure, cancel what was submitted.
fn write_and_submit(
    arrays: &[ArrayJob],
    out: &Path,
    adamp: &Path,
    workdir: &Path,
    dir: &Path,
) -> Result<SubmissionRecord> {
    let logs = dir.join("logs");
    let mut scripts = Vec::new();
    for array in arrays {
        let manifest = dir.join(format!("{}.runs", array.name));
        submission::write(&manifest, &submission::manifest_text(&array.runs))?;
        let path = dir.join(format!("{}.sbatch", array.name));
        submission::write(
            &path,
            &script::array_script(array, &manifest, &logs, workdir),
        )?;
        scripts.push(path);
    }
    let report = dir.join("report.sbatch");
    submission::write(
        &report,
        &script::report_script(adamp, out, &arrays[0].settings, &logs, workdir),
    )?;
    for (array, path) in arrays.iter().zip(&scripts) {
        slurm::test_only(path).map_err(|e| {
            bad(format!(
                "{}: [launcher.slurm] refused by Slurm ({e:#}); check launcher.slurm (partition, time, account, gres) in the config or its profile table",
                array.command.config.display()
            ))
        })?;
    }
    let mut record = SubmissionRecord {
        created: crate::record::resolved::utc_now(),
        out: out.display().to_string(),
        ..Default::default()
    };
    let submitted = (|| -> Result<()> {
        for (array, path) in arrays.iter().zip(&scripts) {
            let job_id = slurm::submit(path, &[])?;
            record.arrays.push(ArrayRecord {
                config: array.config.clone(),
                name: array.name.clone(),
                job_id,
                runs: array.runs.clone(),
                indices: array.indices.clone(),
            });
        }
        let dependency = format!("--dependency=afterany:{}", record.job_ids().join(":"));
        record.report_job = Some(slurm::submit(&report, &[dependency])?);
        submission::save(dir, &record)
    })();
    if let Err(e) = submitted {
        let mut ids = record.job_ids();
        ids.extend(record.report_job.clone());
        let cancelled = slurm::cancel(&ids);
        return Err(e.context(match cancelled {
            Ok(()) if ids.is_empty() => "nothing was submitted".to_string(),
            Ok(()) => format!("submission undone: cancelled job(s) {}", ids.join(", ")),
            Err(c) => format!(
                "cancelling the job(s) already submitted ({}) failed too: {c:#}; cancel them by hand",
                ids.join(", ")
            ),
        }));
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::{self, RunOptions, RunStatus};

    #[test]
    fn plans_split_at_max_array_size_and_leave_out_finished_runs() {
        let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/toy3d.toml");
        let load = LoadOptions {
            sets: vec!["training.steps=3".into()],
            ..Default::default()
        };
        let experiment = crate::config::load(&config, &load).unwrap();
        let runs = experiment.runs();
        assert_eq!(runs.len(), 3);
        let out = tempfile::tempdir().unwrap();
        let mut options = RunOptions::new(out.path());
        options.progress = false;
        let done = train::run(&runs[1], &options).unwrap();
        assert_eq!(done.status, RunStatus::Completed);

        let jobs = [ConfigJob { experiment, load }];
        let (arrays, left_out) = plan(
            &jobs,
            out.path(),
            Path::new("/bin/adamp"),
            2,
            &BTreeSet::new(),
        );
        assert_eq!(
            left_out,
            LeftOut {
                finished: 1,
                queued: 0
            }
        );
        let names: Vec<&str> = arrays.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["toy3d.part0", "toy3d.part1"]);
        assert_eq!(arrays[0].runs.len(), 2);
        assert_eq!(
            arrays[0].indices,
            [0],
            "the finished run (index 1) is left out"
        );
        assert_eq!(arrays[1].runs, [format!("{}/seed-0", runs[2].label)]);
        assert_eq!(arrays[1].indices, [0]);
        // A run an earlier task still has queued is left out too (no second task on its folder).
        let queued = BTreeSet::from([runs[2].run_id()]);
        let (only_first, left_out) = plan(&jobs, out.path(), Path::new("/bin/adamp"), 2, &queued);
        assert_eq!(
            left_out,
            LeftOut {
                finished: 1,
                queued: 1
            }
        );
        assert_eq!(only_first.len(), 1);
        assert_eq!(only_first[0].name, "toy3d.part0");
        assert!(arrays[0].command.config.is_absolute());
        assert_eq!(
            arrays[0].command.args()[2..6],
            [
                "--set",
                "training.steps=3",
                "--out",
                &out.path().display().to_string()
            ]
        );
    }
}
