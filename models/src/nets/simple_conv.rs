//! ReBias `SimpleConvNet` (Bahng et al. 2020, `models/mnist_models.py`): four conv (with bias,
//! "same" padding `k // 2`, stride 1) + BN + ReLU layers with 16, 32, 64, 128 channels, global
//! average pooling, `fc`. Kernel 7 is the paper's biased model f, kernel 1 the colour-only g.
//! Names follow the reference's `nn.Sequential`: `extracter.{0,3,6,9}` (conv),
//! `extracter.{1,4,7,10}` (BN), `fc`. Init: convs `kaiming_normal_(mode='fan_out')`, conv biases
//! and fc torch's default, BN 1/0.

use candle_core::Tensor;

use crate::builder::{LayerImpl, ParamBuilder};
use crate::error::{ModelError, Result};
use crate::init::Init;
use crate::layers::{BatchNorm2d, Conv2d, Conv2dConfig, Linear};
use crate::model::Network;

/// The ReBias Biased-MNIST network.
#[derive(Debug)]
pub struct SimpleConvNet {
    layers: Vec<(Conv2d, BatchNorm2d)>,
    fc: Linear,
    imp: LayerImpl,
}

impl SimpleConvNet {
    /// Build with kernel size `kernel` (odd keeps the spatial size).
    pub fn new(
        b: &ParamBuilder,
        kernel: usize,
        in_channels: usize,
        num_classes: usize,
    ) -> Result<Self> {
        if kernel == 0 {
            return Err(ModelError::Config(
                "simple_conv: kernel must be >= 1".into(),
            ));
        }
        let e = b.pp("extracter");
        let mut layers = Vec::new();
        let mut cin = in_channels;
        for (i, cout) in [16usize, 32, 64, 128].into_iter().enumerate() {
            let cfg = Conv2dConfig {
                padding: kernel / 2,
                bias: true,
                ..Conv2dConfig::default()
            };
            let init = Init::kaiming_normal_fan_out(&[cout, cin, kernel, kernel]);
            let conv = Conv2d::new(&e.pp(3 * i), cin, cout, kernel, cfg, init, true)?;
            let bn = BatchNorm2d::new(&e.pp(3 * i + 1), cout)?;
            layers.push((conv, bn));
            cin = cout;
        }
        let fc = Linear::torch_default(&b.pp("fc"), 128, num_classes)?;
        Ok(Self {
            layers,
            fc,
            imp: b.layer_impl(),
        })
    }
}

impl Network for SimpleConvNet {
    fn features_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let mut x = x.clone();
        for (conv, bn) in &self.layers {
            x = bn.forward_relu_t(&conv.forward(&x)?, train)?;
        }
        Ok(x)
    }

    fn head_t(&self, f: &Tensor, _train: bool) -> Result<Tensor> {
        super::gap_fc("avgpool", f, &self.fc, self.imp)
    }

    fn feature_dim(&self) -> usize {
        128
    }
}
