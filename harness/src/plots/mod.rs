//! Plots of one config's runs (`results/<config>/plots/`, PNG + SVG), read from the run
//! folders alone:
//! - `figure2`: the paper's Figure 2 layout, 2 x 2 panels — training loss vs step, headline
//!   eval metric vs epoch, mean weight norm (`__all__ weight_norm`) vs step and mean effective
//!   step size (`__all__ effective_step`, log scale) vs step — and each panel on its own
//!   (`train_loss`, `eval_metric`, `weight_norm`, `effective_step`); every optimizer label is the
//!   mean over seeds with a shaded min–max band;
//! - `final_metric`: bar chart of the final headline metric per label with seed error bars;
//! - across configs, [`sweep::sweep_plots`]: the headline metric against a swept setting
//!   (`[report].sweep`), in `<results>/plots/`;
//! - retrieval (`eval_recall_at_<k>` columns): `recall_at_k`, the final Recall@K against K per
//!   label ([`recall`]);
//! - detection (run folders holding `detections.json`): `detections` (PNG only), a few
//!   validation images with the predicted boxes, one row per label ([`detections`]);
//! - audio (run folders holding `filterbank.csv`): `filterbank`, the learnt harmonic
//!   filterbank's bandwidth against centre frequency per label, beside the initial one
//!   ([`filterbank`]);
//! - toys (`benchmark = toy2d | toy3d`): ‖w‖ per run (2D, metric `w_norm`), the (psi, phi)
//!   trajectories and r over steps (3D, metrics `psi`, `phi`, `r`).
//!
//! Colours are fixed per label everywhere ([`palette::label_color`]).

pub mod aggregate;
pub mod bars;
pub mod curves;
pub mod detections;
pub mod filterbank;
pub mod palette;
pub mod recall;
pub mod render;
pub mod sweep;
mod toy;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::report::load::{RunData, RunStatus, Series};
use aggregate::aggregate;
use bars::{Bar, BarChart};
use curves::{Curve, CurvePanel, PanelGrid};
use palette::label_color;
pub use render::{register_fonts, render, Figure};

/// Runs grouped by optimizer label (sorted), as the plots iterate them.
fn by_label(runs: &[RunData]) -> BTreeMap<&str, Vec<&RunData>> {
    let mut m: BTreeMap<&str, Vec<&RunData>> = BTreeMap::new();
    for r in runs {
        m.entry(r.label.as_str()).or_default().push(r);
    }
    m
}

/// One panel: per label, the mean over seeds of `pick(run)` with a min–max band.
fn band_panel(
    runs: &[RunData],
    title: &str,
    x_label: &str,
    y_label: &str,
    log_y: bool,
    pick: impl Fn(&RunData) -> Option<Series>,
) -> CurvePanel {
    let mut curves = Vec::new();
    for (label, group) in by_label(runs) {
        let series: Vec<Series> = group
            .iter()
            .filter_map(|r| pick(r))
            .filter(|s| !s.x.is_empty())
            .collect();
        if series.is_empty() {
            continue;
        }
        let refs: Vec<&Series> = series.iter().collect();
        let agg = aggregate(&refs);
        let n = series.len();
        let diverged = group
            .iter()
            .filter(|r| r.status == RunStatus::Diverged)
            .count();
        let mut legend = if n > 1 {
            format!("{label} (mean of {n} seeds")
        } else {
            format!("{label} (1 seed")
        };
        if diverged > 0 {
            legend.push_str(&format!(", {diverged} diverged"));
        }
        legend.push(')');
        curves.push(Curve {
            legend: Some(legend),
            color: label_color(label),
            points: agg
                .x
                .iter()
                .copied()
                .zip(agg.mean.iter().copied())
                .collect(),
            band: if n > 1 {
                agg.x
                    .iter()
                    .zip(agg.lo.iter().zip(&agg.hi))
                    .map(|(x, (l, h))| (*x, *l, *h))
                    .collect()
            } else {
                Vec::new()
            },
            width: 2,
        });
    }
    CurvePanel {
        title: title.to_string(),
        x_label: x_label.to_string(),
        y_label: y_label.to_string(),
        log_y,
        curves,
        markers: Vec::new(),
    }
}

/// The four panels of the paper's Figure 2 for one config.
pub fn figure2_panels(runs: &[RunData], metric: Option<&str>) -> Vec<CurvePanel> {
    let loss = band_panel(runs, "Training loss", "step", "training loss", false, |r| {
        r.run_metric("loss")
            .cloned()
            .or_else(|| r.summary.series("step", "train_loss"))
    });
    let metric_name = metric.unwrap_or("(no [report].metric)");
    let eval = band_panel(
        runs,
        &format!("{metric_name} per epoch"),
        "epoch",
        metric_name,
        false,
        |r| metric.and_then(|m| r.summary.series("epoch", m)),
    );
    let norm = band_panel(
        runs,
        "Mean weight norm (scale-invariant weights)",
        "step",
        "mean ‖w‖",
        false,
        |r| {
            r.all_metric("weight_norm")
                .cloned()
                .or_else(|| r.summary.series("step", "mean_weight_norm"))
        },
    );
    let eff = band_panel(
        runs,
        "Mean effective step size",
        "step",
        "effective step size",
        true,
        |r| {
            r.all_metric("effective_step")
                .cloned()
                .or_else(|| r.summary.series("step", "mean_effective_step"))
        },
    );
    vec![loss, eval, norm, eff]
}

/// The final-metric bar chart for one config (completed runs only; diverged ones counted).
pub fn final_metric_chart(runs: &[RunData], metric: &str, title: &str) -> BarChart {
    let bars = by_label(runs)
        .into_iter()
        .map(|(label, group)| Bar {
            label: label.to_string(),
            color: label_color(label),
            values: group
                .iter()
                .filter(|r| r.status == RunStatus::Completed)
                .filter_map(|r| r.summary.final_value(metric))
                .collect(),
            diverged: group
                .iter()
                .filter(|r| r.status == RunStatus::Diverged)
                .count(),
        })
        .collect();
    BarChart {
        title: title.to_string(),
        y_label: metric.to_string(),
        bars,
    }
}

/// Writes every plot of one config into `plots_dir`; returns the files written.
pub fn plot_config(runs: &[RunData], plots_dir: &Path) -> Result<Vec<PathBuf>> {
    let Some(first) = runs.first() else {
        return Ok(Vec::new());
    };
    let spec = &first.spec;
    let metric = spec.metric.as_deref();
    let mut written = Vec::new();
    let panels = figure2_panels(runs, metric);
    for (panel, stem) in
        panels
            .iter()
            .zip(["train_loss", "eval_metric", "weight_norm", "effective_step"])
    {
        written.extend(render(panel, plots_dir, stem)?);
    }
    written.extend(render(
        &PanelGrid {
            rows: 2,
            cols: 2,
            panels,
        },
        plots_dir,
        "figure2",
    )?);
    if let Some(m) = metric {
        let chart = final_metric_chart(runs, m, &format!("{}: final {m}", spec.title));
        written.extend(render(&chart, plots_dir, "final_metric")?);
    }
    written.extend(recall::recall_plot(runs, plots_dir)?);
    written.extend(detections::detections_plot(runs, plots_dir));
    written.extend(filterbank::filterbank_plot(runs, plots_dir)?);
    match spec.benchmark.as_str() {
        "toy2d" => written.extend(toy::toy2d(runs, plots_dir)?),
        "toy3d" => written.extend(toy::toy3d(runs, plots_dir)?),
        _ => {}
    }
    Ok(written)
}
