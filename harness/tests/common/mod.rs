//! What the harness tests' own small tasks share.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use adamp_harness::config::{self, Experiment, LoadOptions};
use adamp_optim::{Param, ParamKind, ParamList, ParamMeta};
use adamp_task_api::ParamSet;
use candle_core::Var;

/// The single parameter set `model` holding `w`, marked scale-invariant.
pub fn single_weight(w: &Var) -> Vec<ParamSet> {
    let p = Param {
        name: "w".into(),
        var: w.clone(),
        meta: ParamMeta::scale_invariant(ParamKind::Linear),
        group: 0,
    };
    vec![ParamSet {
        name: "model".into(),
        params: ParamList::new(vec![p]).unwrap(),
    }]
}

/// `path` loaded with the overrides `sets`, seed 0 only, on the CPU (the config runner tests);
/// a config that does not load panics with its path.
pub fn load_seed0_on_cpu(path: &Path, sets: Vec<String>) -> Experiment {
    let options = LoadOptions {
        sets,
        seeds: Some(vec![0]),
        device: Some("cpu".into()),
        ..Default::default()
    };
    config::load(path, &options).unwrap_or_else(|e| panic!("{}: {e:#}", path.display()))
}

/// The config files (`*.toml`) of the repository folder `dir` (`configs`, `configs/paper`, ...)
/// whose file name (with `.toml`) `pick` accepts, sorted.
pub fn config_files(dir: &str, pick: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir);
    let mut found: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "toml")
                && pick(&p.file_name().unwrap().to_string_lossy())
        })
        .collect();
    found.sort();
    found
}

/// [`config_files`] whose name starts with `prefix`.
pub fn configs(dir: &str, prefix: &str) -> Vec<PathBuf> {
    config_files(dir, |name| name.starts_with(prefix))
}

/// A CSV file without its wall-clock column and rows.
pub fn without_time(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let time_col = header.iter().position(|h| *h == "time_s");
    let mut out = vec![header.join(",")];
    for line in lines.filter(|l| !l.contains(",time_s,")) {
        let kept: Vec<&str> = line
            .split(',')
            .enumerate()
            .filter(|(i, _)| Some(*i) != time_col)
            .map(|(_, c)| c)
            .collect();
        out.push(kept.join(","));
    }
    out.join("\n")
}

/// Every tensor of a run folder's checkpoint as `f32` values, sorted by name (resume tests
/// compare a resumed run's with an uninterrupted one's).
pub fn checkpoint_tensors(run_folder: &Path) -> Vec<(String, Vec<f32>)> {
    let mut v: Vec<(String, Vec<f32>)> = candle_core::safetensors::load(
        run_folder.join("checkpoint/tensors.safetensors"),
        &candle_core::Device::Cpu,
    )
    .unwrap()
    .into_iter()
    .map(|(k, t)| {
        let t = t.to_dtype(candle_core::DType::F32).unwrap();
        (k, t.flatten_all().unwrap().to_vec1().unwrap())
    })
    .collect();
    v.sort_by(|x, y| x.0.cmp(&y.0));
    v
}
