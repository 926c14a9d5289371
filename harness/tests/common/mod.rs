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
