//! The learning-rate fit recovers a known learning rate from values it produced.

use adamp_optim::{Optimizer, Sgd, SgdConfig};
use adamp_task_api::{OptimizerSet, Task, TaskContext};
use adamp_task_toy::fit::{drive, fit_learning_rate, log_grid, log_ratio_residual};
use adamp_task_toy::{Toy2d, Toy2dSettings};
use candle_core::Device;

fn final_norm(lr: f64, momentum: f64) -> f64 {
    let ctx = TaskContext {
        seed: 0,
        device: Device::Cpu,
        batch_size: 1,
    };
    let mut task = Toy2d::new(Toy2dSettings::default(), &ctx).unwrap();
    let mut c = SgdConfig::new(lr);
    c.momentum = momentum;
    let opt = Sgd::new(task.param_sets()[0].params.clone(), c).unwrap();
    let mut set = OptimizerSet::new(vec![Box::new(opt) as Box<dyn Optimizer>]);
    drive(&mut task, &mut set, 100).unwrap();
    let sets = task.param_sets();
    let w = sets[0].params.params()[0]
        .var
        .as_tensor()
        .flatten_all()
        .unwrap()
        .to_vec1::<f64>()
        .unwrap();
    w.iter().map(|x| x * x).sum::<f64>().sqrt()
}

#[test]
fn the_fit_recovers_the_learning_rate_that_produced_the_targets() {
    let grid = log_grid(0.01, 0.1, 10);
    assert_eq!(grid.len(), 11);
    let true_lr = grid[6];
    let targets = vec![final_norm(true_lr, 0.0), final_norm(true_lr, 0.9)];
    let fit = fit_learning_rate(&grid, &targets, |lr| {
        Ok::<_, ()>(vec![final_norm(lr, 0.0), final_norm(lr, 0.9)])
    })
    .unwrap()
    .unwrap();
    assert_eq!(fit.lr, true_lr);
    assert!(fit.residual < 1e-20);
}

#[test]
fn the_residual_is_a_squared_log_ratio() {
    let r = log_ratio_residual(&[2.0, 1.0], &[1.0, 1.0]);
    assert!((r - 2f64.ln().powi(2)).abs() < 1e-15);
    assert!(log_ratio_residual(&[f64::NAN], &[1.0]).is_infinite());
}
