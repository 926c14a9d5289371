//! [`ModelKind`]: the paper's networks, chosen by an enum with an exhaustive `match` in
//! [`crate::build`].

use std::fmt;
use std::str::FromStr;

use crate::error::ModelError;

/// Which network to build. Its serde form is a config's `[model]` table:
/// `{ kind = "wide_resnet", depth = 28, width = 10 }`; its display form (`wrn-28-10`) is the short
/// name logs and `bench_train --models` use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", deny_unknown_fields)]
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

impl ModelKind {
    /// The kind's name without its parameters.
    pub fn name(&self) -> ModelName {
        match self {
            ModelKind::ResNet20 => ModelName::Resnet20,
            ModelKind::ResNet56 => ModelName::Resnet56,
            ModelKind::ResNet18 => ModelName::Resnet18,
            ModelKind::ResNet50 => ModelName::Resnet50,
            ModelKind::MobileNetV2 => ModelName::MobilenetV2,
            ModelKind::WideResNet { .. } => ModelName::WideResnet,
            ModelKind::SimpleConvNet { .. } => ModelName::SimpleConv,
            ModelKind::BagNet18 => ModelName::Bagnet18,
        }
    }
}

/// A model kind's name as a config's `[model] kind` spells it; the parameters of
/// [`ModelKind::WideResNet`] and [`ModelKind::SimpleConvNet`] are separate keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelName {
    /// [`ModelKind::ResNet20`].
    Resnet20,
    /// [`ModelKind::ResNet56`].
    Resnet56,
    /// [`ModelKind::ResNet18`].
    Resnet18,
    /// [`ModelKind::ResNet50`].
    Resnet50,
    /// [`ModelKind::MobileNetV2`].
    MobilenetV2,
    /// [`ModelKind::WideResNet`] (keys `depth`, `width`).
    WideResnet,
    /// [`ModelKind::SimpleConvNet`] (key `kernel`).
    SimpleConv,
    /// [`ModelKind::BagNet18`].
    Bagnet18,
}

impl ModelName {
    /// Every name, in the order `adamp list` shows them.
    pub const ALL: [ModelName; 8] = [
        ModelName::Resnet20,
        ModelName::Resnet56,
        ModelName::Resnet18,
        ModelName::Resnet50,
        ModelName::MobilenetV2,
        ModelName::WideResnet,
        ModelName::SimpleConv,
        ModelName::Bagnet18,
    ];

    /// Every name as a config spells it.
    pub const NAMES: [&'static str; 8] = [
        "resnet20",
        "resnet56",
        "resnet18",
        "resnet50",
        "mobilenet_v2",
        "wide_resnet",
        "simple_conv",
        "bagnet18",
    ];

    /// The name as a config spells it.
    pub fn as_str(self) -> &'static str {
        let i = Self::ALL.iter().position(|n| *n == self).unwrap_or(0);
        Self::NAMES[i]
    }
}

impl fmt::Display for ModelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ModelName {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::NAMES
            .iter()
            .position(|n| *n == s)
            .map(|i| Self::ALL[i])
            .ok_or_else(|| {
                ModelError::Config(format!(
                    "unknown model kind `{s}`; valid model kinds: {}",
                    Self::NAMES.join(", ")
                ))
            })
    }
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
