//! Every audio config (benchmarks 6-8: the paper-scale `configs/paper/{mtat,speech_commands,
//! dcase2017}_harmonic_cnn.toml` and the embedded `configs/*_harmonic_cnn.toml`) parses,
//! validates and trains for two steps with every optimizer entry on tiny generated data in the
//! dataset's real layout (the paper configs on `adamp_datasets::testdata_audio`'s copies; the
//! embedded ones on data in the same layout with their stand-in's label set). A run killed
//! mid-epoch and resumed gives the losses, evaluations and tensors of an uninterrupted run. Bad
//! data is a counted skip named in the description and `skipped_clips.txt` (a listed clip that is
//! missing, an undecodable WAV) or an error naming the file before anything is written (a list
//! line naming a missing keyword clip, an unknown label); bad settings are refused by key.

mod audio_tiny;
mod common;

use std::path::Path;
use std::process::Command;

use adamp_datasets::audio::AudioStandIn;
use adamp_harness::config::{self, LoadOptions};
use adamp_harness::train::{self, RunOptions, RunStatus};
use adamp_task_api::{Task, TaskContext};
use adamp_task_audio::data_settings::AudioDataSettings;
use adamp_task_audio::model_settings::AudioModelSettings;
use adamp_task_audio::{AudioDataset, AudioSettings, AudioTask};
use audio_tiny::{tiny_train_clips, write_stand_in_layout, write_tiny};
use candle_core::Device;

/// The dataset a config trains on, from its file name.
fn dataset_of(stem: &str) -> AudioDataset {
    if stem.starts_with("mtat") {
        AudioDataset::Mtat
    } else if stem.starts_with("speech_commands") {
        AudioDataset::SpeechCommands
    } else {
        AudioDataset::Dcase2017
    }
}

/// `data.dir` set to `d`.
fn data_dir(d: &Path) -> String {
    format!("data.dir=\"{}\"", d.display())
}

/// `data.cache_dir` inside `d` (the default, under the data root, would outlive the test).
fn cache_dir(d: &Path) -> String {
    format!("data.cache_dir=\"{}\"", d.join(".clip-cache").display())
}

/// What every completed audio run folder holds.
fn check_run_folder(folder: &Path, dataset: AudioDataset, what: &str) {
    let summary = std::fs::read_to_string(folder.join("summary.csv")).unwrap();
    let header = summary.lines().next().unwrap();
    for m in adamp_task_audio::task::metric_names(dataset) {
        assert!(header.contains(&format!("eval_{m}")), "{what}: {header}");
    }
    assert_eq!(summary.lines().count(), 2, "{what}: one evaluation");
    assert!(
        summary.lines().last().unwrap().contains("completed"),
        "{what}"
    );
    let metrics = std::fs::read_to_string(folder.join("metrics.csv")).unwrap();
    assert!(metrics.contains(",loss,"), "{what}");
    let fb = std::fs::read_to_string(folder.join("filterbank.csv")).unwrap();
    assert!(
        fb.starts_with("harmonic,band,centre_hz,bandwidth_hz\n"),
        "{what}"
    );
    assert!(
        fb.lines().count() > 6 * 128,
        "{what}: 6 harmonics x 128+ bands"
    );
}

/// Two steps (one epoch of two batches) of every optimizer entry of `path` on `dir`, seed 0.
fn run_two_steps(path: &Path, dir: &Path, train_clips: usize, extra: &[&str]) {
    let stem = path.file_stem().unwrap().to_string_lossy().to_string();
    let dataset = dataset_of(&stem);
    let mut sets: Vec<String> = vec![
        "training.epochs=1".into(),
        format!("training.batch_size={}", train_clips / 2),
        "log_every=1".into(),
        data_dir(dir),
        cache_dir(dir),
    ];
    sets.extend(extra.iter().map(|s| s.to_string()));
    let experiment = common::load_seed0_on_cpu(path, sets);
    let runs = experiment.runs();
    let labels: Vec<&str> = runs.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(labels, ["adam", "adamp"], "{}", path.display());
    let out = tempfile::tempdir().unwrap();
    for spec in runs {
        let started = std::time::Instant::now();
        let outcome = train::run(&spec, &RunOptions::new(out.path()))
            .unwrap_or_else(|e| panic!("{stem} / {}: {e:#}", spec.label));
        eprintln!(
            "{stem} / {}: two steps and one evaluation in {:.1} s",
            spec.label,
            started.elapsed().as_secs_f64()
        );
        assert_eq!(outcome.status, RunStatus::Completed, "{stem}");
        check_run_folder(
            &outcome.folder,
            dataset,
            &format!("{stem} / {}", spec.label),
        );
    }
}

#[test]
fn paper_audio_configs_train_two_steps_on_tiny_real_layouts() {
    let found = common::configs("configs/paper", "");
    let found: Vec<_> = found
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with("_harmonic_cnn.toml"))
        .collect();
    assert_eq!(found.len(), 3, "{found:?}");
    for path in found {
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        let dataset = dataset_of(&stem);
        let data = tempfile::tempdir().unwrap();
        write_tiny(dataset, data.path());
        // The paper's network itself on the keywords (1 s chunks); 2 channels on the 5 s / 3 s
        // chunks of the tagging datasets.
        let tiny_model: &[&str] = match dataset {
            AudioDataset::SpeechCommands => &[],
            _ => &["model.conv_channels=2"],
        };
        run_two_steps(&path, data.path(), tiny_train_clips(dataset), tiny_model);
    }
}

#[test]
fn embedded_audio_configs_train_two_steps_in_their_layouts() {
    let found = common::configs("configs", "");
    let found: Vec<_> = found
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with("_harmonic_cnn.toml"))
        .collect();
    assert_eq!(found.len(), 3, "{found:?}");
    for path in found {
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        let stand_in = dataset_of(&stem).stand_in();
        let data = tempfile::tempdir().unwrap();
        let train_clips = write_stand_in_layout(stand_in, data.path());
        // Read from the folder instead of being built under the data root.
        run_two_steps(&path, data.path(), train_clips, &["data.fetch=false"]);
    }
}

#[test]
fn an_audio_run_killed_mid_epoch_resumes_exactly() {
    let data = tempfile::tempdir().unwrap();
    write_tiny(AudioDataset::SpeechCommands, data.path());
    let path = common::configs("configs/paper", "speech_commands_harmonic_cnn").remove(0);
    // 12 training clips in batches of 4: 3 steps per epoch, 2 epochs; killed after step 4
    // (inside epoch 2, after an evaluation); head dropout on.
    let options = LoadOptions {
        sets: vec![
            data_dir(data.path()),
            cache_dir(data.path()),
            "model.conv_channels=4".into(),
            "training.epochs=2".into(),
            "training.batch_size=4".into(),
            "training.checkpoint_every=1".into(),
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
            "{file} differs after resume"
        );
    }
    let (ta, tb) = (
        common::checkpoint_tensors(&fa),
        common::checkpoint_tensors(&fb),
    );
    assert!(
        ta.iter()
            .any(|(k, _)| k.starts_with("buffer/") && k.contains("running_mean")),
        "BatchNorm running statistics saved"
    );
    assert_eq!(ta, tb, "parameters, buffers and optimizer state differ");
}

/// The tiny MagnaTagATune with one training clip cut to 1 s (shorter than a 5 s chunk: padded),
/// one listed clip deleted and one replaced by bytes that are no audio.
fn damaged_mtat(dir: &Path) -> (String, String) {
    write_tiny(AudioDataset::Mtat, dir);
    let rows = adamp_datasets::testdata_audio::tiny_mtat_rows();
    let clip = |j: usize| dir.join("mp3").join(&rows[j].1);
    let short = adamp_datasets::testdata_audio::tone(300.0, 8_000, 8_000);
    adamp_datasets::testdata_audio::write_wav(&clip(0), 8_000, &short).unwrap();
    std::fs::remove_file(clip(1)).unwrap();
    std::fs::write(clip(2), b"RIFF....WAVEfmt this is not audio").unwrap();
    (rows[1].1.clone(), rows[2].1.clone())
}

#[test]
fn missing_and_undecodable_clips_are_counted_skips_named_in_the_description() {
    let data = tempfile::tempdir().unwrap();
    let (missing, broken) = damaged_mtat(data.path());
    let settings: AudioDataSettings = toml::from_str(&format!(
        "dataset = \"mtat\"\ndir = \"{}\"\ncache_dir = \"{}\"",
        data.path().display(),
        data.path().join(".clip-cache").display()
    ))
    .unwrap();
    let model = AudioModelSettings {
        conv_channels: 2,
        ..AudioModelSettings::default()
    };
    let ctx = TaskContext {
        seed: 0,
        device: Device::Cpu,
        batch_size: 4,
    };
    let task = AudioTask::new(&AudioSettings::default(), &model, &settings, &ctx).unwrap();
    let text = task.describe();
    assert!(text.contains("2 clip(s) skipped"), "{text}");
    assert!(
        text.contains(&missing) && text.contains("missing"),
        "{text}"
    );
    assert!(text.contains(&broken), "{text}");
    assert!(
        text.contains("train / valid / test 22 / 2 / 6 clips"),
        "{text}"
    );
    assert_eq!(task.data().listing.skipped.len(), 2);
    // The 1 s clip is reported as padded, by name.
    let short = &adamp_datasets::testdata_audio::tiny_mtat_rows()[0].1;
    assert!(
        text.contains("shorter than a chunk, zero-padded (first: ")
            && text.contains(&format!("{short}, 16000 samples)")),
        "{text}"
    );

    // The run trains on the rest (the short clip padded) and leaves the skips in its folder.
    let path = common::configs("configs/paper", "mtat_harmonic_cnn").remove(0);
    let experiment = common::load_seed0_on_cpu(
        &path,
        vec![
            data_dir(data.path()),
            cache_dir(data.path()),
            "model.conv_channels=2".into(),
            "training.epochs=1".into(),
            "training.batch_size=11".into(),
            "task.eval_chunks=2".into(),
        ],
    );
    let spec = experiment.runs().remove(0);
    let out = tempfile::tempdir().unwrap();
    let outcome = train::run(&spec, &RunOptions::new(out.path())).unwrap();
    assert_eq!(outcome.status, RunStatus::Completed);
    let skipped = std::fs::read_to_string(outcome.folder.join("skipped_clips.txt")).unwrap();
    assert_eq!(skipped.lines().count(), 2, "{skipped}");
    assert!(
        skipped.contains(&missing) && skipped.contains(&broken),
        "{skipped}"
    );
}

/// `adamp run <config>` with `sets`: exit code 2, `needle` in stderr, nothing written.
fn refused(config: &Path, sets: &[String], needle: &str) {
    let out = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_adamp"));
    cmd.args(["run", config.to_str().unwrap(), "--no-progress", "--out"])
        .arg(out.path())
        .args(["--seeds", "0", "--device", "cpu"]);
    for s in sets {
        cmd.args(["--set", s]);
    }
    let result = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{sets:?}: {stderr}");
    assert!(stderr.contains(needle), "{sets:?}: {stderr}");
    assert_eq!(
        std::fs::read_dir(out.path()).unwrap().count(),
        0,
        "{sets:?}"
    );
}

#[test]
fn bad_audio_data_and_settings_are_refused_before_anything_is_written() {
    let keywords = common::configs("configs/paper", "speech_commands_harmonic_cnn").remove(0);
    let events = common::configs("configs/paper", "dcase2017_harmonic_cnn").remove(0);
    let data = tempfile::tempdir().unwrap();
    let k = data.path().join("keywords");
    write_tiny(AudioDataset::SpeechCommands, &k);
    let base = |d: &Path, more: &[&str]| -> Vec<String> {
        let mut v = vec![
            data_dir(d),
            cache_dir(d),
            "model.conv_channels=2".to_string(),
        ];
        v.extend(more.iter().map(|s| s.to_string()));
        v
    };
    // Settings, by key.
    refused(
        &keywords,
        &base(&k, &["task.input_length=16000"]),
        "task.input_length",
    );
    refused(
        &keywords,
        &base(&k, &["model.conv_channels=0"]),
        "model.conv_channels",
    );
    refused(
        &keywords,
        &base(&k, &["data.stand_in=\"sonic_pi_events\""]),
        "data.stand_in",
    );
    refused(
        &keywords,
        &base(&k, &["training.batch_size=13"]),
        "training.batch_size",
    );
    // A list line naming a missing keyword clip: the official lists define the split.
    let listed = std::fs::read_to_string(k.join("testing_list.txt")).unwrap();
    let first = listed.lines().next().unwrap().to_string();
    std::fs::remove_file(k.join(&first)).unwrap();
    refused(&keywords, &base(&k, &[]), "testing_list.txt:1");
    // A word folder that is not a class.
    let w = data.path().join("words");
    write_tiny(AudioDataset::SpeechCommands, &w);
    let stray = adamp_datasets::testdata_audio::tone(500.0, 16_000, 16_000);
    adamp_datasets::testdata_audio::write_wav(&w.join("cow/0a2b400e_nohash_0.wav"), 16_000, &stray)
        .unwrap();
    refused(
        &keywords,
        &base(&w, &[]),
        "word folder `cow` is not one of the 35 classes",
    );
    // An unknown DCASE label.
    let e = data.path().join("events");
    write_tiny(AudioDataset::Dcase2017, &e);
    let list = e.join("groundtruth_weak_label_evaluation_set.csv");
    let text = std::fs::read_to_string(&list)
        .unwrap()
        .replacen("Train\n", "Tram\n", 1);
    std::fs::write(&list, text).unwrap();
    refused(&events, &base(&e, &[]), "unknown label `Tram`");
}

#[test]
fn embedded_configs_name_a_stand_in_in_their_dataset_s_layout() {
    for path in common::config_files("configs", |n| n.ends_with("_harmonic_cnn.toml")) {
        let experiment = common::load_seed0_on_cpu(&path, vec![]);
        let report = &experiment.config.report;
        assert!(report.dataset.contains("NOT"), "{}", path.display());
        let data = experiment.config.data.clone().unwrap();
        let settings: AudioDataSettings = toml::Value::Table(data).try_into().unwrap();
        assert_eq!(settings.stand_in, Some(settings.dataset.stand_in()));
        assert!(settings.fetch, "{}", path.display());
        assert!(AudioStandIn::ALL.contains(&settings.dataset.stand_in()));
    }
}
