//! The paper's networks, with torchvision / reference-code parameter names.

pub mod bagnet;
pub mod mobilenet_v2;
pub mod resnet;
pub mod resnet_cifar;
pub mod simple_conv;
pub mod wide_resnet;

use candle_core::Tensor;

use crate::builder::{LayerImpl, ParamBuilder};
use crate::error::{ModelError, Result};
use crate::kind::ModelKind;
use crate::layers::{global_avg_pool, Linear};
use crate::model::Network;

/// `kind` without its classifier, as a multi-scale backbone ([`Network::stages_t`]) with its
/// parameters under `b`'s prefix and torchvision / reference names below it (`conv1.weight`,
/// `layer1.0.bn1.running_mean`, ...). Only ResNet-18/50 and the CIFAR ResNet-20/56 have stage
/// outputs; other kinds are a configuration error.
pub fn backbone(kind: ModelKind, b: &ParamBuilder, in_channels: usize) -> Result<Box<dyn Network>> {
    Ok(match kind {
        ModelKind::ResNet20 => Box::new(resnet_cifar::CifarResNet::backbone(b, 3, in_channels)?),
        ModelKind::ResNet56 => Box::new(resnet_cifar::CifarResNet::backbone(b, 9, in_channels)?),
        ModelKind::ResNet18 => Box::new(resnet::ResNet::resnet18_backbone(b, in_channels)?),
        ModelKind::ResNet50 => Box::new(resnet::ResNet::resnet50_backbone(b, in_channels)?),
        other => {
            return Err(ModelError::Config(format!(
            "backbone `{other}` has no stage outputs; use resnet18, resnet50, resnet20 or resnet56"
        )))
        }
    })
}

/// The error of `head_t` on a backbone built without a classifier.
pub(crate) fn no_head() -> ModelError {
    ModelError::Config("this network was built as a backbone, without a classifier".into())
}

/// Global average pooling followed by the classifier (`avgpool` + `flatten` + `fc`).
pub(crate) fn gap_fc(path: &str, x: &Tensor, fc: &Linear, imp: LayerImpl) -> Result<Tensor> {
    let pooled = global_avg_pool(path, x, imp)?;
    fc.forward(&pooled)
}
