//! `Linear` (torch `nn.Linear`): `y = x W^T + b`, weight `[out, in]`.

use adamp_optim::{ParamKind, ParamMeta};
use candle_core::Tensor;

use crate::builder::ParamBuilder;
use crate::error::{shape_err, Result};
use crate::init::Init;

/// A fully connected layer with `<path>.weight` and `<path>.bias`.
#[derive(Debug, Clone)]
pub struct Linear {
    path: String,
    weight: Tensor,
    bias: Option<Tensor>,
    in_features: usize,
}

impl Linear {
    /// Register `<prefix>.weight` with `weight_init` and `<prefix>.bias` with `bias_init`
    /// (`None`: no bias). Use [`Linear::torch_default`] for PyTorch's default initialisation.
    pub fn new(
        b: &ParamBuilder,
        in_features: usize,
        out_features: usize,
        weight_init: Init,
        bias_init: Option<Init>,
        followed_by_norm: bool,
    ) -> Result<Self> {
        let meta = ParamMeta {
            kind: ParamKind::Linear,
            followed_by_norm,
        };
        let weight = b.param("weight", &[out_features, in_features], weight_init, meta)?;
        let bias = match bias_init {
            Some(init) => Some(
                b.param(
                    "bias",
                    &[out_features],
                    init,
                    ParamMeta::new(ParamKind::Bias),
                )?
                .as_tensor()
                .clone(),
            ),
            None => None,
        };
        Ok(Self {
            path: b.prefix().to_string(),
            weight: weight.as_tensor().clone(),
            bias,
            in_features,
        })
    }

    /// `nn.Linear`'s default init: weight and bias `U(-1/sqrt(in), 1/sqrt(in))`.
    pub fn torch_default(
        b: &ParamBuilder,
        in_features: usize,
        out_features: usize,
    ) -> Result<Self> {
        let init = Init::torch_default(in_features);
        Self::new(b, in_features, out_features, init, Some(init), false)
    }

    /// Apply to `x` of shape `[N, in]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let d = x.dims();
        if d.len() != 2 || d[1] != self.in_features {
            return Err(shape_err(
                &self.path,
                "input shape",
                format!("[N, {}]", self.in_features),
                format!("{d:?}"),
            ));
        }
        let y = x.matmul(&self.weight.t()?)?;
        Ok(match &self.bias {
            Some(b) => y.broadcast_add(b)?,
            None => y,
        })
    }
}
