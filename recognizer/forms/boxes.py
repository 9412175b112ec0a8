"""Every closed printed box of a page, grouped into fields (auto mode and drafted templates).

A real form is not one table: each field is its own box with its printed prompt
above it, boxes of different widths stand side by side, a comb field is a row of
touching boxes, a table's cells are ruled, and frames hold whole sections or a
printed paragraph. What they share is that a field is written INSIDE a closed
box. So the boxes are the holes of the page's printed rulings (auto.ruling_mask):
a hole with no box inside it is a cell (a frame around other boxes is not), and a
prompt printed above or beside a box, outside it, is never part of its value.

Cells are then grouped: a run of touching digit-sized cells of one height is a
comb (one digit per cell); every other cell is a box of its own. A table whose
cells are all digit-sized and tile it (a Sudoku, a row of character boxes) is
read whole as a grid, as before (fields.cut_tables).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from recognizer.forms.page import order_points, quad_of

MIN_BOX = 12  # px: a hole lower or narrower than this is a gap between lines, not a box to write in
BENT_FILL = 0.75  # a hole filling this share of its rotated bounding box is a box on a bent sheet
SIDE_RUN = 0.02  # of the page's short side: a box's printed side is at least this tall (a comb box at 1600 px: 30-45)
WIDE_CELL = 1.6  # a cell this much wider than tall holds a number, not one digit
TALL_CELL = 1.4  # a cell this much taller than wide is a table's column, not a comb box (those are about square, 5 x 7 mm at most)
SAME_HEIGHT = 0.2  # touching cells of a comb differ in height by at most this share
WALL = 0.25  # ... and are at most this share of their height apart (one printed line between them)
MULTIPLE = 0.12  # ... and a comb cell whose separator was not seen is a whole number of cells wide, within this share ...
MISSED_WALLS = 2  # ... and at most this many separators missed in one place (a wider box is a label or a column)
SLIVER = 0.75  # two neighbouring comb cells each narrower than this share of the comb's cells are one, split by a stroke
TILED = 0.7  # a table whose cells cover this share of it ...
GRID_SHARE = 0.5  # ... and its digit-sized cells this share is a grid, read whole


@dataclass
class Cell:
    """One closed box: its corners (tl, tr, br, bl) in page pixels and its bounding box."""

    quad: np.ndarray
    box: tuple[int, int, int, int]
    table: bool = False  # a whole grid or comb read as one field (fields.cut_tables' way)

    @property
    def digit_sized(self) -> bool:
        x, y, w, h = self.box
        return not self.table and w <= WIDE_CELL * h

    @property
    def comb_cell(self) -> bool:
        """One digit's box: digit-sized and not much taller than wide (a table's tall column is not)."""
        x, y, w, h = self.box
        return self.digit_sized and h <= TALL_CELL * w

    @classmethod
    def of_table(cls, quad: np.ndarray) -> "Cell":
        x, y, w, h = cv2.boundingRect(quad.astype(np.float32))
        return cls(order_points(quad.astype(np.float32)), (x, y, w, h), table=True)


def side_run(shape) -> int:
    """The shortest vertical run of print that may be a box's side, in pixels."""
    return max(MIN_BOX, int(SIDE_RUN * min(shape[:2])))


def find_cells(rulings: np.ndarray) -> list[Cell]:
    """The innermost closed boxes of a ruling mask: holes that are four-sided and hold no box."""
    contours, hierarchy = cv2.findContours(rulings, cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return []
    hierarchy = hierarchy[0]
    depth = np.zeros(len(contours), int)
    for i in range(len(contours)):
        parent = hierarchy[i][3]
        while parent >= 0:
            depth[i] += 1
            parent = hierarchy[parent][3]
    holes = {}
    for i, c in enumerate(contours):
        x, y, w, h = cv2.boundingRect(c)
        if depth[i] % 2 == 1 and min(w, h) >= MIN_BOX:
            quad = four_sided(c)
            if quad is not None:
                holes[i] = Cell(order_points(quad), (x, y, w, h))
    nested = set()
    for i in holes:  # a hole holding another box is a frame: only its innermost boxes are cells
        parent = hierarchy[i][3]
        while parent >= 0:
            nested.add(parent)
            parent = hierarchy[parent][3]
    return [cell for i, cell in holes.items() if i not in nested]


def four_sided(hole: np.ndarray) -> np.ndarray | None:
    """A hole's corners when it is a box: a quadrilateral, or (a long thin box on a bent
    sheet, whose bowed sides no four corners fit) filling most of its rotated bounding box."""
    quad = quad_of(hole, refine=False)
    if quad is not None:
        return quad
    rect = cv2.minAreaRect(hole)
    if cv2.contourArea(hole) >= BENT_FILL * rect[1][0] * rect[1][1]:
        return cv2.boxPoints(rect).astype(np.float32)
    return None


def touching(a: Cell, b: Cell) -> bool:
    """Is b the next box of a comb right of a: same height, same row, one line between them?"""
    ax, ay, aw, ah = a.box
    bx, by, bw, bh = b.box
    h = max(ah, bh)
    overlap = min(ay + ah, by + bh) - max(ay, by)
    gap = bx - (ax + aw)
    return abs(ah - bh) <= SAME_HEIGHT * h and overlap >= (1 - SAME_HEIGHT) * h and abs(gap) <= WALL * h


def group_cells(cells: list[Cell]) -> list[list[Cell]]:
    """Cells as fields: runs of touching one-digit cells (combs), every other cell alone;
    in reading order (top to bottom, then left to right)."""
    cells = sorted(cells, key=lambda c: c.box[0])
    rows: list[list[Cell]] = []  # touching cells of one height, side by side, whatever their width
    for cell in cells:
        run = next((g for g in rows if touching(g[-1], cell)), None)
        if run is not None:
            run.append(cell)
        else:
            rows.append([cell])
    fields = []
    for row in rows:
        for run in comb_runs(row):
            fields += [run] if combed(run) else [[c] for c in run]
    return reading_order(fields)


def comb_runs(row: list[Cell]) -> list[list[Cell]]:
    """A row of touching cells as runs of one-digit cells (and single wide cells). A comb
    whose separator the mask missed has a cell two or three cells wide: when every wide
    cell of the row is such a multiple of its one-digit cells, it is split and the row is
    one comb; otherwise the wide cells (a table's columns) stand alone."""
    digits = [c.box[2] for c in row if c.comb_cell]
    if len(digits) >= 2:
        width = float(np.median(digits))
        counts = [max(1, int(round(c.box[2] / width))) for c in row]
        if all((n == 1 and c.digit_sized) or (2 <= n <= MISSED_WALLS + 1 and abs(c.box[2] / width - n) <= MULTIPLE * n)
               for c, n in zip(row, counts)):
            return [mend([part for c, n in zip(row, counts) for part in split_cell(c, n)])]
    runs: list[list[Cell]] = []
    for cell in row:
        if runs and cell.digit_sized and runs[-1][-1].digit_sized:
            runs[-1].append(cell)
        else:
            runs.append([cell])
    return [mend(r) for r in runs]


def split_cell(cell: Cell, n: int) -> list[Cell]:
    """A box n one-digit cells wide as n cells (corners interpolated along its sides)."""
    if n <= 1:
        return [cell]
    tl, tr, br, bl = cell.quad
    x, y, w, h = cell.box
    out = []
    for i in range(n):
        a, b = i / n, (i + 1) / n
        quad = np.float32([tl + a * (tr - tl), tl + b * (tr - tl), bl + b * (br - bl), bl + a * (br - bl)])
        out.append(Cell(quad, (int(round(x + a * w)), y, int(round(w / n)), h)))
    return out


def combed(run: list[Cell]) -> bool:
    """Is a run of touching cells a comb: one-digit boxes, not a table's tall columns side by side?"""
    return len(run) > 1 and sum(c.comb_cell for c in run) * 2 > len(run)


def mend(run: list[Cell]) -> list[Cell]:
    """A comb's cells with the slivers a stroke cut off joined again: a 1 written from the top
    line to the bottom one is a ruling to the mask and splits its box in two narrow holes."""
    if len(run) < 3:
        return run
    width = float(np.median([c.box[2] for c in run]))
    out = [run[0]]
    for cell in run[1:]:
        last = out[-1]
        if last.box[2] < SLIVER * width and cell.box[2] < SLIVER * width:
            out[-1] = joined(last, cell)
        else:
            out.append(cell)
    return out


def joined(a: Cell, b: Cell) -> Cell:
    """The box spanning two side-by-side cells."""
    x0, y0 = min(a.box[0], b.box[0]), min(a.box[1], b.box[1])
    x1 = max(a.box[0] + a.box[2], b.box[0] + b.box[2])
    y1 = max(a.box[1] + a.box[3], b.box[1] + b.box[3])
    return Cell(np.float32([a.quad[0], b.quad[1], b.quad[2], a.quad[3]]), (x0, y0, x1 - x0, y1 - y0))


def reading_order(groups: list[list[Cell]]) -> list[list[Cell]]:
    """Top to bottom by rows (fields whose middles are within half a field's height), then left to right."""
    return [g for row in rows_of(groups) for g in row]


def rows_of(groups: list[list[Cell]]) -> list[list[list[Cell]]]:
    """Groups in rows: a group joins the row whose middle is within half its height of its own."""
    rows: list[list[list[Cell]]] = []
    for g in sorted(groups, key=lambda g: middle(g)):
        if rows and abs(middle(g) - middle(rows[-1][-1])) <= 0.5 * g[0].box[3]:
            rows[-1].append(g)
        else:
            rows.append([g])
    return [sorted(row, key=lambda g: g[0].box[0]) for row in rows]


def middle(group: list[Cell]) -> float:
    x, y, w, h = group[0].box
    return y + h / 2


def outline(group: list[Cell]) -> np.ndarray:
    """The quad around a run of cells: the first cell's left corners, the last one's right ones."""
    first, last = group[0].quad, group[-1].quad
    return np.float32([first[0], last[1], last[2], first[3]])


def is_grid(cells: list[Cell], quad: np.ndarray) -> bool:
    """Is the table `quad` a grid of one-digit cells (a Sudoku, a comb, character boxes)?
    It holds two cells or more, they tile it, and at least GRID_SHARE of it is digit-sized
    cells: a bent newspaper grid whose broken lines merged a few cells still is one; a
    table of wide cells is not, nor is a lone box (a free box, read as one)."""
    if len(cells) < 2:
        return False
    table = cv2.contourArea(quad.astype(np.float32))
    area = sum(cv2.contourArea(c.quad) for c in cells)
    digits = sum(cv2.contourArea(c.quad) for c in cells if c.digit_sized)
    return area >= TILED * table and digits >= GRID_SHARE * table


def inside(cell: Cell, quad: np.ndarray) -> bool:
    x, y, w, h = cell.box
    return cv2.pointPolygonTest(quad.reshape(-1, 1, 2).astype(np.float32), (x + w / 2, y + h / 2), False) >= 0


def names(groups: list[list[Cell]]) -> list[str]:
    """Position names, row then column: r01c01, r01c02, r02c01, ..."""
    out = []
    for r, row in enumerate(rows_of(groups), 1):
        out += [f"r{r:02d}c{c:02d}" for c in range(1, len(row) + 1)]
    return out
