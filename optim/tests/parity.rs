//! Step-by-step parity with the reference optimizers, parameter by parameter, by name.
//!
//! The fixtures in `tests/fixtures/` were written by the reference implementations:
//! `torch.optim.SGD`, `Adam`, `AdamW` (torch 2.15.0, `foreach=False`) and `adamp.SGDP`,
//! `adamp.AdamP` (the `adamp` 0.3.0 package, unmodified), with the script
//! `tools/gen_optim_fixtures.py` (pinned in `tools/requirements-fixtures.txt`), produced by
//!
//! ```text
//! python3 -m venv .venv && .venv/bin/pip install -r tools/requirements-fixtures.txt
//! .venv/bin/python tools/gen_optim_fixtures.py
//! ```
//!
//! For every case we build the parameters from `init.<name>`, feed the recorded `grad.<k>.<name>`
//! and, after EVERY step k, compare every parameter with `param.<k>.<name>` under two rules
//! (`ref` the reference, `prev` the reference after step k-1, `eps` the machine epsilon of the
//! fixture's dtype):
//!
//! * rule A, every element: `|ours - ref| <= 1e-5 * max(1, |ref|)`;
//! * rule B, every element: `|ours - ref| <= 1e-5 * D_k + 8 * (k + 1) * eps * M_k`, where
//!   `D_k = max |ref - prev|` (the step's largest change in that tensor) and `M_k = max |ref|`.
//!   Rule B keeps the check meaningful when a step changes a tensor by less than rule A's
//!   tolerance: the error must be small relative to the step itself, up to a floor of a few
//!   roundings of the parameter per step taken.
//!
//! `tools/check_optim_fixtures.py` runs the same rules against an independent float64
//! re-implementation of the five optimizers: its worst error is at most 0.11 of either tolerance.
//!
//! The projection view each SGDP/AdamP step reports (`ProjectionView`) must equal the view that
//! fired in the reference's `_projection` for that parameter and step; every reference cosine
//! test is at least 1e-3 (relative) away from its threshold, so summation order cannot flip it.
//! Each step's `ParamStepStats` (decay factor, channel cosine, norms, effective step size) must
//! agree with what the reference applied and tested. Every case runs with both step backends
//! (`StepBackend::Fused` and `StepBackend::TensorOps`); schedule cases call
//! `set_learning_rate` before each step; `resumed_runs_match_the_reference` saves and reloads the
//! optimizer state mid-run; `parity_detects_plausible_mistakes` shows the fixtures reject
//! near-miss optimizers by factors of thousands.

mod common;

use adamp_optim::{Optimizer, ParamStepStats, ProjectionView, StepBackend};
use candle_core::DType;
use common::{unravel, values, Fixture};

/// Relative tolerance of rules A and B.
const RTOL: f64 = 1e-5;
/// Rounding floor of rule B, in machine epsilons of `max |ref|` per step taken.
const ULPS_PER_STEP: f64 = 8.0;

/// The worst element of one comparison, for the failure message.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Worst {
    /// Flat index of the element.
    index: usize,
    ours: f64,
    reference: f64,
    /// `|ours - ref| / tolerance` (> 1 fails).
    ratio: f64,
    tolerance: f64,
}

/// Compare `ours` with `reference` (after step `step`, `prev` the reference before it) under
/// rules A and B; returns the worst element of each rule.
fn compare(ours: &[f64], reference: &[f64], prev: &[f64], step: usize, eps: f64) -> (Worst, Worst) {
    assert_eq!(ours.len(), reference.len());
    let step_change = reference
        .iter()
        .zip(prev)
        .map(|(r, p)| (r - p).abs())
        .fold(0.0, f64::max);
    let magnitude = reference.iter().map(|r| r.abs()).fold(0.0, f64::max);
    let tol_b = RTOL * step_change + ULPS_PER_STEP * (step + 1) as f64 * eps * magnitude;
    let empty = Worst {
        index: 0,
        ours: f64::NAN,
        reference: f64::NAN,
        ratio: 0.0,
        tolerance: 0.0,
    };
    let (mut worst_a, mut worst_b) = (empty, empty);
    for (i, (&o, &r)) in ours.iter().zip(reference).enumerate() {
        let err = (o - r).abs();
        let tol_a = RTOL * r.abs().max(1.0);
        // A NaN anywhere must fail, so it counts as infinitely bad (ratios are never NaN).
        let ratio_a = if err.is_nan() {
            f64::INFINITY
        } else {
            err / tol_a
        };
        let ratio_b = if err.is_nan() {
            f64::INFINITY
        } else if tol_b > 0.0 {
            err / tol_b
        } else if err == 0.0 {
            0.0
        } else {
            f64::INFINITY
        };
        if ratio_a > worst_a.ratio {
            worst_a = Worst {
                index: i,
                ours: o,
                reference: r,
                ratio: ratio_a,
                tolerance: tol_a,
            };
        }
        if ratio_b > worst_b.ratio {
            worst_b = Worst {
                index: i,
                ours: o,
                reference: r,
                ratio: ratio_b,
                tolerance: tol_b,
            };
        }
    }
    (worst_a, worst_b)
}

fn view_name(view: ProjectionView) -> &'static str {
    view.as_str()
}

/// Run one fixture case through the Rust optimizer, with both step backends.
fn run_case(case: &str) {
    let fx = Fixture::load(case);
    #[allow(unused_mut)]
    let mut backends = vec![StepBackend::Fused, StepBackend::TensorOps];
    // The GPU kernels, run on the host (`gpu/emulated.rs`).
    #[cfg(feature = "gpu-emulator")]
    backends.push(StepBackend::GpuEmulated);
    for backend in backends {
        run_case_with(&fx, backend);
    }
}

/// Worst `|diff| / tolerance` seen so far under rules A and B.
#[derive(Debug, Default)]
struct Worsts {
    a: f64,
    b: f64,
}

/// Feed the recorded gradients of `step` to `opt` and compare the reported projection views and
/// every parameter, by name, with the reference after that step. `case` labels failures.
fn check_step(fx: &Fixture, opt: &mut dyn Optimizer, step: usize, case: &str, worst: &mut Worsts) {
    let side = &fx.sidecar;
    let dtype = fx.dtype();
    let eps = match dtype {
        DType::F64 => f64::EPSILON,
        _ => f32::EPSILON as f64,
    };
    let names: Vec<String> = opt
        .params()
        .params()
        .iter()
        .map(|p| p.name.clone())
        .collect();
    opt.set_learning_rate(fx.base_lr(step));
    let grads = fx.grads(opt.params(), step, dtype);
    let report = opt
        .step(&grads)
        .unwrap_or_else(|e| panic!("case {case}, step {step}: step failed: {e}"));
    assert!(
        report.nonfinite_grads.is_empty() && report.skipped.is_empty(),
        "case {case}, step {step}: unexpected non-finite {:?} / skipped {:?}",
        report.nonfinite_grads,
        report.skipped
    );

    // Projection views, by name.
    let mut reported = vec![None; names.len()];
    for (idx, stats) in &report.params {
        assert!(
            reported[*idx].is_none(),
            "case {case}, step {step}: parameter {} reported twice",
            names[*idx]
        );
        reported[*idx] = Some(stats.projection);
        check_stats(
            fx,
            opt.params().params()[*idx].group,
            &names[*idx],
            step,
            stats,
            case,
        );
    }
    let mut view_errors = Vec::new();
    for (idx, name) in names.iter().enumerate() {
        let expected = fx.reference_view(name, step);
        match reported[idx] {
            None => view_errors.push(format!("{name}: no stats reported")),
            Some(view) if view_name(view) != expected => view_errors.push(format!(
                "{name}: ours `{}`, reference `{expected}`",
                view_name(view)
            )),
            Some(_) => {}
        }
    }
    assert!(
        view_errors.is_empty(),
        "case {case}, step {step}: projection view differs from the reference:\n  {}",
        view_errors.join("\n  ")
    );

    // Parameters, by name.
    let mut failures = Vec::new();
    for p in opt.params().params() {
        let ours = values(p.var.as_tensor());
        let reference = values(fx.tensor(&format!("param.{step}.{}", p.name)));
        let prev_key = if step == 0 {
            format!("init.{}", p.name)
        } else {
            format!("param.{}.{}", step - 1, p.name)
        };
        let prev = values(fx.tensor(&prev_key));
        let (a, b) = compare(&ours, &reference, &prev, step, eps);
        worst.a = worst.a.max(a.ratio);
        worst.b = worst.b.max(b.ratio);
        for (rule, w) in [("A", a), ("B", b)] {
            if w.ratio > 1.0 {
                failures.push(format!(
                    "{}: rule {rule} at element {:?} (flat {}): ours {:.9e}, reference {:.9e}, \
                     |diff| {:.3e} > tolerance {:.3e}",
                    p.name,
                    unravel(w.index, p.var.dims()),
                    w.index,
                    w.ours,
                    w.reference,
                    (w.ours - w.reference).abs(),
                    w.tolerance
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "case {case} ({}), step {step}: parameters differ from {}:\n  {}",
        side.description,
        side.reference,
        failures.join("\n  ")
    );
}

/// Check the per-parameter statistics of a step against what the reference implies: the
/// decay factor the reference applied (`1 - lr wd ratio / (1 - momentum)` for SGDP,
/// `1 - lr wd ratio` for AdamP, `1 - lr wd` for AdamW, 1 for coupled L2 decay), the channel-view
/// cosine the reference tested, and the norms and effective step size (paper, Section 2.2) of
/// the reference's parameters before and after the step.
fn check_stats(
    fx: &Fixture,
    group: usize,
    name: &str,
    step: usize,
    stats: &ParamStepStats,
    case: &str,
) {
    let side = &fx.sidecar;
    let h = &side.hyperparameters;
    let g = &side.groups[group];
    let lr = g.lr_scale * fx.base_lr(step);
    let view = fx.reference_view(name, step);
    let ratio = if view == "none" {
        1.0
    } else {
        h.wd_ratio.expect("wd_ratio")
    };
    let decay = match side.optimizer.as_str() {
        "sgdp" if g.weight_decay > 0.0 => {
            1.0 - lr * g.weight_decay * ratio / (1.0 - h.momentum.expect("momentum"))
        }
        "adamp" if g.weight_decay > 0.0 => 1.0 - lr * g.weight_decay * ratio,
        "adamw" if g.weight_decay > 0.0 => 1.0 - lr * g.weight_decay,
        _ => 1.0,
    };
    let at = format!("case {case}, step {step}, {name}");
    assert!(
        (stats.decay_factor - decay).abs() <= 1e-12,
        "{at}: decay factor {} but the reference applied {decay}",
        stats.decay_factor
    );
    if let Some(tests) = side
        .projection
        .as_ref()
        .and_then(|p| p.cosine_tests.get(name))
    {
        let reference = tests[step][0].max_abs_cos;
        assert!(
            (stats.max_abs_cos - reference).abs() <= 1e-4 * reference + 1e-6,
            "{at}: max |cos| {} but the reference's channel test saw {reference}",
            stats.max_abs_cos
        );
    }
    let before = values(fx.tensor(&if step == 0 {
        format!("init.{name}")
    } else {
        format!("param.{}.{name}", step - 1)
    }));
    let after = values(fx.tensor(&format!("param.{step}.{name}")));
    let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let (n0, n1) = (norm(&before), norm(&after));
    let moved: Vec<f64> = before
        .iter()
        .zip(&after)
        .map(|(b, a)| a / n1 - b / n0)
        .collect();
    if n0 == 0.0 || n1 == 0.0 {
        // The direction of a zero vector is undefined (a zero-initialised bias on its first
        // step): the crate reports NaN, as the literal formula gives.
        assert!(
            stats.effective_step.is_nan(),
            "{at}: effective step {} for a zero-norm parameter, expected NaN",
            stats.effective_step
        );
    }
    let effective = norm(&moved);
    for (what, ours, reference) in [
        ("norm before", stats.norm_before, n0),
        ("norm after", stats.norm_after, n1),
        ("effective step", stats.effective_step, effective),
    ] {
        if reference.is_nan() && ours.is_nan() {
            continue;
        }
        assert!(
            (ours - reference).abs() <= 1e-4 * reference + 1e-6,
            "{at}: {what} {ours} but the reference's parameters give {reference}"
        );
    }
}

/// Run one fixture through the Rust optimizer and compare after every step.
fn run_case_with(fx: &Fixture, backend: StepBackend) {
    let case = format!("{} ({backend:?} backend)", fx.sidecar.case);
    let list = fx.param_list(fx.dtype());
    assert_eq!(
        list.len(),
        fx.sidecar.params.len(),
        "case {case}: parameter count"
    );
    let mut opt = fx.optimizer(list, backend);
    assert_eq!(
        opt.name(),
        fx.sidecar.optimizer,
        "case {case}: optimizer name"
    );
    let mut worst = Worsts::default();
    for step in 0..fx.sidecar.steps {
        check_step(fx, opt.as_mut(), step, &case, &mut worst);
    }
    eprintln!(
        "case {case}: {} steps match; worst |diff|/tolerance rule A {:.3}, rule B {:.3}",
        fx.sidecar.steps, worst.a, worst.b
    );
}

/// Step `split` times, save the optimizer state, rebuild the optimizer over fresh variables
/// holding our current parameters, load the state and finish the run: every remaining step must
/// still match the reference (the saved state is the whole state, as `torch.optim`'s
/// `state_dict`).
fn run_case_resumed(case: &str, split: usize) {
    let fx = Fixture::load(case);
    let label = format!("{case} (saved and reloaded after step {})", split - 1);
    let dtype = fx.dtype();
    let mut worst = Worsts::default();
    let mut first = fx.optimizer(fx.param_list(dtype), StepBackend::Fused);
    for step in 0..split {
        check_step(&fx, first.as_mut(), step, &label, &mut worst);
    }
    let path = std::env::temp_dir().join(format!(
        "adamp-optim-parity-{}-{case}.safetensors",
        std::process::id()
    ));
    first.save_state(&path).expect("save_state");

    let resumed_list = fx.param_list(dtype);
    for p in resumed_list.params() {
        let current = first.params().get(&p.name).expect("same names");
        p.var.set(current.var.as_tensor()).expect("copy parameter");
    }
    let mut resumed = fx.optimizer(resumed_list, StepBackend::Fused);
    let loaded = resumed.load_state(&path);
    std::fs::remove_file(&path).ok();
    loaded.unwrap_or_else(|e| panic!("{label}: load_state: {e}"));
    for step in split..fx.sidecar.steps {
        check_step(&fx, resumed.as_mut(), step, &label, &mut worst);
    }
}

#[test]
fn resumed_runs_match_the_reference() {
    // One case per optimizer family, split where momentum/moment buffers are well developed.
    for case in [
        "sgd_dampening_wd",
        "adam_wd",
        "adamw",
        "sgdp_momentum",
        "adamp_nesterov_wd",
    ] {
        run_case_resumed(case, 4);
    }
}

macro_rules! parity_cases {
    ($($case:ident),* $(,)?) => {
        /// Every case with a test below; `every_fixture_has_a_test` checks the directory.
        const CASES: &[&str] = &[$(stringify!($case)),*];
        $(
            #[test]
            fn $case() {
                run_case(stringify!($case));
            }
        )*
    };
}

parity_cases!(
    sgd_momentum,
    sgd_nesterov_wd,
    sgd_dampening_wd,
    sgd_plain,
    adam_wd,
    adamw,
    sgdp_momentum,
    sgdp_nesterov_wd,
    sgdp_dampening_wd,
    sgdp_no_momentum,
    adamp_basic,
    adamp_nesterov_wd,
    sgdp_groups,
    adamp_groups,
    sgdp_lr_schedule,
    adamp_lr_schedule,
    sgd_convbn_net,
    adamw_convbn_net,
    sgdp_convbn_net,
    adamp_convbn_net,
    adamp_f64,
    sgdp_f64,
);

#[test]
fn every_fixture_has_a_test() {
    let mut on_disk: Vec<String> = std::fs::read_dir(common::fixtures_dir())
        .expect("fixture directory")
        .filter_map(|e| {
            let path = e.ok()?.path();
            (path.extension()? == "json").then(|| path.file_stem()?.to_str().map(String::from))?
        })
        .collect();
    on_disk.sort();
    let mut tested: Vec<String> = CASES.iter().map(|s| s.to_string()).collect();
    tested.sort();
    assert_eq!(on_disk, tested, "fixture cases on disk vs parity tests");
}

#[test]
fn fixtures_cover_the_issue_list() {
    // The reference views must include every outcome of the cosine test, on real autograd
    // gradients as well as on constructed ones; and every case has at least 10 steps.
    let mut seen = std::collections::BTreeSet::new();
    for case in CASES {
        let fx = Fixture::load(case);
        assert!(fx.sidecar.steps >= 10, "case {case}: fewer than 10 steps");
        if let Some(p) = &fx.sidecar.projection {
            for (name, views) in &p.views {
                for v in views {
                    seen.insert((case.ends_with("_net"), v.clone()));
                }
                for tests in p.cosine_tests.get(name).into_iter().flatten() {
                    for t in tests {
                        assert!(
                            t.relative_margin >= p.min_relative_margin,
                            "case {case}: {name} {} test too close to its threshold",
                            t.view
                        );
                    }
                }
            }
        }
    }
    for real in [false, true] {
        for view in ["channel", "layer", "none"] {
            assert!(
                seen.contains(&(real, view.to_string())),
                "no case where the `{view}` view fires (real autograd: {real})"
            );
        }
    }
}

#[test]
fn comparison_rejects_small_but_real_differences() {
    // The rules must flag an error of 2e-5 on an O(1) value (rule A) and an error of 1e-6 on a
    // step that moved the tensor by 1e-3 (rule B), and accept the reference itself.
    let reference = [0.5, -1.25, 2.0];
    let prev = [0.499, -1.25, 2.0];
    let (a, b) = compare(&reference, &reference, &prev, 0, f32::EPSILON as f64);
    assert_eq!((a.ratio, b.ratio), (0.0, 0.0));
    let off_a = [0.5 + 2e-5, -1.25, 2.0];
    assert!(
        compare(&off_a, &reference, &prev, 0, f32::EPSILON as f64)
            .0
            .ratio
            > 1.0
    );
    let off_b = [0.5, -1.25 + 1e-6, 2.0];
    let (a, b) = compare(&off_b, &reference, &prev, 0, f64::EPSILON);
    assert!(
        a.ratio <= 1.0 && b.ratio > 1.0,
        "rule A {a:?}, rule B {b:?}"
    );
    let nan = [f64::NAN, -1.25, 2.0];
    let (a, b) = compare(&nan, &reference, &prev, 0, f64::EPSILON);
    assert!(a.ratio > 1.0 && b.ratio > 1.0);
}

/// The worst rule-A ratio over a whole run of `fx`'s gradients through `optimizer` with
/// hyperparameters `h` (no assertions; for the negative controls below).
fn worst_rule_a(fx: &Fixture, optimizer: &str, h: &common::Hyper) -> f64 {
    let dtype = fx.dtype();
    let mut opt = common::build_optimizer(optimizer, h, fx.param_list(dtype), StepBackend::Fused);
    let mut worst = 0.0_f64;
    for step in 0..fx.sidecar.steps {
        let grads = fx.grads(opt.params(), step, dtype);
        opt.step(&grads).expect("step");
        for p in opt.params().params() {
            let ours = values(p.var.as_tensor());
            let reference = values(fx.tensor(&format!("param.{step}.{}", p.name)));
            let (a, _) = compare(&ours, &reference, &reference, step, f32::EPSILON as f64);
            worst = worst.max(a.ratio);
        }
    }
    worst
}

#[test]
fn parity_detects_plausible_mistakes() {
    // Each mistake changes a detail the reference pins; the fixtures must reject all of them.
    let fx = Fixture::load("sgdp_nesterov_wd");
    let h = fx.sidecar.hyperparameters.clone();
    assert!(
        worst_rule_a(&fx, "sgdp", &h) <= 1.0,
        "the control run must pass"
    );
    let no_wd_ratio = common::Hyper {
        wd_ratio: Some(1.0),
        ..h.clone()
    };
    let no_nesterov = common::Hyper {
        nesterov: Some(false),
        ..h.clone()
    };
    let coupled_sgd = common::Hyper {
        eps: None,
        delta: None,
        wd_ratio: None,
        ..h.clone()
    };
    for (what, optimizer, hyper) in [
        ("wd_ratio ignored", "sgdp", &no_wd_ratio),
        ("Nesterov ignored", "sgdp", &no_nesterov),
        ("no projection (plain SGD)", "sgd", &coupled_sgd),
    ] {
        let ratio = worst_rule_a(&fx, optimizer, hyper);
        eprintln!("mistake `{what}`: worst |diff|/tolerance {ratio:.0}");
        assert!(ratio > 10.0, "{what}: worst ratio only {ratio}");
    }
    let fx = Fixture::load("adamp_basic");
    let h = fx.sidecar.hyperparameters.clone();
    let adam = common::Hyper {
        delta: None,
        wd_ratio: None,
        nesterov: None,
        ..h.clone()
    };
    let ratio = worst_rule_a(&fx, "adam", &adam);
    eprintln!("mistake `AdamP without projection`: worst |diff|/tolerance {ratio:.0}");
    assert!(
        ratio > 10.0,
        "AdamP without projection: worst ratio only {ratio}"
    );
}
