#!/usr/bin/env python3
"""Reference Recall@K for adamp-task-retrieval (`tasks/retrieval/tests/recall_fixtures.rs`).

A plain numpy (2.4.6, pinned in tools/requirements-fixtures.txt) implementation of the
definition, written independently of the Rust code's counting: for every query, sort the
gallery by similarity (the dot product of the given vectors; the task's embeddings are unit
vectors, so this is the cosine), best first, with ties put in the order "same label as the
query first" (the ProxyAnchor codebase's In-Shop evaluator, `code/utils.py::evaluate_cos_Inshop`,
counts only negatives *strictly* more similar than the best positive), leave the query itself
out (within one set: SOP, CUB, Cars), and count a hit at K when one of the first K labels is the
query's. Recall@K is the percentage of queries with a hit. A query without any other image of
its class never hits.

Cases: random unit vectors around class centres (within one set and query-vs-gallery), small-integer vectors with
many exact ties and duplicate vectors (their dot products are exact in float32, so the ties are
ties in any summation order), classes with a single image, and Ks up to the set size.

Usage (see tools/README.md):

    .venv/bin/python tools/gen_recall_fixtures.py   # writes tasks/retrieval/tests/fixtures/recall.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

NUMPY_VERSION = "2.4.6"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "tasks" / "retrieval" / "tests" / "fixtures" / "recall.json"
COMMAND = "python tools/gen_recall_fixtures.py"


def recall_at_k(query, q_labels, gallery, g_labels, ks, within):
    sims = query.astype(np.float64) @ gallery.astype(np.float64).T
    hits = np.zeros(len(ks), dtype=np.int64)
    for i in range(len(query)):
        keep = np.ones(len(gallery), dtype=bool)
        if within:
            keep[i] = False
        s = sims[i][keep]
        labels = g_labels[keep]
        negative = (labels != q_labels[i]).astype(np.int64)
        # lexsort: the last key is the primary one (similarity, descending), then positives first.
        order = np.lexsort((negative, -s))
        ranked = labels[order]
        for j, k in enumerate(ks):
            if np.any(ranked[:k] == q_labels[i]):
                hits[j] += 1
    return [100.0 * h / len(query) for h in hits]


def unit(rng, n, d):
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def clustered(rng, labels, centres, noise):
    """Unit vectors near their class's centre, so Recall@K is neither 0 nor 100."""
    x = centres[labels] + noise * rng.standard_normal((len(labels), centres.shape[1]))
    x = x.astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def integers(rng, n, d):
    return rng.integers(-1, 2, size=(n, d)).astype(np.float32)


def case(name, query, q_labels, ks, gallery=None, g_labels=None):
    within = gallery is None
    if within:
        gallery, g_labels = query, q_labels
    out = {
        "name": name,
        "within": within,
        "ks": ks,
        "query": query.tolist(),
        "query_labels": q_labels.tolist(),
        "recall": recall_at_k(query, q_labels, gallery, g_labels, ks, within),
    }
    if not within:
        out["gallery"] = gallery.tolist()
        out["gallery_labels"] = g_labels.tolist()
    return out


def generate():
    rng = np.random.default_rng(20261204)
    cases = []
    n = 300
    centres = rng.standard_normal((40, 16))
    labels = rng.integers(0, 40, n)
    cases.append(case("within_unit", clustered(rng, labels, centres, 1.2), labels,
                      [1, 2, 4, 8, 16, 100, n - 1]))
    # Integer vectors in 4 dimensions: 81 possible vectors for 250 rows, so many duplicates and
    # exact ties; 60 classes, some with a single image.
    n = 250
    cases.append(case("within_integer_ties", integers(rng, n, 4), rng.integers(0, 60, n),
                      [1, 2, 4, 8, 10, 100]))
    centres = rng.standard_normal((30, 12))
    q_labels, g_labels = rng.integers(0, 30, 120), rng.integers(0, 30, 400)
    cases.append(case("query_gallery_unit", clustered(rng, q_labels, centres, 1.5), q_labels,
                      [1, 10, 20, 30, 40, 50], clustered(rng, g_labels, centres, 1.5), g_labels))
    cases.append(case("query_gallery_integer_ties", integers(rng, 90, 3), rng.integers(0, 12, 90),
                      [1, 10, 20, 30, 40, 50, 200], integers(rng, 200, 3),
                      rng.integers(0, 12, 200)))
    # Every class a singleton: no query can hit.
    cases.append(case("within_singletons", unit(rng, 20, 5), np.arange(20), [1, 5, 19]))
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    if np.__version__ != NUMPY_VERSION:
        sys.exit(f"numpy {NUMPY_VERSION} is pinned, found {np.__version__}")
    cases = generate()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    info = {"generator": COMMAND, "numpy": NUMPY_VERSION, "cases": cases}
    args.out.write_text(json.dumps(info) + "\n")
    for c in cases:
        print(c["name"], c["ks"], [round(r, 3) for r in c["recall"]])


if __name__ == "__main__":
    main()
