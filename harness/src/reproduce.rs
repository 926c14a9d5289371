//! `adamp reproduce`: every config of a profile, every run, then the report. One failing or
//! diverging run never stops the others; the end says which failed.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::config::{self, ConfigError, Experiment, LoadOptions, RunSpec};
use crate::train::{self, RunOptions, RunOutcome, RunStatus};

/// The profiles `reproduce` knows.
pub const PROFILES: &[&str] = &["embedded", "quick", "paper"];

/// Options of `adamp reproduce`.
#[derive(Debug, Clone)]
pub struct ReproduceOptions {
    /// `embedded` (the configs as written), `quick` or `paper` (their `[profiles.<name>]` merged).
    pub profile: String,
    /// Only configs whose name or task kind is listed (all when empty).
    pub only: Vec<String>,
    /// Rerun finished runs.
    pub force: bool,
    /// Results folder; default `results` (embedded), `results/quick`, `results/paper`.
    pub out: Option<PathBuf>,
    /// Where the configs are (`configs/`).
    pub configs_dir: PathBuf,
    /// Show progress bars.
    pub progress: bool,
    /// Build the report at the end.
    pub report: bool,
}

/// One line of the final tally.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// The run id, or the config file for a config that did not load.
    pub run: String,
    /// `completed`, `diverged`, `skipped` or `failed`.
    pub status: String,
    /// What went wrong (failed runs) or the step (diverged runs).
    pub detail: String,
}

/// What `reproduce` did.
#[derive(Debug, Clone, Default)]
pub struct ReproduceSummary {
    /// Every run (and every config that failed to load).
    pub results: Vec<RunResult>,
    /// The results folder.
    pub out: PathBuf,
}

impl ReproduceSummary {
    /// The runs that failed with an error (not diverged).
    pub fn failed(&self) -> Vec<&RunResult> {
        self.results
            .iter()
            .filter(|r| r.status == "failed")
            .collect()
    }
}

/// The config files in `dir` (`*.toml`, not recursing), sorted by name; none if `dir` is absent.
pub fn config_files(dir: &Path) -> Result<Vec<PathBuf>> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("{}: cannot list configs ({e})", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

/// Whether the config file has a `[profiles.<profile>]` table (unreadable files count as yes, so
/// that loading them reports the problem).
fn has_profile(file: &Path, profile: &str) -> bool {
    match std::fs::read_to_string(file).map(|t| t.parse::<toml::Table>()) {
        Ok(Ok(t)) => t.get("profiles").and_then(|p| p.get(profile)).is_some(),
        _ => true,
    }
}

/// The configs a profile runs, each with the profile table to merge (if any):
/// - `embedded`: every `configs/*.toml` as written;
/// - any other profile `P`: every `configs/P/*.toml` as written, plus every `configs/*.toml` that
///   has a `[profiles.P]` table, merged over it. A file in `configs/P/` replaces a top-level file
///   of the same name.
pub fn profile_configs(dir: &Path, profile: &str) -> Result<Vec<(PathBuf, Option<String>)>> {
    if profile == "embedded" {
        return Ok(config_files(dir)?.into_iter().map(|f| (f, None)).collect());
    }
    let own = config_files(&dir.join(profile))?;
    let stems: Vec<_> = own
        .iter()
        .filter_map(|f| f.file_stem().map(|s| s.to_owned()))
        .collect();
    let mut out: Vec<(PathBuf, Option<String>)> = config_files(dir)?
        .into_iter()
        .filter(|f| f.file_stem().is_some_and(|s| !stems.iter().any(|o| o == s)))
        .filter(|f| has_profile(f, profile))
        .map(|f| (f, Some(profile.to_string())))
        .collect();
    out.extend(own.into_iter().map(|f| (f, None)));
    out.sort_by(|a, b| a.0.file_stem().cmp(&b.0.file_stem()));
    Ok(out)
}

/// The default results folder of a profile.
pub fn default_out(profile: &str) -> PathBuf {
    match profile {
        "embedded" => PathBuf::from("results"),
        other => Path::new("results").join(other),
    }
}

/// The configs a reproduction runs: the profile's, loaded and checked, `--only` applied.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// The results folder.
    pub out: PathBuf,
    /// Each selected config with the options it was loaded with (its profile merge).
    pub experiments: Vec<(Experiment, LoadOptions)>,
    /// The configs that did not load (status `failed`).
    pub failed: Vec<RunResult>,
}

/// Load every config of the profile and apply `--only`; an unknown profile or `--only` name is
/// bad input.
pub fn select(options: &ReproduceOptions) -> Result<Selection> {
    let command_line =
        |key: &str, message: String| ConfigError::new(Path::new("<command line>"), key, message);
    if !PROFILES.contains(&options.profile.as_str()) {
        return Err(command_line(
            "--profile",
            format!(
                "unknown profile `{}`; valid profiles: {}",
                options.profile,
                PROFILES.join(", ")
            ),
        )
        .into());
    }
    let out = options
        .out
        .clone()
        .unwrap_or_else(|| default_out(&options.profile));
    let files = profile_configs(&options.configs_dir, &options.profile)?;
    let mut failed = Vec::new();
    let mut experiments: Vec<(Experiment, LoadOptions)> = Vec::new();
    for (file, profile) in &files {
        let load_options = LoadOptions {
            profile: profile.clone(),
            ..LoadOptions::default()
        };
        match config::load(file, &load_options) {
            Ok(e) => experiments.push((e, load_options)),
            Err(e) => {
                tracing::error!("{e}");
                failed.push(RunResult {
                    run: file.display().to_string(),
                    status: "failed".into(),
                    detail: e.to_string(),
                });
            }
        }
    }
    if !options.only.is_empty() {
        let known: Vec<String> = experiments
            .iter()
            .flat_map(|(e, _)| [e.name.clone(), e.task.kind().to_string()])
            .collect();
        for o in &options.only {
            if !known.contains(o) {
                return Err(command_line(
                    &format!("--only {o}"),
                    format!(
                        "no config or task of that name; available: {}",
                        experiments
                            .iter()
                            .map(|(e, _)| e.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
                .into());
            }
        }
        experiments.retain(|(e, _)| {
            options.only.contains(&e.name) || options.only.iter().any(|o| o == e.task.kind())
        });
    }
    Ok(Selection {
        out,
        experiments,
        failed,
    })
}

/// Run every selected config of the profile, then build the report.
pub fn reproduce(options: &ReproduceOptions) -> Result<ReproduceSummary> {
    let Selection {
        out,
        experiments,
        failed,
    } = select(options)?;
    let mut summary = ReproduceSummary {
        out: out.clone(),
        results: failed,
    };
    let run_options = RunOptions {
        out: out.clone(),
        force: options.force,
        progress: options.progress,
        stop_after: None,
    };
    for (experiment, _) in &experiments {
        let runs = experiment.runs();
        // Checks that need the data, once per config: a config whose first task cannot be
        // built (data missing, a batch larger than the dataset) starts none of its runs.
        let preflight = match train::Preflight::new(&runs) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!("{}: {e:#}", experiment.name);
                summary.results.push(RunResult {
                    run: experiment.name.clone(),
                    status: "failed".into(),
                    detail: format!("{e:#} ({} run(s) not started)", runs.len()),
                });
                continue;
            }
        };
        preflight.run_all(&runs, &run_options, |spec, result| {
            summary.results.push(run_result(spec, result))
        });
    }
    if options.report && !out.exists() {
        tracing::warn!("report: not written, no run wrote to {}", out.display());
    } else if options.report {
        match crate::report::build_report(&out) {
            Ok(r) => tracing::info!("report: {}", r.report_path.display()),
            Err(e) => {
                tracing::error!("report: {e:#}");
                summary.results.push(RunResult {
                    run: "report".into(),
                    status: "failed".into(),
                    detail: format!("{e:#}"),
                });
            }
        }
    }
    Ok(summary)
}

/// One run's line of the final tally.
fn run_result(spec: &RunSpec, result: Result<RunOutcome>) -> RunResult {
    match result {
        Ok(o) => {
            let (status, detail) = match o.status {
                RunStatus::Completed => ("completed", format_evals(&o.evals)),
                RunStatus::Diverged { step } => {
                    ("diverged", format!("at step {step}: {}", o.detail))
                }
                RunStatus::Skipped => ("skipped", "already finished".to_string()),
                RunStatus::Interrupted { step } => {
                    ("failed", format!("interrupted at step {step}"))
                }
            };
            tracing::info!("{}: {status} {detail}", o.run);
            RunResult {
                run: o.run,
                status: status.into(),
                detail,
            }
        }
        Err(e) => {
            tracing::error!("{}: failed: {e:#}", spec.run_id());
            RunResult {
                run: spec.run_id(),
                status: "failed".into(),
                detail: format!("{e:#}"),
            }
        }
    }
}

/// `eval_a = 1.0000, eval_b = 2.0000` for log lines.
pub fn format_evals(evals: &[(String, f64)]) -> String {
    evals
        .iter()
        .map(|(k, v)| format!("{k} = {v:.4}"))
        .collect::<Vec<_>>()
        .join(", ")
}
