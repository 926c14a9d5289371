//! report.md: one section per benchmark, our numbers beside the paper's.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use super::load::{RunData, RunStatus};
use super::paper_match::PaperSelection;
use super::paper_numbers::{benchmark_title, entries_for, PaperNumber, BENCHMARKS};
use super::stats::{paired_difference, SeedStats};
use super::{ConfigRuns, SkippedRun};
use crate::plots::sweep::SweepPlot;
use crate::plots::{detections, filterbank};

/// A number as the report prints it: 4 decimals, or scientific for tiny/huge values.
pub fn fmt_num(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    let a = x.abs();
    if a != 0.0 && !(0.01..1e6).contains(&a) {
        format!("{x:.3e}")
    } else {
        format!("{x:.4}")
    }
}

/// A signed difference as the report prints it.
pub fn fmt_diff(x: f64) -> String {
    let s = fmt_num(x);
    if x >= 0.0 {
        format!("+{s}")
    } else {
        s
    }
}

/// `mean ± std` (std shown as `—` for a single seed).
pub fn fmt_stats(s: &SeedStats) -> String {
    match s.std {
        Some(sd) => format!("{} ± {}", fmt_num(s.mean), fmt_num(sd)),
        None => format!("{} ± — (1 seed)", fmt_num(s.mean)),
    }
}

/// `+mean ± std` of a difference (std shown as `—` for a single pair).
pub fn fmt_diff_stats(s: &SeedStats) -> String {
    match s.std {
        Some(sd) => format!("{} ± {}", fmt_diff(s.mean), fmt_num(sd)),
        None => format!("{} ± — (1 seed)", fmt_diff(s.mean)),
    }
}

/// A paper number: two decimals as in the paper's tables (more for tiny values).
fn fmt_paper(v: f64) -> String {
    if v.abs() < 0.1 {
        format!("{v}")
    } else {
        format!("{v:.2}")
    }
}

/// `name` followed by the paper's row title unless the name already says it.
fn with_row(name: &str, e: &PaperNumber) -> String {
    if name.contains(e.row_title) {
        name.to_string()
    } else {
        format!("{name}; {}", e.row_title)
    }
}

fn paper_delta(e: &PaperNumber) -> Option<String> {
    let p = e.p_value?;
    let d = p - e.baseline_value;
    let digits = if e.baseline_value.abs() < 0.1 { 4 } else { 2 };
    Some(format!("{d:+.digits$}"))
}

/// How a config's scale is described: embedded and quick runs are never the paper's benchmark.
fn scale_line(scale: &str) -> String {
    match scale {
        "embedded" => "**embedded** scale: a small laptop-CPU run, not the paper's benchmark; compare directions and gaps, not absolute values".to_string(),
        "quick" => "**quick** scale: a few-minute smoke run, not the paper's benchmark; numbers are illustrative only".to_string(),
        "paper" => "**paper** scale (the paper's settings)".to_string(),
        other => format!("scale `{other}` (unknown: treat as not the paper's benchmark)"),
    }
}

fn status_counts(runs: &[&RunData]) -> (usize, usize, usize) {
    let count = |s| runs.iter().filter(|r| r.status == s).count();
    (
        count(RunStatus::Completed),
        count(RunStatus::Diverged),
        count(RunStatus::Incomplete),
    )
}

/// Final headline value per seed for a label's completed runs.
fn finals(runs: &[&RunData], metric: &str) -> BTreeMap<u64, f64> {
    runs.iter()
        .filter(|r| r.status == RunStatus::Completed)
        .filter_map(|r| Some((r.seed, r.summary.final_value(metric)?)))
        .collect()
}

fn paper_cell(e: &PaperNumber, value: f64) -> String {
    let name = if e.p_value == Some(value) && !e.p.is_empty() && e.baseline_value != value {
        e.p
    } else {
        e.baseline
    };
    format!("{} ({})", fmt_paper(value), with_row(name, e))
}

fn render_config(out: &mut String, cfg: &ConfigRuns, skipped: usize) {
    let spec = &cfg.runs[0].spec;
    let _ = writeln!(out, "### {} (`{}`)\n", spec.title, cfg.name);
    let _ = writeln!(
        out,
        "- What we ran: {}; {}.",
        spec.dataset,
        scale_line(&spec.scale)
    );
    let all: Vec<&RunData> = cfg.runs.iter().collect();
    let (c, d, i) = status_counts(&all);
    let mut revs: Vec<&str> = cfg
        .runs
        .iter()
        .filter_map(|r| r.git_revision.as_deref())
        .collect();
    revs.sort();
    revs.dedup();
    let _ = writeln!(
        out,
        "- Runs: {} ({c} completed, {d} diverged, {i} incomplete){}{}.",
        all.len(),
        if skipped > 0 {
            format!("; {skipped} run folder(s) skipped, see below")
        } else {
            String::new()
        },
        if revs.is_empty() {
            String::new()
        } else {
            format!("; git revision {}", revs.join(", "))
        }
    );
    let Some(metric) = spec.metric.as_deref() else {
        let _ = writeln!(
            out,
            "- No `[report].metric` in the config: no headline table.\n"
        );
        render_plot_links(out, cfg);
        return;
    };
    render_metric_tables(out, cfg, metric, spec.higher_is_better, true);
    for extra in &spec.also {
        let _ = writeln!(
            out,
            "Also reported: `{extra}` (final value of each run's summary.csv).\n"
        );
        render_metric_tables(out, cfg, extra, None, false);
    }
    render_plot_links(out, cfg);
}

/// The per-optimizer table and the paired-difference table of one summary.csv column, with the
/// paper's numbers for that metric beside ours.
fn render_metric_tables(
    out: &mut String,
    cfg: &ConfigRuns,
    metric: &str,
    higher_is_better: Option<bool>,
    headline: bool,
) {
    let spec = &cfg.runs[0].spec;
    let direction = match higher_is_better {
        Some(true) => " (higher is better)",
        Some(false) => " (lower is better)",
        None => "",
    };
    if headline {
        let _ = writeln!(
            out,
            "- Headline metric: `{metric}`{direction}, final value of each run's summary.csv.\n"
        );
    }
    let selection = PaperSelection::new(&spec.benchmark, spec.paper_row.as_deref(), metric);
    let mut labels: BTreeMap<&str, Vec<&RunData>> = BTreeMap::new();
    for r in &cfg.runs {
        labels.entry(r.label.as_str()).or_default().push(r);
    }
    render_optimizer_table(out, &labels, metric, &selection);
    if !spec.pairs.is_empty() {
        render_paired_table(
            out,
            &labels,
            &spec.pairs,
            metric,
            higher_is_better,
            &selection,
        );
    }
}

/// One row per optimizer label: mean ± std over completed seeds, the seeds' statuses, each
/// seed's value, the paper's number.
fn render_optimizer_table(
    out: &mut String,
    labels: &BTreeMap<&str, Vec<&RunData>>,
    metric: &str,
    selection: &PaperSelection,
) {
    let _ = writeln!(out, "| optimizer | ours: `{metric}` mean ± std | seeds: completed / diverged / incomplete | per seed | paper |");
    let _ = writeln!(out, "|---|---|---|---|---|");
    for (label, runs) in labels {
        let values = finals(runs, metric);
        let stats = SeedStats::of(&values.values().copied().collect::<Vec<_>>());
        let (c, d, i) = status_counts(runs);
        let ours = if stats.n > 0 {
            fmt_stats(&stats)
        } else if i > 0 {
            "incomplete".to_string()
        } else {
            "—".to_string()
        };
        let per_seed = runs
            .iter()
            .map(|r| match (r.status, values.get(&r.seed)) {
                (RunStatus::Diverged, _) => format!("s{}: diverged", r.seed),
                (RunStatus::Incomplete, _) => match r.summary.final_value(metric) {
                    Some(v) => format!("s{}: {} (incomplete)", r.seed, fmt_num(v)),
                    None => format!("s{}: incomplete", r.seed),
                },
                (RunStatus::Completed, Some(v)) => format!("s{}: {}", r.seed, fmt_num(*v)),
                (RunStatus::Completed, None) => format!("s{}: no `{metric}` value", r.seed),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let paper = selection
            .value_for_label(label)
            .map(|(v, e)| paper_cell(e, v))
            .unwrap_or_else(|| "—".to_string());
        let _ = writeln!(
            out,
            "| {label} | {ours} | {c} / {d} / {i} | {per_seed} | {paper} |"
        );
    }
    let _ = writeln!(out);
}

/// One row per (baseline, P) pair: the paired P − baseline difference over the seeds both
/// completed, which direction it points, whether seed noise could explain it, the paper's pair.
fn render_paired_table(
    out: &mut String,
    labels: &BTreeMap<&str, Vec<&RunData>>,
    pairs: &[(String, String)],
    metric: &str,
    higher_is_better: Option<bool>,
    selection: &PaperSelection,
) {
    let _ = writeln!(
        out,
        "Paired differences, P − baseline, over the seeds both completed:\n"
    );
    let _ = writeln!(out, "| pair (baseline → P) | ours: P − baseline, mean ± std | paired seeds | verdict | seed noise: 95% interval of the mean | paper |");
    let _ = writeln!(out, "|---|---|---|---|---|---|");
    let (mut resolved, mut measured) = (0, 0);
    for (b, p) in pairs {
        let (Some(br), Some(pr)) = (labels.get(b.as_str()), labels.get(p.as_str())) else {
            let missing = if labels.contains_key(b.as_str()) {
                p
            } else {
                b
            };
            let _ = writeln!(out, "| {b} → {p} | no runs for {missing} | 0 | — | — | — |");
            continue;
        };
        let diff = paired_difference(&finals(br, metric), &finals(pr, metric));
        let ours = if diff.stats.n > 0 {
            fmt_diff_stats(&diff.stats)
        } else {
            "—".to_string()
        };
        let noise = noise_cell(&diff.stats);
        if noise.contains("noise") {
            measured += 1;
        }
        if noise.contains("beyond") {
            resolved += 1;
        }
        let paper = selection
            .entry_for_pair(b, p)
            .map(|e| {
                format!(
                    "{} {} → {} {} (Δ {})",
                    e.baseline,
                    fmt_paper(e.baseline_value),
                    e.p,
                    fmt_paper(e.p_value.unwrap_or(f64::NAN)),
                    if e.baseline.contains(e.row_title) {
                        paper_delta(e).unwrap_or_default()
                    } else {
                        format!("{}; {}", paper_delta(e).unwrap_or_default(), e.row_title)
                    }
                )
            })
            .unwrap_or_else(|| "—".to_string());
        let seeds = diff
            .seeds
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            out,
            "| {b} → {p} | {ours} | {} ({seeds}) | {} | {noise} | {paper} |",
            diff.stats.n,
            verdict(&diff.stats, higher_is_better)
        );
    }
    let _ = writeln!(out);
    if measured == 0 {
        let _ = writeln!(
            out,
            "Seed noise is not measured here (fewer than two paired seeds): read these differences as single runs.\n"
        );
    } else if resolved == 0 {
        let _ = writeln!(
            out,
            "No difference above is beyond seed noise: at this scale these runs do not resolve which optimizer is better.\n"
        );
    }
}

/// Which way the mean paired difference points, given the metric's direction.
fn verdict(stats: &SeedStats, higher_is_better: Option<bool>) -> String {
    match (stats.n, higher_is_better) {
        (0, _) | (_, None) => "—".to_string(),
        (_, Some(hib)) => {
            let m = stats.mean;
            if m == 0.0 {
                "tie".to_string()
            } else if (m > 0.0) == hib {
                "P better".to_string()
            } else {
                "baseline better".to_string()
            }
        }
    }
}

/// The 95% interval of the mean paired difference (Student's t over the seeds) and whether it
/// excludes 0, i.e. whether the difference is beyond what seed-to-seed variation explains.
fn noise_cell(stats: &SeedStats) -> String {
    match (stats.n, stats.std) {
        (0, _) => "—".to_string(),
        (_, None) => "one seed: not measured".to_string(),
        (n, Some(sd)) => {
            let half = t_95(n - 1) * sd / (n as f64).sqrt();
            let (lo, hi) = (stats.mean - half, stats.mean + half);
            let call = if lo > 0.0 || hi < 0.0 {
                "beyond noise"
            } else {
                "within noise"
            };
            format!("[{}, {}]: {call}", fmt_diff(lo), fmt_diff(hi))
        }
    }
}

/// Two-sided 95% critical value of Student's t with `df` degrees of freedom.
fn t_95(df: usize) -> f64 {
    const TABLE: [f64; 10] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    ];
    match df {
        0 => f64::INFINITY,
        1..=10 => TABLE[df - 1],
        11..=20 => 2.086,
        21..=30 => 2.042,
        _ => 1.96,
    }
}

fn render_plot_links(out: &mut String, cfg: &ConfigRuns) {
    let pngs: Vec<_> = cfg
        .plots
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    if pngs.is_empty() {
        let _ = writeln!(out, "Plots: none written (see warnings).\n");
        return;
    }
    let link = |p: &Path| p.to_string_lossy().replace('\\', "/");
    let items: Vec<String> = pngs
        .iter()
        .map(|p| {
            let stem = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let svg = p.with_extension("svg");
            if cfg.plots.contains(&svg) {
                format!("[{stem}]({}) ([svg]({}))", link(p), link(&svg))
            } else {
                format!("[{stem}]({})", link(p))
            }
        })
        .collect();
    let _ = writeln!(out, "Plots: {}\n", items.join(", "));
    if let Some(fig) = pngs
        .iter()
        .find(|p| p.file_stem().is_some_and(|s| s == "figure2"))
    {
        let _ = writeln!(
            out,
            "![{}: loss, eval metric, weight norm, effective step]({})\n",
            cfg.name,
            link(fig)
        );
    }
    if let Some(fig) = pngs
        .iter()
        .find(|p| p.file_stem().is_some_and(|s| s == detections::STEM))
    {
        let _ = writeln!(
            out,
            "![{}: validation images with predicted boxes]({})\n\n\
             Detections of the latest evaluation on the first {} validation images (ascending \
             image id): ground truth in white, predicted boxes with score ≥ {} (at most {} per \
             image) in each optimizer's colour; rows: {}.\n",
            cfg.name,
            link(fig),
            detections::IMAGES,
            detections::SCORE_THRESHOLD,
            detections::MAX_BOXES,
            detections::shown_seeds(&cfg.runs)
        );
    }
    if let Some(fig) = pngs
        .iter()
        .find(|p| p.file_stem().is_some_and(|s| s == filterbank::STEM))
    {
        let _ = writeln!(
            out,
            "![{}: learnt harmonic filterbank per optimizer]({})\n\n\
             The learnt harmonic filterbank at the end of training: each filter's bandwidth \
             against its centre frequency, one line per harmonic in each optimizer's colour (mean \
             over completed seeds, thin lines per seed), beside the initial bandwidth \
             `(0.1079·f + 24.7) / bw_Q` at `bw_Q = 1` (dashed) and, right, divided by it.\n",
            cfg.name,
            link(fig)
        );
    }
}

/// The benchmark's sweep plots (`[report].sweep`), linked and shown.
fn render_sweeps(out: &mut String, sweeps: &[SweepPlot], benchmark: &str, results_dir: &Path) {
    for s in sweeps.iter().filter(|s| s.benchmark == benchmark) {
        let rel = |ext: &str| {
            s.files
                .iter()
                .find(|p| p.extension().is_some_and(|e| e == ext))
                .map(|p| {
                    p.strip_prefix(results_dir)
                        .unwrap_or(p)
                        .to_string_lossy()
                        .replace('\\', "/")
                })
        };
        if let (Some(png), Some(svg)) = (rel("png"), rel("svg")) {
            let _ = writeln!(
                out,
                "Across configs: the headline metric against `{}` ([svg]({svg})).\n\n![{benchmark} against {}]({png})\n",
                s.name, s.name
            );
        }
    }
}

fn render_paper_table(out: &mut String, benchmark: &str) {
    let entries = entries_for(benchmark);
    if entries.is_empty() {
        let _ = writeln!(
            out,
            "The paper has no numbers under the key `{benchmark}`.\n"
        );
        return;
    }
    let _ = writeln!(out, "The paper's numbers for this benchmark:\n");
    let _ = writeln!(
        out,
        "| row | metric | baseline | P | Δ (P − baseline) | note | source |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for e in entries {
        let p = match e.p_value {
            Some(v) => format!("{} {}", e.p, fmt_paper(v)),
            None => "—".to_string(),
        };
        let _ = writeln!(
            out,
            "| {} (`{}`) | {} | {} {} | {p} | {} | {} | {} |",
            e.row_title,
            e.row,
            e.metric_title,
            e.baseline,
            fmt_paper(e.baseline_value),
            paper_delta(e).unwrap_or_else(|| "—".to_string()),
            e.note,
            e.citation
        );
    }
    let _ = writeln!(out);
}

/// The whole report.md.
pub fn render_report(
    configs: &[ConfigRuns],
    sweeps: &[SweepPlot],
    skipped: &[SkippedRun],
    results_dir: &Path,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# adamp-rs results beside the paper\n");
    let _ = writeln!(
        out,
        "Generated by `adamp report` from the run folders under `{}` (summary.csv, metrics.csv, config.resolved.toml). \
         Means and sample standard deviations are over completed seeds; diverged runs are counted but not averaged; \
         paired differences pair P and baseline runs by seed. Paper numbers: Heo et al., \"AdamP: Slowing Down the Slowdown for Momentum Optimizers on \
         Scale-invariant Weights\", ICLR 2021, arXiv 2006.08217.\n",
        results_dir.display()
    );
    let mut groups: BTreeMap<(usize, String), Vec<&ConfigRuns>> = BTreeMap::new();
    for cfg in configs {
        let b = cfg.runs[0].spec.benchmark.clone();
        let order = BENCHMARKS
            .iter()
            .position(|x| x.key == b)
            .unwrap_or(BENCHMARKS.len());
        groups.entry((order, b)).or_default().push(cfg);
    }
    if groups.is_empty() {
        let _ = writeln!(out, "No runs found.\n");
    }
    for ((_, benchmark), cfgs) in &groups {
        let title = benchmark_title(benchmark)
            .map(str::to_string)
            .unwrap_or_else(|| format!("`{benchmark}` (not a paper benchmark key)"));
        let _ = writeln!(out, "## {title}\n");
        for cfg in cfgs {
            let config_dir = results_dir.join(&cfg.name);
            let skipped_here = skipped
                .iter()
                .filter(|s| s.dir.starts_with(&config_dir))
                .count();
            render_config(&mut out, cfg, skipped_here);
        }
        render_sweeps(&mut out, sweeps, benchmark, results_dir);
        render_paper_table(&mut out, benchmark);
    }
    if !skipped.is_empty() {
        let _ = writeln!(out, "## Skipped run folders\n");
        for s in skipped {
            let dir = s.dir.strip_prefix(results_dir).unwrap_or(&s.dir);
            let _ = writeln!(out, "- `{}`: {}", dir.display(), s.reason);
        }
        let _ = writeln!(out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_noise_is_students_t_interval_of_the_paired_mean() {
        // mean 1.0, sd 0.1, n 3: half-width 4.303 * 0.1 / sqrt(3) = 0.248.
        let tight = SeedStats::of(&[1.0, 1.1, 0.9]);
        assert_eq!(noise_cell(&tight), "[+0.7516, +1.2484]: beyond noise");
        // mean 0.1667, sd 1.04: the interval spans 0.
        let loose = SeedStats::of(&[1.0, -1.0, 0.5]);
        assert!(
            noise_cell(&loose).ends_with("within noise"),
            "{}",
            noise_cell(&loose)
        );
        assert_eq!(noise_cell(&SeedStats::of(&[0.4])), "one seed: not measured");
        assert_eq!(t_95(1), 12.706);
        assert_eq!(t_95(100), 1.96);
    }
}
