//! Macro averages over tags: `roc_auc_score(gt, est, average="macro")` and
//! `average_precision_score(gt, est, average="macro")`, as the Harmonic CNN solver calls them on
//! MagnaTagATune (minzwon/sota-music-tagging-models and minzwon/data-driven-harmonic-filters,
//! `training/solver.py`, `Solver.get_auc`).

use super::ap::average_precision;
use super::error::{check_finite, check_table, MetricError};
use super::roc::roc_auc;

/// A mean over tags, with the tags it left out.
#[derive(Debug, Clone, PartialEq)]
pub struct MacroScore {
    /// The unweighted mean over the tags used (NaN when none is used).
    pub mean: f64,
    /// How many tags entered the mean.
    pub tags_used: usize,
    /// Tags (column indices) left out because their labels hold one class only.
    pub tags_skipped: Vec<usize>,
}

/// Macro ROC-AUC over the tags of `[n_samples][n_tags]` tables.
///
/// A tag whose labels hold one class only (no positive, or no negative) has no ROC-AUC:
/// scikit-learn of the reference's time raised `ValueError` on it, 1.9.1 gives the tag NaN and
/// so a NaN mean. On the MagnaTagATune top-50 test split the reference never meets one. Our
/// choice: such a tag is skipped and reported in [`MacroScore::tags_skipped`]; the mean is
/// `roc_auc_score(average="macro")` over the remaining tags.
pub fn macro_roc_auc(y_true: &[Vec<bool>], scores: &[Vec<f32>]) -> Result<MacroScore, MetricError> {
    macro_over_tags(y_true, scores, roc_auc)
}

/// Macro average precision (PR-AUC) over the tags of `[n_samples][n_tags]` tables.
///
/// Tags whose labels hold one class only are skipped, the same tags as [`macro_roc_auc`] skips,
/// so both means cover the same tags (scikit-learn itself would give 0.0 with a warning for a tag
/// without positives and 1.0 for a tag with positives only).
pub fn macro_pr_auc(y_true: &[Vec<bool>], scores: &[Vec<f32>]) -> Result<MacroScore, MetricError> {
    macro_over_tags(y_true, scores, average_precision)
}

/// A per-tag metric: `None` where it is undefined.
type BinaryMetric = fn(&[bool], &[f32]) -> Result<Option<f64>, MetricError>;

fn macro_over_tags(
    y_true: &[Vec<bool>],
    scores: &[Vec<f32>],
    metric: BinaryMetric,
) -> Result<MacroScore, MetricError> {
    let n_tags = check_table(y_true, scores)?;
    for (row, s) in scores.iter().enumerate() {
        check_finite(s, row * n_tags)?;
    }
    let (mut sum, mut tags_used, mut tags_skipped) = (0.0f64, 0usize, Vec::new());
    for tag in 0..n_tags {
        let labels: Vec<bool> = y_true.iter().map(|row| row[tag]).collect();
        let column: Vec<f32> = scores.iter().map(|row| row[tag]).collect();
        let n_pos = labels.iter().filter(|&&l| l).count();
        if n_pos == 0 || n_pos == labels.len() {
            tags_skipped.push(tag);
            continue;
        }
        match metric(&labels, &column)? {
            Some(v) => {
                sum += v;
                tags_used += 1;
            }
            None => tags_skipped.push(tag),
        }
    }
    Ok(MacroScore {
        mean: sum / tags_used as f64,
        tags_used,
        tags_skipped,
    })
}
