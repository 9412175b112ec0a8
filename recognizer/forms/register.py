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


def matches(h: np.ndarray, boxes: list, quads: list) -> list:
    """(template corners, found quad) pairs that the homography `h` lays on each other."""
    pairs = []
    for box in boxes:
        src = corners(box)
        proj = cv2.perspectiveTransform(src.reshape(-1, 1, 2), h).reshape(4, 2)
        tol = CORNER_FIT * min(np.linalg.norm(proj[1] - proj[0]), np.linalg.norm(proj[3] - proj[0]))
        for quad in quads:
            for turns in range(4):
                q = np.roll(quad, -turns, axis=0)
                if np.abs(q - proj).max() <= tol:
                    pairs.append((src, q))
                    break
            else:
                continue
            break
    return pairs


def register(gray: np.ndarray, template) -> np.ndarray | None:
    """3x3 map from the template's page pixels to `gray`'s pixels, or None when fewer than
    two of the template's boxes (one, if it has only one) can be placed on the photo."""
    size = template.page
    boxes = [spec.pixel_box(size) for spec in template.fields if spec.kind != "line"]
    quads = [order_points(q) for q in find_tables(gray)]
    need = min(2, len(boxes))
    if not boxes or len(quads) < need:
        return None
    best: list = []
    for quad in quads:
        for box in boxes:
            want = box[2] / box[3]
            for turns in range(4):
                q = np.roll(quad, -turns, axis=0)
                if not 1 / ASPECT_SLACK < aspect(q) / want < ASPECT_SLACK:
                    continue
                pairs = matches(cv2.getPerspectiveTransform(corners(box), q), boxes, quads)
                if len(pairs) > len(best):
                    best = pairs
    if len(best) < need:
        return None
    src = np.concatenate([p[0] for p in best])
    dst = np.concatenate([p[1] for p in best])
    h, _ = cv2.findHomography(src, dst, 0)
    return h
