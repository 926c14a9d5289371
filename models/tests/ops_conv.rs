//! The CPU convolution kernels against Candle's built-in `conv2d` (forward, and backward through
//! Candle's autograd) and against finite differences, on odd shapes.

mod common;

use adamp_models::ops;
use candle_core::{Tensor, Var};
use common::tensor;

/// (n, c_in, h, w, c_out, k, stride, padding, dilation, groups)
type Case = (
    usize,
    usize,
    usize,
    usize,
    usize,
    usize,
    usize,
    usize,
    usize,
    usize,
);

const CASES: &[Case] = &[
    (2, 3, 7, 5, 4, 3, 1, 1, 1, 1),  // non-square, same padding
    (3, 4, 9, 9, 6, 3, 2, 1, 1, 1),  // stride 2
    (1, 3, 8, 8, 5, 1, 1, 0, 1, 1),  // 1x1 pointwise, batch 1
    (5, 6, 3, 2, 7, 1, 1, 0, 1, 1),  // 1x1 on a tiny map: several images per GEMM chunk
    (4, 8, 1, 1, 16, 1, 1, 0, 1, 1), // 1x1 spatial (MobileNetV2 at 32x32)
    (2, 4, 6, 6, 4, 1, 2, 0, 1, 1),  // strided 1x1 (downsample)
    (2, 3, 11, 9, 4, 7, 2, 3, 1, 1), // 7x7/2 stem (Candle's own backward needs equal remainders on both axes)
    (2, 2, 9, 9, 3, 3, 1, 2, 2, 1),  // dilation 2
    (2, 4, 6, 5, 6, 3, 1, 1, 1, 2),  // groups 2, same padding (input gradient as a transposed conv)
    (2, 3, 7, 6, 4, 5, 1, 2, 1, 1),  // 5x5 same padding, non-square
    (2, 4, 5, 7, 6, 3, 1, 0, 1, 2),  // groups 2, no padding
    (3, 6, 8, 8, 6, 3, 1, 1, 1, 6),  // depthwise
    (2, 5, 7, 5, 5, 3, 2, 1, 1, 5),  // depthwise, stride 2, odd size
    (2, 4, 6, 5, 4, 5, 1, 2, 2, 4),  // depthwise 5x5, dilation 2
    (1, 2, 4, 4, 3, 3, 1, 0, 1, 1),  // output 2x2, no padding
    (9, 3, 2, 3, 2, 2, 1, 1, 1, 1),  // even kernel with padding
];

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

#[test]
fn conv2d_matches_candle_forward_and_backward() {
    for (i, &(n, ci, h, w, co, k, s, p, d, g)) in CASES.iter().enumerate() {
        let x = Var::from_tensor(&tensor(&[n, ci, h, w], i as u64)).unwrap();
        let wt = Var::from_tensor(&tensor(&[co, ci / g, k, k], 100 + i as u64)).unwrap();
        let ours = ops::conv2d(&x, &wt, s, p, d, g).unwrap();
        let reference = x.conv2d(&wt, p, s, d, g).unwrap();
        assert_eq!(ours.dims(), reference.dims(), "case {i}");
        assert!(
            max_rel(&ours, &reference) < 1e-5,
            "case {i}: forward differs"
        );
        let r = tensor(ours.dims(), 200 + i as u64);
        let go = (ours * &r).unwrap().sum_all().unwrap().backward().unwrap();
        let gr = (reference * &r)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let e = max_rel(go.get(&x).unwrap(), gr.get(&x).unwrap());
        assert!(e < 1e-5, "case {i}: input gradient differs by {e}");
        let e = max_rel(go.get(&wt).unwrap(), gr.get(&wt).unwrap());
        assert!(e < 1e-5, "case {i}: weight gradient differs by {e}");
    }
}

#[test]
fn conv2d_gradients_match_finite_differences() {
    // L = sum(conv(x, w) * r) is linear in x and in w, so central differences are exact up to
    // rounding: check every element of small cases.
    for (i, &(n, ci, h, w, co, k, s, p, d, g)) in CASES.iter().enumerate().take(11) {
        let xv = common::values(n * ci * h * w, i as u64);
        let wv = common::values(co * (ci / g) * k * k, 100 + i as u64);
        let x = Var::from_tensor(
            &Tensor::from_vec(xv.clone(), (n, ci, h, w), &candle_core::Device::Cpu).unwrap(),
        )
        .unwrap();
        let wt = Var::from_tensor(
            &Tensor::from_vec(wv.clone(), (co, ci / g, k, k), &candle_core::Device::Cpu).unwrap(),
        )
        .unwrap();
        let y = ops::conv2d(&x, &wt, s, p, d, g).unwrap();
        let r = tensor(y.dims(), 300 + i as u64);
        let grads = (&y * &r).unwrap().sum_all().unwrap().backward().unwrap();
        let loss = |xv: &[f32], wv: &[f32]| -> f64 {
            let x =
                Tensor::from_vec(xv.to_vec(), (n, ci, h, w), &candle_core::Device::Cpu).unwrap();
            let wt = Tensor::from_vec(wv.to_vec(), (co, ci / g, k, k), &candle_core::Device::Cpu)
                .unwrap();
            let y = ops::conv2d(&x, &wt, s, p, d, g).unwrap();
            let a = y.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            let b = r.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            a.iter()
                .zip(&b)
                .map(|(a, b)| f64::from(*a) * f64::from(*b))
                .sum()
        };
        let eps = 0.5f32;
        let gx = grads
            .get(&x)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        for j in 0..xv.len() {
            let (mut a, mut b) = (xv.clone(), xv.clone());
            a[j] += eps;
            b[j] -= eps;
            let fd = (loss(&a, &wv) - loss(&b, &wv)) / (2.0 * f64::from(eps));
            assert!(
                (fd - f64::from(gx[j])).abs() < 1e-3 * (1.0 + fd.abs()),
                "case {i}: dL/dx[{j}] = {} vs fd {fd}",
                gx[j]
            );
        }
        let gw = grads
            .get(&wt)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        for j in 0..wv.len() {
            let (mut a, mut b) = (wv.clone(), wv.clone());
            a[j] += eps;
            b[j] -= eps;
            let fd = (loss(&xv, &a) - loss(&xv, &b)) / (2.0 * f64::from(eps));
            assert!(
                (fd - f64::from(gw[j])).abs() < 1e-3 * (1.0 + fd.abs()),
                "case {i}: dL/dw[{j}] = {} vs fd {fd}",
                gw[j]
            );
        }
    }
}

#[test]
fn conv2d_rejects_bad_shapes_without_panicking() {
    let x = tensor(&[1, 3, 2, 2], 0);
    assert!(ops::conv2d(&x, &tensor(&[4, 3, 3, 3], 1), 1, 0, 1, 1).is_err()); // kernel larger than input
    assert!(ops::conv2d(&x, &tensor(&[4, 2, 1, 1], 1), 1, 0, 1, 1).is_err()); // channel mismatch
    assert!(ops::conv2d(&x, &tensor(&[4, 3, 1, 1], 1), 0, 0, 1, 1).is_err()); // stride 0
    assert!(ops::conv2d(
        &tensor(&[3, 2, 2], 0),
        &tensor(&[4, 3, 1, 1], 1),
        1,
        0,
        1,
        1
    )
    .is_err());
}
