//! `nn.LayerNorm(d)` over the last dimension (eps 1e-5), initialised as
//! kimiyoung/transformer-xl `pytorch/train.py` `weights_init`: weight `N(1, init_std)`, bias 0.

use adamp_optim::{ParamKind, ParamMeta};
use candle_core::{Tensor, D};

use crate::builder::ParamBuilder;
use crate::error::Result;
use crate::init::Init;
use crate::lm::fused::scale_shift;

const EPS: f64 = 1e-5;

/// Layer normalisation with `<path>.weight` and `<path>.bias`.
#[derive(Debug, Clone)]
pub(crate) struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
}

/// A sampler for `N(mean, std)`: the crate's zero-mean normal shifted by `mean`.
pub(crate) fn normal_with_mean(
    b: &ParamBuilder,
    name: &str,
    n: usize,
    mean: f64,
    std: f64,
) -> Vec<f32> {
    Init::Normal { std }
        .sample(b.seed(), &b.path(name), n)
        .into_iter()
        .map(|v| v + mean as f32)
        .collect()
}

impl LayerNorm {
    pub(crate) fn new(b: &ParamBuilder, d: usize, init_std: f64) -> Result<Self> {
        let weight = b.param(
            "weight",
            &[d],
            Init::Const(1.0),
            ParamMeta::new(ParamKind::NormGain),
        )?;
        let values = normal_with_mean(b, "weight", d, 1.0, init_std);
        weight.set(&Tensor::from_vec(values, d, weight.device())?)?;
        let bias = b.param(
            "bias",
            &[d],
            Init::Const(0.0),
            ParamMeta::new(ParamKind::Bias),
        )?;
        Ok(Self {
            weight: weight.as_tensor().clone(),
            bias: bias.as_tensor().clone(),
        })
    }

    /// Normalise each row of `x` (`[N, d]`).
    pub(crate) fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mean = x.mean_keepdim(D::Minus1)?;
        let xc = x.broadcast_sub(&mean)?;
        let var = xc.sqr()?.mean_keepdim(D::Minus1)?;
        let inv = (var + EPS)?.sqrt()?.recip()?;
        scale_shift(&xc.broadcast_mul(&inv)?, &self.weight, &self.bias)
    }
}
