//! Every ReBias config (benchmarks 4 and 5: embedded `configs/biased_mnist_*.toml`,
//! `configs/imagenet9_*.toml`, the optional `configs/extra/`, and the paper-scale
//! `configs/paper/biased_mnist_*.toml` and `configs/paper/imagenet9.toml`) parses, validates and
//! trains two steps with every optimizer entry on tiny data generated in the real layouts (IDX
//! digits, the texture-biased PNG folders, the 9-class ImageNet folders with a cluster file and
//! an ImageNet-A folder), read through the same loaders; the report then shows the Biased-MNIST
//! rows beside the paper's numbers and the plot against rho.

mod common;

use std::path::{Path, PathBuf};

use adamp_datasets::texture_fmnist::{build_texture_dataset, TextureSpec};
use adamp_harness::train::{self, RunOptions, RunStatus};

/// The tiny data of every kind, generated once.
struct Data {
    _dir: tempfile::TempDir,
    mnist: PathBuf,
    texture: PathBuf,
    imagenet9: PathBuf,
}

fn data() -> Data {
    let dir = tempfile::tempdir().unwrap();
    let mnist = dir.path().join("mnist");
    adamp_datasets::testdata_rebias::write_digit_idx(&mnist, 40, 30, 4).unwrap();
    let fm = dir.path().join("fm");
    adamp_datasets::testdata::write_idx_dataset(&fm, 30, 230, 28, 6).unwrap();
    let spec = TextureSpec {
        folder: "tex",
        train_per_class: 3,
        val_per_class: 20,
        a_per_class: 1,
        train_rho: 0.9,
        val_rho: 0.5,
        seed: 1,
    };
    build_texture_dataset(&spec, &fm, dir.path()).unwrap();
    let imagenet9 = dir.path().join("in9");
    adamp_datasets::testdata_rebias::write_imagenet9_layout(&imagenet9, 2, 20).unwrap();
    Data {
        mnist,
        texture: dir.path().join("tex"),
        imagenet9,
        _dir: dir,
    }
}

/// The overrides pointing a config at the tiny data of its kind.
fn overrides(path: &Path, d: &Data) -> Vec<String> {
    let name = path.file_name().unwrap().to_string_lossy();
    let mut sets = vec![
        "data.train_subset=8".to_string(),
        "data.workers=1".into(),
        "training.epochs=1".into(),
        "training.batch_size=4".into(),
        "log_every=1".into(),
    ];
    if name.starts_with("biased_mnist") {
        sets.push(format!("data.root=\"{}\"", d.mnist.display()));
        sets.push("data.test_subset=10".into());
    } else if name == "imagenet9.toml" {
        let root = &d.imagenet9;
        sets.push(format!("data.root=\"{}\"", root.display()));
        sets.push(format!(
            "data.clusters=\"{}\"",
            root.join("clusters.csv").display()
        ));
        sets.push(format!(
            "data.imagenet_a=\"{}\"",
            root.join("imagenet-a").display()
        ));
        sets.push("data.crop=64".into());
    } else {
        sets.push(format!("data.root=\"{}\"", d.texture.display()));
    }
    sets
}

/// Two steps of every optimizer entry of `path` into `out`; returns the labels run.
fn run_two_steps(path: &Path, d: &Data, out: &Path) -> Vec<String> {
    let experiment = common::load_seed0_on_cpu(path, overrides(path, d));
    let runs = experiment.runs();
    assert!(
        runs.len() >= 2,
        "{}: a baseline and a P run",
        path.display()
    );
    let metric = experiment.config.report.metric.clone();
    let mut labels = Vec::new();
    for spec in runs {
        let outcome = train::run(&spec, &RunOptions::new(out))
            .unwrap_or_else(|e| panic!("{} / {}: {e:#}", path.display(), spec.label));
        assert_eq!(outcome.status, RunStatus::Completed, "{}", spec.label);
        assert!(
            outcome
                .evals
                .iter()
                .any(|(k, v)| *k == metric && v.is_finite()),
            "{} {}: {:?}",
            path.display(),
            spec.label,
            outcome.evals
        );
        let summary = std::fs::read_to_string(outcome.folder.join("summary.csv")).unwrap();
        let last = summary.lines().last().unwrap();
        assert!(last.contains(",2,") && last.contains("completed"), "{last}");
        // Both networks' parameters are instrumented, by set.
        let metrics = std::fs::read_to_string(outcome.folder.join("metrics.csv")).unwrap();
        for set in ["f.", "g."] {
            assert!(
                metrics
                    .lines()
                    .any(|l| l.split(',').nth(3).is_some_and(|p| p.starts_with(set))),
                "{} {}: no `{set}*` rows",
                path.display(),
                spec.label
            );
        }
        labels.push(spec.label.clone());
    }
    labels
}

#[test]
fn every_rebias_config_trains_two_steps_on_generated_data_and_reports_beside_the_paper() {
    let d = data();
    let embedded: Vec<PathBuf> = common::configs("configs", "biased_mnist_")
        .into_iter()
        .chain(common::configs("configs", "imagenet9_"))
        .collect();
    assert_eq!(embedded.len(), 5, "{embedded:?}");
    let extra = common::configs("configs/extra", "biased_mnist_");
    assert_eq!(extra.len(), 8, "{extra:?}");
    let paper: Vec<PathBuf> = common::configs("configs/paper", "biased_mnist_")
        .into_iter()
        .chain(common::configs("configs/paper", "imagenet9"))
        .collect();
    assert_eq!(paper.len(), 5, "{paper:?}");
    let out = tempfile::tempdir().unwrap();
    for path in &embedded {
        assert_eq!(run_two_steps(path, &d, out.path()), ["adam", "adamp"]);
    }
    let scratch = tempfile::tempdir().unwrap();
    for path in extra.iter().chain(&paper) {
        run_two_steps(path, &d, scratch.path());
    }

    let report = adamp_harness::report::build_report(out.path()).unwrap();
    let text = std::fs::read_to_string(&report.report_path).unwrap();
    // The paper's unbiased accuracies stand beside ours, per rho, and its 9-class ImageNet
    // numbers beside the stand-in's three columns.
    for cell in [
        "22.90 (Adam; ρ = 0.999)",
        "Adam 87.00 → AdamP 89.60",
        "95.20 (AdamP",
        "32.90 (AdamP",
    ] {
        assert!(text.contains(cell), "report lacks `{cell}`");
    }
    assert!(text.contains("NOT ImageNet"), "the stand-in is labelled");
    // The plot of unbiased accuracy against rho, shown in the Biased-MNIST section.
    assert!(out.path().join("plots/biased_mnist_vs_rho.png").is_file());
    let section = &text[text.find("## Biased-MNIST").unwrap()..text.find("## 9-class").unwrap()];
    assert!(section.contains("![biased_mnist against rho](plots/biased_mnist_vs_rho.png)"));
}
