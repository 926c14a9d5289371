//! Every detection config (benchmark 2: the embedded `configs/coco_fmnist_centernet.toml` and
//! `configs/extra/coco_fmnist_ssd.toml`, and the
//! paper-scale `configs/paper/coco_*.toml`) parses, validates and trains for two steps with
//! every optimizer entry on a tiny dataset written in the real COCO 2017 layout
//! (`adamp_datasets::testdata_coco::write_tiny`: non-contiguous category ids, a crowd box, an
//! image without objects, a grey JPEG), read by the same COCO reader; each evaluation leaves its
//! detections in the COCO results format. A dataset whose files are missing is refused by
//! `adamp run` with exit code 2 before anything is written.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use adamp_harness::train::{self, RunOptions, RunStatus};
use adamp_models::{build, ModelKind};
use candle_core::Device;

/// Two epochs of one batch of 4 (5 training images), CPU, seed 0, every optimizer; `extra`
/// overrides on top. Returns the run folders.
fn run_two_steps(path: &Path, data_root: &Path, extra: &[String]) -> Vec<PathBuf> {
    let stem = path.file_stem().unwrap().to_string_lossy().to_string();
    let mut sets = vec![
        format!("data.root=\"{}\"", data_root.display()),
        "training.epochs=2".into(),
        "training.batch_size=4".into(),
        "log_every=1".into(),
    ];
    sets.extend(extra.iter().cloned());
    let experiment = common::load_seed0_on_cpu(path, sets);
    let runs = experiment.runs();
    let labels: Vec<&str> = runs.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(labels, ["adam", "adamp"], "{}", path.display());
    let out = tempfile::tempdir().unwrap().keep();
    let mut folders = Vec::new();
    for spec in runs {
        let outcome = train::run(&spec, &RunOptions::new(&out))
            .unwrap_or_else(|e| panic!("{} / {}: {e:#}", path.display(), spec.label));
        assert_eq!(
            outcome.status,
            RunStatus::Completed,
            "{stem} / {}",
            spec.label
        );
        let summary = std::fs::read_to_string(outcome.folder.join("summary.csv")).unwrap();
        let header = summary.lines().next().unwrap();
        for column in ["eval_ap", "eval_ap50", "eval_ar100"] {
            assert!(header.contains(column), "{stem}: {header}");
        }
        let last = summary.lines().last().unwrap();
        assert!(last.contains("completed"), "{stem}: {last}");
        let metrics = std::fs::read_to_string(outcome.folder.join("metrics.csv")).unwrap();
        assert!(
            metrics.contains(",objects,"),
            "{stem}: the objects per batch"
        );
        let parts = if stem.contains("ssd") {
            [",loc_loss,", ",conf_loss,"]
        } else {
            [",hm_loss,", ",wh_loss,"]
        };
        for part in parts {
            assert!(metrics.contains(part), "{stem}: {part}");
        }
        assert!(
            metrics.contains("backbone.") && metrics.contains("weight_norm"),
            "{stem}: the backbone's weights are instrumented"
        );
        // The latest evaluation's detections, in the COCO results format, on validation images.
        let dets: serde_json::Value =
            serde_json::from_slice(&std::fs::read(outcome.folder.join("detections.json")).unwrap())
                .unwrap();
        for d in dets.as_array().unwrap() {
            assert!(d["image_id"].as_u64().unwrap() >= 5000, "{stem}: {d}");
            assert!(
                [1, 3, 90].contains(&d["category_id"].as_u64().unwrap()),
                "{d}"
            );
            assert_eq!(d["bbox"].as_array().unwrap().len(), 4);
        }
        let source: serde_json::Value = serde_json::from_slice(
            &std::fs::read(outcome.folder.join("detections_source.json")).unwrap(),
        )
        .unwrap();
        assert!(source["annotation_file"]
            .as_str()
            .unwrap()
            .ends_with("instances_val2017.json"));
        folders.push(outcome.folder);
    }
    folders
}

fn tiny_coco() -> tempfile::TempDir {
    let data = tempfile::tempdir().unwrap();
    adamp_datasets::testdata_coco::write_tiny(data.path(), 5, 4).unwrap();
    data
}

#[test]
fn embedded_detection_configs_train_two_steps_on_coco_layout_data() {
    let data = tiny_coco();
    let mut found = common::configs("configs", "coco_");
    found.extend(common::configs("configs/extra", "coco_"));
    assert_eq!(
        found.len(),
        2,
        "CenterNet (default) and SSD (extra): {found:?}"
    );
    for path in found {
        run_two_steps(&path, data.path(), &[]);
    }
}

#[test]
fn paper_detection_configs_start_on_tiny_coco_data() {
    let data = tiny_coco();
    // The configured ResNet-18 and its loading path, from a local file instead of the hub
    // (random weights in torchvision names; the ImageNet-init runs load the backbone from it).
    let weights = data.path().join("resnet18.safetensors");
    build(ModelKind::ResNet18, 3, 10, (32, 32), 0, &Device::Cpu)
        .unwrap()
        .save_safetensors(&weights)
        .unwrap();
    let found = common::configs("configs/paper", "coco_");
    assert_eq!(
        found.len(),
        4,
        "CenterNet and SSD x scratch and ImageNet: {found:?}"
    );
    for path in found {
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        let mut extra = Vec::new();
        if stem.ends_with("imagenet") {
            extra.push(format!(
                "model.pretrained={{ path = \"{}\" }}",
                weights.display()
            ));
        }
        // CenterNet at 128 px instead of 512 keeps the CPU test short (3 up-sampling stages
        // still run: 4 x 4 backbone map to 32 x 32); SSD keeps its 300 px and 8,732 priors.
        if stem.contains("centernet") {
            extra.push("task.input_size=128".into());
        }
        run_two_steps(&path, data.path(), &extra);
    }
}

#[test]
fn a_missing_dataset_is_refused_before_anything_is_written() {
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let config = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("configs/coco_fmnist_centernet.toml");
    let result = Command::new(env!("CARGO_BIN_EXE_adamp"))
        .args(["run", config.to_str().unwrap(), "--out"])
        .arg(out.path())
        .args(["--seeds", "0", "--set"])
        .arg(format!(
            "data.root=\"{}\"",
            data.path().join("nowhere").display()
        ))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("instances_train2017.json"), "{stderr}");
    assert_eq!(
        std::fs::read_dir(out.path()).unwrap().count(),
        0,
        "{stderr}"
    );
}

#[test]
fn bad_detection_settings_are_refused_by_key_before_anything_is_written() {
    let config = common::configs("configs", "coco_fmnist_centernet").remove(0);
    for (set, key) in [
        ("task.input_size=30", "task.input_size"),
        (
            "task.detector={ kind = \"centernet\", wh_weight = -1.0 }",
            "task.detector.wh_weight",
        ),
        (
            "task.detector={ kind = \"ssd\", neg_pos = 0 }",
            "task.detector.neg_pos",
        ),
        ("model.backbone=\"mobilenet_v2\"", "model.backbone"),
        ("data.val_subset=0", "data.val_subset"),
    ] {
        let out = tempfile::tempdir().unwrap();
        let result = Command::new(env!("CARGO_BIN_EXE_adamp"))
            .args(["run", config.to_str().unwrap(), "--out"])
            .arg(out.path())
            .args(["--seeds", "0", "--set", set])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(2), "{set}: {stderr}");
        assert!(stderr.contains(key), "{set}: {stderr}");
        assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0, "{set}");
    }
}
