//! Rosenbrock on a hemisphere with a redundant radial axis (arXiv 2006.08217, the 3D toy example
//! of its problem analysis).
//!
//! The weight is `w = (w1, w2, w3)` (a `[1, 3]` tensor, one channel) with `r = ||w||`. The loss only
//! sees the direction of `w`, through the gnomonic (central) projection of the upper hemisphere
//! `w3 > 0` onto the plane `w3 = 1`:
//!
//! `psi = w1 / w3`, `phi = w2 / w3`, `loss = (a - psi)^2 + b (phi - psi^2)^2`,
//!
//! so `loss(c w) = loss(w)` for `c > 0` and `r` is redundant: any growth of `r` only shrinks the
//! effective step. The optimum is `(psi, phi) = (a, a^2) = (1, 1)`. The run starts at
//! `(psi, phi) = (-2, 2)` with `r0 = 1`, i.e. `w0 = (-2, 2, 1) / 3`.

use adamp_task_api::{
    EvalOutput, Length, NoTable, OptimizerStep, ParamSet, Result, StepIndex, StepOutput, Task,
    TaskContext, TaskError, TaskFactory, TaskSpec,
};
use candle_core::{DType, Device, Tensor, Var};
use serde::{Deserialize, Serialize};

use crate::vector;

/// Settings of the 3D toy (`[task] kind = "toy3d"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Toy3dSettings {
    /// Starting `psi` (the paper: -2).
    #[serde(default = "default_start_psi")]
    pub start_psi: f64,
    /// Starting `phi` (the paper: 2).
    #[serde(default = "default_start_phi")]
    pub start_phi: f64,
    /// Starting radius `r0 = ||w0||` (the paper: 1).
    #[serde(default = "default_r0")]
    pub r0: f64,
    /// Rosenbrock `a` (optimum at `(a, a^2)`; the paper's optimum (1, 1) means `a = 1`).
    #[serde(default = "default_a")]
    pub a: f64,
    /// Rosenbrock `b` (the paper does not state it; the classic value is 100).
    #[serde(default = "default_b")]
    pub b: f64,
}

fn default_start_psi() -> f64 {
    -2.0
}
fn default_start_phi() -> f64 {
    2.0
}
fn default_r0() -> f64 {
    1.0
}
fn default_a() -> f64 {
    1.0
}
fn default_b() -> f64 {
    100.0
}

impl Default for Toy3dSettings {
    fn default() -> Self {
        Self {
            start_psi: default_start_psi(),
            start_phi: default_start_phi(),
            r0: default_r0(),
            a: default_a(),
            b: default_b(),
        }
    }
}

impl Toy3dSettings {
    /// `r0 > 0`, every other setting finite.
    pub fn validate(&self) -> Result<()> {
        vector::positive("r0", self.r0)?;
        for (key, v) in [
            ("start_psi", self.start_psi),
            ("start_phi", self.start_phi),
            ("a", self.a),
            ("b", self.b),
        ] {
            if !v.is_finite() {
                return Err(TaskError::InvalidSetting {
                    key: key.into(),
                    expected: format!("expected a finite number, got {v}"),
                });
            }
        }
        Ok(())
    }
}

/// What [`Toy3d`]'s evaluation returns.
const EVAL_METRICS: [&str; 3] = ["final_r", "peak_r", "final_loss"];

impl TaskFactory for Toy3d {
    const KIND: &'static str = "toy3d";
    const LENGTH: Length = Length::Steps;
    type Settings = Toy3dSettings;
    type Model = NoTable;
    type Data = NoTable;

    fn check(spec: &TaskSpec<Self>) -> Result<()> {
        spec.task.validate()
    }

    fn eval_metrics(_spec: &TaskSpec<Self>) -> Vec<String> {
        EVAL_METRICS.map(String::from).to_vec()
    }

    fn build(spec: &TaskSpec<Self>, ctx: &TaskContext) -> Result<Box<dyn Task>> {
        Ok(Box::new(Toy3d::new(spec.task.clone(), ctx)?))
    }
}

/// The 3D toy task.
#[derive(Debug)]
pub struct Toy3d {
    w: Var,
    settings: Toy3dSettings,
    /// The largest `r` seen so far (including `r0`); a buffer, so it survives a resume.
    peak_r: f64,
    device: Device,
}

impl Toy3d {
    /// Build the toy on `ctx.device`; the seed is unused (the toy is deterministic).
    pub fn new(settings: Toy3dSettings, ctx: &TaskContext) -> Result<Self> {
        settings.validate()?;
        let dir = [settings.start_psi, settings.start_phi, 1.0];
        let scale = settings.r0 / vector::norm(&dir);
        let w = vector::weight(&dir.map(|x| x * scale), &ctx.device)?;
        Ok(Self {
            w,
            peak_r: settings.r0,
            settings,
            device: ctx.device.clone(),
        })
    }

    /// `(psi, phi, r)` of a weight vector.
    pub fn coordinates(w: &[f64]) -> (f64, f64, f64) {
        (w[0] / w[2], w[1] / w[2], vector::norm(w))
    }

    /// The Rosenbrock function at `(psi, phi)`.
    pub fn rosenbrock(&self, psi: f64, phi: f64) -> f64 {
        let (a, b) = (self.settings.a, self.settings.b);
        (a - psi).powi(2) + b * (phi - psi * psi).powi(2)
    }

    /// The loss as a differentiable scalar.
    fn loss(&self) -> Result<Tensor> {
        let w = self.w.as_tensor();
        let w3 = w.narrow(1, 2, 1)?;
        let psi = w.narrow(1, 0, 1)?.div(&w3)?;
        let phi = w.narrow(1, 1, 1)?.div(&w3)?;
        let first = psi.affine(-1.0, self.settings.a)?.sqr()?;
        let second = (phi - psi.sqr()?)?.sqr()?.affine(self.settings.b, 0.0)?;
        Ok((first + second)?.sum_all()?)
    }

    /// The trajectory scalars at the current `w`.
    fn trajectory(&self) -> Result<Vec<(String, f64)>> {
        let (psi, phi, r) = Self::coordinates(&vector::values(&self.w)?);
        Ok(vec![
            ("psi".to_string(), psi),
            ("phi".to_string(), phi),
            ("r".to_string(), r),
        ])
    }

    /// The settings the task was built with.
    pub fn settings(&self) -> &Toy3dSettings {
        &self.settings
    }
}

impl Task for Toy3d {
    fn describe(&self) -> String {
        format!(
            "toy3d: w in R^3 as a [1, 3] tensor (1 scale-invariant tensor), gnomonic (psi, phi) = (w1/w3, w2/w3), start ({}, {}), r0 = {}, Rosenbrock a = {}, b = {}",
            self.settings.start_psi, self.settings.start_phi, self.settings.r0, self.settings.a, self.settings.b
        )
    }

    fn param_sets(&self) -> Vec<ParamSet> {
        vec![vector::param_set(&self.w)]
    }

    fn buffers(&self) -> Result<Vec<(String, Tensor)>> {
        let peak = Tensor::from_slice(&[self.peak_r], 1, &self.device)?.to_dtype(DType::F64)?;
        Ok(vec![("peak_r".to_string(), peak)])
    }

    fn load_buffers(&mut self, buffers: &[(String, Tensor)]) -> Result<()> {
        self.peak_r = vector::scalar_buffer(buffers, "peak_r")?;
        Ok(())
    }

    fn steps_per_epoch(&self) -> Option<usize> {
        None
    }

    fn initial_scalars(&self) -> Result<Vec<(String, f64)>> {
        self.trajectory()
    }

    fn train_step(
        &mut self,
        _index: StepIndex,
        optimizers: &mut dyn OptimizerStep,
    ) -> Result<StepOutput> {
        let loss = self.loss()?;
        let value = loss.to_scalar::<f64>()?;
        optimizers.backward_step(0, &loss)?;
        let scalars = self.trajectory()?;
        let r = vector::norm(&vector::values(&self.w)?);
        if r > self.peak_r {
            self.peak_r = r;
        }
        Ok(StepOutput {
            loss: value,
            scalars,
        })
    }

    fn evaluate(&mut self) -> Result<EvalOutput> {
        let (psi, phi, r) = Self::coordinates(&vector::values(&self.w)?);
        Ok(EvalOutput::from_metrics(vec![
            (EVAL_METRICS[0].to_string(), r),
            (EVAL_METRICS[1].to_string(), self.peak_r),
            (EVAL_METRICS[2].to_string(), self.rosenbrock(psi, phi)),
            ("final_psi".to_string(), psi),
            ("final_phi".to_string(), phi),
        ]))
    }
}
