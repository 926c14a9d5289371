//! The fused GPU step (`src/gpu/kernels.cu` and its launch plan) against the fused CPU step,
//! with the kernels run on the host by the emulation of `src/gpu/emu.h` (feature
//! `gpu-emulator`): `cargo test --release -p adamp-optim --features gpu-emulator --test gpu_emulated`.
//!
//! Every optimizer and variant (momentum, dampening, Nesterov, coupled and decoupled decay), the
//! three projection outcomes (channel view, layer view, none), rows shorter and longer than a
//! thread block, 1-D parameters, f32 and f64, several steps: weights, moment buffers and
//! statistics as the CPU path gives them. Also a NaN gradient (reported, nothing written, a
//! never-written momentum buffer stays unwritten) and steps without statistics (same weights,
//! nothing reported but the updated indices).
#![cfg(feature = "gpu-emulator")]

mod common;

use adamp_optim::{
    Param, ParamKind, ParamList, ParamMeta, ProjectionView, StepBackend, StepReport,
};
use candle_core::backprop::GradStore;
use candle_core::{DType, Device, Tensor, Var};
use common::rng::SplitMix64;
use common::{build_optimizer, Hyper};

/// Reference-named hyperparameters of one case.
fn hyper(lr: f64) -> Hyper {
    Hyper {
        lr,
        momentum: None,
        dampening: None,
        weight_decay: None,
        nesterov: None,
        betas: None,
        eps: None,
        delta: None,
        wd_ratio: None,
    }
}

/// The cases: (optimizer, hyperparameters).
fn cases() -> Vec<(&'static str, Hyper)> {
    let sgd = |momentum, dampening, wd, nesterov| Hyper {
        momentum: Some(momentum),
        dampening: Some(dampening),
        weight_decay: Some(wd),
        nesterov: Some(nesterov),
        ..hyper(0.1)
    };
    let sgdp = |nesterov, dampening| Hyper {
        momentum: Some(0.9),
        dampening: Some(dampening),
        weight_decay: Some(1e-2),
        nesterov: Some(nesterov),
        eps: Some(1e-8),
        delta: Some(0.1),
        wd_ratio: Some(0.1),
        ..hyper(0.1)
    };
    let adam = |wd| Hyper {
        betas: Some([0.9, 0.999]),
        eps: Some(1e-8),
        weight_decay: Some(wd),
        ..hyper(1e-2)
    };
    let adamp = |nesterov| Hyper {
        betas: Some([0.9, 0.999]),
        eps: Some(1e-8),
        weight_decay: Some(1e-2),
        nesterov: Some(nesterov),
        delta: Some(0.1),
        wd_ratio: Some(0.1),
        ..hyper(1e-2)
    };
    vec![
        ("sgd", sgd(0.0, 0.0, 1e-2, false)),
        ("sgd", sgd(0.9, 0.0, 0.0, false)),
        ("sgd", sgd(0.9, 0.3, 1e-2, false)),
        ("sgd", sgd(0.9, 0.0, 1e-2, true)),
        ("sgdp", sgdp(false, 0.0)),
        ("sgdp", sgdp(true, 0.0)),
        ("sgdp", sgdp(false, 0.2)),
        ("adam", adam(0.0)),
        ("adam", adam(1e-2)),
        ("adamw", adam(1e-2)),
        ("adamp", adamp(false)),
        ("adamp", adamp(true)),
    ]
}

/// One parameter's shape, kind and how its gradients are made.
#[derive(Clone, Copy)]
enum Grad {
    /// Random.
    Random,
    /// Each row orthogonal to the weight's row (a conv followed by BatchNorm): the channel view.
    Orthogonal,
    /// Row 0 along its weight row, row 1 against its own so that `<g, w>` is zero over the
    /// tensor: the channel test fails, the layer test fires.
    Layer,
}

fn shapes() -> Vec<(&'static str, Vec<usize>, ParamKind, Grad)> {
    vec![
        ("conv", vec![6, 3, 3, 3], ParamKind::Conv, Grad::Orthogonal),
        // Rows of 70 elements: longer than the emulation's 32-thread blocks.
        ("wide", vec![4, 70], ParamKind::Linear, Grad::Orthogonal),
        ("layer", vec![5, 8], ParamKind::Linear, Grad::Layer),
        ("fc", vec![3, 9], ParamKind::Linear, Grad::Random),
        ("column", vec![7, 1], ParamKind::Linear, Grad::Random),
        ("bias", vec![11], ParamKind::Bias, Grad::Random),
    ]
}

fn values(rng: &mut SplitMix64, n: usize) -> Vec<f64> {
    (0..n).map(|_| rng.uniform() * 2.0 - 1.0).collect()
}

/// A gradient for weight `w` (rows of `row_len`) of the given kind.
fn gradient(rng: &mut SplitMix64, w: &[f64], row_len: usize, kind: Grad) -> Vec<f64> {
    let mut g = values(rng, w.len());
    match kind {
        Grad::Random => {}
        Grad::Orthogonal => {
            for (gr, wr) in g.chunks_mut(row_len).zip(w.chunks(row_len)) {
                let c = dot(gr, wr) / dot(wr, wr);
                gr.iter_mut().zip(wr).for_each(|(a, b)| *a -= c * b);
            }
        }
        Grad::Layer => {
            let (w0, w1) = (&w[..row_len], &w[row_len..2 * row_len]);
            let scale = dot(w0, w0) / dot(w1, w1);
            g[..row_len].copy_from_slice(w0);
            for (a, b) in g[row_len..2 * row_len].iter_mut().zip(w1) {
                *a = -scale * b;
            }
            // The other rows orthogonal to their weights, so the total stays zero.
            for (gr, wr) in g[2 * row_len..]
                .chunks_mut(row_len)
                .zip(w[2 * row_len..].chunks(row_len))
            {
                let c = dot(gr, wr) / dot(wr, wr);
                gr.iter_mut().zip(wr).for_each(|(a, b)| *a -= c * b);
            }
        }
    }
    g
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The same parameters twice (one list per backend) and the gradients of `steps` steps.
struct Setup {
    lists: [ParamList; 2],
    grads: Vec<Vec<Vec<f64>>>,
    dtype: DType,
}

fn setup(seed: u64, dtype: DType, steps: usize) -> Setup {
    let mut rng = SplitMix64::new(seed);
    let specs = shapes();
    let weights: Vec<Vec<f64>> = specs
        .iter()
        .map(|(_, dims, _, _)| values(&mut rng, dims.iter().product()))
        .collect();
    let list = || {
        let params = specs
            .iter()
            .zip(&weights)
            .map(|((name, dims, kind, _), w)| {
                let t = Tensor::from_vec(w.clone(), dims.as_slice(), &Device::Cpu)
                    .unwrap()
                    .to_dtype(dtype)
                    .unwrap();
                let meta = if dims.len() > 1 {
                    ParamMeta::scale_invariant(*kind)
                } else {
                    ParamMeta::new(*kind)
                };
                Param {
                    name: (*name).into(),
                    var: Var::from_tensor(&t).unwrap(),
                    meta,
                    group: 0,
                }
            })
            .collect();
        ParamList::new(params).unwrap()
    };
    // Gradients are drawn against the initial weights (the kind of each is what matters).
    let grads = (0..steps)
        .map(|_| {
            specs
                .iter()
                .zip(&weights)
                .map(|((_, dims, _, kind), w)| {
                    let row_len = if dims.len() > 1 {
                        w.len() / dims[0]
                    } else {
                        w.len()
                    };
                    gradient(&mut rng, w, row_len, *kind)
                })
                .collect()
        })
        .collect();
    Setup {
        lists: [list(), list()],
        grads,
        dtype,
    }
}

/// A `GradStore` for `list` (kept in name order) from gradients in `shapes()` order.
fn grad_store(list: &ParamList, grads: &[Vec<f64>], dtype: DType) -> GradStore {
    let mut store = GradStore::default();
    for ((name, ..), g) in shapes().iter().zip(grads) {
        let p = list.get(name).unwrap();
        let t = Tensor::from_vec(g.clone(), p.var.dims(), &Device::Cpu)
            .unwrap()
            .to_dtype(dtype)
            .unwrap();
        store.insert(p.var.as_tensor(), t);
    }
    store
}

fn flat(v: &Var) -> Vec<f64> {
    v.as_tensor()
        .flatten_all()
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap()
        .to_vec1()
        .unwrap()
}

/// Weights as the CPU path's: f32 within 2 units in the last place (the element arithmetic is
/// the same; a projection coefficient rounded to f32 from f64 row sums taken in another order
/// may differ by one); f64 within 1e-12 relative (there the coefficient stays f64, so the
/// reduction order shows).
fn assert_close_weights(label: &str, cpu: &ParamList, gpu: &ParamList, dtype: DType) {
    let tol = if dtype == DType::F32 {
        2.0 * f32::EPSILON as f64
    } else {
        1e-12
    };
    for (a, b) in cpu.params().iter().zip(gpu.params()) {
        for (i, (x, y)) in flat(&a.var).iter().zip(flat(&b.var)).enumerate() {
            assert!(
                (x - y).abs() <= tol * x.abs().max(1e-30),
                "{label}: `{}`[{i}]: CPU {x}, emulated GPU {y}",
                a.name
            );
        }
    }
}

fn assert_close_stats(label: &str, cpu: &StepReport, gpu: &StepReport) {
    assert_eq!(
        cpu.params.len(),
        gpu.params.len(),
        "{label}: reported parameters"
    );
    for ((i, s), (j, t)) in cpu.params.iter().zip(&gpu.params) {
        assert_eq!(i, j, "{label}: parameter order");
        assert_eq!(s.projection, t.projection, "{label}: view of parameter {i}");
        assert_eq!(
            s.decay_factor, t.decay_factor,
            "{label}: decay of parameter {i}"
        );
        for (what, x, y) in [
            ("norm_before", s.norm_before, t.norm_before),
            ("norm_after", s.norm_after, t.norm_after),
            ("effective_step", s.effective_step, t.effective_step),
            ("max_abs_cos", s.max_abs_cos, t.max_abs_cos),
        ] {
            let close = (x.is_nan() && y.is_nan()) || (x - y).abs() <= 1e-6 * x.abs() + 1e-12;
            assert!(
                close,
                "{label}: {what} of parameter {i}: CPU {x}, emulated GPU {y}"
            );
        }
    }
}

fn run_case(opt_name: &str, h: &Hyper, dtype: DType) {
    let steps = 4;
    let s = setup(11, dtype, steps);
    let [cpu_list, gpu_list] = &s.lists;
    let mut cpu = build_optimizer(opt_name, h, cpu_list.clone(), StepBackend::Fused);
    let mut gpu = build_optimizer(opt_name, h, gpu_list.clone(), StepBackend::GpuEmulated);
    let mut views = Vec::new();
    for step in 0..steps {
        let label = format!("{opt_name} {h:?} {dtype:?} step {step}");
        let rc = cpu
            .step(&grad_store(cpu_list, &s.grads[step], s.dtype))
            .unwrap();
        let rg = gpu
            .step(&grad_store(gpu_list, &s.grads[step], s.dtype))
            .unwrap();
        assert_close_weights(&label, cpu_list, gpu_list, dtype);
        assert_close_stats(&label, &rc, &rg);
        views.extend(rg.params.iter().map(|(_, st)| st.projection));
    }
    if matches!(opt_name, "sgdp" | "adamp") {
        // The cases exercise all three outcomes of the cosine test.
        for v in [
            ProjectionView::Channel,
            ProjectionView::Layer,
            ProjectionView::None,
        ] {
            assert!(
                views.contains(&v),
                "{opt_name}: no {v:?} projection among {views:?}"
            );
        }
    }
}

#[test]
fn every_rule_matches_the_fused_cpu_step_f32() {
    for (name, h) in cases() {
        run_case(name, &h, DType::F32);
    }
}

#[test]
fn every_rule_matches_the_fused_cpu_step_f64() {
    for (name, h) in cases() {
        run_case(name, &h, DType::F64);
    }
}

#[test]
fn a_nan_gradient_is_reported_and_nothing_is_written() {
    for (name, h) in cases() {
        let s = setup(5, DType::F32, 2);
        let [cpu_list, gpu_list] = &s.lists;
        let mut cpu = build_optimizer(name, &h, cpu_list.clone(), StepBackend::Fused);
        let mut gpu = build_optimizer(name, &h, gpu_list.clone(), StepBackend::GpuEmulated);
        // Step 0: NaN in the conv gradient (its first step: SGD's momentum buffer is not
        // written, so the next step is still its "first").
        let mut g0 = s.grads[0].clone();
        g0[0][4] = f64::NAN;
        g0[3][1] = f64::INFINITY;
        let conv = gpu_list.get("conv").unwrap();
        let before = flat(&conv.var);
        let rc = cpu.step(&grad_store(cpu_list, &g0, s.dtype)).unwrap();
        let rg = gpu.step(&grad_store(gpu_list, &g0, s.dtype)).unwrap();
        assert_eq!(
            rg.nonfinite_grads,
            vec!["conv".to_string(), "fc".to_string()]
        );
        assert_eq!(rc.nonfinite_grads, rg.nonfinite_grads);
        assert_eq!(flat(&conv.var), before, "{name}: conv written");
        assert_close_weights(name, cpu_list, gpu_list, s.dtype);
        assert_close_stats(name, &rc, &rg);
        // Step 1: finite; both paths agree, which needs the same (unwritten) state.
        let rc = cpu
            .step(&grad_store(cpu_list, &s.grads[1], s.dtype))
            .unwrap();
        let rg = gpu
            .step(&grad_store(gpu_list, &s.grads[1], s.dtype))
            .unwrap();
        assert!(rg.nonfinite_grads.is_empty());
        assert_close_weights(name, cpu_list, gpu_list, s.dtype);
        assert_close_stats(name, &rc, &rg);
    }
}

#[test]
fn steps_without_statistics_update_the_same_and_report_only_indices() {
    for (name, h) in cases() {
        let s = setup(9, DType::F32, 3);
        let [with_list, without_list] = &s.lists;
        let mut with = build_optimizer(name, &h, with_list.clone(), StepBackend::GpuEmulated);
        let mut without = build_optimizer(name, &h, without_list.clone(), StepBackend::GpuEmulated);
        without.set_stats(false);
        for step in 0..3 {
            let rw = with
                .step(&grad_store(with_list, &s.grads[step], s.dtype))
                .unwrap();
            let ro = without
                .step(&grad_store(without_list, &s.grads[step], s.dtype))
                .unwrap();
            assert_eq!(rw.params.len(), shapes().len());
            assert!(
                ro.params.is_empty(),
                "{name}: statistics reported while off"
            );
            assert_eq!(ro.unrecorded, (0..shapes().len()).collect::<Vec<_>>());
            for (a, b) in with_list.params().iter().zip(without_list.params()) {
                assert_eq!(
                    flat(&a.var),
                    flat(&b.var),
                    "{name}: `{}` step {step}",
                    a.name
                );
            }
        }
        // Turned back on, the statistics come back.
        without.set_stats(true);
        let ro = without
            .step(&grad_store(without_list, &s.grads[0], s.dtype))
            .unwrap();
        assert_eq!(ro.params.len(), shapes().len());
        assert!(ro.unrecorded.is_empty());
    }
}

#[test]
fn state_saved_from_the_gpu_path_resumes_on_the_cpu_path() {
    let (name, h) = cases().pop().expect("adamp");
    let s = setup(3, DType::F32, 4);
    let [cpu_list, gpu_list] = &s.lists;
    let mut cpu = build_optimizer(name, &h, cpu_list.clone(), StepBackend::Fused);
    let mut gpu = build_optimizer(name, &h, gpu_list.clone(), StepBackend::GpuEmulated);
    for step in 0..2 {
        cpu.step(&grad_store(cpu_list, &s.grads[step], s.dtype))
            .unwrap();
        gpu.step(&grad_store(gpu_list, &s.grads[step], s.dtype))
            .unwrap();
    }
    let path = std::env::temp_dir().join(format!(
        "adamp-optim-gpu-emulated-{}.safetensors",
        std::process::id()
    ));
    gpu.save_state(&path).unwrap();
    let mut resumed = build_optimizer(name, &h, gpu_list.clone(), StepBackend::Fused);
    let loaded = resumed.load_state(&path);
    std::fs::remove_file(&path).ok();
    loaded.unwrap();
    for step in 2..4 {
        cpu.step(&grad_store(cpu_list, &s.grads[step], s.dtype))
            .unwrap();
        resumed
            .step(&grad_store(gpu_list, &s.grads[step], s.dtype))
            .unwrap();
        assert_close_weights("resumed", cpu_list, gpu_list, s.dtype);
    }
}
