//! Helpers shared by the toys: the single `[1, n]` weight and reading it back.

use adamp_optim::{Param, ParamKind, ParamList, ParamMeta};
use adamp_task_api::{ParamSet, Result, TaskError};
use candle_core::{DType, Device, Tensor, Var};

/// The toys' weight: a `[1, n]` f64 variable named `w`, marked scale-invariant (the loss only
/// depends on `w / ||w||`), so SGDP's channel view (one row) is the whole vector.
pub(crate) fn weight(values: &[f64], device: &Device) -> Result<Var> {
    let t = Tensor::from_slice(values, (1, values.len()), device)?;
    Ok(Var::from_tensor(&t.to_dtype(DType::F64)?)?)
}

/// The single parameter set `model` holding `w`.
pub(crate) fn param_set(w: &Var) -> ParamSet {
    let param = Param {
        name: "w".to_string(),
        var: w.clone(),
        meta: ParamMeta::scale_invariant(ParamKind::Linear),
        group: 0,
    };
    let params = ParamList::new(vec![param]).expect("one parameter with group 0 is a valid list");
    ParamSet {
        name: "model".to_string(),
        params,
    }
}

/// The weight's values as a flat vector.
pub(crate) fn values(w: &Var) -> Result<Vec<f64>> {
    Ok(w.as_tensor().flatten_all()?.to_vec1::<f64>()?)
}

/// Euclidean norm.
pub(crate) fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// Restore a single named scalar buffer.
pub(crate) fn scalar_buffer(buffers: &[(String, Tensor)], name: &str) -> Result<f64> {
    let (_, t) = buffers
        .iter()
        .find(|(n, _)| n == name)
        .ok_or_else(|| TaskError::State(format!("buffer `{name}` is missing")))?;
    t.to_dtype(DType::F64)?
        .flatten_all()?
        .to_vec1::<f64>()?
        .first()
        .copied()
        .ok_or_else(|| TaskError::State(format!("buffer `{name}` is empty")))
}

/// Check a setting is finite and positive.
pub(crate) fn positive(key: &str, value: f64) -> Result<()> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(TaskError::InvalidSetting {
            key: key.to_string(),
            expected: format!("expected a finite number > 0, got {value}"),
        })
    }
}
