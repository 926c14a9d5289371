//! The gradient accumulation of the vendored, patched candle-core (`vendor/candle-core/PATCHES.md`):
//! a tensor's first gradient contribution is stored as is instead of being added to zeros, and
//! later contributions are still summed.

use candle_core::{DType, Device, Tensor, Var};

fn var(values: &[f32]) -> Var {
    Var::from_tensor(&Tensor::new(values, &Device::Cpu).unwrap()).unwrap()
}

fn grad_of(loss: &Tensor, v: &Var) -> Vec<f32> {
    let grads = loss.backward().unwrap();
    let g = grads.get(v.as_tensor()).expect("gradient present");
    assert!(g.is_contiguous(), "stored gradients are contiguous");
    g.to_vec1().unwrap()
}

#[test]
fn contributions_from_several_uses_are_summed() {
    let x = var(&[1.0, -2.0, 3.0]);
    // d/dx (2x + 3x + x*x) = 5 + 2x.
    let t = x.as_tensor();
    let loss = ((t * 2.0).unwrap() + (t * 3.0).unwrap() + t.sqr().unwrap())
        .unwrap()
        .sum_all()
        .unwrap();
    assert_eq!(grad_of(&loss, &x), vec![7.0, 1.0, 11.0]);
}

#[test]
fn a_subtracted_operand_gets_the_negated_gradient() {
    let (a, b) = (var(&[1.0, 2.0]), var(&[0.5, 4.0]));
    let loss = (a.as_tensor() - (b.as_tensor() * 3.0).unwrap())
        .unwrap()
        .sum_all()
        .unwrap();
    let grads = loss.backward().unwrap();
    let ga: Vec<f32> = grads.get(a.as_tensor()).unwrap().to_vec1().unwrap();
    let gb: Vec<f32> = grads.get(b.as_tensor()).unwrap().to_vec1().unwrap();
    assert_eq!(ga, vec![1.0, 1.0]);
    assert_eq!(gb, vec![-3.0, -3.0]);
}

#[test]
fn a_broadcast_operand_gets_a_summed_contiguous_gradient() {
    let b = Var::from_tensor(&Tensor::new(&[[1f32, 2.0, 3.0]], &Device::Cpu).unwrap()).unwrap();
    let a = Tensor::ones((4, 3), DType::F32, &Device::Cpu).unwrap();
    let loss = a.broadcast_mul(b.as_tensor()).unwrap().sum_all().unwrap();
    let grads = loss.backward().unwrap();
    let g = grads.get(b.as_tensor()).unwrap();
    assert_eq!(g.dims(), &[1, 3]);
    assert!(g.is_contiguous());
    assert_eq!(g.to_vec2::<f32>().unwrap(), vec![vec![4.0, 4.0, 4.0]]);
}

/// Upstream computes `0 + g`, which turns a `-0.0` gradient into `+0.0`; the patched store keeps
/// the contribution itself. This fails if the vendored patch is dropped (re-measure the training
/// benchmark then: the zero fill and addition cost about 35 ms of a ResNet-20 step).
#[test]
fn the_first_contribution_is_stored_without_adding_it_to_zeros() {
    let x = var(&[1.0, 2.0]);
    let minus_zero = Tensor::new(&[-0.0f32, -0.0], &Device::Cpu).unwrap();
    let loss = x.as_tensor().mul(&minus_zero).unwrap().sum_all().unwrap();
    let g = grad_of(&loss, &x);
    assert!(
        g.iter().all(|v| *v == 0.0 && v.is_sign_negative()),
        "{g:?}: the gradient went through `zeros + g`"
    );
}
