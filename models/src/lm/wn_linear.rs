//! A Linear layer of the decoder, optionally weight-normalised: `torch.nn.utils.weight_norm`
//! with `dim=0` (`w = g * v / ||v||`, the norm over each output row, `g` of shape `[out, 1]`),
//! computed in every forward pass so the gradients reach `g` and `v` exactly as torch's.

use adamp_optim::{ParamKind, ParamMeta};
use candle_core::{Tensor, D};

use crate::builder::ParamBuilder;
use crate::error::{shape_err, Result};
use crate::init::Init;
use crate::lm::fused::bias_add;

#[derive(Debug, Clone)]
enum LinearWeight {
    Plain(Tensor),
    Normalised { g: Tensor, v: Tensor },
}

/// `nn.Linear(in, out, bias)` with `<path>.weight` or `<path>.weight_g` / `<path>.weight_v`.
#[derive(Debug, Clone)]
pub(crate) struct WnLinear {
    path: String,
    weight: LinearWeight,
    bias: Option<Tensor>,
    in_features: usize,
}

impl WnLinear {
    /// Weight `N(0, init_std)` and bias 0 (train.py `weights_init`); with `weight_norm`, `v` takes
    /// that draw and `g = ||v||` per row (what `weight_norm` sets when it wraps a layer).
    pub(crate) fn new(
        b: &ParamBuilder,
        in_features: usize,
        out_features: usize,
        bias: bool,
        weight_norm: bool,
        init_std: f64,
    ) -> Result<Self> {
        let init = Init::Normal { std: init_std };
        let shape = [out_features, in_features];
        let weight = if weight_norm {
            let v = b.param(
                "weight_v",
                &shape,
                init,
                ParamMeta::scale_invariant(ParamKind::Linear),
            )?;
            let g = b.param(
                "weight_g",
                &[out_features, 1],
                Init::Const(1.0),
                ParamMeta::new(ParamKind::NormGain),
            )?;
            g.set(&row_norm(v.as_tensor())?)?;
            LinearWeight::Normalised {
                g: g.as_tensor().clone(),
                v: v.as_tensor().clone(),
            }
        } else {
            let w = b.param("weight", &shape, init, ParamMeta::new(ParamKind::Linear))?;
            LinearWeight::Plain(w.as_tensor().clone())
        };
        let bias = if bias {
            let t = b.param(
                "bias",
                &[out_features],
                Init::Const(0.0),
                ParamMeta::new(ParamKind::Bias),
            )?;
            Some(t.as_tensor().clone())
        } else {
            None
        };
        Ok(Self {
            path: b.prefix().to_string(),
            weight,
            bias,
            in_features,
        })
    }

    /// The effective weight `[out, in]`.
    pub(crate) fn weight(&self) -> Result<Tensor> {
        match &self.weight {
            LinearWeight::Plain(w) => Ok(w.clone()),
            LinearWeight::Normalised { g, v } => Ok(v.broadcast_mul(&(g / row_norm(v)?)?)?),
        }
    }

    /// `x W^T + b` for `x` of shape `[N, in]`.
    pub(crate) fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let d = x.dims();
        if d.len() != 2 || d[1] != self.in_features {
            return Err(shape_err(
                &self.path,
                "input shape",
                format!("[N, {}]", self.in_features),
                format!("{d:?}"),
            ));
        }
        let y = x.matmul(&self.weight()?.t()?)?;
        Ok(match &self.bias {
            Some(b) => bias_add(&y, b)?,
            None => y,
        })
    }
}

/// `||v||` over each row: `[out, in] -> [out, 1]` (torch `norm_except_dim(v, 2, 0)`).
fn row_norm(v: &Tensor) -> Result<Tensor> {
    Ok(v.sqr()?.sum_keepdim(D::Minus1)?.sqrt()?)
}
