//! What the harness tests' own small tasks share.
#![allow(dead_code)]

use std::path::Path;

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
