//! `adamp run --only`, `--launcher slurm`'s bad input and stopping on a signal, without a Slurm
//! cluster (the submissions themselves are tested against a real Slurm in `slurm_launcher.rs`,
//! `make test-slurm`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn adamp(args: &[&str], path: Option<&Path>) -> (i32, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_adamp"));
    command.args(args).current_dir(root());
    if let Some(path) = path {
        command.env("PATH", path);
    }
    let o: Output = command.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn only_runs_one_run_folder_and_names_the_choices_when_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let out_s = out.to_str().unwrap();
    let (code, _, stderr) = adamp(
        &[
            "run",
            "configs/toy3d.toml",
            "--only",
            "nosuch/seed-0",
            "--out",
            out_s,
        ],
        None,
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("configs/toy3d.toml: --only: no run `nosuch/seed-0` in this config; expected <label>/seed-<n>, one of: "),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing is written on bad input");
    let (code, _, stderr) = adamp(
        &[
            "run",
            "configs/toy3d.toml",
            "--set",
            "training.steps=5",
            "--only",
            "momentum_wd/seed-0",
            "--out",
            out_s,
            "--no-progress",
        ],
        None,
    );
    assert_eq!(code, 0, "{stderr}");
    let folders: Vec<String> = std::fs::read_dir(out.join("toy3d"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(folders, ["momentum_wd"]);
    assert!(out.join("toy3d/momentum_wd/seed-0/summary.csv").is_file());
    assert!(
        !out.join("report.md").exists(),
        "one run of many builds no report"
    );
    // Where a run is launched is not part of its config: other [launcher.slurm] resources find
    // the same finished run.
    let (code, _, stderr) = adamp(
        &[
            "run",
            "configs/toy3d.toml",
            "--set",
            "training.steps=5",
            "--set",
            "launcher.slurm.partition=\"gpu\"",
            "--only",
            "momentum_wd/seed-0",
            "--out",
            out_s,
        ],
        None,
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("already finished, skipped"), "{stderr}");
}

#[test]
fn slurm_submissions_refuse_bad_input_before_writing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let out_s = out.to_str().unwrap();
    let empty_path = dir.path().join("bin");
    std::fs::create_dir(&empty_path).unwrap();
    let spaced = dir.path().join("with space");
    let (code, _, stderr) = adamp(
        &[
            "run",
            "configs/toy3d.toml",
            "--out",
            spaced.to_str().unwrap(),
            "--launcher",
            "slurm",
        ],
        Some(&empty_path),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("holds a space, which #SBATCH lines"),
        "{stderr}"
    );
    assert!(!spaced.exists());
    let cases: [(&[&str], &str); 5] = [
        (
            &[
                "reproduce",
                "--profile",
                "quick",
                "--only",
                "toy3d",
                "--out",
                out_s,
                "--launcher",
                "slurm",
            ],
            "--launcher slurm: `sbatch` is not on the PATH",
        ),
        (
            &[
                "run",
                "configs/toy3d.toml",
                "--out",
                out_s,
                "--launcher",
                "slurm",
                "--force",
            ],
            "--force with --launcher slurm: a requeued array task would start its run over",
        ),
        (
            &[
                "run",
                "configs/toy3d.toml",
                "--out",
                out_s,
                "--launcher",
                "slurm",
                "--set",
                "launcher.slurm.time=\"2 days\"",
            ],
            "configs/toy3d.toml: launcher.slurm.time: expected a Slurm time limit",
        ),
        (
            &[
                "run",
                "configs/toy3d.toml",
                "--out",
                out_s,
                "--set",
                "launcher.slurm.partitoin=\"gpu\"",
            ],
            "launcher.slurm.partitoin",
        ),
        (
            &[
                "run",
                "configs/toy3d.toml",
                "--out",
                out_s,
                "--launcher",
                "slurm",
                "--set",
                "launcher.slurm.extra=[\"--array=1\"]",
            ],
            "launcher.slurm.extra[0]: --array is set by the launcher itself",
        ),
    ];
    for (args, expected) in cases {
        let (code, stdout, stderr) = adamp(args, Some(&empty_path));
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{args:?}: expected {expected:?} in {stderr}"
        );
        assert!(stdout.is_empty(), "{stdout}");
        assert!(!out.exists(), "{args:?} wrote {}", out.display());
    }
}

/// A local run stopped by SIGTERM writes a checkpoint and exits 3; run again, it resumes there
/// and ends with the rows of an uninterrupted run.
#[test]
fn sigterm_stops_a_run_with_a_checkpoint_and_running_again_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let stopped = dir.path().join("stopped");
    let whole = dir.path().join("whole");
    let args = |out: &Path| -> Vec<String> {
        [
            "run",
            "configs/toy3d.toml",
            "--only",
            "momentum_wd/seed-0",
            "--set",
            "training.steps=20000",
            "--set",
            "training.checkpoint_every=1000",
            "--set",
            "training.eval_every=5000",
            "--set",
            "log_every=1000",
            "--no-progress",
            "--out",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([out.display().to_string()])
        .collect()
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_adamp"))
        .args(args(&stopped))
        .current_dir(root())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let state = stopped.join("toy3d/momentum_wd/seed-0/checkpoint/state.json");
    while !state.is_file() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be stopped"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("stopped by a signal at step"), "{stderr}");
    let text = std::fs::read_to_string(&state).unwrap();
    let step = serde_json::from_str::<serde_json::Value>(&text).unwrap()["step"]
        .as_u64()
        .unwrap();
    assert!(step > 0 && step < 20_000, "{step}");

    let args_of = |out: &Path| args(out);
    let a = args_of(&stopped);
    let (code, _, stderr) = adamp(&a.iter().map(String::as_str).collect::<Vec<_>>(), None);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!("resuming from step {step}")),
        "{stderr}"
    );
    let b = args_of(&whole);
    let (code, _, stderr) = adamp(&b.iter().map(String::as_str).collect::<Vec<_>>(), None);
    assert_eq!(code, 0, "{stderr}");
    for csv in ["summary.csv", "metrics.csv"] {
        let rows = |out: &Path| -> Vec<String> {
            let text =
                std::fs::read_to_string(out.join("toy3d/momentum_wd/seed-0").join(csv)).unwrap();
            // Without the wall-clock column/rows.
            let mut lines = text.lines();
            let header: Vec<&str> = lines.next().unwrap().split(',').collect();
            let t = header.iter().position(|c| *c == "time_s");
            lines
                .filter(|l| !l.contains(",time_s,"))
                .map(|l| {
                    l.split(',')
                        .enumerate()
                        .filter(|(i, _)| Some(*i) != t)
                        .map(|(_, c)| c)
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .collect()
        };
        assert_eq!(rows(&stopped), rows(&whole), "{csv}");
    }
}
