//! SSD's test-time decoding: ssd.pytorch's `layers/box_utils.py::nms` (greedy NMS) and
//! `layers/functions/detection.py::Detect` (per-class thresholding, box decoding and NMS),
//! for one image, on plain row-major `f32` slices.

use super::boxes::decode;

/// `Detect(num_classes, bkg_label=0, top_k, conf_thresh, nms_thresh)`: classes scoring at most
/// `conf_thresh` are dropped, `nms_thresh` is NMS's IoU, `top_k` the candidates per class NMS
/// looks at, and `keep_top_k` the detections kept over all classes. Default: ssd.pytorch's
/// test setting `Detect(num_classes, 0, 200, 0.01, 0.45)` and 200 overall.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectSpec {
    pub conf_thresh: f32,
    pub nms_thresh: f32,
    pub top_k: usize,
    pub keep_top_k: usize,
}

impl Default for DetectSpec {
    fn default() -> Self {
        DetectSpec {
            conf_thresh: 0.01,
            nms_thresh: 0.45,
            top_k: 200,
            keep_top_k: 200,
        }
    }
}

/// One detection of [`detect`]: the 0-based object class (the reference's class `label + 1`),
/// its softmax score and its normalised `xyxy` box.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SsdDetection {
    pub label: u32,
    pub score: f32,
    pub bbox: [f32; 4],
}

/// `nms(boxes, scores, overlap, top_k)`: greedy non-maximum suppression over `xyxy` boxes.
/// The candidates are the `top_k` highest scores (all of them when `top_k == 0`, as the
/// reference's slice `idx[-0:]` is the whole tensor); repeatedly the best remaining one is
/// kept and those whose IoU with it exceeds `overlap` are dropped (kept when `IoU <= overlap`;
/// a NaN IoU drops). The IoU is the reference's: sides clamped at 0, areas `(x2-x1)(y2-y1)`
/// without `+ 1`, union `(area_other - inter) + area_kept`. Returns the kept indices into
/// `boxes`, best first. Among equal scores the lower index counts as higher (torch's sort
/// leaves that order undefined).
///
/// # Panics
/// If `boxes` and `scores` differ in length.
pub fn nms(boxes: &[[f32; 4]], scores: &[f32], overlap: f32, top_k: usize) -> Vec<usize> {
    assert_eq!(boxes.len(), scores.len(), "one score per box expected");
    let mut order: Vec<usize> = (0..boxes.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    if top_k > 0 {
        order.truncate(top_k);
    }
    let area = |b: &[f32; 4]| (b[2] - b[0]) * (b[3] - b[1]);
    let mut keep = Vec::new();
    let mut rest = order;
    while !rest.is_empty() {
        let i = rest[0];
        keep.push(i);
        let bi = &boxes[i];
        let area_i = area(bi);
        rest = rest[1..]
            .iter()
            .copied()
            .filter(|&j| {
                let bj = &boxes[j];
                let w = (bj[2].min(bi[2]) - bj[0].max(bi[0])).max(0.0);
                let h = (bj[3].min(bi[3]) - bj[1].max(bi[1])).max(0.0);
                let inter = w * h;
                let union = (area(bj) - inter) + area_i;
                inter / union <= overlap
            })
            .collect();
    }
    keep
}

/// `Detect.forward` for one image: `loc` the `P × 4` predicted offsets, `conf_probs` the
/// `P × (C + 1)` softmax scores (class 0 background), `priors` the `P` priors `cxcywh`. Every
/// box is [`decode`]d; for each class `c >= 1` the priors scoring `> conf_thresh` go through
/// [`nms`]`(nms_thresh, top_k)`. The survivors of all classes are then sorted by score,
/// descending, and the first `keep_top_k` kept (all when `keep_top_k == 0`); equal scores keep
/// the order class by class, NMS order within a class. (The reference means to do this last
/// step with `flt[(rank < top_k)...].fill_(0)`, which writes into a copy and changes nothing;
/// its output, per class, is the same set before the cut.)
///
/// # Panics
/// If `loc` is not `P × 4` or `conf_probs` not `P × (C + 1)` with `C + 1 >= 1`.
pub fn detect(
    loc: &[f32],
    conf_probs: &[f32],
    priors: &[[f32; 4]],
    variance: [f64; 2],
    spec: &DetectSpec,
) -> Vec<SsdDetection> {
    let p = priors.len();
    assert_eq!(loc.len(), p * 4, "loc must be P x 4");
    if p == 0 {
        return Vec::new();
    }
    assert!(
        conf_probs.len().is_multiple_of(p) && conf_probs.len() >= p,
        "conf_probs must be P x (C + 1)"
    );
    let nc = conf_probs.len() / p;
    let decoded: Vec<[f32; 4]> = loc
        .chunks_exact(4)
        .zip(priors)
        .map(|(l, prior)| decode(&[l[0], l[1], l[2], l[3]], prior, variance))
        .collect();
    let mut out = Vec::new();
    for cl in 1..nc {
        let cand: Vec<usize> = (0..p)
            .filter(|&i| conf_probs[i * nc + cl] > spec.conf_thresh)
            .collect();
        if cand.is_empty() {
            continue;
        }
        let boxes: Vec<[f32; 4]> = cand.iter().map(|&i| decoded[i]).collect();
        let scores: Vec<f32> = cand.iter().map(|&i| conf_probs[i * nc + cl]).collect();
        for k in nms(&boxes, &scores, spec.nms_thresh, spec.top_k) {
            out.push(SsdDetection {
                label: (cl - 1) as u32,
                score: scores[k],
                bbox: boxes[k],
            });
        }
    }
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    if spec.keep_top_k > 0 {
        out.truncate(spec.keep_top_k);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nms_by_hand() {
        let boxes = [
            [0.0, 0.0, 1.0, 1.0],
            [0.0, 0.0, 1.0, 0.5], // IoU 0.5 with box 0
            [0.0, 0.0, 1.0, 0.4], // IoU 0.4 with box 0, 0.8 with box 1
            [2.0, 2.0, 3.0, 3.0],
        ];
        let scores = [0.9, 0.8, 0.7, 0.1];
        assert_eq!(nms(&boxes, &scores, 0.5, 0), vec![0, 1, 3]);
        assert_eq!(nms(&boxes, &scores, 0.45, 0), vec![0, 2, 3]);
        assert_eq!(nms(&boxes, &scores, 0.45, 2), vec![0]);
        // Equal scores: the lower index first.
        assert_eq!(nms(&boxes[..1].repeat(2), &[0.5, 0.5], 0.5, 0), vec![0]);
        assert!(nms(&[], &[], 0.5, 10).is_empty());
    }

    #[test]
    fn detect_by_hand() {
        // Two priors, zero offsets: boxes are the priors. Class 1 scores 0.6 / 0.3, class 2
        // 0.1 / 0.65; with threshold 0.2 three detections, best first.
        let priors = [[0.25f32, 0.25, 0.5, 0.5], [0.75, 0.75, 0.5, 0.5]];
        let conf = [0.3, 0.6, 0.1, 0.05, 0.3, 0.65];
        let spec = DetectSpec {
            conf_thresh: 0.2,
            ..DetectSpec::default()
        };
        let dets = detect(&[0.0; 8], &conf, &priors, [0.1, 0.2], &spec);
        let got: Vec<(u32, f32)> = dets.iter().map(|d| (d.label, d.score)).collect();
        assert_eq!(got, vec![(1, 0.65), (0, 0.6), (0, 0.3)]);
        assert_eq!(dets[0].bbox, [0.5, 0.5, 1.0, 1.0]);
        let spec = DetectSpec {
            keep_top_k: 2,
            ..spec
        };
        assert_eq!(
            detect(&[0.0; 8], &conf, &priors, [0.1, 0.2], &spec).len(),
            2
        );
    }
}
