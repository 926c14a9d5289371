//! The theory the toys illustrate (arXiv 2006.08217, problem analysis), checked in f64
//! with the real optimizers of adamp-optim:
//! - scale invariance: `w . grad f(w) = 0`, loss(c w) = loss(w);
//! - plain GD: `||w_{t+1}||^2 = ||w_t||^2 + lr^2 ||g_t||^2` to rounding;
//! - heavy-ball momentum grows the norm faster than plain GD;
//! - SGDP's projected update is orthogonal to `w`, so its norm grows only by `||lr d_t||^2` per
//!   step and stays far below momentum's.

use adamp_optim::{Optimizer, Sgd, SgdConfig, Sgdp, SgdpConfig};
use adamp_task_api::{OptimizerSet, OptimizerStep, StepIndex, Task, TaskContext};
use adamp_task_toy::fit::drive;
use adamp_task_toy::{Toy2d, Toy2dSettings, Toy3d, Toy3dSettings};
use candle_core::Device;

fn ctx() -> TaskContext {
    TaskContext {
        seed: 0,
        device: Device::Cpu,
        batch_size: 1,
    }
}

fn weight(task: &dyn Task) -> Vec<f64> {
    let sets = task.param_sets();
    let w = &sets[0].params.params()[0].var;
    w.as_tensor()
        .flatten_all()
        .unwrap()
        .to_vec1::<f64>()
        .unwrap()
}

fn sq(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum()
}

fn sgd(task: &dyn Task, lr: f64, momentum: f64) -> OptimizerSet {
    let mut c = SgdConfig::new(lr);
    c.momentum = momentum;
    let params = task.param_sets()[0].params.clone();
    OptimizerSet::new(vec![
        Box::new(Sgd::new(params, c).unwrap()) as Box<dyn Optimizer>
    ])
}

fn sgdp(task: &dyn Task, lr: f64, momentum: f64) -> OptimizerSet {
    let mut c = SgdpConfig::new(lr);
    c.momentum = momentum;
    let params = task.param_sets()[0].params.clone();
    OptimizerSet::new(vec![
        Box::new(Sgdp::new(params, c).unwrap()) as Box<dyn Optimizer>
    ])
}

/// Records each step's gradient (from the weight change of plain GD: g = -(w' - w) / lr).
fn step_once(task: &mut dyn Task, opt: &mut OptimizerSet, step: usize) -> f64 {
    let out = task
        .train_step(
            StepIndex {
                step,
                epoch: 1,
                batch: step - 1,
            },
            opt,
        )
        .unwrap();
    opt.take_reports();
    out.loss
}

#[test]
fn plain_gd_norm_grows_by_lr_squared_grad_squared() {
    for settings in [
        Toy2dSettings::default(),
        Toy2dSettings {
            angle_deg: 120.0,
            init_norm: 1.0,
        },
    ] {
        let lr = 0.05;
        let mut task = Toy2d::new(settings, &ctx()).unwrap();
        let mut opt = sgd(&task, lr, 0.0);
        for step in 1..=200 {
            let before = weight(&task);
            step_once(&mut task, &mut opt, step);
            let after = weight(&task);
            // Plain GD: w' = w - lr g, so g = (w - w') / lr exactly up to rounding.
            let g: Vec<f64> = before
                .iter()
                .zip(&after)
                .map(|(b, a)| (b - a) / lr)
                .collect();
            let dot: f64 = before.iter().zip(&g).map(|(w, g)| w * g).sum();
            // g is reconstructed from w - w', so it carries an absolute rounding error of about
            // f64::EPSILON * ||w|| / lr per component.
            let rounding = 4.0 * f64::EPSILON * sq(&before) / lr;
            assert!(
                dot.abs() <= rounding,
                "step {step}: w.g = {dot} > {rounding}"
            );
            let predicted = sq(&before) + lr * lr * sq(&g);
            let rel = (sq(&after) - predicted).abs() / predicted;
            assert!(
                rel < 1e-13,
                "step {step}: ||w'||^2 = {} vs {predicted} (rel {rel:e})",
                sq(&after)
            );
        }
    }
}

#[test]
fn the_toy_losses_are_scale_invariant_with_orthogonal_gradients() {
    let t3 = Toy3d::new(Toy3dSettings::default(), &ctx()).unwrap();
    let (psi, phi, r) = Toy3d::coordinates(&weight(&t3));
    assert!((psi + 2.0).abs() < 1e-12 && (phi - 2.0).abs() < 1e-12 && (r - 1.0).abs() < 1e-12);
    for c in [0.5, 3.0, 40.0] {
        let scaled: Vec<f64> = weight(&t3).iter().map(|x| x * c).collect();
        let (ps, ph, rs) = Toy3d::coordinates(&scaled);
        assert!((ps - psi).abs() < 1e-12 && (ph - phi).abs() < 1e-12);
        assert!((rs - c).abs() < 1e-12);
    }
    // Gradient orthogonality on the 3D toy: plain GD with a tiny lr moves w orthogonally.
    let mut task = Toy3d::new(Toy3dSettings::default(), &ctx()).unwrap();
    let lr = 1e-6;
    let mut opt = sgd(&task, lr, 0.0);
    let before = weight(&task);
    step_once(&mut task, &mut opt, 1);
    let after = weight(&task);
    let g: Vec<f64> = before
        .iter()
        .zip(&after)
        .map(|(b, a)| (b - a) / lr)
        .collect();
    let dot: f64 = before.iter().zip(&g).map(|(w, g)| w * g).sum();
    assert!(
        dot.abs() < 1e-9 * sq(&g).sqrt(),
        "w.g = {dot}, ||g|| = {}",
        sq(&g).sqrt()
    );
}

#[test]
fn momentum_grows_the_norm_faster_and_projection_keeps_it_small() {
    let lr = 0.02;
    let final_norm = |opt: fn(&dyn Task, f64, f64) -> OptimizerSet, momentum: f64| {
        let mut task = Toy2d::new(Toy2dSettings::default(), &ctx()).unwrap();
        let mut o = opt(&task, lr, momentum);
        drive(&mut task, &mut o, 500).unwrap();
        sq(&weight(&task)).sqrt()
    };
    let gd = final_norm(sgd, 0.0);
    let mut previous = gd;
    for momentum in [0.9, 0.95, 0.99] {
        let heavy = final_norm(sgd, momentum);
        let projected = final_norm(sgdp, momentum);
        assert!(
            heavy > previous,
            "momentum {momentum}: {heavy} <= {previous}"
        );
        assert!(
            projected < heavy / 1.5,
            "momentum {momentum}: SGDP {projected} vs momentum {heavy}"
        );
        assert!(
            projected >= 1.0,
            "a scale-invariant update never shrinks ||w|| without decay"
        );
        previous = heavy;
    }
    assert!(gd > 1.0 && gd < 1.1, "plain GD norm {gd}");
}

#[test]
fn sgdp_updates_are_orthogonal_to_the_weight() {
    let lr = 0.02;
    let mut task = Toy2d::new(Toy2dSettings::default(), &ctx()).unwrap();
    let mut opt = sgdp(&task, lr, 0.95);
    for step in 1..=300 {
        let before = weight(&task);
        task.train_step(
            StepIndex {
                step,
                epoch: 1,
                batch: step - 1,
            },
            &mut opt,
        )
        .unwrap();
        let reports = opt.take_reports();
        assert_eq!(reports.len(), 1);
        let after = weight(&task);
        let delta: Vec<f64> = before.iter().zip(&after).map(|(b, a)| a - b).collect();
        // ||w'||^2 = ||w||^2 + ||dw||^2 + 2 w.dw, and w.dw = 0 up to the projection's eps.
        let predicted = sq(&before) + sq(&delta);
        let rel = (sq(&after) - predicted).abs() / predicted;
        assert!(rel < 1e-7, "step {step}: rel {rel:e}");
        let (_, stats) = reports[0].1.params[0];
        assert_ne!(
            stats.projection,
            adamp_optim::ProjectionView::None,
            "step {step}: the projection must fire on a scale-invariant weight"
        );
    }
}

#[test]
fn the_3d_toy_records_its_peak_radius_in_a_buffer() {
    let mut task = Toy3d::new(Toy3dSettings::default(), &ctx()).unwrap();
    let mut c = SgdConfig::new(3e-5);
    c.momentum = 0.9;
    c.weight_decay = 20.0;
    let mut opt =
        OptimizerSet::new(vec![
            Box::new(Sgd::new(task.param_sets()[0].params.clone(), c).unwrap())
                as Box<dyn Optimizer>,
        ]);
    drive(&mut task, &mut opt, 200).unwrap();
    let metrics = task.evaluate().unwrap().metrics;
    let get = |k: &str| metrics.iter().find(|(n, _)| n == k).unwrap().1;
    assert!(
        get("peak_r") > get("final_r"),
        "weight decay brings r back down after a peak"
    );
    let buffers = task.buffers().unwrap();
    let mut fresh = Toy3d::new(Toy3dSettings::default(), &ctx()).unwrap();
    fresh.load_buffers(&buffers).unwrap();
    assert_eq!(
        fresh
            .evaluate()
            .unwrap()
            .metrics
            .iter()
            .find(|(n, _)| n == "peak_r")
            .unwrap()
            .1,
        get("peak_r")
    );
    assert!(
        fresh.load_buffers(&[]).is_err(),
        "a missing buffer is an error"
    );
    assert_eq!(opt.num_sets(), 1);
}
