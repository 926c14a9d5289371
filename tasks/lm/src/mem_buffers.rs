//! The training memories as task buffers of a fixed shape, so a checkpoint holds them and a
//! resumed run continues the stream with the memories an uninterrupted run would have.
//!
//! `mems.<i>` (`i` in `0..=n_layer`, `MemTransformerLM.init_mems`' `n_layer + 1` tensors) is
//! `[mem_len, batch, d_model]` f32: the memory's `mlen` rows first, zeros after; `mems.len` (one
//! `u32`) is `mlen`. With `mem_len = 0` there is only `mems.len` (always 0).

use adamp_models::lm::Mems;
use adamp_task_api::{Result, TaskError};
use candle_core::{DType, Device, Tensor};

/// Buffer name of the memory length.
pub const LEN_BUFFER: &str = "mems.len";

/// Buffer name of layer `i`'s memory.
pub fn layer_buffer(i: usize) -> String {
    format!("mems.{i}")
}

/// The fixed layout of the memory buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemLayout {
    /// Tensors (`n_layer + 1`).
    pub layers: usize,
    /// Rows kept (`mem_len`).
    pub mem_len: usize,
    /// Parallel streams.
    pub batch: usize,
    /// Width (`d_model`).
    pub d_model: usize,
}

impl MemLayout {
    /// `mems` as buffers (see the module docs).
    pub fn to_buffers(&self, mems: &Mems, device: &Device) -> Result<Vec<(String, Tensor)>> {
        let mlen = mems.mlen();
        if mlen > self.mem_len {
            return Err(TaskError::Other(format!(
                "the model kept {mlen} memory rows, more than mem_len = {}",
                self.mem_len
            )));
        }
        let mut out = vec![(
            LEN_BUFFER.to_string(),
            Tensor::from_slice(&[mlen as u32], 1, device)?,
        )];
        if self.mem_len == 0 {
            return Ok(out);
        }
        for i in 0..self.layers {
            let full = if mlen == 0 {
                Tensor::zeros((self.mem_len, self.batch, self.d_model), DType::F32, device)?
            } else {
                let m = mems.layers.get(i).ok_or_else(|| {
                    TaskError::Other(format!(
                        "the memories hold {} tensors, expected {}",
                        mems.layers.len(),
                        self.layers
                    ))
                })?;
                if mlen == self.mem_len {
                    m.clone()
                } else {
                    let pad = Tensor::zeros(
                        (self.mem_len - mlen, self.batch, self.d_model),
                        m.dtype(),
                        device,
                    )?;
                    Tensor::cat(&[m, &pad], 0)?
                }
            };
            out.push((layer_buffer(i), full));
        }
        Ok(out)
    }

    /// The memories saved by [`MemLayout::to_buffers`]; errors name a missing or mis-shaped
    /// buffer. `empty` is the model's empty memory of this batch (returned when `mems.len` is 0).
    pub fn from_buffers(&self, buffers: &[(String, Tensor)], empty: Mems) -> Result<Mems> {
        let find = |name: &str| -> Result<&Tensor> {
            buffers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, t)| t)
                .ok_or_else(|| {
                    TaskError::State(format!(
                        "buffer `{name}` (the training memories) is missing"
                    ))
                })
        };
        let len: Vec<u32> = find(LEN_BUFFER)?
            .flatten_all()?
            .to_dtype(DType::U32)?
            .to_vec1()?;
        let mlen = match len.as_slice() {
            [n] => *n as usize,
            _ => {
                return Err(TaskError::State(format!(
                    "buffer `{LEN_BUFFER}` holds {} values, expected 1",
                    len.len()
                )))
            }
        };
        if mlen > self.mem_len {
            return Err(TaskError::State(format!(
                "buffer `{LEN_BUFFER}` says {mlen} memory rows, more than this run's task.mem_len = {}",
                self.mem_len
            )));
        }
        if mlen == 0 {
            return Ok(empty);
        }
        let want = [self.mem_len, self.batch, self.d_model];
        let mut layers = Vec::with_capacity(self.layers);
        for i in 0..self.layers {
            let name = layer_buffer(i);
            let t = find(&name)?;
            if t.dims() != want {
                return Err(TaskError::State(format!(
                    "buffer `{name}` has shape {:?}, this run's memories are {want:?} \
                     (task.mem_len, training.batch_size, model.d_model)",
                    t.dims()
                )));
            }
            layers.push(t.narrow(0, 0, mlen)?.to_dtype(DType::F32)?.detach());
        }
        Ok(Mems { layers })
    }
}
