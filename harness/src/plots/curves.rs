//! Line charts: one curve per optimizer label (mean over seeds with a shaded min–max band),
//! or one line per run (toys). Optionally a log10 y-axis.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::render::{Figure, PlotResult};

/// One line (with an optional band) of a panel.
#[derive(Debug, Clone)]
pub struct Curve {
    /// Legend text; `None` draws the line without a legend entry (further seeds of a label).
    pub legend: Option<String>,
    /// Line colour.
    pub color: RGBColor,
    /// Points of the line, in drawing order.
    pub points: Vec<(f64, f64)>,
    /// Band (x, lo, hi) drawn under the line; empty for none.
    pub band: Vec<(f64, f64, f64)>,
    /// Line width in pixels (wider lines stay visible under later, narrower ones).
    pub width: u32,
}

/// Markers drawn on top (e.g. start and optimum of the 3D toy).
#[derive(Debug, Clone)]
pub struct Marker {
    /// Position.
    pub at: (f64, f64),
    /// Text next to it.
    pub text: String,
}

/// One chart.
#[derive(Debug, Clone)]
pub struct CurvePanel {
    /// Caption.
    pub title: String,
    /// x-axis description.
    pub x_label: String,
    /// y-axis description.
    pub y_label: String,
    /// Plot y on a log10 scale (non-positive values are dropped).
    pub log_y: bool,
    /// The lines.
    pub curves: Vec<Curve>,
    /// Extra markers.
    pub markers: Vec<Marker>,
}

fn ty(log_y: bool, y: f64) -> Option<f64> {
    if !y.is_finite() {
        return None;
    }
    if log_y {
        (y > 0.0).then(|| y.log10())
    } else {
        Some(y)
    }
}

fn padded(lo: f64, hi: f64) -> (f64, f64) {
    if !(lo.is_finite() && hi.is_finite()) {
        return (0.0, 1.0);
    }
    let span = hi - lo;
    let pad = if span > 0.0 {
        span * 0.05
    } else {
        lo.abs().max(1.0) * 0.05
    };
    (lo - pad, hi + pad)
}

/// Tick label: plain numbers with few digits; values within `span * 1e-9` of zero print as 0
/// (tick positions carry rounding noise such as -2.2e-16).
fn tick(v: f64, span: f64) -> String {
    let a = v.abs();
    if a <= span.abs() * 1e-9 {
        "0".to_string()
    } else if !(1e-3..1e5).contains(&a) {
        format!("{v:.1e}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Curves with at most this many points also get point markers (a single point draws no line).
const SHORT_CURVE: usize = 30;

impl CurvePanel {
    /// Number of legend entries.
    fn legend_entries(&self) -> usize {
        self.curves.iter().filter(|c| c.legend.is_some()).count()
    }

    /// The chart corner whose legend-sized box (45% wide, `height` of the plot high) holds the
    /// fewest points, with that count: the legend goes there so it hides as little as possible.
    fn legend_corner(
        &self,
        (x0, x1): (f64, f64),
        (y0, y1): (f64, f64),
        height: f64,
    ) -> (SeriesLabelPosition, usize) {
        let mut counts = [0usize; 4];
        for c in &self.curves {
            for &(x, y) in &c.points {
                let Some(y) = ty(self.log_y, y) else { continue };
                let (u, v) = ((x - x0) / (x1 - x0), (y - y0) / (y1 - y0));
                let (left, right, low, high) = (u < 0.45, u > 0.55, v < height, v > 1.0 - height);
                counts[0] += usize::from(right && high);
                counts[1] += usize::from(left && high);
                counts[2] += usize::from(right && low);
                counts[3] += usize::from(left && low);
            }
        }
        let corners = [
            SeriesLabelPosition::UpperRight,
            SeriesLabelPosition::UpperLeft,
            SeriesLabelPosition::LowerRight,
            SeriesLabelPosition::LowerLeft,
        ];
        let best = (0..4).min_by_key(|&i| counts[i]).unwrap_or(0);
        (corners[best].clone(), counts[best])
    }

    /// Draws the panel onto `area`.
    pub fn draw_on<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()> {
        let log = self.log_y;
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        for c in &self.curves {
            for &(x, y) in &c.points {
                if let (true, Some(y)) = (x.is_finite(), ty(log, y)) {
                    xs.push(x);
                    ys.push(y);
                }
            }
            for &(x, lo, hi) in &c.band {
                for y in [lo, hi].into_iter().filter_map(|v| ty(log, v)) {
                    xs.push(x);
                    ys.push(y);
                }
            }
        }
        for m in &self.markers {
            if let Some(y) = ty(log, m.at.1) {
                xs.push(m.at.0);
                ys.push(y);
            }
        }
        let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
        let max = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (x0, x1) = padded(min(&xs), max(&xs));
        let (y0, mut y1) = padded(min(&ys), max(&ys));
        // Room for marker text to the right of the rightmost marker.
        let x1 = if self.markers.is_empty() {
            x1
        } else {
            x1 + 0.2 * (x1 - x0)
        };
        // Legend: an empty corner if there is one; otherwise head-room above the data.
        let legend_height = (self.legend_entries() as f64 * 22.0 + 20.0) / 480.0;
        let (mut legend_at, hidden) = self.legend_corner((x0, x1), (y0, y1), legend_height);
        if hidden > 0 && legend_height < 0.6 {
            y1 = y0 + (y1 - y0) / (1.0 - legend_height);
            legend_at = SeriesLabelPosition::UpperRight;
        }

        let mut chart = ChartBuilder::on(area)
            .caption(&self.title, ("sans-serif", 26))
            .margin(14)
            .x_label_area_size(52)
            .y_label_area_size(84)
            .build_cartesian_2d(x0..x1, y0..y1)
            .plot(&self.title)?;
        let y_fmt = |v: &f64| {
            if log {
                format!("{:.1e}", 10f64.powf(*v))
            } else {
                tick(*v, y1 - y0)
            }
        };
        let y_desc = if log {
            format!("{} (log scale)", self.y_label)
        } else {
            self.y_label.clone()
        };
        chart
            .configure_mesh()
            .x_desc(self.x_label.as_str())
            .y_desc(y_desc)
            .x_label_formatter(&|v| tick(*v, x1 - x0))
            .y_label_formatter(&y_fmt)
            .axis_desc_style(("sans-serif", 20))
            .label_style(("sans-serif", 16))
            .draw()
            .plot(&self.title)?;
        if xs.is_empty() {
            chart
                .draw_series(std::iter::once(Text::new(
                    "no data recorded",
                    ((x0 + x1) / 2.0, (y0 + y1) / 2.0),
                    ("sans-serif", 22),
                )))
                .plot(&self.title)?;
            return Ok(());
        }
        for c in &self.curves {
            let band: Vec<(f64, f64, f64)> = c
                .band
                .iter()
                .filter_map(|&(x, lo, hi)| Some((x, ty(log, lo)?, ty(log, hi)?)))
                .collect();
            if band.len() >= 2 {
                let mut poly: Vec<(f64, f64)> = band.iter().map(|&(x, _, hi)| (x, hi)).collect();
                poly.extend(band.iter().rev().map(|&(x, lo, _)| (x, lo)));
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        poly,
                        c.color.mix(0.18).filled(),
                    )))
                    .plot(&self.title)?;
            }
        }
        for c in &self.curves {
            let points: Vec<(f64, f64)> = c
                .points
                .iter()
                .filter_map(|&(x, y)| Some((x, ty(log, y)?)))
                .collect();
            let color = c.color;
            if points.len() <= SHORT_CURVE {
                chart
                    .draw_series(points.iter().map(|p| Circle::new(*p, 4, color.filled())))
                    .plot(&self.title)?;
            }
            let series = chart
                .draw_series(LineSeries::new(points, color.stroke_width(c.width)))
                .plot(&self.title)?;
            if let Some(legend) = &c.legend {
                series.label(legend.as_str()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(3))
                });
            }
        }
        for m in &self.markers {
            if let Some(y) = ty(log, m.at.1) {
                let at = (m.at.0, y);
                chart
                    .draw_series([
                        Circle::new(at, 6, BLACK.filled()).into_dyn(),
                        Text::new(format!("  {}", m.text), at, ("sans-serif", 18)).into_dyn(),
                    ])
                    .plot(&self.title)?;
            }
        }
        if self.curves.iter().any(|c| c.legend.is_some()) {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.5))
                .label_font(("sans-serif", 17))
                .position(legend_at)
                .draw()
                .plot(&self.title)?;
        }
        Ok(())
    }
}

/// A single panel as a figure (800 x 600).
impl Figure for CurvePanel {
    fn size(&self) -> (u32, u32) {
        (800, 600)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        self.draw_on(root)
    }
}

/// Panels on a grid (the paper's Figure 2 layout: 2 x 2), each 800 x 600.
#[derive(Debug, Clone)]
pub struct PanelGrid {
    /// Rows of the grid.
    pub rows: usize,
    /// Columns of the grid.
    pub cols: usize,
    /// Panels in row-major order.
    pub panels: Vec<CurvePanel>,
}

impl Figure for PanelGrid {
    fn size(&self) -> (u32, u32) {
        (800 * self.cols as u32, 600 * self.rows as u32)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let areas = root.split_evenly((self.rows, self.cols));
        for (panel, area) in self.panels.iter().zip(areas.iter()) {
            panel.draw_on(area)?;
        }
        Ok(())
    }
}
