//! The Harmonic CNN's 2-D blocks: minzwon/data-driven-harmonic-filters `training/modules.py`,
//! `Conv3_2d` (conv 3x3 + BN + ReLU + max pool) and `Conv3_2d_resmp` (conv-BN-ReLU-conv-BN, identity
//! shortcut, ReLU, max pool), and their `nn.MaxPool2d(pooling)` with a square or rectangular
//! window (stride = window, floor mode).
//!
//! The convolutions keep torch's default bias (`nn.Conv2d(in, out, 3, padding=1)`) and init
//! (`U(±1/sqrt(fan_in))` for weight and bias). Every convolution feeds a BatchNorm directly, so
//! every conv weight is flagged `followed_by_norm` (scale-invariant); in `Conv3_2d_resmp` the
//! residual addition comes after `bn_2`.

use candle_core::Tensor;

use crate::builder::{LayerImpl, ParamBuilder};
use crate::error::{shape_err, Result};
use crate::init::Init;
use crate::layers::{add_relu, dims4, max_pool2d, BatchNorm2d, Conv2d, Conv2dConfig};

/// `nn.MaxPool2d(pooling)`: window `(height, width)` = stride (the reference's `2`, `(2, 3)`,
/// `(2, 1)`).
pub type Pool = (usize, usize);

/// `nn.MaxPool2d((kh, kw))` (stride = kernel, no padding, floor mode) on `x` `[N, C, H, W]`,
/// for non-negative inputs (it follows a ReLU in every block). Square windows use the
/// [`crate::layers::max_pool2d`] kernels; rectangular ones take the maximum over the
/// `[N, C, H/kh, kh, W/kw, kw]` view of the cropped input (Candle's reduction: tied maxima all
/// receive the gradient, which after a ReLU happens only between zeros, whose gradient the ReLU
/// stops).
pub fn max_pool(layer: &str, x: &Tensor, (kh, kw): Pool, imp: LayerImpl) -> Result<Tensor> {
    if kh == kw {
        return max_pool2d(layer, x, kh, kh, 0, imp);
    }
    let (n, c, h, w) = dims4(layer, x)?;
    let (oh, ow) = (h / kh.max(1), w / kw.max(1));
    if kh == 0 || kw == 0 || oh == 0 || ow == 0 {
        return Err(shape_err(
            layer,
            "input height/width",
            format!("at least {kh}x{kw} (max pool window)"),
            format!("{h}x{w} (input shape {:?})", x.dims()),
        ));
    }
    Ok(x.narrow(2, 0, oh * kh)?
        .narrow(3, 0, ow * kw)?
        .contiguous()?
        .reshape((n, c, oh, kh, ow, kw))?
        .max(5)?
        .max(3)?)
}

/// A 3x3 convolution (padding 1, bias) with torch's default init, feeding a BatchNorm.
fn conv3(b: &ParamBuilder, cin: usize, cout: usize) -> Result<Conv2d> {
    let fan_in = cin * 9;
    let cfg = Conv2dConfig {
        padding: 1,
        bias: true,
        ..Conv2dConfig::default()
    };
    let init = Init::torch_default(fan_in);
    Conv2d::with_bias_init(b, (cin, cout, 3), cfg, init, init, true)
}

/// `Conv3_2d`: `mp(relu(bn(conv(x))))`, parameters `<path>.conv.*`, `<path>.bn.*`.
#[derive(Debug)]
pub struct Conv3Block {
    path: String,
    conv: Conv2d,
    bn: BatchNorm2d,
    pool: Pool,
    imp: LayerImpl,
}

impl Conv3Block {
    /// A block from `cin` to `cout` channels pooling by `pool`.
    pub fn new(b: &ParamBuilder, cin: usize, cout: usize, pool: Pool) -> Result<Self> {
        Ok(Self {
            path: b.prefix().to_string(),
            conv: conv3(&b.pp("conv"), cin, cout)?,
            bn: BatchNorm2d::new(&b.pp("bn"), cout)?,
            pool,
            imp: b.layer_impl(),
        })
    }

    /// Apply the block (training mode: batch statistics).
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let y = self.bn.forward_relu_t(&self.conv.forward(x)?, train)?;
        max_pool(&format!("{}.mp", self.path), &y, self.pool, self.imp)
    }
}

/// `Conv3_2d_resmp`: `mp(relu(x + bn_2(conv_2(relu(bn_1(conv_1(x)))))))`, parameters
/// `<path>.conv_1.*`, `<path>.bn_1.*`, `<path>.conv_2.*`, `<path>.bn_2.*`.
#[derive(Debug)]
pub struct Conv3ResBlock {
    path: String,
    conv_1: Conv2d,
    bn_1: BatchNorm2d,
    conv_2: Conv2d,
    bn_2: BatchNorm2d,
    pool: Pool,
    imp: LayerImpl,
}

impl Conv3ResBlock {
    /// A residual block on `channels` channels pooling by `pool` (the reference's identity
    /// shortcut needs equal input and output channels).
    pub fn new(b: &ParamBuilder, channels: usize, pool: Pool) -> Result<Self> {
        Ok(Self {
            path: b.prefix().to_string(),
            conv_1: conv3(&b.pp("conv_1"), channels, channels)?,
            bn_1: BatchNorm2d::new(&b.pp("bn_1"), channels)?,
            conv_2: conv3(&b.pp("conv_2"), channels, channels)?,
            bn_2: BatchNorm2d::new(&b.pp("bn_2"), channels)?,
            pool,
            imp: b.layer_impl(),
        })
    }

    /// Apply the block (training mode: batch statistics).
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let o = self.bn_1.forward_relu_t(&self.conv_1.forward(x)?, train)?;
        let o = self.bn_2.forward_t(&self.conv_2.forward(&o)?, train)?;
        let y = add_relu(&self.path, x, &o, self.imp)?;
        max_pool(&format!("{}.mp", self.path), &y, self.pool, self.imp)
    }
}
