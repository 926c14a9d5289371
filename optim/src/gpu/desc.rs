//! The per-parameter descriptor the GPU kernels read (`ParamDesc` in `kernels.cu`): addresses,
//! the channel view, and the rule's scalars computed on the host in f64 exactly as the fused CPU
//! path builds its element rules (`fused/mod.rs`, `Sweep::{sgd, adam, sgdp, adamp}`).

use crate::algo::{Algo, StepCtx};

/// `ParamDesc::k` indices (`K_*` in `kernels.cu`).
const K_WD: usize = 0;
const K_NEG_LR: usize = 1;
const K_MOMENTUM: usize = 2;
const K_ONE_MINUS: usize = 3;
const K_LERP_W: usize = 4;
const K_ONE_MINUS_LERP_W: usize = 5;
const K_BETA2: usize = 6;
const K_ONE_MINUS_BETA2: usize = 7;
const K_BC2_SQRT: usize = 8;
const K_EPS: usize = 9;

/// `F_*` flags of `kernels.cu`.
const F_HAS_WD: i32 = 1;
const F_NESTEROV: i32 = 2;
const F_FIRST: i32 = 4;
const F_LERP_SMALL: i32 = 8;

/// One parameter as the kernels see it (`#[repr(C)]`, 192 bytes, the layout of `kernels.cu`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct ParamDesc {
    /// Device addresses of the weight, the gradient and state slots 0 and 1 (0 when unused).
    pub w: u64,
    pub g: u64,
    pub a: u64,
    pub b: u64,
    /// The channel view `(rows, row_len)`.
    pub rows: i64,
    pub row_len: i64,
    /// The parameter's first row in the launch's row numbering.
    pub row0: i64,
    /// The rule's scalars (see the `K_*` indices).
    pub k: [f64; 12],
    /// Multiplicative weight decay of the step without / with a projection (`Algo::decay_factor`
    /// with ratio 1 / `wd_ratio`).
    pub decay_plain: f64,
    pub decay_proj: f64,
    /// The cosine test's delta; 0 for the rules that never project.
    pub delta: f64,
    /// The eps of the cosine, the projection and the statistics (`fused::stats_eps`).
    pub eps: f64,
    /// Number of dimensions.
    pub rank: i32,
    /// `F_*` flags.
    pub flags: i32,
}

const _: () = assert!(std::mem::size_of::<ParamDesc>() == 192);

impl ParamDesc {
    /// The descriptor's bytes, as uploaded.
    pub(crate) fn as_bytes(descs: &[ParamDesc]) -> &[u8] {
        // SAFETY: `ParamDesc` is `repr(C)` plain data (integers and floats, no padding: 192 bytes
        // of 8-byte fields and two i32), so any value is valid to view as bytes.
        unsafe {
            std::slice::from_raw_parts(descs.as_ptr() as *const u8, std::mem::size_of_val(descs))
        }
    }
}

/// The kernel-name part of a rule (`adamp_advance_<rule>_<dtype>`), and whether it projects.
pub(crate) fn rule_name(algo: &Algo) -> (&'static str, bool) {
    match algo {
        Algo::Sgd { momentum, .. } if *momentum == 0.0 => ("sgd0", false),
        Algo::Sgd { .. } => ("sgd", false),
        Algo::Sgdp { .. } => ("sgdp", true),
        Algo::Adam { .. } => ("adam", false),
        Algo::AdamP { .. } => ("adamp", true),
    }
}

/// The eps of the statistics: the projection's for SGDP/AdamP, Adam's own, 1e-8 for SGD (as the
/// CPU path's `stats_eps`).
pub(crate) fn stats_eps(algo: &Algo) -> f64 {
    match algo {
        Algo::Sgdp { proj, .. } | Algo::AdamP { proj, .. } => proj.eps,
        Algo::Adam { eps, .. } => *eps,
        Algo::Sgd { .. } => 1e-8,
    }
}

/// What the descriptor needs to know about one parameter besides the rule.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Addrs {
    pub w: u64,
    pub g: u64,
    pub a: u64,
    pub b: u64,
}

/// The descriptor of one parameter for `algo` at `ctx`; `first`: state slot 0 never written.
pub(crate) fn describe(
    algo: &Algo,
    ctx: StepCtx,
    dims: &[usize],
    first: bool,
    addrs: Addrs,
    row0: i64,
) -> ParamDesc {
    let (rows, row_len) = crate::projection::channel_view(dims);
    let mut d = ParamDesc {
        w: addrs.w,
        g: addrs.g,
        a: addrs.a,
        b: addrs.b,
        rows: rows as i64,
        row_len: row_len as i64,
        row0,
        rank: dims.len() as i32,
        eps: stats_eps(algo),
        decay_plain: algo.decay_factor(ctx.lr, ctx.wd, 1.0),
        decay_proj: algo
            .projection()
            .map_or(1.0, |p| algo.decay_factor(ctx.lr, ctx.wd, p.wd_ratio)),
        delta: algo.projection().map_or(0.0, |p| p.delta),
        ..ParamDesc::default()
    };
    let tt = ctx.t as f64;
    let bias = |b: f64| 1.0 - b.powf(tt);
    match *algo {
        Algo::Sgd {
            momentum,
            dampening,
            nesterov,
        } => {
            d.k[K_WD] = ctx.wd;
            d.k[K_NEG_LR] = -ctx.lr;
            d.k[K_MOMENTUM] = momentum;
            d.k[K_ONE_MINUS] = 1.0 - dampening;
            d.flags =
                flag(ctx.wd != 0.0, F_HAS_WD) | flag(nesterov, F_NESTEROV) | flag(first, F_FIRST);
        }
        Algo::Sgdp {
            momentum,
            dampening,
            nesterov,
            ..
        } => {
            d.k[K_NEG_LR] = -ctx.lr;
            d.k[K_MOMENTUM] = momentum;
            d.k[K_ONE_MINUS] = 1.0 - dampening;
            d.flags = flag(nesterov, F_NESTEROV);
        }
        Algo::Adam {
            beta1,
            beta2,
            eps,
            decoupled,
        } => {
            let weight = 1.0 - beta1;
            d.k[K_WD] = ctx.wd;
            d.k[K_NEG_LR] = -(ctx.lr / bias(beta1));
            d.k[K_LERP_W] = weight;
            d.k[K_ONE_MINUS_LERP_W] = 1.0 - weight;
            d.k[K_BETA2] = beta2;
            d.k[K_ONE_MINUS_BETA2] = 1.0 - beta2;
            d.k[K_BC2_SQRT] = bias(beta2).sqrt();
            d.k[K_EPS] = eps;
            d.flags =
                flag(!decoupled && ctx.wd != 0.0, F_HAS_WD) | flag(weight < 0.5, F_LERP_SMALL);
        }
        Algo::AdamP {
            beta1,
            beta2,
            eps,
            nesterov,
            ..
        } => {
            d.k[K_NEG_LR] = -(ctx.lr / bias(beta1));
            d.k[K_MOMENTUM] = beta1;
            d.k[K_ONE_MINUS] = 1.0 - beta1;
            d.k[K_BETA2] = beta2;
            d.k[K_ONE_MINUS_BETA2] = 1.0 - beta2;
            d.k[K_BC2_SQRT] = bias(beta2).sqrt();
            d.k[K_EPS] = eps;
            d.flags = flag(nesterov, F_NESTEROV);
        }
    }
    d
}

fn flag(on: bool, f: i32) -> i32 {
    if on {
        f
    } else {
        0
    }
}
