//! The [`Recorder`]: buffers rows in memory; the loop rewrites the files from it at every
//! evaluation and checkpoint.

use adamp_optim::{ProjectionView, StepReport};
use adamp_task_api::{ParamSet, StepOutput};
use serde::{Deserialize, Serialize};

/// The `param` value of run-level rows.
pub const RUN_LEVEL: &str = "-";
/// The `param` value of the aggregate over scale-invariant parameters.
pub const ALL: &str = "__all__";

/// A scale-invariant parameter the recorder follows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackedParam {
    /// Index of its parameter set.
    pub set: usize,
    /// Index into that set's `ParamList::params()`.
    pub index: usize,
    /// The `param` column: its name, prefixed by the set name when there are several sets.
    pub name: String,
}

impl TrackedParam {
    /// Every parameter with `meta.followed_by_norm`, in set then name order.
    pub fn select(sets: &[ParamSet]) -> Vec<TrackedParam> {
        let many = sets.len() > 1;
        let mut out = Vec::new();
        for (s, set) in sets.iter().enumerate() {
            for (i, p) in set.params.params().iter().enumerate() {
                if p.meta.followed_by_norm {
                    let name = if many {
                        format!("{}.{}", set.name, p.name)
                    } else {
                        p.name.clone()
                    };
                    out.push(TrackedParam {
                        set: s,
                        index: i,
                        name,
                    });
                }
            }
        }
        out
    }
}

/// One long-format row of `metrics.csv` (the `run` column is the recorder's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Optimizer steps taken (0 = the starting point).
    pub step: u64,
    /// Epoch (1-based; 0 for the starting point).
    pub epoch: u64,
    /// Parameter name, `__all__` or `-`.
    pub param: String,
    /// Metric name.
    pub metric: String,
    /// Value (stored as bits in checkpoints, so NaN and every digit survive).
    #[serde(with = "f64_bits")]
    pub value: f64,
}

/// One row of `summary.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// Epoch (1-based).
    pub epoch: u64,
    /// Steps taken at the end of the epoch.
    pub step: u64,
    /// Mean training loss over the epoch's steps.
    #[serde(with = "f64_bits")]
    pub train_loss: f64,
    /// Learning rate of the epoch's last step.
    #[serde(with = "f64_bits")]
    pub lr: f64,
    /// Seconds since the run started (summed over the processes that started and resumed it).
    #[serde(with = "f64_bits")]
    pub time_s: f64,
    /// `__all__` weight norm after the epoch's last step.
    #[serde(with = "f64_bits")]
    pub mean_weight_norm: f64,
    /// Mean over the epoch's steps of the `__all__` effective step size.
    #[serde(with = "f64_bits")]
    pub mean_effective_step: f64,
    /// `running`, `completed` or `diverged`.
    pub status: String,
    /// `(eval_<name>, value)` in the task's order.
    pub evals: Vec<(String, F64Bits)>,
}

/// An f64 that serialises as its bits.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct F64Bits(#[serde(with = "f64_bits")] pub f64);

/// Everything the recorder holds; saved in checkpoints so a resumed run continues the same files.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecorderState {
    /// `metrics.csv` rows so far (interned in checkpoints: `[step, epoch, param, metric, bits]`).
    #[serde(with = "compact_rows")]
    pub rows: Vec<Row>,
    /// `summary.csv` rows so far.
    pub summary: Vec<SummaryRow>,
    /// Sum of losses over the current epoch's steps.
    #[serde(with = "f64_bits")]
    pub epoch_loss_sum: f64,
    /// Steps in the current epoch so far.
    pub epoch_steps: u64,
    /// Sum of `__all__` effective steps over the current epoch's steps.
    #[serde(with = "f64_bits")]
    pub epoch_effective_sum: f64,
    /// Steps with an `__all__` effective step in the current epoch.
    pub epoch_effective_steps: u64,
    /// `__all__` weight norm after the last step.
    #[serde(with = "f64_bits")]
    pub last_mean_norm: f64,
}

/// Records one run.
#[derive(Debug, Clone)]
pub struct Recorder {
    run: String,
    tracked: Vec<TrackedParam>,
    state: RecorderState,
}

impl Recorder {
    /// A recorder for run `run` (`<config>/<label>/seed-<n>`) following `tracked`.
    pub fn new(run: String, tracked: Vec<TrackedParam>) -> Self {
        Self {
            run,
            tracked,
            state: RecorderState {
                last_mean_norm: f64::NAN,
                ..RecorderState::default()
            },
        }
    }

    /// The run id.
    pub fn run(&self) -> &str {
        &self.run
    }

    /// The state, for checkpoints and the CSV writers.
    pub fn state(&self) -> &RecorderState {
        &self.state
    }

    /// Continue from a checkpointed state.
    pub fn restore(&mut self, state: RecorderState) {
        self.state = state;
    }

    fn push(&mut self, step: u64, epoch: u64, param: &str, metric: &str, value: f64) {
        self.state.rows.push(Row {
            step,
            epoch,
            param: param.to_string(),
            metric: metric.to_string(),
            value,
        });
    }

    /// Record run-level scalars at step 0 (the starting point).
    pub fn record_start(&mut self, scalars: &[(String, f64)]) {
        for (name, value) in scalars {
            self.push(0, 0, RUN_LEVEL, name, *value);
        }
    }

    /// Record one step. Accumulates the epoch's loss every step and the effective step on every
    /// step whose reports carry statistics (every step on the CPU; on the GPU, where the loop
    /// turns statistics off between logged steps, the logged ones); writes rows only when `log`
    /// is true (every `log_every` steps, and the last step).
    #[allow(clippy::too_many_arguments)]
    pub fn record_step(
        &mut self,
        step: u64,
        epoch: u64,
        output: &StepOutput,
        lr: f64,
        time_s: f64,
        reports: &[(usize, StepReport)],
        log: bool,
    ) {
        self.state.epoch_loss_sum += output.loss;
        self.state.epoch_steps += 1;
        let stats: Vec<_> = self
            .tracked
            .iter()
            .map(|t| {
                reports
                    .iter()
                    .rev()
                    .filter(|(set, _)| *set == t.set)
                    .find_map(|(_, r)| r.params.iter().find(|(i, _)| *i == t.index))
                    .map(|(_, s)| *s)
            })
            .collect();
        let present: Vec<_> = stats.iter().flatten().collect();
        let n = present.len() as f64;
        let mean = |f: &dyn Fn(&adamp_optim::ParamStepStats) -> f64| {
            present.iter().map(|s| f(s)).sum::<f64>() / n
        };
        let projected = |s: &adamp_optim::ParamStepStats| {
            if s.projection == ProjectionView::None {
                0.0
            } else {
                1.0
            }
        };
        if !present.is_empty() {
            let eff = mean(&|s| s.effective_step);
            self.state.epoch_effective_sum += eff;
            self.state.epoch_effective_steps += 1;
            self.state.last_mean_norm = mean(&|s| s.norm_after);
        }
        if !log {
            return;
        }
        self.push(step, epoch, RUN_LEVEL, "loss", output.loss);
        self.push(step, epoch, RUN_LEVEL, "lr", lr);
        self.push(step, epoch, RUN_LEVEL, "time_s", time_s);
        for (name, value) in &output.scalars {
            self.push(step, epoch, RUN_LEVEL, name, *value);
        }
        for (t, s) in self.tracked.clone().iter().zip(&stats) {
            if let Some(s) = s {
                self.push(step, epoch, &t.name, "weight_norm", s.norm_after);
                self.push(step, epoch, &t.name, "effective_step", s.effective_step);
                self.push(step, epoch, &t.name, "max_abs_cos", s.max_abs_cos);
                self.push(step, epoch, &t.name, "projected", projected(s));
            }
        }
        if !present.is_empty() {
            self.push(step, epoch, ALL, "weight_norm", mean(&|s| s.norm_after));
            self.push(
                step,
                epoch,
                ALL,
                "effective_step",
                mean(&|s| s.effective_step),
            );
            self.push(step, epoch, ALL, "max_abs_cos", mean(&|s| s.max_abs_cos));
            self.push(step, epoch, ALL, "projected", mean(&projected));
        }
    }

    /// Close an epoch: eval rows (`eval_<name>`) and a summary row with `status`.
    pub fn record_epoch_end(
        &mut self,
        step: u64,
        epoch: u64,
        lr: f64,
        time_s: f64,
        evals: &[(String, f64)],
        status: &str,
    ) {
        let evals: Vec<(String, F64Bits)> = evals
            .iter()
            .map(|(k, v)| (format!("eval_{k}"), F64Bits(*v)))
            .collect();
        for (name, value) in &evals {
            self.push(step, epoch, RUN_LEVEL, name, value.0);
        }
        let s = &mut self.state;
        let mean_eff = if s.epoch_effective_steps == 0 {
            f64::NAN
        } else {
            s.epoch_effective_sum / s.epoch_effective_steps as f64
        };
        let train_loss = if s.epoch_steps == 0 {
            f64::NAN
        } else {
            s.epoch_loss_sum / s.epoch_steps as f64
        };
        s.summary.push(SummaryRow {
            epoch,
            step,
            train_loss,
            lr,
            time_s,
            mean_weight_norm: s.last_mean_norm,
            mean_effective_step: mean_eff,
            status: status.to_string(),
            evals,
        });
        s.epoch_loss_sum = 0.0;
        s.epoch_steps = 0;
        s.epoch_effective_sum = 0.0;
        s.epoch_effective_steps = 0;
    }
}

/// Rows in checkpoints: parameter and metric names interned, values as bits (about a third of
/// the size of one JSON object per row).
mod compact_rows {
    use std::collections::HashMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Row;

    #[derive(Serialize, Deserialize)]
    struct Compact {
        params: Vec<String>,
        metrics: Vec<String>,
        rows: Vec<(u64, u64, u32, u32, u64)>,
    }

    fn intern(names: &mut Vec<String>, index: &mut HashMap<String, u32>, name: &str) -> u32 {
        if let Some(&i) = index.get(name) {
            return i;
        }
        let i = names.len() as u32;
        names.push(name.to_string());
        index.insert(name.to_string(), i);
        i
    }

    pub fn serialize<S: Serializer>(rows: &[Row], s: S) -> Result<S::Ok, S::Error> {
        let (mut params, mut metrics) = (Vec::new(), Vec::new());
        let (mut pi, mut mi) = (HashMap::new(), HashMap::new());
        let rows = rows
            .iter()
            .map(|r| {
                let p = intern(&mut params, &mut pi, &r.param);
                let m = intern(&mut metrics, &mut mi, &r.metric);
                (r.step, r.epoch, p, m, r.value.to_bits())
            })
            .collect();
        Compact {
            params,
            metrics,
            rows,
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Row>, D::Error> {
        let c = Compact::deserialize(d)?;
        let name = |names: &[String], i: u32| {
            names
                .get(i as usize)
                .cloned()
                .ok_or_else(|| serde::de::Error::custom(format!("name index {i} out of range")))
        };
        c.rows
            .into_iter()
            .map(|(step, epoch, p, m, bits)| {
                Ok(Row {
                    step,
                    epoch,
                    param: name(&c.params, p)?,
                    metric: name(&c.metrics, m)?,
                    value: f64::from_bits(bits),
                })
            })
            .collect()
    }
}

/// Serialise an f64 as its IEEE-754 bits (exact, NaN-safe) in checkpoints.
mod f64_bits {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(v.to_bits())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(f64::from_bits(u64::deserialize(d)?))
    }
}
