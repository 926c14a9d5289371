//! Errors of the metrics: inputs scikit-learn rejects (it raises `ValueError`).

/// Why a metric could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricError {
    /// Labels and scores (or predictions) differ in length.
    #[error("length mismatch: {what} has {got} entries, expected {expected}")]
    LengthMismatch {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    /// No samples at all.
    #[error("empty input: no samples")]
    Empty,
    /// A score is NaN or infinite (scikit-learn's `check_array` rejects those).
    #[error("score at index {index} is not finite ({value})")]
    NonFiniteScore { index: usize, value: f32 },
    /// The decision threshold is NaN or infinite.
    #[error("threshold is not finite ({0})")]
    NonFiniteThreshold(f32),
    /// A multi-label row has another number of tags than the first row.
    #[error("row {row} has {got} tags, expected {expected}")]
    RaggedRow {
        row: usize,
        expected: usize,
        got: usize,
    },
}

/// Checks that `scores` matches `y_true` in length, is not empty and holds finite values only.
pub(crate) fn check_binary(y_true: &[bool], scores: &[f32]) -> Result<(), MetricError> {
    if y_true.is_empty() {
        return Err(MetricError::Empty);
    }
    if scores.len() != y_true.len() {
        return Err(MetricError::LengthMismatch {
            what: "scores",
            expected: y_true.len(),
            got: scores.len(),
        });
    }
    check_finite(scores, 0)
}

/// Fails on the first non-finite score; `offset` is added to the reported index.
pub(crate) fn check_finite(scores: &[f32], offset: usize) -> Result<(), MetricError> {
    match scores.iter().position(|s| !s.is_finite()) {
        Some(i) => Err(MetricError::NonFiniteScore {
            index: offset + i,
            value: scores[i],
        }),
        None => Ok(()),
    }
}

/// Checks a `[n_samples][n_tags]` pair of tables: same shape, rectangular, not empty.
/// Returns `n_tags`.
pub(crate) fn check_table<A, B>(y_true: &[Vec<A>], other: &[Vec<B>]) -> Result<usize, MetricError> {
    let first = y_true.first().ok_or(MetricError::Empty)?;
    let n_tags = first.len();
    if other.len() != y_true.len() {
        return Err(MetricError::LengthMismatch {
            what: "rows of scores",
            expected: y_true.len(),
            got: other.len(),
        });
    }
    for (row, (t, o)) in y_true.iter().zip(other).enumerate() {
        for got in [t.len(), o.len()] {
            if got != n_tags {
                return Err(MetricError::RaggedRow {
                    row,
                    expected: n_tags,
                    got,
                });
            }
        }
    }
    Ok(n_tags)
}
