//! ReBias `bagnet18` (`models/imagenet_models.py`, after Brendel & Bethge 2019): stem `conv1`
//! 1x1 (64) and `conv2` 3x3 unpadded, `bn1` (momentum 0.001), ReLU; four stages of two
//! `BasicBlock_`s (64, 128, 256, 512 planes; strides 2, 2, 2, 1; `kernel3 = [1, 0, 0, 0]`: only
//! the first block of stage 1 uses a 3x3 kernel, the rest 1x1), unpadded convolutions, the
//! identity cropped to the output size, global average pooling, `fc`. Receptive field 43 px.
//! Init: convs `normal(0, sqrt(2 / (k*k*out)))`, BN 1/0, fc torch's default.

use candle_core::Tensor;

use super::resnet::{conv_bn_init, Downsample};
use crate::builder::{LayerImpl, ParamBuilder};
use crate::error::Result;
use crate::layers::{add_relu, BatchNorm2d, Conv2d, Conv2dConfig, Linear};
use crate::model::Network;

#[derive(Debug)]
struct Block {
    conv1: Conv2d,
    bn1: BatchNorm2d,
    conv2: Conv2d,
    bn2: BatchNorm2d,
    downsample: Option<Downsample>,
}

impl Block {
    fn forward_t(&self, x: &Tensor, train: bool, imp: LayerImpl) -> Result<Tensor> {
        let out = self.bn1.forward_relu_t(&self.conv1.forward(x)?, train)?;
        let out = self.bn2.forward_t(&self.conv2.forward(&out)?, train)?;
        let identity = match &self.downsample {
            Some(d) => d.forward_t(x, train)?,
            None => x.clone(),
        };
        // `identity[:, :, :-diff, :-diff]` when the unpadded convolution shrank the map.
        let (oh, ow) = (out.dim(2)?, out.dim(3)?);
        let identity = if identity.dim(3)? != ow {
            identity.narrow(2, 0, oh)?.narrow(3, 0, ow)?
        } else {
            identity
        };
        add_relu("residual", &out, &identity, imp)
    }
}

/// The ReBias BagNet-18.
#[derive(Debug)]
pub struct BagNet18 {
    conv1: Conv2d,
    conv2: Conv2d,
    bn1: BatchNorm2d,
    blocks: Vec<Block>,
    fc: Linear,
    imp: LayerImpl,
}

impl BagNet18 {
    /// Build with `in_channels` inputs and `num_classes` outputs.
    pub fn new(b: &ParamBuilder, in_channels: usize, num_classes: usize) -> Result<Self> {
        // conv1 feeds conv2, which feeds bn1: both are scale-invariant.
        let conv1 = conv_bn_init(&b.pp("conv1"), in_channels, 64, 1, Conv2dConfig::sp(1, 0))?;
        let conv2 = conv_bn_init(&b.pp("conv2"), 64, 64, 3, Conv2dConfig::sp(1, 0))?;
        let bn1 = BatchNorm2d::with_momentum(&b.pp("bn1"), 64, 0.001)?;
        let mut inplanes = 64;
        let mut blocks = Vec::new();
        let kernel3 = [1usize, 0, 0, 0];
        for (s, (planes, stride)) in [(64usize, 2usize), (128, 2), (256, 2), (512, 1)]
            .into_iter()
            .enumerate()
        {
            for i in 0..2 {
                let bb = b.pp(format!("layer{}", s + 1)).pp(i);
                let (k, st) = if i == 0 {
                    (if kernel3[s] == 0 { 1 } else { 3 }, stride)
                } else {
                    (if kernel3[s] <= i { 1 } else { 3 }, 1)
                };
                let downsample = if i == 0 && (st != 1 || inplanes != planes) {
                    Some(Downsample::new(&bb.pp("downsample"), inplanes, planes, st)?)
                } else {
                    None
                };
                blocks.push(Block {
                    conv1: conv_bn_init(
                        &bb.pp("conv1"),
                        inplanes,
                        planes,
                        k,
                        Conv2dConfig::sp(st, 0),
                    )?,
                    bn1: BatchNorm2d::new(&bb.pp("bn1"), planes)?,
                    conv2: conv_bn_init(
                        &bb.pp("conv2"),
                        planes,
                        planes,
                        1,
                        Conv2dConfig::sp(1, 0),
                    )?,
                    bn2: BatchNorm2d::new(&bb.pp("bn2"), planes)?,
                    downsample,
                });
                inplanes = planes;
            }
        }
        let fc = Linear::torch_default(&b.pp("fc"), 512, num_classes)?;
        Ok(Self {
            conv1,
            conv2,
            bn1,
            blocks,
            fc,
            imp: b.layer_impl(),
        })
    }
}

impl Network for BagNet18 {
    fn features_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let x = self.conv2.forward(&self.conv1.forward(x)?)?;
        let mut x = self.bn1.forward_relu_t(&x, train)?;
        for blk in &self.blocks {
            x = blk.forward_t(&x, train, self.imp)?;
        }
        Ok(x)
    }

    fn head_t(&self, f: &Tensor, _train: bool) -> Result<Tensor> {
        super::gap_fc("avgpool", f, &self.fc, self.imp)
    }

    fn feature_dim(&self) -> usize {
        512
    }
}
