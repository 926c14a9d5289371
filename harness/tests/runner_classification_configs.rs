//! Every benchmark-1 config (embedded `configs/fmnist_*.toml` and paper-scale
//! `configs/paper/imagenet_*.toml`) parses, validates and trains for two steps on tiny data
//! generated in the real on-disk format (IDX for Fashion-MNIST, the ImageNet folder layout), read
//! through the same loaders, with every optimizer entry of the config. Nothing falls back to
//! other data: a missing folder is an error naming it.

mod common;

use std::path::{Path, PathBuf};

use adamp_harness::config::{self, LoadOptions};
use adamp_harness::train::{self, RunOptions, RunStatus};

fn configs(dir: &str, prefix: &str) -> Vec<PathBuf> {
    common::configs(dir, prefix)
        .into_iter()
        .filter(|p| is_classification(p))
        .collect()
}

/// Whether the config at `path` trains `[task] kind = "classification"` (other benchmarks'
/// Fashion-MNIST configs share the `fmnist_` prefix and have their own runner tests).
fn is_classification(path: &Path) -> bool {
    let text = std::fs::read_to_string(path).unwrap();
    let table: toml::Table = toml::from_str(&text).unwrap();
    table["task"]["kind"].as_str() == Some("classification")
}

/// Two steps (batch 2, 4 training images), evaluation on the tiny test split, CPU, one seed.
fn run_two_steps(path: &Path, data_root: &Path) {
    let experiment = common::load_seed0_on_cpu(
        path,
        vec![
            format!("data.root=\"{}\"", data_root.display()),
            "data.train_subset=4".into(),
            "data.workers=1".into(),
            "training.epochs=1".into(),
            "training.batch_size=2".into(),
            "log_every=1".into(),
        ],
    );
    let runs = experiment.runs();
    assert!(
        runs.len() >= 2,
        "{}: expected a baseline and a P run",
        path.display()
    );
    let out = tempfile::tempdir().unwrap();
    for spec in runs {
        let outcome = train::run(
            &spec,
            &RunOptions {
                out: out.path().into(),
                force: false,
                progress: false,
                stop_after: None,
            },
        )
        .unwrap_or_else(|e| panic!("{} / {}: {e:#}", path.display(), spec.label));
        assert_eq!(outcome.status, RunStatus::Completed, "{}", spec.label);
        let summary = std::fs::read_to_string(outcome.folder.join("summary.csv")).unwrap();
        let header = summary.lines().next().unwrap();
        assert!(header.contains("eval_top1"), "{header}");
        let last = summary.lines().last().unwrap();
        assert!(last.contains(",2,") && last.contains("completed"), "{last}");
        let metrics = std::fs::read_to_string(outcome.folder.join("metrics.csv")).unwrap();
        // Per-parameter instrumentation of the scale-invariant conv weights was recorded.
        assert!(
            metrics.contains("__all__,effective_step"),
            "{} {}: {}",
            path.display(),
            spec.label,
            metrics
                .lines()
                .filter(|l| l.contains("__all__"))
                .take(8)
                .collect::<Vec<_>>()
                .join("\n")
        );
        let params: std::collections::BTreeSet<&str> = metrics
            .lines()
            .filter_map(|l| l.split(',').nth(3))
            .collect();
        // (ResNets name their stem `conv1.weight`, MobileNetV2 `features.0.0.weight`.)
        assert!(
            params.contains("conv1.weight") || params.contains("features.0.0.weight"),
            "{} {}: recorded {params:?}",
            path.display(),
            spec.label
        );
    }
}

#[test]
fn embedded_classification_configs_train_two_steps_on_generated_idx_data() {
    let data = tempfile::tempdir().unwrap();
    adamp_datasets::testdata::write_idx_dataset(data.path(), 8, 6, 28, 4).unwrap();
    let found = configs("configs", "fmnist_");
    assert!(
        found.len() >= 3,
        "expected the embedded benchmark-1 configs, got {found:?}"
    );
    for path in found {
        run_two_steps(&path, data.path());
    }
}

#[test]
fn paper_imagenet_configs_start_on_a_generated_imagenet_layout() {
    let data = tempfile::tempdir().unwrap();
    adamp_datasets::testdata::write_image_folder(data.path(), 3, 2, 40, 9).unwrap();
    let found = configs("configs/paper", "imagenet_");
    assert_eq!(found.len(), 6, "{found:?}");
    for path in found {
        run_two_steps(&path, data.path());
    }
}

#[test]
fn a_missing_dataset_folder_is_an_error_naming_it() {
    let path = configs("configs/paper", "imagenet_resnet18.toml").remove(0);
    let options = LoadOptions {
        sets: vec!["data.root=\"/nonexistent/imagenet\"".into()],
        device: Some("cpu".into()),
        ..Default::default()
    };
    let spec = config::load(&path, &options).unwrap().runs().remove(0);
    let out = tempfile::tempdir().unwrap();
    let Err(err) = train::run(&spec, &RunOptions::new(out.path())) else {
        panic!("a missing dataset must fail");
    };
    let text = format!("{err:#}");
    assert!(text.contains("/nonexistent/imagenet"), "{text}");
}
