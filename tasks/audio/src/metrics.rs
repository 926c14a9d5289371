//! The evaluation metrics of the audio benchmarks, as scikit-learn computes them.
//!
//! | benchmark | metric | here |
//! |---|---|---|
//! | MagnaTagATune tagging | `roc_auc_score(gt, est, average="macro")`, `average_precision_score(gt, est, average="macro")` | [`macro_roc_auc`], [`macro_pr_auc`] |
//! | Speech Commands | `accuracy_score` | [`accuracy`] |
//! | DCASE 2017 task 4 | `f1_score(gt, est >= 0.1, average="samples")` | [`f1_samples`] |
//!
//! Multi-label inputs are row-major slices of rows, one row per sample and one column per tag
//! (scikit-learn's `(n_samples, n_tags)` layout). Ragged rows, length mismatches, empty inputs and
//! non-finite scores are [`MetricError`]s (scikit-learn raises on them too), never panics.

mod accuracy;
mod ap;
mod curve;
mod error;
mod f1;
mod macro_avg;
mod roc;

pub use accuracy::accuracy;
pub use ap::average_precision;
pub use error::MetricError;
pub use f1::{f1_samples, f1_samples_binary};
pub use macro_avg::{macro_pr_auc, macro_roc_auc, MacroScore};
pub use roc::roc_auc;
