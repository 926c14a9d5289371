//! Average precision: scikit-learn's `average_precision_score` for a binary `y_true`.

use super::curve::binary_clf_curve;
use super::error::{check_binary, MetricError};

/// Average precision of `scores` for the labels `y_true`, as
/// `sklearn.metrics.average_precision_score(y_true, scores)`: the step-wise sum
/// `Σ_k (R_k − R_{k−1}) · P_k` over the distinct scores from the highest down (no
/// interpolation), `P_k = tp_k / (tp_k + fp_k)` and `R_k = tp_k / n_pos`; tied scores are one
/// threshold, so their precision is the precision of the whole tied group.
///
/// Returns `Ok(None)` when `y_true` has no positive: scikit-learn 1.9.1 warns ("No positive
/// class found in y_true, recall is set to one for all thresholds") and returns 0.0. With
/// positives only, the result is 1.0, as in scikit-learn.
pub fn average_precision(y_true: &[bool], scores: &[f32]) -> Result<Option<f64>, MetricError> {
    check_binary(y_true, scores)?;
    let points = binary_clf_curve(y_true, scores);
    let n_pos = points.last().map_or(0, |p| p.tp);
    if n_pos == 0 {
        return Ok(None);
    }
    let (mut ap, mut tp_prev) = (0.0f64, 0u64);
    for p in &points {
        if p.tp > tp_prev {
            let recall_step = (p.tp - tp_prev) as f64 / n_pos as f64;
            let precision = p.tp as f64 / (p.tp + p.fp) as f64;
            ap += recall_step * precision;
        }
        tp_prev = p.tp;
    }
    Ok(Some(ap))
}
