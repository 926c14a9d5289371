//! The run folder's files follow the harness contract: columns, run ids, statuses, the resolved
//! config with `[meta]` and `[report]`, and no temporary files.

use std::path::Path;

use adamp_harness::config::{self, LoadOptions};
use adamp_harness::train::{self, RunOptions, RunStatus};

#[test]
fn a_toy3d_run_folder_holds_the_contract_files() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/toy3d.toml");
    let options = LoadOptions {
        sets: vec!["training.steps=12".into(), "training.eval_every=6".into()],
        ..Default::default()
    };
    let e = config::load(&path, &options).unwrap();
    let spec = e.runs().into_iter().find(|r| r.label == "sgdp").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = train::run(
        &spec,
        &RunOptions {
            out: dir.path().into(),
            force: false,
            progress: false,
            stop_after: None,
        },
    )
    .unwrap();
    assert_eq!(out.status, RunStatus::Completed);
    let folder = dir.path().join("toy3d/sgdp/seed-0");
    assert_eq!(out.folder, folder);

    let metrics = std::fs::read_to_string(folder.join("metrics.csv")).unwrap();
    let mut lines = metrics.lines();
    assert_eq!(lines.next().unwrap(), "run,step,epoch,param,metric,value");
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(rows
        .iter()
        .all(|r| r[0] == "toy3d/sgdp/seed-0" && r.len() == 6));
    let has = |step: &str, param: &str, metric: &str| {
        rows.iter()
            .any(|r| r[1] == step && r[3] == param && r[4] == metric)
    };
    for m in ["psi", "phi", "r"] {
        assert!(has("0", "-", m), "starting point {m}");
        assert!(has("12", "-", m), "trajectory {m}");
    }
    for m in ["loss", "lr", "time_s"] {
        assert!(has("7", "-", m));
    }
    for p in ["w", "__all__"] {
        for m in ["weight_norm", "effective_step", "max_abs_cos", "projected"] {
            assert!(has("7", p, m), "{p} {m}");
        }
    }
    assert!(has("6", "-", "eval_final_r") && has("12", "-", "eval_peak_r"));
    let projected: Vec<&Vec<&str>> = rows
        .iter()
        .filter(|r| r[3] == "w" && r[4] == "projected")
        .collect();
    assert!(
        projected.iter().all(|r| r[5] == "1.0"),
        "SGDP projects the scale-invariant toy weight every step"
    );

    let summary = std::fs::read_to_string(folder.join("summary.csv")).unwrap();
    let s: Vec<&str> = summary.lines().collect();
    assert!(s[0].starts_with("run,epoch,step,train_loss,lr,time_s,mean_weight_norm,mean_effective_step,status,eval_final_r,eval_peak_r,eval_final_loss"), "{}", s[0]);
    assert_eq!(s.len(), 3);
    assert!(s[1].contains(",running,") && s[2].contains(",completed,"));

    let resolved: toml::Table = std::fs::read_to_string(folder.join("config.resolved.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let meta = resolved["meta"].as_table().unwrap();
    for k in [
        "git_revision",
        "seed",
        "device",
        "adamp_version",
        "candle_version",
        "started_at",
    ] {
        assert!(meta.contains_key(k), "meta.{k}");
    }
    assert_eq!(resolved["report"]["benchmark"].as_str(), Some("toy3d"));
    assert_eq!(resolved["optimizers"].as_array().unwrap().len(), 1);
    assert_eq!(
        resolved["optimizers"][0]["delta"].as_float(),
        Some(0.1),
        "defaults are filled in"
    );
    assert_eq!(resolved["seeds"].as_array().unwrap().len(), 1);
    // The resolved config loads again as a config.
    config::load(
        &folder.join("config.resolved.toml"),
        &LoadOptions::default(),
    )
    .unwrap();
    for entry in std::fs::read_dir(&folder).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.ends_with(".tmp"), "{name}");
    }
}
