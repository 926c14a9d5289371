//! F1 averaged over samples: scikit-learn's `f1_score(y_true, y_pred, average="samples")`.

use super::error::{check_finite, check_table, MetricError};

/// `f1_score(y_true, probs >= threshold, average="samples")`: a tag is predicted when its
/// probability is **at least** `threshold`.
///
/// The comparison is our choice: the Harmonic CNN code stored for reference
/// (minzwon/data-driven-harmonic-filters, minzwon/sota-music-tagging-models) has no DCASE F1
/// evaluation to copy it from. A caller that needs `>` binarises itself and calls
/// [`f1_samples_binary`]. Layout and zero-division rule: see [`f1_samples_binary`].
pub fn f1_samples(
    y_true: &[Vec<bool>],
    probs: &[Vec<f32>],
    threshold: f32,
) -> Result<f64, MetricError> {
    let n_tags = check_table(y_true, probs)?;
    if !threshold.is_finite() {
        return Err(MetricError::NonFiniteThreshold(threshold));
    }
    for (row, p) in probs.iter().enumerate() {
        check_finite(p, row * n_tags)?;
    }
    let y_pred: Vec<Vec<bool>> = probs
        .iter()
        .map(|row| row.iter().map(|&p| p >= threshold).collect())
        .collect();
    f1_samples_binary(y_true, &y_pred)
}

/// `sklearn.metrics.f1_score(y_true, y_pred, average="samples")` for `[n_samples][n_tags]`
/// tables: the mean over samples of `2·|T∩P| / (|T| + |P|)`.
///
/// A sample with no true and no predicted tag has an undefined F1; scikit-learn's default
/// `zero_division="warn"` counts it as 0.0 (and warns), and so does this function. A sample with
/// true tags and no prediction (or the reverse) scores 0.0 without ambiguity.
pub fn f1_samples_binary(y_true: &[Vec<bool>], y_pred: &[Vec<bool>]) -> Result<f64, MetricError> {
    check_table(y_true, y_pred)?;
    let mut sum = 0.0f64;
    for (t, p) in y_true.iter().zip(y_pred) {
        let n_true = t.iter().filter(|&&x| x).count();
        let n_pred = p.iter().filter(|&&x| x).count();
        let tp = t.iter().zip(p).filter(|(&a, &b)| a && b).count();
        if n_true + n_pred > 0 {
            sum += 2.0 * tp as f64 / (n_true + n_pred) as f64;
        }
    }
    Ok(sum / y_true.len() as f64)
}
