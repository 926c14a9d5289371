//! The one training loop. It owns the optimizers, the learning-rate schedule, recording,
//! checkpointing and the progress bar; tasks only compute (see `adamp_task_api::Task`).

pub mod build;
pub mod progress;

use std::path::{Path, PathBuf};
use std::time::Instant;

use adamp_task_api::{StepIndex, StepOutput, Task};
use anyhow::{bail, Context, Result};

use crate::atomic::write_atomic;
use crate::checkpoint::{self, LoopState};
use crate::config::RunSpec;
use crate::record::{csv::write_csvs, resolved, Recorder, TrackedParam};

pub use build::{build_optimizers, build_task};

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The results folder (`results/`); the run goes to `<out>/<config>/<label>/seed-<n>/`.
    pub out: PathBuf,
    /// Start over even if the folder holds a completed run or another config's run.
    pub force: bool,
    /// Show a progress bar (only ever drawn on a terminal).
    pub progress: bool,
    /// Test hook: return after this many steps of this session *without* writing anything more,
    /// as if the process had been killed (the folder keeps its last checkpoint).
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
    /// Stopped at `step` because the loss or a gradient was NaN/Inf.
    Diverged {
        /// The step whose loss (or gradient) was not finite.
        step: u64,
    },
    /// The folder already held a finished run (completed or diverged) of the same config.
    Skipped,
    /// The `stop_after` hook fired at `step` (tests only).
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
}

/// Status written on the final summary row of a finished run, if any.
fn finished_status(folder: &Path) -> Option<String> {
    let text = std::fs::read_to_string(folder.join("summary.csv")).ok()?;
    let header: Vec<&str> = text.lines().next()?.split(',').collect();
    let col = header.iter().position(|h| *h == "status")?;
    let last = text.lines().rfind(|l| !l.is_empty())?;
    let status = last.split(',').nth(col)?.to_string();
    (status == "completed" || status == "diverged").then_some(status)
}

/// Whether the folder's `config.resolved.toml` describes the same run as `spec` (meta ignored).
fn same_config(folder: &Path, spec: &RunSpec) -> Result<Option<bool>> {
    let path = folder.join("config.resolved.toml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    let mut existing: toml::Table = match text.parse() {
        Ok(t) => t,
        Err(_) => return Ok(Some(false)),
    };
    existing.remove("meta");
    Ok(Some(existing == resolved::config_table(spec)?))
}

/// Remove stale temp files (`.<name>.tmp`) a kill may have left.
fn remove_temp_files(folder: &Path) -> Result<()> {
    for entry in std::fs::read_dir(folder)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && name.ends_with(".tmp") {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// Run (or resume, or skip) one run.
pub fn run(spec: &RunSpec, options: &RunOptions) -> Result<RunOutcome> {
    let device = spec.device.open().with_context(|| {
        format!(
            "{}: device: cannot open `{}` (was adamp built with that backend's feature?)",
            spec.source.display(),
            spec.device
        )
    })?;
    let task = build_task(spec, &device)?;
    run_task(spec, task, &device, options)
}

/// Run (or resume, or skip) one run with an already built task (the task's variables must live
/// on `device`). [`run`] builds the task from the config; tests use this to drive their own tasks.
pub fn run_task(
    spec: &RunSpec,
    mut task: Box<dyn Task>,
    device: &candle_core::Device,
    options: &RunOptions,
) -> Result<RunOutcome> {
    let run_id = spec.run_id();
    let folder = spec.folder(&options.out);
    let outcome = |status, evals| RunOutcome {
        run: run_id.clone(),
        folder: folder.clone(),
        status,
        evals,
    };

    // 1. Everything that can fail on bad input, before anything is written.
    let sets = task.param_sets();
    let mut optimizers = build_optimizers(spec, &sets)?;
    let training = &spec.config.training;
    let (total_steps, interval, epoch_based) =
        match (training.steps, training.epochs, task.steps_per_epoch()) {
            (Some(steps), None, None) => (
                steps as u64,
                training.eval_every.unwrap_or(steps) as u64,
                false,
            ),
            (None, Some(epochs), Some(per_epoch)) if per_epoch > 0 => {
                ((epochs * per_epoch) as u64, per_epoch as u64, true)
            }
            (Some(_), None, Some(_)) => bail!(
                "{}: training.steps: task `{}` is epoch-based; set `training.epochs` instead",
                spec.source.display(),
                spec.config.task.kind()
            ),
            (None, Some(_), _) => bail!(
                "{}: training.epochs: task `{}` is step-based; set `training.steps` instead",
                spec.source.display(),
                spec.config.task.kind()
            ),
            _ => bail!(
                "{}: training: expected exactly one of `steps` and `epochs`",
                spec.source.display()
            ),
        };
    // Epoch-based runs step the schedule once per epoch (torch's `scheduler.step()` per epoch)
    // unless `training.schedule_unit = "step"`; step-based runs always per step.
    let per_epoch = epoch_based && !training.schedule_per_step();
    let schedule_total = if per_epoch {
        training.epochs.unwrap_or(1)
    } else {
        total_steps as usize
    };
    let base_lr = spec.optimizer().lr();

    // 2. The folder: skip, resume or start.
    if folder.exists() {
        match same_config(&folder, spec)? {
            Some(false) if !options.force => bail!(
                "{}: holds a run of a different config than {}; pass --force to start it over",
                folder.display(),
                spec.source.display()
            ),
            _ => {}
        }
        if !options.force {
            if let Some(status) = finished_status(&folder) {
                tracing::info!("{run_id}: already {status}; skipping (use --force to rerun)");
                return Ok(outcome(RunStatus::Skipped, Vec::new()));
            }
        }
        if options.force {
            std::fs::remove_dir_all(&folder)
                .with_context(|| format!("removing {} to start over", folder.display()))?;
        }
    }
    std::fs::create_dir_all(&folder).with_context(|| {
        format!(
            "cannot create the run folder {} (check --out)",
            folder.display()
        )
    })?;
    remove_temp_files(&folder)?;
    checkpoint::clean(&folder)?;

    let tracked = TrackedParam::select(&sets);
    let mut recorder = Recorder::new(run_id.clone(), tracked.clone());
    let mut start_step = 0u64;
    let mut elapsed_before = 0.0f64;
    if let Some(dir) = checkpoint::find(&folder) {
        let state = checkpoint::load(&dir, task.as_mut(), &sets, &mut optimizers, device)?;
        start_step = state.step;
        elapsed_before = f64::from_bits(state.elapsed_bits);
        recorder.restore(state.recorder);
        tracing::info!("{run_id}: resuming from step {start_step}");
    } else {
        write_atomic(
            &folder.join("config.resolved.toml"),
            resolved::resolved_toml(spec)?.as_bytes(),
        )
        .with_context(|| format!("writing {}", folder.join("config.resolved.toml").display()))?;
        recorder.record_start(&task.initial_scalars()?);
        tracing::info!(
            "{run_id}: {}; optimizer {} over {} parameter set(s), {} scale-invariant tensor(s) recorded",
            task.describe(),
            spec.optimizer().kind(),
            sets.len(),
            tracked.len()
        );
    }
    if !folder.join("config.resolved.toml").exists() {
        write_atomic(
            &folder.join("config.resolved.toml"),
            resolved::resolved_toml(spec)?.as_bytes(),
        )?;
    }

    // 3. The loop.
    let started = Instant::now();
    let elapsed = || elapsed_before + started.elapsed().as_secs_f64();
    let bar = progress::bar(&run_id, total_steps, start_step, options.progress);
    let log_every = spec.config.log_every as u64;
    let mut evals: Vec<(String, f64)> = Vec::new();
    let mut first = true;
    for step in start_step + 1..=total_steps {
        let epoch = (step - 1) / interval + 1;
        let batch = (step - 1) % interval;
        if batch == 0 || first {
            task.begin_epoch(epoch as usize)?;
            first = false;
        }
        let t = if per_epoch { epoch - 1 } else { step - 1 };
        let lr = base_lr
            * spec
                .config
                .training
                .lr_schedule
                .factor(t as usize, schedule_total);
        for opt in optimizers.optimizers_mut() {
            opt.set_learning_rate(lr);
        }
        let index = StepIndex {
            step: step as usize,
            epoch: epoch as usize,
            batch: batch as usize,
        };
        let output: StepOutput = task.train_step(index, &mut optimizers)?;
        let reports = optimizers.take_reports();
        let bad_grads: Vec<String> = reports
            .iter()
            .flat_map(|(_, r)| r.nonfinite_grads.clone())
            .collect();
        let last_of_epoch = step % interval == 0 || step == total_steps;
        let log = step % log_every == 0 || last_of_epoch;
        if !output.loss.is_finite() || !bad_grads.is_empty() {
            recorder.record_step(step, epoch, &output, lr, elapsed(), &reports, true);
            recorder.record_epoch_end(step, epoch, lr, elapsed(), &[], "diverged");
            write_csvs(&folder, &run_id, recorder.state())?;
            bar.finish_and_clear();
            if bad_grads.is_empty() {
                tracing::warn!(
                    "{run_id}: diverged at step {step}: loss = {}; run stopped (status `diverged`)",
                    output.loss
                );
            } else {
                tracing::warn!("{run_id}: diverged at step {step}: non-finite gradient in {}; run stopped (status `diverged`)", bad_grads.join(", "));
            }
            return Ok(outcome(RunStatus::Diverged { step }, Vec::new()));
        }
        recorder.record_step(step, epoch, &output, lr, elapsed(), &reports, log);
        bar.set_position(step);
        bar.set_message(format!("loss {:.4}", output.loss));
        let mut save = spec
            .config
            .training
            .checkpoint_every
            .is_some_and(|n| step % n as u64 == 0);
        if last_of_epoch {
            let eval = task.evaluate()?;
            evals = eval
                .metrics
                .iter()
                .map(|(k, v)| (format!("eval_{k}"), *v))
                .collect();
            let status = if step == total_steps {
                "completed"
            } else {
                "running"
            };
            recorder.record_epoch_end(step, epoch, lr, elapsed(), &eval.metrics, status);
            if let Some((k, v)) = evals.first() {
                bar.set_message(format!("loss {:.4}, {k} {v:.4}", output.loss));
            }
            tracing::debug!("{run_id}: epoch {epoch} (step {step}): {evals:?}");
            save = true;
        }
        if save {
            write_csvs(&folder, &run_id, recorder.state())?;
            let state = LoopState {
                step,
                elapsed_bits: elapsed().to_bits(),
                recorder: recorder.state().clone(),
            };
            checkpoint::save(&folder, task.as_ref(), &sets, &optimizers, &state)?;
        }
        if options.stop_after.is_some_and(|k| step - start_step >= k) && step < total_steps {
            bar.finish_and_clear();
            return Ok(outcome(RunStatus::Interrupted { step }, evals));
        }
    }
    bar.finish_and_clear();
    if evals.is_empty() {
        evals = final_evals(&folder);
    }
    Ok(outcome(RunStatus::Completed, evals))
}

/// The eval values of the last summary row (for a run resumed at its very end).
fn final_evals(folder: &Path) -> Vec<(String, f64)> {
    let Ok(text) = std::fs::read_to_string(folder.join("summary.csv")) else {
        return Vec::new();
    };
    let mut lines = text.lines();
    let (Some(header), Some(last)) = (lines.next(), text.lines().rfind(|l| !l.is_empty())) else {
        return Vec::new();
    };
    header
        .split(',')
        .zip(last.split(','))
        .filter(|(h, _)| h.starts_with("eval_"))
        .filter_map(|(h, v)| v.parse().ok().map(|v| (h.to_string(), v)))
        .collect()
}
