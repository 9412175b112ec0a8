"""Place a template on a photo by its printed boxes when the page edge is not in view.

A close-up of a form, a scan of part of a page, or a sheet on a table of the same
colour shows no page outline, but it still shows the form's printed boxes. Each
pairing of a box found in the photo with a template box of similar shape (in each
of the four turns) proposes a homography; the one that puts the most template
boxes onto found boxes wins, and is refined on all their corners.
"""
from __future__ import annotations

import cv2
import numpy as np

from recognizer.forms.auto import find_tables
from recognizer.forms.page import order_points

ASPECT_SLACK = 1.6  # a found box may look this much wider or narrower than the template's (perspective)
CORNER_FIT = 0.3  # of a box's short side: how near a projected template box must fall on a found one


def corners(box) -> np.ndarray:
    x, y, w, h = box
    return np.float32([[x, y], [x + w, y], [x + w, y + h], [x, y + h]])


def aspect(quad: np.ndarray) -> float:
    """Width over height of corners given as tl, tr, br, bl."""
    return float(np.linalg.norm(quad[1] - quad[0]) / max(np.linalg.norm(quad[3] - quad[0]), 1e-6))


def matches(h: np.ndarray, sources: np.ndarray, turned: np.ndarray) -> list:
    """(template corners, found quad) pairs that the homography `h` lays on each other.

    sources: (B, 4, 2) template boxes' corners; turned: (Q, 4, 4, 2) every found quad in
    its four corner orders. All boxes are projected and compared at once (numpy), so a
    hypothesis costs one array operation, not a loop over boxes and quads.
    """
    proj = cv2.perspectiveTransform(sources.reshape(-1, 1, 2), h).reshape(-1, 4, 2)
    sides = np.minimum(np.linalg.norm(proj[:, 1] - proj[:, 0], axis=1), np.linalg.norm(proj[:, 3] - proj[:, 0], axis=1))
    off = np.abs(turned[None] - proj[:, None, None]).max(axis=(3, 4))  # (B, Q, 4)
    fits = (off <= (CORNER_FIT * sides)[:, None, None]).reshape(len(sources), -1)
    pairs = []
    for b in np.flatnonzero(fits.any(axis=1)):
        q, t = divmod(int(np.argmax(fits[b])), 4)  # the first quad, in the first turn, that fits
        pairs.append((sources[b], turned[q, t]))
    return pairs


def hypotheses(boxes: list, sources: np.ndarray, turned: np.ndarray):
    """(template box corners, found quad corners) pairs of a like shape: each proposes where
    the template lies."""
    for quad_turns in turned:
        for box, src in zip(boxes, sources):
            for q in quad_turns:
                if 1 / ASPECT_SLACK < aspect(q) / (box[2] / box[3]) < ASPECT_SLACK:
                    yield src, q


def register(gray: np.ndarray, template) -> np.ndarray | None:
    """3x3 map from the template's page pixels to `gray`'s pixels, or None when fewer than
    two of the template's boxes (one, if it has only one) can be placed on the photo."""
    size = template.page
    boxes = [spec.pixel_box(size) for spec in template.fields if spec.kind != "line"]
    quads = [order_points(q) for q in find_tables(gray)]
    need = min(2, len(boxes))
    if not boxes or len(quads) < need:
        return None
    sources = np.array([corners(box) for box in boxes], np.float32)
    turned = np.array([[np.roll(quad, -t, axis=0) for t in range(4)] for quad in quads], np.float32)
    best: list = []
    for src, q in hypotheses(boxes, sources, turned):
        pairs = matches(cv2.getPerspectiveTransform(src, q), sources, turned)
        if len(pairs) > len(best):
            best = pairs
        if len(best) == len(boxes):  # every box placed: no hypothesis can do better
            break
    if len(best) < need:
        return None
    src = np.concatenate([p[0] for p in best])
    dst = np.concatenate([p[1] for p in best])
    h, _ = cv2.findHomography(src, dst, 0)
    return h
