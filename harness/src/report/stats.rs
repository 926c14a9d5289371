//! Seed statistics for the report: mean, sample standard deviation and the paired
//! difference between a baseline and its projected ("P") variant run on the same seeds.

use std::collections::BTreeMap;

/// Mean and sample standard deviation (denominator `n - 1`) of a set of per-seed values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeedStats {
    /// Number of values.
    pub n: usize,
    /// Arithmetic mean (NaN when `n == 0`).
    pub mean: f64,
    /// Sample standard deviation with Bessel's correction; `None` when `n < 2`.
    pub std: Option<f64>,
}

impl SeedStats {
    /// Statistics of `values`; non-finite values must be filtered out by the caller.
    pub fn of(values: &[f64]) -> Self {
        let n = values.len();
        if n == 0 {
            return Self {
                n,
                mean: f64::NAN,
                std: None,
            };
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let std = (n >= 2).then(|| {
            let ss: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
            (ss / (n - 1) as f64).sqrt()
        });
        Self { n, mean, std }
    }
}

/// The P-minus-baseline difference over the seeds both optimizers completed.
#[derive(Debug, Clone, PartialEq)]
pub struct PairedDifference {
    /// Seeds present (and finite) for both labels, ascending.
    pub seeds: Vec<u64>,
    /// Statistics of `p[seed] - baseline[seed]` over `seeds`.
    pub stats: SeedStats,
}

/// Pairs `baseline` and `p` values by seed and summarises `p - baseline`.
///
/// Seeds present in only one of the maps are left out: the difference is paired, so the
/// per-seed randomness (initialisation, data order) cancels.
pub fn paired_difference(
    baseline: &BTreeMap<u64, f64>,
    p: &BTreeMap<u64, f64>,
) -> PairedDifference {
    let mut seeds = Vec::new();
    let mut diffs = Vec::new();
    let mut pair_values = Vec::new();
    for (seed, b) in baseline {
        if let Some(v) = p.get(seed) {
            if b.is_finite() && v.is_finite() {
                seeds.push(*seed);
                diffs.push(v - b);
                pair_values.extend([*b, *v]);
            }
        }
    }
    let mut stats = SeedStats::of(&diffs);
    stats.mean = without_round_off(stats.mean, &pair_values, diffs.len());
    PairedDifference { seeds, stats }
}

/// `mean` as 0 when it is below the round-off of the `n` subtractions and the sum behind it
/// (each difference of two values up to `max |value|` is off by up to one ulp of that), so
/// differences that cancel exactly on paper (+0.16, -0.16, 0) print as 0, not as -2.4e-15.
fn without_round_off(mean: f64, values: &[f64], n: usize) -> f64 {
    let scale = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if mean.abs() <= 4.0 * (n as f64) * f64::EPSILON * scale {
        0.0
    } else {
        mean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_that_cancel_exactly_have_mean_zero_not_round_off() {
        let base = BTreeMap::from([(0, 61.38), (1, 49.63), (2, 45.02)]);
        let p = BTreeMap::from([(0, 61.22), (1, 49.79), (2, 45.02)]);
        let raw: f64 = base.iter().map(|(s, b)| p[s] - b).sum::<f64>() / 3.0;
        assert!(raw != 0.0, "the fixture must carry round-off ({raw})");
        let d = paired_difference(&base, &p);
        assert_eq!(d.stats.mean, 0.0);
        assert!((d.stats.std.unwrap() - 0.16).abs() < 1e-9);
        // A real difference of the same size as the values' round-off scale is kept.
        let p2 = BTreeMap::from([(0, 61.39), (1, 49.63), (2, 45.02)]);
        let d2 = paired_difference(&base, &p2);
        assert!((d2.stats.mean - 0.01 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn mean_and_sample_std_match_hand_computation() {
        // 1, 2, 4: mean 7/3; squared deviations 16/9 + 1/9 + 25/9 = 42/9; / (n-1)=2 -> 7/3.
        let s = SeedStats::of(&[1.0, 2.0, 4.0]);
        assert_eq!(s.n, 3);
        assert!((s.mean - 7.0 / 3.0).abs() < 1e-12);
        assert!((s.std.unwrap() - (7.0f64 / 3.0).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn single_value_has_no_std_and_empty_has_nan_mean() {
        let one = SeedStats::of(&[5.0]);
        assert_eq!(one.mean, 5.0);
        assert_eq!(one.std, None);
        let none = SeedStats::of(&[]);
        assert!(none.mean.is_nan());
        assert_eq!(none.n, 0);
    }

    #[test]
    fn paired_difference_pairs_by_seed_and_skips_unpaired() {
        let b = BTreeMap::from([(0, 70.0), (1, 71.0), (2, 69.0), (7, 1.0)]);
        let p = BTreeMap::from([(0, 70.5), (1, 71.0), (2, 70.0), (9, 3.0)]);
        let d = paired_difference(&b, &p);
        assert_eq!(d.seeds, vec![0, 1, 2]);
        // diffs 0.5, 0.0, 1.0: mean 0.5, sample std sqrt((0 + 0.25 + 0.25)/2) = 0.5.
        assert!((d.stats.mean - 0.5).abs() < 1e-12);
        assert!((d.stats.std.unwrap() - 0.5).abs() < 1e-12);
    }
}
