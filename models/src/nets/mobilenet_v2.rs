//! MobileNetV2 (Sandler et al. 2018) as in torchvision `models/mobilenetv2.py`, width 1.0:
//! `features.0` = 3x3/2 conv-BN-ReLU6 (32), 17 inverted residual blocks (t, c, n, s) =
//! (1,16,1,1) (6,24,2,2) (6,32,3,2) (6,64,4,2) (6,96,3,1) (6,160,3,2) (6,320,1,1), `features.18` =
//! 1x1 conv-BN-ReLU6 (1280), global average pooling, `classifier` = Dropout(0.2) + Linear.
//! Init: `kaiming_normal_(mode='fan_out')` for convolutions, BN 1/0, linear `normal(0, 0.01)`
//! with zero bias. 3,504,872 parameters at 1000 classes.

use candle_core::Tensor;

use super::resnet::conv_bn_init;
use crate::builder::{LayerImpl, ParamBuilder};
use crate::error::Result;
use crate::init::Init;
use crate::layers::{BatchNorm2d, Conv2d, Conv2dConfig, Dropout, Linear};
use crate::model::Network;
use crate::ops::FusedActivation;

/// `Conv2dNormActivation`: conv (`.0`) + BN (`.1`) + ReLU6.
#[derive(Debug)]
struct ConvBnRelu6 {
    conv: Conv2d,
    bn: BatchNorm2d,
}

impl ConvBnRelu6 {
    fn new(
        b: &ParamBuilder,
        cin: usize,
        cout: usize,
        k: usize,
        stride: usize,
        groups: usize,
    ) -> Result<Self> {
        let cfg = Conv2dConfig {
            stride,
            padding: (k - 1) / 2,
            groups,
            ..Conv2dConfig::default()
        };
        Ok(Self {
            conv: conv_bn_init(&b.pp(0), cin, cout, k, cfg)?,
            bn: BatchNorm2d::new(&b.pp(1), cout)?,
        })
    }

    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        self.bn
            .forward_act_t(&self.conv.forward(x)?, train, FusedActivation::Relu6)
    }
}

#[derive(Debug)]
struct InvertedResidual {
    expand: Option<ConvBnRelu6>,
    depthwise: ConvBnRelu6,
    project: Conv2d,
    project_bn: BatchNorm2d,
    residual: bool,
}

impl InvertedResidual {
    fn new(b: &ParamBuilder, cin: usize, cout: usize, stride: usize, t: usize) -> Result<Self> {
        let hidden = cin * t;
        let c = b.pp("conv");
        let mut idx = 0;
        let expand = if t != 1 {
            idx += 1;
            Some(ConvBnRelu6::new(&c.pp(0), cin, hidden, 1, 1, 1)?)
        } else {
            None
        };
        let depthwise = ConvBnRelu6::new(&c.pp(idx), hidden, hidden, 3, stride, hidden)?;
        let project = conv_bn_init(&c.pp(idx + 1), hidden, cout, 1, Conv2dConfig::sp(1, 0))?;
        let project_bn = BatchNorm2d::new(&c.pp(idx + 2), cout)?;
        Ok(Self {
            expand,
            depthwise,
            project,
            project_bn,
            residual: stride == 1 && cin == cout,
        })
    }

    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let h = match &self.expand {
            Some(e) => e.forward_t(x, train)?,
            None => x.clone(),
        };
        let h = self.depthwise.forward_t(&h, train)?;
        let out = self
            .project_bn
            .forward_t(&self.project.forward(&h)?, train)?;
        Ok(if self.residual { (out + x)? } else { out })
    }
}

#[derive(Debug)]
enum Stage {
    Conv(ConvBnRelu6),
    Block(Box<InvertedResidual>),
}

/// torchvision MobileNetV2 (width multiplier 1.0).
#[derive(Debug)]
pub struct MobileNetV2 {
    features: Vec<Stage>,
    dropout: Dropout,
    classifier: Linear,
    imp: LayerImpl,
}

impl MobileNetV2 {
    /// Build with `in_channels` inputs and `num_classes` outputs.
    pub fn new(b: &ParamBuilder, in_channels: usize, num_classes: usize) -> Result<Self> {
        const SETTINGS: [(usize, usize, usize, usize); 7] = [
            (1, 16, 1, 1),
            (6, 24, 2, 2),
            (6, 32, 3, 2),
            (6, 64, 4, 2),
            (6, 96, 3, 1),
            (6, 160, 3, 2),
            (6, 320, 1, 1),
        ];
        let f = b.pp("features");
        let mut features = vec![Stage::Conv(ConvBnRelu6::new(
            &f.pp(0),
            in_channels,
            32,
            3,
            2,
            1,
        )?)];
        let mut cin = 32;
        for (t, c, n, s) in SETTINGS {
            for i in 0..n {
                let stride = if i == 0 { s } else { 1 };
                features.push(Stage::Block(Box::new(InvertedResidual::new(
                    &f.pp(features.len()),
                    cin,
                    c,
                    stride,
                    t,
                )?)));
                cin = c;
            }
        }
        features.push(Stage::Conv(ConvBnRelu6::new(
            &f.pp(features.len()),
            cin,
            1280,
            1,
            1,
            1,
        )?));
        let cl = b.pp("classifier");
        let dropout = Dropout::new(&cl.pp(0), 0.2)?;
        let classifier = Linear::new(
            &cl.pp(1),
            1280,
            num_classes,
            Init::Normal { std: 0.01 },
            Some(Init::Const(0.0)),
            false,
        )?;
        Ok(Self {
            features,
            dropout,
            classifier,
            imp: b.layer_impl(),
        })
    }
}

impl Network for MobileNetV2 {
    fn features_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let mut x = x.clone();
        for s in &self.features {
            x = match s {
                Stage::Conv(c) => c.forward_t(&x, train)?,
                Stage::Block(blk) => blk.forward_t(&x, train)?,
            };
        }
        Ok(x)
    }

    fn head_t(&self, f: &Tensor, train: bool) -> Result<Tensor> {
        let pooled = crate::layers::global_avg_pool("avgpool", f, self.imp)?;
        self.classifier
            .forward(&self.dropout.forward_t(&pooled, train)?)
    }

    fn feature_dim(&self) -> usize {
        1280
    }
}
