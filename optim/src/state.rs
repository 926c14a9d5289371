//! Per-parameter optimizer state (step count and moment buffers) and its safetensors file format.
//!
//! A buffer lives on the host as a plain `Vec` while the fused CPU kernels update it, or as a
//! Candle tensor on the parameter's device for the tensor-op path; it is converted lazily when the
//! path changes. Files hold `<param>.<slot>` (slot names as in the references' `state[p]`:
//! `momentum_buffer` for torch SGD, `momentum` for SGDP, `exp_avg`/`exp_avg_sq` for the Adams),
//! `<param>.step` (f64 scalar), and metadata `optimizer`, `lr`, `format`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use candle_core::{DType, Device, Tensor, WithDType};

use crate::error::{OptimError, Result};
use crate::param::ParamList;
use crate::real::Real;

/// The format tag written into the file's metadata.
const FORMAT: &str = "adamp-optim/1";

/// One state buffer.
#[derive(Debug, Clone)]
pub(crate) enum Buf {
    /// Host f32 values (fused CPU path).
    F32(Vec<f32>),
    /// Host f64 values (fused CPU path).
    F64(Vec<f64>),
    /// A tensor on the parameter's device (tensor-op path).
    Tensor(Tensor),
}

/// An element type whose buffers can be borrowed from a [`Buf`].
pub(crate) trait HostElem: Real + WithDType {
    /// Borrow the host vector if the buffer holds this type.
    fn host_mut(b: &mut Buf) -> Option<&mut Vec<Self>>;
    /// Wrap a host vector.
    fn wrap(v: Vec<Self>) -> Buf;
}

impl HostElem for f32 {
    fn host_mut(b: &mut Buf) -> Option<&mut Vec<Self>> {
        match b {
            Buf::F32(v) => Some(v),
            _ => None,
        }
    }
    fn wrap(v: Vec<Self>) -> Buf {
        Buf::F32(v)
    }
}

impl HostElem for f64 {
    fn host_mut(b: &mut Buf) -> Option<&mut Vec<Self>> {
        match b {
            Buf::F64(v) => Some(v),
            _ => None,
        }
    }
    fn wrap(v: Vec<Self>) -> Buf {
        Buf::F64(v)
    }
}

/// The state of one parameter: how many steps it took, and its buffers (`None` until the first
/// step, as in the references' lazily initialised `state[p]`).
#[derive(Debug, Clone, Default)]
pub(crate) struct ParamState {
    /// Steps taken (the reference's `state['step']`).
    pub step: u64,
    /// One entry per slot of the rule (`Algo::slots`).
    pub bufs: Vec<Option<Buf>>,
}

impl ParamState {
    /// Empty state with `slots` buffers.
    pub(crate) fn new(slots: usize) -> Self {
        ParamState {
            step: 0,
            bufs: vec![None; slots],
        }
    }

    /// Make every buffer a host vector of `n` elements (zeros when uninitialised).
    pub(crate) fn host_bufs<T: HostElem>(&mut self, n: usize) -> Result<()> {
        for slot in self.bufs.iter_mut() {
            let converted = match slot.take() {
                None => T::wrap(vec![T::ZERO; n]),
                Some(Buf::Tensor(t)) => {
                    T::wrap(t.flatten_all()?.to_dtype(T::DTYPE)?.to_vec1::<T>()?)
                }
                Some(mut b) => {
                    if T::host_mut(&mut b).is_none() {
                        return Err(OptimError::StateMismatch(
                            "state buffer dtype differs from the parameter's".into(),
                        ));
                    }
                    b
                }
            };
            *slot = Some(converted);
        }
        Ok(())
    }

    /// A buffer as a tensor of `shape`/`dtype` on `device` (zeros when uninitialised).
    pub(crate) fn tensor(&self, slot: usize, t: &Tensor) -> Result<Tensor> {
        Ok(match &self.bufs[slot] {
            None => t.zeros_like()?,
            Some(b) => buf_to_tensor(b, t.dims(), t.device())?.to_dtype(t.dtype())?,
        })
    }
}

fn buf_to_tensor(b: &Buf, dims: &[usize], device: &Device) -> Result<Tensor> {
    Ok(match b {
        Buf::F32(v) => Tensor::from_slice(v, dims, device)?,
        Buf::F64(v) => Tensor::from_slice(v, dims, device)?,
        Buf::Tensor(t) => t.to_device(device)?,
    })
}

/// Write every parameter's state to `path` (atomically, through `adamp_fsio`).
pub(crate) fn save(
    path: &Path,
    optimizer: &str,
    lr: f64,
    slots: &[&str],
    params: &ParamList,
    states: &[ParamState],
) -> Result<()> {
    let mut tensors: BTreeMap<String, Tensor> = BTreeMap::new();
    for (p, s) in params.params().iter().zip(states) {
        tensors.insert(
            format!("{}.step", p.name),
            Tensor::new(s.step as f64, &Device::Cpu)?,
        );
        for (slot, b) in slots.iter().zip(&s.bufs) {
            if let Some(b) = b {
                let t = buf_to_tensor(b, p.var.dims(), &Device::Cpu)?;
                tensors.insert(format!("{}.{}", p.name, slot), t);
            }
        }
    }
    let meta: HashMap<String, String> = [
        ("optimizer".to_string(), optimizer.to_string()),
        ("lr".to_string(), format!("{lr:?}")),
        ("format".to_string(), FORMAT.to_string()),
    ]
    .into_iter()
    .collect();
    adamp_fsio::write_atomic_with(path, |tmp| {
        safetensors::serialize_to_file(tensors.iter(), Some(meta), tmp)
            .map_err(|e| std::io::Error::other(format!("safetensors: {e}")))
    })
    .map_err(|source| OptimError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// What [`load`] read: the lr and one state per parameter, validated against the parameters.
pub(crate) struct Loaded {
    pub lr: f64,
    pub states: Vec<ParamState>,
}

/// Read a file written by [`save`] and check it against `params`: same optimizer, every parameter
/// present with its step, buffers of the parameter's shape, no unknown keys.
pub(crate) fn load(
    path: &Path,
    optimizer: &str,
    slots: &[&str],
    params: &ParamList,
) -> Result<Loaded> {
    let bytes = std::fs::read(path).map_err(|source| OptimError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes)
        .map_err(|e| OptimError::SafeTensors(format!("{}: {e}", path.display())))?;
    let meta = header.metadata().clone().unwrap_or_default();
    let file_opt = meta
        .get("optimizer")
        .map(String::as_str)
        .unwrap_or("<none>");
    if file_opt != optimizer {
        return Err(OptimError::StateMismatch(format!(
            "{} holds state of optimizer `{file_opt}`, not `{optimizer}`",
            path.display()
        )));
    }
    let lr: f64 = meta.get("lr").and_then(|s| s.parse().ok()).ok_or_else(|| {
        OptimError::StateMismatch(format!(
            "{}: metadata `lr` missing or not a number",
            path.display()
        ))
    })?;
    let mut tensors = candle_core::safetensors::load_buffer(&bytes, &Device::Cpu)?;
    let mut problems = Vec::new();
    let mut states = Vec::with_capacity(params.len());
    for p in params.params() {
        let mut st = ParamState::new(slots.len());
        match tensors.remove(&format!("{}.step", p.name)) {
            Some(t) => {
                st.step = t
                    .to_dtype(DType::F64)?
                    .flatten_all()?
                    .to_vec1::<f64>()?
                    .first()
                    .copied()
                    .unwrap_or(0.0) as u64
            }
            None => problems.push(format!(
                "parameter `{}` is missing (no `{}.step`)",
                p.name, p.name
            )),
        }
        for (k, slot) in slots.iter().enumerate() {
            let key = format!("{}.{}", p.name, slot);
            match tensors.remove(&key) {
                Some(t) if t.dims() != p.var.dims() => problems.push(format!(
                    "`{key}` has shape {:?} but parameter `{}` has shape {:?}",
                    t.dims(),
                    p.name,
                    p.var.dims()
                )),
                Some(t) => {
                    let t = t.to_dtype(p.var.dtype())?;
                    st.bufs[k] = Some(match p.var.dtype() {
                        DType::F32 if p.var.device().is_cpu() => {
                            Buf::F32(t.flatten_all()?.to_vec1()?)
                        }
                        DType::F64 if p.var.device().is_cpu() => {
                            Buf::F64(t.flatten_all()?.to_vec1()?)
                        }
                        _ => Buf::Tensor(t.to_device(p.var.device())?),
                    });
                }
                None if st.step > 0 => problems.push(format!(
                    "parameter `{}` took {} step(s) but `{key}` is missing",
                    p.name, st.step
                )),
                None => {}
            }
        }
        states.push(st);
    }
    let mut unknown: Vec<_> = tensors.into_keys().collect();
    unknown.sort();
    if !unknown.is_empty() {
        problems.push(format!(
            "keys for no known parameter: {}",
            unknown.join(", ")
        ));
    }
    if !problems.is_empty() {
        return Err(OptimError::StateMismatch(format!(
            "{}: {}",
            path.display(),
            problems.join("; ")
        )));
    }
    Ok(Loaded { lr, states })
}
