#!/usr/bin/env python3
"""Writes cars_annos.csv, the table the Cars-196 reader opens (datasets/src/retrieval/cars.rs),
from the Stanford Cars devkit's cars_annos.mat (the struct array `annotations`).

Usage: python tools/cars_annos_to_csv.py <root>/cars_annos.mat   # writes <root>/cars_annos.csv

Columns: the struct's fields in order, relative_im_path,bbox_x1,bbox_y1,bbox_x2,bbox_y2,class,test;
class ids 1-196 as in the .mat (not shifted). Checked with scipy 1.14.1 and numpy 2.2.6 (scipy.io.loadmat) on a struct array of the same fields written by scipy.io.savemat.
Never run in CI; the Rust tests write tiny CSVs of their own.
"""
import csv
import sys
from pathlib import Path

import scipy.io

FIELDS = ["relative_im_path", "bbox_x1", "bbox_y1", "bbox_x2", "bbox_y2", "class", "test"]


def scalar(cell):
    """A struct field as a plain value: strings come as 1-element arrays, numbers as [[n]]."""
    value = cell.flat[0] if hasattr(cell, "flat") else cell
    return str(value) if isinstance(value, str) else int(value)


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    mat_path = Path(sys.argv[1])
    annotations = scipy.io.loadmat(mat_path)["annotations"][0]
    missing = [f for f in FIELDS if f not in annotations.dtype.names]
    if missing:
        sys.exit(f"{mat_path}: the annotations struct has no field(s) {missing}")
    out = mat_path.with_name("cars_annos.csv")
    tmp = out.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(FIELDS)
        for a in annotations:
            w.writerow([scalar(a[name]) for name in FIELDS])
    tmp.replace(out)
    print(f"{out}: {len(annotations)} rows")


if __name__ == "__main__":
    main()
