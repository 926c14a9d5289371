//! Reading one run folder (`results/<config>/<label>/seed-<n>/`) in the formats of the
//! harness contract: `summary.csv`, `metrics.csv` (long format) and `config.resolved.toml`.
//!
//! The report never calls the runner: everything here comes from files, read through
//! [`crate::record::read`] (the one reader of the run folder's CSVs).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::plots::filterbank::{read_filterbank, Filter, FILTERBANK_FILE};
pub use crate::record::read::{read_metrics, read_summary, Series, SummaryTable};

/// How a run ended, from the `status` column of the last `summary.csv` row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RunStatus {
    /// Final row says `completed`.
    Completed,
    /// Final row says `diverged` (NaN/Inf loss): excluded from means, counted.
    Diverged,
    /// Final row says `running` (or anything else): a partial run, labelled incomplete.
    Incomplete,
}

/// The `[report]` table of a config (read leniently: missing keys get defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct ReportSpec {
    /// Key of the paper's numbers (defaults to the config name).
    pub benchmark: String,
    /// Heading in report.md (defaults to the config name).
    pub title: String,
    /// `embedded`, `quick` or `paper` (`unknown` when missing).
    pub scale: String,
    /// What we actually ran on.
    pub dataset: String,
    /// The summary.csv column that is the headline number, if given.
    pub metric: Option<String>,
    /// Direction of the headline metric, if given.
    pub higher_is_better: Option<bool>,
    /// (baseline label, P label) pairs for paired differences.
    pub pairs: Vec<(String, String)>,
    /// Optional row of the paper's table (e.g. `resnet18`).
    pub paper_row: Option<String>,
    /// Further summary.csv columns tabulated beside the headline (`[report].also`).
    pub also: Vec<String>,
    /// `[report].sweep`: (name, value, series).
    pub sweep: Option<(String, f64, String)>,
}

/// Everything the report and plots need from one run folder.
#[derive(Debug, Clone)]
pub struct RunData {
    /// The run folder.
    pub dir: PathBuf,
    /// Config name (first folder level).
    pub config: String,
    /// Optimizer label (second folder level).
    pub label: String,
    /// Seed (from `seed-<n>`).
    pub seed: u64,
    /// The `[report]` table.
    pub spec: ReportSpec,
    /// `[meta].git_revision`, if present.
    pub git_revision: Option<String>,
    /// How the run ended.
    pub status: RunStatus,
    /// `summary.csv`.
    pub summary: SummaryTable,
    /// Run-level (`param = -`) and aggregate (`param = __all__`) rows of `metrics.csv`,
    /// keyed by (param, metric), x = step. Empty when metrics.csv is missing.
    pub metrics: BTreeMap<(String, String), Series>,
    /// `filterbank.csv` (audio task: the learnt harmonic filterbank of the latest evaluation);
    /// `None` when absent or malformed (a warning names the file).
    pub filterbank: Option<Vec<Filter>>,
}

impl RunData {
    /// A run-level metric (`param = -`) against step.
    pub fn run_metric(&self, metric: &str) -> Option<&Series> {
        self.metrics.get(&("-".to_string(), metric.to_string()))
    }

    /// An aggregate (`param = __all__`) metric against step.
    pub fn all_metric(&self, metric: &str) -> Option<&Series> {
        self.metrics
            .get(&("__all__".to_string(), metric.to_string()))
    }
}

/// A run folder found by [`find_run_dirs`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RunDir {
    /// Config name.
    pub config: String,
    /// Optimizer label.
    pub label: String,
    /// Seed.
    pub seed: u64,
    /// The folder.
    pub dir: PathBuf,
}

fn sorted_subdirs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in
        std::fs::read_dir(dir).with_context(|| format!("reading folder {}", dir.display()))?
    {
        let path = entry
            .with_context(|| format!("reading folder {}", dir.display()))?
            .path();
        if path.is_dir() {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Walks `results/*/*/seed-*/`, sorted by (config, label, seed).
pub fn find_run_dirs(results_dir: &Path) -> Result<Vec<RunDir>> {
    if !results_dir.is_dir() {
        bail!(
            "results folder {} does not exist: run `adamp run <config>` first or pass the folder that holds <config>/<label>/seed-<n>/",
            results_dir.display()
        );
    }
    let mut runs = Vec::new();
    for config_dir in sorted_subdirs(results_dir)? {
        for label_dir in sorted_subdirs(&config_dir)? {
            for seed_dir in sorted_subdirs(&label_dir)? {
                let name = file_name(&seed_dir);
                let Some(seed) = name
                    .strip_prefix("seed-")
                    .and_then(|s| s.parse::<u64>().ok())
                else {
                    continue;
                };
                runs.push(RunDir {
                    config: file_name(&config_dir),
                    label: file_name(&label_dir),
                    seed,
                    dir: seed_dir,
                });
            }
        }
    }
    runs.sort();
    Ok(runs)
}

fn toml_str(t: Option<&toml::Value>, key: &str) -> Option<String> {
    t?.get(key)?.as_str().map(str::to_string)
}

/// Reads the `[report]` table (and `[meta].git_revision`) of `config.resolved.toml`.
pub fn read_report_spec(path: &Path, config_name: &str) -> Result<(ReportSpec, Option<String>)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let doc: toml::Value =
        toml::from_str(&text).with_context(|| format!("parsing {} as TOML", path.display()))?;
    let report = doc.get("report");
    if report.is_none() {
        tracing::warn!(
            "{} has no [report] table; using the config name as benchmark and title",
            path.display()
        );
    }
    let mut pairs = Vec::new();
    if let Some(list) = report
        .and_then(|r| r.get("pairs"))
        .and_then(|p| p.as_array())
    {
        for item in list {
            match item
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str()).collect::<Vec<_>>())
            {
                Some(a) if a.len() == 2 => pairs.push((a[0].to_string(), a[1].to_string())),
                _ => tracing::warn!(
                    "{}: [report].pairs entry {item} is not [\"baseline\", \"p\"]; ignored",
                    path.display()
                ),
            }
        }
    }
    let spec = ReportSpec {
        benchmark: toml_str(report, "benchmark").unwrap_or_else(|| config_name.to_string()),
        title: toml_str(report, "title").unwrap_or_else(|| config_name.to_string()),
        scale: toml_str(report, "scale").unwrap_or_else(|| "unknown".to_string()),
        dataset: toml_str(report, "dataset").unwrap_or_else(|| "unknown".to_string()),
        metric: toml_str(report, "metric"),
        higher_is_better: report
            .and_then(|r| r.get("higher_is_better"))
            .and_then(|v| v.as_bool()),
        pairs,
        paper_row: toml_str(report, "paper_row"),
        also: report
            .and_then(|t| t.get("also"))
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        sweep: report.and_then(|r| r.get("sweep")).and_then(|w| {
            let name = w.get("name")?.as_str()?.to_string();
            let value = w.get("value")?.as_float()?;
            let series = w
                .get("series")
                .and_then(|s| s.as_str())
                .unwrap_or_default()
                .to_string();
            Some((name, value, series))
        }),
    };
    Ok((spec, toml_str(doc.get("meta"), "git_revision")))
}

/// Loads one run folder. Fails (the caller skips the run with a warning) when
/// `config.resolved.toml` or `summary.csv` is missing or unreadable; a missing
/// `metrics.csv` only costs the step-level curves, a malformed `filterbank.csv` only the run's
/// place in the filterbank figure (both returned as warnings).
pub fn load_run(run: &RunDir) -> Result<(RunData, Vec<String>)> {
    let mut warnings = Vec::new();
    let (spec, git_revision) =
        read_report_spec(&run.dir.join("config.resolved.toml"), &run.config)?;
    let summary_path = run.dir.join("summary.csv");
    if !summary_path.is_file() {
        bail!("{} is missing", summary_path.display());
    }
    let summary = read_summary(&summary_path)?;
    let status = match summary.status.last().map(String::as_str) {
        Some("completed") => RunStatus::Completed,
        Some("diverged") => RunStatus::Diverged,
        _ => RunStatus::Incomplete,
    };
    let metrics_path = run.dir.join("metrics.csv");
    let metrics = if metrics_path.is_file() {
        read_metrics(&metrics_path)?
    } else {
        warnings.push(format!(
            "{} is missing: step-level curves of this run come from summary.csv only",
            metrics_path.display()
        ));
        BTreeMap::new()
    };
    let filterbank_path = run.dir.join(FILTERBANK_FILE);
    let filterbank = if filterbank_path.is_file() {
        match read_filterbank(&filterbank_path) {
            Ok(f) => Some(f),
            Err(e) => {
                warnings.push(format!(
                    "{e:#}: this run is left out of the filterbank figure"
                ));
                None
            }
        }
    } else {
        None
    };
    Ok((
        RunData {
            dir: run.dir.clone(),
            config: run.config.clone(),
            label: run.label.clone(),
            seed: run.seed,
            spec,
            git_revision,
            status,
            summary,
            metrics,
            filterbank,
        },
        warnings,
    ))
}
