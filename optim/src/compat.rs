//! Building a [`ParamList`] for plain `Vec<Var>` callers (the `candle_nn::Optimizer` interface).

use candle_core::Var;

use crate::error::Result;
use crate::param::{Param, ParamKind, ParamList, ParamMeta};

/// Name `vars` `param.<i>` (in the given order) with [`ParamKind::Other`], one default group.
pub fn anonymous_params(vars: Vec<Var>) -> Result<ParamList> {
    ParamList::new(
        vars.into_iter()
            .enumerate()
            .map(|(i, var)| Param {
                name: format!("param.{i}"),
                var,
                meta: ParamMeta::new(ParamKind::Other),
                group: 0,
            })
            .collect(),
    )
}
