//! The COCO detection protocol for boxes, exactly as pycocotools' `cocoeval.py` runs it:
//! `COCOeval(cocoGt, cocoDt, iouType="bbox")` with the default `Params.setDetParams`, then
//! `evaluate()`, `accumulate()` and `summarize()`.
//!
//! - IoU thresholds 0.50:0.05:0.95 and recall points 0:0.01:1 built as `np.linspace` builds
//!   them (`i * step + start`, the last one exactly the end), so that a recall equal to a
//!   recall point compares the same way.
//! - Area ranges `all` [0, 1e10], `small` [0, 32²], `medium` [32², 96²], `large` [96², 1e10],
//!   a ground truth (its COCO `area` field) or unmatched detection (`w * h`, as `COCO.loadRes`
//!   sets it) being outside when `area < lo || area > hi`, so 32² is both small and medium.
//! - maxDets [1, 10, 100]; `evaluateImg` keeps the 100 best detections per image and category,
//!   `accumulate` the first 1, 10 or 100 of those.
//!
//! Two quirks kept on purpose: detections are ordered by a stable sort on the score (numpy's
//! `argsort(kind='mergesort')`), per image and again after concatenating the images in
//! ascending image id order, so exact score ties resolve as in pycocotools; and `dtMatches`
//! holds the matched ground truth's annotation id, so a match to a ground truth whose id is 0
//! counts as no match (a false positive unless ignored), as it does there.

use std::collections::HashMap;

/// A ground-truth box (one entry of a COCO `annotations` list).
#[derive(Debug, Clone, PartialEq)]
pub struct GroundTruth {
    pub image_id: u64,
    pub category_id: u64,
    /// `[x, y, w, h]`.
    pub bbox: [f64; 4],
    /// COCO's `area` field (the segment's area, not the box's): decides the area ranges.
    pub area: f64,
    /// A crowd region: ignored, and any number of detections may match it.
    pub iscrowd: bool,
    /// The annotation id (see the module doc for id 0).
    pub id: u64,
}

/// A detection (one entry of a COCO results list).
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    pub image_id: u64,
    pub category_id: u64,
    /// `[x, y, w, h]`; its area for the area ranges is `w * h`.
    pub bbox: [f64; 4],
    pub score: f64,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CocoEvalError {
    #[error("{what} {index} has a non-finite bbox, area or score")]
    NonFinite { what: &'static str, index: usize },
}

/// `COCOeval.stats` after `summarize()`: the 12 numbers of `_summarizeDets`, -1 where no
/// category has a ground truth that counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CocoStats(pub [f64; 12]);

impl CocoStats {
    /// The order of [`CocoStats`]'s entries.
    pub const NAMES: [&'static str; 12] = [
        "AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl",
    ];
}

const T: usize = 10;
const R: usize = 101;
const A: usize = 4;
const M: usize = 3;
/// `Params.maxDets`.
pub const MAX_DETS: [usize; M] = [1, 10, 100];
/// `Params.areaRng` (`all`, `small`, `medium`, `large`).
pub const AREA_RANGES: [[f64; 2]; A] =
    [[0.0, 1e10], [0.0, 1024.0], [1024.0, 9216.0], [9216.0, 1e10]];

/// `Params.iouThrs = np.linspace(.5, 0.95, 10)`.
pub fn iou_thresholds() -> [f64; T] {
    let step = (0.95 - 0.5) / 9.0;
    std::array::from_fn(|i| {
        if i == T - 1 {
            0.95
        } else {
            i as f64 * step + 0.5
        }
    })
}

/// `Params.recThrs = np.linspace(.0, 1.00, 101)`.
pub fn recall_thresholds() -> [f64; R] {
    let step = 1.0 / 100.0;
    std::array::from_fn(|i| if i == R - 1 { 1.0 } else { i as f64 * step })
}

/// The IoU of `maskUtils.iou` for boxes (`bbIou` in `maskApi.c`): for a crowd ground truth
/// the union is the detection's area.
pub fn iou(dt: &[f64; 4], gt: &[f64; 4], crowd: bool) -> f64 {
    let w = (dt[2] + dt[0]).min(gt[2] + gt[0]) - dt[0].max(gt[0]);
    if w <= 0.0 {
        return 0.0;
    }
    let h = (dt[3] + dt[1]).min(gt[3] + gt[1]) - dt[1].max(gt[1]);
    if h <= 0.0 {
        return 0.0;
    }
    let (da, ga, i) = (dt[2] * dt[3], gt[2] * gt[3], w * h);
    let u = if crowd { da } else { da + ga - i };
    i / u
}

/// `COCOeval.evaluate()`, `accumulate()` and `summarize()` over `image_ids` x `category_ids`
/// (sorted and deduplicated, as `evaluate` does with `np.unique`); annotations and detections
/// on other images or categories are left out.
pub fn evaluate(
    gts: &[GroundTruth],
    dets: &[Detection],
    image_ids: &[u64],
    category_ids: &[u64],
) -> Result<CocoStats, CocoEvalError> {
    check_finite(gts, dets)?;
    let images = sorted_unique(image_ids);
    let cats = sorted_unique(category_ids);
    let mut groups: HashMap<(u64, u64), Group> = HashMap::new();
    for g in gts {
        groups
            .entry((g.image_id, g.category_id))
            .or_default()
            .0
            .push(g);
    }
    for d in dets {
        groups
            .entry((d.image_id, d.category_id))
            .or_default()
            .1
            .push(d);
    }
    let thresholds = iou_thresholds();
    let empty = Group::default();
    let mut evals = Vec::with_capacity(cats.len() * A * images.len());
    for &cat in &cats {
        for range in &AREA_RANGES {
            for &img in &images {
                let (g, d) = groups.get(&(img, cat)).unwrap_or(&empty);
                evals.push(evaluate_img(g, d, range, &thresholds));
            }
        }
    }
    let acc = accumulate(&evals, images.len(), cats.len());
    Ok(summarize(&acc))
}

type Group<'a> = (Vec<&'a GroundTruth>, Vec<&'a Detection>);

fn check_finite(gts: &[GroundTruth], dets: &[Detection]) -> Result<(), CocoEvalError> {
    let finite = |b: &[f64; 4], x: f64| b.iter().all(|v| v.is_finite()) && x.is_finite();
    if let Some(index) = gts.iter().position(|g| !finite(&g.bbox, g.area)) {
        return Err(CocoEvalError::NonFinite {
            what: "ground truth",
            index,
        });
    }
    if let Some(index) = dets.iter().position(|d| !finite(&d.bbox, d.score)) {
        return Err(CocoEvalError::NonFinite {
            what: "detection",
            index,
        });
    }
    Ok(())
}

fn sorted_unique(ids: &[u64]) -> Vec<u64> {
    let mut v = ids.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

/// Indices of `scores` by descending score, ties in their given order: numpy's
/// `np.argsort(-scores, kind='mergesort')`.
fn stable_descending(scores: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[b].partial_cmp(&scores[a]).expect("finite scores"));
    idx
}

/// One `evaluateImg` result: per threshold, whether each kept detection counts as matched
/// (`dtMatches != 0`) and is ignored (`dtIgnore`); the ground truths' `gtIgnore`.
struct ImageEval {
    scores: Vec<f64>,
    matched: Vec<Vec<bool>>,
    ignored: Vec<Vec<bool>>,
    gt_ignore: Vec<bool>,
}

/// `COCOeval.evaluateImg(imgId, catId, aRng, maxDet=100)`; `None` without ground truths and
/// detections.
fn evaluate_img(
    gts: &[&GroundTruth],
    dets: &[&Detection],
    range: &[f64; 2],
    thresholds: &[f64; T],
) -> Option<ImageEval> {
    if gts.is_empty() && dets.is_empty() {
        return None;
    }
    let outside = |area: f64| area < range[0] || area > range[1];
    let ignore = |g: &GroundTruth| g.iscrowd || outside(g.area);
    // Non-ignored first, each part in its given order (a stable argsort of `_ignore`).
    let gt: Vec<&GroundTruth> = (gts.iter().filter(|g| !ignore(g)))
        .chain(gts.iter().filter(|g| ignore(g)))
        .copied()
        .collect();
    let gt_ignore: Vec<bool> = gt.iter().map(|g| ignore(g)).collect();
    let crowd: Vec<bool> = gt.iter().map(|g| g.iscrowd).collect();
    let scores: Vec<f64> = dets.iter().map(|d| d.score).collect();
    let order = stable_descending(&scores);
    let dt: Vec<&Detection> = order
        .iter()
        .take(MAX_DETS[M - 1])
        .map(|&i| dets[i])
        .collect();
    let ious: Vec<Vec<f64>> = (dt.iter())
        .map(|d| {
            gt.iter()
                .map(|g| iou(&d.bbox, &g.bbox, g.iscrowd))
                .collect()
        })
        .collect();
    let (mut matched, mut ignored) = (
        vec![vec![false; dt.len()]; T],
        vec![vec![false; dt.len()]; T],
    );
    for (t, &thr) in thresholds.iter().enumerate() {
        let mut taken = vec![false; gt.len()];
        for (d, row) in ious.iter().enumerate() {
            if let Some(m) = best_match(row, thr, &taken, &gt_ignore, &crowd) {
                ignored[t][d] = gt_ignore[m];
                matched[t][d] = gt[m].id != 0;
                taken[m] = true;
            }
            let area = dt[d].bbox[2] * dt[d].bbox[3];
            ignored[t][d] |= !matched[t][d] && outside(area);
        }
    }
    Some(ImageEval {
        scores: dt.iter().map(|d| d.score).collect(),
        matched,
        ignored,
        gt_ignore,
    })
}

/// The greedy match of one detection in `evaluateImg`: the ground truth of highest IoU
/// (the later one on ties) at least `min(t, 1-1e-10)`, skipping matched non-crowd ground
/// truths, and not looking at ignored ones once a non-ignored one is matched.
fn best_match(
    ious: &[f64],
    t: f64,
    taken: &[bool],
    gt_ignore: &[bool],
    crowd: &[bool],
) -> Option<usize> {
    let mut best = t.min(1.0 - 1e-10);
    let mut m: Option<usize> = None;
    for (g, &v) in ious.iter().enumerate() {
        if taken[g] && !crowd[g] {
            continue;
        }
        if m.is_some_and(|m| !gt_ignore[m]) && gt_ignore[g] {
            break;
        }
        if v < best {
            continue;
        }
        best = v;
        m = Some(g);
    }
    m
}

/// `COCOeval.eval`'s `precision` [T x R] and `recall` [T] per (category, area, maxDet),
/// -1 where not computed.
struct Accumulated {
    precision: Vec<f64>,
    recall: Vec<f64>,
    cats: usize,
}

impl Accumulated {
    fn cell(k: usize, a: usize, m: usize) -> usize {
        (k * A + a) * M + m
    }
}

/// `COCOeval.accumulate()`.
fn accumulate(evals: &[Option<ImageEval>], images: usize, cats: usize) -> Accumulated {
    let cells = cats * A * M;
    let mut acc = Accumulated {
        precision: vec![-1.0; cells * T * R],
        recall: vec![-1.0; cells * T],
        cats,
    };
    for k in 0..cats {
        for a in 0..A {
            let start = (k * A + a) * images;
            let es: Vec<&ImageEval> = evals[start..start + images].iter().flatten().collect();
            let npig = es
                .iter()
                .flat_map(|e| &e.gt_ignore)
                .filter(|&&i| !i)
                .count();
            if npig == 0 {
                continue;
            }
            for (m, &max_det) in MAX_DETS.iter().enumerate() {
                let c = Accumulated::cell(k, a, m);
                for t in 0..T {
                    let (rc, pr) = pr_curve(&es, t, max_det, npig);
                    acc.recall[c * T + t] = rc.last().copied().unwrap_or(0.0);
                    let row = &mut acc.precision[(c * T + t) * R..(c * T + t + 1) * R];
                    row.copy_from_slice(&interpolate(&rc, pr));
                }
            }
        }
    }
    acc
}

/// Recall and precision along the detections of all images (the first `max_det` of each),
/// merged by a stable descending sort of their scores, as in `accumulate`.
fn pr_curve(es: &[&ImageEval], t: usize, max_det: usize, npig: usize) -> (Vec<f64>, Vec<f64>) {
    let mut kept: Vec<(usize, usize)> = Vec::new();
    for (i, e) in es.iter().enumerate() {
        kept.extend((0..e.scores.len().min(max_det)).map(|d| (i, d)));
    }
    let scores: Vec<f64> = kept.iter().map(|&(i, d)| es[i].scores[d]).collect();
    let (mut tp, mut fp) = (0u64, 0u64);
    let (mut rc, mut pr) = (Vec::new(), Vec::new());
    for j in stable_descending(&scores) {
        let (i, d) = kept[j];
        if !es[i].ignored[t][d] {
            if es[i].matched[t][d] {
                tp += 1;
            } else {
                fp += 1;
            }
        }
        let (tpf, fpf) = (tp as f64, fp as f64);
        rc.push(tpf / npig as f64);
        pr.push(tpf / (fpf + tpf + f64::EPSILON));
    }
    (rc, pr)
}

/// Precision at the 101 recall points: the monotone envelope from the right, read at
/// `np.searchsorted(rc, recThrs, side='left')`, 0 past the last detection.
fn interpolate(rc: &[f64], mut pr: Vec<f64>) -> [f64; R] {
    for i in (1..pr.len()).rev() {
        if pr[i] > pr[i - 1] {
            pr[i - 1] = pr[i];
        }
    }
    let mut q = [0.0; R];
    for (r, thr) in recall_thresholds().iter().enumerate() {
        let i = rc.partition_point(|&x| x < *thr);
        if i >= pr.len() {
            break;
        }
        q[r] = pr[i];
    }
    q
}

/// `COCOeval.summarize()`'s `_summarizeDets`.
fn summarize(acc: &Accumulated) -> CocoStats {
    let ap = |t: Option<usize>, a: usize| mean_valid(acc, true, t, a, M - 1);
    let ar = |a: usize, m: usize| mean_valid(acc, false, None, a, m);
    CocoStats([
        ap(None, 0),
        ap(Some(0), 0),
        ap(Some(5), 0),
        ap(None, 1),
        ap(None, 2),
        ap(None, 3),
        ar(0, 0),
        ar(0, 1),
        ar(0, 2),
        ar(1, 2),
        ar(2, 2),
        ar(3, 2),
    ])
}

/// `_summarize`: the mean of the entries > -1 of precision (`ap`) or recall at one area range
/// and maxDet, over all categories and the given IoU threshold (or all); -1 if none.
fn mean_valid(acc: &Accumulated, ap: bool, t: Option<usize>, a: usize, m: usize) -> f64 {
    let ts = t.map_or(0..T, |t| t..t + 1);
    let (mut sum, mut n) = (0.0, 0usize);
    for k in 0..acc.cats {
        let c = Accumulated::cell(k, a, m);
        for t in ts.clone() {
            let values = if ap {
                &acc.precision[(c * T + t) * R..(c * T + t + 1) * R]
            } else {
                &acc.recall[c * T + t..c * T + t + 1]
            };
            for &v in values.iter().filter(|&&v| v > -1.0) {
                sum += v;
                n += 1;
            }
        }
    }
    if n == 0 {
        -1.0
    } else {
        sum / n as f64
    }
}
