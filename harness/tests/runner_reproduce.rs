//! `reproduce` carries on when a run diverges or a config is broken, says which failed, and skips
//! finished runs the second time.

use std::path::Path;

use adamp_harness::reproduce::{reproduce, ReproduceOptions};

const DIVERGING: &str = r#"
# lr * weight_decay = 1e10: w is multiplied by (1 - 1e10) each step and overflows to inf.
[task]
kind = "toy2d"
[training]
steps = 100
[[optimizers]]
kind = "sgd"
label = "huge_lr"
lr = 1e10
weight_decay = 1.0
[[optimizers]]
kind = "sgd"
label = "fine"
lr = 0.01
[report]
benchmark = "toy2d"
title = "t"
scale = "embedded"
dataset = "d"
metric = "eval_final_norm"
higher_is_better = false
"#;

const BROKEN: &str = "[task]\nkind = \"toy2d\"\nsurprise = 1\n";

fn options(configs: &Path, out: &Path) -> ReproduceOptions {
    ReproduceOptions {
        profile: "embedded".into(),
        only: Vec::new(),
        force: false,
        out: Some(out.to_path_buf()),
        configs_dir: configs.to_path_buf(),
        progress: false,
        report: false,
    }
}

#[test]
fn a_diverging_run_and_a_broken_config_do_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let configs = dir.path().join("configs");
    std::fs::create_dir_all(&configs).unwrap();
    std::fs::write(configs.join("a_broken.toml"), BROKEN).unwrap();
    std::fs::write(configs.join("diverge.toml"), DIVERGING).unwrap();
    let out = dir.path().join("results");
    let summary = reproduce(&options(&configs, &out)).unwrap();
    let status = |run: &str| {
        summary
            .results
            .iter()
            .find(|r| r.run.contains(run))
            .map(|r| r.status.clone())
            .unwrap()
    };
    assert_eq!(status("a_broken.toml"), "failed");
    assert_eq!(status("diverge/huge_lr/seed-0"), "diverged");
    assert_eq!(status("diverge/fine/seed-0"), "completed");
    assert_eq!(summary.failed().len(), 1);
    let detail = &summary.failed()[0].detail;
    assert!(detail.contains("task.surprise"), "{detail}");

    let s = std::fs::read_to_string(out.join("diverge/huge_lr/seed-0/summary.csv")).unwrap();
    let last = s.lines().last().unwrap();
    assert!(last.contains(",diverged"), "{s}");
    let step: u64 = last.split(',').nth(2).unwrap().parse().unwrap();
    assert!(step > 1 && step < 100, "diverged at step {step}");

    // Second time: finished runs (completed or diverged) are skipped.
    let again = reproduce(&options(&configs, &out)).unwrap();
    let skipped = again
        .results
        .iter()
        .filter(|r| r.status == "skipped")
        .count();
    assert_eq!(skipped, 2, "{:?}", again.results);
}

#[test]
fn only_names_configs_or_tasks_and_rejects_unknown_ones() {
    let dir = tempfile::tempdir().unwrap();
    let configs = dir.path().join("configs");
    std::fs::create_dir_all(&configs).unwrap();
    std::fs::write(
        configs.join("diverge.toml"),
        DIVERGING.replace("steps = 100", "steps = 3"),
    )
    .unwrap();
    let mut o = options(&configs, &dir.path().join("r"));
    o.only = vec!["toy9".into()];
    let err = reproduce(&o).unwrap_err().to_string();
    assert!(
        err.contains("--only toy9") && err.contains("diverge"),
        "{err}"
    );
    o.only = vec!["toy2d".into()];
    assert_eq!(reproduce(&o).unwrap().results.len(), 2);
}

#[test]
fn a_profile_runs_its_own_folder_and_the_configs_that_have_its_table() {
    use adamp_harness::reproduce::profile_configs;
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path();
    std::fs::create_dir_all(c.join("quick")).unwrap();
    std::fs::write(c.join("a.toml"), "seeds = [0]\n").unwrap();
    std::fs::write(c.join("b.toml"), "[profiles.quick]\nseeds = [1]\n").unwrap();
    std::fs::write(c.join("c.toml"), "[profiles.quick]\n").unwrap();
    std::fs::write(c.join("quick/c.toml"), "").unwrap();
    std::fs::write(c.join("quick/d.toml"), "").unwrap();
    let names = |profile: &str| -> Vec<(String, Option<String>)> {
        profile_configs(c, profile)
            .unwrap()
            .into_iter()
            .map(|(f, p)| (f.strip_prefix(c).unwrap().display().to_string(), p))
            .collect()
    };
    assert_eq!(
        names("embedded"),
        vec![
            ("a.toml".into(), None),
            ("b.toml".into(), None),
            ("c.toml".into(), None)
        ]
    );
    assert_eq!(
        names("quick"),
        vec![
            ("b.toml".into(), Some("quick".into())),
            ("quick/c.toml".into(), None),
            ("quick/d.toml".into(), None)
        ]
    );
    assert!(names("paper").is_empty());
}
