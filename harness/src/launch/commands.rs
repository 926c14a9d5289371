//! The ends of `adamp run --launcher slurm` and `adamp reproduce --launcher slurm`: refuse what
//! a submission cannot take, submit, and tell the user what was submitted and how to follow it.

use std::path::Path;

use anyhow::Result;

use super::{bad, script, submit, ConfigJob, Submitted};
use crate::cli::BadInput;

/// What to tell the user after a submission: the job ids and how to follow them.
pub fn describe(submitted: &Submitted, out: &Path, status_args: &str) -> String {
    let mut text = String::new();
    for a in &submitted.record.arrays {
        text.push_str(&format!(
            "  job {} : {} ({} of {} run(s); array {})\n",
            a.job_id,
            a.name,
            a.indices.len(),
            a.runs.len(),
            script::array_spec(&a.indices)
        ));
    }
    let mut ids = submitted.record.job_ids();
    ids.extend(submitted.record.report_job.clone());
    let ids = ids.join(",");
    if let Some(report) = &submitted.record.report_job {
        text.push_str(&format!(
            "  job {report} : adamp report {} (after the arrays)\n",
            out.display()
        ));
    }
    text.push_str(&format!(
        "scripts, manifests and logs: {}\nfollow: squeue -j {ids} ; adamp status {status_args} ; sacct -j {ids} (with accounting)",
        submitted.dir.display()
    ));
    text
}

/// `adamp run --launcher slurm` and the end of `adamp reproduce --launcher slurm`: submit, then
/// say what was submitted (or build the report here when every run is finished).
pub fn submit_and_report(
    jobs: &[ConfigJob],
    out: &Path,
    force: bool,
    only: Option<&str>,
    status_args: &str,
) -> Result<i32> {
    if force {
        return Err(bad(
            "--force with --launcher slurm: a requeued array task would start its run over; remove the run folders to rerun them (or give another --out)".into(),
        ));
    }
    if only.is_some() {
        return Err(bad(
            "--only with --launcher slurm: a submission takes every run of the config (finished ones are left out); --only is what each array task runs".into(),
        ));
    }
    crate::cli::probe_writable(out).map_err(|e| anyhow::Error::from(BadInput(e)))?;
    match submit(jobs, out)? {
        Err(left_out) if left_out.queued > 0 => {
            eprintln!(
                "slurm: nothing submitted: {} run(s) finished, {} still queued or running from an earlier submission (adamp status {status_args})",
                left_out.finished, left_out.queued
            );
        }
        Err(_) => {
            eprintln!(
                "slurm: every run in {} is finished; nothing submitted",
                out.display()
            );
            let summary = crate::report::build_report(out)?;
            eprintln!("report: {}", summary.report_path.display());
        }
        Ok(submitted) => {
            eprintln!(
                "slurm: submitted {} job array(s) ({} run(s) already finished, {} still queued from an earlier submission: left out):\n{}",
                submitted.record.arrays.len(),
                submitted.left_out.finished,
                submitted.left_out.queued,
                describe(&submitted, out, status_args)
            );
            for a in &submitted.record.arrays {
                println!("{}", a.job_id);
            }
            if let Some(r) = &submitted.record.report_job {
                println!("{r}");
            }
        }
    }
    Ok(0)
}

/// `adamp reproduce --launcher slurm`: every config of the profile must load (nothing is
/// submitted otherwise), then one array per config and the report job.
pub fn reproduce_on_slurm(options: &crate::reproduce::ReproduceOptions) -> Result<i32> {
    let selection = crate::reproduce::select(options)?;
    if !selection.failed.is_empty() {
        let list: Vec<String> = selection.failed.iter().map(|f| f.detail.clone()).collect();
        return Err(bad(format!(
            "nothing submitted: {} config(s) do not load: {}",
            list.len(),
            list.join("; ")
        )));
    }
    let jobs: Vec<ConfigJob> = selection
        .experiments
        .into_iter()
        .map(|(experiment, load)| ConfigJob { experiment, load })
        .collect();
    let mut status_args = format!("{} --profile {}", selection.out.display(), options.profile);
    if options.configs_dir != Path::new("configs") {
        status_args.push_str(&format!(" --configs {}", options.configs_dir.display()));
    }
    for o in &options.only {
        status_args.push_str(&format!(" --only {o}"));
    }
    submit_and_report(&jobs, &selection.out, options.force, None, &status_args)
}
