//! Retrieval (arXiv 2006.08217, image retrieval table; `[task] kind = "retrieval"`): the final
//! Recall@K against K, one curve per optimizer label (mean over its completed seeds with a
//! min–max band), K on a log10 axis (SOP's Ks run from 1 to 1000). The Ks are the run's
//! `eval_recall_at_<k>` summary columns.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::curves::{Curve, CurvePanel};
use super::palette::label_color;
use super::render::render;
use crate::report::load::{RunData, RunStatus};

/// `(k, column)` of every `eval_recall_at_<k>` column of a run, by K.
fn recall_columns(run: &RunData) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = run
        .summary
        .order
        .iter()
        .filter_map(|c| {
            let k = c.strip_prefix("eval_recall_at_")?.parse().ok()?;
            Some((k, c.clone()))
        })
        .collect();
    out.sort();
    out
}

/// The Recall@K curves panel of one config's runs (`None` without recall columns).
pub fn recall_panel(runs: &[RunData], title: &str) -> Option<CurvePanel> {
    let mut by_label: BTreeMap<&str, Vec<&RunData>> = BTreeMap::new();
    for r in runs.iter().filter(|r| r.status == RunStatus::Completed) {
        by_label.entry(r.label.as_str()).or_default().push(r);
    }
    let mut curves = Vec::new();
    for (label, group) in by_label {
        let ks = recall_columns(group[0]);
        let mut points = Vec::new();
        let mut band = Vec::new();
        for (k, column) in &ks {
            let values: Vec<f64> = group
                .iter()
                .filter_map(|r| r.summary.final_value(column))
                .collect();
            if values.is_empty() {
                continue;
            }
            let x = (*k as f64).log10();
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            points.push((x, mean));
            band.push((x, lo, hi));
        }
        if points.is_empty() {
            continue;
        }
        let n = group.len();
        curves.push(Curve {
            legend: Some(if n > 1 {
                format!("{label} (mean of {n} seeds)")
            } else {
                format!("{label} (1 seed)")
            }),
            color: label_color(label),
            points,
            band: if n > 1 { band } else { Vec::new() },
            width: 2,
        });
    }
    (!curves.is_empty()).then(|| CurvePanel {
        title: title.to_string(),
        x_label: "log10 K".to_string(),
        y_label: "Recall@K (%)".to_string(),
        log_y: false,
        curves,
        markers: Vec::new(),
    })
}

/// Writes `recall_at_k` (PNG + SVG) for one config's runs, if they have recall columns.
pub fn recall_plot(runs: &[RunData], dir: &Path) -> Result<Vec<PathBuf>> {
    match recall_panel(runs, "Final Recall@K per optimizer") {
        Some(panel) => render(&panel, dir, "recall_at_k"),
        None => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::load::{ReportSpec, SummaryTable};

    fn run(label: &str, seed: u64, status: RunStatus, r1: f64, r10: f64) -> RunData {
        let mut summary = SummaryTable::default();
        for (name, v) in [("eval_recall_at_10", r10), ("eval_recall_at_1", r1)] {
            summary.columns.insert(name.to_string(), vec![f64::NAN, v]);
            summary.order.push(name.to_string());
        }
        RunData {
            dir: PathBuf::new(),
            config: "c".into(),
            label: label.into(),
            seed,
            spec: ReportSpec {
                benchmark: "retrieval_sop".into(),
                title: "t".into(),
                scale: "embedded".into(),
                dataset: String::new(),
                metric: Some("eval_recall_at_1".into()),
                higher_is_better: Some(true),
                pairs: Vec::new(),
                paper_row: None,
                also: Vec::new(),
                sweep: None,
            },
            git_revision: None,
            status,
            summary,
            metrics: Default::default(),
            filterbank: None,
        }
    }

    #[test]
    fn one_curve_per_label_over_log_k_from_the_completed_seeds() {
        let runs = [
            run("adamp", 0, RunStatus::Completed, 50.0, 80.0),
            run("adamp", 1, RunStatus::Completed, 60.0, 90.0),
            run("adamw", 0, RunStatus::Completed, 40.0, 70.0),
            run("adamw", 1, RunStatus::Diverged, 99.0, 99.0),
        ];
        let panel = recall_panel(&runs, "t").unwrap();
        assert_eq!(panel.curves.len(), 2);
        let adamp = &panel.curves[0];
        assert_eq!(adamp.points, vec![(0.0, 55.0), (1.0, 85.0)]);
        assert_eq!(adamp.band, vec![(0.0, 50.0, 60.0), (1.0, 80.0, 90.0)]);
        let adamw = &panel.curves[1];
        assert_eq!(adamw.points, vec![(0.0, 40.0), (1.0, 70.0)]);
        assert!(adamw.band.is_empty(), "one completed seed: no band");
        assert!(recall_panel(&[], "t").is_none());
    }
}
