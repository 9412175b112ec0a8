"""Box, comb and grid geometry: where the printed lines are, and the ink left in each cell.

A boxed table (a comb field of one box per digit, a Sudoku grid, a row of character
boxes) is warped to its own rectangle first, so its lines run level. Lines are then
the rows/columns whose ink survives a long morphological opening; cells lie between
them. Handwriting that touches a line keeps everything except the line's own pixels.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from recognizer.forms.page import to_gray_u8

LINE_COVER = 0.8  # a printed line crosses at least this share of a band (strip or grid row)
PEN_CHROMA = 14.0  # Lab chroma distance from the print's colour that marks a pen stroke
RULING_CONTRAST = 7  # grey levels under the local mean a printed line needs (handwriting: 14): hairlines
                     # are faint and break into dashes at the pen's threshold; long openings drop the noise
MIN_CELL = 8  # px: cells narrower than this are a doubled line, not a cell


def ink_mask(gray: np.ndarray, block: int | None = None, c: int = 14) -> np.ndarray:
    """Dark ink -> 255 on 0, robust to shadows and tinted paper (local mean threshold)."""
    if block is None:
        block = max(15, min(gray.shape[:2]) // 6)  # wider than a thick pen stroke: no hollow strokes
    block = block | 1
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, c)


def runs(on: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of the True runs in a 1-D boolean array."""
    edges = np.diff(np.concatenate([[0], on.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))


def lines_in_band(band: np.ndarray, cover: float) -> tuple[np.ndarray, list[int]]:
    """Vertical lines crossing a band of ink: (mask, x centres of lines covering `cover` of it).

    The ink is widened by a pixel each side first, so a line that leans a little
    (bent paper, imperfect warp) still survives the long opening.
    """
    h = band.shape[0]
    k = max(int(h * cover * 0.9), 3)
    mask = cv2.morphologyEx(cv2.dilate(band, np.ones((1, 3), np.uint8)), cv2.MORPH_OPEN, np.ones((k, 1), np.uint8))
    profile = (mask > 0).sum(axis=0) / float(h)
    return mask, [int((a + b - 1) // 2) for a, b in runs(profile >= cover)]


def vote(found: list[list[int]], tol: int, quorum: float) -> list[int]:
    """Line positions seen in at least `quorum` of the bands (median of the sightings)."""
    flat = sorted(p for ps in found for p in ps)
    out, group = [], []
    for p in flat + [None]:
        if p is not None and (not group or p - group[-1] <= tol):
            group.append(p)
            continue
        if group and len(group) >= max(1, quorum * len(found)):
            out.append(int(np.median(group)))
        group = [p] if p is not None else []
    return out


def vertical_lines(ink: np.ndarray, bands: list[tuple[int, int]], cover: float, tol: int):
    """(mask, xs) of vertical lines that cross most of the given horizontal bands.

    Checking band by band (a grid row, or a strip of a long row of boxes) means a
    line only has to be straight locally, while a digit's stroke, shorter than the
    band, never passes for a line. Only mask pixels near a voted line are kept.
    """
    masks, found = [], []
    for y0, y1 in bands:
        m, xs = lines_in_band(ink[y0:y1], cover)
        masks.append(m)
        found.append(xs)
    xs = vote(found, tol, 0.5)
    out = np.zeros_like(ink)
    for (y0, y1), m, seen in zip(bands, masks, found):
        for x in xs:
            near = [p for p in seen if abs(p - x) <= tol]
            c = near[0] if near else x
            a, b = max(c - tol, 0), c + tol + 1
            out[y0:y1, a:b] |= m[:, a:b]
    return out, xs


def split(size: int, n: int) -> list[tuple[int, int]]:
    """n equal [start, end) bands covering 0..size."""
    edges = np.linspace(0, size, n + 1).astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b - a >= 3]


def find_lines(ink: np.ndarray, cover: float | None = None):
    """(horizontal mask, ys, vertical mask, xs) of the printed lines of a level table.

    Horizontal lines are sought in vertical strips (at least three, about as wide
    as the table is tall), vertical lines in the rows those horizontals delimit.
    A second pass uses strips two cells wide, so the lines of a bent sheet (which
    are only straight locally) are still found, while a digit's stroke, always
    shorter than a cell, never passes for a line.
    """
    cover = LINE_COVER if cover is None else cover
    h, w = ink.shape
    tol = max(3, int(0.012 * max(h, w)))
    n_strips = max(3, int(round(w / max(h, 1))))
    hor, ys, ver, xs = lines_with_strips(ink, n_strips, cover, tol)
    if len(xs) >= 4:
        cell = float(np.median(np.diff(xs)))
        finer = int(round(w / (2 * cell)))
        if finer > n_strips:
            hor, ys, ver, xs = lines_with_strips(ink, finer, cover, tol)
    return hor, ys, ver, xs


def lines_with_strips(ink: np.ndarray, n_strips: int, cover: float, tol: int):
    """One pass of find_lines with the horizontals sought in `n_strips` strips."""
    h, w = ink.shape
    hmask_t, ys = vertical_lines(ink.T.copy(), split(w, n_strips), cover, tol)
    ys = with_borders(ys, h)
    rows = [(a, b) for a, b in zip(ys[:-1], ys[1:]) if b - a >= MIN_CELL]
    if len(rows) == 1:  # one tall band: strips about as tall as the table is wide
        rows = split(h, max(1, int(round(h / max(w, 1)))))
    vmask, xs = vertical_lines(ink, rows or [(0, h)], cover, tol)
    return hmask_t.T.copy(), ys, vmask, with_borders(xs, w)


def with_borders(pos: list[int], size: int, tol: float = 0.04) -> list[int]:
    """Add the table's own edges when no line was found there (the warp put them at 0 and size)."""
    tol_px = max(MIN_CELL, int(size * tol))  # a real line this near the edge is the edge
    pos = sorted(pos)
    if not pos or pos[0] > tol_px:
        pos = [0] + pos
    if pos[-1] < size - 1 - tol_px:
        pos = pos + [size - 1]
    out = [pos[0]]
    for p in pos[1:]:
        if p - out[-1] >= MIN_CELL:
            out.append(p)
    return out


def regularize(pos: list[int], sliver: float = 0.45) -> list[int]:
    """Tidy line positions of a table whose cells are mostly alike (combs, grids).

    Drops a sliver cell at either end (the warp margin, a doubled edge) and fills
    a gap that is a whole multiple of the usual spacing with the lines that faded
    out of the photo (a shadow, a light print), spaced evenly.
    """
    if len(pos) < 4:
        return pos
    cell = float(np.median(np.diff(pos)))
    if pos[1] - pos[0] < sliver * cell:
        pos = pos[1:]
    if pos[-1] - pos[-2] < sliver * cell:
        pos = pos[:-1]
    out = [pos[0]]
    for p in pos[1:]:
        k = (p - out[-1]) / cell
        if k > 1.6 and abs(k - round(k)) < 0.25:
            out += [int(round(out[-1] + (p - out[-1]) * i / round(k))) for i in range(1, int(round(k)))]
        out.append(p)
    return out


@dataclass
class Grid:
    """A level table: its image, ink, line mask and cell boundaries (xs, ys).

    `reach` (top, bottom) lets a one-row table's cells extend past the box into
    the margin warped with it, so a digit written across the box line is whole.
    """

    gray: np.ndarray
    ink: np.ndarray  # handwriting and print with the printed lines removed
    lines: np.ndarray
    xs: list[int]
    ys: list[int]
    reach: tuple[int, int] | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.ys) - 1, len(self.xs) - 1  # rows, cols

    def cell_box(self, r: int, c: int) -> tuple[int, int, int, int]:
        x0, x1, y0, y1 = self.xs[c], self.xs[c + 1], self.ys[r], self.ys[r + 1]
        if self.reach is not None and self.shape[0] == 1:
            y0, y1 = self.reach
        return x0, y0, x1 - x0, y1 - y0


def near(mask: np.ndarray, positions: list[int], axis: int, tol: int = 6) -> np.ndarray:
    """The mask kept only within `tol` px of the given rows (axis=0) or columns (axis=1)."""
    keep = np.zeros(mask.shape[axis], bool)
    for p in positions:
        keep[max(p - tol, 0): p + tol + 1] = True
    return mask * (keep[:, None] if axis == 0 else keep[None, :])


def faint_lines(ink: np.ndarray, positions: list[int], length: int, tol: int, axis: int) -> np.ndarray:
    """Straight runs at least `length` long within `tol` px of a grid line's position.

    A grid's line positions are certain once most of it is seen (and the missing
    ones filled in evenly); where a line is faint, broken or bent in the photo,
    the shorter pieces of it near its position are still line, not handwriting.
    """
    out = np.zeros_like(ink)
    if length < 5:
        return out
    kernel = np.ones((1, length), np.uint8) if axis == 0 else np.ones((length, 1), np.uint8)
    widen = np.ones((3, 1), np.uint8) if axis == 0 else np.ones((1, 3), np.uint8)
    for p in positions:
        a, b = max(p - tol, 0), p + tol + 1
        part = ink[a:b] if axis == 0 else ink[:, a:b]
        seg = cv2.bitwise_and(cv2.morphologyEx(cv2.dilate(part, widen), cv2.MORPH_OPEN, kernel), part)
        if axis == 0:
            out[a:b] |= seg
        else:
            out[:, a:b] |= seg
    return out


def pen_pixels(image: np.ndarray, ink: np.ndarray, lines: np.ndarray, min_diff: float | None = None) -> np.ndarray:
    """Ink whose colour differs from the printed lines' (a blue pen on black print, a
    black pen on a red 'dropout' form): it is handwriting even where it lies on a line.

    Only chroma counts (Lab a, b), so light and shadow do not matter; a gray scan or
    a pen the colour of the print gives an empty mask, and line removal alone decides.
    """
    min_diff = PEN_CHROMA if min_diff is None else min_diff
    out = np.zeros_like(ink)
    if image.ndim != 3 or image.shape[2] != 3:
        return out
    on = (lines > 0) & (ink > 0)
    if np.count_nonzero(on) < 20:
        return out
    lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB).astype(np.float32)
    a0, b0 = np.median(lab[..., 1][on]), np.median(lab[..., 2][on])
    far = np.hypot(lab[..., 1] - a0, lab[..., 2] - b0) > min_diff
    out[far & (ink > 0)] = 255
    return out


def remove_lines(ink: np.ndarray, hor: np.ndarray, ver: np.ndarray, bridge: int = 11, touch: int = 3) -> np.ndarray:
    """Ink without the printed lines, but keeping the pen where it meets a line.

    A stroke that crosses a line continues on both sides, so the line pixels in
    between are given back; a stroke that runs into a horizontal line or along it
    (the top of a 3 or a 9 written up against the box) gets back the line pixels
    within `touch` px of it, so it keeps its shape and stays one piece. (Not for
    vertical lines: the side of a 0 or 6 grazing one would gain a stroke.)
    """
    k3 = np.ones((3, 3), np.uint8)
    lines = cv2.dilate(hor | ver, k3)
    rest = cv2.bitwise_and(ink, cv2.bitwise_not(lines))
    reach_h = cv2.morphologyEx(rest, cv2.MORPH_CLOSE, np.ones((bridge, 1), np.uint8))
    reach_h |= cv2.dilate(rest, np.ones((2 * touch + 1, 1), np.uint8))
    reach_v = cv2.morphologyEx(rest, cv2.MORPH_CLOSE, np.ones((1, bridge), np.uint8))
    reach_v |= cv2.dilate(rest, np.ones((1, 2 * touch + 1), np.uint8))
    only_h = cv2.bitwise_and(cv2.dilate(hor, k3), cv2.bitwise_not(ver))
    only_v = cv2.bitwise_and(cv2.dilate(ver, k3), cv2.bitwise_not(hor))
    back = (only_h & reach_h) | (only_v & reach_v)
    return rest | (back & ink)


def find_grid(image: np.ndarray, cols: int | None = None, rows: int | None = None, inner=None,
              reach: bool = False) -> Grid:
    """Lines and cells of a level table image (warped box, comb field or grid).

    `cols`/`rows` when known (a template's comb) replace the found lines by an even
    split whenever the count found disagrees. `inner` (x, y, w, h) is where the
    table itself lies when the image also holds a margin around it; with `reach`
    a one-row table's cells take in that margin above and below. A colour image
    also keeps every pen pixel whose colour differs from the printed lines'.
    """
    gray = to_gray_u8(image)
    h, w = gray.shape
    ix, iy, iw, ih = inner or (0, 0, w, h)
    pad = max(2, int(0.04 * min(iw, ih)))
    x0, y0 = max(ix - pad, 0), max(iy - pad, 0)
    x1, y1 = min(ix + iw + pad, w), min(iy + ih + pad, h)
    ink = ink_mask(gray)
    line_ink = ink_mask(gray, c=RULING_CONTRAST)
    hor_in, ys, ver_in, xs = find_lines(line_ink[y0:y1, x0:x1])
    ys, xs = [y + y0 for y in regularize(ys)], [x + x0 for x in regularize(xs)]
    if cols is not None and len(xs) - 1 != cols:
        xs = [round(ix + i * (iw - 1) / cols) for i in range(cols + 1)]
    if rows is not None and len(ys) - 1 != rows:
        ys = [round(iy + i * (ih - 1) / rows) for i in range(rows + 1)]
    hor, ver = np.zeros_like(ink), np.zeros_like(ink)
    hor[y0:y1, x0:x1], ver[y0:y1, x0:x1] = hor_in, ver_in
    tol = max(6, int(0.015 * max(h, w)))
    hor, ver = near(hor, ys, 0, tol), near(ver, xs, 1, tol)  # a '1' that passed for a line stays ink
    if len(xs) >= 4 and len(ys) >= 4:  # a grid: also the faint or bent pieces of its lines
        hor |= faint_lines(ink, ys, int(0.5 * np.median(np.diff(xs))), tol, axis=0)
        ver |= faint_lines(ink, xs, int(0.5 * np.median(np.diff(ys))), tol, axis=1)
    rest = remove_lines(ink, hor, ver) | pen_pixels(image, ink, hor | ver)
    return Grid(gray, rest, hor | ver, xs, ys, (0, h) if reach else None)
