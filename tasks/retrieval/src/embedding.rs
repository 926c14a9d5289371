//! The embedding network of the ProxyAnchor codebase (`tjddus9597/Proxy-Anchor-CVPR2020`,
//! `code/net/resnet.py::Resnet50`), the AdamP paper's retrieval model (arXiv 2006.08217,
//! Section 4: ResNet-50 from ImageNet weights, GAP + GMP, a 512-d l2-normalised embedding):
//!
//! ```text
//! f = trunk(x)                         the backbone's last feature map [B, C, h, w]
//! e = embedding(GAP(f) + GMP(f))       Linear(C, dim): kaiming_normal_(fan_out), bias 0
//! out = e / sqrt(sum e^2 + 1e-12)      the reference's l2_norm
//! ```
//!
//! **Frozen BatchNorm** (the reference's `bn_freeze = 1`, its default and the paper's setting;
//! `[model] batchnorm = "train"` is its `bn_freeze = 0`): every BatchNorm layer
//! runs on its running statistics (the reference calls `m.eval()` on each at every epoch start),
//! always, in training and evaluation, so the statistics never change. Its affine parameters
//! are built with `requires_grad_(False)`; but the reference's warm-up (`code/train.py`: at
//! `epoch == args.warm` it sets `requires_grad = True` on every model parameter outside the
//! embedding) switches them back on, so after a warm-up of at least one epoch they train with
//! the rest of the trunk; with no warm-up they stay frozen for the whole run. We do the same:
//! [`crate::freeze::Freeze`] decides, from the epoch, which parameters receive gradients.
//!
//! Global max pooling is Candle's `max` over the flattened map; its gradient goes to every
//! position equal to the maximum, where torch's `AdaptiveMaxPool2d` picks one. The map follows a
//! ReLU, so a tie is either at 0 (where the ReLU passes no gradient anyway) or between two equal
//! positive activations (measure zero).
//!
//! **Scale invariance** (the paper's Section 2.1, for the harness's instrumentation): with
//! BatchNorm on fixed statistics no trunk weight is scale-invariant any more, so their
//! `followed_by_norm` flag is cleared (with BatchNorm in training mode they keep the model's); the embedding weight feeds the l2 normalisation and keeps
//! it (exactly invariant together with its bias, which AdamP's cosine test sees as a nearly
//! invariant weight), and the proxies ([`crate::proxy_anchor`]) are normalised row by row.

use std::path::Path;

use adamp_models::layers::{global_avg_pool, Linear};
use adamp_models::{build_with, Init, LayerImpl, Model, ModelConfig, ParamBuilder, Weights};
use adamp_optim::Param;
use adamp_task_api::factory::invalid;
use adamp_task_api::{Result, TaskError};
use candle_core::{Device, Tensor};

use crate::proxy_anchor::l2_norm;

/// The classifier head of every trunk, which the embedding replaces (left out of the
/// parameters, never loaded from a pretrained file).
pub const HEAD_PREFIX: &str = "fc.";

/// Parameters of the embedding layer.
pub const EMBEDDING_PREFIX: &str = "embedding.";

fn model_err(e: adamp_models::ModelError) -> TaskError {
    TaskError::Other(e.to_string())
}

/// A backbone trunk, GAP + GMP, a linear embedding and l2 normalisation.
#[derive(Debug)]
pub struct EmbeddingNet {
    trunk: Model,
    embedding: Linear,
    embedding_weights: Weights,
    dim: usize,
    layer_impl: LayerImpl,
    bn_frozen: bool,
}

impl EmbeddingNet {
    /// Build the trunk `config` describes (its `num_classes` only sizes the unused head) and a
    /// `dim`-dimensional embedding on `device`, initialised from `config.seed`; `bn_frozen`:
    /// BatchNorm on its running statistics always (else in training mode while training).
    pub fn new(config: &ModelConfig, dim: usize, bn_frozen: bool, device: &Device) -> Result<Self> {
        if dim == 0 {
            return Err(invalid("embedding_dim", "expected at least 1, got 0"));
        }
        let trunk = build_with(config, device).map_err(model_err)?;
        let features = trunk.feature_dim();
        let b = ParamBuilder::new(config.seed, device, config.layer_impl);
        let embedding = Linear::new(
            &b.pp("embedding"),
            features,
            dim,
            Init::kaiming_normal_fan_out(&[dim, features]),
            Some(Init::Const(0.0)),
            true,
        )
        .map_err(model_err)?;
        let embedding_weights = b.weights().map_err(model_err)?;
        Ok(Self {
            trunk,
            embedding,
            embedding_weights,
            dim,
            layer_impl: config.layer_impl,
            bn_frozen,
        })
    }

    /// Embedding dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The trunk.
    pub fn trunk(&self) -> &Model {
        &self.trunk
    }

    /// Whether BatchNorm is frozen.
    pub fn bn_frozen(&self) -> bool {
        self.bn_frozen
    }

    /// Unit embeddings `[B, dim]` of images `[B, C, H, W]`. Frozen BatchNorm always runs on its
    /// running statistics, otherwise on batch statistics when `train`; `trunk_grads = false`
    /// cuts the graph after the trunk (warm-up: only the embedding and the proxies train, so the
    /// trunk's backward pass is skipped).
    pub fn forward(&self, x: &Tensor, train: bool, trunk_grads: bool) -> Result<Tensor> {
        let bn_train = train && !self.bn_frozen;
        let mut f = self.trunk.features_t(x, bn_train).map_err(model_err)?;
        if !trunk_grads {
            f = f.detach();
        }
        let gap = global_avg_pool("gap", &f, self.layer_impl).map_err(model_err)?;
        let gmp = f.flatten_from(2)?.max(2)?;
        let e = self.embedding.forward(&(gap + gmp)?).map_err(model_err)?;
        Ok(l2_norm(&e)?)
    }

    /// The trainable parameters: the trunk's without its classifier head (their
    /// `followed_by_norm` cleared when BatchNorm is frozen), then the embedding's.
    pub fn params(&self) -> Vec<Param> {
        let trunk = self
            .trunk
            .params()
            .params()
            .iter()
            .filter(|p| !p.name.starts_with(HEAD_PREFIX))
            .map(|p| {
                let mut p = p.clone();
                p.meta.followed_by_norm &= !self.bn_frozen;
                p
            })
            .collect::<Vec<_>>();
        let embedding = self.embedding_weights.params().params().to_vec();
        trunk.into_iter().chain(embedding).collect()
    }

    /// The BatchNorm running statistics (checkpointed; frozen ones never change).
    pub fn buffer_tensors(&self) -> Vec<(String, Tensor)> {
        self.trunk.weights().buffer_tensors()
    }

    /// Restore the running statistics.
    pub fn load_buffer_tensors(&self, saved: &[(String, Tensor)]) -> Result<()> {
        self.trunk
            .weights()
            .load_buffer_tensors(saved)
            .map_err(|e| TaskError::State(e.to_string()))
    }

    /// Load a safetensors checkpoint in torchvision/timm names (`conv1.weight`, `layer1.0.*`):
    /// the trunk from it (its `fc.*` ignored), and `embedding.weight` / `embedding.bias` too when
    /// the file holds them (a retrieval checkpoint), whose shape must match `task.embedding_dim`.
    /// Everything is checked before anything is written. Returns the tensors loaded.
    pub fn load_pretrained(&self, path: &Path) -> Result<usize> {
        // SAFETY: the file is mapped read-only and only read while `file` lives; a file changed
        // underneath by another process is the same hazard every safetensors reader accepts.
        let file = unsafe { candle_core::safetensors::MmapedSafetensors::new(path) }
            .map_err(|e| TaskError::Other(format!("{}: {e}", path.display())))?;
        let mut updates = Vec::new();
        for p in self.embedding_weights.params().params() {
            let Ok(view) = file.get(&p.name) else {
                continue;
            };
            if view.shape() != p.var.dims() {
                return Err(invalid(
                    "embedding_dim",
                    format!(
                        "{} holds `{}` of shape {:?}, but an embedding of {} dimensions on this \
                         trunk needs {:?}; set task.embedding_dim to match the checkpoint",
                        path.display(),
                        p.name,
                        view.shape(),
                        self.dim,
                        p.var.dims()
                    ),
                ));
            }
            updates.push((p.var.clone(), file.load(&p.name, &Device::Cpu)?));
        }
        if updates.len() == 1 {
            return Err(TaskError::Other(format!(
                "{}: holds only one of embedding.weight / embedding.bias",
                path.display()
            )));
        }
        let trunk = self
            .trunk
            .load_pretrained(path, &[HEAD_PREFIX, EMBEDDING_PREFIX])
            .map_err(model_err)?;
        let n = updates.len();
        for (var, t) in updates {
            var.set(&t.to_dtype(var.dtype())?.to_device(var.device())?)?;
        }
        Ok(trunk + n)
    }
}
