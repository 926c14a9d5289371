//! The typed config schema. Every table rejects unknown keys.
//!
//! ```toml
//! seeds = [0, 1, 2]          # one run per optimizer entry and seed
//! log_every = 1              # record per-parameter statistics every N steps
//! device = "cpu"             # "cpu" | "cuda:N" | "metal"
//! [task]                     # kind = a registered task (harness/src/tasks.rs) + its own settings
//! [training]                 # steps or epochs, batch_size, eval_every, checkpoint_every
//! [training.lr_schedule]     # kind = "constant" | "step" | "multistep" | "cosine", warmup
//! [[optimizers]]             # kind = "sgd" | "sgdp" | "adam" | "adamw" | "adamp", label, ...
//! [report]                   # what the report does with this config (see the contract)
//! [launcher.slurm]           # partition, gres, cpus_per_task, mem, time, account, extra
//! [profiles.quick]           # a partial config merged over this one by `--profile quick`
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::launcher::LauncherConfig;
use super::optimizer::OptimizerEntry;
use super::schedule::ScheduleConfig;

/// A whole config file, as parsed (before the checks in [`super::validate`]).
///
/// `[task]`, `[model]` and `[data]` are the task's own tables: kept as TOML here and read by the
/// task's registration ([`crate::tasks`]); after validation they hold every default filled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Seeds; one run per optimizer entry and seed.
    #[serde(default = "default_seeds")]
    pub seeds: Vec<u64>,
    /// Record per-parameter statistics and step scalars every `log_every` steps.
    #[serde(default = "default_log_every")]
    pub log_every: usize,
    /// Device: `cpu`, `cuda:N` or `metal` (`--device` overrides).
    #[serde(default = "default_device")]
    pub device: String,
    /// The task (`kind`) and its own settings.
    pub task: toml::Table,
    /// The model, for tasks that take one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<toml::Table>,
    /// The data, for tasks that take some.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<toml::Table>,
    /// Training length, batch size, schedule, checkpointing.
    pub training: TrainingConfig,
    /// The optimizers: one run per entry and seed.
    pub optimizers: Vec<OptimizerEntry>,
    /// How the report presents this config.
    pub report: ReportConfig,
    /// Where the runs are launched: `[launcher.slurm]` resources (see [`super::launcher`]).
    #[serde(default, skip_serializing_if = "LauncherConfig::is_empty")]
    pub launcher: LauncherConfig,
    /// Partial configs merged over this one by `--profile <name>` (e.g. `quick`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub profiles: BTreeMap<String, toml::Table>,
    /// Written by the runner into `config.resolved.toml` (git revision, seed, ...); ignored when
    /// a resolved config is loaded again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<toml::Table>,
}

fn default_seeds() -> Vec<u64> {
    vec![0]
}
fn default_log_every() -> usize {
    1
}
fn default_device() -> String {
    "cpu".to_string()
}

impl ConfigFile {
    /// `[task] kind` (empty when missing; validation rejects that).
    pub fn task_kind(&self) -> &str {
        self.task
            .get("kind")
            .and_then(|k| k.as_str())
            .unwrap_or_default()
    }
}

/// `[training]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingConfig {
    /// Length in optimizer steps (step-based tasks such as the toys). Exactly one of `steps`
    /// and `epochs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<usize>,
    /// Length in epochs (tasks with data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epochs: Option<usize>,
    /// Batch size (ignored by the toys).
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// Step-based tasks: evaluate (and write a summary row) every N steps; default: once, at the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_every: Option<usize>,
    /// Checkpoint every N steps as well as at each epoch end; default: epoch ends only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_every: Option<usize>,
    /// Put 1-D parameters (biases, norm gains) in a group without weight decay.
    #[serde(default)]
    pub exclude_1d_from_weight_decay: bool,
    /// The learning-rate schedule (default: constant).
    #[serde(default)]
    pub lr_schedule: ScheduleConfig,
    /// What the schedule counts in epoch-based runs (step-based runs always count steps).
    #[serde(default)]
    pub schedule_unit: ScheduleUnit,
}

/// `training.schedule_unit`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleUnit {
    /// torch's per-epoch `scheduler.step()`: milestones and warm-up in epochs (the default).
    #[default]
    Epoch,
    /// Per optimizer step, for the short embedded runs: milestones and warm-up in steps.
    Step,
}

impl TrainingConfig {
    /// Whether an epoch-based run steps its schedule per optimizer step.
    pub fn schedule_per_step(&self) -> bool {
        self.schedule_unit == ScheduleUnit::Step
    }
}

fn default_batch_size() -> usize {
    1
}

/// `[report]`: how the report presents this config (see `harness-contract.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportConfig {
    /// Key of the paper's numbers (`report/paper_numbers.rs`).
    pub benchmark: String,
    /// Heading in report.md.
    pub title: String,
    /// Which scale the numbers are: the embedded default, a quick look, or the paper's.
    pub scale: Scale,
    /// What we actually ran on.
    pub dataset: String,
    /// The summary.csv column that is the headline number (`eval_<name>`).
    pub metric: String,
    /// Whether a larger headline number is better.
    pub higher_is_better: bool,
    /// (baseline label, P label) pairs for the paired difference.
    #[serde(default)]
    pub pairs: Vec<(String, String)>,
    /// Further summary.csv columns the report tabulates beside the headline (e.g.
    /// `mean_weight_norm` for the paper's weight-norm analysis), each with its paired differences.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<String>,
    /// The paper's row within the benchmark (model/setting), when the benchmark has several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paper_row: Option<String>,
    /// This config's point on a setting swept across configs (e.g. Biased-MNIST's ρ): the report
    /// draws, per benchmark and sweep name, the headline metric of every such config against
    /// `value`, one line per (`series`, optimizer label).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<SweepPoint>,
}

/// `report.sweep`: `{ name = "rho", value = 0.999, series = "ReBias" }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepPoint {
    /// The swept setting (the plot's x-axis); configs with the same name share a plot.
    pub name: String,
    /// This config's value of it.
    pub value: f64,
    /// Which line family the config belongs to (e.g. `ReBias`, `vanilla`); default none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub series: String,
}

/// `report.scale`: what the report labels the numbers as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// The embedded default: the paper's method on a smaller, named dataset.
    Embedded,
    /// A few-minute first look (`--profile quick`).
    Quick,
    /// The paper's settings on the paper's data.
    Paper,
}
