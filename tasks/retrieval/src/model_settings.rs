//! `[model]` of `kind = "retrieval"`: the trunk (any network of `adamp-models`; its feature map
//! before pooling feeds the embedding) and where its starting weights come from.
//!
//! ```toml
//! [model]
//! kind = "resnet50"            # the paper's; "resnet20" for the embedded stand-ins
//! layers = "fast"              # or "candle"
//! batchnorm = "frozen"         # the reference's bn_freeze = 1 (default); "train": bn_freeze = 0
//! # ImageNet weights through the Hugging Face hub cache (HF_HUB_OFFLINE, HF_ENDPOINT apply):
//! pretrained = { hub = "timm/resnet50.tv_in1k", revision = "main", file = "model.safetensors" }
//! # ... or a local safetensors file in torchvision names:
//! # pretrained = { path = "weights/resnet50.safetensors" }
//! ```
//!
//! `timm/resnet50.tv_in1k` holds torchvision's `IMAGENET1K_V1` ResNet-50 weights, which the
//! ProxyAnchor codebase loads (`torchvision.models.resnet50(pretrained=True)`), under the same
//! names as this project's ResNet-50.

use adamp_models::{LayerImpl, ModelKind, ModelName};
use adamp_task_api::Result;
pub use adamp_task_classification::pretrained::{Pretrained, WeightsSource};
use adamp_task_classification::ModelSettings;
use serde::{Deserialize, Serialize};

/// `[model]` for `kind = "retrieval"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrievalModelSettings {
    /// The trunk network.
    pub kind: ModelName,
    /// Wide-ResNet depth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depth: Option<usize>,
    /// Wide-ResNet widening factor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<usize>,
    /// SimpleConvNet kernel size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<usize>,
    /// Layer implementation.
    #[serde(default)]
    pub layers: LayerImpl,
    /// BatchNorm on fixed running statistics (`frozen`, the reference's default `--bn-freeze 1`)
    /// or in training mode (`train`, `--bn-freeze 0`: batch statistics while training, running
    /// ones updated and used in evaluation; for a trunk trained from scratch).
    #[serde(default)]
    pub batchnorm: BatchNormMode,
    /// Starting weights of the trunk (random initialisation when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pretrained: Option<Pretrained>,
}

/// `[model] batchnorm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchNormMode {
    /// Running statistics always; affine parameters frozen as `bn_freeze` does.
    #[default]
    Frozen,
    /// Batch statistics in training, running statistics in evaluation; everything trains.
    Train,
}

impl RetrievalModelSettings {
    /// The trunk's kind, checking its kind-specific keys (as the classification task's `[model]`).
    pub fn model_kind(&self) -> Result<ModelKind> {
        ModelSettings {
            kind: self.kind,
            depth: self.depth,
            width: self.width,
            kernel: self.kernel,
            layers: self.layers,
        }
        .model_kind()
    }

    /// Every check that needs no file.
    pub fn validate(&self) -> Result<()> {
        self.model_kind()?;
        if let Some(p) = &self.pretrained {
            p.source()?;
        }
        Ok(())
    }
}
