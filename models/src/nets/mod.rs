//! The paper's networks, with torchvision / reference-code parameter names.

pub mod bagnet;
pub mod mobilenet_v2;
pub mod resnet;
pub mod resnet_cifar;
pub mod simple_conv;
pub mod wide_resnet;

use candle_core::Tensor;

use crate::builder::LayerImpl;
use crate::error::Result;
use crate::layers::{global_avg_pool, Linear};

/// Global average pooling followed by the classifier (`avgpool` + `flatten` + `fc`).
pub(crate) fn gap_fc(path: &str, x: &Tensor, fc: &Linear, imp: LayerImpl) -> Result<Tensor> {
    let pooled = global_avg_pool(path, x, imp)?;
    fc.forward(&pooled)
}
