//! A run killed mid-way and resumed ends with metrics, summary and parameters identical to an
//! uninterrupted run (CPU), and leaves no temporary files.

use std::path::{Path, PathBuf};

use adamp_harness::config::{self, LoadOptions, RunSpec};
use adamp_harness::train::{self, RunOptions, RunStatus};

fn configs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs")
}

fn spec(config: &str, label: &str, sets: &[&str]) -> RunSpec {
    let options = LoadOptions {
        sets: sets.iter().map(|s| s.to_string()).collect(),
        ..LoadOptions::default()
    };
    let e = config::load(&configs().join(config), &options).unwrap();
    e.runs().into_iter().find(|r| r.label == label).unwrap()
}

/// The CSV text without wall-clock columns/rows (`time_s`), which legitimately differ.
fn without_time(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let time_col = header.iter().position(|h| *h == "time_s");
    let metric_col = header.iter().position(|h| *h == "metric");
    let mut out = vec![header.join(",")];
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        if metric_col.is_some_and(|m| cells[m] == "time_s") {
            continue;
        }
        let kept: Vec<&str> = cells
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != time_col)
            .map(|(_, c)| *c)
            .collect();
        out.push(kept.join(","));
    }
    out.join("\n")
}

fn params(folder: &Path) -> Vec<(String, Vec<u64>)> {
    let t = candle_core::safetensors::load(
        folder.join("checkpoint/tensors.safetensors"),
        &candle_core::Device::Cpu,
    )
    .unwrap();
    let mut v: Vec<(String, Vec<u64>)> = t
        .into_iter()
        .map(|(k, t)| {
            (
                k,
                t.flatten_all()
                    .unwrap()
                    .to_vec1::<f64>()
                    .unwrap()
                    .iter()
                    .map(|x| x.to_bits())
                    .collect(),
            )
        })
        .collect();
    v.sort();
    v
}

fn options(out: &Path) -> RunOptions {
    RunOptions {
        out: out.to_path_buf(),
        force: false,
        progress: false,
        stop_after: None,
    }
}

fn check_resume_equals_uninterrupted(spec: &RunSpec, kill_after: u64) {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let full = train::run(spec, &options(&a)).unwrap();
    assert_eq!(full.status, RunStatus::Completed);

    let killed = train::run(
        spec,
        &RunOptions {
            stop_after: Some(kill_after),
            ..options(&b)
        },
    )
    .unwrap();
    assert_eq!(killed.status, RunStatus::Interrupted { step: kill_after });
    let folder_b = spec.folder(&b);
    // Leftovers a kill could leave: a temp file and a half-written checkpoint.
    std::fs::write(folder_b.join(".metrics.csv.tmp"), b"half").unwrap();
    std::fs::create_dir_all(folder_b.join("checkpoint.new")).unwrap();
    let resumed = train::run(spec, &options(&b)).unwrap();
    assert_eq!(resumed.status, RunStatus::Completed);

    let folder_a = spec.folder(&a);
    for file in ["metrics.csv", "summary.csv"] {
        assert_eq!(
            without_time(&folder_a.join(file)),
            without_time(&folder_b.join(file)),
            "{file} differs after resume"
        );
    }
    assert_eq!(
        params(&folder_a),
        params(&folder_b),
        "parameters/buffers differ after resume"
    );
    assert_eq!(full.evals, resumed.evals);
    for entry in std::fs::read_dir(&folder_b).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            !name.ends_with(".tmp") && name != "checkpoint.new" && name != "checkpoint.old",
            "leftover {name}"
        );
    }
    // A finished run is skipped, not rerun.
    assert_eq!(
        train::run(spec, &options(&b)).unwrap().status,
        RunStatus::Skipped
    );
}

#[test]
fn toy2d_sgdp_resumed_after_a_kill_matches_an_uninterrupted_run() {
    let s = spec(
        "toy2d.toml",
        "sgdp_0.9",
        &[
            "training.steps=60",
            "training.checkpoint_every=7",
            "training.eval_every=20",
        ],
    );
    check_resume_equals_uninterrupted(&s, 23);
}

#[test]
fn toy3d_momentum_with_decay_resumed_after_a_kill_matches_an_uninterrupted_run() {
    let s = spec(
        "toy3d.toml",
        "momentum_wd",
        &[
            "training.steps=50",
            "training.checkpoint_every=10",
            "log_every=3",
        ],
    );
    check_resume_equals_uninterrupted(&s, 34);
}

#[test]
fn same_config_and_seed_give_identical_files() {
    let s = spec(
        "toy3d.toml",
        "sgdp",
        &["training.steps=40", "training.eval_every=10"],
    );
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    train::run(&s, &options(&a)).unwrap();
    train::run(&s, &options(&b)).unwrap();
    for file in ["metrics.csv", "summary.csv"] {
        let (x, y) = (
            without_time(&s.folder(&a).join(file)),
            without_time(&s.folder(&b).join(file)),
        );
        assert_eq!(x, y, "{file}");
        assert!(x.lines().count() > 4);
    }
    assert_eq!(params(&s.folder(&a)), params(&s.folder(&b)));
}

#[test]
fn a_changed_config_in_an_existing_folder_is_refused_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let s = spec("toy2d.toml", "gd", &["training.steps=5"]);
    train::run(&s, &options(dir.path())).unwrap();
    let changed = spec("toy2d.toml", "gd", &["training.steps=6"]);
    let err = train::run(&changed, &options(dir.path()))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("different config") && err.contains("--force"),
        "{err}"
    );
    let forced = train::run(
        &changed,
        &RunOptions {
            force: true,
            ..options(dir.path())
        },
    )
    .unwrap();
    assert_eq!(forced.status, RunStatus::Completed);
}
