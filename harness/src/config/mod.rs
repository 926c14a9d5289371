//! Typed TOML configs: the schema ([`schema`]), optimizer entries ([`optimizer`]), schedules
//! ([`schedule`]), `--set`/profile overrides ([`overrides`]) and the one place where a parsed
//! file becomes a checked [`Experiment`] ([`validate`]).

pub mod cuda_error;
pub mod device;
pub mod error;
pub mod launcher;
pub mod optimizer;
pub mod overrides;
mod parse_error;
pub mod schedule;
pub mod schema;
pub mod validate;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use adamp_task_api::TaskSettings;

pub use device::DeviceSpec;
pub use error::ConfigError;
pub use launcher::{LauncherConfig, SlurmSettings};
pub use optimizer::OptimizerEntry;
pub use schedule::ScheduleConfig;
pub use schema::{ConfigFile, ReportConfig, Scale, ScheduleUnit, SweepPoint, TrainingConfig};
pub use validate::{load, load_with};

/// What the command line adds to a config file.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `--profile <name>`: merge `[profiles.<name>]` over the file.
    pub profile: Option<String>,
    /// `--set key.path=value`, applied in order after the profile.
    pub sets: Vec<String>,
    /// `--seeds 0,1,2`.
    pub seeds: Option<Vec<u64>>,
    /// `--device cpu|cuda:N|metal`.
    pub device: Option<String>,
}

/// A checked config: every run it describes can be started.
#[derive(Debug, Clone)]
pub struct Experiment {
    /// The config's name: the file stem (`toy2d`), used as the results folder.
    pub name: String,
    /// The file it came from.
    pub path: PathBuf,
    /// The checked contents (profiles merged and dropped, overrides applied).
    pub config: ConfigFile,
    /// The parsed device.
    pub device: DeviceSpec,
    /// The task's parsed and checked settings.
    pub task: Arc<dyn TaskSettings>,
}

/// One run: one optimizer entry and one seed of an [`Experiment`].
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// The config's name (`toy2d`).
    pub config_name: String,
    /// The optimizer entry's label (`momentum_0.9`).
    pub label: String,
    /// The seed.
    pub seed: u64,
    /// The config file it came from.
    pub source: PathBuf,
    /// The device.
    pub device: DeviceSpec,
    /// The resolved config of this run alone: one optimizer entry (defaults filled), one seed.
    pub config: ConfigFile,
    /// The task's parsed and checked settings.
    pub task: Arc<dyn TaskSettings>,
}

impl RunSpec {
    /// `<config-name>/<label>/seed-<n>`, the `run` column of the CSVs.
    pub fn run_id(&self) -> String {
        format!("{}/{}/seed-{}", self.config_name, self.label, self.seed)
    }

    /// The run folder under `out`: `<out>/<config-name>/<label>/seed-<n>`.
    pub fn folder(&self, out: &Path) -> PathBuf {
        out.join(&self.config_name)
            .join(&self.label)
            .join(format!("seed-{}", self.seed))
    }

    /// The optimizer entry.
    pub fn optimizer(&self) -> &OptimizerEntry {
        &self.config.optimizers[0]
    }
}

impl Experiment {
    /// Every run, entry-major then seed: `[(opt0, s0), (opt0, s1), (opt1, s0), ...]`.
    pub fn runs(&self) -> Vec<RunSpec> {
        let mut runs = Vec::new();
        for entry in &self.config.optimizers {
            for &seed in &self.config.seeds {
                let mut config = self.config.clone();
                config.optimizers = vec![entry.clone()];
                config.seeds = vec![seed];
                config.device = self.device.to_string();
                runs.push(RunSpec {
                    config_name: self.name.clone(),
                    label: entry.label(),
                    seed,
                    source: self.path.clone(),
                    device: self.device,
                    config,
                    task: self.task.clone(),
                });
            }
        }
        runs
    }
}
