//! Toy plots (arXiv 2006.08217, 2D and 3D toy examples): ‖w‖ per run for the 2D toy; (psi, phi)
//! trajectories and r per run for the 3D toy. One line per run, coloured by label (seeds share the
//! colour).

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::curves::{Curve, CurvePanel, Marker};
use super::palette::label_color;
use super::render::render;
use crate::report::load::RunData;

/// Line widths by label order: the first label widest, the last 2 px, so runs that follow the
/// same path (the 3D toy's momentum and projection runs start identically) all stay visible.
fn widen_earlier_labels(curves: &mut [Curve]) {
    let labels = curves.iter().filter(|c| c.legend.is_some()).count() as u32;
    let mut index = 0u32;
    for (i, c) in curves.iter_mut().enumerate() {
        if c.legend.is_some() && i > 0 {
            index += 1;
        }
        c.width = 2 + 2 * labels.saturating_sub(index + 1).min(4);
    }
}

/// One line per run of `metric` against step.
fn per_run_panel(runs: &[RunData], metric: &str, title: &str, y_label: &str) -> CurvePanel {
    let mut curves = Vec::new();
    let mut last_label = None;
    for r in runs {
        let Some(s) = r.run_metric(metric) else {
            continue;
        };
        let first_of_label = last_label != Some(r.label.as_str());
        last_label = Some(r.label.as_str());
        curves.push(Curve {
            legend: first_of_label.then(|| r.label.clone()),
            color: label_color(&r.label),
            points: s.x.iter().copied().zip(s.y.iter().copied()).collect(),
            band: Vec::new(),
            width: 0,
        });
    }
    widen_earlier_labels(&mut curves);
    CurvePanel {
        title: title.to_string(),
        x_label: "step".to_string(),
        y_label: y_label.to_string(),
        log_y: false,
        curves,
        markers: Vec::new(),
    }
}

/// 2D toy: ‖w‖ over steps, one line per run.
pub fn toy2d(runs: &[RunData], dir: &Path) -> Result<Vec<PathBuf>> {
    let panel = per_run_panel(runs, "w_norm", "2D toy: ‖w‖ over steps", "‖w‖");
    render(&panel, dir, "toy2d_w_norm")
}

/// 3D toy: trajectories on the (psi, phi) plane and r over steps, one line per run.
pub fn toy3d(runs: &[RunData], dir: &Path) -> Result<Vec<PathBuf>> {
    let mut curves = Vec::new();
    let mut last_label = None;
    for r in runs {
        let (Some(psi), Some(phi)) = (r.run_metric("psi"), r.run_metric("phi")) else {
            continue;
        };
        let first_of_label = last_label != Some(r.label.as_str());
        last_label = Some(r.label.as_str());
        // Pair psi and phi by step.
        let phi_at: std::collections::BTreeMap<i64, f64> = phi
            .x
            .iter()
            .zip(&phi.y)
            .map(|(x, y)| ((x * 1e6).round() as i64, *y))
            .collect();
        let points = psi
            .x
            .iter()
            .zip(&psi.y)
            .filter_map(|(x, p)| phi_at.get(&((x * 1e6).round() as i64)).map(|f| (*p, *f)))
            .collect();
        curves.push(Curve {
            legend: first_of_label.then(|| r.label.clone()),
            color: label_color(&r.label),
            points,
            band: Vec::new(),
            width: 0,
        });
    }
    widen_earlier_labels(&mut curves);
    let trajectory = CurvePanel {
        title: "3D toy: trajectories on the (psi, phi) plane".to_string(),
        x_label: "psi".to_string(),
        y_label: "phi".to_string(),
        log_y: false,
        curves,
        markers: vec![
            Marker {
                at: (-2.0, 2.0),
                text: "start (-2, 2)".to_string(),
            },
            Marker {
                at: (1.0, 1.0),
                text: "optimum (1, 1)".to_string(),
            },
        ],
    };
    let mut out = render(&trajectory, dir, "toy3d_trajectory")?;
    let r_panel = per_run_panel(runs, "r", "3D toy: radius r over steps", "r");
    out.extend(render(&r_panel, dir, "toy3d_r")?);
    Ok(out)
}
