//! ImageNet ResNets as in torchvision `models/resnet.py` (ResNet-18: basic blocks [2, 2, 2, 2];
//! ResNet-50: bottlenecks [3, 4, 6, 3], stride on the 3x3 conv, "v1.5"). 7x7/2 stem, BN, ReLU,
//! 3x3/2 max pool, four stages (64, 128, 256, 512 planes), 1x1 projection `downsample` shortcuts,
//! global average pooling, `fc`. Init: `kaiming_normal_(mode='fan_out')` for convolutions, BN
//! gain 1 / bias 0, `fc` torch's default; `zero_init_residual=False`.

use candle_core::Tensor;

use crate::builder::{LayerImpl, ParamBuilder};
use crate::error::Result;
use crate::init::Init;
use crate::layers::{add_relu, max_pool2d, BatchNorm2d, Conv2d, Conv2dConfig, Linear};
use crate::model::Network;

/// A bias-free convolution with torchvision's init, followed by a BatchNorm.
pub(crate) fn conv_bn_init(
    b: &ParamBuilder,
    cin: usize,
    cout: usize,
    k: usize,
    cfg: Conv2dConfig,
) -> Result<Conv2d> {
    let init = Init::kaiming_normal_fan_out(&[cout, cin / cfg.groups, k, k]);
    Conv2d::new(b, cin, cout, k, cfg, init, true)
}

/// `downsample`: 1x1 conv (stride) + BN, named `downsample.0` / `downsample.1`.
#[derive(Debug)]
pub(crate) struct Downsample {
    conv: Conv2d,
    bn: BatchNorm2d,
}

impl Downsample {
    pub(crate) fn new(b: &ParamBuilder, cin: usize, cout: usize, stride: usize) -> Result<Self> {
        Ok(Self {
            conv: conv_bn_init(&b.pp(0), cin, cout, 1, Conv2dConfig::sp(stride, 0))?,
            bn: BatchNorm2d::new(&b.pp(1), cout)?,
        })
    }

    pub(crate) fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        self.bn.forward_t(&self.conv.forward(x)?, train)
    }
}

#[derive(Debug)]
enum Block {
    Basic {
        conv1: Conv2d,
        bn1: BatchNorm2d,
        conv2: Conv2d,
        bn2: BatchNorm2d,
        downsample: Option<Downsample>,
    },
    Bottleneck {
        conv1: Conv2d,
        bn1: BatchNorm2d,
        conv2: Conv2d,
        bn2: BatchNorm2d,
        conv3: Conv2d,
        bn3: BatchNorm2d,
        downsample: Option<Downsample>,
    },
}

impl Block {
    fn forward_t(&self, x: &Tensor, train: bool, imp: LayerImpl) -> Result<Tensor> {
        let (out, downsample) = match self {
            Block::Basic {
                conv1,
                bn1,
                conv2,
                bn2,
                downsample,
            } => {
                let o = bn1.forward_relu_t(&conv1.forward(x)?, train)?;
                (bn2.forward_t(&conv2.forward(&o)?, train)?, downsample)
            }
            Block::Bottleneck {
                conv1,
                bn1,
                conv2,
                bn2,
                conv3,
                bn3,
                downsample,
            } => {
                let o = bn1.forward_relu_t(&conv1.forward(x)?, train)?;
                let o = bn2.forward_relu_t(&conv2.forward(&o)?, train)?;
                (bn3.forward_t(&conv3.forward(&o)?, train)?, downsample)
            }
        };
        let identity = match downsample {
            Some(d) => d.forward_t(x, train)?,
            None => x.clone(),
        };
        add_relu("residual", &out, &identity, imp)
    }
}

/// torchvision ResNet-18 / ResNet-50.
#[derive(Debug)]
pub struct ResNet {
    conv1: Conv2d,
    bn1: BatchNorm2d,
    blocks: Vec<Block>,
    /// Number of blocks up to and including each stage.
    stage_ends: [usize; 4],
    /// `None` for a backbone (no classifier).
    fc: Option<Linear>,
    feature_dim: usize,
    imp: LayerImpl,
}

impl ResNet {
    /// torchvision `resnet18` (11,689,512 parameters at 1000 classes, 3 input channels).
    pub fn resnet18(b: &ParamBuilder, in_channels: usize, num_classes: usize) -> Result<Self> {
        Self::new(b, false, [2, 2, 2, 2], in_channels, Some(num_classes))
    }

    /// torchvision `resnet50` (25,557,032 parameters at 1000 classes, 3 input channels).
    pub fn resnet50(b: &ParamBuilder, in_channels: usize, num_classes: usize) -> Result<Self> {
        Self::new(b, true, [3, 4, 6, 3], in_channels, Some(num_classes))
    }

    /// `resnet18` without `fc`: a backbone for [`Network::stages_t`] (its `head_t` is an error).
    pub fn resnet18_backbone(b: &ParamBuilder, in_channels: usize) -> Result<Self> {
        Self::new(b, false, [2, 2, 2, 2], in_channels, None)
    }

    /// `resnet50` without `fc`: a backbone for [`Network::stages_t`] (its `head_t` is an error).
    pub fn resnet50_backbone(b: &ParamBuilder, in_channels: usize) -> Result<Self> {
        Self::new(b, true, [3, 4, 6, 3], in_channels, None)
    }

    fn run(&self, x: &Tensor, train: bool, keep_stages: bool) -> Result<Vec<Tensor>> {
        let x = self.bn1.forward_relu_t(&self.conv1.forward(x)?, train)?;
        let mut x = max_pool2d("maxpool", &x, 3, 2, 1, self.imp)?;
        let mut stages = Vec::with_capacity(4);
        for (i, blk) in self.blocks.iter().enumerate() {
            x = blk.forward_t(&x, train, self.imp)?;
            if keep_stages && self.stage_ends.contains(&(i + 1)) {
                stages.push(x.clone());
            }
        }
        if !keep_stages {
            stages.push(x);
        }
        Ok(stages)
    }

    fn new(
        b: &ParamBuilder,
        bottleneck: bool,
        layers: [usize; 4],
        in_channels: usize,
        num_classes: Option<usize>,
    ) -> Result<Self> {
        let expansion = if bottleneck { 4 } else { 1 };
        let conv1 = conv_bn_init(&b.pp("conv1"), in_channels, 64, 7, Conv2dConfig::sp(2, 3))?;
        let bn1 = BatchNorm2d::new(&b.pp("bn1"), 64)?;
        let mut inplanes = 64;
        let mut blocks = Vec::new();
        for (stage, (&n, planes)) in layers.iter().zip([64usize, 128, 256, 512]).enumerate() {
            for i in 0..n {
                let stride = if stage > 0 && i == 0 { 2 } else { 1 };
                let bb = b.pp(format!("layer{}", stage + 1)).pp(i);
                let out = planes * expansion;
                let downsample = if stride != 1 || inplanes != out {
                    Some(Downsample::new(
                        &bb.pp("downsample"),
                        inplanes,
                        out,
                        stride,
                    )?)
                } else {
                    None
                };
                blocks.push(if bottleneck {
                    Block::Bottleneck {
                        conv1: conv_bn_init(
                            &bb.pp("conv1"),
                            inplanes,
                            planes,
                            1,
                            Conv2dConfig::sp(1, 0),
                        )?,
                        bn1: BatchNorm2d::new(&bb.pp("bn1"), planes)?,
                        conv2: conv_bn_init(
                            &bb.pp("conv2"),
                            planes,
                            planes,
                            3,
                            Conv2dConfig::sp(stride, 1),
                        )?,
                        bn2: BatchNorm2d::new(&bb.pp("bn2"), planes)?,
                        conv3: conv_bn_init(
                            &bb.pp("conv3"),
                            planes,
                            out,
                            1,
                            Conv2dConfig::sp(1, 0),
                        )?,
                        bn3: BatchNorm2d::new(&bb.pp("bn3"), out)?,
                        downsample,
                    }
                } else {
                    Block::Basic {
                        conv1: conv_bn_init(
                            &bb.pp("conv1"),
                            inplanes,
                            planes,
                            3,
                            Conv2dConfig::sp(stride, 1),
                        )?,
                        bn1: BatchNorm2d::new(&bb.pp("bn1"), planes)?,
                        conv2: conv_bn_init(
                            &bb.pp("conv2"),
                            planes,
                            planes,
                            3,
                            Conv2dConfig::sp(1, 1),
                        )?,
                        bn2: BatchNorm2d::new(&bb.pp("bn2"), planes)?,
                        downsample,
                    }
                });
                inplanes = out;
            }
        }
        let fc = match num_classes {
            Some(k) => Some(Linear::torch_default(&b.pp("fc"), 512 * expansion, k)?),
            None => None,
        };
        let mut stage_ends = [0; 4];
        let mut end = 0;
        for (e, n) in stage_ends.iter_mut().zip(layers) {
            end += n;
            *e = end;
        }
        Ok(Self {
            conv1,
            bn1,
            blocks,
            stage_ends,
            fc,
            feature_dim: 512 * expansion,
            imp: b.layer_impl(),
        })
    }
}

impl Network for ResNet {
    fn features_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let mut out = self.run(x, train, false)?;
        out.pop()
            .ok_or_else(|| crate::ModelError::Config("ResNet without blocks".into()))
    }

    fn head_t(&self, f: &Tensor, _train: bool) -> Result<Tensor> {
        let fc = self.fc.as_ref().ok_or_else(super::no_head)?;
        super::gap_fc("avgpool", f, fc, self.imp)
    }

    fn feature_dim(&self) -> usize {
        self.feature_dim
    }

    fn stages_t(&self, x: &Tensor, train: bool) -> Result<Vec<Tensor>> {
        self.run(x, train, true)
    }

    fn stage_channels(&self) -> Vec<usize> {
        let e = self.feature_dim / 512;
        vec![64 * e, 128 * e, 256 * e, 512 * e]
    }

    fn stage_strides(&self) -> Vec<usize> {
        vec![4, 8, 16, 32]
    }
}
