//! # adamp-models
//!
//! The AdamP paper's networks (Heo et al., ICLR 2021, Section 4 / Table 1-6 benchmarks) for Candle,
//! with every trainable tensor registered by its full dotted torchvision-style name and the
//! structural metadata the optimizers log ([`adamp_optim::ParamMeta`]), and fast CPU layers
//! (im2col + GEMM convolution, direct depthwise convolution, fused BatchNorm(+ReLU)) so the
//! paper's models train at a useful speed on a laptop CPU.
//!
//! ## Using a model (what a task needs)
//!
//! ```no_run
//! use adamp_models::{build, ModelKind};
//! use candle_core::{Device, Tensor, DType};
//! # fn main() -> adamp_models::Result<()> {
//! let dev = Device::Cpu;
//! // kind, input channels, classes, input (height, width), seed, device
//! let model = build(ModelKind::ResNet20, 1, 10, (28, 28), 0, &dev)?;
//! let params = model.params();            // adamp_optim::ParamList, sorted by name, with metadata
//! let x = Tensor::zeros((8, 1, 28, 28), DType::F32, &dev)?;
//! let logits = model.forward_t(&x, true)?; // [8, 10]; train=true: batch-stat BN, dropout on
//! // loss.backward() -> GradStore -> optimizer.step(&grads) (adamp_optim::Optimizer)
//! model.save_safetensors(std::path::Path::new("ckpt.safetensors"))?;
//! # Ok(()) }
//! ```
//!
//! * [`ModelKind`] — `ResNet20`, `ResNet56` (CIFAR, option-A shortcuts), `ResNet18`, `ResNet50`
//!   (torchvision), `MobileNetV2` (torchvision), `WideResNet { depth, width }` (TRADES/Madry),
//!   `SimpleConvNet { kernel }` and `BagNet18` (ReBias). Parses from / prints as `resnet20`,
//!   `wrn-28-10`, `simple_conv_k7`, ...; serde form = a config's `[model]` table
//!   `{ kind = "wide_resnet", depth = 28, width = 10 }`; [`ModelName`] is the `kind` alone.
//! * [`build`]`(kind, in_channels, num_classes, input_hw, seed, device)` or [`build_with`]`(&ModelConfig, device)`
//!   (choose [`LayerImpl::Candle`] there to run on Candle's built-in ops). Building runs one
//!   probe forward pass at `input_hw`: an image too small for the network fails at build time
//!   with an error naming the layer and both shapes.
//! * [`Model`]: `forward_t(x, train) -> logits`, `features_t(x, train) -> [N, C, h, w]` (before
//!   pooling, for embeddings), `params() -> ParamList`, `buffers() -> &[(name, Var)]` (BatchNorm
//!   `running_mean` / `running_var`, sorted by name, never in the parameter list),
//!   `save_safetensors` / `load_safetensors` (by name; errors name the tensor and both shapes).
//! * Parameter metadata: convolution weights are `ParamKind::Conv`, linear weights `Linear`,
//!   BatchNorm gains `NormGain`, every bias and BN beta `Bias`; `followed_by_norm` is true for a
//!   conv/linear weight whose output reaches a BatchNorm without passing a residual addition
//!   (i.e. the weight is scale-invariant, paper Section 2.1).
//! * Initialisation is deterministic: each tensor draws from a ChaCha8 stream seeded by the model
//!   seed and the tensor's name, with the reference code's distributions (see [`init`]).
//! * Building blocks for new models: [`ParamBuilder`] (like Candle's `VarBuilder`:
//!   `b.pp("layer1").pp(0)`), [`layers`] (`Conv2d`, `BatchNorm2d`, `Linear`, `Dropout`, pooling,
//!   activations) and the raw kernels in [`ops`].
//!
//! * Pretrained weights: [`Model::load_pretrained`]`(path, &["fc."])` loads a torchvision/timm
//!   ImageNet checkpoint in safetensors (same names; the classifier can be skipped);
//!   [`Model::load_pretrained_from_hub`]`(&Hub::from_env()?, "timm/resnet50.a1_in1k", "main",
//!   "model.safetensors", &["fc."])` fetches it through `hf-hub` first ([`pretrained`]: the hub
//!   cache, `HF_HUB_OFFLINE`, `HF_ENDPOINT`, `HF_TOKEN`).
//!
//! * Detection (benchmark 2): [`detection::CenterNet`] and [`detection::SsdNet`] on a ResNet
//!   backbone from [`Network::stages_t`] (multi-scale stage outputs, [`nets::backbone`]), with the
//!   backbone under `backbone.*` so torchvision ImageNet weights load by name
//!   (`load_backbone_pretrained`).
//!
//! * Language modelling (benchmark 13): [`lm::TransformerXl`], a port of kimiyoung/transformer-xl
//!   `MemTransformerLM` (relative attention, segment memories, adaptive input and softmax,
//!   optional weight normalisation) with the reference's parameter names.
//!
//! ## Devices
//! On CPU with f32 tensors the layers use [`ops`]. With the `cuda` feature, f32 CUDA tensors go
//! to [`ops::cuda`]: convolutions on cuDNN (forward, input and weight gradients) and training-mode
//! BatchNorm(+ReLU/ReLU6) and residual `relu(a + b)` on this crate's PTX kernels; the other ops
//! (pooling, linear, loss) and Metal (feature `metal`) use Candle's built-in ops, so the same model
//! code runs on a GPU. [`LayerImpl::Candle`] keeps Candle's ops everywhere.

pub mod alloc;
pub mod audio;
pub mod builder;
pub mod detection;
pub mod error;
pub mod init;
pub mod kind;
pub mod layers;
pub mod lm;
pub mod model;
pub mod nets;
pub mod ops;
pub mod pretrained;
pub mod weights;

pub use builder::{LayerImpl, ParamBuilder};
pub use error::{ModelError, Result};
pub use init::Init;
pub use kind::{ModelKind, ModelName};
pub use model::{build, build_with, Model, ModelConfig, Network};
pub use weights::Weights;
