//! Global gradient-norm clipping, `torch.nn.utils.clip_grad_norm_(model.parameters(), clip)` as
//! kimiyoung/transformer-xl `pytorch/train.py` calls it after every `loss.backward()`.
//!
//! torch (2.x, `foreach` off or on alike): `total_norm` is the 2-norm of all the parameters'
//! gradients taken together; `clip_coef = max_norm / (total_norm + 1e-6)`, clamped to at most 1,
//! multiplies every gradient. Multiplying by 1 changes nothing, so gradients are only rewritten
//! when `clip_coef < 1`. A non-finite total norm leaves the gradients as they are: the optimizer
//! then reports the non-finite gradient and the loop stops the run as diverged (torch would
//! multiply them by NaN or 0, a diverged run either way).

use adamp_optim::ParamList;
use adamp_task_api::Result;
use candle_core::backprop::GradStore;
use candle_core::{DType, Tensor};

/// torch's `1e-6` added to the norm.
const EPS: f64 = 1e-6;

/// The 2-norm of the gradients of `params` together (parameters without a gradient count as 0).
pub fn global_grad_norm(grads: &GradStore, params: &ParamList) -> Result<f64> {
    let mut squares = Vec::with_capacity(params.len());
    for p in params.params() {
        if let Some(g) = grads.get(p.var.as_tensor()) {
            squares.push(g.to_dtype(DType::F64)?.sqr()?.sum_all()?);
        }
    }
    if squares.is_empty() {
        return Ok(0.0);
    }
    let total = Tensor::stack(&squares, 0)?.sum_all()?.to_scalar::<f64>()?;
    Ok(total.sqrt())
}

/// Clips the gradients of `params` in `grads` to a global norm of at most `max_norm` (see the
/// module docs); `max_norm = 0` turns clipping off. Returns the norm before clipping.
pub fn clip_grad_norm(grads: &mut GradStore, params: &ParamList, max_norm: f64) -> Result<f64> {
    let total = global_grad_norm(grads, params)?;
    if max_norm <= 0.0 || !total.is_finite() {
        return Ok(total);
    }
    let coef = max_norm / (total + EPS);
    if coef < 1.0 {
        for p in params.params() {
            if let Some(g) = grads.remove(p.var.as_tensor()) {
                let scaled = g.affine(coef, 0.0)?;
                grads.insert(p.var.as_tensor(), scaled);
            }
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use adamp_optim::{Param, ParamKind, ParamMeta};
    use candle_core::{Device, Var};

    /// Two parameters and gradients of `loss = a·ga + b·gb` (so the gradients are `ga`, `gb`).
    fn setup(ga: &[f32], gb: &[f32]) -> (ParamList, GradStore, Vec<Var>) {
        let dev = Device::Cpu;
        let a = Var::zeros(ga.len(), DType::F32, &dev).unwrap();
        let b = Var::zeros(gb.len(), DType::F32, &dev).unwrap();
        let ta = Tensor::new(ga, &dev).unwrap();
        let tb = Tensor::new(gb, &dev).unwrap();
        let loss = ((a.as_tensor() * &ta).unwrap().sum_all().unwrap()
            + (b.as_tensor() * &tb).unwrap().sum_all().unwrap())
        .unwrap();
        let grads = loss.backward().unwrap();
        let params = ParamList::new(
            [("a", &a), ("b", &b)]
                .iter()
                .map(|(n, v)| Param {
                    name: n.to_string(),
                    var: (*v).clone(),
                    meta: ParamMeta::new(ParamKind::Linear),
                    group: 0,
                })
                .collect(),
        )
        .unwrap();
        (params, grads, vec![a, b])
    }

    fn grad(grads: &GradStore, v: &Var) -> Vec<f32> {
        grads.get(v.as_tensor()).unwrap().to_vec1().unwrap()
    }

    #[test]
    fn large_gradients_are_scaled_to_the_bound_together() {
        // Global norm sqrt(9 + 16 + 144) = 13.
        let (params, mut grads, vars) = setup(&[3.0, 4.0], &[12.0]);
        let before = clip_grad_norm(&mut grads, &params, 0.25).unwrap();
        assert!((before - 13.0).abs() < 1e-9);
        let after = global_grad_norm(&grads, &params).unwrap();
        assert!(after <= 0.25 && after > 0.25 - 1e-5, "{after}");
        // One factor for all: the direction is kept.
        let coef = 0.25 / (13.0 + 1e-6);
        let (ga, gb) = (grad(&grads, &vars[0]), grad(&grads, &vars[1]));
        for (g, want) in ga.iter().chain(&gb).zip([3.0, 4.0, 12.0]) {
            assert!((*g as f64 - want * coef).abs() < 1e-6, "{g}");
        }
    }

    #[test]
    fn small_gradients_and_a_zero_bound_are_left_alone() {
        let (params, mut grads, vars) = setup(&[0.03, 0.04], &[0.12]);
        let before = clip_grad_norm(&mut grads, &params, 0.25).unwrap();
        assert!((before - 0.13).abs() < 1e-7);
        assert_eq!(grad(&grads, &vars[0]), [0.03, 0.04]);
        assert_eq!(grad(&grads, &vars[1]), [0.12]);
        let (params, mut grads, vars) = setup(&[3.0, 4.0], &[12.0]);
        clip_grad_norm(&mut grads, &params, 0.0).unwrap();
        assert_eq!(grad(&grads, &vars[1]), [12.0]);
    }

    #[test]
    fn a_non_finite_norm_leaves_the_gradients_for_the_divergence_check() {
        let (params, mut grads, vars) = setup(&[f32::NAN, 1.0], &[2.0]);
        let before = clip_grad_norm(&mut grads, &params, 0.25).unwrap();
        assert!(before.is_nan());
        assert_eq!(grad(&grads, &vars[1]), [2.0]);
    }
}
