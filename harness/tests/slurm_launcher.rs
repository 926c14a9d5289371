//! `--launcher slurm` against a real Slurm: `make test-slurm` (`.ci/test-slurm`) starts a
//! one-node cluster on this machine (`.ci/slurm-up`), runs these `#[ignore]`d tests with
//! `--ignored` (SLURM_CONF set) and stops the cluster. They wait for the jobs by polling `squeue`
//! and fail when the node goes down instead of waiting on a clock.
//!
//! - the quick profile of the toys and one small classification config, submitted as job arrays
//!   (toy2d's 7 runs split in two arrays at the CI cluster's MaxArraySize of 4), end with the same
//!   report.md, number for number, as the local launcher on the same configs (CPU runs are
//!   deterministic), and `adamp status` lists every run completed;
//! - a run cancelled mid-run (`scancel`) stops with a checkpoint; resubmitted, it resumes there
//!   and ends with the same rows as an uninterrupted local run, while a run warned of its time
//!   limit (`scancel --signal=USR1 --batch`, what `--signal=B:USR1@N` sends) checkpoints and
//!   requeues itself;
//! - a submission Slurm refuses (an unknown partition) submits nothing, nor does one whose runs
//!   an earlier submission still has queued or running.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

fn adamp(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_adamp"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn slurm(program: &str, args: &[&str]) -> String {
    let o = Command::new(program).args(args).output().unwrap();
    assert!(
        o.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The `squeue` lines (`<id>|<STATE>`) of `jobs` still queued or running.
fn queued(jobs: &[String]) -> Vec<String> {
    let out = slurm(
        "squeue",
        &[
            "--noheader",
            "--array",
            "--format=%i|%T",
            "--jobs",
            &jobs.join(","),
        ],
    );
    out.lines().map(str::to_string).collect()
}

/// Poll until no task of `jobs` is queued or running; fail if the node stops serving.
fn wait_for(jobs: &[String]) {
    loop {
        if queued(jobs).is_empty() {
            return;
        }
        let node = slurm("sinfo", &["--noheader", "--format=%T"]);
        assert!(
            !["down", "drain", "fail"].iter().any(|s| node.contains(s)),
            "the node is {node}; see the slurm logs"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

/// The job ids `--launcher slurm` printed on stdout (arrays first, the report job last).
fn job_ids(stdout: &str) -> Vec<String> {
    let ids: Vec<String> = stdout.lines().map(|l| l.trim().to_string()).collect();
    assert!(
        !ids.is_empty() && ids.iter().all(|i| i.parse::<u64>().is_ok()),
        "{stdout}"
    );
    ids
}

/// A CSV without its wall-clock parts: the `time_s` column of summary.csv, the `time_s` rows of
/// metrics.csv.
fn without_time(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let drop = header.iter().position(|c| *c == "time_s");
    lines
        .filter(|l| !l.contains(",time_s,"))
        .map(|l| {
            l.split(',')
                .enumerate()
                .filter(|(i, _)| Some(*i) != drop)
                .map(|(_, c)| c)
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A config folder: the toys as they are, fmnist_resnet20 with its quick profile pointed at tiny
/// generated IDX data.
fn quick_configs(dir: &Path) -> PathBuf {
    let configs = dir.join("configs");
    std::fs::create_dir_all(&configs).unwrap();
    for toy in ["toy2d.toml", "toy3d.toml"] {
        std::fs::copy(root().join("configs").join(toy), configs.join(toy)).unwrap();
    }
    let data = dir.join("data");
    adamp_datasets::testdata::write_idx_dataset(&data, 16, 8, 28, 4).unwrap();
    let text = std::fs::read_to_string(root().join("configs/fmnist_resnet20.toml")).unwrap();
    let mut table: toml::Table = text.parse().unwrap();
    let quick: toml::Table = format!(
        "seeds = [0]\ndata = {{ root = {:?}, train_subset = 16, test_subset = 8, workers = 1 }}\ntraining = {{ epochs = 1, batch_size = 4 }}",
        data.display().to_string()
    )
    .parse()
    .unwrap();
    table["profiles"]
        .as_table_mut()
        .unwrap()
        .insert("quick".into(), toml::Value::Table(quick));
    std::fs::write(
        configs.join("fmnist_resnet20.toml"),
        toml::to_string(&table).unwrap(),
    )
    .unwrap();
    configs
}

#[test]
#[ignore = "needs a Slurm cluster: make test-slurm"]
fn the_quick_profile_on_slurm_gives_the_local_report_number_for_number() {
    let dir = tempfile::tempdir().unwrap();
    let configs = quick_configs(dir.path());
    let configs_s = configs.to_str().unwrap();
    let local = dir.path().join("local");
    let on_slurm = dir.path().join("slurm");
    let (code, _, stderr) = adamp(&[
        "reproduce",
        "--profile",
        "quick",
        "--configs",
        configs_s,
        "--out",
        local.to_str().unwrap(),
        "--no-progress",
    ]);
    assert_eq!(code, 0, "{stderr}");

    let submit = [
        "reproduce",
        "--profile",
        "quick",
        "--configs",
        configs_s,
        "--out",
        on_slurm.to_str().unwrap(),
        "--launcher",
        "slurm",
    ];
    let (code, stdout, stderr) = adamp(&submit);
    assert_eq!(code, 0, "{stderr}");
    let jobs = job_ids(&stdout);
    // toy2d's 7 runs are two arrays at MaxArraySize 4; toy3d and fmnist_resnet20 one each.
    assert_eq!(jobs.len(), 5, "four arrays and the report job: {stderr}");
    assert!(stderr.contains("toy2d.part1"), "{stderr}");
    wait_for(&jobs);

    // The report names the folder it was built from; everything else must be equal.
    let report = |out: &Path| {
        std::fs::read_to_string(out.join("report.md"))
            .unwrap()
            .replace(out.to_str().unwrap(), "<results>")
    };
    assert_eq!(
        report(&on_slurm),
        report(&local),
        "the report of the Slurm arrays differs from the local one"
    );
    for run in [
        "toy2d/gd",
        "toy2d/sgdp_0.99",
        "toy3d/momentum_wd",
        "fmnist_resnet20/sgdp",
    ] {
        for csv in ["summary.csv", "metrics.csv"] {
            let at = |out: &Path| without_time(&out.join(run).join("seed-0").join(csv));
            assert_eq!(at(&on_slurm), at(&local), "{run}/{csv}");
        }
    }
    let (code, stdout, stderr) = adamp(&[
        "status",
        on_slurm.to_str().unwrap(),
        "--profile",
        "quick",
        "--configs",
        configs_s,
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.ends_with("14 run(s): 14 completed\n"), "{stdout}");

    // Everything finished: a second submission submits nothing and leaves the report as it is.
    let (code, stdout, stderr) = adamp(&submit);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.is_empty() && stderr.contains("nothing submitted"),
        "{stderr}"
    );
    assert_eq!(report(&on_slurm), report(&local));
}

/// toy2d with momentum 0.9 and SGDP 0.9, long enough to be stopped half-way.
fn long_toy(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(root().join("configs/toy2d.toml")).unwrap();
    let mut table: toml::Table = text.parse().unwrap();
    // A baseline and its P variant (the config's report pairs them).
    table["optimizers"]
        .as_array_mut()
        .unwrap()
        .retain(|o| ["momentum_0.9", "sgdp_0.9"].contains(&o["label"].as_str().unwrap()));
    table["report"]["pairs"] = toml::Value::Array(vec![toml::Value::Array(vec![
        "momentum_0.9".into(),
        "sgdp_0.9".into(),
    ])]);
    table["training"]["steps"] = toml::Value::Integer(LONG_STEPS);
    let training = table["training"].as_table_mut().unwrap();
    training.insert(
        "checkpoint_every".into(),
        toml::Value::Integer(CHECKPOINT_EVERY),
    );
    training.insert("eval_every".into(), toml::Value::Integer(5000));
    table.insert("log_every".into(), toml::Value::Integer(100));
    table.remove("profiles");
    let path = dir.join("toy2d_long.toml");
    std::fs::write(&path, toml::to_string(&table).unwrap()).unwrap();
    path
}

const LONG_STEPS: i64 = 60_000;
const CHECKPOINT_EVERY: i64 = 2_000;

/// The step of the run folder's checkpoint, if any.
fn checkpoint_step(folder: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(folder.join("checkpoint/state.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["step"].as_u64()
}

fn logs(out: &Path) -> String {
    let mut text = String::new();
    for sub in std::fs::read_dir(out.join("slurm")).unwrap() {
        let logs = sub.unwrap().path().join("logs");
        for log in std::fs::read_dir(logs).unwrap() {
            text.push_str(&std::fs::read_to_string(log.unwrap().path()).unwrap());
        }
    }
    text
}

#[test]
#[ignore = "needs a Slurm cluster: make test-slurm"]
fn a_cancelled_task_resumes_when_resubmitted_and_a_warned_one_requeues_itself() {
    let dir = tempfile::tempdir().unwrap();
    let config = long_toy(dir.path());
    let config_s = config.to_str().unwrap();
    let out = dir.path().join("slurm");
    let submit = [
        "run",
        config_s,
        "--out",
        out.to_str().unwrap(),
        "--launcher",
        "slurm",
    ];
    let (code, stdout, stderr) = adamp(&submit);
    assert_eq!(code, 0, "{stderr}");
    let jobs = job_ids(&stdout);
    let array = &jobs[0];
    // Submitted again while its tasks are queued or running: nothing is submitted twice.
    let (code, stdout, stderr) = adamp(&submit);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("nothing submitted: 0 run(s) finished, 2 still queued or running"),
        "{stderr}"
    );
    let cancelled = out.join("toy2d_long/momentum_0.9/seed-0");
    let warned = out.join("toy2d_long/sgdp_0.9/seed-0");
    // Both runs are under way once both have a checkpoint.
    while checkpoint_step(&cancelled).is_none() || checkpoint_step(&warned).is_none() {
        assert!(
            !queued(&jobs).is_empty(),
            "the array ended before it could be stopped:\n{}",
            logs(&out)
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    slurm("scancel", &[&format!("{array}_0")]);
    slurm(
        "scancel",
        &["--signal=USR1", "--batch", &format!("{array}_1")],
    );
    wait_for(&jobs);

    let log = logs(&out);
    assert!(
        log.contains("momentum_0.9/seed-0: stopped by a signal at step"),
        "{log}"
    );
    assert!(
        log.contains("sgdp_0.9/seed-0: stopped by a signal at step"),
        "{log}"
    );
    assert!(
        log.contains("(restart 1) runs toy2d_long/sgdp_0.9/seed-0"),
        "requeued: {log}"
    );
    let stopped_at = checkpoint_step(&cancelled).unwrap();
    assert!(
        stopped_at > 0 && stopped_at < LONG_STEPS as u64,
        "{stopped_at}"
    );
    let (_, status, _) = adamp(&[
        "status",
        out.to_str().unwrap(),
        "--configs",
        dir.path().to_str().unwrap(),
    ]);
    assert!(
        status.contains("failed     toy2d_long/momentum_0.9/seed-0"),
        "{status}"
    );
    assert!(
        status.contains(&format!("checkpoint at step {stopped_at}")),
        "{status}"
    );
    assert!(
        status.contains("completed  toy2d_long/sgdp_0.9/seed-0"),
        "{status}"
    );

    // Resubmitted: only the cancelled run is submitted, and it resumes from its checkpoint.
    let (code, stdout, stderr) = adamp(&submit);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("1 run(s) already finished"), "{stderr}");
    wait_for(&job_ids(&stdout));
    let log = logs(&out);
    assert!(
        log.contains(&format!(
            "toy2d_long/momentum_0.9/seed-0: resuming from step {stopped_at}"
        )),
        "{log}"
    );

    // Nothing lost: every row equals an uninterrupted local run's.
    let local = dir.path().join("local");
    let (code, _, stderr) = adamp(&[
        "run",
        config_s,
        "--out",
        local.to_str().unwrap(),
        "--no-progress",
    ]);
    assert_eq!(code, 0, "{stderr}");
    for run in ["momentum_0.9", "sgdp_0.9"] {
        for csv in ["summary.csv", "metrics.csv"] {
            let at =
                |o: &Path| without_time(&o.join("toy2d_long").join(run).join("seed-0").join(csv));
            assert_eq!(at(&out), at(&local), "{run}/{csv}");
        }
    }
    let report = |o: &Path| {
        std::fs::read_to_string(o.join("report.md"))
            .unwrap()
            .replace(o.to_str().unwrap(), "<results>")
    };
    assert_eq!(report(&out), report(&local));
}

#[test]
#[ignore = "needs a Slurm cluster: make test-slurm"]
fn a_submission_slurm_refuses_submits_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let before = slurm("squeue", &["--noheader", "--format=%i"]);
    let (code, stdout, stderr) = adamp(&[
        "run",
        "configs/toy3d.toml",
        "--set",
        "launcher.slurm.partition=\"nosuchpartition\"",
        "--out",
        out.to_str().unwrap(),
        "--launcher",
        "slurm",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("configs/toy3d.toml: [launcher.slurm] refused by Slurm")
            && stderr.contains("nvalid partition"),
        "{stderr}"
    );
    assert!(
        !out.join("slurm").exists()
            || std::fs::read_dir(out.join("slurm"))
                .unwrap()
                .next()
                .is_none()
    );
    assert_eq!(slurm("squeue", &["--noheader", "--format=%i"]), before);
}
