//! Helpers shared by the model tests.
#![allow(dead_code)]

use adamp_models::Model;
use candle_core::{DType, Device, Tensor};

/// Deterministic pseudo-random f32 values in [-1, 1) (a tiny LCG; tests need no RNG crate).
pub fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// A tensor of `shape` filled with [`values`].
pub fn tensor(shape: &[usize], seed: u64) -> Tensor {
    let n = shape.iter().product();
    Tensor::from_vec(values(n, seed), shape, &Device::Cpu).unwrap()
}

/// Labels `i % classes`.
pub fn labels(n: usize, classes: usize) -> Tensor {
    Tensor::from_vec(
        (0..n).map(|i| (i % classes) as u32).collect::<Vec<_>>(),
        n,
        &Device::Cpu,
    )
    .unwrap()
}

/// Cross-entropy of the model's training-mode logits.
pub fn loss(model: &Model, x: &Tensor, y: &Tensor) -> Tensor {
    let logits = model.forward_t(x, true).unwrap();
    candle_nn::loss::cross_entropy(&logits, y).unwrap()
}

/// One plain SGD step `w -= lr * g` on every parameter; returns the loss before the step.
pub fn sgd_step(model: &Model, x: &Tensor, y: &Tensor, lr: f64) -> f32 {
    let l = loss(model, x, y);
    let grads = l.backward().unwrap();
    for p in model.params().params() {
        let g = grads
            .get(&p.var)
            .unwrap_or_else(|| panic!("no gradient for `{}`", p.name));
        p.var
            .set(&(p.var.as_tensor() - (g * lr).unwrap()).unwrap())
            .unwrap();
    }
    l.to_dtype(DType::F32).unwrap().to_scalar::<f32>().unwrap()
}
