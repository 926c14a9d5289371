//! The optimizer's parameter groups, as the ProxyAnchor codebase's `param_groups`
//! (`tjddus9597/Proxy-Anchor-CVPR2020`, `code/train.py`): the trunk and the embedding at the
//! base learning rate (the reference lists the embedding as a group of its own at `lr * 1`),
//! the proxies at `lr * 100`; every group with the optimizer's weight decay.

use adamp_optim::{Param, ParamGroup, ParamKind, ParamList, ParamMeta};
use adamp_task_api::Result;
use candle_core::Var;

use crate::freeze::PROXIES;

/// The proxies' metadata: an embedding table whose rows the loss l2-normalises (scale-invariant
/// row by row).
pub fn proxy_meta() -> ParamMeta {
    ParamMeta::scale_invariant(ParamKind::Embedding)
}

/// `net` (the trunk and the embedding) in the default group, and the proxies (when the loss has
/// them) in a group of their own at `proxy_lr_scale` times the base learning rate.
pub fn param_groups(
    net: Vec<Param>,
    proxies: Option<&Var>,
    proxy_lr_scale: f64,
) -> Result<ParamList> {
    let mut params = net;
    let mut groups = vec![ParamGroup::default_group()];
    if let Some(v) = proxies {
        groups.push(ParamGroup {
            name: PROXIES.to_string(),
            lr_scale: proxy_lr_scale,
            weight_decay: None,
        });
        params.push(Param {
            name: PROXIES.to_string(),
            var: v.clone(),
            meta: proxy_meta(),
            group: 1,
        });
    }
    Ok(ParamList::with_groups(params, groups)?)
}
