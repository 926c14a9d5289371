//! [`Weights`]: a built network's tensors, whatever its input — the trainable parameters with
//! their metadata, the non-trainable buffers, and checkpointing by name.
//!
//! Every network of this crate, image or not, is built with a [`crate::ParamBuilder`] and ends
//! with [`crate::ParamBuilder::weights`]: its parameters carry [`adamp_optim::ParamMeta`] (kind,
//! whether a normalisation layer follows: the paper's scale invariance), its buffers
//! (BatchNorm running statistics, or any other state a network keeps) are kept out of the
//! parameter list, and both are saved and loaded by their dotted names. The image classifiers
//! ([`crate::Model`]) hold one; a sequence or audio network holds one beside its own layers and
//! forward pass, with whatever input shape it takes.

use std::collections::HashMap;
use std::path::Path;

use adamp_optim::ParamList;
use candle_core::{Device, Tensor, Var};

use crate::error::{ModelError, Result};

/// A network's parameters (sorted by name, with metadata) and buffers (sorted by name).
#[derive(Debug, Clone)]
pub struct Weights {
    params: ParamList,
    buffers: Vec<(String, Var)>,
}

impl Weights {
    /// Wrap a parameter list and buffers (as [`crate::ParamBuilder::weights`] makes them).
    pub fn new(params: ParamList, buffers: Vec<(String, Var)>) -> Self {
        Self { params, buffers }
    }

    /// The trainable parameters, sorted by name, with metadata (one default group).
    pub fn params(&self) -> ParamList {
        self.params.clone()
    }

    /// The buffers, sorted by name.
    pub fn buffers(&self) -> &[(String, Var)] {
        &self.buffers
    }

    /// Total number of trainable scalars.
    pub fn num_params(&self) -> usize {
        self.params.numel()
    }

    /// The buffers as `(name, tensor)`, for a task's checkpointed state.
    pub fn buffer_tensors(&self) -> Vec<(String, Tensor)> {
        self.buffers
            .iter()
            .map(|(n, v)| (n.clone(), v.as_tensor().clone()))
            .collect()
    }

    /// Restore every buffer from `saved` (by name, on this network's device and dtype). Every
    /// buffer is checked before any is written: a missing or mis-shaped one is an error naming
    /// it, and leaves the network unchanged.
    pub fn load_buffer_tensors(&self, saved: &[(String, Tensor)]) -> Result<()> {
        let mut updates = Vec::with_capacity(self.buffers.len());
        for (name, var) in &self.buffers {
            let (_, t) = saved.iter().find(|(n, _)| n == name).ok_or_else(|| {
                ModelError::Config(format!("the checkpoint has no buffer `{name}`"))
            })?;
            if t.dims() != var.dims() {
                return Err(ModelError::Config(format!(
                    "buffer `{name}` has shape {:?} in the checkpoint but {:?} in the model",
                    t.dims(),
                    var.dims()
                )));
            }
            updates.push((var, t));
        }
        for (var, t) in updates {
            var.set(&t.to_device(var.device())?.to_dtype(var.dtype())?)?;
        }
        Ok(())
    }

    fn named(&self) -> impl Iterator<Item = (&str, &Var)> {
        self.params
            .params()
            .iter()
            .map(|p| (p.name.as_str(), &p.var))
            .chain(self.buffers.iter().map(|(n, v)| (n.as_str(), v)))
    }

    /// Save parameters and buffers by name to a safetensors file (written atomically through
    /// `adamp_fsio`, so a crash never leaves a truncated checkpoint).
    pub fn save_safetensors(&self, path: &Path) -> Result<()> {
        let map: HashMap<String, Tensor> = self
            .named()
            .map(|(n, v)| (n.to_string(), v.as_tensor().clone()))
            .collect();
        adamp_fsio::write_atomic_with(path, |tmp| {
            candle_core::safetensors::save(&map, tmp).map_err(std::io::Error::other)
        })
        .map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Load parameters and buffers by name from `path`, leaving every tensor whose name starts
    /// with one of `skip` (e.g. `["fc."]`) as it is; `num_batches_tracked` entries (torch
    /// BatchNorm counters) are ignored. Every tensor is checked before any is written: a missing,
    /// unexpected or mis-shaped tensor is an error naming it (and both shapes), and leaves the
    /// network unchanged. Returns the number of tensors loaded.
    pub fn load_safetensors_except(&self, path: &Path, skip: &[&str]) -> Result<usize> {
        self.load_safetensors_under(path, "", skip)
    }

    /// [`Weights::load_safetensors_except`] for the sub-network whose tensors are named
    /// `<prefix><name>` here and `<name>` in the file (e.g. `prefix = "backbone."` loads a
    /// torchvision ImageNet checkpoint into a detector's backbone): only this network's tensors
    /// under `prefix` are loaded (and must all be in the file, unless their stripped name starts
    /// with one of `skip`); the file's tensors under a `skip` prefix are ignored, any other file
    /// tensor matching nothing is an error. Returns the number of tensors loaded.
    pub fn load_safetensors_under(
        &self,
        path: &Path,
        prefix: &str,
        skip: &[&str],
    ) -> Result<usize> {
        if !path.exists() {
            return Err(ModelError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "checkpoint file not found",
                ),
            });
        }
        let skipped = |name: &str| skip.iter().any(|p| name.starts_with(p));
        let mut file = candle_core::safetensors::load(path, &Device::Cpu)?;
        file.retain(|k, _| !k.ends_with("num_batches_tracked") && !skipped(k));
        let mut updates = Vec::new();
        let under = self
            .named()
            .filter_map(|(n, v)| n.strip_prefix(prefix).map(|s| (s, v)));
        for (name, var) in under.filter(|(n, _)| !skipped(n)) {
            let t = file
                .remove(name)
                .ok_or_else(|| ModelError::CheckpointMissing {
                    path: path.to_path_buf(),
                    name: name.to_string(),
                })?;
            if t.dims() != var.dims() {
                return Err(ModelError::CheckpointShape {
                    path: path.to_path_buf(),
                    name: name.to_string(),
                    file: t.dims().to_vec(),
                    model: var.dims().to_vec(),
                });
            }
            updates.push((var, t));
        }
        if let Some(name) = file.keys().min() {
            return Err(ModelError::CheckpointUnexpected {
                path: path.to_path_buf(),
                name: name.clone(),
            });
        }
        let n = updates.len();
        for (var, t) in updates {
            var.set(&t.to_dtype(var.dtype())?.to_device(var.device())?)?;
        }
        Ok(n)
    }
}
