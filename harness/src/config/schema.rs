//! The typed config schema. Every table rejects unknown keys.
//!
//! ```toml
//! seeds = [0, 1, 2]          # one run per optimizer entry and seed
//! log_every = 1              # record per-parameter statistics every N steps
//! device = "cpu"             # "cpu" | "cuda:N" | "metal"
//! [task]                     # kind = "toy2d" | "toy3d" (+ the task's own settings)
//! [training]                 # steps or epochs, batch_size, eval_every, checkpoint_every
//! [training.lr_schedule]     # kind = "constant" | "step" | "multistep" | "cosine", warmup
//! [[optimizers]]             # kind = "sgd" | "sgdp" | "adam" | "adamw" | "adamp", label, ...
//! [report]                   # what the report does with this config (see the contract)
//! [profiles.quick]           # a partial config merged over this one by `--profile quick`
//! ```

use std::collections::BTreeMap;

use adamp_task_classification::{ClassificationSettings, DataSettings, ModelSettings};
use adamp_task_toy::{Toy2dSettings, Toy3dSettings};
use serde::{Deserialize, Serialize};

use super::optimizer::OptimizerEntry;
use super::schedule::ScheduleConfig;

/// The valid task kinds, for error messages.
pub const TASK_KINDS: &[&str] = &["toy2d", "toy3d", "classification"];

/// A whole config file, as parsed (before the checks in [`super::validate`]).
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
    /// The task and its own settings.
    pub task: TaskConfig,
    /// The model, for tasks that take one (classification).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelConfig>,
    /// The data, for tasks that take some (classification).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataConfig>,
    /// Training length, batch size, schedule, checkpointing.
    pub training: TrainingConfig,
    /// The optimizers: one run per entry and seed.
    pub optimizers: Vec<OptimizerEntry>,
    /// How the report presents this config.
    pub report: ReportConfig,
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

/// The task, chosen by `kind`. Adding a task: one variant here (plus its name in [`TASK_KINDS`]
/// and a line in `TaskConfig::field_error`), one match arm in `train::build_task`, and the task
/// crate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum TaskConfig {
    /// The 2D scale-invariant toy (paper Section 2).
    #[serde(rename = "toy2d")]
    Toy2d(Toy2dSettings),
    /// Rosenbrock on a hemisphere (paper Section 2).
    #[serde(rename = "toy3d")]
    Toy3d(Toy3dSettings),
    /// Image classification (paper Section 4.1; benchmark 1), with `[model]` and `[data]`.
    #[serde(rename = "classification")]
    Classification(ClassificationSettings),
}

impl TaskConfig {
    /// For a schema error inside `[task]` of kind `kind`: `(field path, message)`, found by
    /// parsing the table as that kind's settings (serde buffers tagged tables, which hides the
    /// field from the outer error).
    pub(crate) fn field_error(kind: &str, table: &toml::Value) -> Option<(String, String)> {
        use super::validate::field_error;
        match kind {
            "toy2d" => field_error::<Toy2dSettings>(table),
            "toy3d" => field_error::<Toy3dSettings>(table),
            "classification" => field_error::<ClassificationSettings>(table),
            _ => None,
        }
    }

    /// The `kind` string.
    pub fn kind(&self) -> &'static str {
        match self {
            TaskConfig::Toy2d(_) => "toy2d",
            TaskConfig::Toy3d(_) => "toy3d",
            TaskConfig::Classification(_) => "classification",
        }
    }
}

/// `[model]`: the network of tasks that train one (classification); see
/// [`adamp_task_classification::ModelSettings`].
pub type ModelConfig = ModelSettings;

/// The valid model kinds, for error messages.
pub const MODEL_KINDS: &[&str] = adamp_task_classification::settings::MODEL_KINDS;

/// `[data]`: the dataset of tasks that read one; see [`adamp_task_classification::DataSettings`].
pub type DataConfig = DataSettings;

/// The valid data kinds, for error messages.
pub const DATA_KINDS: &[&str] = adamp_task_classification::settings::DATA_KINDS;

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
    /// What the schedule counts in epoch-based runs: `epoch` (torch's per-epoch
    /// `scheduler.step()`, the default; milestones and warm-up in epochs) or `step` (per optimizer
    /// step, for the short embedded runs; milestones and warm-up in steps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_unit: Option<String>,
}

/// The valid `training.schedule_unit` values.
pub const SCHEDULE_UNITS: &[&str] = &["epoch", "step"];

impl TrainingConfig {
    /// Whether an epoch-based run steps its schedule per optimizer step.
    pub fn schedule_per_step(&self) -> bool {
        self.schedule_unit.as_deref() == Some("step")
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
    /// `embedded` | `quick` | `paper`.
    pub scale: String,
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
}

/// The valid report scales.
pub const REPORT_SCALES: &[&str] = &["embedded", "quick", "paper"];

impl ConfigFile {
    /// The `[model]` and `[data]` tables of a task that needs both (checked at load time by
    /// `validate`, so this only fails for configs built by hand).
    pub fn model_and_data(
        &self,
        source: &std::path::Path,
    ) -> Result<(&ModelConfig, &DataConfig), super::ConfigError> {
        match (&self.model, &self.data) {
            (Some(m), Some(d)) => Ok((m, d)),
            (None, _) => Err(super::ConfigError::new(
                source,
                "model",
                format!("task `{}` needs a [model] table", self.task.kind()),
            )),
            (_, None) => Err(super::ConfigError::new(
                source,
                "data",
                format!("task `{}` needs a [data] table", self.task.kind()),
            )),
        }
    }
}
