//! Detection networks for the paper's benchmark 2 (COCO detection, AdamP Section 4.2 /
//! Table 4): [`CenterNet`] (Zhou et al. 2019) and [`SsdNet`] (Liu et al. 2016), both on a ResNet
//! backbone taken from [`crate::nets`] without its classifier.
//!
//! * The backbone's parameters and buffers are named `backbone.<torchvision name>`
//!   (`backbone.conv1.weight`, `backbone.layer1.0.bn1.running_mean`, ...), so an ImageNet
//!   checkpoint loads by name with the prefix stripped: `load_backbone_pretrained(path)` on
//!   either network (the checkpoint's `fc.*` is ignored).
//! * Multi-scale features come from [`crate::Network::stages_t`] (ResNet-18/50: `layer1..4`,
//!   strides 4-32; CIFAR ResNet-20/56: three stages, strides 1, 2, 4 — the embedded setting).
//! * Metadata: every backbone conv and every conv (or transposed conv) followed by a BatchNorm
//!   is `followed_by_norm` (scale-invariant); the prediction heads and SSD's extra layers have
//!   biases and no normalisation, so they are not.
//! * Both networks hold their [`Weights`] like [`crate::Model`]: `params()`, `buffers()`,
//!   `num_params()`, checkpointing through [`CenterNet::weights`] / [`SsdNet::weights`].

pub mod centernet;
pub mod ssd;

pub use centernet::{CenterNet, CenterNetConfig, CenterNetOutput};
pub use ssd::{SsdConfig, SsdNet, SsdOutput};

use std::path::Path;

use candle_core::Tensor;

use crate::error::{shape_err, Result};
use crate::weights::Weights;

/// Parameter-name prefix of the backbone inside a detector.
pub const BACKBONE_PREFIX: &str = "backbone.";

/// Load a torchvision-named ImageNet checkpoint into `weights`' backbone (`backbone.*`), ignoring
/// the checkpoint's classifier `fc.*`; returns the number of tensors loaded.
pub(crate) fn load_backbone(weights: &Weights, path: &Path) -> Result<usize> {
    weights.load_safetensors_under(path, BACKBONE_PREFIX, &["fc."])
}

/// Check that `x` is `[N, in_channels, H, W]`.
pub(crate) fn check_input(what: &str, x: &Tensor, in_channels: usize) -> Result<()> {
    match *x.dims() {
        [_, c, _, _] if c == in_channels => Ok(()),
        _ => Err(shape_err(
            what,
            "input shape",
            format!("[N, {in_channels}, H, W]"),
            format!("{:?}", x.dims()),
        )),
    }
}
