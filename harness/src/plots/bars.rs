//! Bar chart of the final headline metric per optimizer label: bar = mean over completed
//! seeds, whisker = ± sample std, dots = individual seeds.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::render::{Figure, PlotResult};
use crate::report::stats::SeedStats;

/// One bar.
#[derive(Debug, Clone)]
pub struct Bar {
    /// Optimizer label.
    pub label: String,
    /// Colour of the label.
    pub color: RGBColor,
    /// Final metric of each completed seed.
    pub values: Vec<f64>,
    /// Runs that diverged (not in `values`).
    pub diverged: usize,
}

/// The chart.
#[derive(Debug, Clone)]
pub struct BarChart {
    /// Caption.
    pub title: String,
    /// y-axis description (the metric).
    pub y_label: String,
    /// Bars, left to right.
    pub bars: Vec<Bar>,
}

impl Figure for BarChart {
    fn size(&self) -> (u32, u32) {
        ((220 * self.bars.len() as u32).max(800), 600)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let stats: Vec<SeedStats> = self.bars.iter().map(|b| SeedStats::of(&b.values)).collect();
        let mut ys: Vec<f64> = self
            .bars
            .iter()
            .flat_map(|b| b.values.iter().copied())
            .collect();
        for s in &stats {
            if let Some(sd) = s.std {
                ys.extend([s.mean - sd, s.mean + sd]);
            }
        }
        let lo = ys.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = ys.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (y0, y1) = if !lo.is_finite() {
            (0.0, 1.0)
        } else {
            let span = (hi - lo).max(hi.abs() * 0.02).max(1e-9);
            let base = if lo >= 0.0 && lo < 0.5 * hi {
                0.0
            } else {
                lo - 0.25 * span
            };
            (base, hi + 0.15 * span)
        };
        let n = self.bars.len().max(1) as i32;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 26))
            .margin(14)
            .x_label_area_size(52)
            .y_label_area_size(84)
            // A discrete i32 range includes its end: 0..n-1 gives n segments.
            .build_cartesian_2d((0..n - 1).into_segmented(), y0..y1)
            .plot(&self.title)?;
        let labels: Vec<String> = self
            .bars
            .iter()
            .map(|b| {
                let mut s = format!("{} (n={}", b.label, b.values.len());
                if b.diverged > 0 {
                    s.push_str(&format!(", {} diverged", b.diverged));
                }
                s.push(')');
                s
            })
            .collect();
        let x_fmt = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc("optimizer")
            .y_desc(self.y_label.as_str())
            .x_label_formatter(&x_fmt)
            .axis_desc_style(("sans-serif", 20))
            .label_style(("sans-serif", 16))
            .draw()
            .plot(&self.title)?;
        for (i, (bar, s)) in self.bars.iter().zip(&stats).enumerate() {
            let i = i as i32;
            if s.n == 0 {
                continue;
            }
            let mut rect = Rectangle::new(
                [
                    (SegmentValue::Exact(i), y0),
                    (SegmentValue::Exact(i + 1), s.mean),
                ],
                bar.color.mix(0.75).filled(),
            );
            rect.set_margin(0, 0, 30, 30);
            chart.draw_series(std::iter::once(rect)).plot(&self.title)?;
            if let Some(sd) = s.std {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![
                            (SegmentValue::CenterOf(i), s.mean - sd),
                            (SegmentValue::CenterOf(i), s.mean + sd),
                        ],
                        BLACK.stroke_width(3),
                    )))
                    .plot(&self.title)?;
            }
            chart
                .draw_series(
                    bar.values
                        .iter()
                        .map(|v| Circle::new((SegmentValue::CenterOf(i), *v), 5, BLACK.filled())),
                )
                .plot(&self.title)?;
        }
        Ok(())
    }
}
