//! Accuracy: scikit-learn's `accuracy_score` for class indices.

use super::error::MetricError;

/// The fraction of samples whose predicted class equals the label, as
/// `sklearn.metrics.accuracy_score(labels, predicted)` (`normalize=True`).
pub fn accuracy(labels: &[usize], predicted: &[usize]) -> Result<f64, MetricError> {
    if labels.is_empty() {
        return Err(MetricError::Empty);
    }
    if predicted.len() != labels.len() {
        return Err(MetricError::LengthMismatch {
            what: "predicted",
            expected: labels.len(),
            got: predicted.len(),
        });
    }
    let correct = labels.iter().zip(predicted).filter(|(l, p)| l == p).count();
    Ok(correct as f64 / labels.len() as f64)
}
