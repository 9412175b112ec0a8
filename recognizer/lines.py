"""Remove ruled lines, grid lines and box borders from a binary image, keeping the digits.

A digit written on a line or touching a box border is one connected blob with
it; the candidate search would see one huge shape. Long straight runs are found
with a morphological opening by a long thin kernel (a stroke of a digit is never
that long), subtracted, and the small gaps this cuts into digits that crossed
the line are closed again.

Used by the pipeline on every frame and by the paper-forms reader (box and comb
fields): `remove_lines(binary)` for lines long relative to the frame,
`remove_lines(binary, length=...)` for shorter box borders once the digit
height is known.
"""
from __future__ import annotations

import cv2
import numpy as np

LINE_SHARE = 0.08  # a line is at least this share of the image's long side ...
MIN_LINE_PX = 40  # ... and at least this many pixels (a small digit's stroke is shorter)
REPAIR_PX = 7  # gaps up to this long, cut into strokes by a removed line, are closed again


def default_length(shape: tuple[int, int]) -> int:
    """Shortest run counted as a line for an image of this shape (frame-relative)."""
    return max(MIN_LINE_PX, int(LINE_SHARE * max(shape)))


def line_mask(binary: np.ndarray, length: int, horizontal: bool = True, vertical: bool = True) -> np.ndarray:
    """0/255 mask of the straight horizontal and vertical runs at least `length` px long."""
    mask = np.zeros_like(binary)
    if horizontal:
        mask |= cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1)))
    if vertical:
        mask |= cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, length)))
    if mask.any():  # lines are drawn with a soft edge: take their anti-aliased fringe too
        mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)))
    return mask


def remove_lines(binary: np.ndarray, length: int | None = None, horizontal: bool = True,
                 vertical: bool = True, repair: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Binary -> (binary without the lines, line mask).

    length: shortest run that is a line (default: frame-relative, see default_length).
    repair: size of the closing that re-joins strokes cut where they crossed a
    line (default: the REPAIR_PX, a thick printed line plus a margin).
    """
    length = length or default_length(binary.shape)
    lines = line_mask(binary, length, horizontal, vertical)
    if not lines.any():
        return binary, lines
    clean = cv2.subtract(binary, lines)
    k = repair or REPAIR_PX
    rejoin = np.zeros_like(clean)
    if horizontal:  # a stroke crossing a horizontal line has a vertical gap
        rejoin |= cv2.morphologyEx(clean, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (1, k)))
    if vertical:
        rejoin |= cv2.morphologyEx(clean, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, 1)))
    clean |= rejoin & lines  # only fill inside the removed lines, never grow the digits
    return clean, lines
