//! [`Model`]: a built network with its parameter list, buffers and checkpointing; [`build`].

use std::path::Path;

use adamp_optim::ParamList;
use candle_core::{DType, Device, Tensor, Var};

use crate::builder::{LayerImpl, ParamBuilder};
use crate::error::{shape_err, ModelError, Result};
use crate::kind::ModelKind;
use crate::nets;
use crate::weights::Weights;

/// What every network implements: a feature extractor and a classification head.
pub trait Network: Send + Sync + std::fmt::Debug {
    /// The last feature map before global pooling, `[N, C, h, w]`.
    fn features_t(&self, x: &Tensor, train: bool) -> Result<Tensor>;
    /// Logits `[N, num_classes]` from the feature map (global average pooling, dropout where the
    /// reference has it, the final linear layer).
    fn head_t(&self, features: &Tensor, train: bool) -> Result<Tensor>;
    /// Channels of the feature map (`C` above).
    fn feature_dim(&self) -> usize;

    /// The feature map after every stage, shallowest first (multi-scale features for the
    /// detectors of [`crate::detection`]): torchvision ResNets `layer1..layer4` (strides 4, 8,
    /// 16, 32), CIFAR ResNets their three stages (strides 1, 2, 4). The last one is
    /// [`Network::features_t`]'s output. Networks without a stage structure (MobileNetV2,
    /// Wide-ResNet, SimpleConvNet, BagNet) keep this default, an error saying so.
    fn stages_t(&self, _x: &Tensor, _train: bool) -> Result<Vec<Tensor>> {
        Err(ModelError::Config(
            "this network has no stage outputs (only ResNet-18/50 and the CIFAR ResNets provide them)"
                .into(),
        ))
    }

    /// Channels of every [`Network::stages_t`] output (empty where there are none).
    fn stage_channels(&self) -> Vec<usize> {
        Vec::new()
    }

    /// Stride (input size / map size, for sizes divisible by it) of every
    /// [`Network::stages_t`] output (empty where there are none).
    fn stage_strides(&self) -> Vec<usize> {
        Vec::new()
    }
}

/// Everything [`build_with`] needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// The network.
    pub kind: ModelKind,
    /// Input channels (3 for RGB, 1 for the embedded 28x28 grey data).
    pub in_channels: usize,
    /// Output classes.
    pub num_classes: usize,
    /// Input height and width the model is checked against at build time (any size at least as
    /// large works at run time: every network ends in global average pooling).
    pub input_hw: (usize, usize),
    /// Seed of the deterministic initialisation.
    pub seed: u64,
    /// Layer implementation (fast CPU kernels by default).
    #[serde(default)]
    pub layer_impl: LayerImpl,
}

/// A built network: forward pass, named parameters (for the optimizer) and buffers.
#[derive(Debug)]
pub struct Model {
    config: ModelConfig,
    net: Box<dyn Network>,
    weights: Weights,
}

/// Build `kind` with the fast CPU layers; see [`build_with`].
pub fn build(
    kind: ModelKind,
    in_channels: usize,
    num_classes: usize,
    input_hw: (usize, usize),
    seed: u64,
    device: &Device,
) -> Result<Model> {
    build_with(
        &ModelConfig {
            kind,
            in_channels,
            num_classes,
            input_hw,
            seed,
            layer_impl: LayerImpl::Fast,
        },
        device,
    )
}

/// Build the network described by `config` on `device` (f32 parameters), then run one
/// evaluation-mode forward pass on a zero image of `config.input_hw` so a too-small input size
/// fails here, with the layer path and both shapes, rather than mid-training.
pub fn build_with(config: &ModelConfig, device: &Device) -> Result<Model> {
    if config.in_channels == 0 || config.num_classes == 0 {
        return Err(ModelError::Config(format!(
            "in_channels ({}) and num_classes ({}) must be >= 1",
            config.in_channels, config.num_classes
        )));
    }
    let b = ParamBuilder::new(config.seed, device, config.layer_impl);
    let (c, k) = (config.in_channels, config.num_classes);
    let net: Box<dyn Network> = match config.kind {
        ModelKind::ResNet20 => Box::new(nets::resnet_cifar::CifarResNet::new(&b, 3, c, k)?),
        ModelKind::ResNet56 => Box::new(nets::resnet_cifar::CifarResNet::new(&b, 9, c, k)?),
        ModelKind::ResNet18 => Box::new(nets::resnet::ResNet::resnet18(&b, c, k)?),
        ModelKind::ResNet50 => Box::new(nets::resnet::ResNet::resnet50(&b, c, k)?),
        ModelKind::MobileNetV2 => Box::new(nets::mobilenet_v2::MobileNetV2::new(&b, c, k)?),
        ModelKind::WideResNet { depth, width } => {
            Box::new(nets::wide_resnet::WideResNet::new(&b, depth, width, c, k)?)
        }
        ModelKind::SimpleConvNet { kernel } => {
            Box::new(nets::simple_conv::SimpleConvNet::new(&b, kernel, c, k)?)
        }
        ModelKind::BagNet18 => Box::new(nets::bagnet::BagNet18::new(&b, c, k)?),
    };
    let model = Model {
        config: *config,
        net,
        weights: b.weights()?,
    };
    let (h, w) = config.input_hw;
    let probe = Tensor::zeros((1, c, h, w), DType::F32, device)?;
    model.forward_t(&probe, false)?;
    tracing::debug!(model = %config.kind, params = model.num_params(), "built model");
    Ok(model)
}

impl Model {
    /// Logits `[N, num_classes]` for images `[N, in_channels, H, W]`; `train` selects batch
    /// statistics (and running-statistics updates) in BatchNorm and enables dropout.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let f = self.features_t(x, train)?;
        self.net.head_t(&f, train)
    }

    /// The last feature map `[N, C, h, w]` before global pooling (for embeddings: GAP + GMP).
    pub fn features_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        self.check_input(x)?;
        self.net.features_t(x, train)
    }

    /// The feature map after every stage ([`Network::stages_t`]; an error for networks without
    /// stages).
    pub fn stages_t(&self, x: &Tensor, train: bool) -> Result<Vec<Tensor>> {
        self.check_input(x)?;
        self.net.stages_t(x, train)
    }

    /// Logits `[N, num_classes]` and the globally average-pooled features `[N, C]` they are
    /// computed from, in one forward pass (ReBias's `feature_pos = 'post'`: the representation
    /// its HSIC compares).
    pub fn logits_and_pooled_t(&self, x: &Tensor, train: bool) -> Result<(Tensor, Tensor)> {
        let f = self.features_t(x, train)?;
        let pooled = crate::layers::global_avg_pool("avgpool", &f, self.config.layer_impl)?;
        Ok((self.net.head_t(&f, train)?, pooled))
    }

    /// Channels of [`Model::features_t`]'s output.
    pub fn feature_dim(&self) -> usize {
        self.net.feature_dim()
    }

    fn check_input(&self, x: &Tensor) -> Result<()> {
        let c = self.config.in_channels;
        match *x.dims() {
            [_, xc, _, _] if xc == c => Ok(()),
            _ => Err(shape_err(
                &format!("{} input", self.config.kind),
                "input shape",
                format!("[N, {c}, H, W]"),
                format!("{:?}", x.dims()),
            )),
        }
    }

    /// The trainable parameters, sorted by name, with metadata (one default group).
    pub fn params(&self) -> ParamList {
        self.weights.params()
    }

    /// The buffers (BatchNorm running statistics), sorted by name.
    pub fn buffers(&self) -> &[(String, Var)] {
        self.weights.buffers()
    }

    /// The parameters and buffers, with checkpointing by name.
    pub fn weights(&self) -> &Weights {
        &self.weights
    }

    /// The configuration this model was built from.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// Total number of trainable scalars.
    pub fn num_params(&self) -> usize {
        self.weights.num_params()
    }

    /// Save parameters and buffers by name to a safetensors file ([`Weights::save_safetensors`]).
    pub fn save_safetensors(&self, path: &Path) -> Result<()> {
        self.weights.save_safetensors(path)
    }

    /// Load parameters and buffers saved by [`Model::save_safetensors`] (or a torch state dict
    /// converted to safetensors with the same names; `num_batches_tracked` entries are ignored).
    /// Every tensor is checked before any is written: a missing, unexpected or mis-shaped tensor
    /// is an error naming it (and both shapes), and leaves the model unchanged.
    pub fn load_safetensors(&self, path: &Path) -> Result<()> {
        self.weights.load_safetensors_except(path, &[]).map(|_| ())
    }

    /// Load ImageNet-pretrained weights in torchvision/timm naming (`conv1.weight`,
    /// `layer1.0.bn1.running_mean`, `fc.bias`, ...: this crate's names, so no renaming is needed),
    /// leaving every tensor whose name starts with one of `skip_prefixes` (e.g. `["fc."]` for a
    /// new classifier) at its initial value. Same checks as [`Model::load_safetensors`]; tensors
    /// in the file under a skipped prefix are ignored. Returns the number of tensors loaded.
    pub fn load_pretrained(&self, path: &Path, skip_prefixes: &[&str]) -> Result<usize> {
        self.weights.load_safetensors_except(path, skip_prefixes)
    }

    /// [`Model::load_pretrained`] from `filename` of the hub model repository `repo` at
    /// `revision`, fetched through `hub` ([`crate::pretrained::hub_file`]: from the cache, or
    /// downloaded into it). Returns the number of tensors loaded.
    pub fn load_pretrained_from_hub(
        &self,
        hub: &adamp_hub::Hub,
        repo: &str,
        revision: &str,
        filename: &str,
        skip_prefixes: &[&str],
    ) -> Result<usize> {
        let path = crate::pretrained::hub_file(hub, repo, revision, filename)?;
        self.load_pretrained(&path, skip_prefixes)
    }
}
