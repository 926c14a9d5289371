//! Every language-model config (benchmark 13: the embedded `configs/wikitext_brown_*.toml` and
//! the paper-scale `configs/paper/wikitext103_*.toml`) parses, validates and trains for two
//! steps with every optimizer entry on a tiny generated WikiText folder
//! (`adamp_datasets::testdata_wikitext::write_tiny_wikitext`), each paper config also on the same
//! corpus as the hub's parquet files in a local hub cache (offline). Each evaluation leaves the
//! vocabulary as `tokenizer.json`. A run killed mid-stream and resumed gives the losses and
//! evaluations of an uninterrupted run (the memories are checkpointed); a checkpoint made with
//! another vocabulary is refused; bad settings and data are refused by key before anything is
//! written.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use adamp_datasets::testdata_wikitext::{write_tiny_wikitext, write_tiny_wikitext_hub_cache};
use adamp_datasets::wikitext::{open_wikitext, Vocab};
use adamp_harness::config::{self, LoadOptions};
use adamp_harness::train::{self, RunOptions, RunStatus};

/// The tiny corpus in `root/wikitext`.
fn tiny(root: &Path) -> PathBuf {
    let dir = root.join("wikitext");
    write_tiny_wikitext(&dir, 0).unwrap();
    dir
}

/// Adaptive cutoffs that fit the tiny vocabulary (the paper's [20000, 40000, 200000] need more
/// than 200,000 symbols): the same number of clusters, at a quarter, half and three quarters.
fn tiny_cutoffs(dir: &Path) -> String {
    let n = open_wikitext(dir).unwrap().vocab.len();
    format!("model.cutoffs=[{}, {}, {}]", n / 4, n / 2, 3 * n / 4)
}

/// Settings of a two-step run on the tiny corpus: batch 2, segments of 8 (evaluation: batch 10,
/// segments of 8), an evaluation after each step.
fn two_step_sets() -> Vec<String> {
    [
        "training.steps=2",
        "training.eval_every=1",
        "training.batch_size=2",
        "task.tgt_len=8",
        "task.mem_len=8",
        "task.eval.tgt_len=8",
        "task.eval.batch_size=10",
        "log_every=1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// What every completed language-model run folder holds.
fn check_run_folder(folder: &Path, vocab: &Vocab, weight_norm: bool, what: &str) {
    let summary = std::fs::read_to_string(folder.join("summary.csv")).unwrap();
    let header = summary.lines().next().unwrap();
    for column in [
        "eval_valid_ppl",
        "eval_test_ppl",
        "eval_valid_loss",
        "eval_test_loss",
    ] {
        assert!(header.contains(column), "{what}: {header}");
    }
    assert_eq!(summary.lines().count(), 3, "{what}: two evaluations");
    assert!(
        summary.lines().last().unwrap().contains("completed"),
        "{what}"
    );
    let metrics = std::fs::read_to_string(folder.join("metrics.csv")).unwrap();
    for scalar in [",ppl,", ",grad_norm,", ",segment,"] {
        assert!(metrics.contains(scalar), "{what}: {scalar}");
    }
    // The weight-normalised directions are the scale-invariant tensors the recorder follows.
    assert_eq!(
        metrics.contains("qkv_net.weight_v") && metrics.contains(",weight_norm,"),
        weight_norm,
        "{what}: weight-norm directions recorded iff weight_norm"
    );
    let saved = Vocab::from_tokenizer_file(&folder.join("tokenizer.json")).unwrap();
    assert_eq!(
        &saved, vocab,
        "{what}: tokenizer.json is the run's vocabulary"
    );
}

/// Two steps of every optimizer entry of `path` on the folder `dir`, seed 0, CPU.
fn run_two_steps(path: &Path, dir: &Path, extra: &[String]) {
    let stem = path.file_stem().unwrap().to_string_lossy().to_string();
    let mut sets = two_step_sets();
    sets.push(format!("data.dir=\"{}\"", dir.display()));
    sets.extend(extra.iter().cloned());
    let experiment = common::load_seed0_on_cpu(path, sets);
    let runs = experiment.runs();
    let labels: Vec<&str> = runs.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(labels, ["adamw", "adamp"], "{}", path.display());
    let vocab = open_wikitext(dir).unwrap().vocab;
    let out = tempfile::tempdir().unwrap();
    for spec in runs {
        let outcome = train::run(&spec, &RunOptions::new(out.path()))
            .unwrap_or_else(|e| panic!("{stem} / {}: {e:#}", spec.label));
        assert_eq!(outcome.status, RunStatus::Completed, "{stem}");
        check_run_folder(
            &outcome.folder,
            &vocab,
            stem.ends_with("_wn"),
            &format!("{stem} / {}", spec.label),
        );
    }
}

#[test]
fn embedded_lm_configs_train_two_steps_on_a_tiny_wikitext_folder() {
    let data = tempfile::tempdir().unwrap();
    let dir = tiny(data.path());
    let found = common::configs("configs", "wikitext_");
    assert_eq!(found.len(), 2, "without and with weight norm: {found:?}");
    // The Brown stand-in is read from the folder instead of being built under the data root.
    let extra = ["data.fetch=false".to_string(), tiny_cutoffs(&dir)];
    for path in found {
        run_two_steps(&path, &dir, &extra);
    }
}

#[test]
fn paper_lm_configs_train_two_steps_on_a_tiny_wikitext_folder() {
    let data = tempfile::tempdir().unwrap();
    let dir = tiny(data.path());
    let found = common::configs("configs/paper", "wikitext103_");
    assert_eq!(found.len(), 2, "without and with weight norm: {found:?}");
    // The paper's model itself (16 layers of 410, 10 heads, d_inner 2100), with cutoffs that
    // fit the tiny vocabulary.
    for path in found {
        run_two_steps(&path, &dir, &[tiny_cutoffs(&dir)]);
    }
}

#[test]
fn paper_lm_configs_read_the_hub_parquet_from_a_local_cache() {
    let data = tempfile::tempdir().unwrap();
    let cache = data.path().join("hub-cache");
    write_tiny_wikitext_hub_cache(&cache, 0).unwrap();
    // The same lines as a folder: the same vocabulary.
    let dir = tiny(data.path());
    let vocab = open_wikitext(&dir).unwrap().vocab;
    for path in common::configs("configs/paper", "wikitext103_") {
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        let out = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_adamp"));
        cmd.args(["run", path.to_str().unwrap(), "--no-progress", "--out"])
            .arg(out.path())
            .args(["--seeds", "0", "--device", "cpu"])
            .env("HF_HUB_OFFLINE", "1")
            .env("HF_HUB_CACHE", &cache)
            .env_remove("HF_HOME");
        for set in two_step_sets().into_iter().chain([
            "data.hub={ repo = \"Salesforce/wikitext\", config = \"wikitext-103-v1\" }".to_string(),
            tiny_cutoffs(&dir),
        ]) {
            cmd.args(["--set", &set]);
        }
        let result = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert!(result.status.success(), "{stem}: {stderr}");
        for label in ["adamw", "adamp"] {
            let folder = out.path().join(&stem).join(label).join("seed-0");
            check_run_folder(
                &folder,
                &vocab,
                stem.ends_with("_wn"),
                &format!("{stem} / {label} (hub)"),
            );
        }
    }
}

/// The weight-norm embedded config, AdamP, seed 1, on `dir`: 7 steps over a training stream of
/// 3 segments of 8 (so the stream wraps after steps 3 and 6), memories of 12 rows (longer than
/// a segment, so they hold two segments' outputs), dropout on, evaluations after steps 3 and 7.
fn resume_spec(dir: &Path) -> adamp_harness::config::RunSpec {
    let path =
        common::config_files("configs", |s| s == "wikitext_brown_transformer_xl_wn.toml").remove(0);
    let options = LoadOptions {
        sets: vec![
            format!("data.dir=\"{}\"", dir.display()),
            "data.fetch=false".into(),
            "data.train_tokens=50".into(),
            tiny_cutoffs(dir),
            "training.steps=7".into(),
            "training.eval_every=3".into(),
            "training.batch_size=2".into(),
            "training.checkpoint_every=1".into(),
            "task.tgt_len=8".into(),
            "task.mem_len=12".into(),
            "task.eval.tgt_len=8".into(),
            "task.eval.batch_size=10".into(),
            "model.dropout=0.2".into(),
            "log_every=1".into(),
        ],
        seeds: Some(vec![1]),
        device: Some("cpu".into()),
        ..Default::default()
    };
    config::load(&path, &options)
        .unwrap()
        .runs()
        .into_iter()
        .find(|r| r.label == "adamp")
        .unwrap()
}

#[test]
fn a_language_model_run_killed_mid_stream_resumes_exactly() {
    let data = tempfile::tempdir().unwrap();
    let dir = tiny(data.path());
    let spec = resume_spec(&dir);
    let out = tempfile::tempdir().unwrap();
    let (a, b) = (out.path().join("a"), out.path().join("b"));
    let full = train::run(&spec, &RunOptions::new(&a)).unwrap();
    assert_eq!(full.status, RunStatus::Completed);
    // Killed after step 5: inside the second pass, with memories of steps 4 and 5.
    let killed = train::run(
        &spec,
        &RunOptions {
            stop_after: Some(5),
            ..RunOptions::new(&b)
        },
    )
    .unwrap();
    assert_eq!(killed.status, RunStatus::Interrupted { step: 5 });
    let resumed = train::run(&spec, &RunOptions::new(&b)).unwrap();
    assert_eq!(resumed.status, RunStatus::Completed);
    let (fa, fb) = (spec.folder(&a), spec.folder(&b));
    let metrics = std::fs::read_to_string(fa.join("metrics.csv")).unwrap();
    let segments: Vec<f64> = metrics
        .lines()
        .filter(|l| l.contains(",segment,"))
        .map(|l| l.rsplit(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(segments, [0.0, 1.0, 2.0, 0.0, 1.0, 2.0, 0.0]);
    for file in ["metrics.csv", "summary.csv"] {
        assert_eq!(
            common::without_time(&fa.join(file)),
            common::without_time(&fb.join(file)),
            "{file} differs after resume"
        );
    }
    let (ta, tb) = (
        common::checkpoint_tensors(&fa),
        common::checkpoint_tensors(&fb),
    );
    assert!(
        ta.iter().any(|(k, _)| k == "buffer/mems.0"),
        "memories saved"
    );
    assert_eq!(ta, tb, "parameters, memories and optimizer state differ");
}

#[test]
fn a_checkpoint_of_another_vocabulary_is_refused() {
    let data = tempfile::tempdir().unwrap();
    let dir = tiny(data.path());
    let spec = resume_spec(&dir);
    let out = tempfile::tempdir().unwrap();
    let killed = train::run(
        &spec,
        &RunOptions {
            stop_after: Some(2),
            ..RunOptions::new(out.path())
        },
    )
    .unwrap();
    assert_eq!(killed.status, RunStatus::Interrupted { step: 2 });
    // The corpus changes under the run: one more word in the training file.
    let train_file = dir.join("wiki.train.tokens");
    let text = std::fs::read_to_string(&train_file).unwrap() + " a wholly new word \n";
    std::fs::write(&train_file, text).unwrap();
    let e = format!(
        "{:#}",
        train::run(&spec, &RunOptions::new(out.path())).unwrap_err()
    );
    assert!(e.contains("vocabulary mismatch"), "{e}");
}

#[test]
fn bad_language_model_settings_are_refused_by_key_before_anything_is_written() {
    let data = tempfile::tempdir().unwrap();
    let dir = tiny(data.path());
    let config = common::configs("configs", "wikitext_brown_transformer_xl.toml").remove(0);
    let folder = format!("data.dir=\"{}\"", dir.display());
    let cutoffs = tiny_cutoffs(&dir);
    let nowhere = format!("data.dir=\"{}\"", data.path().join("nowhere").display());
    for (sets, key) in [
        (vec!["task.tgt_len=0"], "task.tgt_len"),
        (vec!["task.clip=-1.0"], "task.clip"),
        (vec!["task.mem_len=-1"], "task.mem_len"),
        (vec!["task.eval.batch_size=0"], "task.eval.batch_size"),
        (vec!["model.cutoffs=[50, 20]"], "model.cutoffs"),
        (vec!["model.dropout=1.5"], "model.dropout"),
        (vec!["data.train_tokens=1"], "data.train_tokens"),
        (
            vec!["data.fetch=false", nowhere.as_str()],
            "wiki.train.tokens",
        ),
        // Checked against the data, still before anything is written.
        (
            vec![
                "data.fetch=false",
                folder.as_str(),
                "model.cutoffs=[100000]",
            ],
            "model.cutoffs",
        ),
        (
            vec![
                "data.fetch=false",
                folder.as_str(),
                &cutoffs,
                "task.tgt_len=5000",
            ],
            "task.tgt_len",
        ),
        (
            vec![
                "data.fetch=false",
                folder.as_str(),
                &cutoffs,
                "task.eval.tgt_len=500",
            ],
            "task.eval.tgt_len",
        ),
    ] {
        let out = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_adamp"));
        cmd.args(["run", config.to_str().unwrap(), "--no-progress", "--out"])
            .arg(out.path())
            .args(["--seeds", "0"]);
        for s in &sets {
            cmd.args(["--set", s]);
        }
        let result = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(2), "{sets:?}: {stderr}");
        assert!(stderr.contains(key), "{sets:?}: {stderr}");
        assert_eq!(
            std::fs::read_dir(out.path()).unwrap().count(),
            0,
            "{sets:?}"
        );
    }
}
