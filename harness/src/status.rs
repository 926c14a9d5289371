//! `adamp status`: every expected run of a profile and where it stands.
//!
//! The run folders say what is finished (`summary.csv`'s last status: `completed`, `diverged`),
//! what a process on this machine is writing (its `run.lock` is held: `running`) and what
//! stopped half-way (a checkpoint or rows but no final status: `failed`, resumable). When the
//! results folder holds Slurm submissions (`<out>/slurm/*/submission.toml`), the scheduler adds
//! what the folders cannot show: `squeue` (queued, running, and recently ended tasks) always,
//! and `sacct` (the final state of long-gone tasks) only when accounting answers, i.e. on
//! clusters with slurmdbd.

use std::collections::BTreeMap;
use std::fs::{File, TryLockError};
use std::path::Path;

use anyhow::Result;

use crate::launch::{slurm, submission};
use crate::lock::LOCK_FILE;
use crate::record::read::read_summary;
use crate::reproduce::{self, ReproduceOptions};

/// What a run folder shows.
#[derive(Debug, Clone, PartialEq)]
pub enum DiskState {
    /// No folder, or one holding nothing yet.
    Missing,
    /// Finished: `completed` or `diverged`.
    Finished(String),
    /// A process on this machine holds its lock.
    Locked(String),
    /// Started but not finished and not locked: killed or stopped; the last checkpoint's step.
    Stopped(Option<u64>),
}

/// The state of the run folder `folder`.
pub fn disk_state(folder: &Path) -> DiskState {
    if !folder.is_dir() {
        return DiskState::Missing;
    }
    if let Some(status) = read_summary(&folder.join("summary.csv"))
        .ok()
        .and_then(|s| s.last_status().map(str::to_string))
        .filter(|s| matches!(s.as_str(), "completed" | "diverged"))
    {
        return DiskState::Finished(status);
    }
    if let Ok(file) = File::open(folder.join(LOCK_FILE)) {
        if let Err(TryLockError::WouldBlock) = file.try_lock() {
            let holder = std::fs::read_to_string(folder.join(LOCK_FILE)).unwrap_or_default();
            return DiskState::Locked(holder.trim().to_string());
        }
    }
    let step = crate::checkpoint::find(folder).and_then(|dir| checkpoint_step(&dir));
    if step.is_some() || folder.join("summary.csv").is_file() {
        DiskState::Stopped(step)
    } else {
        DiskState::Missing
    }
}

fn checkpoint_step(dir: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(dir.join("state.json")).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value.get("step")?.as_u64()
}

/// One line of `adamp status`.
#[derive(Debug, Clone, PartialEq)]
pub struct RunState {
    /// `<config>/<label>/seed-<n>`.
    pub run: String,
    /// `completed`, `diverged`, `pending`, `running`, `failed` or `missing`.
    pub state: String,
    /// The scheduler's state, the checkpoint step, the lock holder.
    pub detail: String,
}

/// The state of every run `options` selects, in the order `reproduce` runs them.
pub fn status(options: &ReproduceOptions) -> Result<Vec<RunState>> {
    let selection = reproduce::select(options)?;
    let out = &selection.out;
    // The newest submission that ran a run is the one that counts.
    let mut task_of: BTreeMap<String, (String, usize)> = BTreeMap::new();
    let mut job_ids = Vec::new();
    for record in submission::load_all(out)? {
        job_ids.extend(record.job_ids());
        for (run, job, index) in record.tasks() {
            task_of.insert(run, (job, index));
        }
    }
    let queued = slurm::queue_states(&job_ids).unwrap_or_default();
    let accounted = if job_ids.is_empty() {
        None
    } else {
        slurm::accounting_states(&job_ids)
    };
    let mut states: Vec<RunState> = selection
        .failed
        .iter()
        .map(|f| RunState {
            run: f.run.clone(),
            state: "failed".into(),
            detail: f.detail.clone(),
        })
        .collect();
    for (experiment, _) in &selection.experiments {
        for spec in experiment.runs() {
            let run = spec.run_id();
            let task = task_of.get(&run);
            let scheduler = task.and_then(|t| {
                queued
                    .get(t)
                    .or_else(|| accounted.as_ref().and_then(|a| a.get(t)))
                    .map(|s| (format!("{}_{}", t.0, t.1), s.clone()))
            });
            let (state, detail) = classify(disk_state(&spec.folder(out)), scheduler);
            states.push(RunState { run, state, detail });
        }
    }
    Ok(states)
}

/// Combine a run folder's state with its array task's scheduler state (`(task id, STATE)`).
pub fn classify(disk: DiskState, scheduler: Option<(String, String)>) -> (String, String) {
    let sched = scheduler
        .as_ref()
        .map(|(id, s)| format!("Slurm task {id} {s}"));
    let with = |text: String| match &sched {
        Some(s) if text.is_empty() => s.clone(),
        Some(s) => format!("{text}; {s}"),
        None => text,
    };
    let live = scheduler.as_ref().map(|(_, s)| s.as_str());
    match (disk, live) {
        (DiskState::Finished(status), _) => (status, String::new()),
        (DiskState::Locked(holder), _) => ("running".into(), with(holder)),
        (disk, Some("RUNNING" | "COMPLETING" | "CONFIGURING" | "STAGE_OUT")) => {
            ("running".into(), with(stopped_detail(&disk)))
        }
        (disk, Some("PENDING" | "REQUEUED" | "REQUEUE_HOLD" | "REQUEUE_FED" | "SUSPENDED")) => {
            ("pending".into(), with(stopped_detail(&disk)))
        }
        (DiskState::Missing, None) => ("missing".into(), "not started".into()),
        (disk, _) => (
            "failed".into(),
            with(format!(
                "{}; run it again (or resubmit) to resume",
                match stopped_detail(&disk) {
                    d if d.is_empty() => "not finished".to_string(),
                    d => d,
                }
            )),
        ),
    }
}

fn stopped_detail(disk: &DiskState) -> String {
    match disk {
        DiskState::Stopped(Some(step)) => format!("checkpoint at step {step}"),
        DiskState::Stopped(None) => "started, no checkpoint".into(),
        _ => String::new(),
    }
}

/// The tally line: `6 run(s): 4 completed, 1 running, 1 missing`.
pub fn tally(states: &[RunState]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for s in states {
        *counts.entry(s.state.as_str()).or_default() += 1;
    }
    let order = [
        "completed",
        "diverged",
        "running",
        "pending",
        "failed",
        "missing",
    ];
    let parts: Vec<String> = order
        .iter()
        .filter_map(|k| counts.get(k).map(|n| format!("{n} {k}")))
        .collect();
    format!("{} run(s): {}", states.len(), parts.join(", "))
}

/// `adamp status`: one line per run, then the tally; exit code 0 (it only reads).
pub fn print_status(options: &ReproduceOptions) -> Result<i32> {
    let states = status(options)?;
    for s in &states {
        let line = format!("{:<10} {:<44} {}", s.state, s.run, s.detail);
        println!("{}", line.trim_end());
    }
    println!("{}", tally(&states));
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sched(state: &str) -> Option<(String, String)> {
        Some(("12_3".into(), state.into()))
    }

    #[test]
    fn folders_and_scheduler_states_combine() {
        assert_eq!(
            classify(DiskState::Finished("diverged".into()), sched("COMPLETED")).0,
            "diverged"
        );
        assert_eq!(
            classify(DiskState::Stopped(Some(40)), sched("RUNNING")),
            (
                "running".into(),
                "checkpoint at step 40; Slurm task 12_3 RUNNING".into()
            )
        );
        assert_eq!(classify(DiskState::Missing, sched("PENDING")).0, "pending");
        assert_eq!(
            classify(DiskState::Stopped(Some(40)), sched("CANCELLED")),
            (
                "failed".into(),
                "checkpoint at step 40; run it again (or resubmit) to resume; Slurm task 12_3 CANCELLED"
                    .into()
            )
        );
        assert_eq!(classify(DiskState::Missing, sched("FAILED")).0, "failed");
        assert_eq!(classify(DiskState::Missing, None).0, "missing");
        assert_eq!(classify(DiskState::Stopped(None), None).0, "failed");
    }

    #[test]
    fn a_locked_folder_is_running_and_a_killed_one_failed() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(disk_state(&dir.path().join("none")), DiskState::Missing);
        assert_eq!(disk_state(dir.path()), DiskState::Missing);
        let lock = crate::lock::RunLock::acquire(dir.path()).unwrap();
        assert!(matches!(disk_state(dir.path()), DiskState::Locked(h) if h.starts_with("PID ")));
        drop(lock);
        std::fs::create_dir(dir.path().join("checkpoint")).unwrap();
        std::fs::write(
            dir.path().join("checkpoint/state.json"),
            r#"{"step": 7, "elapsed_bits": 0}"#,
        )
        .unwrap();
        assert_eq!(disk_state(dir.path()), DiskState::Stopped(Some(7)));
    }
}
