//! Bad input to `adamp run`: each case exits non-zero with a one-paragraph error naming the file,
//! the key path and what is expected, and writes nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

const VALID: &str = r#"
seeds = [0]
[task]
kind = "toy2d"
[training]
steps = 5
[[optimizers]]
kind = "sgdp"
lr = 0.1
momentum = 0.9
[report]
benchmark = "toy2d"
title = "t"
scale = "embedded"
dataset = "d"
metric = "eval_final_norm"
higher_is_better = false
"#;

struct Case {
    dir: tempfile::TempDir,
    config: PathBuf,
    out: PathBuf,
}

fn case(text: &str) -> Case {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.toml");
    std::fs::write(&config, text).unwrap();
    let out = dir.path().join("out");
    Case { dir, config, out }
}

/// Run `adamp run <config> --out <out> <extra>`; returns (exit code, stderr).
fn run(config: &Path, out: &Path, extra: &[&str]) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_adamp"))
        .arg("run")
        .arg(config)
        .arg("--out")
        .arg(out)
        .arg("--no-progress")
        .args(extra)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The error is one paragraph: a single `error:` line, naming the file and containing `needles`.
fn assert_error(c: &Case, extra: &[&str], needles: &[&str]) {
    let (code, stderr) = run(&c.config, &c.out, extra);
    assert_ne!(code, 0, "exit code for {needles:?}; stderr: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one paragraph expected, got: {stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    for n in needles {
        assert!(stderr.contains(n), "`{n}` missing from: {stderr}");
    }
    assert!(
        !c.out.exists(),
        "nothing may be written on bad input: {}",
        c.out.display()
    );
    let _ = &c.dir;
}

fn with(replace: &str, by: &str) -> String {
    assert!(VALID.contains(replace), "{replace}");
    VALID.replacen(replace, by, 1)
}

#[test]
fn the_valid_config_runs() {
    let c = case(VALID);
    let (code, stderr) = run(&c.config, &c.out, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(c.out.join("bad/sgdp/seed-0/metrics.csv").is_file());
}

#[test]
fn unknown_key() {
    let c = case(&with("steps = 5", "steps = 5\nstepz = 5"));
    assert_error(&c, &[], &["bad.toml: training.stepz:", "unknown field"]);
}

#[test]
fn unknown_key_in_an_optimizer_entry() {
    let c = case(&with("momentum = 0.9", "momentum = 0.9\nmomentun = 0.9"));
    assert_error(
        &c,
        &[],
        &["bad.toml: optimizers[0].momentun:", "unknown field"],
    );
}

#[test]
fn wrong_type() {
    let c = case(&with("steps = 5", "steps = \"many\""));
    assert_error(
        &c,
        &[],
        &[
            "bad.toml: training.steps:",
            "expected a non-negative integer",
        ],
    );
}

#[test]
fn missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let c = Case {
        config: dir.path().join("nowhere.toml"),
        out: dir.path().join("out"),
        dir,
    };
    assert_error(&c, &[], &["nowhere.toml:", "cannot read the config file"]);
}

#[test]
fn unknown_optimizer_lists_the_valid_ones() {
    let c = case(&with("kind = \"sgdp\"", "kind = \"adamq\""));
    assert_error(
        &c,
        &[],
        &[
            "bad.toml: optimizers[0].kind:",
            "`adamq`",
            "sgd, sgdp, adam, adamw, adamp",
        ],
    );
}

#[test]
fn unknown_task_lists_the_valid_ones() {
    let c = case(&with("kind = \"toy2d\"", "kind = \"toy4d\""));
    assert_error(
        &c,
        &[],
        &["bad.toml: task.kind:", "`toy4d`", "toy2d, toy3d"],
    );
}

#[test]
fn unknown_model() {
    let c = case(&format!("{VALID}\n[model]\nkind = \"resnet999\"\n"));
    assert_error(
        &c,
        &[],
        &["bad.toml: model.kind:", "`resnet999`", "valid model kinds"],
    );
}

#[test]
fn hyperparameter_out_of_range_names_the_key() {
    let c = case(&with("momentum = 0.9", "momentum = 1.5"));
    assert_error(
        &c,
        &[],
        &["bad.toml: optimizers[0].momentum:", "[0, 1)", "1.5"],
    );
}

#[test]
fn task_setting_out_of_range_names_the_key() {
    let c = case(&with(
        "kind = \"toy2d\"",
        "kind = \"toy2d\"\nangle_deg = 200.0",
    ));
    assert_error(&c, &[], &["bad.toml: task.angle_deg:", "(0, 180)", "200"]);
}

#[test]
fn unwritable_output_directory() {
    let c = case(VALID);
    // A regular file as a parent folder: not writable even for root.
    let blocker = c.dir.path().join("file");
    std::fs::write(&blocker, b"x").unwrap();
    let out = blocker.join("out");
    let (code, stderr) = run(&c.config, &out, &[]);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("--out") && stderr.contains("file"),
        "{stderr}"
    );
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("error:")).count(),
        1,
        "{stderr}"
    );
    assert_eq!(std::fs::read(&blocker).unwrap(), b"x");
}

#[test]
fn set_naming_no_key() {
    let c = case(VALID);
    assert_error(
        &c,
        &["--set", "=3"],
        &["bad.toml: --set =3:", "names no key"],
    );
    assert_error(
        &c,
        &["--set", "training.steps"],
        &["bad.toml: --set training.steps:", "key.path=value"],
    );
    assert_error(
        &c,
        &["--set", "optimizers[3].lr=1"],
        &["bad.toml: --set optimizers[3].lr=1:", "1 entries"],
    );
    assert_error(
        &c,
        &["--set", "training.nokey=3"],
        &["bad.toml: training.nokey:", "unknown field"],
    );
}

#[test]
fn set_overrides_are_checked_like_the_file() {
    let c = case(VALID);
    assert_error(
        &c,
        &["--set", "optimizers[0].momentum=2"],
        &["bad.toml: optimizers[0].momentum:", "[0, 1)"],
    );
    assert_error(&c, &["--device", "tpu"], &["bad.toml: device:", "cuda:N"]);
}

#[test]
fn wrong_type_inside_a_tagged_entry_names_the_field() {
    let c = case(&with("momentum = 0.9", "momentum = \"high\""));
    assert_error(
        &c,
        &[],
        &["bad.toml: optimizers[0].momentum:", "expected a number"],
    );
    let c = case(&with(
        "steps = 5",
        "steps = 5\n[training.lr_schedule]\nkind = \"step\"\ngamma = 0.1",
    ));
    assert_error(
        &c,
        &[],
        &["bad.toml: training.lr_schedule.step_size:", "missing field"],
    );
    let c = case(&with(
        "kind = \"toy2d\"",
        "kind = \"toy2d\"\nangle_deg = \"wide\"",
    ));
    assert_error(&c, &[], &["bad.toml: task.angle_deg:", "expected a number"]);
}

#[cfg(not(feature = "cuda"))]
#[test]
fn a_device_this_build_lacks_is_reported_before_anything_is_written() {
    let c = case(VALID);
    assert_error(
        &c,
        &["--device", "cuda:0"],
        &[
            "bad.toml: device:",
            "cuda:0",
            "no CUDA backend",
            "--features cuda",
        ],
    );
}

/// On a CUDA build: a device beyond the machine's count is named with the ones there are (or, on
/// a machine without any, says so), before anything is written.
#[cfg(feature = "cuda")]
#[test]
fn a_cuda_device_that_does_not_exist_is_reported_before_anything_is_written() {
    let c = case(VALID);
    let (code, stderr) = run(&c.config, &c.out, &["--device", "cuda:999"]);
    assert_ne!(code, 0, "{stderr}");
    assert!(stderr.contains("bad.toml: device: cuda:999"), "{stderr}");
    assert!(
        stderr.contains("cuda:999 does not exist: this machine has")
            || stderr.contains("no CUDA device is visible"),
        "{stderr}"
    );
    assert!(!c.out.exists(), "nothing may be written on bad input");
}
