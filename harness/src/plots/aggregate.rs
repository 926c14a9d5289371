//! Mean over seeds with a min–max band, on the x values the runs share.

use std::collections::BTreeMap;

use crate::report::load::Series;

/// A seed-aggregated curve: mean, minimum and maximum at each x.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BandCurve {
    /// x values, ascending.
    pub x: Vec<f64>,
    /// Mean over the seeds that have a finite value at x.
    pub mean: Vec<f64>,
    /// Minimum over those seeds.
    pub lo: Vec<f64>,
    /// Maximum over those seeds.
    pub hi: Vec<f64>,
}

/// Aggregates per-seed series by x (x values equal to 1e-6 are treated as one).
pub fn aggregate(series: &[&Series]) -> BandCurve {
    let mut by_x: BTreeMap<i64, (f64, Vec<f64>)> = BTreeMap::new();
    for s in series {
        for (x, y) in s.x.iter().zip(&s.y) {
            if x.is_finite() && y.is_finite() {
                by_x.entry((x * 1e6).round() as i64)
                    .or_insert_with(|| (*x, Vec::new()))
                    .1
                    .push(*y);
            }
        }
    }
    let mut out = BandCurve::default();
    for (x, ys) in by_x.into_values() {
        out.x.push(x);
        out.mean.push(ys.iter().sum::<f64>() / ys.len() as f64);
        out.lo
            .push(ys.iter().copied().fold(f64::INFINITY, f64::min));
        out.hi
            .push(ys.iter().copied().fold(f64::NEG_INFINITY, f64::max));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregates_by_x_and_skips_nan() {
        let a = Series {
            x: vec![0.0, 1.0, 2.0],
            y: vec![1.0, 2.0, f64::NAN],
        };
        let b = Series {
            x: vec![0.0, 1.0, 2.0],
            y: vec![3.0, 6.0, 5.0],
        };
        let c = aggregate(&[&a, &b]);
        assert_eq!(c.x, vec![0.0, 1.0, 2.0]);
        assert_eq!(c.mean, vec![2.0, 4.0, 5.0]);
        assert_eq!(c.lo, vec![1.0, 2.0, 5.0]);
        assert_eq!(c.hi, vec![3.0, 6.0, 5.0]);
    }
}
