//! The cumulative counts behind ROC and precision-recall curves: scikit-learn's
//! `sklearn.metrics._ranking._binary_clf_curve`.

/// One point per distinct score, from the highest score down: how many positives (`tp`) and
/// negatives (`fp`) score at least that value. Tied scores form one point (no order among ties
/// matters), as `_binary_clf_curve` keeps only the last index of each run of equal scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CurvePoint {
    pub tp: u64,
    pub fp: u64,
}

/// The points of [`CurvePoint`], highest threshold first. `scores` must be finite and as long as
/// `y_true` (the callers check).
pub(crate) fn binary_clf_curve(y_true: &[bool], scores: &[f32]) -> Vec<CurvePoint> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    // Descending by score; finite scores, so total_cmp orders them as `<` does (-0.0 and 0.0
    // aside, which scikit-learn treats as equal: they are merged below by `==`).
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut points = Vec::new();
    let (mut tp, mut fp) = (0u64, 0u64);
    for (k, &i) in order.iter().enumerate() {
        if y_true[i] {
            tp += 1;
        } else {
            fp += 1;
        }
        let last_of_run = order
            .get(k + 1)
            .is_none_or(|&next| scores[next] != scores[i]);
        if last_of_run {
            points.push(CurvePoint { tp, fp });
        }
    }
    points
}
