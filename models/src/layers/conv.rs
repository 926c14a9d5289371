//! `Conv2d` (torch `nn.Conv2d` with square kernel/stride/padding/dilation, optional bias).

use adamp_optim::{ParamKind, ParamMeta};
use candle_core::Tensor;

use super::{dims4, use_cuda, use_fast};
use crate::builder::{LayerImpl, ParamBuilder};
use crate::error::{shape_err, Result};
use crate::init::Init;
use crate::ops;
use crate::ops::conv2d::conv_out_len;

/// Hyper-parameters of a [`Conv2d`] besides the channel counts and kernel size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dConfig {
    /// Stride (both axes).
    pub stride: usize,
    /// Zero padding (both axes, both sides).
    pub padding: usize,
    /// Dilation.
    pub dilation: usize,
    /// Channel groups (`in_channels` for depthwise).
    pub groups: usize,
    /// Whether the layer has a bias.
    pub bias: bool,
}

impl Default for Conv2dConfig {
    fn default() -> Self {
        Self {
            stride: 1,
            padding: 0,
            dilation: 1,
            groups: 1,
            bias: false,
        }
    }
}

impl Conv2dConfig {
    /// Stride `s`, padding `p`, no bias.
    pub fn sp(stride: usize, padding: usize) -> Self {
        Self {
            stride,
            padding,
            ..Self::default()
        }
    }
}

/// A 2-D convolution with weight `<path>.weight` `[out, in/groups, k, k]` and optional
/// `<path>.bias`.
#[derive(Debug, Clone)]
pub struct Conv2d {
    path: String,
    weight: Tensor,
    bias: Option<Tensor>,
    in_channels: usize,
    out_channels: usize,
    kernel: usize,
    cfg: Conv2dConfig,
    imp: LayerImpl,
}

impl Conv2d {
    /// Register `<prefix>.weight` (initialised by `init`, metadata `conv`, `followed_by_norm` as
    /// given) and, if `cfg.bias`, `<prefix>.bias` (torch's default uniform init).
    pub fn new(
        b: &ParamBuilder,
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
        cfg: Conv2dConfig,
        init: Init,
        followed_by_norm: bool,
    ) -> Result<Self> {
        let fan_in = in_channels / cfg.groups.max(1) * kernel * kernel;
        Self::with_bias_init(
            b,
            (in_channels, out_channels, kernel),
            cfg,
            init,
            Init::torch_default(fan_in),
            followed_by_norm,
        )
    }

    /// [`Conv2d::new`] with `(in_channels, out_channels, kernel)` and the bias (if `cfg.bias`)
    /// initialised by `bias_init` (detection heads: zero, or CenterNet's -2.19 heatmap prior).
    pub fn with_bias_init(
        b: &ParamBuilder,
        (in_channels, out_channels, kernel): (usize, usize, usize),
        cfg: Conv2dConfig,
        init: Init,
        bias_init: Init,
        followed_by_norm: bool,
    ) -> Result<Self> {
        let path = b.prefix().to_string();
        if cfg.groups == 0
            || !in_channels.is_multiple_of(cfg.groups)
            || !out_channels.is_multiple_of(cfg.groups)
        {
            return Err(crate::ModelError::Config(format!(
                "layer `{path}`: groups={} must divide in_channels={in_channels} and out_channels={out_channels}",
                cfg.groups
            )));
        }
        if kernel == 0 || cfg.stride == 0 || cfg.dilation == 0 {
            return Err(crate::ModelError::Config(format!(
                "layer `{path}`: kernel, stride and dilation must be >= 1"
            )));
        }
        let shape = [out_channels, in_channels / cfg.groups, kernel, kernel];
        let meta = ParamMeta {
            kind: ParamKind::Conv,
            followed_by_norm,
        };
        let weight = b.param("weight", &shape, init, meta)?.as_tensor().clone();
        let bias = if cfg.bias {
            let v = b.param(
                "bias",
                &[out_channels],
                bias_init,
                ParamMeta::new(ParamKind::Bias),
            )?;
            Some(v.as_tensor().clone())
        } else {
            None
        };
        Ok(Self {
            path,
            weight,
            bias,
            in_channels,
            out_channels,
            kernel,
            cfg,
            imp: b.layer_impl(),
        })
    }

    /// Output spatial size for an `h x w` input, or `None` if the input is too small.
    pub fn out_hw(&self, h: usize, w: usize) -> Option<(usize, usize)> {
        let c = &self.cfg;
        Some((
            conv_out_len(h, self.kernel, c.stride, c.padding, c.dilation)?,
            conv_out_len(w, self.kernel, c.stride, c.padding, c.dilation)?,
        ))
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.out_channels
    }

    /// The weight tensor.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// Apply the convolution; errors name the layer and both shapes on a wrong input.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (_, c, h, w) = dims4(&self.path, x)?;
        if c != self.in_channels {
            return Err(shape_err(
                &self.path,
                "input channels",
                self.in_channels,
                format!("{c} (input shape {:?})", x.dims()),
            ));
        }
        if self.out_hw(h, w).is_none() {
            let span = self.cfg.dilation * (self.kernel - 1) + 1;
            return Err(shape_err(
                &self.path,
                "input height/width",
                format!(
                    "at least {} (kernel {k}x{k}, padding {})",
                    span.saturating_sub(2 * self.cfg.padding).max(1),
                    self.cfg.padding,
                    k = self.kernel
                ),
                format!("{h}x{w} (input shape {:?})", x.dims()),
            ));
        }
        let c = &self.cfg;
        let y = if use_fast(self.imp, x) {
            ops::conv2d(x, &self.weight, c.stride, c.padding, c.dilation, c.groups)?
        } else if use_cuda(self.imp, x) {
            ops::cuda::conv2d(x, &self.weight, c.stride, c.padding, c.dilation, c.groups)?
        } else {
            x.conv2d(&self.weight, c.padding, c.stride, c.dilation, c.groups)?
        };
        Ok(match &self.bias {
            Some(b) => y.broadcast_add(&b.reshape((1, self.out_channels, 1, 1))?)?,
            None => y,
        })
    }
}
