//! [`ModelKind`]: the paper's networks, chosen by an enum with an exhaustive `match` in
//! [`crate::build`].

use std::fmt;
use std::str::FromStr;

use crate::error::ModelError;

/// Which network to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(tag = "name", deny_unknown_fields)]
pub enum ModelKind {
    /// CIFAR ResNet-20 (He et al. 2016, Section 4.2): 3 stages of 3 basic blocks, 16/32/64
    /// channels, option-A (parameter-free) shortcuts.
    #[serde(rename = "resnet20")]
    ResNet20,
    /// CIFAR ResNet-56: as ResNet-20 with 9 blocks per stage.
    #[serde(rename = "resnet56")]
    ResNet56,
    /// torchvision `resnet18` (ImageNet stem: 7x7/2 conv, 3x3/2 max pool).
    #[serde(rename = "resnet18")]
    ResNet18,
    /// torchvision `resnet50` (bottleneck v1.5: stride on the 3x3 conv).
    #[serde(rename = "resnet50")]
    ResNet50,
    /// torchvision `mobilenet_v2` (width 1.0, dropout 0.2).
    #[serde(rename = "mobilenet_v2")]
    MobileNetV2,
    /// Wide-ResNet (Zagoruyko & Komodakis 2016) as in the TRADES/Madry adversarial-training code:
    /// pre-activation blocks, `depth = 6n + 4`, widths 16, 16k, 32k, 64k.
    #[serde(rename = "wide_resnet")]
    WideResNet {
        /// Depth (28 or 34 in the paper's setting; must be `6n + 4`).
        depth: usize,
        /// Widening factor `k` (10 in the paper's setting).
        width: usize,
    },
    /// ReBias `SimpleConvNet`: 4 x (conv + BN + ReLU), 16-32-64-128 channels, GAP, FC.
    #[serde(rename = "simple_conv")]
    SimpleConvNet {
        /// Kernel size (7 for the biased model f, 1 for the texture-biased g).
        kernel: usize,
    },
    /// ReBias `bagnet18` (BagNet with basic blocks, receptive field 43 pixels).
    #[serde(rename = "bagnet18")]
    BagNet18,
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelKind::ResNet20 => write!(f, "resnet20"),
            ModelKind::ResNet56 => write!(f, "resnet56"),
            ModelKind::ResNet18 => write!(f, "resnet18"),
            ModelKind::ResNet50 => write!(f, "resnet50"),
            ModelKind::MobileNetV2 => write!(f, "mobilenet_v2"),
            ModelKind::WideResNet { depth, width } => write!(f, "wrn-{depth}-{width}"),
            ModelKind::SimpleConvNet { kernel } => write!(f, "simple_conv_k{kernel}"),
            ModelKind::BagNet18 => write!(f, "bagnet18"),
        }
    }
}

impl FromStr for ModelKind {
    type Err = ModelError;

    /// Parse the [`Display`](fmt::Display) form: `resnet20`, `resnet56`, `resnet18`, `resnet50`,
    /// `mobilenet_v2`, `wrn-28-10`, `simple_conv_k7`, `bagnet18`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            ModelError::Config(format!(
                "unknown model `{s}`; expected one of resnet20, resnet56, resnet18, resnet50, mobilenet_v2, \
                 wrn-<depth>-<width> (e.g. wrn-28-10), simple_conv_k<kernel> (e.g. simple_conv_k7), bagnet18"
            ))
        };
        Ok(match s {
            "resnet20" => ModelKind::ResNet20,
            "resnet56" => ModelKind::ResNet56,
            "resnet18" => ModelKind::ResNet18,
            "resnet50" => ModelKind::ResNet50,
            "mobilenet_v2" => ModelKind::MobileNetV2,
            "bagnet18" => ModelKind::BagNet18,
            _ => {
                if let Some(rest) = s.strip_prefix("wrn-") {
                    let (d, w) = rest.split_once('-').ok_or_else(bad)?;
                    ModelKind::WideResNet {
                        depth: d.parse().map_err(|_| bad())?,
                        width: w.parse().map_err(|_| bad())?,
                    }
                } else if let Some(k) = s.strip_prefix("simple_conv_k") {
                    ModelKind::SimpleConvNet {
                        kernel: k.parse().map_err(|_| bad())?,
                    }
                } else {
                    return Err(bad());
                }
            }
        })
    }
}
