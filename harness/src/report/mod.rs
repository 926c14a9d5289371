//! The report: `results/report.md` and the per-config plots, rebuilt from the run folders
//! alone (`results/<config>/<label>/seed-<n>/`, formats in the harness contract).
//!
//! [`build_report`] walks the run folders, reads each run's `summary.csv`, `metrics.csv` and
//! `config.resolved.toml`, groups runs by config and configs by `[report].benchmark`, and writes
//! one section per benchmark: what we ran (an embedded/quick run is labelled as such), the
//! headline metric per optimizer label (mean ± sample std over completed seeds; diverged and
//! incomplete runs counted, not averaged), the P-minus-baseline difference paired by seed, and
//! the paper's numbers ([`paper_numbers`]) beside ours. A run folder without a config or
//! summary is skipped with a warning naming it.

pub mod load;
pub mod markdown;
pub mod paper_match;
pub mod paper_numbers;
pub mod stats;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use load::{find_run_dirs, load_run, RunData};

/// A run folder left out of the report, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedRun {
    /// The folder.
    pub dir: PathBuf,
    /// Why it was skipped.
    pub reason: String,
}

/// What [`build_report`] did.
#[derive(Debug, Clone, Default)]
pub struct ReportSummary {
    /// `results/report.md`.
    pub report_path: PathBuf,
    /// Run folders read.
    pub runs_loaded: usize,
    /// Run folders skipped (missing/unreadable files).
    pub skipped: Vec<SkippedRun>,
    /// Config names reported, sorted.
    pub configs: Vec<String>,
    /// Plot files written (PNG and SVG).
    pub plots: Vec<PathBuf>,
    /// Warnings (also logged with `tracing`).
    pub warnings: Vec<String>,
}

/// One config's runs and plots, as the markdown renderer sees them.
#[derive(Debug, Clone)]
pub struct ConfigRuns {
    /// Config name (folder under results/).
    pub name: String,
    /// Its runs, sorted by (label, seed).
    pub runs: Vec<RunData>,
    /// Plot files, relative to the results folder.
    pub plots: Vec<PathBuf>,
}

fn warn(summary: &mut ReportSummary, message: String) {
    tracing::warn!("{message}");
    summary.warnings.push(message);
}

/// Rebuilds `results_dir/report.md` and `results_dir/<config>/plots/*` from the run folders.
///
/// Fails only when `results_dir` cannot be read or the report cannot be written; bad run
/// folders and failed plots become warnings in the returned summary (and in the report).
pub fn build_report(results_dir: &Path) -> Result<ReportSummary> {
    let mut summary = ReportSummary {
        report_path: results_dir.join("report.md"),
        ..ReportSummary::default()
    };
    let mut by_config: BTreeMap<String, Vec<RunData>> = BTreeMap::new();
    for run in find_run_dirs(results_dir)? {
        match load_run(&run) {
            Ok((data, warnings)) => {
                for w in warnings {
                    warn(&mut summary, w);
                }
                summary.runs_loaded += 1;
                by_config.entry(run.config.clone()).or_default().push(data);
            }
            Err(e) => {
                let reason = format!("{e:#}");
                warn(
                    &mut summary,
                    format!("skipping run folder {}: {reason}", run.dir.display()),
                );
                summary.skipped.push(SkippedRun {
                    dir: run.dir.clone(),
                    reason,
                });
            }
        }
    }

    let mut configs = Vec::new();
    for (name, runs) in by_config {
        let first = &runs[0].spec;
        for r in &runs[1..] {
            if r.spec.benchmark != first.benchmark || r.spec.metric != first.metric {
                warn(
                    &mut summary,
                    format!(
                        "{}: [report] differs from the config's first run ({} vs {}); using the first",
                        r.dir.display(),
                        r.spec.benchmark,
                        first.benchmark
                    ),
                );
            }
        }
        let plots_dir = results_dir.join(&name).join("plots");
        let plots = match crate::plots::plot_config(&runs, &plots_dir) {
            Ok(p) => p,
            Err(e) => {
                warn(
                    &mut summary,
                    format!("plots for config `{name}` failed: {e:#}"),
                );
                Vec::new()
            }
        };
        summary.plots.extend(plots.iter().cloned());
        let relative = plots
            .iter()
            .map(|p| {
                p.strip_prefix(results_dir)
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|_| p.clone())
            })
            .collect();
        summary.configs.push(name.clone());
        configs.push(ConfigRuns {
            name,
            runs,
            plots: relative,
        });
    }

    let sweeps = match crate::plots::sweep::sweep_plots(&configs, &results_dir.join("plots")) {
        Ok(s) => s,
        Err(e) => {
            warn(&mut summary, format!("sweep plots failed: {e:#}"));
            Vec::new()
        }
    };
    for s in &sweeps {
        summary.plots.extend(s.files.iter().cloned());
    }
    let text = markdown::render_report(&configs, &sweeps, &summary.skipped, results_dir);
    adamp_fsio::write_atomic(&summary.report_path, text.as_bytes())
        .with_context(|| format!("writing {}", summary.report_path.display()))?;
    Ok(summary)
}
