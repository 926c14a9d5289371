//! Pins the toys' fitted hyperparameters (the paper does not state them): the learning rate in
//! configs/toy2d.toml and configs/toy3d.toml (and the 3D weight decay) must be the grid minimiser
//! of the squared log-ratio to the paper's numbers (arXiv 2006.08217, 2D and 3D toy examples), and
//! the residuals quoted in the configs' comments must be what the fit finds.

use std::path::{Path, PathBuf};

use adamp_harness::config::{self, LoadOptions};
use adamp_harness::train::{build_optimizers, build_task};
use adamp_task_toy::fit::{drive, fit_learning_rate, log_grid};

fn config_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../configs")
        .join(name)
}

/// Run every entry of `config` (with `sets` applied) to the end; `(label, eval metrics)`.
fn finals(config: &str, sets: Vec<String>) -> Vec<(String, Vec<(String, f64)>)> {
    let options = LoadOptions {
        sets,
        ..Default::default()
    };
    let e = config::load(&config_path(config), &options).unwrap();
    let steps = e.config.training.steps.unwrap();
    e.runs()
        .iter()
        .map(|spec| {
            let mut task = build_task(spec, &candle_core::Device::Cpu).unwrap();
            let mut opt = build_optimizers(spec, &task.param_sets()).unwrap();
            drive(task.as_mut(), &mut opt, steps).unwrap();
            (spec.label.clone(), task.evaluate().unwrap().metrics)
        })
        .collect()
}

fn value(f: &[(String, Vec<(String, f64)>)], label: &str, metric: &str) -> f64 {
    let (_, m) = f.iter().find(|(l, _)| l == label).unwrap();
    m.iter().find(|(n, _)| n == metric).unwrap().1
}

fn lr_sets(n: usize, lr: f64) -> Vec<String> {
    (0..n)
        .map(|i| format!("optimizers[{i}].lr={lr:e}"))
        .collect()
}

fn configured(config: &str, key: impl Fn(&toml::Table) -> f64) -> f64 {
    let text = std::fs::read_to_string(config_path(config)).unwrap();
    key(&text.parse().unwrap())
}

fn close(a: f64, b: f64) -> bool {
    (a / b - 1.0).abs() < 1e-9
}

#[test]
fn toy2d_learning_rate_is_the_fit_to_the_paper() {
    let labels = [
        "gd",
        "momentum_0.9",
        "momentum_0.95",
        "momentum_0.99",
        "sgdp_0.9",
        "sgdp_0.95",
        "sgdp_0.99",
    ];
    let paper = [1.02, 2.93, 5.67, 27.87, 1.12, 1.14, 1.15];
    let grid = log_grid(0.005, 0.05, 20);
    let fit = fit_learning_rate(&grid, &paper, |lr| {
        let f = finals("toy2d.toml", lr_sets(7, lr));
        Ok::<_, ()>(labels.iter().map(|l| value(&f, l, "final_norm")).collect())
    })
    .unwrap()
    .unwrap();
    eprintln!(
        "toy2d fit: lr = {}, residual = {:.4}, ours = {:?}",
        fit.lr, fit.residual, fit.values
    );
    let lr = configured("toy2d.toml", |t| {
        t["optimizers"][0]["lr"].as_float().unwrap()
    });
    assert!(
        close(fit.lr, lr),
        "configs/toy2d.toml lr {lr} is not the fitted {}",
        fit.lr
    );
    let text = std::fs::read_to_string(config_path("toy2d.toml")).unwrap();
    assert!(
        text.contains(&format!("residual = {:.4}", fit.residual)),
        "update the residual in the config comment"
    );
    // The qualitative result of the paper holds at the fitted lr.
    let v = &fit.values;
    assert!(
        v[0] < v[1] && v[1] < v[2] && v[2] < v[3],
        "momentum grows the norm, more with larger beta: {v:?}"
    );
    assert!(
        v[4] < v[1] && v[5] < v[2] && v[6] < v[3],
        "projection keeps the norm down: {v:?}"
    );
}

#[test]
fn toy3d_learning_rate_and_weight_decay_are_the_fit_to_the_paper() {
    let grid = log_grid(1e-5, 1e-4, 20);
    let fit = fit_learning_rate(&grid, &[3.16, 1.12], |lr| {
        let f = finals("toy3d.toml", lr_sets(3, lr));
        Ok::<_, ()>(vec![
            value(&f, "momentum", "final_r"),
            value(&f, "sgdp", "final_r"),
        ])
    })
    .unwrap()
    .unwrap();
    eprintln!(
        "toy3d lr fit: lr = {}, residual = {:.4}, ours = {:?}",
        fit.lr, fit.residual, fit.values
    );
    let lr = configured("toy3d.toml", |t| {
        t["optimizers"][0]["lr"].as_float().unwrap()
    });
    assert!(
        close(fit.lr, lr),
        "configs/toy3d.toml lr {lr} is not the fitted {}",
        fit.lr
    );

    // Weight decay at the fitted lr, against the final 0.84 and the peak 2.53.
    let wd_grid = log_grid(5.0, 200.0, 40);
    let wd_fit = fit_learning_rate(&wd_grid, &[0.84, 2.53], |wd| {
        let mut sets = lr_sets(3, lr);
        sets.push(format!("optimizers[1].weight_decay={wd:e}"));
        let f = finals("toy3d.toml", sets);
        Ok::<_, ()>(vec![
            value(&f, "momentum_wd", "final_r"),
            value(&f, "momentum_wd", "peak_r"),
        ])
    })
    .unwrap()
    .unwrap();
    eprintln!(
        "toy3d wd fit: weight_decay = {}, residual = {:.4}, ours = {:?}",
        wd_fit.lr, wd_fit.residual, wd_fit.values
    );
    let wd = configured("toy3d.toml", |t| {
        t["optimizers"][1]["weight_decay"].as_float().unwrap()
    });
    assert!(
        close(wd_fit.lr, wd),
        "configs/toy3d.toml weight_decay {wd} is not the fitted {}",
        wd_fit.lr
    );
    let text = std::fs::read_to_string(config_path("toy3d.toml")).unwrap();
    assert!(
        text.contains(&format!("residual {:.4} (ours: ", fit.residual)),
        "update the lr residual in the config comment"
    );
    assert!(
        text.contains(&format!("residual {:.4} (ours: final", wd_fit.residual)),
        "update the wd residual in the config comment"
    );
    assert!(
        wd_fit.values[1] > wd_fit.values[0] * 2.0,
        "r peaks, then decays: {:?}",
        wd_fit.values
    );
}
