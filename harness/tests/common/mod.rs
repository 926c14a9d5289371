//! What the harness tests' own small tasks share.
#![allow(dead_code)]

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
