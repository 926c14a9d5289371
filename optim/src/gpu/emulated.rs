//! The GPU step's kernels run on the host through `emu.h` (feature `gpu-emulator`): the same
//! `kernels.cu`, compiled by the system C++ compiler with every block's threads as OS threads, and
//! the same launch plan (`plan.rs`). [`crate::StepBackend::GpuEmulated`] steps CPU parameters this
//! way, so the tests compare the GPU path with the fused CPU path without a GPU.
//!
//! Weights and gradients are copied into host buffers the emulated kernels address directly, and
//! the new weights are written back with `Var::set`; the state lives in the optimizer's host
//! vectors, as on the fused CPU path.

use std::ffi::{c_char, c_int, c_void, CString};

use candle_core::Tensor;

use crate::algo::Algo;
use crate::error::{OptimError, Result};
use crate::fused::Outcome;
use crate::gpu::desc::Addrs;
use crate::gpu::plan::{self, Arg, Dtype, Gpu, Item, Scratch};
use crate::gpu::Job;
use crate::real::Real;
use crate::state::HostElem;

extern "C" {
    /// `EMU_TABLE_BEGIN` in `emu.h`: 0 when it ran kernel `name`, 1 when there is none.
    fn adamp_emu_launch(
        name: *const c_char,
        grid: u32,
        block: u32,
        args: *mut *mut c_void,
    ) -> c_int;
}

/// The emulated device: buffers are host memory (8-byte aligned), addresses are host pointers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EmulatedGpu {
    /// Threads per row block (32 keeps the emulation quick; the kernels take any power of two).
    pub threads: u32,
}

impl Gpu for EmulatedGpu {
    type Buf = Vec<u64>;

    fn alloc(&self, bytes: usize) -> Result<Vec<u64>> {
        Ok(vec![0u64; bytes.div_ceil(8)])
    }

    fn addr(&self, buf: &Vec<u64>) -> u64 {
        buf.as_ptr() as u64
    }

    fn upload(&self, dst: &mut Vec<u64>, src: &[u8]) -> Result<()> {
        as_bytes_mut(dst)[..src.len()].copy_from_slice(src);
        Ok(())
    }

    fn zero(&self, dst: &mut Vec<u64>, bytes: usize) -> Result<()> {
        as_bytes_mut(dst)[..bytes].fill(0);
        Ok(())
    }

    fn download(&self, src: &Vec<u64>, dst: &mut [u8]) -> Result<()> {
        // SAFETY: u64 storage viewed as bytes.
        let bytes = unsafe { std::slice::from_raw_parts(src.as_ptr() as *const u8, src.len() * 8) };
        dst.copy_from_slice(&bytes[..dst.len()]);
        Ok(())
    }

    fn launch(&self, name: &str, grid: u32, block: u32, args: &[Arg]) -> Result<()> {
        let mut vals: Vec<u64> = Vec::with_capacity(args.len());
        let mut ints: Vec<i32> = Vec::with_capacity(args.len());
        for a in args {
            match a {
                Arg::Addr(x) => vals.push(*x),
                Arg::Int(i) => ints.push(*i),
            }
        }
        let (mut vi, mut ii) = (0, 0);
        let mut ptrs: Vec<*mut c_void> = Vec::with_capacity(args.len());
        for a in args {
            match a {
                Arg::Addr(_) => {
                    ptrs.push(&mut vals[vi] as *mut u64 as *mut c_void);
                    vi += 1;
                }
                Arg::Int(_) => {
                    ptrs.push(&mut ints[ii] as *mut i32 as *mut c_void);
                    ii += 1;
                }
            }
        }
        let cname = CString::new(name).expect("kernel names have no NUL");
        // SAFETY: `ptrs` point at one value per kernel parameter, of the parameter's type (the
        // plan passes addresses as u64 and counts as int, as `kernels.cu` declares them); every
        // address is a live host buffer of the size the kernel indexes.
        let rc = unsafe { adamp_emu_launch(cname.as_ptr(), grid, block, ptrs.as_mut_ptr()) };
        if rc != 0 {
            return Err(OptimError::InvalidParams(format!(
                "emulated GPU: no kernel named `{name}`"
            )));
        }
        Ok(())
    }

    fn row_threads(&self) -> u32 {
        self.threads
    }
}

fn as_bytes_mut(v: &mut [u64]) -> &mut [u8] {
    // SAFETY: u64 storage viewed as bytes.
    unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr() as *mut u8, v.len() * 8) }
}

/// Step CPU parameters through the GPU plan on the emulated device; one outcome per job.
pub(crate) fn step_batch(
    algo: &Algo,
    jobs: Vec<Job<'_>>,
    stats: bool,
    scratch: &mut Scratch<Vec<u64>>,
) -> Result<Vec<Outcome>> {
    let gpu = EmulatedGpu { threads: 32 };
    // One batch per dtype, as the CUDA path launches.
    let (f32_jobs, f64_jobs): (Vec<_>, Vec<_>) = jobs
        .into_iter()
        .enumerate()
        .partition(|(_, j)| j.var.dtype() == candle_core::DType::F32);
    let mut done: Vec<(usize, Outcome)> = Vec::new();
    done.extend(typed::<f32>(
        &gpu,
        algo,
        f32_jobs,
        stats,
        scratch,
        Dtype::F32,
    )?);
    done.extend(typed::<f64>(
        &gpu,
        algo,
        f64_jobs,
        stats,
        scratch,
        Dtype::F64,
    )?);
    done.sort_by_key(|(i, _)| *i);
    Ok(done.into_iter().map(|(_, o)| o).collect())
}

fn typed<T: HostElem + Real>(
    gpu: &EmulatedGpu,
    algo: &Algo,
    jobs: Vec<(usize, Job<'_>)>,
    stats: bool,
    scratch: &mut Scratch<Vec<u64>>,
    dtype: Dtype,
) -> Result<Vec<(usize, Outcome)>> {
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    // Host copies of weights and gradients, the state as host vectors.
    let mut ws: Vec<Vec<T>> = Vec::new();
    let mut gs: Vec<Vec<T>> = Vec::new();
    let mut firsts = Vec::new();
    let mut was_empty = Vec::new();
    let mut jobs = jobs;
    for (_, j) in jobs.iter_mut() {
        ws.push(j.var.as_tensor().flatten_all()?.to_vec1::<T>()?);
        gs.push(j.grad.flatten_all()?.to_dtype(T::DTYPE)?.to_vec1::<T>()?);
        let empty: Vec<bool> = j.state.bufs.iter().map(|b| b.is_none()).collect();
        firsts.push(empty.first().copied().unwrap_or(false));
        was_empty.push(empty);
        j.state.host_bufs::<T>(j.var.elem_count())?;
    }
    let mut items = Vec::with_capacity(jobs.len());
    for (k, (_, j)) in jobs.iter_mut().enumerate() {
        let mut slots = j.state.bufs.iter_mut().map(|b| {
            b.as_mut()
                .and_then(T::host_mut)
                .map(|v| v.as_mut_ptr() as u64)
        });
        let a = slots.next().flatten().unwrap_or(0);
        let b = slots.next().flatten().unwrap_or(0);
        items.push(Item {
            dims: j.var.dims().to_vec(),
            ctx: j.ctx,
            first: firsts[k],
            addrs: Addrs {
                w: ws[k].as_mut_ptr() as u64,
                g: gs[k].as_ptr() as u64,
                a,
                b,
            },
        });
    }
    let outcomes = plan::run_step(gpu, scratch, algo, dtype, &items, stats)?;
    let mut done = Vec::with_capacity(jobs.len());
    for (k, ((i, j), o)) in jobs.into_iter().zip(outcomes).enumerate() {
        match o {
            Outcome::NonFinite => {
                // Untouched, as on the CPU: buffers that did not exist before stay absent.
                for (b, empty) in j.state.bufs.iter_mut().zip(&was_empty[k]) {
                    if *empty {
                        *b = None;
                    }
                }
            }
            _ => {
                let w = Tensor::from_slice(&ws[k], j.var.dims(), j.var.device())?;
                j.var.set(&w)?;
                j.state.step = j.ctx.t;
            }
        }
        done.push((i, o));
    }
    Ok(done)
}
