#!/usr/bin/env python3
"""Reference SSD priors, box coding, matching, MultiBox loss and detection for
adamp-task-detection (`tasks/detection/tests/ssd_fixtures.rs`).

A numpy-only (2.4.6, pinned in tools/requirements-fixtures.txt) port of ssd.pytorch
(github amdegroot/ssd.pytorch):

* `data/config.py` (`coco`) and `layers/functions/prior_box.py::PriorBox.forward`: the
  priors, built in float64 Python and stored as float32 (`torch.Tensor(mean)`), clipped to
  [0, 1]; plus `scaled_spec`, the rule of `PriorSpec::scaled` (Caffe SSD's
  `ssd_pascal.py` size rule, see `tasks/detection/src/ssd/priors.rs`);
* `layers/box_utils.py`: `point_form`, `center_size`, `intersect`, `jaccard`, `match` (with
  its `index_fill_(0, best_prior_idx, 2)` and the loop that hands each truth its best prior,
  later truths winning), `encode`, `decode`, `log_sum_exp` (the max over the whole batch) and
  `nms`, the torch ops written in float32 numpy operation by operation. torch's `max(dim)`
  returns the first maximal index, as `np.argmax` does;
* `layers/modules/multibox_loss.py::MultiBoxLoss.forward`: matching, hard-negative mining
  (`loss_c[pos] = 0`, sort, rank < min(neg_pos * num_pos, P - 1)), smooth L1 summed over the
  positives, cross entropy summed over positives and mined negatives, both divided by
  N = num_pos.sum(). torch's sort is not stable, so the script asserts that no mined set
  depends on the order among equal values (a gap of 1e-4 relative at the cut). Also the
  analytic gradients of both losses with respect to loc and conf on one batch;
* `layers/functions/detection.py::Detect.forward`: per class >= 1 the scores > conf_thresh,
  the decoded boxes, `nms(top_k)`; then the `keep_top_k` best over all classes by score (the
  reference's last step, `flt[...].fill_(0)`, writes into a copy and does nothing; the Rust
  port applies it as intended). Ties in score would make torch's sort order undefined: the
  script asserts that there are none among the scores it ranks.

Usage (see tools/README.md):

    .venv/bin/python tools/gen_ssd_fixtures.py   # writes tasks/detection/tests/fixtures/ssd.json
"""

from __future__ import annotations

import argparse
import json
import sys
from itertools import product
from math import sqrt
from pathlib import Path

import numpy as np

NUMPY_VERSION = "2.4.6"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "tasks" / "detection" / "tests" / "fixtures" / "ssd.json"
COMMAND = "python tools/gen_ssd_fixtures.py"
VARIANCE = [0.1, 0.2]
F32 = np.float32

# --- data/config.py ---
COCO = {
    "feature_maps": [38, 19, 10, 5, 3, 1],
    "min_dim": 300,
    "steps": [8, 16, 32, 64, 100, 300],
    "min_sizes": [21, 45, 99, 153, 207, 261],
    "max_sizes": [45, 99, 153, 207, 261, 315],
    "aspect_ratios": [[2], [2, 3], [2, 3], [2, 3], [2], [2]],
    "variance": [0.1, 0.2],
    "clip": True,
}


def scaled_spec(image_size, feature_maps):
    """`PriorSpec::scaled`: Caffe SSD's ssd_pascal.py rule (min_ratio 20, max_ratio 90, the
    first source at 10 % / 20 %), steps image_size / map."""
    n = len(feature_maps)
    step = 70 // max(n - 2, 1)
    min_sizes = [image_size * 10 / 100.0]
    max_sizes = [image_size * 20 / 100.0]
    for k in range(n - 1):
        ratio = 20 + step * k
        min_sizes.append(image_size * ratio / 100.0)
        max_sizes.append(image_size * (ratio + step) / 100.0)
    ars = [[2] if (k == 0 or k >= n - 2) else [2, 3] for k in range(n)]
    return {
        "feature_maps": list(feature_maps),
        "min_dim": image_size,
        "steps": [image_size / f for f in feature_maps],
        "min_sizes": min_sizes,
        "max_sizes": max_sizes,
        "aspect_ratios": ars,
        "variance": VARIANCE,
        "clip": True,
    }


# --- layers/functions/prior_box.py::PriorBox.forward ---
def prior_box(cfg):
    image_size = cfg["min_dim"]
    mean = []
    for k, f in enumerate(cfg["feature_maps"]):
        for i, j in product(range(f), repeat=2):
            f_k = image_size / cfg["steps"][k]
            cx = (j + 0.5) / f_k
            cy = (i + 0.5) / f_k
            s_k = cfg["min_sizes"][k] / image_size
            mean += [cx, cy, s_k, s_k]
            s_k_prime = sqrt(s_k * (cfg["max_sizes"][k] / image_size))
            mean += [cx, cy, s_k_prime, s_k_prime]
            for ar in cfg["aspect_ratios"][k]:
                mean += [cx, cy, s_k * sqrt(ar), s_k / sqrt(ar)]
                mean += [cx, cy, s_k / sqrt(ar), s_k * sqrt(ar)]
    output = np.array(mean, dtype=F32).reshape(-1, 4)
    if cfg["clip"]:
        output = np.clip(output, F32(0), F32(1))
    return output


# --- layers/box_utils.py ---
def point_form(boxes):
    return np.concatenate([boxes[:, :2] - boxes[:, 2:] / F32(2), boxes[:, :2] + boxes[:, 2:] / F32(2)], 1)


def center_size(boxes):
    return np.concatenate([(boxes[:, 2:] + boxes[:, :2]) / F32(2), boxes[:, 2:] - boxes[:, :2]], 1)


def intersect(box_a, box_b):
    max_xy = np.minimum(box_a[:, None, 2:], box_b[None, :, 2:])
    min_xy = np.maximum(box_a[:, None, :2], box_b[None, :, :2])
    inter = np.clip(max_xy - min_xy, F32(0), None)
    return inter[:, :, 0] * inter[:, :, 1]


def jaccard(box_a, box_b):
    inter = intersect(box_a, box_b)
    area_a = ((box_a[:, 2] - box_a[:, 0]) * (box_a[:, 3] - box_a[:, 1]))[:, None]
    area_b = ((box_b[:, 2] - box_b[:, 0]) * (box_b[:, 3] - box_b[:, 1]))[None, :]
    union = area_a + area_b - inter
    return inter / union


def encode(matched, priors, variances):
    g_cxcy = (matched[:, :2] + matched[:, 2:]) / F32(2) - priors[:, :2]
    g_cxcy = g_cxcy / (variances[0] * priors[:, 2:])
    g_wh = (matched[:, 2:] - matched[:, :2]) / priors[:, 2:]
    g_wh = np.log(g_wh) / variances[1]
    return np.concatenate([g_cxcy, g_wh], 1).astype(F32)


def decode(loc, priors, variances):
    boxes = np.concatenate(
        [priors[:, :2] + loc[:, :2] * variances[0] * priors[:, 2:], priors[:, 2:] * np.exp(loc[:, 2:] * variances[1])], 1
    )
    boxes[:, :2] -= boxes[:, 2:] / F32(2)
    boxes[:, 2:] += boxes[:, :2]
    return boxes.astype(F32)


def match(threshold, truths, priors, variances, labels):
    """Returns (loc_t, conf_t) for one image; without truths every prior is background (the
    reference would fail on the empty max) and loc_t is zero."""
    if len(truths) == 0:
        return np.zeros((len(priors), 4), F32), np.zeros(len(priors), np.int64)
    overlaps = jaccard(truths, point_form(priors))
    best_prior_idx = overlaps.argmax(1)
    best_truth_overlap = overlaps.max(0)
    best_truth_idx = overlaps.argmax(0)
    best_truth_overlap[best_prior_idx] = 2  # index_fill_(0, best_prior_idx, 2)
    for j in range(best_prior_idx.shape[0]):
        best_truth_idx[best_prior_idx[j]] = j
    matches = truths[best_truth_idx]
    conf = labels[best_truth_idx].astype(np.int64) + 1
    conf[best_truth_overlap < F32(threshold)] = 0
    loc = encode(matches, priors, variances)
    return loc, conf


def log_sum_exp(x):
    x_max = x.max()
    return np.log(np.sum(np.exp(x - x_max), 1, keepdims=True)) + x_max


def smooth_l1(d):
    a = np.abs(d)
    return np.where(a < 1, F32(0.5) * d * d, a - F32(0.5)).astype(F32)


def multibox_loss(loc_data, conf_data, priors, targets, threshold=0.5, negpos_ratio=3, with_grad=False):
    num, num_priors, num_classes = conf_data.shape
    loc_t = np.zeros((num, num_priors, 4), F32)
    conf_t = np.zeros((num, num_priors), np.int64)
    for idx in range(num):
        truths, labels = targets[idx]
        loc_t[idx], conf_t[idx] = match(threshold, truths, priors, VARIANCE, labels)
    pos = conf_t > 0
    num_pos = pos.sum(1, keepdims=True)
    loc_p = loc_data[pos]
    loss_l = smooth_l1(loc_p - loc_t[pos]).sum(dtype=F32)

    batch_conf = conf_data.reshape(-1, num_classes)
    loss_c = (log_sum_exp(batch_conf) - np.take_along_axis(batch_conf, conf_t.reshape(-1, 1), 1)).reshape(num, -1)
    loss_c[pos] = 0
    loss_idx = np.argsort(-loss_c, axis=1, kind="stable")
    idx_rank = np.argsort(loss_idx, axis=1, kind="stable")
    num_neg = np.minimum(negpos_ratio * num_pos, pos.shape[1] - 1)
    neg = idx_rank < num_neg
    for b in range(num):
        k = int(num_neg[b, 0])
        if 0 < k < num_priors:
            v = loss_c[b, loss_idx[b]]
            assert v[k - 1] - v[k] > 1e-4 * abs(v[k - 1]), "mining cut on a (near) tie"

    sel = pos | neg
    conf_p = conf_data[sel]
    targets_weighted = conf_t[sel]
    lse = np.log(np.exp(conf_p - conf_p.max(1, keepdims=True)).sum(1)) + conf_p.max(1)
    ce = lse - conf_p[np.arange(len(conf_p)), targets_weighted]
    loss_c_sum = ce.sum(dtype=F32)
    n = int(num_pos.sum())
    out = {
        "loss_l": float(loss_l / F32(n)),
        "loss_c": float(loss_c_sum / F32(n)),
        "positives": n,
        "conf_t": [int(v) for v in conf_t.ravel()],
        "mined": [int(v) for v in np.flatnonzero(sel.ravel())],
    }
    if with_grad:
        d = (loc_p - loc_t[pos]).astype(np.float64)
        cp = conf_p.astype(np.float64)
        sm = np.exp(cp - cp.max(1, keepdims=True))
        sm /= sm.sum(1, keepdims=True)
        sm[np.arange(len(cp)), targets_weighted] -= 1
        # Zero outside these rows: positives for loc, positives and mined negatives for conf.
        out["grad_loc_rows"] = [int(v) for v in np.flatnonzero(pos.ravel())]
        out["grad_loc"] = fl(np.clip(d, -1, 1) / n)
        out["grad_conf"] = fl(sm / n)
    return out


def nms(boxes, scores, overlap=0.5, top_k=200):
    """Greedy NMS as the reference's loop; the candidates are the top_k best scores
    (all of them for top_k = 0, as `idx[-0:]` is the whole tensor)."""
    keep = []
    if boxes.shape[0] == 0:
        return keep
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    area = (x2 - x1) * (y2 - y1)
    idx = np.argsort(scores, kind="stable")
    idx = idx[-top_k:]
    while idx.size > 0:
        i = idx[-1]
        keep.append(int(i))
        if idx.size == 1:
            break
        idx = idx[:-1]
        xx1 = np.maximum(x1[idx], x1[i])
        yy1 = np.maximum(y1[idx], y1[i])
        xx2 = np.minimum(x2[idx], x2[i])
        yy2 = np.minimum(y2[idx], y2[i])
        w = np.clip(xx2 - xx1, F32(0), None)
        h = np.clip(yy2 - yy1, F32(0), None)
        inter = w * h
        rem_areas = area[idx]
        union = (rem_areas - inter) + area[i]
        iou = inter / union
        idx = idx[iou <= F32(overlap)]
    return keep


def detect(loc, conf, priors, conf_thresh, nms_thresh, top_k, keep_top_k):
    num_classes = conf.shape[1]
    decoded = decode(loc, priors, VARIANCE)
    dets = []
    for cl in range(1, num_classes):
        c_mask = conf[:, cl] > F32(conf_thresh)
        scores = conf[c_mask, cl]
        if scores.size == 0:
            continue
        assert len(set(scores.tolist())) == scores.size, "score ties"
        boxes = decoded[c_mask]
        for i in nms(boxes, scores, nms_thresh, top_k):
            dets.append((cl - 1, float(scores[i]), [float(v) for v in boxes[i]]))
    all_scores = [d[1] for d in dets]
    assert len(set(all_scores)) == len(all_scores), "score ties across classes"
    dets.sort(key=lambda d: -d[1])
    return dets[:keep_top_k]


def fl(a):
    return [float(v) for v in np.asarray(a).ravel()]


def random_boxes(rng, n, min_wh=0.05, max_wh=0.6):
    wh = rng.uniform(min_wh, max_wh, (n, 2))
    c = rng.uniform(0, 1, (n, 2)) * (1 - wh) + wh / 2
    return np.concatenate([c - wh / 2, c + wh / 2], 1).astype(F32)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = p.parse_args()
    if np.__version__ != NUMPY_VERSION:
        print(f"numpy {np.__version__} found, {NUMPY_VERSION} required", file=sys.stderr)
        return 2
    rng = np.random.default_rng(20151208)
    out = {"generated_by": COMMAND, "numpy": NUMPY_VERSION}

    pri = prior_box(COCO)
    out["ssd300"] = {"count": int(pri.shape[0]), "first": fl(pri[:8]), "last": fl(pri[-8:]),
                     "sum": float(pri.astype(np.float64).sum())}

    out["scaled"] = {}
    for size, maps in [(64, [16, 8, 4, 2, 1]), (300, [38, 19, 10, 5, 3, 1]), (96, [12, 6]), (32, [4])]:
        cfg = scaled_spec(size, maps)
        pri_s = prior_box(cfg)
        out["scaled"][f"{size}_{len(maps)}"] = {
            "image_size": size, "feature_maps": maps, "min_sizes": cfg["min_sizes"],
            "max_sizes": cfg["max_sizes"], "steps": cfg["steps"], "count": int(pri_s.shape[0]),
            # every prior for the small sizes; the 300 px one (8732 priors) as first, last and sum
            "priors": fl(pri_s) if size < 300 else None,
            "first": fl(pri_s[:8]), "last": fl(pri_s[-8:]), "sum": float(pri_s.astype(np.float64).sum()),
        }

    # Box coding on random boxes against random priors.
    priors_c = rng.uniform(0.05, 0.9, (16, 4)).astype(F32)
    truths_c = random_boxes(rng, 16)
    enc = encode(truths_c, priors_c, VARIANCE)
    out["coding"] = {"priors": fl(priors_c), "truths": fl(truths_c), "encoded": fl(enc),
                     "decoded": fl(decode(enc, priors_c, VARIANCE)),
                     "jaccard": fl(jaccard(truths_c, point_form(priors_c))),
                     "center_size": fl(center_size(truths_c)), "point_form": fl(point_form(priors_c))}

    # Matching against the 64 px priors (maps [8, 4, 2, 1]).
    pri64 = prior_box(scaled_spec(64, [8, 4, 2, 1]))
    out["match_priors"] = {"image_size": 64, "feature_maps": [8, 4, 2, 1]}
    pf = point_form(pri64)
    # A truth whose best prior overlaps it by less than 0.5 (tiny box): forced.
    tiny = np.array([[0.30, 0.30, 0.33, 0.32]], F32)
    assert jaccard(tiny, pf).max() < 0.5
    # Two truths whose best prior is the same prior p; truth 0 overlaps p more, so without the
    # loop p would go to truth 0; the loop hands it to truth 1 (the later one).
    pbox = pf[100]
    a = np.array([pbox[0] + 0.002, pbox[1], pbox[2] + 0.002, pbox[3]], F32)
    b = np.array([pbox[0] - 0.006, pbox[1] - 0.004, pbox[2] - 0.006, pbox[3] - 0.004], F32)
    comp = np.stack([a, b])
    ov = jaccard(comp, pf)
    assert ov[0].argmax() == ov[1].argmax() and ov[:, ov[0].argmax()].argmax() == 0, "no competition"
    cases = {
        "forced_small": (tiny, np.array([4], np.int64), 0.5),
        "competing": (comp, np.array([1, 2], np.int64), 0.5),
        "no_truths": (np.zeros((0, 4), F32), np.zeros(0, np.int64), 0.5),
        "random": (random_boxes(rng, 5), rng.integers(0, 6, 5), 0.5),
        "random_thr04": (random_boxes(rng, 3, 0.1, 0.9), rng.integers(0, 6, 3), 0.4),
    }
    out["match"] = {}
    for name, (truths, labels, thr) in cases.items():
        loc, conf = match(thr, truths, pri64, VARIANCE, labels)
        out["match"][name] = {"threshold": thr, "truths": fl(truths), "labels": [int(v) for v in labels],
                              "loc": fl(loc), "conf": [int(v) for v in conf]}
    lc = out["match"]["competing"]["conf"]
    assert lc[int(ov[0].argmax())] == 3, "the later truth should win the shared prior"
    assert out["match"]["forced_small"]["conf"].count(5) == 1

    # MultiBox loss on a batch of 3 (the second image without objects), 5 classes + background.
    num_classes = 6
    targets = [
        (np.concatenate([random_boxes(rng, 3), comp]), rng.integers(0, num_classes - 1, 5)),
        (np.zeros((0, 4), F32), np.zeros(0, np.int64)),
        (np.concatenate([random_boxes(rng, 1), tiny]), np.array([2, 0], np.int64)),
    ]
    n_p = pri64.shape[0]
    loc_data = (rng.standard_normal((3, n_p, 4)) * 1.5).astype(F32)
    conf_data = (rng.standard_normal((3, n_p, num_classes)) * 2).astype(F32)
    ml = multibox_loss(loc_data, conf_data, pri64, targets, with_grad=True)
    out["multibox"] = {"num_classes": num_classes, "priors": n_p,
                       "targets": [{"truths": fl(t), "labels": [int(v) for v in l]} for t, l in targets],
                       "loc": fl(loc_data), "conf": fl(conf_data), **ml}

    # Detect on 64 px priors (maps [4, 2, 1]): random offsets, softmax over 4 classes.
    pri_d = prior_box(scaled_spec(64, [4, 2, 1]))
    loc_d = (rng.standard_normal((pri_d.shape[0], 4)) * 0.5).astype(F32)
    logits = (rng.standard_normal((pri_d.shape[0], 4)) * 2.5).astype(F32)
    e = np.exp(logits - logits.max(1, keepdims=True))
    probs = (e / e.sum(1, keepdims=True)).astype(F32)
    boxes_n = decode(loc_d, pri_d, VARIANCE)
    keep = nms(boxes_n, probs[:, 1], 0.45, 30)
    out["detect"] = {"image_size": 64, "feature_maps": [4, 2, 1], "loc": fl(loc_d), "conf": fl(probs),
                     "nms_class": 1, "nms_top_k": 30, "nms_overlap": 0.45, "nms_keep": keep}
    out["detect"]["runs"] = []
    for conf_thresh, nms_thresh, top_k, keep_top_k in [(0.01, 0.45, 200, 200), (0.05, 0.3, 10, 15), (0.2, 0.6, 5, 0)]:
        dets = detect(loc_d, probs, pri_d, conf_thresh, nms_thresh, top_k, keep_top_k if keep_top_k else None)
        out["detect"]["runs"].append({
            "conf_thresh": conf_thresh, "nms_thresh": nms_thresh, "top_k": top_k, "keep_top_k": keep_top_k,
            "labels": [d[0] for d in dets], "scores": [d[1] for d in dets], "boxes": [v for d in dets for v in d[2]],
        })

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=None, separators=(",", ":")) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
