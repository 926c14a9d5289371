//! BatchNorm (train and eval, fused ReLU), ReLU/ReLU6 and pooling kernels against Candle's
//! built-in ops (forward, backward through autograd, running statistics) and finite differences.

mod common;

use adamp_models::layers::{self, BatchNorm2d};
use adamp_models::{ops, LayerImpl, ParamBuilder};
use candle_core::{Device, Tensor, Var};
use common::tensor;

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

fn bn(imp: LayerImpl, c: usize) -> (BatchNorm2d, adamp_optim::ParamList, Vec<(String, Var)>) {
    let b = ParamBuilder::new(0, &Device::Cpu, imp);
    let layer = BatchNorm2d::new(&b.pp("bn"), c).unwrap();
    let (p, bufs) = b.finish().unwrap();
    // Non-trivial gain (2..6, so ReLU6 saturates) and bias.
    p.get("bn.weight")
        .unwrap()
        .var
        .set(&tensor(&[c], 5).affine(2.0, 4.0).unwrap())
        .unwrap();
    p.get("bn.bias").unwrap().var.set(&tensor(&[c], 6)).unwrap();
    (layer, p, bufs)
}

#[test]
fn batch_norm_matches_candle_in_train_and_eval_with_and_without_relu() {
    use adamp_models::ops::FusedActivation::{Identity, Relu, Relu6};
    // (shape, activation): odd sizes, 1x1 maps, 2-D input, a channel with a large mean.
    let cases: &[(&[usize], _)] = &[
        (&[4, 3, 5, 7], Identity),
        (&[4, 3, 5, 7], Relu),
        (&[3, 64, 2, 2], Relu),
        (&[5, 8, 1, 1], Identity),
        (&[2, 6, 9, 3], Relu6),
        (&[3, 9, 4, 5], Relu6),
        (&[7, 5], Identity),
    ];
    for (i, &(shape, act)) in cases.iter().enumerate() {
        let c = shape[1];
        let (fast, pf, bf) = bn(LayerImpl::Fast, c);
        let (slow, ps, bs) = bn(LayerImpl::Candle, c);
        let x = Var::from_tensor(&tensor(shape, 10 + i as u64).affine(3.0, 2.0).unwrap()).unwrap();
        let r = tensor(shape, 20 + i as u64);
        for train in [true, false] {
            let (yf, ys) = (
                fast.forward_act_t(&x, train, act).unwrap(),
                slow.forward_act_t(&x, train, act).unwrap(),
            );
            assert!(max_rel(&yf, &ys) < 1e-5, "case {i} train={train}: forward");
            let gf = (yf * &r).unwrap().sum_all().unwrap().backward().unwrap();
            let gs = (ys * &r).unwrap().sum_all().unwrap().backward().unwrap();
            let e = max_rel(gf.get(&x).unwrap(), gs.get(&x).unwrap());
            assert!(
                e < 1e-4,
                "case {i} train={train}: input grad differs by {e}"
            );
            for name in ["bn.weight", "bn.bias"] {
                let e = max_rel(
                    gf.get(&pf.get(name).unwrap().var).unwrap(),
                    gs.get(&ps.get(name).unwrap().var).unwrap(),
                );
                assert!(
                    e < 1e-4,
                    "case {i} train={train}: {name} grad differs by {e}"
                );
            }
        }
        for ((n, a), (_, b)) in bf.iter().zip(&bs) {
            assert!(max_rel(a, b) < 1e-5, "case {i}: {n}");
        }
    }
}

#[test]
fn batch_norm_running_statistics_follow_torch() {
    // torch: running_mean = 0.9 * 0 + 0.1 * mean; running_var = 0.9 * 1 + 0.1 * unbiased var.
    let (layer, _, bufs) = bn(LayerImpl::Fast, 1);
    let x = Tensor::from_vec(vec![1f32, 2.0, 3.0, 6.0], (2, 1, 1, 2), &Device::Cpu).unwrap();
    let y = layer.forward_t(&x, true).unwrap();
    let rm = bufs[0].1.to_vec1::<f32>().unwrap()[0];
    let rv = bufs[1].1.to_vec1::<f32>().unwrap()[0];
    assert_eq!(bufs[0].0, "bn.running_mean");
    assert!((rm - 0.3).abs() < 1e-6, "{rm}");
    // mean 3, biased var 3.5, unbiased 14/3
    assert!((rv - (0.9 + 0.1 * 14.0 / 3.0)).abs() < 1e-6, "{rv}");
    // Output normalised with the biased variance.
    let yv = y.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let g = layer_gain(&layer);
    let expect = (1.0 - 3.0) / (3.5f32 + 1e-5).sqrt() * g.0 + g.1;
    assert!((yv[0] - expect).abs() < 1e-5, "{} vs {expect}", yv[0]);
}

fn layer_gain(_: &BatchNorm2d) -> (f32, f32) {
    // bn() sets gain = 2 * values(1, 5) + 4 and bias = values(1, 6).
    (common::values(1, 5)[0] * 2.0 + 4.0, common::values(1, 6)[0])
}

#[test]
fn batch_norm_input_gradient_matches_finite_differences() {
    let shape = [3usize, 2, 2, 3];
    let c = shape[1];
    let (layer, _, _) = bn(LayerImpl::Fast, c);
    let xv = common::values(36, 3);
    let r = tensor(&shape, 4);
    let loss = |xv: &[f32]| -> f64 {
        let x = Tensor::from_vec(xv.to_vec(), &shape, &Device::Cpu).unwrap();
        let y = layer.forward_t(&x, true).unwrap();
        let a = y.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let b = r.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        a.iter()
            .zip(&b)
            .map(|(a, b)| f64::from(*a) * f64::from(*b))
            .sum()
    };
    let x = Var::from_tensor(&Tensor::from_vec(xv.clone(), &shape, &Device::Cpu).unwrap()).unwrap();
    let g = (layer.forward_t(&x, true).unwrap() * &r)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    let gx = g
        .get(&x)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    for j in 0..xv.len() {
        let (mut a, mut b) = (xv.clone(), xv.clone());
        a[j] += 1e-2;
        b[j] -= 1e-2;
        let fd = (loss(&a) - loss(&b)) / 2e-2;
        assert!(
            (fd - f64::from(gx[j])).abs() < 2e-2 * (1.0 + fd.abs()),
            "dL/dx[{j}] = {} vs fd {fd}",
            gx[j]
        );
    }
}

#[test]
fn relu_relu6_and_pools_match_candle() {
    let x = Var::from_tensor(&(tensor(&[3, 4, 7, 6], 1) * 8.0).unwrap()).unwrap();
    let r = tensor(&[3, 4, 7, 6], 2);
    for (ours, reference) in [
        (ops::relu(&x).unwrap(), x.relu().unwrap()),
        (ops::relu6(&x).unwrap(), x.clamp(0f32, 6f32).unwrap()),
    ] {
        assert!(max_rel(&ours, &reference) < 1e-6);
        let go = (ours * &r).unwrap().sum_all().unwrap().backward().unwrap();
        let gr = (reference * &r)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        assert!(max_rel(go.get(&x).unwrap(), gr.get(&x).unwrap()) < 1e-6);
    }
    // Fused residual add + ReLU against Candle's add then relu.
    let b = Var::from_tensor(&(tensor(&[3, 4, 7, 6], 7) * 8.0).unwrap()).unwrap();
    let ours = ops::add_relu(&x, &b).unwrap();
    let reference = (x.as_tensor() + b.as_tensor()).unwrap().relu().unwrap();
    assert!(max_rel(&ours, &reference) < 1e-6);
    let go = (ours * &r).unwrap().sum_all().unwrap().backward().unwrap();
    let gr = (reference * &r)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    assert!(max_rel(go.get(&x).unwrap(), gr.get(&x).unwrap()) < 1e-6);
    assert!(max_rel(go.get(&b).unwrap(), gr.get(&b).unwrap()) < 1e-6);
    assert!(layers::add_relu("blk", &x, &pos_like(), LayerImpl::Fast)
        .unwrap_err()
        .to_string()
        .contains("blk"));

    let gap = ops::global_avg_pool(&x).unwrap();
    let reference = x.mean((2, 3)).unwrap();
    assert!(max_rel(&gap, &reference) < 1e-6);
    let rg = tensor(&[3, 4], 3);
    let go = (gap * &rg).unwrap().sum_all().unwrap().backward().unwrap();
    let gr = (reference * &rg)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    assert!(max_rel(go.get(&x).unwrap(), gr.get(&x).unwrap()) < 1e-6);
    // Max pool 3x3/2 pad 1 on non-negative inputs (after ReLU, as in the models): our kernel vs the
    // Candle-op path (distinct values, so no ties).
    let pos = Var::from_tensor(&(tensor(&[2, 3, 7, 6], 4) + 1.5).unwrap()).unwrap();
    for (k, s, p) in [(3, 2, 1), (2, 2, 0), (3, 1, 1), (3, 2, 0)] {
        let ours = layers::max_pool2d("pool", &pos, k, s, p, LayerImpl::Fast).unwrap();
        let reference = layers::max_pool2d("pool", &pos, k, s, p, LayerImpl::Candle).unwrap();
        assert_eq!(ours.dims(), reference.dims());
        assert!(max_rel(&ours, &reference) < 1e-6, "maxpool {k}/{s}/{p}");
        let rr = tensor(ours.dims(), 5);
        let go = (ours * &rr).unwrap().sum_all().unwrap().backward().unwrap();
        let gr = (reference * &rr)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        assert!(
            max_rel(go.get(&pos).unwrap(), gr.get(&pos).unwrap()) < 1e-6,
            "maxpool {k}/{s}/{p} grad"
        );
    }
    assert!(layers::max_pool2d("pool", &pos, 9, 2, 0, LayerImpl::Fast)
        .unwrap_err()
        .to_string()
        .contains("pool"));
}

fn pos_like() -> Tensor {
    tensor(&[3, 4, 7, 5], 8)
}
