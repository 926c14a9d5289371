//! In-crate tests: validation, skipping, fused vs tensor-op agreement, state round trips, dtypes,
//! groups, and hand-computed single steps of the reference formulas.

use candle_core::backprop::GradStore;
use candle_core::{DType, Device, Tensor, Var};

use crate::*;

/// Deterministic pseudo-random values (LCG), so the tests need no RNG crate.
fn values(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect()
}

fn param(name: &str, dims: &[usize], seed: u64, dtype: DType, group: usize) -> Param {
    let n: usize = dims.iter().product();
    let t = Tensor::from_vec(values(n, seed), dims, &Device::Cpu)
        .unwrap()
        .to_dtype(dtype)
        .unwrap();
    Param {
        name: name.into(),
        var: Var::from_tensor(&t).unwrap(),
        meta: ParamMeta::new(ParamKind::Other),
        group,
    }
}

/// The test model: a conv weight (scale-invariant-style gradients, one zero-gradient channel), a
/// 2-D weight whose gradient fires the layer view, a 2-D weight with a generic gradient, a 1-D gain.
fn model(dtype: DType) -> ParamList {
    ParamList::new(vec![
        param("conv.weight", &[4, 3, 3, 3], 1, dtype, 0),
        param("fc.weight", &[5, 6], 2, dtype, 0),
        param("layer.weight", &[2, 8], 3, dtype, 0),
        param("bn.weight", &[4], 4, dtype, 0),
    ])
    .unwrap()
}

/// Row-wise `g - (<g,w>/|w|^2) w` (gradient of a scale-invariant loss).
fn orthogonal_rows(g: &[f64], w: &[f64], rows: usize) -> Vec<f64> {
    let len = g.len() / rows;
    let mut out = g.to_vec();
    for r in 0..rows {
        let (gr, wr) = (&g[r * len..(r + 1) * len], &w[r * len..(r + 1) * len]);
        let c = gr.iter().zip(wr).map(|(a, b)| a * b).sum::<f64>()
            / wr.iter().map(|b| b * b).sum::<f64>();
        for i in 0..len {
            out[r * len + i] = gr[i] - c * wr[i];
        }
    }
    out
}

fn to_f64(t: &Tensor) -> Vec<f64> {
    t.flatten_all()
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap()
        .to_vec1()
        .unwrap()
}

/// Gradients for step `k`: conv rows orthogonal to w with channel 2 exactly zero (channel view),
/// `layer.weight` rows `+w0`/`-w1` scaled so the whole-tensor cosine is ~0 (layer view), others random.
fn grads(params: &ParamList, k: u64) -> GradStore {
    let mut gs = GradStore::default();
    for (j, p) in params.params().iter().enumerate() {
        let w = to_f64(p.var.as_tensor());
        let n = w.len();
        let mut g = values(n, 100 + 10 * k + j as u64);
        match p.name.as_str() {
            "conv.weight" => {
                g = orthogonal_rows(&g, &w, 4);
                let len = n / 4;
                g[2 * len..3 * len].iter_mut().for_each(|x| *x = 0.0);
            }
            "layer.weight" => {
                let (n0, n1) = (
                    w[..8].iter().map(|x| x * x).sum::<f64>(),
                    w[8..].iter().map(|x| x * x).sum::<f64>(),
                );
                for i in 0..8 {
                    g[i] = w[i] + 1e-3 * g[i];
                    g[8 + i] = -w[8 + i] * n0 / n1 + 1e-3 * g[8 + i];
                }
            }
            _ => {}
        }
        let t = Tensor::from_vec(g, p.var.dims(), &Device::Cpu)
            .unwrap()
            .to_dtype(p.var.dtype())
            .unwrap();
        gs.insert(p.var.as_tensor(), t);
    }
    gs
}

fn all_configs() -> Vec<OptimizerConfig> {
    vec![
        OptimizerConfig::Sgd(SgdConfig {
            momentum: 0.9,
            weight_decay: 1e-2,
            ..SgdConfig::new(0.1)
        }),
        OptimizerConfig::Sgd(SgdConfig {
            momentum: 0.9,
            nesterov: true,
            ..SgdConfig::new(0.1)
        }),
        OptimizerConfig::Sgd(SgdConfig {
            weight_decay: 1e-2,
            ..SgdConfig::new(0.1)
        }),
        OptimizerConfig::Sgdp(SgdpConfig {
            momentum: 0.9,
            weight_decay: 1e-2,
            dampening: 0.1,
            ..SgdpConfig::new(0.1)
        }),
        OptimizerConfig::Sgdp(SgdpConfig {
            momentum: 0.9,
            nesterov: true,
            weight_decay: 1e-2,
            ..SgdpConfig::new(0.1)
        }),
        OptimizerConfig::Adam(AdamConfig {
            weight_decay: 1e-2,
            ..AdamConfig::default()
        }),
        OptimizerConfig::AdamW(AdamWConfig::default()),
        OptimizerConfig::AdamP(AdamPConfig {
            weight_decay: 1e-2,
            ..AdamPConfig::default()
        }),
        OptimizerConfig::AdamP(AdamPConfig {
            nesterov: true,
            weight_decay: 1e-2,
            lr: 1e-2,
            ..AdamPConfig::default()
        }),
    ]
}

fn build(
    cfg: &OptimizerConfig,
    params: ParamList,
    backend: StepBackend,
) -> Box<dyn Optimizer + Send> {
    // Build through the concrete types to set the backend.
    match *cfg {
        OptimizerConfig::Sgd(c) => {
            let mut o = Sgd::new(params, c).unwrap();
            o.set_backend(backend);
            Box::new(o)
        }
        OptimizerConfig::Sgdp(c) => {
            let mut o = Sgdp::new(params, c).unwrap();
            o.set_backend(backend);
            Box::new(o)
        }
        OptimizerConfig::Adam(c) => {
            let mut o = Adam::new(params, c).unwrap();
            o.set_backend(backend);
            Box::new(o)
        }
        OptimizerConfig::AdamW(c) => {
            let mut o = AdamW::new(params, c).unwrap();
            o.set_backend(backend);
            Box::new(o)
        }
        OptimizerConfig::AdamP(c) => {
            let mut o = AdamP::new(params, c).unwrap();
            o.set_backend(backend);
            Box::new(o)
        }
    }
}

fn weights(o: &dyn Optimizer) -> Vec<Vec<f64>> {
    o.params()
        .params()
        .iter()
        .map(|p| to_f64(p.var.as_tensor()))
        .collect()
}

fn assert_close(a: &[Vec<f64>], b: &[Vec<f64>], tol: f64, what: &str) {
    for (x, y) in a.iter().zip(b) {
        for (u, v) in x.iter().zip(y) {
            assert!(
                (u - v).abs() <= tol * (1.0 + u.abs().max(v.abs())),
                "{what}: {u} vs {v}"
            );
        }
    }
}

#[test]
fn fused_and_tensor_ops_agree_over_several_steps() {
    for dtype in [DType::F32, DType::F64] {
        for cfg in all_configs() {
            let a_params = model(dtype);
            let b_params = model(dtype);
            let mut a = build(&cfg, a_params, StepBackend::Fused);
            let mut b = build(&cfg, b_params, StepBackend::TensorOps);
            let mut views = Vec::new();
            for k in 0..4 {
                let ra = a.step(&grads(a.params(), k)).unwrap();
                let rb = b.step(&grads(b.params(), k)).unwrap();
                assert_eq!(ra.params.len(), 4);
                for ((ia, sa), (ib, sb)) in ra.params.iter().zip(&rb.params) {
                    assert_eq!(ia, ib);
                    assert_eq!(
                        sa.projection,
                        sb.projection,
                        "{} step {k} param {ia}",
                        cfg.name()
                    );
                    assert!((sa.norm_after - sb.norm_after).abs() < 1e-5 * sa.norm_after.max(1.0));
                    assert!(
                        (sa.effective_step - sb.effective_step).abs()
                            < 1e-4 * sa.effective_step.max(1e-3)
                    );
                    assert!((sa.max_abs_cos - sb.max_abs_cos).abs() < 1e-5);
                    views.push(sa.projection);
                }
                let tol = if dtype == DType::F32 { 2e-6 } else { 1e-12 };
                assert_close(&weights(a.as_ref()), &weights(b.as_ref()), tol, cfg.name());
            }
            if matches!(cfg, OptimizerConfig::Sgdp(_) | OptimizerConfig::AdamP(_)) {
                // conv.weight projects in the channel view, layer.weight in the layer view,
                // bn.weight (1-D) never.
                let first_step = &views[..4];
                // Report order is name order: bn, conv, fc, layer.
                assert_eq!(first_step[0], ProjectionView::None, "bn.weight");
                assert_eq!(first_step[1], ProjectionView::Channel, "conv.weight");
                assert_eq!(first_step[3], ProjectionView::Layer, "layer.weight");
            } else {
                assert!(views.iter().all(|v| *v == ProjectionView::None));
            }
        }
    }
}

#[test]
fn state_round_trip_resumes_exactly() {
    let dir = std::env::temp_dir().join(format!("adamp-optim-state-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for cfg in all_configs() {
        let mut a = build(&cfg, model(DType::F32), StepBackend::Fused);
        for k in 0..2 {
            a.step(&grads(a.params(), k)).unwrap();
        }
        let path = dir.join(format!("{}.safetensors", cfg.name()));
        a.save_state(&path).unwrap();
        // A fresh optimizer over copies of the current weights, state loaded.
        let copy = ParamList::new(
            a.params()
                .params()
                .iter()
                .map(|p| Param {
                    var: Var::from_tensor(&p.var.as_tensor().copy().unwrap()).unwrap(),
                    ..p.clone()
                })
                .collect(),
        )
        .unwrap();
        let mut b = build(&cfg, copy, StepBackend::Fused);
        b.set_learning_rate(123.0);
        b.load_state(&path).unwrap();
        assert_eq!(b.learning_rate(), a.learning_rate());
        for k in 2..4 {
            a.step(&grads(a.params(), k)).unwrap();
            b.step(&grads(b.params(), k)).unwrap();
        }
        assert_eq!(weights(a.as_ref()), weights(b.as_ref()), "{}", cfg.name());
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn load_state_names_missing_and_misshaped_parameters() {
    let dir = std::env::temp_dir().join(format!("adamp-optim-mismatch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("adamp.safetensors");
    let mut a = AdamP::new(model(DType::F32), AdamPConfig::default()).unwrap();
    a.step(&grads(a.params(), 0)).unwrap();
    a.save_state(&path).unwrap();
    let other = ParamList::new(vec![
        param("conv.weight", &[4, 27], 1, DType::F32, 0),
        param("extra.weight", &[3], 2, DType::F32, 0),
    ])
    .unwrap();
    let mut b = AdamP::new(other, AdamPConfig::default()).unwrap();
    let err = b.load_state(&path).unwrap_err().to_string();
    assert!(
        err.contains("conv.weight.exp_avg") && err.contains("[4, 27]"),
        "{err}"
    );
    assert!(err.contains("`extra.weight` is missing"), "{err}");
    assert!(err.contains("fc.weight.step"), "unknown keys listed: {err}");
    // Wrong optimizer.
    let mut s = Sgd::new(model(DType::F32), SgdConfig::new(0.1)).unwrap();
    assert!(matches!(
        s.load_state(&path),
        Err(OptimError::StateMismatch(_))
    ));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn nonfinite_gradient_leaves_parameter_and_state_untouched() {
    for cfg in all_configs() {
        for backend in [StepBackend::Fused, StepBackend::TensorOps] {
            let mut o = build(&cfg, model(DType::F32), backend);
            o.step(&grads(o.params(), 0)).unwrap();
            let before = weights(o.as_ref());
            let mut g = grads(o.params(), 1);
            let fc = o.params().get("fc.weight").unwrap().var.clone();
            let mut bad = values(30, 9);
            bad[7] = f64::NAN;
            bad[8] = f64::INFINITY;
            g.insert(
                fc.as_tensor(),
                Tensor::from_vec(bad, (5, 6), &Device::Cpu)
                    .unwrap()
                    .to_dtype(DType::F32)
                    .unwrap(),
            );
            let r = o.step(&g).unwrap();
            assert_eq!(r.nonfinite_grads, vec!["fc.weight".to_string()]);
            assert_eq!(r.params.len(), 3);
            let after = weights(o.as_ref());
            let fc_idx = 2; // sorted: bn, conv, fc, layer
            assert_eq!(before[fc_idx], after[fc_idx]);
            assert_ne!(before[0], after[0]);
            // The state is untouched too: the next finite step equals a run that never saw the NaN.
            let mut clean = build(&cfg, model(DType::F32), backend);
            clean.step(&grads(clean.params(), 0)).unwrap();
            let mut g1 = grads(clean.params(), 1);
            g1.remove(clean.params().get("fc.weight").unwrap().var.as_tensor());
            clean.step(&g1).unwrap();
            let g2 = grads(o.params(), 2);
            o.step(&g2).unwrap();
            clean.step(&grads(clean.params(), 2)).unwrap();
            assert_eq!(
                weights(o.as_ref())[fc_idx],
                weights(clean.as_ref())[fc_idx],
                "{}",
                cfg.name()
            );
        }
    }
}

#[test]
fn missing_gradient_skips_the_parameter() {
    let mut o = Sgdp::new(
        model(DType::F32),
        SgdpConfig {
            momentum: 0.9,
            ..SgdpConfig::new(0.1)
        },
    )
    .unwrap();
    let before = weights(&o);
    let mut g = grads(o.params(), 0);
    g.remove(o.params().get("bn.weight").unwrap().var.as_tensor());
    let r = o.step(&g).unwrap();
    assert_eq!(r.skipped, vec!["bn.weight".to_string()]);
    assert!(r.params.iter().all(|(i, _)| *i != 0));
    assert_eq!(weights(&o)[0], before[0]);
    assert_ne!(weights(&o)[1], before[1]);
}

#[test]
fn invalid_hyperparameters_are_rejected_by_name() {
    let name = |r: Result<()>| match r {
        Err(OptimError::InvalidHyperparameter { name, .. }) => name,
        other => panic!("expected InvalidHyperparameter, got {other:?}"),
    };
    assert_eq!(name(SgdConfig::new(-1.0).validate()), "lr");
    assert_eq!(
        name(
            SgdConfig {
                nesterov: true,
                ..SgdConfig::new(0.1)
            }
            .validate()
        ),
        "momentum"
    );
    assert_eq!(
        name(
            SgdConfig {
                nesterov: true,
                momentum: 0.9,
                dampening: 0.1,
                ..SgdConfig::new(0.1)
            }
            .validate()
        ),
        "dampening"
    );
    assert_eq!(
        name(
            SgdConfig {
                momentum: -0.1,
                ..SgdConfig::new(0.1)
            }
            .validate()
        ),
        "momentum"
    );
    assert_eq!(
        name(
            SgdpConfig {
                momentum: 1.0,
                ..SgdpConfig::new(0.1)
            }
            .validate()
        ),
        "momentum"
    );
    assert_eq!(
        name(
            SgdpConfig {
                delta: 0.0,
                ..SgdpConfig::new(0.1)
            }
            .validate()
        ),
        "delta"
    );
    assert_eq!(
        name(
            SgdpConfig {
                wd_ratio: 1.5,
                ..SgdpConfig::new(0.1)
            }
            .validate()
        ),
        "wd_ratio"
    );
    assert_eq!(
        name(
            SgdpConfig {
                eps: -1.0,
                ..SgdpConfig::new(0.1)
            }
            .validate()
        ),
        "eps"
    );
    assert_eq!(
        name(
            AdamConfig {
                beta1: 1.0,
                ..Default::default()
            }
            .validate()
        ),
        "betas[0]"
    );
    assert_eq!(
        name(
            AdamWConfig {
                beta2: -0.1,
                ..Default::default()
            }
            .validate()
        ),
        "betas[1]"
    );
    assert_eq!(
        name(
            AdamWConfig {
                weight_decay: -1.0,
                ..Default::default()
            }
            .validate()
        ),
        "weight_decay"
    );
    assert_eq!(
        name(
            AdamPConfig {
                delta: -0.1,
                ..Default::default()
            }
            .validate()
        ),
        "delta"
    );
    assert_eq!(
        name(
            AdamPConfig {
                lr: f64::NAN,
                ..Default::default()
            }
            .validate()
        ),
        "lr"
    );
    // Construction validates too.
    assert!(matches!(
        AdamP::new(
            model(DType::F32),
            AdamPConfig {
                wd_ratio: -0.5,
                ..Default::default()
            }
        ),
        Err(OptimError::InvalidHyperparameter {
            name: "wd_ratio",
            ..
        })
    ));
}

#[test]
fn defaults_are_the_references() {
    assert_eq!(
        SgdpConfig::new(0.1),
        SgdpConfig {
            lr: 0.1,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            eps: 1e-8,
            delta: 0.1,
            wd_ratio: 0.1
        }
    );
    assert_eq!(AdamWConfig::default().weight_decay, 1e-2);
    assert_eq!(AdamConfig::default().weight_decay, 0.0);
    let p = AdamPConfig::default();
    assert_eq!(
        (
            p.lr,
            p.beta1,
            p.beta2,
            p.eps,
            p.weight_decay,
            p.delta,
            p.wd_ratio,
            p.nesterov
        ),
        (1e-3, 0.9, 0.999, 1e-8, 0.0, 0.1, 0.1, false)
    );
}

#[test]
fn unsupported_dtype_is_a_clear_error() {
    let p = param("half.weight", &[2, 2], 1, DType::F16, 0);
    let err = Adam::new(ParamList::new(vec![p]).unwrap(), AdamConfig::default()).unwrap_err();
    assert!(
        matches!(&err, OptimError::UnsupportedDtype { name, .. } if name == "half.weight"),
        "{err}"
    );
}

#[test]
fn group_lr_scale_and_weight_decay_override_take_effect() {
    // Two identical 1-D params (no projection); group 1 has lr x2 and no weight decay.
    let groups = vec![
        ParamGroup::default_group(),
        ParamGroup {
            name: "fast".into(),
            lr_scale: 2.0,
            weight_decay: Some(0.0),
        },
    ];
    let list = ParamList::with_groups(
        vec![
            param("a", &[3], 1, DType::F64, 0),
            param("b", &[3], 1, DType::F64, 1),
        ],
        groups,
    )
    .unwrap();
    let mut o = Sgd::new(
        list,
        SgdConfig {
            weight_decay: 0.5,
            ..SgdConfig::new(0.1)
        },
    )
    .unwrap();
    let w = values(3, 1);
    let g = [1.0, -2.0, 0.5];
    let mut gs = GradStore::default();
    for p in o.params().params() {
        gs.insert(p.var.as_tensor(), Tensor::new(&g, &Device::Cpu).unwrap());
    }
    o.step(&gs).unwrap();
    let ws = weights(&o);
    for i in 0..3 {
        assert!((ws[0][i] - (w[i] - 0.1 * (g[i] + 0.5 * w[i]))).abs() < 1e-15);
        assert!((ws[1][i] - (w[i] - 0.2 * g[i])).abs() < 1e-15);
    }
}

/// One AdamP step on a 2x2 weight whose gradient is orthogonal to each row, by hand in f64:
/// m = 0.1 g, v = 0.001 g^2, denom = |g| + eps (bias-corrected), u = m/denom (before bias
/// correction of the step), projected per row, w *= 1 - lr*wd*0.1, w -= lr/0.1 * u.
#[test]
fn adamp_first_step_matches_the_reference_formula() {
    let w0: [f64; 4] = [3.0, 4.0, 1.0, 0.0];
    let g = [0.8, -0.6, 0.0, 2.0];
    let var =
        Var::from_tensor(&Tensor::from_vec(w0.to_vec(), (2, 2), &Device::Cpu).unwrap()).unwrap();
    let list = ParamList::new(vec![Param {
        name: "w".into(),
        var: var.clone(),
        meta: ParamMeta::new(ParamKind::Linear),
        group: 0,
    }])
    .unwrap();
    let cfg = AdamPConfig {
        lr: 0.01,
        weight_decay: 0.1,
        ..Default::default()
    };
    let mut o = AdamP::new(list, cfg).unwrap();
    let mut gs = GradStore::default();
    gs.insert(
        var.as_tensor(),
        Tensor::from_vec(g.to_vec(), (2, 2), &Device::Cpu).unwrap(),
    );
    let r = o.step(&gs).unwrap();
    assert_eq!(r.params[0].1.projection, ProjectionView::Channel);
    let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8);
    let mut u = [0.0; 4];
    for i in 0..4 {
        let m = (1.0 - b1) * g[i];
        let v = (1.0 - b2) * g[i] * g[i];
        u[i] = m / (v.sqrt() / (1.0 - b2).sqrt() + eps);
    }
    let mut expect = [0.0; 4];
    for r in 0..2 {
        let (wr, ur) = (&w0[2 * r..2 * r + 2], &u[2 * r..2 * r + 2]);
        let n = (wr[0] * wr[0] + wr[1] * wr[1]).sqrt() + eps;
        let s: f64 = (0..2).map(|i| wr[i] / n * ur[i]).sum();
        for i in 0..2 {
            let up = ur[i] - wr[i] / n * s;
            expect[2 * r + i] = wr[i] * (1.0 - 0.01 * 0.1 * 0.1) - 0.01 / (1.0 - b1) * up;
        }
    }
    let got = to_f64(var.as_tensor());
    for i in 0..4 {
        assert!((got[i] - expect[i]).abs() < 1e-12, "{got:?} vs {expect:?}");
    }
    assert!((r.params[0].1.decay_factor - (1.0 - 0.01 * 0.1 * 0.1)).abs() < 1e-15);
}

/// SGDP without Nesterov projects its momentum buffer in place (sgdp.py: `d_p` aliases `buf`);
/// with Nesterov it does not. Step 1 with a gradient that has a radial part: the second step's
/// update reveals the buffer.
#[test]
fn sgdp_projects_the_momentum_buffer_only_without_nesterov() {
    for nesterov in [false, true] {
        let w0 = [1.0, 0.0];
        let var = Var::from_tensor(&Tensor::from_vec(w0.to_vec(), (1, 2), &Device::Cpu).unwrap())
            .unwrap();
        let list = ParamList::new(vec![Param {
            name: "w".into(),
            var: var.clone(),
            meta: ParamMeta::new(ParamKind::Linear),
            group: 0,
        }])
        .unwrap();
        let mut o = Sgdp::new(
            list,
            SgdpConfig {
                momentum: 0.5,
                nesterov,
                delta: 1.0,
                ..SgdpConfig::new(1.0)
            },
        )
        .unwrap();
        // cos = 0.01/|g| ~ 0.01 < delta/sqrt(2): projects. buf = g; projected d = (0, 1).
        let mut gs = GradStore::default();
        gs.insert(
            var.as_tensor(),
            Tensor::from_vec(vec![0.01, 1.0], (1, 2), &Device::Cpu).unwrap(),
        );
        o.step(&gs).unwrap();
        let state = &o.engine.states[0];
        let buf = match &state.bufs[0] {
            Some(crate::state::Buf::F64(v)) => v.clone(),
            other => panic!("{other:?}"),
        };
        if nesterov {
            assert_eq!(buf, vec![0.01, 1.0]);
        } else {
            // 0.01 - 0.01/(1+eps)^2 = 2e-10 (the eps of w/(||w||+eps)).
            assert!(
                buf[0].abs() < 1e-9 && (buf[1] - 1.0).abs() < 1e-12,
                "{buf:?}"
            );
        }
    }
}

/// The `candle_nn::Optimizer` impl names parameters `param.<i>` and steps exactly like ours.
#[cfg(feature = "candle-nn")]
#[test]
fn candle_nn_interface_matches_the_native_one() {
    let ours = model(DType::F32);
    let theirs = model(DType::F32);
    let vars: Vec<Var> = theirs.params().iter().map(|p| p.var.clone()).collect();
    let mut a = AdamP::new(
        ours,
        AdamPConfig {
            weight_decay: 1e-2,
            ..Default::default()
        },
    )
    .unwrap();
    let mut b = <AdamP as candle_nn::Optimizer>::new(
        vars,
        AdamPConfig {
            weight_decay: 1e-2,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(Optimizer::params(&b).get("param.0").is_some());
    for k in 0..3 {
        let ga = grads(Optimizer::params(&a), k);
        Optimizer::step(&mut a, &ga).unwrap();
        // Same gradients, keyed by the same Vars.
        let mut g = GradStore::default();
        let ga = grads(&theirs, k);
        for p in theirs.params() {
            g.insert(
                p.var.as_tensor(),
                ga.get(p.var.as_tensor()).unwrap().clone(),
            );
        }
        candle_nn::Optimizer::step(&mut b, &g).unwrap();
    }
    assert_eq!(
        weights(&a),
        theirs
            .params()
            .iter()
            .map(|p| to_f64(p.var.as_tensor()))
            .collect::<Vec<_>>()
    );
}

/// eps = 0 is allowed (torch allows it); the block padding of the fused kernels must not turn
/// into NaN statistics for a row whose length is not a multiple of the block.
#[test]
fn zero_eps_gives_finite_statistics() {
    let mut o = Adam::new(
        model(DType::F32),
        AdamConfig {
            eps: 0.0,
            ..Default::default()
        },
    )
    .unwrap();
    let r = o.step(&grads(o.params(), 0)).unwrap();
    for (i, s) in &r.params {
        // conv.weight has a zero-gradient channel: m/denom = 0/0 there, NaN as in torch.
        if o.params().params()[*i].name != "conv.weight" {
            assert!(
                s.norm_after.is_finite() && s.effective_step.is_finite(),
                "{i}: {s:?}"
            );
        }
    }
}

/// A parameter larger than one work item (several rayon chunks of whole rows), in the channel,
/// layer and no-projection cases: fused and tensor-op paths agree.
#[test]
fn multi_chunk_parameters_agree_between_paths() {
    for case in 0..3 {
        let dims = [300usize, 301];
        let make = || ParamList::new(vec![param("big.weight", &dims, 7, DType::F32, 0)]).unwrap();
        let cfg = OptimizerConfig::AdamP(AdamPConfig {
            weight_decay: 1e-2,
            ..Default::default()
        });
        let mut a = build(&cfg, make(), StepBackend::Fused);
        let mut b = build(&cfg, make(), StepBackend::TensorOps);
        for k in 0..2 {
            let mut views = Vec::new();
            for o in [&mut a, &mut b] {
                let p = &o.params().params()[0];
                let w = to_f64(p.var.as_tensor());
                let mut g = values(w.len(), 50 + k);
                match case {
                    0 => g = orthogonal_rows(&g, &w, dims[0]),
                    1 => {
                        // Rows alternately along +w and -w, balanced: the layer view fires.
                        let len = dims[1];
                        let g0 = orthogonal_rows(&g, &w, dims[0]);
                        for r in 0..dims[0] {
                            let s = if r % 2 == 0 { 1.0 } else { -1.0 };
                            for i in 0..len {
                                g[r * len + i] = 1e-4 * g0[r * len + i] + s * w[r * len + i];
                            }
                        }
                        let dot: f64 = g.iter().zip(&w).map(|(x, y)| x * y).sum();
                        let ww: f64 = w.iter().map(|y| y * y).sum();
                        g.iter_mut().zip(&w).for_each(|(x, y)| *x -= dot / ww * y);
                    }
                    _ => {}
                }
                let mut gs = GradStore::default();
                gs.insert(
                    p.var.as_tensor(),
                    Tensor::from_vec(g, &dims, &Device::Cpu)
                        .unwrap()
                        .to_dtype(DType::F32)
                        .unwrap(),
                );
                views.push(o.step(&gs).unwrap().params[0].1.projection);
            }
            let expect = [
                ProjectionView::Channel,
                ProjectionView::Layer,
                ProjectionView::None,
            ][case];
            assert_eq!(views, vec![expect, expect], "case {case}");
            assert_close(
                &weights(a.as_ref()),
                &weights(b.as_ref()),
                2e-6,
                "multi-chunk",
            );
        }
    }
}
