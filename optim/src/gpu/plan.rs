//! One fused GPU step over a batch of parameters of one dtype: the descriptors, the launch
//! sequence of `kernels.cu` and the read-back, written once against [`Gpu`] so that the CUDA
//! device (`gpu/cuda.rs`) and the host emulation of the kernels (`gpu/emulated.rs`) run the same
//! plan.
//!
//! Per step: one upload (the descriptors), five or six launches for all parameters together, and
//! one small download: the per-parameter decisions (`dec`: view, decay, non-finite count; 32
//! bytes a parameter) on steps without statistics, the statistics (64 bytes a parameter) on
//! logged steps. The download is the step's only synchronisation with the host; it is needed to
//! report a NaN/Inf gradient in the step that met it, as the CPU path does.

use crate::algo::{Algo, StepCtx};
use crate::error::{OptimError, Result};
use crate::fused::Outcome;
use crate::gpu::desc::{self, Addrs, ParamDesc};
use crate::optimizer::{ParamStepStats, ProjectionView};

/// A kernel argument: a device address or an `int`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Arg {
    Addr(u64),
    Int(i32),
}

/// What the plan needs from a device: byte buffers, copies and launches by kernel name.
pub(crate) trait Gpu {
    /// A device buffer.
    type Buf;
    /// A zeroed buffer of at least `bytes` bytes.
    fn alloc(&self, bytes: usize) -> Result<Self::Buf>;
    /// The buffer's device address.
    fn addr(&self, buf: &Self::Buf) -> u64;
    /// Copy `src` to the start of `dst`.
    fn upload(&self, dst: &mut Self::Buf, src: &[u8]) -> Result<()>;
    /// Zero the first `bytes` bytes of `dst`.
    fn zero(&self, dst: &mut Self::Buf, bytes: usize) -> Result<()>;
    /// Copy the first `dst.len()` bytes of `src` to the host (waits for the device).
    fn download(&self, src: &Self::Buf, dst: &mut [u8]) -> Result<()>;
    /// Launch kernel `name` on `grid` blocks of `block` threads.
    fn launch(&self, name: &str, grid: u32, block: u32, args: &[Arg]) -> Result<()>;
    /// Threads per block of the row kernels (a power of two, 32..=256).
    fn row_threads(&self) -> u32;
}

/// The device buffers of a step, kept between steps and grown when a step needs more.
pub(crate) struct Scratch<B> {
    bufs: [Option<(B, usize)>; 6],
}

impl<B> Default for Scratch<B> {
    fn default() -> Self {
        Scratch {
            bufs: [None, None, None, None, None, None],
        }
    }
}

impl<B> std::fmt::Debug for Scratch<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sizes: Vec<usize> = self.bufs.iter().flatten().map(|(_, n)| *n).collect();
        f.debug_struct("Scratch").field("bytes", &sizes).finish()
    }
}

/// Scratch slots.
const DESC: usize = 0;
const PRE: usize = 1;
const WU: usize = 2;
const POST: usize = 3;
const DEC: usize = 4;
const OUT: usize = 5;

impl<B> Scratch<B> {
    /// The address of slot `i`, (re)allocated to hold at least `bytes` bytes.
    fn get<G: Gpu<Buf = B>>(&mut self, gpu: &G, i: usize, bytes: usize) -> Result<&mut B> {
        let bytes = bytes.max(8);
        let fits = matches!(&self.bufs[i], Some((_, n)) if *n >= bytes);
        if !fits {
            // Grow by half again, so that a slowly growing batch does not reallocate every step.
            let n = bytes + bytes / 2;
            self.bufs[i] = Some((gpu.alloc(n)?, n));
        }
        Ok(&mut self.bufs[i].as_mut().expect("allocated above").0)
    }
}

/// Element type of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dtype {
    F32,
    F64,
}

impl Dtype {
    fn suffix(self) -> &'static str {
        match self {
            Dtype::F32 => "f32",
            Dtype::F64 => "f64",
        }
    }
}

/// One parameter of a batch.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub dims: Vec<usize>,
    pub ctx: StepCtx,
    /// State slot 0 was never written (torch SGD's `buf is None`).
    pub first: bool,
    pub addrs: Addrs,
}

/// Run one step of `algo` over `items` (all of `dtype`), updating weights and state in place on
/// the device. `stats`: compute the statistics (logged steps); otherwise updated parameters come
/// back as [`Outcome::UpdatedWithoutStats`]. One outcome per item, in order.
pub(crate) fn run_step<G: Gpu>(
    gpu: &G,
    scratch: &mut Scratch<G::Buf>,
    algo: &Algo,
    dtype: Dtype,
    items: &[Item],
    stats: bool,
) -> Result<Vec<Outcome>> {
    // Parameters without elements take no part in the launches (no rows).
    let mut descs = Vec::with_capacity(items.len());
    let mut slot = Vec::with_capacity(items.len());
    let mut rows: i64 = 0;
    for it in items {
        let d = desc::describe(algo, it.ctx, &it.dims, it.first, it.addrs, rows);
        if d.rows * d.row_len == 0 {
            slot.push(None);
        } else {
            slot.push(Some(descs.len()));
            rows += d.rows;
            descs.push(d);
        }
    }
    let n = descs.len();
    let mut results = vec![[0f64; 8]; n];
    if n > 0 {
        results = launch_all(gpu, scratch, algo, dtype, &descs, rows, stats)?;
    }
    let eps = desc::stats_eps(algo);
    Ok(items
        .iter()
        .zip(slot)
        .map(|(it, s)| match s {
            None => Outcome::Updated(crate::projection::stats(
                &[],
                &[],
                eps,
                ProjectionView::None,
                algo.decay_factor(it.ctx.lr, it.ctx.wd, 1.0),
            )),
            Some(i) => outcome(&results[i], stats),
        })
        .collect())
}

/// The launches of one step and the read-back; one row of 8 doubles per described parameter.
fn launch_all<G: Gpu>(
    gpu: &G,
    scratch: &mut Scratch<G::Buf>,
    algo: &Algo,
    dtype: Dtype,
    descs: &[ParamDesc],
    rows: i64,
    stats: bool,
) -> Result<Vec<[f64; 8]>> {
    let n = descs.len();
    let grid_rows = u32::try_from(rows).map_err(|_| {
        OptimError::InvalidParams(format!(
            "{rows} channel-view rows in one GPU step exceed the launch limit"
        ))
    })?;
    let n_i32 = i32::try_from(n)
        .map_err(|_| OptimError::InvalidParams(format!("{n} parameters in one GPU step")))?;
    let rows = rows as usize;
    let f64s = std::mem::size_of::<f64>();

    let bytes = ParamDesc::as_bytes(descs);
    let desc_buf = scratch.get(gpu, DESC, bytes.len())?;
    gpu.upload(desc_buf, bytes)?;
    let desc = gpu.addr(desc_buf);
    let dec_buf = scratch.get(gpu, DEC, 4 * n * f64s)?;
    gpu.zero(dec_buf, 4 * n * f64s)?;
    let dec = gpu.addr(dec_buf);
    let pre = gpu.addr(scratch.get(gpu, PRE, 3 * rows * f64s)?);
    let wu = gpu.addr(scratch.get(gpu, WU, rows * f64s)?);
    let post = gpu.addr(scratch.get(gpu, POST, 2 * rows * f64s)?);

    let (rule, projects) = desc::rule_name(algo);
    let sfx = dtype.suffix();
    let threads = gpu.row_threads();
    let per_param = (n as u32).div_ceil(64);
    let st = Arg::Int(stats as i32);
    let nn = Arg::Int(n_i32);
    use Arg::Addr as A;
    gpu.launch(
        &format!("adamp_pre_rows_{sfx}"),
        grid_rows,
        threads,
        &[A(desc), nn, A(pre), A(dec)],
    )?;
    gpu.launch(
        "adamp_decide",
        per_param,
        64,
        &[A(desc), nn, A(pre), A(dec)],
    )?;
    gpu.launch(
        &format!("adamp_advance_{rule}_{sfx}"),
        grid_rows,
        threads,
        &[A(desc), nn, A(dec), A(wu), A(post), st],
    )?;
    if projects {
        gpu.launch(
            "adamp_layer_coef",
            per_param,
            64,
            &[A(desc), nn, A(pre), A(wu), A(dec)],
        )?;
        gpu.launch(
            &format!("adamp_project_{rule}_{sfx}"),
            grid_rows,
            threads,
            &[A(desc), nn, A(pre), A(dec), A(wu), A(post), st],
        )?;
    }
    let mut host = vec![0u8; if stats { 8 } else { 4 } * n * f64s];
    if stats {
        let out_buf = scratch.get(gpu, OUT, 8 * n * f64s)?;
        let out = gpu.addr(out_buf);
        gpu.launch(
            "adamp_stats",
            per_param,
            64,
            &[A(desc), nn, A(pre), A(post), A(dec), A(out)],
        )?;
        gpu.download(scratch.get(gpu, OUT, 8 * n * f64s)?, &mut host)?;
    } else {
        gpu.download(scratch.get(gpu, DEC, 4 * n * f64s)?, &mut host)?;
    }
    let vals: Vec<f64> = host
        .chunks_exact(f64s)
        .map(|c| f64::from_ne_bytes(c.try_into().expect("8 bytes")))
        .collect();
    let width = if stats { 8 } else { 4 };
    Ok(vals
        .chunks_exact(width)
        .map(|c| {
            let mut r = [0f64; 8];
            r[..width].copy_from_slice(c);
            r
        })
        .collect())
}

/// A parameter's outcome from its row of the read-back (`stats` layout: view, decay, norm before,
/// norm after, effective step, max |cos|; `dec` layout: view, decay, layer coefficient, non-finite
/// count).
fn outcome(r: &[f64; 8], stats: bool) -> Outcome {
    if r[0] < 0.0 {
        return Outcome::NonFinite;
    }
    let view = if r[0] == 1.0 {
        ProjectionView::Channel
    } else if r[0] == 2.0 {
        ProjectionView::Layer
    } else {
        ProjectionView::None
    };
    if !stats {
        return Outcome::UpdatedWithoutStats;
    }
    Outcome::Updated(ParamStepStats {
        projection: view,
        decay_factor: r[1],
        norm_before: r[2],
        norm_after: r[3],
        effective_step: r[4],
        max_abs_cos: r[5],
    })
}
