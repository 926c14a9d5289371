//! Every retrieval config (benchmarks 9-12: the embedded stand-ins `configs/retrieval_*.toml`
//! and the paper-scale `configs/paper/{cub,cars,sop,inshop}_{triplet,proxy_anchor}.toml`) parses,
//! validates and trains for two steps with every optimizer entry on tiny data written in the
//! dataset's real layout (`adamp_datasets::testdata_retrieval::write_tiny`), read through the
//! same readers: one warm-up step (embedding and proxies only) and one full step, then Recall@K.
//! Bad input found only once the data and the batch size are known (a K beyond the gallery,
//! `per_class` not dividing the batch, an embedding size that does not match a checkpoint) is
//! refused by `adamp run` with exit code 2, naming its key, with nothing written.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use adamp_datasets::retrieval::RetrievalFormat;
use adamp_harness::config::{self, LoadOptions};
use adamp_harness::train::{self, RunOptions, RunStatus};
use adamp_models::{build, ModelKind};
use candle_core::Device;

/// 8 classes of 3 images (4 train, 4 evaluate), 40 px, in `format`'s layout.
fn tiny(format: RetrievalFormat, root: &Path) -> PathBuf {
    let dir = root.join(format.as_str());
    adamp_datasets::testdata_retrieval::write_tiny(format, &dir, 8, 3, 40).unwrap();
    dir
}

/// Two epochs of one batch of 8 (12 training images), one warm-up epoch, Recall@{1,2}, CPU,
/// one seed, every optimizer; `extra` overrides on top.
fn run_two_steps(path: &Path, data_root: &Path, extra: &[String]) {
    let stem = path.file_stem().unwrap().to_string_lossy().to_string();
    let mut sets = vec![
        format!("data.root=\"{}\"", data_root.display()),
        "data.workers=1".into(),
        "training.epochs=2".into(),
        "training.batch_size=8".into(),
        "task.warmup_epochs=1".into(),
        "task.recall_at=[1, 2]".into(),
        "report.also=[\"eval_recall_at_2\"]".into(),
        "log_every=1".into(),
    ];
    if stem.contains("triplet") {
        sets.push("task.per_class=2".into());
    }
    sets.extend(extra.iter().cloned());
    let experiment = common::load_seed0_on_cpu(path, sets);
    let runs = experiment.runs();
    let labels: Vec<&str> = runs.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(labels, ["adamw", "adamp"], "{}", path.display());
    let out = tempfile::tempdir().unwrap();
    for spec in runs {
        let outcome = train::run(&spec, &RunOptions::new(out.path()))
            .unwrap_or_else(|e| panic!("{} / {}: {e:#}", path.display(), spec.label));
        assert_eq!(
            outcome.status,
            RunStatus::Completed,
            "{stem} / {}",
            spec.label
        );
        let summary = std::fs::read_to_string(outcome.folder.join("summary.csv")).unwrap();
        let header = summary.lines().next().unwrap();
        for column in ["eval_recall_at_1", "eval_recall_at_2"] {
            assert!(header.contains(column), "{stem}: {header}");
        }
        let last = summary.lines().last().unwrap();
        assert!(
            last.contains(",2,") && last.contains("completed"),
            "{stem}: {last}"
        );
        let metrics = std::fs::read_to_string(outcome.folder.join("metrics.csv")).unwrap();
        assert!(metrics.contains(",warmup,1"), "{stem}: a warm-up step");
        assert!(
            metrics.contains(",warmup,0"),
            "{stem}: a step after the warm-up"
        );
        assert!(metrics.contains("embedding.weight,weight_norm"), "{stem}");
        if stem.contains("proxy_anchor") {
            assert!(metrics.contains("proxies,effective_step"), "{stem}");
        }
    }
}

#[test]
fn embedded_retrieval_configs_train_two_steps_on_their_layouts() {
    let data = tempfile::tempdir().unwrap();
    let found = common::configs("configs", "retrieval_");
    assert_eq!(
        found.len(),
        4,
        "fmnist / emoji x triplet / proxy_anchor: {found:?}"
    );
    for path in found {
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        let format = if stem.contains("fmnist") {
            RetrievalFormat::Cub
        } else {
            RetrievalFormat::Sop
        };
        let dir = tiny(format, data.path());
        run_two_steps(&path, &dir, &["data.test_subset=12".into()]);
    }
}

#[test]
fn paper_retrieval_configs_start_on_tiny_data_in_each_real_layout() {
    let data = tempfile::tempdir().unwrap();
    // The configured ResNet-50 and its loading path, from a local file instead of the hub
    // (random weights in torchvision names; the run loads every trunk tensor from it).
    let weights = data.path().join("resnet50.safetensors");
    build(ModelKind::ResNet50, 3, 10, (32, 32), 0, &Device::Cpu)
        .unwrap()
        .save_safetensors(&weights)
        .unwrap();
    let pretrained = format!("model.pretrained={{ path = \"{}\" }}", weights.display());
    let found = common::config_files("configs/paper", |s| {
        s.ends_with("_triplet.toml") || s.ends_with("_proxy_anchor.toml")
    });
    assert_eq!(found.len(), 8, "4 datasets x 2 losses: {found:?}");
    for path in found {
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        let format = match stem.split('_').next().unwrap() {
            "cub" => RetrievalFormat::Cub,
            "cars" => RetrievalFormat::Cars,
            "sop" => RetrievalFormat::Sop,
            "inshop" => RetrievalFormat::InShop,
            other => panic!("{other}"),
        };
        let dir = tiny(format, data.path());
        // 32-pixel crops instead of 224 keep ResNet-50 cheap on the CPU; the transforms
        // themselves are the configured ones.
        run_two_steps(
            &path,
            &dir,
            &[
                pretrained.clone(),
                "data.crop=32".into(),
                "data.resize=36".into(),
            ],
        );
    }
}

fn refused(config: &Path, sets: &[String], key: &str) {
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("results");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_adamp"));
    cmd.arg("run").arg(config).args([
        "--out",
        target.to_str().unwrap(),
        "--no-progress",
        "--seeds",
        "0",
    ]);
    for s in sets {
        cmd.args(["--set", s]);
    }
    let o = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{sets:?}: {stderr}");
    assert!(
        stderr.contains(key),
        "{sets:?}: `{key}` missing from {stderr}"
    );
    assert!(!target.exists(), "{sets:?}: something was written");
}

#[test]
fn bad_retrieval_input_is_refused_by_key_with_nothing_written() {
    let data = tempfile::tempdir().unwrap();
    let dir = tiny(RetrievalFormat::Cub, data.path());
    let config = common::configs("configs", "retrieval_fmnist_triplet.toml").remove(0);
    let base = |more: &[&str]| -> Vec<String> {
        let mut v = vec![
            format!("data.root=\"{}\"", dir.display()),
            "training.batch_size=8".to_string(),
            "task.per_class=2".to_string(),
        ];
        v.extend(more.iter().map(|s| s.to_string()));
        v
    };
    // 12 evaluation images: a query ranks 11 others.
    refused(
        &config,
        &base(&["task.recall_at=[1, 2, 4, 8, 12]"]),
        "task.recall_at",
    );
    refused(&config, &base(&["task.per_class=3"]), "training.batch_size");
    refused(&config, &base(&["task.per_class=0"]), "task.per_class");
    refused(
        &config,
        &base(&["task.loss={ kind = \"triplet\", margin = -1.0 }"]),
        "task.loss.margin",
    );
    refused(
        &config,
        &base(&["task.proxy_lr_scale=10.0"]),
        "task.proxy_lr_scale",
    );
    refused(
        &config,
        &base(&["data.stand_in=\"emoji_sop\""]),
        "data.stand_in",
    );
    // A checkpoint whose embedding is 16-dimensional, for a 512-dimensional config.
    let ckpt = data.path().join("retrieval.safetensors");
    let tensors = [
        (
            "embedding.weight",
            candle_core::Tensor::zeros((16, 64), candle_core::DType::F32, &Device::Cpu).unwrap(),
        ),
        (
            "embedding.bias",
            candle_core::Tensor::zeros(16, candle_core::DType::F32, &Device::Cpu).unwrap(),
        ),
    ];
    candle_core::safetensors::save(&tensors.into_iter().collect(), &ckpt).unwrap();
    let with_ckpt = format!("model.pretrained={{ path = \"{}\" }}", ckpt.display());
    refused(&config, &base(&[&with_ckpt]), "task.embedding_dim");
}

#[test]
fn a_retrieval_run_killed_after_the_warm_up_resumes_exactly() {
    let data = tempfile::tempdir().unwrap();
    let dir = tiny(RetrievalFormat::Cub, data.path());
    // Class-balanced batches with BatchNorm in training mode (triplet), shuffled batches with
    // the proxies' group (Proxy-Anchor): 3 steps per epoch, killed in the second epoch.
    for stem in ["retrieval_fmnist_triplet", "retrieval_fmnist_proxy_anchor"] {
        let path = common::config_files("configs", |s| s == format!("{stem}.toml")).remove(0);
        let options = LoadOptions {
            sets: vec![
                format!("data.root=\"{}\"", dir.display()),
                "data.workers=2".into(),
                "training.epochs=2".into(),
                "training.batch_size=4".into(),
                "training.checkpoint_every=1".into(),
                "task.per_class=2".into(),
                "log_every=1".into(),
            ],
            seeds: Some(vec![1]),
            device: Some("cpu".into()),
            ..Default::default()
        };
        let spec = config::load(&path, &options)
            .unwrap()
            .runs()
            .into_iter()
            .find(|r| r.label == "adamp")
            .unwrap();
        let out = tempfile::tempdir().unwrap();
        let (a, b) = (out.path().join("a"), out.path().join("b"));
        let full = train::run(&spec, &RunOptions::new(&a)).unwrap();
        assert_eq!(full.status, RunStatus::Completed);
        let killed = train::run(
            &spec,
            &RunOptions {
                stop_after: Some(4),
                ..RunOptions::new(&b)
            },
        )
        .unwrap();
        assert_eq!(killed.status, RunStatus::Interrupted { step: 4 });
        let resumed = train::run(&spec, &RunOptions::new(&b)).unwrap();
        assert_eq!(resumed.status, RunStatus::Completed);
        let (fa, fb) = (spec.folder(&a), spec.folder(&b));
        for file in ["metrics.csv", "summary.csv"] {
            assert_eq!(
                common::without_time(&fa.join(file)),
                common::without_time(&fb.join(file)),
                "{stem}: {file} differs after resume"
            );
        }
        assert_eq!(
            common::checkpoint_tensors(&fa),
            common::checkpoint_tensors(&fb),
            "{stem}: parameters differ"
        );
    }
}
