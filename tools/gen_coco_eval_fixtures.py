#!/usr/bin/env python3
"""Reference COCO bbox stats for adamp-task-detection (`tasks/detection/tests/coco_fixtures.rs`).

Runs pycocotools' `COCOeval(iouType="bbox")` (pycocotools 2.0.10, numpy 2.4.6, pinned in
tools/requirements-fixtures.txt) on small in-memory datasets built with a fixed seed and
writes, per case, the images, categories, ground truths, detections and the 12 `stats` of
`summarize()`. Box coordinates, areas and scores are short dyadic or 3-decimal numbers, so the
JSON text gives the Rust side exactly the same float64 values.

Cases: random boxes over several images and categories; duplicate detections of one object;
crowd regions; images with ground truths but no detections and detections on images without
ground truths; exact score ties; areas of all three sizes, exactly 32² and 96² included;
more than 100 detections on one image; a category without ground truths; IoUs exactly on
the thresholds and a ground truth with annotation id 0; recalls exactly on the 101 recall
points.

Usage (see tools/README.md):

    .venv/bin/python tools/gen_coco_eval_fixtures.py   # writes tasks/detection/tests/fixtures/coco_eval.json
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

PYCOCOTOOLS_VERSION = "2.0.10"
NUMPY_VERSION = "2.4.6"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "tasks" / "detection" / "tests" / "fixtures" / "coco_eval.json"
COMMAND = "python tools/gen_coco_eval_fixtures.py"
MAX_BYTES = 300_000


class Case:
    """Ground truths `[image, category, x, y, w, h, area, iscrowd, id]` and detections
    `[image, category, x, y, w, h, score]` of one fixture."""

    def __init__(self, name, images, categories):
        self.name, self.images, self.categories = name, list(images), list(categories)
        self.gts, self.dets = [], []

    def gt(self, img, cat, box, area=None, crowd=False, ann_id=None):
        area = box[2] * box[3] if area is None else area
        ann_id = len(self.gts) + 1 if ann_id is None else ann_id
        self.gts.append([img, cat, *box, area, int(crowd), ann_id])

    def det(self, img, cat, box, score):
        self.dets.append([img, cat, *box, score])

    def stats(self):
        gt = COCO()
        gt.dataset = {
            "info": {},
            "images": [{"id": i} for i in self.images],
            "categories": [{"id": c} for c in self.categories],
            "annotations": [
                {"image_id": g[0], "category_id": g[1], "bbox": g[2:6], "area": g[6],
                 "iscrowd": g[7], "id": g[8]}
                for g in self.gts
            ],
        }
        with contextlib.redirect_stdout(io.StringIO()):
            gt.createIndex()
            dt = gt.loadRes(copy.deepcopy(
                [{"image_id": d[0], "category_id": d[1], "bbox": d[2:6], "score": d[6]}
                 for d in self.dets]))
            e = COCOeval(gt, dt, iouType="bbox")
            e.params.imgIds = self.images
            e.params.catIds = self.categories
            e.evaluate()
            e.accumulate()
            e.summarize()
        return [float(s) for s in e.stats]

    def to_json(self):
        return {"name": self.name, "images": self.images, "categories": self.categories,
                "gts": self.gts, "dets": self.dets, "stats": self.stats()}


def q(x, step=0.25):
    """Round to a multiple of `step` (a dyadic number: exact in JSON and float64)."""
    return float(np.round(np.asarray(x) / step) * step)


def rand_box(rng, lo=4.0, hi=300.0):
    w, h = (q(np.exp(rng.uniform(np.log(lo), np.log(hi)))) for _ in range(2))
    return [q(rng.uniform(0, 600)), q(rng.uniform(0, 400)), max(w, 1.0), max(h, 1.0)]


def jitter(rng, box, rel):
    x, y, w, h = box
    return [q(x + rng.normal(0, rel * w)), q(y + rng.normal(0, rel * h)),
            max(q(w * (1 + rng.normal(0, rel))), 1.0), max(q(h * (1 + rng.normal(0, rel))), 1.0)]


def score(rng):
    return int(rng.integers(0, 1000)) / 1000


def random_multi(rng):
    c = Case("random_multi", range(1, 13), [1, 2, 3, 5])
    for img in c.images:
        for cat in c.categories:
            for _ in range(int(rng.integers(0, 6))):
                box = rand_box(rng)
                crowd = rng.random() < 0.08
                c.gt(img, cat, box, area=box[2] * box[3] * int(rng.integers(8, 17)) / 16, crowd=crowd)
                for _ in range(int(rng.integers(0, 3))):
                    c.det(img, cat, jitter(rng, box, 0.12), score(rng))
            for _ in range(int(rng.integers(0, 4))):
                c.det(img, cat, rand_box(rng), score(rng))
    return c


def duplicates(rng):
    c = Case("duplicates", [1, 2, 3], [1])
    for img in c.images:
        box = rand_box(rng, 40, 200)
        c.gt(img, 1, box)
        c.gt(img, 1, rand_box(rng, 40, 200))
        c.det(img, 1, box, 0.9)
        c.det(img, 1, box, 0.9)  # the same box twice at the same score
        for _ in range(4):
            c.det(img, 1, jitter(rng, box, 0.05), score(rng))
    return c


def crowd(rng):
    c = Case("crowd", [1, 2, 3, 4], [1, 2])
    for img in c.images:
        region = [q(rng.uniform(0, 100)), q(rng.uniform(0, 100)), 256.0, 192.0]
        c.gt(img, 1, region, area=30000.0, crowd=True)
        person = [region[0] + 16, region[1] + 16, 48.0, 96.0]
        c.gt(img, 1, person)  # a regular object inside the crowd region
        c.det(img, 1, person, 0.8)
        for _ in range(5):  # several detections inside the region
            x, y = q(region[0] + rng.uniform(0, 200)), q(region[1] + rng.uniform(0, 120))
            c.det(img, 1, [x, y, 40.0, 64.0], score(rng))
        c.det(img, 1, [region[0] - 64, region[1], 128.0, 64.0], score(rng))  # half outside
        c.gt(img, 2, rand_box(rng), crowd=True)  # crowd only, no regular ground truth
        c.det(img, 2, rand_box(rng), score(rng))
    c.gt(1, 2, [0.0, 0.0, 50.0, 50.0])
    c.det(1, 2, [0.0, 0.0, 50.0, 50.0], 0.5)
    return c


def missing(rng):
    c = Case("missing_dets_and_gts", range(1, 9), [1, 2])
    for img in range(1, 5):  # ground truths, no detections on images 3 and 4
        for cat in c.categories:
            box = rand_box(rng)
            c.gt(img, cat, box)
            if img <= 2:
                c.det(img, cat, jitter(rng, box, 0.08), score(rng))
    for img in range(5, 8):  # detections on images without ground truths (8: nothing)
        for cat in c.categories:
            c.det(img, cat, rand_box(rng), score(rng))
    return c


def score_ties(rng):
    c = Case("score_ties", range(1, 7), [1, 2])
    for img in c.images:
        for cat in c.categories:
            for _ in range(3):
                box = rand_box(rng)
                c.gt(img, cat, box)
                if rng.random() < 0.7:
                    c.det(img, cat, jitter(rng, box, 0.1), float(rng.choice([0.25, 0.5, 0.75])))
            c.det(img, cat, rand_box(rng), float(rng.choice([0.25, 0.5, 0.75])))
    return c


def area_boundaries(rng):
    c = Case("area_boundaries", [1, 2, 3], [1])
    sides = [(32.0, 32.0), (96.0, 96.0), (16.0, 64.0), (64.0, 144.0), (8.0, 8.0),
             (31.75, 32.0), (96.0, 96.25), (200.0, 150.0), (40.0, 40.0)]
    for img in c.images:
        for w, h in sides:
            box = [q(rng.uniform(0, 500)), q(rng.uniform(0, 300)), w, h]
            c.gt(img, 1, box)  # area = w * h: 1024 and 9216 exactly
            if rng.random() < 0.6:
                c.det(img, 1, jitter(rng, box, 0.1), score(rng))
        for w, h in [(32.0, 32.0), (96.0, 96.0), (12.0, 12.0), (100.0, 100.0)]:
            c.det(img, 1, [600.0, 400.0, w, h], score(rng))  # unmatched, at the boundaries
    c.gt(2, 1, [10.0, 10.0, 40.0, 40.0], area=1024.0)  # segment area 32² in a larger box
    c.det(2, 1, [10.0, 10.0, 40.0, 40.0], 0.95)
    c.gt(3, 1, [300.0, 10.0, 100.0, 100.0], area=9216.0)
    c.det(3, 1, [300.0, 10.0, 100.0, 100.0], 0.05)
    return c


def many_dets(rng):
    c = Case("over_100_dets", [1, 2], [1])
    boxes = [rand_box(rng, 10, 100) for _ in range(30)]
    for b in boxes:
        c.gt(1, 1, b)
    for i in range(150):  # TPs spread over the ranking, many past the 100th
        s = int(rng.integers(0, 1000)) / 1000
        b = jitter(rng, boxes[i % 30], 0.05) if i % 4 == 0 else rand_box(rng)
        c.det(1, 1, b, s)
    c.gt(2, 1, rand_box(rng, 10, 100))
    c.det(2, 1, c.gts[-1][2:6], 0.001)
    return c


def category_without_gts(rng):
    c = Case("category_without_gts", [1, 2, 3], [1, 2, 7])
    for img in c.images:
        box = rand_box(rng, 10, 90)  # small and medium only: the large stats are -1
        c.gt(img, 1, box)
        c.det(img, 1, jitter(rng, box, 0.1), score(rng))
        c.det(img, 7, rand_box(rng), score(rng))  # category 7: detections, no ground truth
    return c


def iou_on_thresholds(rng):
    c = Case("iou_on_thresholds", [1, 2], [1])
    for img in c.images:
        for k, ratio in enumerate([0.5, 0.55, 0.75, 0.8, 0.95, 1.0]):
            x = 120.0 * k
            c.gt(img, 1, [x, 0.0, 100.0, 100.0], ann_id=10 * img + k)
            c.det(img, 1, [x, 0.0, 100.0, 100.0 * ratio], score(rng))  # IoU = ratio exactly
    c.gt(1, 1, [0.0, 200.0, 60.0, 60.0], ann_id=0)  # matched to it: counts as no match
    c.det(1, 1, [0.0, 200.0, 60.0, 60.0], 0.99)
    return c


def recall_grid(rng):
    """100 objects, so recalls land exactly on recall points; runs of false positives right
    after the hits that reach 35, 41 and 47 make the precision read there depend on whether
    the recall point i/100 is computed as linspace computes it (i * 0.01, above i/100 for
    those i)."""
    c = Case("recall_grid", range(1, 11), [1])
    boxes = []
    for k in range(100):
        box = [40.0 * (k // 10), 40.0 * (k % 10), 20.0, 20.0]
        c.gt(1 + k % 10, 1, box)
        boxes.append((1 + k % 10, box))
    sequence = []
    for k in range(100):
        sequence.append(("tp", k))
        if k + 1 in (35, 41, 47):
            sequence += [("fp", None)] * 40
        elif rng.random() < 0.3:
            sequence.append(("fp", None))
    for j, (kind, k) in enumerate(sequence):
        s = (len(sequence) - j) / 1000
        if kind == "tp":
            c.det(boxes[k][0], 1, boxes[k][1], s)
        else:
            c.det(1 + j % 10, 1, [500.0, 500.0, 20.0, 20.0], s)
    return c


def generate():
    rng = np.random.default_rng(20261204)
    makers = [random_multi, duplicates, crowd, missing, score_ties, area_boundaries,
              many_dets, category_without_gts, iou_on_thresholds, recall_grid]
    return [m(rng).to_json() for m in makers]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    if np.__version__ != NUMPY_VERSION:
        sys.exit(f"numpy {NUMPY_VERSION} is pinned, found {np.__version__}")
    if version("pycocotools") != PYCOCOTOOLS_VERSION:
        sys.exit(f"pycocotools {PYCOCOTOOLS_VERSION} is pinned, found {version('pycocotools')}")
    cases = generate()
    info = {"generator": COMMAND, "pycocotools": PYCOCOTOOLS_VERSION, "numpy": NUMPY_VERSION,
            "cases": cases}
    text = json.dumps(info, separators=(",", ":")) + "\n"
    if len(text) > MAX_BYTES:
        sys.exit(f"{len(text)} bytes, over the {MAX_BYTES} limit")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    for c in cases:
        print(f"{c['name']:22} gts {len(c['gts']):4} dets {len(c['dets']):4}",
              " ".join(f"{s:.3f}" for s in c["stats"]))


if __name__ == "__main__":
    main()
