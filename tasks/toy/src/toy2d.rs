//! The 2D scale-invariant toy (arXiv 2006.08217, the 2D toy example of its problem analysis).
//!
//! Minimise `f(w) = -(w/||w||) . (w*/||w*||)` over `w` in the plane, starting from `||w0|| = 1`
//! at `angle_deg` degrees from `w* = (1, 0)` (nearly opposite it). `f` is scale-invariant, so
//! `w . grad f(w) = 0` and plain GD grows the norm only by `lr^2 ||g||^2` per step, while heavy-ball
//! momentum grows it much faster; SGDP projects the radial part out of the update.
//!
//! `w` is a `[1, 2]` tensor: one output channel, so SGDP's channel view and layer view are both
//! the whole vector and its cosine test uses `row_len = 2`.

use adamp_task_api::{
    EvalOutput, Length, NoTable, OptimizerStep, ParamSet, Result, StepIndex, StepOutput, Task,
    TaskContext, TaskError, TaskFactory, TaskSpec,
};
use candle_core::{Tensor, Var};
use serde::{Deserialize, Serialize};

use crate::vector;

/// Settings of the 2D toy (`[task] kind = "toy2d"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Toy2dSettings {
    /// Angle between `w0` and `w* = (1, 0)` in degrees, in `(0, 180)`; near 180 is "nearly
    /// opposite" (the paper does not state the angle).
    #[serde(default = "default_angle")]
    pub angle_deg: f64,
    /// `||w0||` (the paper: 1).
    #[serde(default = "default_init_norm")]
    pub init_norm: f64,
}

fn default_angle() -> f64 {
    170.0
}

fn default_init_norm() -> f64 {
    1.0
}

impl Default for Toy2dSettings {
    fn default() -> Self {
        Self {
            angle_deg: default_angle(),
            init_norm: default_init_norm(),
        }
    }
}

impl Toy2dSettings {
    /// `angle_deg` in `(0, 180)`, `init_norm > 0`.
    pub fn validate(&self) -> Result<()> {
        if !(self.angle_deg > 0.0 && self.angle_deg < 180.0) {
            return Err(TaskError::InvalidSetting {
                key: "angle_deg".into(),
                expected: format!(
                    "expected an angle in degrees in (0, 180), got {}",
                    self.angle_deg
                ),
            });
        }
        vector::positive("init_norm", self.init_norm)
    }
}

/// What [`Toy2d`]'s evaluation returns.
const EVAL_METRICS: [&str; 2] = ["final_norm", "final_loss"];

impl TaskFactory for Toy2d {
    const KIND: &'static str = "toy2d";
    const LENGTH: Length = Length::Steps;
    type Settings = Toy2dSettings;
    type Model = NoTable;
    type Data = NoTable;

    fn check(spec: &TaskSpec<Self>) -> Result<()> {
        spec.task.validate()
    }

    fn eval_metrics(_spec: &TaskSpec<Self>) -> Vec<String> {
        EVAL_METRICS.map(String::from).to_vec()
    }

    fn build(spec: &TaskSpec<Self>, ctx: &TaskContext) -> Result<Box<dyn Task>> {
        Ok(Box::new(Toy2d::new(spec.task.clone(), ctx)?))
    }
}

/// The 2D toy task.
#[derive(Debug)]
pub struct Toy2d {
    w: Var,
    target: Tensor,
    settings: Toy2dSettings,
}

impl Toy2d {
    /// Build the toy on `ctx.device`; the seed is unused (the toy is deterministic).
    pub fn new(settings: Toy2dSettings, ctx: &TaskContext) -> Result<Self> {
        settings.validate()?;
        let theta = settings.angle_deg.to_radians();
        let r = settings.init_norm;
        let w = vector::weight(&[r * theta.cos(), r * theta.sin()], &ctx.device)?;
        let target = Tensor::from_slice(&[1.0f64, 0.0], (1, 2), &ctx.device)?;
        Ok(Self {
            w,
            target,
            settings,
        })
    }

    /// The scale-invariant loss `-(w . w*) / (||w|| ||w*||)` as a differentiable scalar.
    fn loss(&self) -> Result<Tensor> {
        let w = self.w.as_tensor();
        let dot = (w * &self.target)?.sum_all()?;
        let norm = w.sqr()?.sum_all()?.sqrt()?;
        Ok(dot.div(&norm)?.neg()?)
    }

    /// The trajectory scalars at the current `w`.
    fn trajectory(&self) -> Result<Vec<(String, f64)>> {
        let v = vector::values(&self.w)?;
        let norm = vector::norm(&v);
        Ok(vec![
            ("w_norm".to_string(), norm),
            ("w1".to_string(), v[0]),
            ("w2".to_string(), v[1]),
            ("cos_to_target".to_string(), v[0] / norm),
        ])
    }

    /// The settings the task was built with.
    pub fn settings(&self) -> &Toy2dSettings {
        &self.settings
    }
}

impl Task for Toy2d {
    fn describe(&self) -> String {
        format!(
            "toy2d: w in R^2 as a [1, 2] tensor (1 scale-invariant tensor), ||w0|| = {}, {} degrees from w* = (1, 0)",
            self.settings.init_norm, self.settings.angle_deg
        )
    }

    fn param_sets(&self) -> Vec<ParamSet> {
        vec![vector::param_set(&self.w)]
    }

    fn buffers(&self) -> Result<Vec<(String, Tensor)>> {
        Ok(Vec::new())
    }

    fn load_buffers(&mut self, _buffers: &[(String, Tensor)]) -> Result<()> {
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
        Ok(StepOutput {
            loss: value,
            scalars: self.trajectory()?,
        })
    }

    fn evaluate(&mut self) -> Result<EvalOutput> {
        let v = vector::values(&self.w)?;
        let norm = vector::norm(&v);
        Ok(EvalOutput::from_metrics(vec![
            (EVAL_METRICS[0].to_string(), norm),
            (EVAL_METRICS[1].to_string(), -v[0] / norm),
        ]))
    }
}
