//! ssd.pytorch's `layers/box_utils.py::match`: the training targets of one image, each prior
//! matched to the ground-truth box it overlaps most, every truth keeping its best prior.

use super::boxes::{encode, jaccard, point_form};

/// The targets of one image, one entry per prior: `loc` the [`encode`]d offsets of the prior's
/// matched truth (`loc_t[idx]`), `conf` its class, 0 for background and `label + 1` for an
/// object (`conf_t[idx]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Matched {
    pub loc: Vec<[f32; 4]>,
    pub conf: Vec<u32>,
}

/// `match(threshold, truths, priors, variances, labels, loc_t, conf_t, idx)`:
///
/// 1. `overlaps = jaccard(truths, point_form(priors))`;
/// 2. each truth's best prior (`overlaps.max(1)`) and each prior's best truth
///    (`overlaps.max(0)`), the first index among equal overlaps, as torch's `max(dim)`;
/// 3. the overlap of every truth's best prior is set to 2 (`index_fill_`), so that it stays
///    positive whatever its IoU, and for `j = 0, 1, ...` in order that prior's truth is set to
///    `j` (when two truths share a best prior, the later one wins);
/// 4. `conf = label + 1`, or 0 where the overlap is below `threshold` (compared in f32, as the
///    reference compares its float tensor with the Python scalar); `loc = encode(matched truth,
///    prior)` for every prior, background included.
///
/// `truths_xyxy` are normalised `xyxy`, `labels` 0-based, `priors` `cxcywh`. Without truths
/// (where the reference fails on an empty `max`) every prior is background and `loc` is zero.
///
/// # Panics
/// If `truths_xyxy` and `labels` differ in length.
pub fn match_priors(
    threshold: f64,
    truths_xyxy: &[[f32; 4]],
    labels: &[u32],
    priors: &[[f32; 4]],
    variance: [f64; 2],
) -> Matched {
    assert_eq!(
        truths_xyxy.len(),
        labels.len(),
        "one label per truth box expected"
    );
    let n_priors = priors.len();
    if truths_xyxy.is_empty() {
        return Matched {
            loc: vec![[0.0; 4]; n_priors],
            conf: vec![0; n_priors],
        };
    }
    let prior_boxes: Vec<[f32; 4]> = priors.iter().map(point_form).collect();
    // Best prior per truth; best truth (and its overlap) per prior. Strict `>` keeps the
    // first maximum.
    let mut best_prior_idx = vec![0usize; truths_xyxy.len()];
    let mut best_truth_idx = vec![0usize; n_priors];
    let mut best_truth_overlap = vec![f32::NEG_INFINITY; n_priors];
    for (t, truth) in truths_xyxy.iter().enumerate() {
        let mut best = f32::NEG_INFINITY;
        for (p, pb) in prior_boxes.iter().enumerate() {
            let iou = jaccard(truth, pb);
            if iou > best {
                best = iou;
                best_prior_idx[t] = p;
            }
            if iou > best_truth_overlap[p] {
                best_truth_overlap[p] = iou;
                best_truth_idx[p] = t;
            }
        }
    }
    for &p in &best_prior_idx {
        if p < n_priors {
            best_truth_overlap[p] = 2.0;
        }
    }
    for (j, &p) in best_prior_idx.iter().enumerate() {
        if p < n_priors {
            best_truth_idx[p] = j;
        }
    }
    let threshold = threshold as f32;
    let mut loc = Vec::with_capacity(n_priors);
    let mut conf = Vec::with_capacity(n_priors);
    for (p, prior) in priors.iter().enumerate() {
        let t = best_truth_idx[p];
        loc.push(encode(&truths_xyxy[t], prior, variance));
        conf.push(if best_truth_overlap[p] < threshold {
            0
        } else {
            labels[t] + 1
        });
    }
    Matched { loc, conf }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forced_and_thresholded() {
        // Two priors; the truth overlaps the first by 0.25 (below 0.5) and the second not at
        // all: the first is forced positive, the second stays background.
        let priors = [[0.25, 0.25, 0.5, 0.5], [0.8, 0.8, 0.1, 0.1]];
        let truth = [[0.0, 0.0, 0.25, 0.25]];
        let m = match_priors(0.5, &truth, &[3], &priors, [0.1, 0.2]);
        assert_eq!(m.conf, vec![4, 0]);
        let empty = match_priors(0.5, &[], &[], &priors, [0.1, 0.2]);
        assert_eq!(empty.conf, vec![0, 0]);
    }
}
