"""Scoring a recognizer's boxes against ground truth: matching, F1, where false digits lie.

Shared by the dev evaluations (training/evaluate_recognizer.py, evaluate_realworld2.py) and
the benchmarks (bench/bench_conditions.py, bench_forms.py); not part of the runtime package.
"""
from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np


def iou(a, b) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union else 0.0


def centre_inside(det, gt) -> bool:
    cx, cy = det[0] + det[2] / 2, det[1] + det[3] / 2
    return gt[0] <= cx <= gt[0] + gt[2] and gt[1] <= cy <= gt[1] + gt[3]


def on(det, gt) -> bool:
    """Does a detected box stand on a true digit's box (IoU >= 0.5, or its centre inside)?"""
    return iou(det, gt) >= 0.5 or centre_inside(det, gt)


def match(dets: list, gts: list) -> tuple[int, int, int]:
    """Greedy one-to-one matching of (digit, box) lists by position, then digit: (tp, fp, fn)."""
    used = set()
    tp = 0
    for d, box in dets:
        for j, (g, gbox) in enumerate(gts):
            if j not in used and g == d and on(box, gbox):
                used.add(j)
                tp += 1
                break
    return tp, len(dets) - tp, len(gts) - tp


def off_digits(boxes: list, gts: list) -> int:
    """How many detections lie on no true digit at all (clutter, background, a stray fragment).

    The rest of the false positives are true digits read as the wrong digit; the two
    call for different fixes (rejecting non-digits vs reading digits better).
    """
    return sum(not any(on(b, g) for _, g in gts) for b in boxes)


def unignored(dets: list, gts: list, ignore: list) -> list:
    """(digit, box) detections without those on an ignored box (a printed digit, a digit cut by the
    frame or hidden), unless they also stand on a true digit."""
    return [(d, b) for d, b in dets
            if not (any(on(b, ig) for ig in ignore) and not any(on(b, g) for _, g in gts))]


def on_mask(boxes: list, mask: np.ndarray) -> list:
    """The boxes lying mostly on a 0/255 mask (the pen and hand held over a page)."""
    return [(x, y, w, h) for x, y, w, h in boxes if mask[y:y + h, x:x + w].mean() > 127]


def located(boxes: list, gts: list) -> int:
    """How many ground-truth digits have some proposed box on them (detection recall)."""
    return sum(any(on(b, g) for b in boxes) for _, g in gts)


def f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / max(1, 2 * tp + fp + fn)


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


class Gallery:
    """Annotated outputs as PNGs, for looking at what the recognizer did."""

    def __init__(self, folder: str | None):
        self.folder = Path(folder) if folder else None
        if self.folder:
            self.folder.mkdir(parents=True, exist_ok=True)

    def add(self, name: str, image, results) -> None:
        if self.folder:
            cv2.imwrite(str(self.folder / f"{name}.png"), results.plot(image, rejected=True))


def cell_polygon(cell: dict) -> np.ndarray:
    """A Sudoku cell's four corners (a row of CELLS.csv) as a float32 polygon, in the photo's pixels."""
    return np.float32([[float(cell["x_" + k]), float(cell["y_" + k])] for k in ("tl", "tr", "br", "bl")])
