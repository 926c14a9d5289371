//! The Slurm commands the launcher and `adamp status` call: `sbatch`, `scontrol`, `scancel`,
//! `squeue`, `sacct`. Each failure names the command and what it printed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{anyhow, bail, Context, Result};

/// Slurm's default `MaxArraySize` (used when `scontrol` does not say).
pub const DEFAULT_MAX_ARRAY_SIZE: usize = 1001;

/// `name` on the `PATH`, if there.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn output(command: &mut Command) -> Result<(bool, String, String)> {
    let shown = format!("{command:?}").replace('"', "");
    let o = command
        .output()
        .with_context(|| format!("running `{shown}`"))?;
    Ok((
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).trim().to_string(),
        String::from_utf8_lossy(&o.stderr).trim().replace('\n', " "),
    ))
}

/// `MaxArraySize` from `scontrol show config`: array indices must be below it.
pub fn max_array_size() -> usize {
    let parsed = output(Command::new("scontrol").args(["show", "config"]))
        .ok()
        .filter(|(ok, _, _)| *ok)
        .and_then(|(_, stdout, _)| parse_max_array_size(&stdout));
    parsed.unwrap_or_else(|| {
        tracing::warn!(
            "`scontrol show config` did not say MaxArraySize; assuming Slurm's default {DEFAULT_MAX_ARRAY_SIZE}"
        );
        DEFAULT_MAX_ARRAY_SIZE
    })
}

/// The `MaxArraySize = N` line of `scontrol show config`.
pub fn parse_max_array_size(config: &str) -> Option<usize> {
    config.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        (key.trim() == "MaxArraySize")
            .then(|| value.trim().parse().ok())
            .flatten()
    })
}

/// `sbatch --test-only <script>`: Slurm checks the script's options (partition, time limit,
/// account, gres) without submitting.
pub fn test_only(script: &Path) -> Result<()> {
    let (ok, _, stderr) = output(Command::new("sbatch").arg("--test-only").arg(script))?;
    if !ok {
        bail!("sbatch --test-only {}: {stderr}", script.display());
    }
    Ok(())
}

/// `sbatch --parsable [args] <script>`; the job id.
pub fn submit(script: &Path, args: &[String]) -> Result<String> {
    let (ok, stdout, stderr) = output(
        Command::new("sbatch")
            .arg("--parsable")
            .args(args)
            .arg(script),
    )?;
    if !ok {
        bail!("sbatch {}: {stderr}", script.display());
    }
    parse_job_id(&stdout).ok_or_else(|| {
        anyhow!(
            "sbatch {}: expected a job id, got {stdout:?}",
            script.display()
        )
    })
}

/// The job id in `sbatch --parsable`'s answer (`123` or `123;cluster`).
pub fn parse_job_id(stdout: &str) -> Option<String> {
    let id = stdout.lines().last()?.split(';').next()?.trim();
    (!id.is_empty() && id.chars().all(|c| c.is_ascii_digit())).then(|| id.to_string())
}

/// `scancel <ids>` (undoing a submission that failed half-way).
pub fn cancel(job_ids: &[String]) -> Result<()> {
    if job_ids.is_empty() {
        return Ok(());
    }
    let (ok, _, stderr) = output(Command::new("scancel").args(job_ids))?;
    if !ok {
        bail!("scancel {}: {stderr}", job_ids.join(" "));
    }
    Ok(())
}

/// The scheduler's state of each array task of `job_ids` that is still queued or running, as
/// `(job id, array index) -> state` (`PENDING`, `RUNNING`, ...), from `squeue --array`.
pub fn queue_states(job_ids: &[String]) -> Result<BTreeMap<(String, usize), String>> {
    let mut states = BTreeMap::new();
    // One job at a time: squeue fails for an id the controller has already forgotten
    // (MinJobAge after it ended), and that must not hide the others.
    for id in job_ids {
        let (ok, stdout, stderr) = output(Command::new("squeue").args([
            "--noheader",
            "--array",
            "--states=all",
            "--format=%i|%T",
            "--jobs",
            id,
        ]))?;
        if ok {
            states.extend(parse_task_states(&stdout));
        } else {
            tracing::debug!("squeue --jobs {id}: {stderr}");
        }
    }
    Ok(states)
}

/// Whether a scheduler state means the task will still run or is running.
pub fn is_live(state: &str) -> bool {
    matches!(
        state,
        "PENDING"
            | "CONFIGURING"
            | "RUNNING"
            | "COMPLETING"
            | "REQUEUED"
            | "REQUEUE_HOLD"
            | "REQUEUE_FED"
            | "RESIZING"
            | "SUSPENDED"
            | "STAGE_OUT"
            | "SIGNALING"
    )
}

/// The final state of each array task from `sacct`, when accounting answers (it needs
/// slurmdbd); `None` when it does not.
pub fn accounting_states(job_ids: &[String]) -> Option<BTreeMap<(String, usize), String>> {
    if job_ids.is_empty() {
        return Some(BTreeMap::new());
    }
    let (ok, stdout, _) = output(Command::new("sacct").args([
        "--noheader",
        "--parsable2",
        "--format=JobID,State",
        "--jobs",
        &job_ids.join(","),
    ]))
    .ok()?;
    ok.then(|| parse_task_states(&stdout))
}

/// `<job>_<index>|<STATE>` lines (squeue and sacct); pending ranges (`123_[2-5]`), job steps
/// (`123_4.batch`) and non-array lines are left out. `CANCELLED by 0` keeps its first word.
pub fn parse_task_states(text: &str) -> BTreeMap<(String, usize), String> {
    text.lines()
        .filter_map(|line| {
            let (id, state) = line.split_once('|')?;
            let (job, index) = id.trim().split_once('_')?;
            let index: usize = index.parse().ok()?;
            let state = state.split_whitespace().next()?.to_string();
            Some(((job.to_string(), index), state))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_array_size_is_read_from_scontrol_show_config() {
        let text = "MailProg                = /bin/mail\nMaxArraySize            = 1001\nMaxJobCount             = 10000\n";
        assert_eq!(parse_max_array_size(text), Some(1001));
        assert_eq!(parse_max_array_size("MaxJobCount = 3"), None);
    }

    #[test]
    fn sbatch_parsable_answers_give_the_job_id() {
        assert_eq!(parse_job_id("123\n").as_deref(), Some("123"));
        assert_eq!(parse_job_id("123;cluster").as_deref(), Some("123"));
        assert_eq!(parse_job_id("Submitted batch job 123"), None);
    }

    #[test]
    fn task_states_skip_ranges_and_steps() {
        let states = parse_task_states(
            "12_0|RUNNING\n12_[2-5]|PENDING\n12_1|CANCELLED by 0\n12_1.batch|CANCELLED\n13|PENDING\n",
        );
        assert_eq!(states.len(), 2);
        assert_eq!(states[&("12".to_string(), 0)], "RUNNING");
        assert_eq!(states[&("12".to_string(), 1)], "CANCELLED");
    }
}
