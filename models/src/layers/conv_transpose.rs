//! `ConvTranspose2d` (torch `nn.ConvTranspose2d`, square kernel/stride/padding, no bias, one
//! group): weight `<path>.weight` `[in, out, k, k]`. Runs on Candle's `conv_transpose2d` under
//! both [`crate::LayerImpl`]s (its backward is Candle's, `candle-core/src/backprop.rs`); only
//! CenterNet's up-sampling uses it.

use adamp_optim::{ParamKind, ParamMeta};
use candle_core::{Tensor, Var};

use super::dims4;
use crate::builder::ParamBuilder;
use crate::error::{shape_err, Result};
use crate::init::Init;

/// A transposed 2-D convolution without bias.
#[derive(Debug, Clone)]
pub struct ConvTranspose2d {
    path: String,
    weight: Var,
    in_channels: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    output_padding: usize,
}

impl ConvTranspose2d {
    /// Register `<prefix>.weight` `[in, out, k, k]` (initialised by `init`, metadata `conv`,
    /// `followed_by_norm` as given). Torch's default init is
    /// `Init::torch_default(out_channels * kernel * kernel)` (its fan-in is `weight.size(1) * k * k`).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        b: &ParamBuilder,
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
        (stride, padding, output_padding): (usize, usize, usize),
        init: Init,
        followed_by_norm: bool,
    ) -> Result<Self> {
        let path = b.prefix().to_string();
        if kernel == 0 || stride == 0 || output_padding >= stride {
            return Err(crate::ModelError::Config(format!(
                "layer `{path}`: kernel and stride must be >= 1 and output_padding < stride"
            )));
        }
        let meta = ParamMeta {
            kind: ParamKind::Conv,
            followed_by_norm,
        };
        let shape = [in_channels, out_channels, kernel, kernel];
        let weight = b.param("weight", &shape, init, meta)?;
        Ok(Self {
            path,
            weight,
            in_channels,
            kernel,
            stride,
            padding,
            output_padding,
        })
    }

    /// The weight variable (to overwrite its initial values, e.g. CenterNet's bilinear filler).
    pub fn weight(&self) -> &Var {
        &self.weight
    }

    /// Output length for an input length `n`: `(n - 1) s - 2 p + k + output_padding`.
    pub fn out_len(&self, n: usize) -> Option<usize> {
        ((n.checked_sub(1)? * self.stride + self.kernel + self.output_padding)
            .checked_sub(2 * self.padding))
        .filter(|&v| v > 0)
    }

    /// Apply the transposed convolution; errors name the layer and both shapes.
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
        if self.out_len(h).is_none() || self.out_len(w).is_none() {
            return Err(shape_err(
                &self.path,
                "input height/width",
                "a non-empty output",
                format!("{h}x{w}"),
            ));
        }
        Ok(x.conv_transpose2d(
            self.weight.as_tensor(),
            self.padding,
            self.output_padding,
            self.stride,
            1,
        )?)
    }
}
