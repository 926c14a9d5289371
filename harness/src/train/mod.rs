//! The one training loop. It owns the optimizers, the learning-rate schedule, recording,
//! checkpointing and the progress bar; tasks only compute (see `adamp_task_api::Task`).

pub mod build;
mod eval_files;
mod folder;
pub mod plan;
pub mod progress;

use std::path::{Path, PathBuf};
use std::time::Instant;

use adamp_task_api::{OptimizerSet, ParamSet, StepOutput, Task};
use anyhow::{Context, Result};

use crate::checkpoint::{self, LoopState};
use crate::config::{ConfigError, RunSpec};
use crate::record::csv::write_csvs;
use crate::record::{resolved, Recorder, TrackedParam};

pub use build::{build_optimizers, build_task};
use plan::Plan;

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The results folder (`results/`); the run goes to `<out>/<config>/<label>/seed-<n>/`.
    pub out: PathBuf,
    /// Start over even if the folder holds a completed run or another config's run.
    pub force: bool,
    /// Show a progress bar (only ever drawn on a terminal).
    pub progress: bool,
    /// Test hook: return after this many steps of this process (counted from where it started
    /// or resumed) *without* writing anything more, as if the process had been killed (the
    /// folder keeps its last checkpoint).
    pub stop_after: Option<u64>,
}

impl RunOptions {
    /// Defaults: progress bar on, no force, no stop.
    pub fn new(out: impl Into<PathBuf>) -> Self {
        Self {
            out: out.into(),
            force: false,
            progress: true,
            stop_after: None,
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RunStatus {
    /// All steps taken.
    Completed,
    /// Stopped at `step` because the loss, a gradient or an evaluation metric was NaN/Inf
    /// ([`RunOutcome::detail`] says which).
    Diverged {
        /// The step whose loss, gradient or evaluation was not finite.
        step: u64,
    },
    /// The folder already held a finished run (completed or diverged) of the same config.
    Skipped,
    /// Stopped at `step` with a checkpoint: by SIGTERM/SIGUSR1 ([`crate::stop`]), or by the
    /// `stop_after` test hook.
    Interrupted {
        /// Steps taken when it stopped.
        step: u64,
    },
}

/// The outcome of one run.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// `<config>/<label>/seed-<n>`.
    pub run: String,
    /// The run folder.
    pub folder: PathBuf,
    /// How it ended.
    pub status: RunStatus,
    /// The last evaluation's metrics (`eval_<name>`, value).
    pub evals: Vec<(String, f64)>,
    /// For a diverged run: what was not finite (`loss = NaN`, `eval_loss = inf`, a gradient).
    pub detail: String,
}

/// Open the run's device; a device this build or machine lacks is bad input.
pub fn open_device(spec: &RunSpec) -> Result<candle_core::Device> {
    spec.device
        .open_checked()
        .map_err(|m| ConfigError::new(&spec.source, "device", m).into())
}

/// Run (or resume, or skip) one run.
pub fn run(spec: &RunSpec, options: &RunOptions) -> Result<RunOutcome> {
    let device = open_device(spec)?;
    let task = build_task(spec, &device)?;
    run_task(spec, task, &device, options)
}

/// A config's first task, built (its data opened) before anything is written: the checks that
/// need the data, made once per config.
pub struct Preflight {
    first: Option<(Box<dyn Task>, candle_core::Device)>,
}

impl Preflight {
    /// Open the device and build the first run's task of `runs`.
    pub fn new(runs: &[RunSpec]) -> Result<Self> {
        let first = match runs.first() {
            Some(spec) => {
                let device = open_device(spec)?;
                Some((build_task(spec, &device)?, device))
            }
            None => None,
        };
        Ok(Self { first })
    }

    /// Run every run in order (the first with the task built here), passing each outcome on.
    pub fn run_all(
        mut self,
        runs: &[RunSpec],
        options: &RunOptions,
        mut each: impl FnMut(&RunSpec, Result<RunOutcome>),
    ) {
        for spec in runs {
            let result = match self.first.take() {
                Some((task, device)) => run_task(spec, task, &device, options),
                None => run(spec, options),
            };
            each(spec, result);
        }
    }
}

/// Run (or resume, or skip) one run with an already built task (the task's variables must live
/// on `device`). [`run`] builds the task from the config; tests use this to drive their own tasks.
pub fn run_task(
    spec: &RunSpec,
    mut task: Box<dyn Task>,
    device: &candle_core::Device,
    options: &RunOptions,
) -> Result<RunOutcome> {
    // Everything that can fail on bad input, before anything is written.
    let sets = task.param_sets();
    let mut optimizers = build_optimizers(spec, &sets)?;
    let plan = Plan::new(spec, task.as_ref())?;
    let folder = spec.folder(&options.out);
    if crate::stop::requested() {
        anyhow::bail!("not started: the process was asked to stop (SIGTERM/SIGUSR1)");
    }
    let outcome = |status, evals, detail: String| RunOutcome {
        run: spec.run_id(),
        folder: folder.clone(),
        status,
        evals,
        detail,
    };
    let Some(_lock) = folder::prepare(spec, &folder, options.force)? else {
        return Ok(outcome(RunStatus::Skipped, Vec::new(), String::new()));
    };
    let mut run = start_or_resume(spec, &folder, task.as_mut(), &sets, &mut optimizers, device)?;
    let end = run.train(spec, &plan, task.as_mut(), &sets, &mut optimizers, options)?;
    Ok(match end {
        End::Completed(mut evals) => {
            if evals.is_empty() {
                // Resumed at its very end: the last evaluation is in the summary.
                evals = folder::final_evals(&folder);
            }
            outcome(RunStatus::Completed, evals, String::new())
        }
        End::Diverged { step, detail } => {
            tracing::warn!(
                "{}: diverged at step {step}: {detail}; run stopped (status `diverged`)",
                spec.run_id()
            );
            outcome(RunStatus::Diverged { step }, Vec::new(), detail)
        }
        End::Interrupted { step, evals } => {
            outcome(RunStatus::Interrupted { step }, evals, String::new())
        }
    })
}

/// Where the loop starts: a checkpoint's state, or a fresh start (whose resolved config and
/// starting point are written now).
fn start_or_resume(
    spec: &RunSpec,
    folder: &Path,
    task: &mut dyn Task,
    sets: &[ParamSet],
    optimizers: &mut OptimizerSet,
    device: &candle_core::Device,
) -> Result<Running> {
    let run_id = spec.run_id();
    let tracked = TrackedParam::select(sets);
    let mut recorder = Recorder::new(run_id.clone(), tracked.clone());
    let mut start_step = 0;
    let mut elapsed_before = 0.0;
    if let Some(dir) = checkpoint::find(folder) {
        let state = checkpoint::load(&dir, task, sets, optimizers, device)?;
        start_step = state.step;
        elapsed_before = f64::from_bits(state.elapsed_bits);
        recorder.restore(state.recorder);
        tracing::info!("{run_id}: resuming from step {start_step}");
    } else {
        recorder.record_start(&task.initial_scalars()?);
        tracing::info!(
            "{run_id}: {}; optimizer {} over {} parameter set(s), {} scale-invariant tensor(s) recorded",
            task.describe(),
            spec.optimizer().kind(),
            sets.len(),
            tracked.len()
        );
    }
    let resolved_path = folder.join("config.resolved.toml");
    if !resolved_path.exists() {
        adamp_fsio::write_atomic(&resolved_path, resolved::resolved_toml(spec)?.as_bytes())
            .with_context(|| format!("writing {}", resolved_path.display()))?;
    }
    Ok(Running {
        folder: folder.to_path_buf(),
        recorder,
        start_step,
        elapsed_before,
        started: Instant::now(),
    })
}

/// How the loop ended.
enum End {
    /// Every step taken; the last evaluation (empty when the run was resumed at its end).
    Completed(Vec<(String, f64)>),
    /// Something was not finite at `step`.
    Diverged { step: u64, detail: String },
    /// A signal ([`crate::stop`]) or the `stop_after` test hook.
    Interrupted {
        step: u64,
        evals: Vec<(String, f64)>,
    },
}

/// A run in progress: its folder, recorder and clock.
struct Running {
    folder: PathBuf,
    recorder: Recorder,
    start_step: u64,
    elapsed_before: f64,
    started: Instant,
}

impl Running {
    fn elapsed(&self) -> f64 {
        self.elapsed_before + self.started.elapsed().as_secs_f64()
    }

    /// Steps `start_step + 1 ..= total`: set the learning rate, take the task's step, record,
    /// evaluate at epoch ends, checkpoint.
    fn train(
        &mut self,
        spec: &RunSpec,
        plan: &Plan,
        task: &mut dyn Task,
        sets: &[ParamSet],
        optimizers: &mut OptimizerSet,
        options: &RunOptions,
    ) -> Result<End> {
        let run_id = spec.run_id();
        let bar = progress::bar(&run_id, plan.total_steps, self.start_step, options.progress);
        let log_every = spec.config.log_every as u64;
        let mut evals: Vec<(String, f64)> = Vec::new();
        for step in self.start_step + 1..=plan.total_steps {
            let index = plan.index(step);
            if index.batch == 0 || step == self.start_step + 1 {
                task.begin_epoch(index.epoch)?;
            }
            let lr = plan.lr(spec, step);
            let ends_epoch = plan.ends_epoch(step);
            let log = step % log_every == 0 || ends_epoch;
            for opt in optimizers.optimizers_mut() {
                opt.set_learning_rate(lr);
                // Statistics only where they are recorded: the GPU step then skips computing and
                // reading them back (the CPU steps compute them anyway).
                opt.set_stats(log);
            }
            let output: StepOutput = task.train_step(index, optimizers)?;
            let reports = optimizers.take_reports();
            let epoch = index.epoch as u64;
            if let Some(detail) = step_divergence(&output, &reports) {
                let elapsed = self.elapsed();
                self.recorder
                    .record_step(step, epoch, &output, lr, elapsed, &reports, true);
                self.recorder
                    .record_epoch_end(step, epoch, lr, elapsed, &[], "diverged");
                write_csvs(&self.folder, &run_id, self.recorder.state())?;
                bar.finish_and_clear();
                return Ok(End::Diverged { step, detail });
            }
            let elapsed = self.elapsed();
            self.recorder
                .record_step(step, epoch, &output, lr, elapsed, &reports, log);
            bar.set_position(step);
            bar.set_message(format!("loss {:.4}", output.loss));
            let mut save = spec
                .config
                .training
                .checkpoint_every
                .is_some_and(|n| step % n as u64 == 0);
            if ends_epoch {
                let evaluated = task.evaluate()?;
                eval_files::write_eval_files(&self.folder, &evaluated.files)?;
                let metrics = evaluated.metrics;
                evals = metrics
                    .iter()
                    .map(|(k, v)| (format!("eval_{k}"), *v))
                    .collect();
                let bad = evals.iter().find(|(_, v)| !v.is_finite());
                let status = match (bad, step == plan.total_steps) {
                    (Some(_), _) => "diverged",
                    (None, true) => "completed",
                    (None, false) => "running",
                };
                self.recorder
                    .record_epoch_end(step, epoch, lr, self.elapsed(), &metrics, status);
                if let Some((name, value)) = bad {
                    write_csvs(&self.folder, &run_id, self.recorder.state())?;
                    bar.finish_and_clear();
                    return Ok(End::Diverged {
                        step,
                        detail: format!("{name} = {value} after evaluation"),
                    });
                }
                if let Some((k, v)) = evals.first() {
                    bar.set_message(format!("loss {:.4}, {k} {v:.4}", output.loss));
                }
                tracing::debug!("{run_id}: epoch {epoch} (step {step}): {evals:?}");
                save = true;
            }
            if save {
                self.save(task, sets, optimizers, &run_id, step)?;
            }
            if crate::stop::requested() && step < plan.total_steps {
                if !save {
                    self.save(task, sets, optimizers, &run_id, step)?;
                }
                bar.finish_and_clear();
                tracing::warn!("{run_id}: stopped by a signal at step {step}; checkpoint written, running it again resumes");
                return Ok(End::Interrupted { step, evals });
            }
            if options
                .stop_after
                .is_some_and(|k| step - self.start_step >= k)
                && step < plan.total_steps
            {
                bar.finish_and_clear();
                return Ok(End::Interrupted { step, evals });
            }
        }
        bar.finish_and_clear();
        Ok(End::Completed(evals))
    }

    /// Write the CSVs and a checkpoint at `step`.
    fn save(
        &self,
        task: &dyn Task,
        sets: &[ParamSet],
        optimizers: &OptimizerSet,
        run_id: &str,
        step: u64,
    ) -> Result<()> {
        write_csvs(&self.folder, run_id, self.recorder.state())?;
        let state = LoopState {
            step,
            elapsed_bits: self.elapsed().to_bits(),
            recorder: self.recorder.state().clone(),
        };
        checkpoint::save(&self.folder, task, sets, optimizers, &state)
    }
}

/// Why a step diverged: its loss is not finite, or some gradient held NaN/Inf (the optimizer
/// then left that parameter untouched and reported it).
fn step_divergence(
    output: &StepOutput,
    reports: &[(usize, adamp_optim::StepReport)],
) -> Option<String> {
    let bad_grads: Vec<String> = reports
        .iter()
        .flat_map(|(_, r)| r.nonfinite_grads.clone())
        .collect();
    if !bad_grads.is_empty() {
        Some(format!("non-finite gradient in {}", bad_grads.join(", ")))
    } else if !output.loss.is_finite() {
        Some(format!("loss = {}", output.loss))
    } else {
        None
    }
}
