"""Cut one field (a template's comb, box or ruled line, or a box, comb or grid auto mode found) into crops.

Every field is first made level: its printed box is found near where it should be
and warped to its own rectangle (so a page warp that is off by a few pixels, or a
bent sheet, does not cut digits). The crops wait for the page's single batched
classifier call; each keeps the homography that maps its box back to the photo.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from recognizer.forms import boxes, grid  # grid's settings read as grid.X when used: a config may set them
from recognizer.forms.auto import find_tables, grow, level_with_margin, ruling_mask
from recognizer.forms.crops import cell_crop, masked_crop, split_digits
from recognizer.forms.grid import (find_grid, find_lines, ink_mask, pen_pixels,
                                   remove_lines, runs)
from recognizer.forms.page import to_gray_u8

FIELD_MARGIN = 0.25  # of the field's height: slack searched around a template box
CORNER_SLACK = 0.2  # of the field's height: how far a found box corner may be from the template's
LINE_HALF = 2  # px from a ruling hole's edge to the middle of its printed line (the mask is widened 1 px) ...
LINE_FAR = 4  # ... and to its far side, blurred in a photo (a comb is levelled with this, so its lines are found whole)
TEXT_LINES = 3  # a box with this many lines of ink across it ...
TEXT_RUN = 0.25  # ... each over this share of its width ...
TEXT_HEIGHT = 5  # ... and this many px tall (a box line's residue is thinner) holds printed text, not a value
PRINT_SIDE = 0.25  # ... and a crop within this share of the way from the print's colour to the pen's is print
PEN_SHARE = 0.25  # a page where this share of the crops has a colour of its own (PEN_CHROMA off the rest) is written in it
COMB_REACH = 0.35  # of a comb's height: how far past its box a digit's strokes are still read


@dataclass
class Slot:
    """One crop waiting for classification: the cell (or digit order) it came from."""

    crop: np.ndarray
    box: tuple[int, int, int, int]  # in the level field's pixels
    cell: int  # cell index for combs and grids, digit order in free fields
    pieces: list["Slot"] = field(default_factory=list)  # the blob cut as touching digits, if it may be
    colour: tuple[float, float] | None = None  # auto mode: its strokes' colour (Lab a, b), to tell pen from print


@dataclass
class CutField:
    """A level field image, its crops, its cell layout and the map back to the photo."""

    name: str
    kind: str  # comb, box, line, grid
    to_input: np.ndarray  # 3x3: level field pixel -> input photo pixel
    rows: int = 1
    cols: int = 1
    slots: list[Slot] = field(default_factory=list)
    spec: object = None  # the template Field, when there is one
    outline: tuple[int, int, int, int] = (0, 0, 0, 0)  # the printed box (x, y, w, h) in level pixels
    hidden: bool = False  # the field lies (partly) outside the photo: nothing read, flagged


def translate(dx: float, dy: float) -> np.ndarray:
    return np.array([[1, 0, dx], [0, 1, dy], [0, 0, 1]], np.float64)


def find_box(image: np.ndarray, box):
    """(quad in `image` pixels or None, search region origin) of the printed box near `box`.

    The printed outline found near the template box refines where the box is (a
    page warp a few pixels off, a bent sheet); an outline whose corners stray
    further (digits written across the box bend the outline) is not trusted.
    """
    x, y, w, h = box
    m = int(round(FIELD_MARGIN * min(w, h)))
    x0, y0 = max(x - m, 0), max(y - m, 0)
    x1, y1 = min(x + w + m, image.shape[1]), min(y + h + m, image.shape[0])
    expected = np.float32([[x, y], [x + w, y], [x + w, y + h], [x, y + h]]) - [x0, y0]
    quads = [q for q in find_tables(to_gray_u8(image[y0:y1, x0:x1]), 0.2, max(15, int(0.6 * min(w, h))),
                                    refine=True)
             if np.abs(q - expected).max() <= CORNER_SLACK * min(w, h)]
    if not quads:
        return None, (x0, y0)
    return min(quads, key=lambda q: np.abs(q - expected).max()) + [x0, y0], (x0, y0)


def level_box(image: np.ndarray, box, to_input: np.ndarray, margin_y: float | None = None):
    """(level image, inner (x, y, w, h), level->input map) of the printed box drawn near
    `box` in `image` (colour kept), warped with `margin_y` of its height kept above and
    below; where no printed box is found there, the template box itself is used."""
    x, y, w, h = box
    quad, (x0, y0) = find_box(image, box)
    if quad is None:
        quad = np.float32([[x, y], [x + w, y], [x + w, y + h], [x, y + h]])
    region = image[y0:, x0:]  # all the page below and right: a comb's margin shows real paper
    level, inner = level_with_margin(region, (quad - [x0, y0]).astype(np.float32), margin_y)
    return level.image, inner, to_input @ translate(x0, y0) @ level.to_input


def boxes_found(image: np.ndarray, specs, page_size) -> int:
    """How many of the template's boxed fields have their printed box where expected:
    tells a page the right way up from one upside down or on its side."""
    return sum(find_box(image, spec.pixel_box(page_size))[0] is not None for spec in specs if spec.kind != "line")


def free_slots(gray: np.ndarray, ink: np.ndarray, offset=(0, 0)) -> list[Slot]:
    """Slots for the digits written freely in a box or on a line, left to right."""
    ox, oy = offset
    gray = to_gray_u8(gray)

    def slot(mask, i):
        crop, (x, y, w, h) = masked_crop(gray, mask)
        return Slot(crop, (x + ox, y + oy, w, h), i)

    slots = []
    for i, (mask, pieces) in enumerate(split_digits(ink)):
        whole = slot(mask, i)
        whole.pieces = [slot(p, i) for p in pieces]
        slots.append(whole)
    return slots


def grid_slots(grid) -> list[Slot]:
    """A slot per non-blank cell, row by row; a wide cell is read as a free field."""
    rows, cols = grid.shape
    ink = crossing_ink(grid)
    slots = []
    for r in range(rows):
        for c in range(cols):
            x, y, w, h = grid.cell_box(r, c)
            if w > boxes.WIDE_CELL * h:
                slots += [Slot(s.crop, s.box, r * cols + c) for s in
                          free_slots(grid.gray[y:y + h, x:x + w], grid.ink[y:y + h, x:x + w], (x, y))]
                continue
            got = cell_crop(grid.gray, ink, (x, y, w, h))
            if got is not None:
                slots.append(Slot(got[0], got[1], r * cols + c))
    return slots


def crossing_ink(grid) -> np.ndarray:
    """The table's ink where a comb's cells reach past its box (grid.reach): in each cell only
    the strokes that cross into the box (a digit written over the line, not the printed
    prompt just above it). Any other table's ink as it is."""
    if grid.reach is None or grid.shape[0] != 1:
        return grid.ink
    top, bottom = grid.ys[0], grid.ys[-1]
    ink = grid.ink.copy()
    for x0, x1 in zip(grid.xs[:-1], grid.xs[1:]):  # cell by cell: a prompt above spans several
        cell = ink[:, x0:x1]
        n, labels = cv2.connectedComponents(cell, connectivity=8)
        crossing = np.unique(labels[top:bottom])
        cell[~np.isin(labels, crossing[crossing > 0])] = 0
    return ink


def cut_template_field(image: np.ndarray, to_input: np.ndarray, spec, page_size) -> CutField:
    """Crops of one template field of a rectified page (BGR or gray)."""
    box = spec.pixel_box(page_size)
    if spec.kind == "line":
        x, y, w, h = box
        level, m = image[y:y + h, x:x + w], to_input @ translate(x, y)
        ink = ink_mask(to_gray_u8(level))
        hor = find_lines(ink)[0]  # the ruled line only: a tall 1 must not pass for a vertical line
        rest = remove_lines(ink, hor, 0 * hor) | pen_pixels(level, ink, hor)
        return CutField(spec.name, spec.kind, m, slots=free_slots(level, rest), spec=spec, outline=(0, 0, w, h))
    if spec.kind == "comb":
        level, inner, m = level_box(image, box, to_input, COMB_REACH)
        grid = find_grid(level, cols=spec.cells, rows=1, inner=inner, reach=True)
        return CutField(spec.name, spec.kind, m, 1, spec.cells, grid_slots(grid), spec, inner)
    level, inner, m = level_box(image, box, to_input)
    return free_box(level, inner, m, spec.name, spec)


def free_box(level: np.ndarray, inner, to_input: np.ndarray, name: str, spec=None, hole=None) -> CutField:
    """A box with digits written freely in it, warped level (`inner`: the box in `level`).
    `hole` (x0, y0, x1, y1): its inside, clear of its printed lines, when known (auto mode
    found the box as a hole in the rulings): a faint or thin side the line finder misses
    would otherwise be read as a 1."""
    grid = find_grid(level, cols=1, rows=1, inner=inner)
    x0, x1, y0, y1 = grid.xs[0], grid.xs[-1], grid.ys[0], grid.ys[-1]
    if hole is not None:
        x0, y0, x1, y1 = max(x0, hole[0]), max(y0, hole[1]), min(x1, hole[2]), min(y1, hole[3])
    slots = free_slots(level[y0:y1, x0:x1], grid.ink[y0:y1, x0:x1], (x0, y0))
    return CutField(name, "box", to_input, slots=slots, spec=spec, outline=tuple(inner))


def page_rulings(image: np.ndarray) -> np.ndarray:
    """The page's printed rulings, with vertical runs as short as a box's side."""
    gray = to_gray_u8(image)
    return ruling_mask(gray, upright=boxes.side_run(gray.shape))


def page_fields(image: np.ndarray, rulings: np.ndarray | None = None) -> list[list[boxes.Cell]]:
    """Auto mode's fields of a page, in reading order: a table whose digit-sized cells tile
    it (a Sudoku, a comb) as one; every other closed box on its own or, touching others
    in a row, as a comb (recognizer/forms/boxes.py)."""
    gray = to_gray_u8(image)
    cells = boxes.find_cells(page_rulings(image) if rulings is None else rulings)
    tables = []
    for quad in find_tables(gray):
        mine = [c for c in cells if boxes.inside(c, quad)]
        if boxes.is_grid(mine, quad):
            tables.append(boxes.Cell.of_table(quad))
            cells = [c for c in cells if not any(c is m for m in mine)]
    return boxes.reading_order(boxes.group_cells(cells) + [[t] for t in tables])


def cut_tables(image: np.ndarray, to_input: np.ndarray) -> list[CutField]:
    """Auto mode: every field of the page (BGR or gray), named by its position (r01c02);
    where the handwriting has a colour of its own, what is in the print's colour is left out."""
    rulings = page_rulings(image)
    groups = page_fields(image, rulings)
    ink_colour = print_colour(image, rulings)
    cuts = [cut_group(image, to_input, group, name) for group, name in zip(groups, boxes.names(groups))]
    return pen_only(cuts, ink_colour)


def pen_only(cuts: list[CutField], print_ab) -> list[CutField]:
    """Drop the crops in the print's colour when the page's writing is in another (a blue pen on
    a black or red form): printed headers, row numbers and paragraphs in boxes are not values.

    The crops' colours are split in two groups, one started at the print's colour (of its
    lines) and one at the crop furthest from it. When the groups stand apart (PEN_CHROMA)
    and the far one holds a good share of the crops (PEN_SHARE), it is the pen, and a
    crop at most PRINT_SIDE of the way from the print group to it is print (thin strokes
    of the pen, paled by the paper, lie in between and stay). A black pen on black print
    makes one group: all stay.
    """
    slots = [s for cut in cuts for s in cut.slots if s.colour is not None]
    if print_ab is None or len(slots) < 2:
        return cuts
    ab = np.array([s.colour for s in slots], np.float32)
    centres = np.array([print_ab, ab[np.argmax(np.linalg.norm(ab - print_ab, axis=1))]], np.float32)
    for _ in range(10):
        pen = np.linalg.norm(ab - centres[1], axis=1) < np.linalg.norm(ab - centres[0], axis=1)
        if pen.all() or not pen.any():
            return cuts
        centres = np.array([ab[~pen].mean(axis=0), ab[pen].mean(axis=0)])
    gap = np.linalg.norm(centres[1] - centres[0])
    if gap < grid.PEN_CHROMA or pen.mean() < PEN_SHARE:
        return cuts
    near_print = np.linalg.norm(ab - centres[0], axis=1) < PRINT_SIDE * gap
    printed = {id(s) for s, p in zip(slots, near_print) if p}
    for cut in cuts:
        cut.slots = [s for s in cut.slots if id(s) not in printed]
    return cuts


def colour(level: np.ndarray, slots: list[Slot]) -> None:
    """Set each crop's `colour`: the (Lab a, b) of its strokes' middles."""
    if level.ndim != 3:
        return
    lab = cv2.cvtColor(level, cv2.COLOR_BGR2LAB)
    for s in slots:
        x, y, w, h = s.box
        core = s.crop > 0.5
        if core.any():
            s.colour = (float(np.median(lab[y:y + h, x:x + w, 1][core])), float(np.median(lab[y:y + h, x:x + w, 2][core])))


def print_colour(image: np.ndarray, rulings: np.ndarray):
    """(Lab a, b) of the page's printed lines, or None for a gray image or no lines."""
    if image.ndim != 3:
        return None
    on = (rulings > 0) & (ink_mask(to_gray_u8(image), c=grid.RULING_CONTRAST) > 0)
    if np.count_nonzero(on) < 50:
        return None
    lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB)
    return float(np.median(lab[..., 1][on])), float(np.median(lab[..., 2][on]))


def cut_group(image: np.ndarray, to_input: np.ndarray, group: list[boxes.Cell], name: str) -> CutField:
    """One found field: a table read whole, a comb (cells reach past the box, as a template
    comb's do), or a free box."""
    first = group[0]
    if first.table:
        level, inner = level_with_margin(image, first.quad)
        grid = find_grid(level.image, inner=inner)
        if grid.shape[0] == 1:
            level, inner = level_with_margin(image, first.quad, COMB_REACH)
            grid = find_grid(level.image, rows=1, inner=inner, reach=True)
        rows, cols = grid.shape
        kind = "grid" if rows > 1 else "comb" if cols > 1 else "box"
        return coloured(CutField(name, kind, to_input @ level.to_input, rows, cols, grid_slots(grid), outline=inner),
                        level.image)
    if len(group) > 1:
        quad = on_lines(boxes.outline(group), LINE_FAR)
        level, inner = level_with_margin(image, quad, COMB_REACH)
        grid = find_grid(level.image, cols=len(group), rows=1, inner=inner, reach=True)
        return coloured(CutField(name, "comb", to_input @ level.to_input, 1, len(group), grid_slots(grid),
                                 outline=inner), level.image)
    level, inner = level_with_margin(image, on_lines(boxes.outline(group)))
    x, y, w, h = inner
    hole = (x + LINE_HALF + 1, y + LINE_HALF + 1, x + w - LINE_HALF - 1, y + h - LINE_HALF - 1)
    cut = free_box(level.image, inner, to_input @ level.to_input, name, hole=hole)
    x0, y0, x1, y1 = hole
    if text_lines(ink_mask(to_gray_u8(level.image[y0:y1, x0:x1]))) >= TEXT_LINES:
        cut.slots = []  # a frame around printed lines (a paragraph, an address), not a field written in
    return coloured(cut, level.image)


def text_lines(ink: np.ndarray) -> int:
    """How many lines of ink, each across a good part of a box (TEXT_RUN) and of a text's
    height (TEXT_HEIGHT), lie one under another: a number is written on one line, a frame
    around a paragraph holds several."""
    count = 0
    for top, bottom in runs(ink.any(axis=1)):
        cols = np.flatnonzero(ink[top:bottom].any(axis=0))
        count += bottom - top >= TEXT_HEIGHT and cols[-1] - cols[0] >= TEXT_RUN * ink.shape[1]
    return count


def coloured(cut: CutField, level: np.ndarray) -> CutField:
    colour(level, cut.slots)
    return cut


def on_lines(quad: np.ndarray, px: float | None = None) -> np.ndarray:
    """A hole's quad pushed out by `px` onto the middle of its printed lines."""
    px = LINE_HALF if px is None else px
    w, h = np.ptp(quad[:, 0]), np.ptp(quad[:, 1])
    return grow(quad, px / max(w, 1), px / max(h, 1))
