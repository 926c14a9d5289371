//! The headline metric against a setting swept across configs (`[report].sweep`, e.g.
//! Biased-MNIST's unbiased accuracy against ρ): one plot per (benchmark, sweep name), written to
//! `<results>/plots/<benchmark>_vs_<name>.{png,svg}`, one line per (series, optimizer label),
//! each point the mean over the config's completed seeds with a min–max band, and the paper's
//! number for the config's row and label, where it has one, as a marker.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::curves::{Curve, CurvePanel, Marker};
use super::palette::label_color;
use super::render;
use crate::report::load::RunStatus;
use crate::report::paper_match::PaperSelection;
use crate::report::ConfigRuns;

/// One written sweep plot.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepPlot {
    /// The benchmark key.
    pub benchmark: String,
    /// The swept setting's name.
    pub name: String,
    /// The PNG and SVG files.
    pub files: Vec<PathBuf>,
}

/// `(mean, min, max)` of one config's final values.
type Point = (f64, f64, f64);

/// Each line's `(x, point)`s, keyed by `(series, label)`.
type Lines = BTreeMap<(String, String), Vec<(f64, Point)>>;

/// `(mean, min, max)` of a config's final headline values of one label, completed runs only.
fn point(configs: &ConfigRuns, label: &str, metric: &str) -> Option<Point> {
    let values: Vec<f64> = configs
        .runs
        .iter()
        .filter(|r| r.label == label && r.status == RunStatus::Completed)
        .filter_map(|r| r.summary.final_value(metric))
        .collect();
    if values.is_empty() {
        return None;
    }
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some((mean, lo, hi))
}

fn file_stem(benchmark: &str, name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{benchmark}_vs_{clean}")
}

/// The panel of every config of `benchmark` swept over `name`.
fn panel(configs: &[&ConfigRuns], benchmark: &str, name: &str) -> CurvePanel {
    let mut lines = Lines::new();
    let mut markers = Vec::new();
    let mut metric_name = String::new();
    for cfg in configs {
        let spec = &cfg.runs[0].spec;
        let (Some((_, x, series)), Some(metric)) = (&spec.sweep, &spec.metric) else {
            continue;
        };
        metric_name.clone_from(metric);
        let selection = PaperSelection::new(benchmark, spec.paper_row.as_deref(), metric);
        let mut labels: Vec<&str> = cfg.runs.iter().map(|r| r.label.as_str()).collect();
        labels.dedup();
        for label in labels {
            if let Some(p) = point(cfg, label, metric) {
                lines
                    .entry((series.clone(), label.to_string()))
                    .or_default()
                    .push((*x, p));
            }
            let paper = spec
                .paper_row
                .as_ref()
                .and_then(|_| selection.value_for_label(label));
            if let Some((v, _)) = paper {
                markers.push(Marker {
                    at: (*x, v),
                    text: format!("paper {label}"),
                });
            }
        }
    }
    let curves = lines
        .into_iter()
        .map(|((series, label), mut pts)| {
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            let legend = if series.is_empty() {
                label.clone()
            } else {
                format!("{series}, {label}")
            };
            Curve {
                legend: Some(legend),
                color: label_color(&label),
                points: pts.iter().map(|(x, (m, _, _))| (*x, *m)).collect(),
                band: pts.iter().map(|(x, (_, lo, hi))| (*x, *lo, *hi)).collect(),
                width: 2,
            }
        })
        .collect();
    CurvePanel {
        title: format!("{benchmark}: {metric_name} against {name}"),
        x_label: name.to_string(),
        y_label: format!("final {metric_name} (mean of seeds, min-max band)"),
        log_y: false,
        curves,
        markers,
    }
}

/// Every sweep plot of `configs` into `dir`.
pub fn sweep_plots(configs: &[ConfigRuns], dir: &Path) -> Result<Vec<SweepPlot>> {
    let mut groups: BTreeMap<(String, String), Vec<&ConfigRuns>> = BTreeMap::new();
    for cfg in configs {
        let spec = &cfg.runs[0].spec;
        if let Some((name, _, _)) = &spec.sweep {
            groups
                .entry((spec.benchmark.clone(), name.clone()))
                .or_default()
                .push(cfg);
        }
    }
    let mut out = Vec::new();
    for ((benchmark, name), cfgs) in groups {
        let figure = panel(&cfgs, &benchmark, &name);
        let files = render(&figure, dir, &file_stem(&benchmark, &name))?;
        out.push(SweepPlot {
            benchmark,
            name,
            files,
        });
    }
    Ok(out)
}
