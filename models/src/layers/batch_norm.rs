//! `BatchNorm2d` (torch `nn.BatchNorm2d`: eps 1e-5, momentum 0.1 by default). Gain and bias are
//! parameters (`<path>.weight`, `<path>.bias`); `<path>.running_mean` and `<path>.running_var`
//! are buffers. Training mode normalises with the biased batch variance and updates the running
//! variance with the unbiased one, exactly as torch does.

use adamp_optim::{ParamKind, ParamMeta};
use candle_core::{Tensor, Var};

use super::{use_cuda, use_fast};
use crate::builder::{LayerImpl, ParamBuilder};
use crate::error::{shape_err, Result};
use crate::init::Init;
use crate::ops;
use crate::ops::FusedActivation;

/// A 2-D batch normalisation layer (also accepts `[N, C]` inputs, like `BatchNorm1d`).
#[derive(Debug, Clone)]
pub struct BatchNorm2d {
    path: String,
    weight: Tensor,
    bias: Tensor,
    running_mean: Var,
    running_var: Var,
    channels: usize,
    eps: f64,
    momentum: f64,
    imp: LayerImpl,
}

impl BatchNorm2d {
    /// A layer with torch's defaults (eps 1e-5, momentum 0.1, gain 1, bias 0).
    pub fn new(b: &ParamBuilder, channels: usize) -> Result<Self> {
        Self::with_momentum(b, channels, 0.1)
    }

    /// A layer with a given running-average momentum (BagNet's stem uses 0.001).
    pub fn with_momentum(b: &ParamBuilder, channels: usize, momentum: f64) -> Result<Self> {
        let weight = b.param(
            "weight",
            &[channels],
            Init::Const(1.0),
            ParamMeta::new(ParamKind::NormGain),
        )?;
        let bias = b.param(
            "bias",
            &[channels],
            Init::Const(0.0),
            ParamMeta::new(ParamKind::Bias),
        )?;
        Ok(Self {
            path: b.prefix().to_string(),
            weight: weight.as_tensor().clone(),
            bias: bias.as_tensor().clone(),
            running_mean: b.buffer("running_mean", &[channels], 0.0)?,
            running_var: b.buffer("running_var", &[channels], 1.0)?,
            channels,
            eps: 1e-5,
            momentum,
            imp: b.layer_impl(),
        })
    }

    /// Normalise `x`; in training mode, with batch statistics (and update the running ones).
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        self.forward_act_t(x, train, FusedActivation::Identity)
    }

    /// `relu(bn(x))`, fused into one kernel on the fast CPU path.
    pub fn forward_relu_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        self.forward_act_t(x, train, FusedActivation::Relu)
    }

    /// `act(bn(x))`, fused into one kernel on the fast CPU path (MobileNetV2 uses ReLU6).
    pub fn forward_act_t(&self, x: &Tensor, train: bool, act: FusedActivation) -> Result<Tensor> {
        let dims = x.dims();
        let (c, per_channel) = match *dims {
            [n, c, h, w] => (c, n * h * w),
            [n, c] => (c, n),
            _ => {
                return Err(shape_err(
                    &self.path,
                    "input rank",
                    "[N, C, H, W] or [N, C]",
                    format!("{dims:?}"),
                ))
            }
        };
        if c != self.channels {
            return Err(shape_err(
                &self.path,
                "input channels",
                self.channels,
                format!("{c} (input shape {dims:?})"),
            ));
        }
        let bshape: Vec<usize> = if dims.len() == 4 {
            vec![1, c, 1, 1]
        } else {
            vec![1, c]
        };
        if !train {
            // y = x * g / sqrt(rv + eps) + (b - rm * g / sqrt(rv + eps))
            let invstd = (self.running_var.as_tensor() + self.eps)?.sqrt()?.recip()?;
            let scale = (&self.weight * &invstd)?;
            let shift = (&self.bias - (self.running_mean.as_tensor() * &scale)?)?;
            let y = x
                .broadcast_mul(&scale.reshape(bshape.as_slice())?)?
                .broadcast_add(&shift.reshape(bshape.as_slice())?)?;
            return self.activate(y, act);
        }
        if per_channel < 2 {
            return Err(shape_err(
                &self.path,
                "values per channel in training mode (batch size x height x width)",
                "more than 1",
                format!("{per_channel} (input shape {dims:?})"),
            ));
        }
        let (y, mean, var) = if use_fast(self.imp, x) {
            let (y, st) = ops::batch_norm_train(x, &self.weight, &self.bias, self.eps, act)?;
            let dev = x.device();
            (
                y,
                Tensor::from_vec(st.mean, c, dev)?,
                Tensor::from_vec(st.var, c, dev)?,
            )
        } else if use_cuda(self.imp, x) {
            ops::cuda::batch_norm_train(x, &self.weight, &self.bias, self.eps, act)?
        } else {
            let axes: &[usize] = if dims.len() == 4 { &[0, 2, 3] } else { &[0] };
            let mean = x.mean_keepdim(axes)?;
            let centred = x.broadcast_sub(&mean)?;
            let var = centred.sqr()?.mean_keepdim(axes)?;
            let xhat = centred.broadcast_div(&(var.clone() + self.eps)?.sqrt()?)?;
            let y = xhat
                .broadcast_mul(&self.weight.reshape(bshape.as_slice())?)?
                .broadcast_add(&self.bias.reshape(bshape.as_slice())?)?;
            let y = self.activate(y, act)?;
            (y, mean.flatten_all()?.detach(), var.flatten_all()?.detach())
        };
        let m = self.momentum;
        let unbias = per_channel as f64 / (per_channel as f64 - 1.0);
        let rm = ((self.running_mean.as_tensor() * (1.0 - m))? + (mean * m)?)?;
        let rv = ((self.running_var.as_tensor() * (1.0 - m))? + (var * (m * unbias))?)?;
        self.running_mean.set(&rm.detach())?;
        self.running_var.set(&rv.detach())?;
        Ok(y)
    }

    fn activate(&self, y: Tensor, act: FusedActivation) -> Result<Tensor> {
        match act {
            FusedActivation::Identity => Ok(y),
            FusedActivation::Relu => super::relu(&y, self.imp),
            FusedActivation::Relu6 => super::relu6(&y, self.imp),
        }
    }
}
