//! The CUDA path (cuDNN convolutions, BatchNorm / residual-add kernels, `ops::cuda`) against the
//! CPU kernels on the same data: outputs, input and parameter gradients, batch statistics, and a
//! whole ResNet-20 training-mode forward/backward. Compiled only with the `cuda` feature; without
//! a CUDA device every test prints `skipped: no CUDA device (<error>)` and passes.
//!
//! cuDNN runs with TF32 math off ([`ops::cuda::set_allow_tf32`]), so results agree to f32
//! rounding up to the summation order (cuDNN may pick Winograd or FFT algorithms: 1e-4 of the
//! largest value); one test checks the TF32 default at a TF32 tolerance. Differences are measured
//! as the largest absolute difference over the largest reference value, so an indexing error
//! (an O(1) difference) cannot pass.
#![cfg(feature = "cuda")]

mod common;

use std::sync::{Mutex, MutexGuard};

use adamp_models::{build_with, ops, LayerImpl, ModelConfig, ModelKind};
use candle_core::{Device, Tensor, Var};
use common::{labels, tensor};

/// The CUDA device, or `None` after printing why the test is skipped.
fn cuda() -> Option<Device> {
    match Device::new_cuda(0) {
        Ok(d) => Some(d),
        Err(e) => {
            println!("skipped: no CUDA device ({e})");
            None
        }
    }
}

/// Holds the process-wide TF32 switch at `on` for one test (tests run on parallel threads).
fn tf32(on: bool) -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    let guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    ops::cuda::set_allow_tf32(on);
    guard
}

/// Max |a - b| over max |b| (b the CPU reference).
fn max_rel(a: &Tensor, b: &Tensor) -> f32 {
    let a = a.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let b = b.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-6);
    a.iter()
        .zip(&b)
        .fold(0f32, |m, (x, y)| m.max((x - y).abs()))
        / scale
}

fn assert_close(what: &str, gpu: &Tensor, cpu: &Tensor, tol: f32) {
    let gpu = gpu.to_device(&Device::Cpu).unwrap();
    let r = max_rel(&gpu, cpu);
    assert!(r <= tol, "{what}: max relative difference {r:e} > {tol:e}");
}

/// `(y, dx, dw)` of `sum(conv(x, w) * r)` with `conv` on `dev`.
fn conv_run(
    dev: &Device,
    (x, w, r): (&Tensor, &Tensor, &Tensor),
    (stride, pad, dil, groups): (usize, usize, usize, usize),
) -> (Tensor, Tensor, Tensor) {
    let xv = Var::from_tensor(&x.to_device(dev).unwrap()).unwrap();
    let wv = Var::from_tensor(&w.to_device(dev).unwrap()).unwrap();
    let y = if dev.is_cuda() {
        ops::cuda::conv2d(xv.as_tensor(), wv.as_tensor(), stride, pad, dil, groups).unwrap()
    } else {
        ops::conv2d(xv.as_tensor(), wv.as_tensor(), stride, pad, dil, groups).unwrap()
    };
    let g = (&y * r.to_device(dev).unwrap())
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    let dx = g.get(xv.as_tensor()).unwrap().clone();
    let dw = g.get(wv.as_tensor()).unwrap().clone();
    (y, dx, dw)
}

#[test]
fn cudnn_conv_matches_cpu_forward_and_gradients() {
    let Some(dev) = cuda() else { return };
    let _tf32 = tf32(false);
    // (n, c_in, h, w, c_out, k, stride, pad, dilation, groups): 3x3 same, stride 2, 1x1 (also
    // strided, the ResNet downsample), depthwise (MobileNetV2) plain and strided, grouped with
    // dilation, the 7x7/2 ImageNet stem, odd sizes.
    let cases: &[[usize; 10]] = &[
        [2, 3, 9, 9, 4, 3, 1, 1, 1, 1],
        [3, 8, 10, 10, 16, 3, 2, 1, 1, 1],
        [2, 16, 7, 7, 8, 1, 1, 0, 1, 1],
        [2, 16, 8, 8, 32, 1, 2, 0, 1, 1],
        [2, 8, 8, 8, 8, 3, 1, 1, 1, 8],
        [2, 12, 9, 9, 12, 3, 2, 1, 1, 12],
        [2, 6, 8, 11, 4, 3, 1, 2, 2, 2],
        [2, 3, 23, 23, 8, 7, 2, 3, 1, 1],
        [1, 5, 5, 6, 7, 2, 1, 0, 1, 1],
    ];
    for (i, &[n, ci, h, w, co, k, s, p, d, g]) in cases.iter().enumerate() {
        let x = tensor(&[n, ci, h, w], 10 + i as u64);
        let wt = tensor(&[co, ci / g, k, k], 20 + i as u64);
        let oh = (h + 2 * p - d * (k - 1) - 1) / s + 1;
        let ow = (w + 2 * p - d * (k - 1) - 1) / s + 1;
        let r = tensor(&[n, co, oh, ow], 30 + i as u64);
        let geo = (s, p, d, g);
        let (yc, dxc, dwc) = conv_run(&Device::Cpu, (&x, &wt, &r), geo);
        let (yg, dxg, dwg) = conv_run(&dev, (&x, &wt, &r), geo);
        let case = format!("case {i} {:?}", cases[i]);
        assert_eq!(yg.dims(), yc.dims(), "{case}");
        assert_close(&format!("{case} y"), &yg, &yc, 1e-4);
        assert_close(&format!("{case} dx"), &dxg, &dxc, 1e-4);
        assert_close(&format!("{case} dw"), &dwg, &dwc, 1e-4);
    }
}

#[test]
fn cudnn_conv_with_tf32_stays_within_tf32_precision() {
    let Some(dev) = cuda() else { return };
    let _tf32 = tf32(true);
    let x = tensor(&[4, 32, 14, 14], 1);
    let w = tensor(&[64, 32, 3, 3], 2);
    let r = tensor(&[4, 64, 14, 14], 3);
    let (yc, dxc, dwc) = conv_run(&Device::Cpu, (&x, &w, &r), (1, 1, 1, 1));
    let (yg, dxg, dwg) = conv_run(&dev, (&x, &w, &r), (1, 1, 1, 1));
    // TF32 keeps 10 mantissa bits: ~1e-3 relative per product, less after summation.
    assert_close("tf32 y", &yg, &yc, 5e-3);
    assert_close("tf32 dx", &dxg, &dxc, 5e-3);
    assert_close("tf32 dw", &dwg, &dwc, 5e-3);
}

#[test]
fn cuda_batch_norm_matches_cpu_with_statistics_and_gradients() {
    use adamp_models::ops::FusedActivation::{Identity, Relu, Relu6};
    let Some(dev) = cuda() else { return };
    // Odd sizes, 1x1 maps, a 2-D input, a large batch x plane (several blocks per channel), and a
    // large mean (the two-pass statistics).
    let cases: &[(&[usize], _, f64)] = &[
        (&[4, 6, 5, 7], Identity, 0.0),
        (&[3, 5, 9, 9], Relu, 0.0),
        (&[2, 7, 4, 4], Relu6, 0.0),
        (&[8, 4, 1, 1], Relu, 0.0),
        (&[16, 3], Identity, 0.0),
        (&[64, 3, 32, 32], Relu, 0.0),
        (&[4, 3, 6, 6], Identity, 100.0),
    ];
    for (i, &(shape, act, offset)) in cases.iter().enumerate() {
        let c = shape[1];
        let x = (tensor(shape, 40 + i as u64) + offset).unwrap();
        let gamma = tensor(&[c], 50 + i as u64).affine(2.0, 4.0).unwrap();
        let beta = tensor(&[c], 60 + i as u64);
        let r = tensor(shape, 70 + i as u64);
        let case = format!("case {i} {shape:?} {act:?} offset {offset}");
        let run = |d: &Device| {
            let xv = Var::from_tensor(&x.to_device(d).unwrap()).unwrap();
            let gv = Var::from_tensor(&gamma.to_device(d).unwrap()).unwrap();
            let bv = Var::from_tensor(&beta.to_device(d).unwrap()).unwrap();
            let (y, mean, var) = if d.is_cuda() {
                ops::cuda::batch_norm_train(xv.as_tensor(), &gv, &bv, 1e-5, act).unwrap()
            } else {
                let (y, st) = ops::batch_norm_train(xv.as_tensor(), &gv, &bv, 1e-5, act).unwrap();
                (
                    y,
                    Tensor::new(st.mean.as_slice(), d).unwrap(),
                    Tensor::new(st.var.as_slice(), d).unwrap(),
                )
            };
            let loss = (&y * r.to_device(d).unwrap()).unwrap().sum_all().unwrap();
            let g = loss.backward().unwrap();
            let grads =
                [xv.as_tensor(), gv.as_tensor(), bv.as_tensor()].map(|t| g.get(t).unwrap().clone());
            (y, mean, var, grads)
        };
        let (yc, mc, vc, gc) = run(&Device::Cpu);
        let (yg, mg, vg, gg) = run(&dev);
        // With the large mean, `x * scale + shift` cancels ~7 bits on both devices alike.
        let tol = if offset == 0.0 { 1e-5 } else { 1e-4 };
        assert_close(&format!("{case} y"), &yg, &yc, tol);
        assert_close(&format!("{case} mean"), &mg, &mc, 1e-6);
        assert_close(&format!("{case} var"), &vg, &vc, tol);
        for (name, (a, b)) in ["dx", "dgamma", "dbeta"].iter().zip(gg.iter().zip(&gc)) {
            assert_close(&format!("{case} {name}"), a, b, 1e-4);
        }
    }
}

#[test]
fn cuda_add_relu_matches_cpu() {
    let Some(dev) = cuda() else { return };
    let shape = [3, 5, 7, 9];
    let (a, b, r) = (tensor(&shape, 1), tensor(&shape, 2), tensor(&shape, 3));
    let run = |d: &Device| {
        let av = Var::from_tensor(&a.to_device(d).unwrap()).unwrap();
        let bv = Var::from_tensor(&b.to_device(d).unwrap()).unwrap();
        let y = if d.is_cuda() {
            ops::cuda::add_relu(&av, &bv).unwrap()
        } else {
            ops::add_relu(&av, &bv).unwrap()
        };
        let g = (&y * r.to_device(d).unwrap())
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let (ga, gb) = (g.get(&av).unwrap().clone(), g.get(&bv).unwrap().clone());
        (y, ga, gb)
    };
    let (yc, gac, gbc) = run(&Device::Cpu);
    let (yg, gag, gbg) = run(&dev);
    assert_close("add_relu y", &yg, &yc, 0.0);
    assert_close("add_relu da", &gag, &gac, 0.0);
    assert_close("add_relu db", &gbg, &gbc, 0.0);
}

#[test]
fn resnet20_training_step_on_cuda_matches_cpu() {
    let Some(dev) = cuda() else { return };
    let _tf32 = tf32(false);
    let cfg = ModelConfig {
        kind: ModelKind::ResNet20,
        in_channels: 3,
        num_classes: 10,
        input_hw: (32, 32),
        seed: 3,
        layer_impl: LayerImpl::Fast,
    };
    let (x, y) = (tensor(&[8, 3, 32, 32], 7), labels(8, 10));
    let run = |d: &Device| {
        let model = build_with(&cfg, d).unwrap();
        let logits = model.forward_t(&x.to_device(d).unwrap(), true).unwrap();
        let loss = candle_nn::loss::cross_entropy(&logits, &y.to_device(d).unwrap()).unwrap();
        let g = loss.backward().unwrap();
        let grads: Vec<(String, Tensor)> = model
            .params()
            .params()
            .iter()
            .map(|p| (p.name.clone(), g.get(&p.var).unwrap().clone()))
            .collect();
        let buffers: Vec<(String, Tensor)> = model
            .buffers()
            .iter()
            .map(|(n, v)| (n.clone(), v.as_tensor().clone()))
            .collect();
        (logits, grads, buffers)
    };
    let (lc, gc, bc) = run(&Device::Cpu);
    let (lg, gg, bg) = run(&dev);
    // 20 layers of f32 rounding differences (and the odd ReLU gate flipped by them).
    assert_close("logits", &lg, &lc, 1e-3);
    for ((name, a), (_, b)) in gg.iter().zip(&gc) {
        assert_close(&format!("grad {name}"), a, b, 1e-2);
    }
    for ((name, a), (_, b)) in bg.iter().zip(&bc) {
        assert_close(&format!("buffer {name}"), a, b, 1e-4);
    }
}
