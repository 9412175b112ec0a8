"""Find boxed tables without a template: comb rows, character boxes, Sudoku-like grids.

A table is a connected web of printed lines whose outline is a quadrilateral:
the ink component's convex hull has four corners and ink runs along its edges.
Each table is warped level on its own (a photo's perspective differs across the
sheet), then split into cells by grid.find_grid.
"""
from __future__ import annotations

import cv2
import imutils
import numpy as np

from recognizer.forms import grid  # grid.RULING_CONTRAST read when used: a config may set it
from recognizer.forms.grid import ink_mask
from recognizer.forms.page import (order_points, outline_support, quad_of, quad_size, touches_all_borders,
                                   warp_quad)

MIN_TABLE_FRACTION = 0.004  # of the image area: smaller boxes are letters, not tables
EDGE_INK = 0.7  # share of a table's outline that must be printed line
TABLE_MARGIN = 0.02  # of the table's size, kept around it when warping it level


def ruling_mask(gray: np.ndarray, line_len: int | None = None, upright: int | None = None) -> np.ndarray:
    """Thin straight strokes (printed rulings) of a page; solid bars and blobs removed.

    Rulings are found with short openings (a bent newspaper keeps short pieces
    straight); handwriting strokes that survive stay inside their box and do not
    change its outline. On a whole page, thick solid areas (headings, shaded bars)
    are taken out first so a bar that touches a table does not become part of it;
    not around one known box (`line_len` given), where they are bold handwriting.
    `upright`: the shortest vertical run kept, when it is shorter than `line_len` (the
    sides of a single box are only as tall as the box); such a short run is kept only
    where it joins horizontal rulings at both ends, as a box's side does (a digit's
    stroke in a filled box seldom does, and would cut the box in two).
    """
    ink = ink_mask(gray, c=grid.RULING_CONTRAST)
    side = min(gray.shape[:2])
    if line_len is None:
        thick = max(9, side // 50) | 1
        solid = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((thick, thick), np.uint8))
        ink = cv2.bitwise_and(ink, cv2.bitwise_not(cv2.dilate(solid, np.ones((5, 5), np.uint8))))
    k = line_len or max(15, side // 25)
    hor = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, k), np.uint8))
    ver = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((upright or k, 1), np.uint8))
    if upright is not None and upright < k:
        ver = sides(ver, hor, k)
    return cv2.dilate(hor | ver, np.ones((3, 3), np.uint8))


def sides(ver: np.ndarray, hor: np.ndarray, long: int, reach: int = 2) -> np.ndarray:
    """The vertical runs that are box sides: `long` or longer (a table's columns, a page's
    frame), or joining horizontal rulings (within `reach` px) at their top and their bottom."""
    near = cv2.dilate(hor, np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)) > 0
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ver, connectivity=8)
    keep = np.zeros(n, bool)
    for i in range(1, n):
        x, y, w, h, _ = stats[i]
        keep[i] = h >= long or (near[y, x:x + w].any() and near[y + h - 1, x:x + w].any())
    return np.where(keep[labels], ver, 0).astype(ver.dtype)


def outlined_quads(rulings: np.ndarray, shape, min_fraction: float, refine: bool):
    """(quads whose outline is ruled, whether a contour framed the whole image)."""
    contours = imutils.grab_contours(cv2.findContours(rulings, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE))
    area_min = min_fraction * shape[0] * shape[1]
    quads, framed = [], False
    for c in contours:
        x, y, w, h = cv2.boundingRect(c)
        if w * h < area_min or min(w, h) < 12:
            continue
        quad = quad_of(c, refine)
        if quad is None:
            continue
        if touches_all_borders(quad, shape, margin=max(3, min(shape) // 100)):
            framed = True  # the photo's or page's own edge, not a printed table
        elif outline_support(rulings, quad) >= EDGE_INK:
            quads.append(quad)
    return quads, framed


def find_tables(gray: np.ndarray, min_fraction: float | None = None,
                line_len: int | None = None, refine: bool = False) -> list[np.ndarray]:
    """Quadrilaterals (4, 2) of the boxed tables in a page, top-to-bottom then left-to-right.

    `line_len`: the shortest straight run that counts as printed line (default
    1/25 of the image); a caller that knows the box size passes more, so digits
    written across the box do not bend its outline. `refine` fits each side's
    straight line for exact corners (printed boxes; not bent newspaper grids).
    """
    min_fraction = MIN_TABLE_FRACTION if min_fraction is None else min_fraction
    rulings = ruling_mask(gray, line_len)
    quads, framed = outlined_quads(rulings, gray.shape, min_fraction, refine)
    if framed:  # the page's or photo's own edge encloses everything: look inside it
        band = max(3, min(gray.shape) // 50)
        rulings[:band], rulings[-band:], rulings[:, :band], rulings[:, -band:] = 0, 0, 0, 0
        quads, _ = outlined_quads(rulings, gray.shape, min_fraction, refine)
    return sorted(outermost(quads), key=lambda q: (round(q[:, 1].min() / 20), q[:, 0].min()))


def outermost(quads: list[np.ndarray], overlap: float = 0.3) -> list[np.ndarray]:
    """Drop a table lying mostly on a bigger one (a heading bar fused with part of a grid):
    its cells would be read twice."""
    kept: list[np.ndarray] = []
    for q in sorted(quads, key=cv2.contourArea, reverse=True):
        area = cv2.contourArea(q)
        if all(cv2.intersectConvexConvex(q, k)[0] < overlap * area for k in kept):
            kept.append(q)
    return kept


def table_size(quad: np.ndarray, min_side: int = 28) -> tuple[int, int]:
    """Output size for warping a table: its own edge lengths, so pixels keep their scale."""
    w, h = quad_size(quad)
    return max(w, min_side), max(h, min_side)


def grow(quad: np.ndarray, margin: float | None = None, margin_y: float | None = None) -> np.ndarray:
    """The quadrilateral pushed out along its own sides by `margin` of its width (and
    `margin_y` of its height), so bowed edges of a bent sheet, or a digit written
    across a comb's edge, stay inside the warp."""
    margin = TABLE_MARGIN if margin is None else margin
    tl, tr, br, bl = order_points(quad)
    my = margin if margin_y is None else margin_y
    right, down = ((tr - tl) + (br - bl)) / 2, ((bl - tl) + (br - tr)) / 2
    dx, dy = right * margin, down * my
    return np.float32([tl - dx - dy, tr + dx - dy, br + dx + dy, bl - dx + dy])


def level_with_margin(gray: np.ndarray, quad: np.ndarray, margin_y: float | None = None):
    """(Page-like warp, inner (x, y, w, h)): the table warped level with a margin around it."""
    margin_y = TABLE_MARGIN if margin_y is None else margin_y
    w, h = table_size(quad)
    mx, my = int(round(TABLE_MARGIN * w)), int(round(margin_y * h))
    size = (w + 2 * mx, h + 2 * my)
    return warp_quad(gray, grow(quad, TABLE_MARGIN, margin_y), size), (mx, my, w, h)
