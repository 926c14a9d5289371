#!/usr/bin/env python3
"""Reference CenterNet targets, losses and decoding for adamp-task-detection
(`tasks/detection/tests/centernet_fixtures.rs`).

A numpy-only (2.4.6, pinned in tools/requirements-fixtures.txt) port of CenterNet
(Zhou et al. 2019, github xingyizhou/CenterNet):

* `src/lib/utils/image.py`: `gaussian_radius`, `gaussian2D`, `draw_umich_gaussian`, copied
  as they are (with `gaussian_radius`'s known quirks: r1/r2/r3 are not the roots of their
  quadratics, the divisions by 2*a are `/ 2`);
* `src/lib/datasets/sample/ctdet.py::__getitem__` without augmentation: the image is taken to
  be at the input resolution already, so `trans_output` is a division by down_ratio = 4
  (what `get_affine_transform` gives for a square image up to cv2's rounding);
* `src/lib/models/losses.py`: `_neg_loss` and `RegL1Loss`, the torch code written in float32
  numpy operation by operation;
* `src/lib/models/decode.py`: `_nms` (3x3 max-pool, padding -inf), `_topk`, `ctdet_decode`.
  torch.topk's order among ties is not defined, so the decode case has no ties among the
  K best (checked below).

Usage (see tools/README.md):

    .venv/bin/python tools/gen_centernet_fixtures.py   # writes tasks/detection/tests/fixtures/centernet.json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

NUMPY_VERSION = "2.4.6"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "tasks" / "detection" / "tests" / "fixtures" / "centernet.json"
COMMAND = "python tools/gen_centernet_fixtures.py"
MAX_OBJS = 128
DOWN_RATIO = 4


# --- src/lib/utils/image.py (verbatim) ---
def gaussian_radius(det_size, min_overlap=0.7):
    height, width = det_size

    a1 = 1
    b1 = height + width
    c1 = width * height * (1 - min_overlap) / (1 + min_overlap)
    sq1 = np.sqrt(b1**2 - 4 * a1 * c1)
    r1 = (b1 + sq1) / 2

    a2 = 4
    b2 = 2 * (height + width)
    c2 = (1 - min_overlap) * width * height
    sq2 = np.sqrt(b2**2 - 4 * a2 * c2)
    r2 = (b2 + sq2) / 2

    a3 = 4 * min_overlap
    b3 = -2 * min_overlap * (height + width)
    c3 = (min_overlap - 1) * width * height
    sq3 = np.sqrt(b3**2 - 4 * a3 * c3)
    r3 = (b3 + sq3) / 2
    return min(r1, r2, r3)


def gaussian2D(shape, sigma=1):
    m, n = [(ss - 1.0) / 2.0 for ss in shape]
    y, x = np.ogrid[-m : m + 1, -n : n + 1]

    h = np.exp(-(x * x + y * y) / (2 * sigma * sigma))
    h[h < np.finfo(h.dtype).eps * h.max()] = 0
    return h


def draw_umich_gaussian(heatmap, center, radius, k=1):
    diameter = 2 * radius + 1
    gaussian = gaussian2D((diameter, diameter), sigma=diameter / 6)

    x, y = int(center[0]), int(center[1])

    height, width = heatmap.shape[0:2]

    left, right = min(x, radius), min(width - x, radius + 1)
    top, bottom = min(y, radius), min(height - y, radius + 1)

    masked_heatmap = heatmap[y - top : y + bottom, x - left : x + right]
    masked_gaussian = gaussian[radius - top : radius + bottom, radius - left : radius + right]
    if min(masked_gaussian.shape) > 0 and min(masked_heatmap.shape) > 0:
        np.maximum(masked_heatmap, masked_gaussian * k, out=masked_heatmap)
    return heatmap


# --- src/lib/datasets/sample/ctdet.py::__getitem__, no augmentation ---
def ctdet_targets(in_h, in_w, num_classes, anns):
    output_h, output_w = in_h // DOWN_RATIO, in_w // DOWN_RATIO
    hm = np.zeros((num_classes, output_h, output_w), dtype=np.float32)
    wh = np.zeros((MAX_OBJS, 2), dtype=np.float32)
    ind = np.zeros((MAX_OBJS), dtype=np.int64)
    reg = np.zeros((MAX_OBJS, 2), dtype=np.float32)
    reg_mask = np.zeros((MAX_OBJS), dtype=np.uint8)
    num_objs = min(len(anns), MAX_OBJS)
    for k in range(num_objs):
        box, cls_id = anns[k]
        bbox = np.array([box[0], box[1], box[0] + box[2], box[1] + box[3]], dtype=np.float32)
        bbox = bbox / np.float32(DOWN_RATIO)
        bbox[[0, 2]] = np.clip(bbox[[0, 2]], 0, output_w - 1)
        bbox[[1, 3]] = np.clip(bbox[[1, 3]], 0, output_h - 1)
        h, w = bbox[3] - bbox[1], bbox[2] - bbox[0]
        if h > 0 and w > 0:
            radius = gaussian_radius((math.ceil(h), math.ceil(w)))
            radius = max(0, int(radius))
            ct = np.array([(bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2], dtype=np.float32)
            ct_int = ct.astype(np.int32)
            draw_umich_gaussian(hm[cls_id], ct_int, radius)
            wh[k] = 1.0 * w, 1.0 * h
            ind[k] = ct_int[1] * output_w + ct_int[0]
            reg[k] = ct - ct_int
            reg_mask[k] = 1
    return hm, wh, reg, ind, reg_mask


# --- src/lib/models/losses.py, torch ops written in float32 numpy ---
def neg_loss(pred, gt):
    pos_inds = (gt == 1).astype(np.float32)
    neg_inds = (gt < 1).astype(np.float32)
    neg_weights = np.power(np.float32(1) - gt, np.float32(4))
    pos_loss = np.log(pred) * np.power(np.float32(1) - pred, np.float32(2)) * pos_inds
    neg_loss = np.log(np.float32(1) - pred) * np.power(pred, np.float32(2)) * neg_weights * neg_inds
    num_pos = pos_inds.sum(dtype=np.float32)
    pos_loss = pos_loss.sum(dtype=np.float32)
    neg_loss = neg_loss.sum(dtype=np.float32)
    if num_pos == 0:
        return float(-neg_loss)
    return float(-(pos_loss + neg_loss) / num_pos)


def transpose_and_gather_feat(feat, ind):
    b, c, h, w = feat.shape
    feat = feat.transpose(0, 2, 3, 1).reshape(b, h * w, c)
    return np.stack([feat[i, ind[i]] for i in range(b)])


def reg_l1_loss(output, mask, ind, target):
    pred = transpose_and_gather_feat(output, ind)
    mask = np.broadcast_to(mask[:, :, None], pred.shape).astype(np.float32)
    loss = np.abs(pred * mask - target * mask).sum(dtype=np.float32)
    return float(loss / (mask.sum(dtype=np.float32) + np.float32(1e-4)))


# --- src/lib/models/decode.py ---
def nms(heat):
    b, c, h, w = heat.shape
    padded = np.full((b, c, h + 2, w + 2), -np.inf, dtype=heat.dtype)
    padded[:, :, 1:-1, 1:-1] = heat
    hmax = np.full_like(heat, -np.inf)
    for dy in range(3):
        for dx in range(3):
            hmax = np.maximum(hmax, padded[:, :, dy : dy + h, dx : dx + w])
    keep = (hmax == heat).astype(heat.dtype)
    return heat * keep


def topk_no_ties(x, k):
    """torch.topk along the last axis, sorted descending; refuses ties within the K best."""
    order = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    vals = np.take_along_axis(x, order, axis=-1)
    return vals, order


def topk(scores, K):
    batch, cat, height, width = scores.shape
    topk_scores, topk_inds = topk_no_ties(scores.reshape(batch, cat, -1), K)
    topk_inds = topk_inds % (height * width)
    topk_ys = (topk_inds // width).astype(np.float32)
    topk_xs = (topk_inds % width).astype(np.float32)
    topk_score, topk_ind = topk_no_ties(topk_scores.reshape(batch, -1), K)
    topk_clses = topk_ind // K
    g = lambda a: np.take_along_axis(a.reshape(batch, -1), topk_ind, axis=1)
    return topk_score, g(topk_inds), topk_clses, g(topk_ys), g(topk_xs)


def ctdet_decode(heat, wh, reg, K):
    batch = heat.shape[0]
    heat = nms(heat)
    scores, inds, clses, ys, xs = topk(heat, K)
    r = transpose_and_gather_feat(reg, inds)
    xs = xs[..., None] + r[:, :, 0:1]
    ys = ys[..., None] + r[:, :, 1:2]
    w = transpose_and_gather_feat(wh, inds)
    bboxes = np.concatenate(
        [xs - w[..., 0:1] / 2, ys - w[..., 1:2] / 2, xs + w[..., 0:1] / 2, ys + w[..., 1:2] / 2], axis=2
    )
    det = np.concatenate([bboxes, scores[..., None], clses[..., None].astype(np.float32)], axis=2)
    assert len(set(scores.ravel().tolist())) == scores.size and scores.min() > 0, "ties in the top K"
    return det.astype(np.float32), heat


def fl(a):
    return [float(v) for v in np.asarray(a).ravel()]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = p.parse_args()
    if np.__version__ != NUMPY_VERSION:
        print(f"numpy {np.__version__} found, {NUMPY_VERSION} required", file=sys.stderr)
        return 2
    rng = np.random.default_rng(20190416)
    out = {"generated_by": COMMAND, "numpy": NUMPY_VERSION}

    sizes = [(1, 1), (2, 3), (3, 1), (10, 10), (7, 40), (100, 30), (3, 128), (57, 57)]
    out["radius"] = [{"h": h, "w": w, "min_overlap": mo, "radius": float(gaussian_radius((h, w), mo))}
                     for (h, w) in sizes for mo in (0.7, 0.5)]

    # COCO [x, y, w, h] in input pixels, class; the image is 128 x 128 (output 32 x 32) or 96 x 64.
    target_cases = {
        "overlap_border": (128, 128, 3, [
            ([20.0, 24.0, 40.0, 36.0], 0),
            ([30.0, 30.0, 44.0, 40.0], 0),   # overlaps the first, same class
            ([26.0, 28.0, 30.0, 30.0], 1),   # overlaps, another class
            ([-10.0, 100.0, 30.0, 50.0], 2),  # crosses the left and bottom borders
            ([121.0, 2.0, 20.0, 6.0], 2),     # crosses the right border
            ([200.0, 10.0, 20.0, 20.0], 1),   # outside: clipped to w = 0, skipped
            ([60.0, 60.0, 5.0, 3.0], 1),      # small: radius 0
        ]),
        "rect_image": (64, 96, 2, [
            ([0.0, 0.0, 95.0, 63.0], 0),
            ([40.5, 10.25, 22.0, 30.75], 1),
            ([41.0, 11.0, 20.0, 28.0], 1),
        ]),
    }
    out["targets"] = {}
    for name, (in_h, in_w, nc, anns) in target_cases.items():
        hm, wh, reg, ind, mask = ctdet_targets(in_h, in_w, nc, anns)
        out["targets"][name] = {
            "in_h": in_h, "in_w": in_w, "num_classes": nc,
            "anns": [{"bbox": b, "class": c} for b, c in anns],
            "hm": fl(hm), "wh": fl(wh), "reg": fl(reg),
            "ind": [int(v) for v in ind], "mask": [int(v) for v in mask],
        }

    # Focal loss and RegL1 on random predictions: gt from targets, pred = clamp(sigmoid, 1e-4, 1-1e-4).
    out["losses"] = {}
    for name, (in_h, in_w, nc, anns) in [("overlap_border",) + (target_cases["overlap_border"],),
                                         ("rect_image",) + (target_cases["rect_image"],)]:
        hm, wh, reg, ind, mask = ctdet_targets(in_h, in_w, nc, anns)
        logits = rng.standard_normal(hm.shape).astype(np.float32) * np.float32(2)
        pred = np.clip(np.float32(1) / (np.float32(1) + np.exp(-logits)), np.float32(1e-4), np.float32(1 - 1e-4))
        pred = pred.astype(np.float32)
        oh, ow = hm.shape[1:]
        wh_out = (rng.standard_normal((1, 2, oh, ow)) * 5).astype(np.float32)
        out["losses"][name] = {
            "shape": list(hm.shape), "gt": fl(hm), "pred": fl(pred),
            "focal": neg_loss(pred[None], hm[None]),
            "out_wh": fl(wh_out), "ind": [int(v) for v in ind], "mask": [int(v) for v in mask],
            "target_wh": fl(wh), "l1_wh": reg_l1_loss(wh_out, mask[None], ind[None], wh[None]),
        }
    gt0 = np.zeros((2, 4, 5), dtype=np.float32)
    gt0[0, 1, 1] = 0.5
    gt0[1, 2, 3] = 0.9
    pred0 = rng.uniform(0.01, 0.99, gt0.shape).astype(np.float32)
    out["losses"]["no_positive"] = {"shape": list(gt0.shape), "gt": fl(gt0), "pred": fl(pred0),
                                    "focal": neg_loss(pred0[None], gt0[None])}

    K = 10
    heat = rng.uniform(0, 1, (1, 3, 12, 16)).astype(np.float32)
    wh_d = rng.uniform(1, 8, (1, 2, 12, 16)).astype(np.float32)
    reg_d = rng.uniform(0, 1, (1, 2, 12, 16)).astype(np.float32)
    det, kept = ctdet_decode(heat, wh_d, reg_d, K)
    out["decode"] = {"shape": [3, 12, 16], "k": K, "heat": fl(heat), "wh": fl(wh_d), "reg": fl(reg_d),
                     "nms": fl(kept), "detections": fl(det[0])}

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=None, separators=(",", ":")) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
