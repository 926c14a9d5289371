//! `[model]` of `kind = "detection"`: the backbone and its starting weights.
//!
//! ```toml
//! [model]
//! backbone = "resnet18"   # the paper's CenterNet / our SSD backbone; "resnet20" for the embedded default
//! layers = "fast"         # or "candle"
//! # ImageNet initialisation ("ImageNet init" rows of the paper); absent: from scratch
//! pretrained = { hub = "timm/resnet18.tv_in1k" }
//! # pretrained = { path = "weights/resnet18.safetensors" }
//! ```
//!
//! `timm/resnet18.tv_in1k` holds torchvision's `IMAGENET1K_V1` ResNet-18 weights (what
//! CenterNet's `msra_resnet.py` / `resnet_dcn.py` load from `model_zoo`), in the backbone's names.

use adamp_models::{LayerImpl, ModelKind, ModelName};
use adamp_task_api::factory::invalid;
use adamp_task_api::Result;
use adamp_task_classification::pretrained::Pretrained;
use serde::{Deserialize, Serialize};

/// The backbones with stage outputs (`Network::stages_t`).
pub const BACKBONES: &[&str] = &["resnet18", "resnet50", "resnet20", "resnet56"];

/// `[model]` for `kind = "detection"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectionModelSettings {
    /// The backbone network.
    pub backbone: ModelName,
    /// Layer implementation.
    #[serde(default)]
    pub layers: LayerImpl,
    /// ImageNet starting weights of the backbone (random initialisation when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pretrained: Option<Pretrained>,
}

impl DetectionModelSettings {
    /// The backbone's kind: a ResNet (the networks with stage outputs).
    pub fn backbone_kind(&self) -> Result<ModelKind> {
        match self.backbone {
            ModelName::Resnet18 => Ok(ModelKind::ResNet18),
            ModelName::Resnet50 => Ok(ModelKind::ResNet50),
            ModelName::Resnet20 => Ok(ModelKind::ResNet20),
            ModelName::Resnet56 => Ok(ModelKind::ResNet56),
            other => Err(invalid(
                "model.backbone",
                format!(
                    "one of {} (networks with stage outputs), got `{other}`",
                    BACKBONES.join(", ")
                ),
            )),
        }
    }

    /// Every check that needs no file.
    pub fn validate(&self) -> Result<()> {
        self.backbone_kind()?;
        if let Some(p) = &self.pretrained {
            p.source()?;
        }
        Ok(())
    }
}
