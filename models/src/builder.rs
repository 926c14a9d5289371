//! [`ParamBuilder`]: a Candle-`VarBuilder`-like builder that records every trainable tensor as an
//! [`adamp_optim::Param`] with its full dotted name and [`ParamMeta`], and BatchNorm running
//! statistics as *buffers* kept out of the parameter list.
//!
//! ```text
//! let b = ParamBuilder::new(seed, &device, LayerImpl::Fast);
//! let conv = Conv2d::new(&b.pp("layer1").pp(0).pp("conv1"), ...)?;   // registers layer1.0.conv1.weight
//! let (params, buffers) = b.finish()?;                               // sorted by name
//! ```

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use adamp_optim::{Param, ParamList, ParamMeta};
use candle_core::{DType, Device, Tensor, Var};

use crate::error::{ModelError, Result};
use crate::init::Init;
use crate::weights::Weights;

/// Which implementation the layers use for their heavy ops.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum LayerImpl {
    /// This crate's CPU kernels (`crate::ops`) for f32 tensors on the CPU; with the `cuda`
    /// feature, cuDNN convolutions and this crate's BatchNorm / residual-add kernels for f32 CUDA
    /// tensors (`crate::ops::cuda`); Candle's built-in ops otherwise. The default.
    #[default]
    Fast,
    /// Candle's built-in ops everywhere (the reference the fast kernels are tested against).
    Candle,
}

#[derive(Debug)]
struct Registry {
    seed: u64,
    device: Device,
    layer_impl: LayerImpl,
    params: BTreeMap<String, Param>,
    buffers: BTreeMap<String, Var>,
}

/// Records named parameters and buffers while a model is built. Cloning shares the registry;
/// [`ParamBuilder::pp`] returns a builder whose names get one more dotted prefix component.
#[derive(Debug, Clone)]
pub struct ParamBuilder {
    prefix: String,
    registry: Arc<Mutex<Registry>>,
}

impl ParamBuilder {
    /// A fresh builder; every tensor is initialised deterministically from `seed` and its name.
    pub fn new(seed: u64, device: &Device, layer_impl: LayerImpl) -> Self {
        Self {
            prefix: String::new(),
            registry: Arc::new(Mutex::new(Registry {
                seed,
                device: device.clone(),
                layer_impl,
                params: BTreeMap::new(),
                buffers: BTreeMap::new(),
            })),
        }
    }

    /// A builder for the sub-module `name` (`b.pp("layer1").pp(0)` names `layer1.0.*`).
    pub fn pp(&self, name: impl std::fmt::Display) -> Self {
        Self {
            prefix: self.path(&name.to_string()),
            registry: self.registry.clone(),
        }
    }

    /// The full dotted name of `name` under this builder's prefix (or the prefix itself if
    /// `name` is empty).
    pub fn path(&self, name: &str) -> String {
        match (self.prefix.is_empty(), name.is_empty()) {
            (true, _) => name.to_string(),
            (false, true) => self.prefix.clone(),
            (false, false) => format!("{}.{name}", self.prefix),
        }
    }

    /// This builder's prefix (the layer path used in error messages).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The device tensors are created on.
    pub fn device(&self) -> Device {
        self.lock().device.clone()
    }

    /// The layer implementation the model is being built with.
    pub fn layer_impl(&self) -> LayerImpl {
        self.lock().layer_impl
    }

    /// The model seed (layers with their own randomness, e.g. dropout, derive streams from it).
    pub fn seed(&self) -> u64 {
        self.lock().seed
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Registry> {
        // A poisoned lock only means another thread panicked mid-build; the data is still valid.
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Create and register the trainable f32 parameter `name` with `shape`, `init` and `meta`.
    pub fn param(&self, name: &str, shape: &[usize], init: Init, meta: ParamMeta) -> Result<Var> {
        let full = self.path(name);
        let mut reg = self.lock();
        if reg.params.contains_key(&full) || reg.buffers.contains_key(&full) {
            return Err(ModelError::DuplicateName(full));
        }
        let n = shape.iter().product();
        let values = init.sample(reg.seed, &full, n);
        let var = Var::from_tensor(&Tensor::from_vec(values, shape, &reg.device)?)?;
        reg.params.insert(
            full.clone(),
            Param {
                name: full,
                var: var.clone(),
                meta,
                group: 0,
            },
        );
        Ok(var)
    }

    /// Create and register the non-trainable f32 buffer `name` filled with `value`
    /// (BatchNorm `running_mean` / `running_var`).
    pub fn buffer(&self, name: &str, shape: &[usize], value: f64) -> Result<Var> {
        let full = self.path(name);
        let mut reg = self.lock();
        if reg.params.contains_key(&full) || reg.buffers.contains_key(&full) {
            return Err(ModelError::DuplicateName(full));
        }
        let t = Tensor::full(value as f32, shape, &reg.device)?.to_dtype(DType::F32)?;
        let var = Var::from_tensor(&t)?;
        reg.buffers.insert(full, var.clone());
        Ok(var)
    }

    /// Everything registered so far as a network's [`Weights`].
    pub fn weights(&self) -> Result<Weights> {
        let (params, buffers) = self.finish()?;
        Ok(Weights::new(params, buffers))
    }

    /// The parameters (as a single-group [`ParamList`], sorted by name) and the buffers (sorted by
    /// name) registered so far.
    pub fn finish(&self) -> Result<(ParamList, Vec<(String, Var)>)> {
        let reg = self.lock();
        let params = ParamList::new(reg.params.values().cloned().collect())?;
        let buffers = reg
            .buffers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok((params, buffers))
    }
}
