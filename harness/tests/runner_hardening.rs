//! Hostile input and concurrent or broken runs, each as the exact command a user would type:
//! bad input exits 2 with one error before anything is written, a run folder has one writer, and
//! a run whose evaluation is not finite is diverged, not a result.

use std::path::{Path, PathBuf};
use std::process::Command;

fn configs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs")
}

/// `adamp <args>`; returns (exit code, stderr).
fn adamp(args: &[&str]) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_adamp"))
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// `adamp run <config> --out <out> --no-progress <extra>` must exit 2 with one `error:` line
/// containing `needles`, and write nothing.
fn refused(config: &Path, extra: &[&str], needles: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut args = vec![
        "run",
        config.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--no-progress",
    ];
    args.extend_from_slice(extra);
    let (code, stderr) = adamp(&args);
    assert_eq!(code, 2, "exit code for {extra:?}: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one error paragraph expected: {stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    for n in needles {
        assert!(stderr.contains(n), "`{n}` missing from: {stderr}");
    }
    assert!(
        !out.exists(),
        "nothing may be written on bad input: {stderr}"
    );
    stderr
}

fn fmnist() -> PathBuf {
    configs().join("fmnist_resnet20.toml")
}

fn toy2d() -> PathBuf {
    configs().join("toy2d.toml")
}

// 1. A resource-sized value is bounded at validation.
#[test]
fn a_huge_worker_count_is_refused_before_anything_starts() {
    refused(
        &fmnist(),
        &["--set", "data.workers=100000"],
        &["data.workers", "at most 256", "100000"],
    );
}

// 2. Profile names are checked like labels, and must exist.
#[test]
fn a_mistyped_or_escaping_profile_is_refused() {
    refused(
        &toy2d(),
        &["--profile", "quik"],
        &["--profile", "no [profiles.quik]", "paper, quick"],
    );
    let dir = tempfile::tempdir().unwrap();
    let (code, stderr) = adamp(&[
        "run",
        toy2d().to_str().unwrap(),
        "--profile",
        "../../escape",
        "--no-progress",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--profile"), "{stderr}");
    assert!(!dir.path().join("escape").exists());
}

/// `adamp run configs/toy2d.toml --out <out> --set training.steps=3`.
fn short_toy_run(out: &Path) -> (i32, String) {
    adamp(&[
        "run",
        toy2d().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--no-progress",
        "--set",
        "training.steps=3",
    ])
}

// 3. One writer per run folder.
#[test]
fn a_run_folder_in_use_is_refused_naming_the_process() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let folder = out.join("toy2d/gd/seed-0");
    std::fs::create_dir_all(&folder).unwrap();
    let held = adamp_harness::lock::RunLock::acquire(&folder).unwrap();
    let (code, stderr) = short_toy_run(&out);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("toy2d/gd/seed-0: failed")
            && stderr.contains(&format!("in use by PID {}", std::process::id())),
        "{stderr}"
    );
    // The other runs of the config were not held up.
    assert!(out.join("toy2d/sgdp_0.9/seed-0/summary.csv").is_file());
    assert!(!folder.join("summary.csv").exists());
    drop(held);
    let (code, stderr) = short_toy_run(&out);
    assert_eq!(code, 0, "{stderr}");
    assert!(folder.join("summary.csv").is_file());
}

// 5. Everything knowable before training is checked before anything is written.
#[test]
fn bad_input_found_only_late_before_is_now_refused_first() {
    let long = format!("optimizers[0].label=\"{}\"", "x".repeat(300));
    refused(
        &toy2d(),
        &["--set", &long],
        &["optimizers[0].label", "at most 255"],
    );
    refused(
        &toy2d(),
        &["--set", "report.metric=\"eval_top1\""],
        &["report.metric", "eval_final_norm"],
    );
    refused(
        &toy2d(),
        &["--set", "training.epochs=3"],
        &["training.epochs", "step-based", "training.steps"],
    );
    refused(
        &fmnist(),
        &["--set", "report.also=[\"eval_top7\"]"],
        &["report.also[0]", "eval_top7"],
    );
}

// 5. `reproduce`: a config whose data is missing fails once, not once per run.
#[test]
fn reproduce_reports_a_config_that_cannot_start_once() {
    let dir = tempfile::tempdir().unwrap();
    let cfgs = dir.path().join("configs");
    std::fs::create_dir_all(&cfgs).unwrap();
    let text = std::fs::read_to_string(fmnist()).unwrap().replace(
        "fetch = true",
        "fetch = false\nroot = \"/nonexistent/fashion-mnist\"",
    );
    std::fs::write(cfgs.join("fmnist.toml"), text).unwrap();
    let out = dir.path().join("out");
    let (code, stderr) = adamp(&[
        "reproduce",
        "--configs",
        cfgs.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--no-progress",
    ]);
    assert_eq!(code, 1, "{stderr}");
    let failed: Vec<&str> = stderr.lines().filter(|l| l.contains("  failed ")).collect();
    assert_eq!(failed.len(), 1, "{stderr}");
    assert!(failed[0].contains("12 run(s) not started"), "{stderr}");
    assert!(!out.join("fmnist").exists());
}

// 6. Exit code 2 and the right key for task- and data-level input errors.
#[test]
fn task_and_data_errors_exit_2_and_name_the_key() {
    refused(
        &fmnist(),
        &["--set", "task.cutmix={alpha=1.0, prob=2.0}"],
        &["task.cutmix.prob", "[0, 1]"],
    );
    refused(
        &fmnist(),
        &["--set", "data.test_subset=0"],
        &["data.test_subset", "at least 1"],
    );
    refused(
        &fmnist(),
        &[
            "--set",
            "data.root=\"/nonexistent/fashion-mnist\"",
            "--set",
            "data.fetch=false",
        ],
        &["/nonexistent/fashion-mnist"],
    );
}

// 6. An IDX file of zero-sized images names the file instead of failing in the first layer.
#[test]
fn zero_sized_idx_images_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("fmnist");
    adamp_datasets::testdata::write_idx_dataset(&data, 16, 8, 28, 1).unwrap();
    let empty: Vec<Vec<u8>> = vec![Vec::new(); 16];
    let images = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("train-images"))
        .unwrap();
    adamp_datasets::testdata::write_idx_images(&images, 0, 0, &empty).unwrap();
    let root = format!("data.root=\"{}\"", data.display());
    refused(
        &fmnist(),
        &["--set", &root, "--set", "data.fetch=false"],
        &["train-images", "0 x 0"],
    );
}

// 6. A syntax error on a long line is reported without echoing the line; a huge "config" is
// refused without reading it all.
#[test]
fn syntax_errors_are_short_and_config_files_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.toml");
    std::fs::write(&path, format!("seeds = [{}\n", "0, ".repeat(50_000))).unwrap();
    let stderr = refused(&path, &[], &["long.toml", "not valid TOML at line"]);
    assert!(
        stderr.len() < 400,
        "{} bytes: {}",
        stderr.len(),
        &stderr[..400]
    );
    let stderr = refused(
        Path::new("/dev/zero"),
        &[],
        &["/dev/zero", "larger than 1024 kB"],
    );
    assert!(stderr.len() < 400, "{stderr}");
}
