//! CIFAR ResNets (He et al., "Deep Residual Learning", 2016, Section 4.2) as in the widely used
//! `akamaster/pytorch_resnet_cifar10` `resnet.py`: a 3x3 stem with 16 channels, three stages of
//! `n` basic blocks (16, 32, 64 channels; `6n + 2` layers: n = 3 is ResNet-20, n = 9 ResNet-56),
//! **option-A shortcuts** (stride-2 subsampling and zero channel padding: no parameters, so
//! ResNet-20 has 0.27 M parameters), global average pooling and `fc`. Init: `kaiming_normal_`
//! (fan-in) for convolutions and the final linear weight, as the reference does.

use candle_core::Tensor;

use crate::builder::{LayerImpl, ParamBuilder};
use crate::error::Result;
use crate::init::Init;
use crate::layers::{add_relu, BatchNorm2d, Conv2d, Conv2dConfig, Linear};
use crate::model::Network;

fn conv3x3(b: &ParamBuilder, cin: usize, cout: usize, stride: usize) -> Result<Conv2d> {
    let init = Init::kaiming_normal_fan_in(&[cout, cin, 3, 3]);
    Conv2d::new(b, cin, cout, 3, Conv2dConfig::sp(stride, 1), init, true)
}

/// Option-A shortcut: `F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, pad, pad))`.
fn shortcut_a(x: &Tensor, pad: usize) -> Result<Tensor> {
    let (n, c, h, w) = x.dims4()?;
    let x = x.pad_with_zeros(2, 0, h % 2)?.pad_with_zeros(3, 0, w % 2)?;
    let (h2, w2) = (h.div_ceil(2), w.div_ceil(2));
    let sub = x
        .reshape((n, c, h2, 2, w2, 2))?
        .narrow(3, 0, 1)?
        .narrow(5, 0, 1)?
        .reshape((n, c, h2, w2))?;
    Ok(sub.pad_with_zeros(1, pad, pad)?)
}

#[derive(Debug)]
struct Block {
    conv1: Conv2d,
    bn1: BatchNorm2d,
    conv2: Conv2d,
    bn2: BatchNorm2d,
    /// Channel padding of the option-A shortcut (`None`: identity).
    shortcut_pad: Option<usize>,
    path: String,
    imp: LayerImpl,
}

impl Block {
    fn new(b: &ParamBuilder, cin: usize, planes: usize, stride: usize) -> Result<Self> {
        Ok(Self {
            conv1: conv3x3(&b.pp("conv1"), cin, planes, stride)?,
            bn1: BatchNorm2d::new(&b.pp("bn1"), planes)?,
            conv2: conv3x3(&b.pp("conv2"), planes, planes, 1)?,
            bn2: BatchNorm2d::new(&b.pp("bn2"), planes)?,
            shortcut_pad: (stride != 1 || cin != planes).then_some(planes / 4),
            path: b.prefix().to_string(),
            imp: b.layer_impl(),
        })
    }

    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let out = self.bn1.forward_relu_t(&self.conv1.forward(x)?, train)?;
        let out = self.bn2.forward_t(&self.conv2.forward(&out)?, train)?;
        let sc = match self.shortcut_pad {
            Some(p) => shortcut_a(x, p)?,
            None => x.clone(),
        };
        add_relu(&self.path, &out, &sc, self.imp)
    }
}

/// ResNet-20/32/44/56/110 for CIFAR-sized inputs.
#[derive(Debug)]
pub struct CifarResNet {
    conv1: Conv2d,
    bn1: BatchNorm2d,
    blocks: Vec<Block>,
    /// Blocks per stage.
    n: usize,
    /// `None` for a backbone (no classifier).
    fc: Option<Linear>,
    imp: LayerImpl,
}

impl CifarResNet {
    /// `n` blocks per stage (3: ResNet-20, 9: ResNet-56).
    pub fn new(b: &ParamBuilder, n: usize, in_channels: usize, num_classes: usize) -> Result<Self> {
        Self::build(b, n, in_channels, Some(num_classes))
    }

    /// The network without `fc`: a backbone for [`Network::stages_t`] (its `head_t` is an
    /// error).
    pub fn backbone(b: &ParamBuilder, n: usize, in_channels: usize) -> Result<Self> {
        Self::build(b, n, in_channels, None)
    }

    fn build(
        b: &ParamBuilder,
        n: usize,
        in_channels: usize,
        num_classes: Option<usize>,
    ) -> Result<Self> {
        let conv1 = conv3x3(&b.pp("conv1"), in_channels, 16, 1)?;
        let bn1 = BatchNorm2d::new(&b.pp("bn1"), 16)?;
        let mut blocks = Vec::new();
        let mut cin = 16;
        for (stage, planes) in [16usize, 32, 64].into_iter().enumerate() {
            for i in 0..n {
                let stride = if stage > 0 && i == 0 { 2 } else { 1 };
                blocks.push(Block::new(
                    &b.pp(format!("layer{}", stage + 1)).pp(i),
                    cin,
                    planes,
                    stride,
                )?);
                cin = planes;
            }
        }
        let fc = match num_classes {
            Some(k) => Some(Linear::new(
                &b.pp("fc"),
                64,
                k,
                Init::kaiming_normal_fan_in(&[k, 64]),
                Some(Init::torch_default(64)),
                false,
            )?),
            None => None,
        };
        Ok(Self {
            conv1,
            bn1,
            blocks,
            n,
            fc,
            imp: b.layer_impl(),
        })
    }
}

impl Network for CifarResNet {
    fn features_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let mut x = self.bn1.forward_relu_t(&self.conv1.forward(x)?, train)?;
        for blk in &self.blocks {
            x = blk.forward_t(&x, train)?;
        }
        Ok(x)
    }

    fn head_t(&self, f: &Tensor, _train: bool) -> Result<Tensor> {
        let fc = self.fc.as_ref().ok_or_else(super::no_head)?;
        super::gap_fc("avgpool", f, fc, self.imp)
    }

    fn feature_dim(&self) -> usize {
        64
    }

    fn stages_t(&self, x: &Tensor, train: bool) -> Result<Vec<Tensor>> {
        let mut x = self.bn1.forward_relu_t(&self.conv1.forward(x)?, train)?;
        let mut stages = Vec::with_capacity(3);
        for (i, blk) in self.blocks.iter().enumerate() {
            x = blk.forward_t(&x, train)?;
            if (i + 1) % self.n == 0 {
                stages.push(x.clone());
            }
        }
        Ok(stages)
    }

    fn stage_channels(&self) -> Vec<usize> {
        vec![16, 32, 64]
    }

    fn stage_strides(&self) -> Vec<usize> {
        vec![1, 2, 4]
    }
}
