"""What lies around each candidate: the second channel the classifier reads beside its 28x28 crop.

A crop is the candidate's own ink, cut out and centred (recognizer/normalize.py):
the right input to tell a 1 from a 7, and no input at all to tell a 1 written
on paper from the dark gap between two fingers holding the sheet, a fold in a
T-shirt or the edge of a shadow. Those look exactly like a 1 once cut out; what
tells them apart is around them. Paper round handwriting is blank; a finger's
gap lies between two broad inked shapes, a fold runs on beyond the candidate.

So each candidate also gets its surroundings: the frame's ink map (paper 0, ink
bright, as the crop; what lies off a page found on a darker surround is blank,
as the recognizer reads it) over a square CONTEXT_SPAN times the candidate's
longer side, centred on it, everything else's ink left in, shrunk to 28x28 like
the crop. The model's second channel reads
it (training/context.py learns when the surroundings say "not writing"); a crop
with nothing known around it (a pre-cut digit, a form's cell) has its own crop
as its context: blank paper round it.
"""
from __future__ import annotations

import cv2
import numpy as np

from recognizer.normalize import FIT, SIZE

CONTEXT_SPAN = 2.5  # the square round a candidate: this many times its longer side


def context_batch(ink: np.ndarray, boxes) -> np.ndarray:
    """(N, 28, 28) float32 in [0, 1]: each box's surroundings in `ink` (working-size boxes
    x, y, w, h); off-frame pixels as paper.

    A large box's square is read from a halved copy of the ink map (halved again as often as
    it stays at least 2 x 28 px there): area averaging twice is area averaging once, and the
    cost per box stays that of a small square, however large the blob (a sheet blurred
    into one blob: a 700 px square per box, 27 ms a frame before).
    """
    out = np.zeros((len(boxes), SIZE, SIZE), np.float32)
    pyramid = [ink]
    for i, (x, y, bw, bh) in enumerate(boxes):
        half = max(1, round(CONTEXT_SPAN * max(bw, bh) / 2))
        level = 0
        while half >> (level + 1) >= SIZE and min(ink.shape[:2]) >> (level + 1) >= 2:
            level += 1  # the square's side at the next level is still >= 2 x 28, the image still >= 2 px
        while len(pyramid) <= level:
            pyramid.append(_halved(pyramid[-1]))
        out[i] = _square(pyramid[level], (x + bw // 2) >> level, (y + bh // 2) >> level, max(1, half >> level))
    return out


def _halved(image: np.ndarray) -> np.ndarray:
    """Each 2x2 block's mean (area averaging; an odd last row or column is dropped)."""
    h, w = image.shape[:2]
    if h < 2 or w < 2:
        return image
    return cv2.resize(image[: h // 2 * 2, : w // 2 * 2], (w // 2, h // 2), interpolation=cv2.INTER_AREA)


def _square(image: np.ndarray, cx: int, cy: int, half: int) -> np.ndarray:
    """The 2*half square of `image` centred on (cx, cy), off-image pixels 0, shrunk to 28x28 in [0, 1]."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = cx - half, cy - half, cx + half, cy + half
    window = np.zeros((y1 - y0, x1 - x0), np.uint8)  # off the frame: nothing known, paper
    sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if sx1 > sx0 and sy1 > sy0:
        window[sy0 - y0: sy1 - y0, sx0 - x0: sx1 - x0] = image[sy0:sy1, sx0:sx1]
    return cv2.resize(window, (SIZE, SIZE), interpolation=cv2.INTER_AREA) / 255.0


def blank_context(crops: np.ndarray) -> np.ndarray:
    """The context of crops with nothing known around them: each crop, at the size it would take
    in its square (20 px of 28 for its longer side -> 28 / CONTEXT_SPAN), on blank paper."""
    out = np.zeros((len(crops), SIZE, SIZE), np.float32)
    side = max(1, round(SIZE * SIZE / (FIT * CONTEXT_SPAN)))
    at = (SIZE - side) // 2
    for i, crop in enumerate(crops):
        out[i, at: at + side, at: at + side] = cv2.resize(crop, (side, side), interpolation=cv2.INTER_AREA)
    return out
