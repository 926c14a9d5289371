//! The fused GPU step on CUDA (feature `cuda`): `kernels.cu`, compiled to PTX by nvcc when the
//! crate is built (`build.rs`), loaded once per device through Candle's module cache, and
//! launched through cudarc on the device's stream, so it is ordered with every Candle op.
//!
//! Why build-time nvcc rather than NVRTC at run time: a CUDA-featured build already needs nvcc
//! (Candle's own kernels are compiled that way), compile errors surface when the crate is built
//! instead of on the first step on a GPU, and the machine that runs the binary needs no compiler
//! library. The PTX targets `CUDA_COMPUTE_CAP` (as candle-kernels) or compute_75 (the oldest that
//! CUDA 13's nvcc accepts), and the driver JIT-compiles it for the GPU at hand.
//!
//! Weights are updated in place through their storage's device address (the `Var`'s storage is
//! shared with the model, as `Var::set` writes it); the state buffers are device tensors owned by
//! the optimizer, created as zeros on first use.

use candle_core::cuda_backend::cudarc::driver::{CudaSlice, CudaStream};
use candle_core::cuda_backend::cudarc::driver::{DevicePtr, LaunchConfig, PushKernelArg};
use candle_core::cuda_backend::CudaDevice;
use candle_core::{DType, Device, Storage, Tensor};
use std::sync::Arc;

use crate::algo::Algo;
use crate::error::{OptimError, Result};
use crate::fused::Outcome;
use crate::gpu::desc::Addrs;
use crate::gpu::plan::{self, Arg, Dtype, Gpu, Item, Scratch};
use crate::gpu::Job;
use crate::state::Buf;

/// The kernels, compiled by `build.rs`.
const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/adamp_optim_kernels.ptx"));
/// Candle's name for the module in its per-device cache.
const MODULE: &str = "adamp_optim_kernels";

/// A CUDA device as the plan sees it.
pub(crate) struct CudaGpu {
    dev: CudaDevice,
    stream: Arc<CudaStream>,
}

impl CudaGpu {
    fn new(dev: &CudaDevice) -> Self {
        CudaGpu {
            dev: dev.clone(),
            stream: dev.cuda_stream(),
        }
    }
}

fn cuda_err(e: impl std::fmt::Display) -> OptimError {
    OptimError::Candle(candle_core::Error::Msg(format!("CUDA optimizer step: {e}")))
}

impl Gpu for CudaGpu {
    type Buf = CudaSlice<u8>;

    fn alloc(&self, bytes: usize) -> Result<CudaSlice<u8>> {
        self.stream.alloc_zeros::<u8>(bytes).map_err(cuda_err)
    }

    fn addr(&self, buf: &CudaSlice<u8>) -> u64 {
        let (p, _sync) = buf.device_ptr(&self.stream);
        p
    }

    fn upload(&self, dst: &mut CudaSlice<u8>, src: &[u8]) -> Result<()> {
        let mut view = dst.slice_mut(0..src.len());
        self.stream.memcpy_htod(src, &mut view).map_err(cuda_err)
    }

    fn zero(&self, dst: &mut CudaSlice<u8>, bytes: usize) -> Result<()> {
        let mut view = dst.slice_mut(0..bytes);
        self.stream.memset_zeros(&mut view).map_err(cuda_err)
    }

    fn download(&self, src: &CudaSlice<u8>, dst: &mut [u8]) -> Result<()> {
        let view = src.slice(0..dst.len());
        self.stream.memcpy_dtoh(&view, dst).map_err(cuda_err)
    }

    fn launch(&self, name: &str, grid: u32, block: u32, args: &[Arg]) -> Result<()> {
        let func = self.dev.get_or_load_custom_func(name, MODULE, PTX)?;
        let mut b = func.builder();
        for a in args {
            match a {
                Arg::Addr(x) => b.arg(x),
                Arg::Int(i) => b.arg(i),
            };
        }
        let cfg = LaunchConfig {
            grid_dim: (grid.max(1), 1, 1),
            block_dim: (block, 1, 1),
            shared_mem_bytes: 0,
        };
        // SAFETY: the arguments match the kernel's parameters (u64 addresses and ints, as
        // `kernels.cu` declares them), and every address is a live device allocation of the
        // size the kernel indexes (descriptors built from the tensors' own shapes).
        unsafe { b.launch(cfg) }.map_err(cuda_err)?;
        Ok(())
    }

    fn row_threads(&self) -> u32 {
        256
    }
}

/// The device address of a contiguous CUDA tensor's first element.
fn addr_of(t: &Tensor, stream: &CudaStream) -> Result<u64> {
    let (storage, layout) = t.storage_and_layout();
    let (start, _) = layout.contiguous_offsets().ok_or_else(|| {
        OptimError::InvalidParams("CUDA optimizer step: a tensor is not contiguous".into())
    })?;
    let Storage::Cuda(cs) = &*storage else {
        return Err(OptimError::InvalidParams(
            "CUDA optimizer step: a tensor is not on a CUDA device".into(),
        ));
    };
    Ok(match t.dtype() {
        DType::F32 => {
            let (p, _sync) = cs.as_cuda_slice::<f32>()?.device_ptr(stream);
            p + 4 * start as u64
        }
        DType::F64 => {
            let (p, _sync) = cs.as_cuda_slice::<f64>()?.device_ptr(stream);
            p + 8 * start as u64
        }
        dtype => {
            return Err(OptimError::InvalidParams(format!(
                "CUDA optimizer step: dtype {dtype:?} (f32 and f64 are supported)"
            )))
        }
    })
}

/// Per-device scratch buffers of the CUDA step, kept by the optimizer.
#[derive(Default)]
pub(crate) struct CudaScratch {
    by_device: Vec<(candle_core::cuda_backend::DeviceId, Scratch<CudaSlice<u8>>)>,
}

impl std::fmt::Debug for CudaScratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CudaScratch({} device(s))", self.by_device.len())
    }
}

impl CudaScratch {
    fn for_device(&mut self, dev: &CudaDevice) -> &mut Scratch<CudaSlice<u8>> {
        let id = dev.id();
        if let Some(i) = self.by_device.iter().position(|(d, _)| *d == id) {
            return &mut self.by_device[i].1;
        }
        self.by_device.push((id, Scratch::default()));
        &mut self.by_device.last_mut().expect("pushed").1
    }
}

/// The jobs of one (device, dtype) batch, with their indices among all jobs.
type Group<'a> = (CudaDevice, Dtype, Vec<(usize, Job<'a>)>);

/// Step CUDA parameters: one batch per (device, dtype); one outcome per job, in order.
pub(crate) fn step_batch(
    algo: &Algo,
    jobs: Vec<Job<'_>>,
    stats: bool,
    scratch: &mut CudaScratch,
) -> Result<Vec<Outcome>> {
    let n = jobs.len();
    let mut groups: Vec<Group<'_>> = Vec::new();
    for (i, j) in jobs.into_iter().enumerate() {
        let Device::Cuda(dev) = j.var.device() else {
            return Err(OptimError::InvalidParams(
                "CUDA optimizer step: a parameter is not on a CUDA device".into(),
            ));
        };
        let dtype = match j.var.dtype() {
            DType::F32 => Dtype::F32,
            _ => Dtype::F64,
        };
        match groups
            .iter_mut()
            .find(|(d, t, _)| d.id() == dev.id() && *t == dtype)
        {
            Some(g) => g.2.push((i, j)),
            None => groups.push((dev.clone(), dtype, vec![(i, j)])),
        }
    }
    let mut out: Vec<Option<Outcome>> = vec![None; n];
    for (dev, dtype, group) in groups {
        let gpu = CudaGpu::new(&dev);
        for (i, o) in group_step(&gpu, algo, dtype, group, stats, scratch.for_device(&dev))? {
            out[i] = Some(o);
        }
    }
    Ok(out
        .into_iter()
        .map(|o| o.expect("every job stepped"))
        .collect())
}

fn group_step(
    gpu: &CudaGpu,
    algo: &Algo,
    dtype: Dtype,
    jobs: Vec<(usize, Job<'_>)>,
    stats: bool,
    scratch: &mut Scratch<CudaSlice<u8>>,
) -> Result<Vec<(usize, Outcome)>> {
    // Tensors that must stay alive until the launches are queued (contiguous gradients).
    let mut keep: Vec<Tensor> = Vec::with_capacity(jobs.len());
    let mut items = Vec::with_capacity(jobs.len());
    let mut was_empty = Vec::with_capacity(jobs.len());
    let mut jobs = jobs;
    for (_, j) in jobs.iter_mut() {
        let w = j.var.as_tensor();
        let g = j.grad.contiguous()?;
        let empty: Vec<bool> = j.state.bufs.iter().map(|b| b.is_none()).collect();
        let first = empty.first().copied().unwrap_or(false);
        let mut slot_addrs = [0u64; 2];
        for (k, addr) in slot_addrs.iter_mut().enumerate().take(j.state.bufs.len()) {
            let t = j.state.tensor(k, w)?.contiguous()?;
            *addr = addr_of(&t, &gpu.stream)?;
            j.state.bufs[k] = Some(Buf::Tensor(t));
        }
        items.push(Item {
            dims: w.dims().to_vec(),
            ctx: j.ctx,
            first,
            addrs: Addrs {
                w: addr_of(w, &gpu.stream)?,
                g: addr_of(&g, &gpu.stream)?,
                a: slot_addrs[0],
                b: slot_addrs[1],
            },
        });
        keep.push(g);
        was_empty.push(empty);
    }
    let outcomes = plan::run_step(gpu, scratch, algo, dtype, &items, stats)?;
    drop(keep);
    let mut done = Vec::with_capacity(jobs.len());
    for (k, ((i, j), o)) in jobs.into_iter().zip(outcomes).enumerate() {
        if o == Outcome::NonFinite {
            // Untouched, as on the CPU: buffers that did not exist before stay absent.
            for (b, empty) in j.state.bufs.iter_mut().zip(&was_empty[k]) {
                if *empty {
                    *b = None;
                }
            }
        } else {
            j.state.step = j.ctx.t;
        }
        done.push((i, o));
    }
    Ok(done)
}
