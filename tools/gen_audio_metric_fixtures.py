#!/usr/bin/env python3
"""Reference metrics for adamp-task-audio (`tasks/audio/tests/metrics_fixtures.rs`).

scikit-learn 1.9.1 (with numpy 2.4.6; both pinned in tools/requirements-fixtures.txt; the
script refuses other versions) computes, on inputs drawn here from a fixed seed:

* `roc_auc_score(y, s)` and `average_precision_score(y, s)` for binary cases: random scores,
  heavy ties (scores rounded to 1 decimal), all scores tied, perfect and inverted rankings, one
  positive among many negatives;
* `roc_auc_score(Y, S, average="macro")` and `average_precision_score(Y, S, average="macro")`
  for multi-label tables (rows = samples, columns = tags), the way the Harmonic CNN solver calls
  them (minzwon/sota-music-tagging-models, `training/solver.py`, `get_auc`). A tag with one
  class only has no ROC-AUC (scikit-learn of the reference's time raised ValueError; 1.9.1 warns
  and returns NaN, which makes the macro mean NaN; both are checked here); the Rust code skips such tags, so the table includes a tag with
  no positives and one with positives only, the reference is computed over the other tags and
  the skipped columns are recorded (`skipped`);
* `f1_score(Y, P >= 0.1, average="samples")` and with `P > 0.1` (the DCASE 2017 task 4 metric;
  some probabilities are exactly float32(0.1), so the two differ), with samples that have no
  true and no predicted tag (scikit-learn's default zero_division="warn" scores them 0.0);
* `accuracy_score` for class indices.

Scores are float32 (as the network outputs them) and are written as the float64 of that
float32, which JSON round-trips exactly, so Rust reads back the very values scikit-learn saw.
The generator checks that each tie case discriminates: breaking the ties by index moves its
result by more than 1e-6.

Usage (see tools/README.md):

    .venv/bin/pip install scikit-learn==1.9.1 numpy==2.4.6
    .venv/bin/python tools/gen_audio_metric_fixtures.py   # writes tasks/audio/tests/fixtures/metrics.json
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import sklearn
from sklearn.metrics import accuracy_score, average_precision_score, f1_score, roc_auc_score

NUMPY_VERSION = "2.4.6"
SKLEARN_VERSION = "1.9.1"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "tasks" / "audio" / "tests" / "fixtures" / "metrics.json"
COMMAND = "python tools/gen_audio_metric_fixtures.py"
SEED = 20261204
THRESHOLD = np.float32(0.1)


def f32_list(a: np.ndarray) -> list:
    return [float(v) for v in np.asarray(a, dtype=np.float32).ravel()]


def table(a: np.ndarray, dtype) -> list:
    return [[dtype(v) for v in row] for row in a]


def tie_broken(s: np.ndarray) -> np.ndarray:
    """The same ranking with ties broken by index (a later index ranks higher)."""
    return s.astype(np.float64) + 1e-9 * np.arange(s.shape[0]).reshape(-1, *([1] * (s.ndim - 1)))


def binary_case(name: str, y: np.ndarray, s: np.ndarray, ties: bool) -> dict:
    s = s.astype(np.float32)
    roc = float(roc_auc_score(y, s))
    ap = float(average_precision_score(y, s))
    if ties:
        moved = max(
            abs(roc_auc_score(y, tie_broken(s)) - roc),
            abs(average_precision_score(y, tie_broken(s)) - ap),
        )
        assert moved > 1e-6, f"{name}: ties do not matter ({moved})"
    return {"name": name, "y_true": [bool(v) for v in y], "scores": f32_list(s), "roc_auc": roc, "average_precision": ap}


def binary_cases(rng: np.random.Generator) -> list:
    cases = []
    y = rng.random(200) < 0.3
    cases.append(binary_case("random_200", y, rng.random(200), ties=False))
    y = rng.random(300) < 0.4
    s = np.round(rng.random(300) * 0.6 + 0.4 * y, 1)
    cases.append(binary_case("ties_rounded_1_decimal", y, s, ties=True))
    y = np.array([True] * 5 + [False] * 7)
    cases.append(binary_case("all_tied", y, np.full(12, 0.5), ties=True))
    y = np.array([False, True, False, True, True, False, False, True])
    s = np.where(y, 0.6 + 0.05 * np.arange(8), 0.1 + 0.05 * np.arange(8))
    cases.append(binary_case("perfect", y, s, ties=False))
    cases.append(binary_case("inverted", y, 1.0 - s, ties=False))
    y = np.zeros(50, dtype=bool)
    y[17] = True
    cases.append(binary_case("one_positive", y, rng.random(50), ties=False))
    return cases


def one_class(name: str, y: np.ndarray, s: np.ndarray) -> dict:
    """A single-class label vector: roc_auc_score is undefined (Rust: None).

    scikit-learn of the reference's time raised ValueError; 1.9.1 warns
    (UndefinedMetricWarning) and returns NaN. Either way there is no number to match."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        roc = float(roc_auc_score(y, s))
        ap = float(average_precision_score(y, s))
    assert np.isnan(roc), f"{name}: roc_auc_score is {roc}, expected NaN"
    return {"name": name, "y_true": [bool(v) for v in y], "scores": f32_list(s), "sklearn_average_precision": ap}


def macro_case(name: str, y: np.ndarray, s: np.ndarray) -> dict:
    s = s.astype(np.float32)
    n_pos = y.sum(axis=0)
    used = [t for t in range(y.shape[1]) if 0 < n_pos[t] < y.shape[0]]
    skipped = [t for t in range(y.shape[1]) if t not in used]
    roc = float(roc_auc_score(y[:, used], s[:, used], average="macro"))
    ap = float(average_precision_score(y[:, used], s[:, used], average="macro"))
    if skipped:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            all_tags = roc_auc_score(y, s, average="macro")
        assert np.isnan(all_tags), f"{name}: macro ROC-AUC over all tags is {all_tags}, expected NaN"
    return {
        "name": name,
        "y_true": table(y, bool),
        "scores": table(s, float),
        "macro_roc_auc": roc,
        "macro_pr_auc": ap,
        "tags_used": len(used),
        "skipped": skipped,
    }


def macro_cases(rng: np.random.Generator) -> list:
    cases = []
    y = rng.random((80, 10)) < 0.25
    cases.append(macro_case("random_80x10", y, rng.random((80, 10))))
    y = rng.random((60, 8)) < 0.3
    y[:, 3] = False  # a tag with no positives
    y[:, 5] = True  # a tag with positives only
    y[:, 6] = False
    y[[4, 9], 6] = True  # two positives
    s = np.round(rng.random((60, 8)) * 0.7 + 0.3 * y, 1)
    case = macro_case("ties_and_single_class_tags", y, s)
    moved = abs(roc_auc_score(y[:, case_used(y)], tie_broken(s)[:, case_used(y)], average="macro") - case["macro_roc_auc"])
    assert moved > 1e-6, f"ties do not matter ({moved})"
    cases.append(case)
    return cases


def case_used(y: np.ndarray) -> list:
    n_pos = y.sum(axis=0)
    return [t for t in range(y.shape[1]) if 0 < n_pos[t] < y.shape[0]]


def f1_case(name: str, y: np.ndarray, p: np.ndarray) -> dict:
    p = p.astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ge = float(f1_score(y, p >= THRESHOLD, average="samples"))
        gt = float(f1_score(y, p > THRESHOLD, average="samples"))
    return {"name": name, "y_true": table(y, bool), "probs": table(p, float), "threshold": float(THRESHOLD), "f1_ge": ge, "f1_gt": gt}


def f1_cases(rng: np.random.Generator) -> list:
    cases = []
    y = rng.random((40, 17)) < 0.15
    p = rng.random((40, 17)) ** 3  # many below 0.1
    p[rng.random((40, 17)) < 0.1] = THRESHOLD  # exactly on the threshold
    y[0] = False
    p[0] = 0.05  # no true and no predicted tag: 0.0 under zero_division="warn"
    y[1] = False  # no true tag, some predicted
    p[1, :3] = 0.5
    y[2, :2] = True  # true tags, none predicted
    p[2] = 0.0
    case = f1_case("dcase_like_40x17", y, p)
    assert case["f1_ge"] != case["f1_gt"], "threshold ties do not matter"
    cases.append(case)
    y = np.zeros((5, 4), dtype=bool)
    cases.append(f1_case("all_empty", y, np.full((5, 4), 0.01)))
    return cases


def accuracy_cases(rng: np.random.Generator) -> list:
    labels = rng.integers(0, 12, 500)
    predicted = np.where(rng.random(500) < 0.7, labels, rng.integers(0, 12, 500))
    return [{"name": "random_500_12_classes", "labels": [int(v) for v in labels], "predicted": [int(v) for v in predicted], "accuracy": float(accuracy_score(labels, predicted))}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    if np.__version__ != NUMPY_VERSION:
        sys.exit(f"numpy {NUMPY_VERSION} is pinned, found {np.__version__}")
    if sklearn.__version__ != SKLEARN_VERSION:
        sys.exit(f"scikit-learn {SKLEARN_VERSION} is pinned, found {sklearn.__version__}")
    rng = np.random.default_rng(SEED)
    y1 = np.ones(9, dtype=bool)
    info = {
        "generator": COMMAND,
        "versions": {"numpy": np.__version__, "scikit-learn": sklearn.__version__},
        "seed": SEED,
        "binary": binary_cases(rng),
        "one_class": [
            one_class("no_positive", ~y1, rng.random(9).astype(np.float32)),
            one_class("positives_only", y1, rng.random(9).astype(np.float32)),
        ],
        "macro": macro_cases(rng),
        "f1_samples": f1_cases(rng),
        "accuracy": accuracy_cases(rng),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(info) + "\n")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
