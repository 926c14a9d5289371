//! The `sbatch` scripts: one job array per config (one array index = one run folder, looked up
//! in the manifest beside the script) and the report job that runs after them. Pure text
//! generation, so it is tested without Slurm.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::config::{LoadOptions, SlurmSettings};

/// How an array task calls `adamp`: `adamp run <config> ... --only <label>/seed-<n>`, with the
/// same profile, `--set`, `--seeds` and `--device` as the submitting command, so it resolves
/// exactly the run the local launcher would.
#[derive(Debug, Clone)]
pub struct TaskCommand {
    /// The `adamp` binary (absolute; compute nodes run the same file).
    pub adamp: PathBuf,
    /// The config file (absolute).
    pub config: PathBuf,
    /// The profile merged into the config, `--set`, `--seeds`, `--device`.
    pub load: LoadOptions,
    /// The results folder (absolute).
    pub out: PathBuf,
}

impl TaskCommand {
    /// The arguments after the binary, before `--only`.
    pub fn args(&self) -> Vec<String> {
        let mut args = vec!["run".to_string(), self.config.display().to_string()];
        if let Some(profile) = &self.load.profile {
            args.extend(["--profile".into(), profile.clone()]);
        }
        for set in &self.load.sets {
            args.extend(["--set".into(), set.clone()]);
        }
        if let Some(seeds) = &self.load.seeds {
            let seeds: Vec<String> = seeds.iter().map(u64::to_string).collect();
            args.extend(["--seeds".into(), seeds.join(",")]);
        }
        if let Some(device) = &self.load.device {
            args.extend(["--device".into(), device.clone()]);
        }
        args.extend([
            "--out".into(),
            self.out.display().to_string(),
            "--no-progress".into(),
        ]);
        args
    }
}

/// One job array: a config's runs (or a part of them when they exceed `MaxArraySize`).
#[derive(Debug, Clone)]
pub struct ArrayJob {
    /// `toy2d`, or `toy2d.part1` for the second part of a split array: names the script, the
    /// manifest and the logs.
    pub name: String,
    /// The config's name.
    pub config: String,
    /// The manifest: line `i + 1` is the `--only` of array index `i` (`<label>/seed-<n>`).
    pub runs: Vec<String>,
    /// The array indices to submit (the runs not finished yet).
    pub indices: Vec<usize>,
    /// The config's `[launcher.slurm]`.
    pub settings: SlurmSettings,
    /// How each task calls `adamp`.
    pub command: TaskCommand,
}

/// Split `n` runs into arrays of at most `max_array_size` tasks (Slurm's `MaxArraySize`: array
/// indices must be below it), as ranges of run positions.
pub fn split(n: usize, max_array_size: usize) -> Vec<Range<usize>> {
    let size = max_array_size.max(1);
    (0..n.div_ceil(size))
        .map(|k| k * size..((k + 1) * size).min(n))
        .collect()
}

/// The `--array` value for `indices` (sorted, distinct): ranges where consecutive, `0-3,5,7-9`.
pub fn array_spec(indices: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < indices.len() {
        let start = indices[i];
        let mut end = start;
        while i + 1 < indices.len() && indices[i + 1] == end + 1 {
            i += 1;
            end += 1;
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    parts.join(",")
}

/// `s` quoted for bash (paths, `--set` values).
pub fn quote(s: &str) -> Cow<'_, str> {
    shlex::try_quote(s).unwrap_or(Cow::Borrowed("''"))
}

fn resource_lines(settings: &SlurmSettings, with_task_resources: bool) -> String {
    let mut lines = String::new();
    let mut add = |option: &str, value: Option<String>| {
        if let Some(v) = value {
            let _ = writeln!(lines, "#SBATCH --{option}={v}");
        }
    };
    add("partition", settings.partition.clone());
    add("account", settings.account.clone());
    if with_task_resources {
        add("gres", settings.gres.clone());
        add(
            "cpus-per-task",
            settings.cpus_per_task.map(|c| c.to_string()),
        );
        add("mem", settings.mem.clone());
        add("time", settings.time.clone());
        for extra in &settings.extra {
            let _ = writeln!(lines, "#SBATCH {extra}");
        }
    }
    lines
}

/// The array job's script. `manifest` and `logs` are absolute; `workdir` is where `adamp` runs
/// (relative data roots resolve there, as with the local launcher).
pub fn array_script(job: &ArrayJob, manifest: &Path, logs: &Path, workdir: &Path) -> String {
    let s = &job.settings;
    let mut array = array_spec(&job.indices);
    if let Some(n) = s.max_parallel {
        let _ = write!(array, "%{n}");
    }
    let command: Vec<String> = std::iter::once(job.command.adamp.display().to_string())
        .chain(job.command.args())
        .map(|a| quote(&a).into_owned())
        .collect();
    format!(
        r#"#!/bin/bash
# Written by `adamp --launcher slurm`: the runs of config `{config}`, one array task per run;
# array index i runs line i+1 of the manifest {manifest_shown}.
#SBATCH --job-name=adamp-{name}
#SBATCH --array={array}
#SBATCH --output={logs}/{name}-%A_%a.out
#SBATCH --open-mode=append
#SBATCH --chdir={workdir}
#SBATCH --requeue
#SBATCH --signal=B:USR1@{signal_s}
{resources}
manifest={manifest}
run=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" "$manifest")
if [ -z "$run" ]; then
    echo "adamp: no run at array index ${{SLURM_ARRAY_TASK_ID:-?}} in $manifest" >&2
    exit 2
fi
echo "adamp: task ${{SLURM_ARRAY_JOB_ID}}_${{SLURM_ARRAY_TASK_ID}} (restart ${{SLURM_RESTART_COUNT:-0}}) runs {config}/$run on $(hostname)"

# SIGUSR1 (the time limit is {signal_s} s away) or SIGTERM (preemption, scancel): adamp ends its
# step, writes a checkpoint and exits 3. After SIGUSR1 the task requeues itself; the next
# attempt resumes from that checkpoint. A finished run is skipped.
requeue=0
signalled=0
trap 'signalled=1; requeue=1; kill -TERM "$child" 2>/dev/null' USR1
trap 'signalled=1; kill -TERM "$child" 2>/dev/null' TERM
{command} --only "$run" &
child=$!
while :; do
    signalled=0
    wait "$child"
    rc=$?
    # `wait` returns early (status > 128) when a trapped signal arrives: wait for adamp itself.
    if [ "$signalled" = 1 ] && [ "$rc" -gt 128 ]; then continue; fi
    break
done
if [ "$rc" = 3 ] && [ "$requeue" = 1 ]; then
    scontrol requeue "${{SLURM_ARRAY_JOB_ID}}_${{SLURM_ARRAY_TASK_ID}}"
fi
exit "$rc"
"#,
        config = job.config,
        name = job.name,
        manifest_shown = manifest.display(),
        manifest = quote(&manifest.display().to_string()),
        logs = logs.display(),
        workdir = workdir.display(),
        signal_s = s.checkpoint_signal_s,
        resources = resource_lines(s, true).trim_end(),
        command = command.join(" "),
    )
}

/// The report job's time limit (`--time`, minutes).
pub const REPORT_TIME: &str = "30";

/// The report job's script: `adamp report <out>` once the arrays are done (the dependency is
/// given on the `sbatch` command line). It asks for the partition and account of `settings`,
/// one CPU and [`REPORT_TIME`] (clusters that require a time limit get one): the report reads
/// CSVs and draws plots, a minute at most.
pub fn report_script(
    adamp: &Path,
    out: &Path,
    settings: &SlurmSettings,
    logs: &Path,
    workdir: &Path,
) -> String {
    format!(
        "#!/bin/bash\n# Written by `adamp --launcher slurm`: report.md and the plots of {out_shown} once every\n# array of this submission has ended.\n#SBATCH --job-name=adamp-report\n#SBATCH --output={logs}/report-%j.out\n#SBATCH --chdir={workdir}\n#SBATCH --time={REPORT_TIME}\n{resources}exec {adamp} report {out}\n",
        out_shown = out.display(),
        logs = logs.display(),
        workdir = workdir.display(),
        resources = resource_lines(settings, false),
        adamp = quote(&adamp.display().to_string()),
        out = quote(&out.display().to_string()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_split_at_max_array_size() {
        assert_eq!(split(5, 1001), vec![0..5]);
        assert_eq!(split(5, 2), vec![0..2, 2..4, 4..5]);
        assert_eq!(split(4, 2), vec![0..2, 2..4]);
        assert_eq!(split(0, 2), Vec::<Range<usize>>::new());
    }

    #[test]
    fn array_specs_compress_consecutive_indices() {
        assert_eq!(array_spec(&[0, 1, 2, 3]), "0-3");
        assert_eq!(array_spec(&[0, 1, 2, 3, 5, 7, 8, 9]), "0-3,5,7-9");
        assert_eq!(array_spec(&[4]), "4");
    }

    fn job() -> ArrayJob {
        ArrayJob {
            name: "toy2d".into(),
            config: "toy2d".into(),
            runs: vec!["gd/seed-0".into(), "sgdp/seed-0".into()],
            indices: vec![0, 1],
            settings: SlurmSettings {
                partition: Some("gpu".into()),
                gres: Some("gpu:1".into()),
                time: Some("1-00:00:00".into()),
                max_parallel: Some(4),
                checkpoint_signal_s: 300,
                extra: vec!["--qos=high".into()],
                ..Default::default()
            },
            command: TaskCommand {
                adamp: "/opt/adamp rs/adamp".into(),
                config: "/c/configs/toy2d.toml".into(),
                load: LoadOptions {
                    profile: Some("quick".into()),
                    sets: vec!["report.title=\"a b\"".into()],
                    seeds: Some(vec![0, 1]),
                    device: Some("cuda:0".into()),
                },
                out: "/c/results/quick".into(),
            },
        }
    }

    #[test]
    fn the_array_script_has_the_resources_the_manifest_and_the_quoted_command() {
        let text = array_script(
            &job(),
            Path::new("/c/results/quick/slurm/s/toy2d.runs"),
            Path::new("/c/results/quick/slurm/s/logs"),
            Path::new("/c"),
        );
        for line in [
            "#SBATCH --array=0-1%4",
            "#SBATCH --output=/c/results/quick/slurm/s/logs/toy2d-%A_%a.out",
            "#SBATCH --requeue",
            "#SBATCH --signal=B:USR1@300",
            "#SBATCH --partition=gpu",
            "#SBATCH --gres=gpu:1",
            "#SBATCH --time=1-00:00:00",
            "#SBATCH --qos=high",
            "manifest=/c/results/quick/slurm/s/toy2d.runs",
            "'/opt/adamp rs/adamp' run /c/configs/toy2d.toml --profile quick --set 'report.title=\"a b\"' --seeds '0,1' --device cuda:0 --out /c/results/quick --no-progress --only \"$run\" &",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
        // Every #SBATCH line comes before the first command (sbatch stops reading there).
        let first_command = text
            .lines()
            .position(|l| l.starts_with("manifest="))
            .unwrap();
        assert!(text
            .lines()
            .skip(first_command)
            .all(|l| !l.starts_with("#SBATCH")));
    }

    #[test]
    fn the_report_script_asks_for_no_gpu() {
        let text = report_script(
            Path::new("/bin/adamp"),
            Path::new("/r"),
            &job().settings,
            Path::new("/r/slurm/s/logs"),
            Path::new("/c"),
        );
        assert!(text.contains("#SBATCH --partition=gpu\n"), "{text}");
        assert!(!text.contains("gres"), "{text}");
        assert!(text.contains("#SBATCH --time=30\n"), "{text}");
        assert!(text.ends_with("exec /bin/adamp report /r\n"), "{text}");
    }
}
