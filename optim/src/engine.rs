//! The step driver shared by all five optimizers: looks up gradients, validates dtypes and shapes,
//! dispatches each parameter to the fused CPU kernels or the tensor-op path, and assembles the
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
    /// Fused in-place kernels over the parameter's CPU storage (one or two passes per parameter,
    /// threaded with rayon). Parameters on other devices use [`StepBackend::TensorOps`].
    #[default]
    Fused,
    /// Device-agnostic Candle tensor ops (what CUDA/Metal parameters always use).
    TensorOps,
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
            let fused = self.backend == StepBackend::Fused && p.var.device().is_cpu();
            jobs.push((i, p, g, st, ctx, fused));
        }
        let algo = self.algo;
        let run = |(i, p, g, st, ctx, fused): (
            usize,
            &Param,
            &candle_core::Tensor,
            &mut ParamState,
            StepCtx,
            bool,
        )| {
            let out = if fused {
                fused::step_param(&algo, ctx, &p.name, &p.var, g, st)
            } else {
                tensor_ops::step_param(&algo, ctx, &p.var, g, st)
            };
            out.map(|o| (i, o))
        };
        let (fused_jobs, tensor_jobs): (Vec<_>, Vec<_>) = jobs.into_iter().partition(|j| j.5);
        let mut outcomes: Vec<(usize, Outcome)> =
            fused_jobs.into_par_iter().map(run).collect::<Result<_>>()?;
        for j in tensor_jobs {
            outcomes.push(run(j)?);
        }
        outcomes.sort_by_key(|(i, _)| *i);
        for (i, o) in outcomes {
            match o {
                Outcome::Updated(s) => report.params.push((i, s)),
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

fn check_dtype(p: &Param) -> Result<()> {
    match p.var.dtype() {
        DType::F32 | DType::F64 => Ok(()),
        dtype => Err(OptimError::UnsupportedDtype {
            name: p.name.clone(),
            dtype,
        }),
    }
}
