//! Wide-ResNet (Zagoruyko & Komodakis 2016) as in the adversarial-training code the paper's
//! CIFAR-10 PGD benchmark builds on (TRADES / Madry `wideresnet.py`): 3x3 stem (16), three
//! `NetworkBlock`s of `n = (depth - 4) / 6` pre-activation blocks (16k, 32k, 64k channels; strides
//! 1, 2, 2), final BN-ReLU, global average pooling (the reference's `avg_pool2d(8)` on 32x32
//! inputs), `fc`. Names: `conv1`, `block1.layer.0.bn1`, `...convShortcut`, `bn1`, `fc`.
//! Init: convs `normal(0, sqrt(2 / (k*k*out)))`, BN 1/0, fc weight torch default, fc bias 0.
//! Dropout rate 0 (the reference default). TRADES' unused `sub_block1` is not built.

use candle_core::Tensor;

use super::resnet::conv_bn_init;
use crate::builder::{LayerImpl, ParamBuilder};
use crate::error::{ModelError, Result};
use crate::init::Init;
use crate::layers::{BatchNorm2d, Conv2d, Conv2dConfig, Linear};
use crate::model::Network;

#[derive(Debug)]
struct Block {
    bn1: BatchNorm2d,
    conv1: Conv2d,
    bn2: BatchNorm2d,
    conv2: Conv2d,
    shortcut: Option<Conv2d>,
}

impl Block {
    fn new(b: &ParamBuilder, cin: usize, cout: usize, stride: usize) -> Result<Self> {
        let equal = cin == cout;
        let init = |k: usize| Init::kaiming_normal_fan_out(&[cout, cin, k, k]);
        Ok(Self {
            bn1: BatchNorm2d::new(&b.pp("bn1"), cin)?,
            conv1: conv_bn_init(&b.pp("conv1"), cin, cout, 3, Conv2dConfig::sp(stride, 1))?,
            bn2: BatchNorm2d::new(&b.pp("bn2"), cout)?,
            // conv2's output is added to the shortcut before the next BN: not scale-invariant.
            conv2: Conv2d::new(
                &b.pp("conv2"),
                cout,
                cout,
                3,
                Conv2dConfig::sp(1, 1),
                Init::kaiming_normal_fan_out(&[cout, cout, 3, 3]),
                false,
            )?,
            shortcut: if equal {
                None
            } else {
                Some(Conv2d::new(
                    &b.pp("convShortcut"),
                    cin,
                    cout,
                    1,
                    Conv2dConfig::sp(stride, 0),
                    init(1),
                    false,
                )?)
            },
        })
    }

    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let act = self.bn1.forward_relu_t(x, train)?;
        let out = self.bn2.forward_relu_t(&self.conv1.forward(&act)?, train)?;
        let out = self.conv2.forward(&out)?;
        let sc = match &self.shortcut {
            // The reference feeds the *activated* input to the projection shortcut.
            Some(conv) => conv.forward(&act)?,
            None => x.clone(),
        };
        Ok((out + sc)?)
    }
}

/// WRN-depth-width.
#[derive(Debug)]
pub struct WideResNet {
    conv1: Conv2d,
    blocks: Vec<Block>,
    bn1: BatchNorm2d,
    fc: Linear,
    channels: usize,
    imp: LayerImpl,
}

impl WideResNet {
    /// `depth = 6n + 4` (28, 34), widening factor `width` (10).
    pub fn new(
        b: &ParamBuilder,
        depth: usize,
        width: usize,
        in_channels: usize,
        num_classes: usize,
    ) -> Result<Self> {
        if depth < 10 || !(depth - 4).is_multiple_of(6) || width == 0 {
            return Err(ModelError::Config(format!(
                "wide_resnet: depth must be 6n + 4 with n >= 1 (e.g. 28, 34) and width >= 1; got depth {depth}, width {width}"
            )));
        }
        let n = (depth - 4) / 6;
        let ch = [16, 16 * width, 32 * width, 64 * width];
        // The stem conv feeds block1's first BN directly only when that block has a projection
        // shortcut (otherwise its output is also added to the residual).
        let stem_to_norm = ch[0] != ch[1];
        let conv1 = Conv2d::new(
            &b.pp("conv1"),
            in_channels,
            16,
            3,
            Conv2dConfig::sp(1, 1),
            Init::kaiming_normal_fan_out(&[16, in_channels, 3, 3]),
            stem_to_norm,
        )?;
        let mut blocks = Vec::new();
        for (s, stride) in [1usize, 2, 2].into_iter().enumerate() {
            for i in 0..n {
                let (cin, st) = if i == 0 {
                    (ch[s], stride)
                } else {
                    (ch[s + 1], 1)
                };
                blocks.push(Block::new(
                    &b.pp(format!("block{}", s + 1)).pp("layer").pp(i),
                    cin,
                    ch[s + 1],
                    st,
                )?);
            }
        }
        let bn1 = BatchNorm2d::new(&b.pp("bn1"), ch[3])?;
        let fc = Linear::new(
            &b.pp("fc"),
            ch[3],
            num_classes,
            Init::torch_default(ch[3]),
            Some(Init::Const(0.0)),
            false,
        )?;
        Ok(Self {
            conv1,
            blocks,
            bn1,
            fc,
            channels: ch[3],
            imp: b.layer_impl(),
        })
    }
}

impl Network for WideResNet {
    fn features_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let mut x = self.conv1.forward(x)?;
        for blk in &self.blocks {
            x = blk.forward_t(&x, train)?;
        }
        self.bn1.forward_relu_t(&x, train)
    }

    fn head_t(&self, f: &Tensor, _train: bool) -> Result<Tensor> {
        super::gap_fc("avgpool", f, &self.fc, self.imp)
    }

    fn feature_dim(&self) -> usize {
        self.channels
    }
}
