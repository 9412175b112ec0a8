"""How far the writing in a frame is tilted: a page held at an angle to the camera.

A webcam user rarely holds the paper level. At 10 degrees the ruled lines of a
notebook are no longer straight runs to the line finder (recognizer/lines.py),
so digits sitting on them stay glued to them and are lost (F1 0.99 -> 0.66 on
the synthetic ruled scenes); at 20-30 degrees the digits themselves lean past
what the classifier learned. `pipeline.locate` turns such a frame level and
looks again; this module says by how much.

Two witnesses, the cheap one first:
- rows of digits: each lone digit and its nearest neighbour to the right, of a
  similar height, give an angle; when enough agree, their median is the tilt.
  Numbers are written along a line, level with the paper.
- straight lines: when too few digits stand alone (on a tilted ruled page most
  touch a rule), the longest straight lines of the frame (rules, a grid, the
  page's edge), found by a Hough transform on a small copy, give it.
"""
from __future__ import annotations

import cv2
import numpy as np

MIN_TILT = 5.0  # degrees; less is left alone (the line finder still finds the rules) ...
PLAIN_TILT = 12.0  # ... and digit rows tilted less than this too, when no straight line is tilted with
# them: the classifier learned +/-8 degrees of rotation, so a plain page reads as well unturned
MAX_TILT = 35.0  # steeper rows or lines are not taken for the writing's tilt
STEP = 2.0  # the turn is rounded to this many degrees: in video, a page turning slowly is turned
# back by the same angle for several frames, so its crops stay the same and their readings are reused
HOLD = 3.0  # in video, the last frame's turn is kept while the tilt measured is this close to it
MIN_PAIRS = 4  # a tilt from digit rows needs this many neighbour pairs ...
MAX_SPREAD = 4.0  # ... agreeing within this many degrees (median distance from their median)
NEAR = (0.3, 2.0)  # a neighbour's centre is this many digit heights to the right
SIMILAR = (0.6, 1.6)  # digits counted are this many typical heights tall
LINE_SHRINK = 4  # lines are looked for on a copy this many times smaller (cost ~0.3 ms at 640x480)
LINE_ACROSS = 0.35  # a line crosses at least this share of the frame's width ...
MIN_LINE_PX = 120  # ... and is at least this long (working px): no strip of one number is tilted by its digits
LINE_GAP = 2  # px of the small copy a line may be broken by


def estimate(binary: np.ndarray, boxes: list, last: float | None = None) -> float:
    """Degrees to turn the frame (cv2's sense: counter-clockwise) to make its writing level, to STEP
    degrees; 0: leave it.

    binary: the thresholded frame (working size); boxes: (x, y, w, h) of its lone digit candidates.
    last: the turn of the previous frame of a video, kept while the tilt measured stays within
    HOLD degrees of it, or nothing is measured: a page held near MIN_TILT would otherwise be
    turned on one frame and not the next, and no crop could reuse the last frame's reading.
    """
    tilt = measure(binary, boxes)
    if last is not None and (tilt is None or abs(tilt - last) < HOLD):
        return last  # no witness on this frame, or one that agrees: the page has not moved much
    if tilt is None or not MIN_TILT <= abs(tilt) <= MAX_TILT:
        return 0.0
    return STEP * round(tilt / STEP)


def measure(binary: np.ndarray, boxes: list) -> float | None:
    """The tilt that matters, in degrees (None: no witness). Digit rows first; the lines only when
    the rows are missing or tilted too little to matter on a plain page (under PLAIN_TILT), since
    ruled lines tilted past MIN_TILT still hide the digits on them."""
    rows = from_rows(boxes)
    if rows is not None and not MIN_TILT <= abs(rows) < PLAIN_TILT:
        return rows
    lines = from_lines(binary)
    if lines is not None:
        return lines
    return None if rows is None else 0.0  # a plain page tilted a little reads as it is


def from_rows(boxes: list) -> float | None:
    """The median angle from each digit to its nearest neighbour on the right, when enough agree."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    if len(b) < MIN_PAIRS + 1:
        return None
    tall = np.median(b[:, 3])
    b = b[(b[:, 3] >= SIMILAR[0] * tall) & (b[:, 3] <= SIMILAR[1] * tall)]
    if len(b) < MIN_PAIRS + 1:  # heights of two kinds (an even count's median falls between them)
        return None
    cx, cy = b[:, 0] + b[:, 2] / 2, b[:, 1] + b[:, 3] / 2
    dx, dy = cx[None, :] - cx[:, None], cy[None, :] - cy[:, None]
    slope = np.tan(np.radians(MAX_TILT))
    near = (dx >= NEAR[0] * tall) & (dx <= NEAR[1] * tall) & (np.abs(dy) <= slope * dx)
    dist = np.where(near, dx, np.inf)
    has = np.isfinite(dist.min(axis=1))
    if np.count_nonzero(has) < MIN_PAIRS:
        return None
    rows = np.flatnonzero(has)
    j = dist[rows].argmin(axis=1)
    angles = np.degrees(np.arctan2(dy[rows, j], dx[rows, j]))
    middle = float(np.median(angles))
    return middle if np.median(np.abs(angles - middle)) <= MAX_SPREAD else None


def from_lines(binary: np.ndarray) -> float | None:
    """The median angle of the long straight lines within MAX_TILT of level, if any.

    Only unbroken runs count (a probabilistic Hough transform with gaps of at most
    LINE_GAP px on the small copy): a row of digits crossed by a straight line also
    puts much ink on it, but in pieces.
    """
    h, w = binary.shape
    f = LINE_SHRINK
    length = max(MIN_LINE_PX, LINE_ACROSS * w) / f
    if length > w / f:
        return None
    small = cv2.resize(binary, (w // f, h // f), interpolation=cv2.INTER_AREA)
    _, small = cv2.threshold(small, 64, 255, cv2.THRESH_BINARY)
    found = cv2.HoughLinesP(small, 1, np.pi / 180, int(length), minLineLength=length, maxLineGap=LINE_GAP)
    if found is None:
        return None
    x0, y0, x1, y1 = found.reshape(-1, 4).astype(np.float64).T
    angles = np.degrees(np.arctan2(y1 - y0, x1 - x0))
    angles = np.where(angles > 90, angles - 180, np.where(angles < -90, angles + 180, angles))
    angles = angles[np.abs(angles) <= MAX_TILT]
    return float(np.median(angles)) if len(angles) else None
