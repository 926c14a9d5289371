//! The step driver shared by all five optimizers: looks up gradients, validates dtypes and shapes,
//! dispatches each parameter to the fused CPU kernels, the fused GPU kernels (CUDA parameters, or
//! CPU parameters on the emulated GPU in tests) or the tensor-op path, and assembles the
//! [`StepReport`]; also state save/load.

use std::path::Path;

use candle_core::backprop::GradStore;
use candle_core::DType;
use rayon::prelude::*;

use crate::algo::{Algo, StepCtx};
use crate::error::{OptimError, Result};
use crate::fused::{self, Outcome};
use crate::optimizer::StepReport;
use crate::param::{Param, ParamList};
use crate::state::{self, ParamState};
use crate::tensor_ops;

/// How an optimizer computes its step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StepBackend {
    /// Fused in-place kernels: over the parameter's CPU storage (one or two passes per parameter,
    /// threaded with rayon), and on CUDA (feature `cuda`) the fused kernels of `gpu/kernels.cu`,
    /// all parameters of a dtype in one launch per kernel. Parameters on other devices (Metal) use
    /// [`StepBackend::TensorOps`].
    #[default]
    Fused,
    /// Device-agnostic Candle tensor ops, on every device.
    TensorOps,
    /// CPU parameters stepped by the GPU kernels run on the host (feature `gpu-emulator`; see
    /// `gpu/emulated.rs`): the GPU path checked without a GPU. Other devices use tensor ops.
    #[cfg(feature = "gpu-emulator")]
    GpuEmulated,
}

/// Where one parameter's step runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    FusedCpu,
    TensorOps,
    #[cfg(feature = "cuda")]
    Cuda,
    #[cfg(feature = "gpu-emulator")]
    Emulated,
}

fn path_of(backend: StepBackend, device: &candle_core::Device) -> Route {
    match backend {
        StepBackend::Fused if device.is_cpu() => Route::FusedCpu,
        #[cfg(feature = "cuda")]
        StepBackend::Fused if device.is_cuda() => Route::Cuda,
        #[cfg(feature = "gpu-emulator")]
        StepBackend::GpuEmulated if device.is_cpu() => Route::Emulated,
        _ => Route::TensorOps,
    }
}

/// The common machinery behind every optimizer in this crate.
#[derive(Debug)]
pub(crate) struct Engine {
    pub name: &'static str,
    pub algo: Algo,
    pub lr: f64,
    pub weight_decay: f64,
    pub params: ParamList,
    pub states: Vec<ParamState>,
    pub backend: StepBackend,
    /// Whether steps compute the per-parameter statistics (`Optimizer::set_stats`). The CPU
    /// paths always do (they cost next to nothing there); the GPU path skips them when off.
    pub stats: bool,
    #[cfg(feature = "cuda")]
    pub cuda_scratch: crate::gpu::cuda::CudaScratch,
    #[cfg(feature = "gpu-emulator")]
    pub emulated_scratch: crate::gpu::plan::Scratch<Vec<u64>>,
}

impl Engine {
    /// An engine with fresh state. `params` must hold only f32/f64 parameters.
    pub(crate) fn new(
        name: &'static str,
        algo: Algo,
        lr: f64,
        weight_decay: f64,
        params: ParamList,
    ) -> Result<Self> {
        for p in params.params() {
            check_dtype(p)?;
        }
        for (i, g) in params.groups().iter().enumerate() {
            if !(g.lr_scale.is_finite() && g.lr_scale >= 0.0) {
                return Err(OptimError::InvalidParams(format!(
                    "group {i} (`{}`) has lr_scale {}; it must be a finite number >= 0",
                    g.name, g.lr_scale
                )));
            }
            if let Some(wd) = g.weight_decay {
                crate::hyper::non_negative("weight_decay", wd)?;
            }
        }
        let slots = algo.slots().len();
        let states = (0..params.len()).map(|_| ParamState::new(slots)).collect();
        Ok(Engine {
            name,
            algo,
            lr,
            weight_decay,
            params,
            states,
            backend: StepBackend::Fused,
            stats: true,
            #[cfg(feature = "cuda")]
            cuda_scratch: Default::default(),
            #[cfg(feature = "gpu-emulator")]
            emulated_scratch: Default::default(),
        })
    }

    /// One optimizer step over every parameter that has a gradient in `grads`.
    pub(crate) fn step(&mut self, grads: &GradStore) -> Result<StepReport> {
        let mut report = StepReport::default();
        // Validate everything before touching any parameter.
        let mut jobs = Vec::new();
        for (i, (p, st)) in self
            .params
            .params()
            .iter()
            .zip(self.states.iter_mut())
            .enumerate()
        {
            let Some(g) = grads.get(p.var.as_tensor()) else {
                report.skipped.push(p.name.clone());
                continue;
            };
            check_dtype(p)?;
            if g.dtype() != p.var.dtype() {
                return Err(OptimError::InvalidParams(format!(
                    "gradient of `{}` has dtype {:?} but the parameter is {:?}",
                    p.name,
                    g.dtype(),
                    p.var.dtype()
                )));
            }
            if g.dims() != p.var.dims() {
                return Err(OptimError::InvalidParams(format!(
                    "gradient of `{}` has shape {:?} but the parameter has shape {:?}",
                    p.name,
                    g.dims(),
                    p.var.dims()
                )));
            }
            let group = &self.params.groups()[p.group];
            let ctx = StepCtx {
                lr: self.lr * group.lr_scale,
                wd: group.weight_decay.unwrap_or(self.weight_decay),
                t: st.step + 1,
            };
            let path = path_of(self.backend, p.var.device());
            jobs.push((i, p, g, st, ctx, path));
        }
        let algo = self.algo;
        let run = |(i, p, g, st, ctx, path): Job<'_>| {
            let out = if path == Route::FusedCpu {
                fused::step_param(&algo, ctx, &p.name, &p.var, g, st)
            } else {
                tensor_ops::step_param(&algo, ctx, &p.var, g, st)
            };
            out.map(|o| (i, o))
        };
        let mut by_path: Vec<(Route, Vec<Job<'_>>)> = Vec::new();
        for j in jobs {
            match by_path.iter_mut().find(|(p, _)| *p == j.5) {
                Some((_, v)) => v.push(j),
                None => by_path.push((j.5, vec![j])),
            }
        }
        let mut outcomes: Vec<(usize, Outcome)> = Vec::new();
        for (path, jobs) in by_path {
            match path {
                Route::FusedCpu => {
                    outcomes.extend(jobs.into_par_iter().map(run).collect::<Result<Vec<_>>>()?)
                }
                Route::TensorOps => {
                    for j in jobs {
                        outcomes.push(run(j)?);
                    }
                }
                #[cfg(feature = "cuda")]
                Route::Cuda => {
                    let (idx, batch) = gpu_batch(jobs);
                    let done = crate::gpu::cuda::step_batch(
                        &algo,
                        batch,
                        self.stats,
                        &mut self.cuda_scratch,
                    )?;
                    outcomes.extend(idx.into_iter().zip(done));
                }
                #[cfg(feature = "gpu-emulator")]
                Route::Emulated => {
                    let (idx, batch) = gpu_batch(jobs);
                    let done = crate::gpu::emulated::step_batch(
                        &algo,
                        batch,
                        self.stats,
                        &mut self.emulated_scratch,
                    )?;
                    outcomes.extend(idx.into_iter().zip(done));
                }
            }
        }
        outcomes.sort_by_key(|(i, _)| *i);
        for (i, o) in outcomes {
            match o {
                Outcome::Updated(s) => report.params.push((i, s)),
                Outcome::UpdatedWithoutStats => report.unrecorded.push(i),
                Outcome::NonFinite => report
                    .nonfinite_grads
                    .push(self.params.params()[i].name.clone()),
            }
        }
        Ok(report)
    }

    /// Save state (see `state.rs` for the format).
    pub(crate) fn save(&self, path: &Path) -> Result<()> {
        state::save(
            path,
            self.name,
            self.lr,
            self.algo.slots(),
            &self.params,
            &self.states,
        )
    }

    /// Load state saved by [`Engine::save`] for the same parameter names and shapes.
    pub(crate) fn load(&mut self, path: &Path) -> Result<()> {
        let loaded = state::load(path, self.name, self.algo.slots(), &self.params)?;
        self.lr = loaded.lr;
        self.states = loaded.states;
        Ok(())
    }
}

/// One validated parameter step: index, parameter, gradient, state, scalars, where it runs.
type Job<'a> = (
    usize,
    &'a Param,
    &'a candle_core::Tensor,
    &'a mut ParamState,
    StepCtx,
    Route,
);

/// The jobs of a GPU batch as the GPU step takes them, and their indices.
#[cfg(any(feature = "cuda", feature = "gpu-emulator"))]
fn gpu_batch(jobs: Vec<Job<'_>>) -> (Vec<usize>, Vec<crate::gpu::Job<'_>>) {
    jobs.into_iter()
        .map(|(i, p, g, st, ctx, _)| {
            let job = crate::gpu::Job {
                var: &p.var,
                grad: g,
                state: st,
                ctx,
            };
            (i, job)
        })
        .unzip()
}

fn check_dtype(p: &Param) -> Result<()> {
    match p.var.dtype() {
        DType::F32 | DType::F64 => Ok(()),
        dtype => Err(OptimError::UnsupportedDtype {
            name: p.name.clone(),
            dtype,
        }),
    }
}
