//! Binary ROC-AUC: scikit-learn's `roc_auc_score` for a binary `y_true` (`max_fpr=None`), i.e.
//! `auc(*roc_curve(y_true, y_score)[:2])`.

use super::curve::binary_clf_curve;
use super::error::{check_binary, MetricError};

/// Area under the ROC curve of `scores` for the labels `y_true`, as
/// `sklearn.metrics.roc_auc_score(y_true, scores)`.
///
/// The curve has one point per distinct score (ties are one point, so a tie between a positive
/// and a negative contributes a diagonal segment: half credit), starting at (0, 0); the area is
/// the trapezoid rule over it. `roc_curve`'s `drop_intermediate` only drops collinear points,
/// which leaves the area unchanged. The sum is accumulated in integers and divided once, so the
/// result is the exact area rounded once (scikit-learn's float sum may differ by a few ulps).
///
/// Returns `Ok(None)` when `y_true` holds one class only, where the area is undefined:
/// scikit-learn of the reference's time raised `ValueError` ("Only one class present in y_true.
/// ROC AUC score is not defined in that case."); 1.9.1 warns (`UndefinedMetricWarning`) and
/// returns NaN.
pub fn roc_auc(y_true: &[bool], scores: &[f32]) -> Result<Option<f64>, MetricError> {
    check_binary(y_true, scores)?;
    let points = binary_clf_curve(y_true, scores);
    let Some(last) = points.last() else {
        return Err(MetricError::Empty);
    };
    let (n_pos, n_neg) = (last.tp, last.fp);
    if n_pos == 0 || n_neg == 0 {
        return Ok(None);
    }
    // Twice the area in units of (1/n_neg) x (1/n_pos): sum of dfp * (tp_prev + tp).
    let (mut twice_area, mut tp_prev, mut fp_prev) = (0u128, 0u64, 0u64);
    for p in &points {
        twice_area += u128::from(p.fp - fp_prev) * u128::from(p.tp + tp_prev);
        tp_prev = p.tp;
        fp_prev = p.fp;
    }
    Ok(Some(
        twice_area as f64 / (2.0 * n_pos as f64 * n_neg as f64),
    ))
}
