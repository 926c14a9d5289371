//! The `adamp` binary end to end on the toy configs: `list`, `reproduce` (runs, CSVs, report),
//! a second `reproduce` that skips the finished runs, and `run` on one config (runs, plots,
//! report). The classification configs are exercised by `runner_classification_configs.rs`.

use std::path::Path;
use std::process::Command;

fn adamp(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_adamp"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn list_names_tasks_optimizers_and_configs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let (code, stdout, stderr) = adamp(&["list"], &root);
    assert_eq!(code, 0, "{stderr}");
    for needle in [
        "toy2d",
        "toy3d",
        "sgdp",
        "adamp",
        "cosine",
        "quick",
        "momentum_0.99",
    ] {
        assert!(stdout.contains(needle), "{needle} missing: {stdout}");
    }
}

#[test]
fn reproduce_runs_the_toys_and_writes_the_report() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let out_s = out.to_str().unwrap();
    let quick_toys = [
        "reproduce",
        "--profile",
        "quick",
        "--only",
        "toy2d",
        "--only",
        "toy3d",
        "--out",
        out_s,
        "--no-progress",
    ];
    let (code, _, stderr) = adamp(&quick_toys, &root);
    assert_eq!(code, 0, "{stderr}");
    for run in ["toy2d/gd", "toy2d/sgdp_0.99", "toy3d/momentum_wd"] {
        let folder = out.join(run).join("seed-0");
        for f in ["metrics.csv", "summary.csv", "config.resolved.toml"] {
            assert!(folder.join(f).is_file(), "{}/{f}", folder.display());
        }
        let summary = std::fs::read_to_string(folder.join("summary.csv")).unwrap();
        assert!(
            summary.lines().last().unwrap().contains(",completed,"),
            "{summary}"
        );
        let resolved = std::fs::read_to_string(folder.join("config.resolved.toml")).unwrap();
        assert!(
            resolved.contains("scale = \"quick\""),
            "the quick profile marks its runs"
        );
    }
    assert!(out.join("report.md").is_file(), "report.md: {stderr}");
    std::fs::remove_file(out.join("report.md")).unwrap();
    let (code, _, stderr) = adamp(&["report", out_s], &root);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        out.join("report.md").is_file(),
        "adamp report rebuilds report.md: {stderr}"
    );
    let (code, _, stderr) = adamp(&quick_toys, &root);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.matches("skipped").count() >= 10, "{stderr}");
}

#[test]
fn run_one_config_writes_its_csvs_plots_and_report() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let out_s = out.to_str().unwrap();
    let (code, _, stderr) = adamp(
        &[
            "run",
            "configs/toy2d.toml",
            "--set",
            "training.steps=40",
            "--out",
            out_s,
            "--no-progress",
        ],
        &root,
    );
    assert_eq!(code, 0, "{stderr}");
    let folder = out.join("toy2d/sgdp_0.9/seed-0");
    for f in ["metrics.csv", "summary.csv", "config.resolved.toml"] {
        assert!(folder.join(f).is_file(), "{}/{f}", folder.display());
    }
    for plot in ["figure2", "final_metric", "toy2d_w_norm"] {
        for ext in ["png", "svg"] {
            let p = out.join(format!("toy2d/plots/{plot}.{ext}"));
            assert!(p.is_file(), "{}: {stderr}", p.display());
        }
    }
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("2D scale-invariant toy"), "{report}");
    assert!(
        report.contains("27.87"),
        "the paper's momentum-0.99 norm beside ours"
    );
}
