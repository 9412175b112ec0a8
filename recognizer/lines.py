"""Remove ruled lines, grid lines and box borders from a binary image, keeping the digits.

A digit written on a line or touching a box border is one connected blob with
it; the candidate search would see one huge shape. Long straight runs are found
with a morphological opening by a long thin kernel (a stroke of a digit is never
that long), subtracted, and the small gaps this cuts into digits that crossed
the line are closed again; where the lines are printed fainter than the pen,
the pen's own darker pixels over them are given back.

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
SLANT_PX = 5  # runs may drift this many pixels sideways over their length (perspective, skew)
THIN = np.ones((3, 3), np.uint8)  # ink an opening by this removes is thin (printed rules, not pen strokes)
FRINGE = np.ones((3, 3), np.uint8)  # a line's soft edge: one pixel around its ink
GAP_PX = 5  # breaks up to this long along a thin line are bridged before measuring its length
REPAIR_PX = 7  # gaps up to this long, cut into strokes by a removed line, are closed again
FAINT_RATIO = 1.6  # ruled lines this many times fainter than the pen (median ink) ...
OVER_SHARE = 0.5  # ... give back their pixels darker than this share of the way from line to pen
EDGE_PAD = 8  # paper around a mask turned by any_angle: more than the slant and gap bridging spread ink
ANGLE_STEP = 15  # any_angle turns the frame by multiples of this many degrees
REMNANT_SLENDER = 0.2  # a piece at most this wide for its height ...
REMNANT_SHARE = 0.6  # ... continued by removed line for this share of half its height, above or below


def default_length(shape: tuple[int, int]) -> int:
    """Shortest run counted as a line for an image of this shape (frame-relative)."""
    return max(MIN_LINE_PX, int(LINE_SHARE * max(shape)))


def line_mask(binary: np.ndarray, length: int, horizontal: bool = True, vertical: bool = True,
              slant: int | None = None) -> np.ndarray:
    """0/255 mask of the straight horizontal and vertical runs at least `length` px long.

    slant: sideways drift in pixels a run may have over its length (1 = exactly straight;
    default SLANT_PX).
    """
    slant = SLANT_PX if slant is None else slant
    mask = np.zeros_like(binary)
    if horizontal:
        mask |= _runs(binary, length, (1, slant), vertical=False)
    if vertical:
        mask |= _runs(binary, length, (slant, 1), vertical=True)
    return mask


def _runs(binary: np.ndarray, length: int, across: tuple[int, int], vertical: bool) -> np.ndarray:
    """Long straight runs, tolerating a slight slant (a page photographed at an angle).

    The ink is first thickened across the line direction so a slanted line stays
    one continuous run under the long kernel; the result is limited to real ink
    (plus a one-pixel fringe for the line's soft edge).
    """
    if max(across) > 1:
        k = cv2.getStructuringElement(cv2.MORPH_RECT, across)
        # a strip (a cheque line, a cell) has no room for guesses; elsewhere thin faint lines
        # break up when thresholded, so their short breaks are bridged. Only thin ink is
        # bridged sideways: the flat bottoms of a row of digits must not join up. Thickening
        # across and bridging along is one dilation by the rectangle spanning both.
        roomy = min(binary.shape) >= 2 * length
        if roomy and vertical:  # all ink counts as thin here: the bridged copy contains the thickened one
            thick = cv2.dilate(binary, cv2.getStructuringElement(cv2.MORPH_RECT, (across[0], GAP_PX)))
        else:
            thick = cv2.dilate(binary, k)
            if roomy:
                thin = cv2.subtract(binary, cv2.morphologyEx(binary, cv2.MORPH_OPEN, THIN))
                thick |= cv2.dilate(thin, cv2.getStructuringElement(cv2.MORPH_RECT, (GAP_PX, across[1])))
        runs = open_straight(thick, length, vertical)
        if not cv2.countNonZero(runs):  # no line: nothing to shrink back or keep (most frames)
            return runs
        runs = cv2.erode(runs, k)  # back to the line itself, so ink beside it is kept
    else:
        runs = open_straight(binary, length, vertical)
    if not runs.any():
        return runs
    return cv2.dilate(runs & binary, FRINGE)


def any_angle(mask: np.ndarray, length: int, step: int | None = None) -> np.ndarray:
    """0/255 mask of the straight runs at least `length` px long at any angle, within `mask`.

    line_mask finds horizontal and vertical runs; the frame turned by each
    multiple of `step` degrees (and back) finds the rest, its slant tolerance
    covering the angles between. The mask is padded with paper first: OpenCV's
    erosion counts pixels beyond the border as ink, so a stroke reaching the edge
    of a blob's own box would count as a run going on past it.
    """
    step = ANGLE_STEP if step is None else step
    mask = cv2.copyMakeBorder(mask, *(EDGE_PAD,) * 4, cv2.BORDER_CONSTANT, value=0)
    h, w = mask.shape
    out = line_mask(mask, length)
    for angle in range(step, 90, step):
        turn = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        cos, sin = abs(turn[0, 0]), abs(turn[0, 1])
        size = (int(h * sin + w * cos) + 1, int(h * cos + w * sin) + 1)
        turn[:, 2] += (size[0] - w) / 2, (size[1] - h) / 2
        runs = line_mask(cv2.warpAffine(mask, turn, size, flags=cv2.INTER_NEAREST), length)
        if runs.any():
            out |= cv2.warpAffine(runs, turn, (w, h), flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP)
    return (cv2.dilate(out, FRINGE) & mask)[EDGE_PAD:-EDGE_PAD, EDGE_PAD:-EDGE_PAD]


def open_straight(binary: np.ndarray, length: int, vertical: bool) -> np.ndarray:
    """Opening by a straight line `length` px long: pixel for pixel what
    cv2.morphologyEx(MORPH_OPEN, a 1-px-wide rectangle) gives, borders included, 3-6x cheaper.

    OpenCV's rectangle erosion costs about `length` operations a pixel (2 ms a frame for the
    two directions at 720x576). A minimum over a window of n pixels is the minimum of two
    windows of n/2 shifted against each other, so the window doubles with each cv2.min of
    the image with itself shifted: log2(length) steps. The dilation back is only done when
    the erosion left anything (most frames have no line).
    """
    runs = _window_extreme(binary, length, vertical, cv2.min, 255)
    if not cv2.countNonZero(runs):
        return runs
    return _window_extreme(runs, length, vertical, cv2.max, 0)


def _window_extreme(image: np.ndarray, length: int, vertical: bool, op, outside: int) -> np.ndarray:
    """op (cv2.min: erosion, cv2.max: dilation) over a centred window of `length` px along rows
    (or columns); pixels outside the image count as `outside`, as in OpenCV's default border."""
    before = length // 2  # where OpenCV anchors an even or odd kernel
    pad = (before, length - 1 - before, 0, 0) if vertical else (0, 0, before, length - 1 - before)
    x = cv2.copyMakeBorder(image, *pad, cv2.BORDER_CONSTANT, value=outside)
    covered = 1
    while covered < length:
        step = min(covered, length - covered)
        x = op(x[:-step], x[step:]) if vertical else op(x[:, :-step], x[:, step:])
        covered += step
    return x


def remove_lines(binary: np.ndarray, length: int | None = None, horizontal: bool = True,
                 vertical: bool = True, repair: int = 0, slant: int | None = None,
                 ink: np.ndarray | None = None, bar: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Binary -> (binary without the lines, line mask).

    length: shortest run that is a line (default: frame-relative, see default_length).
    slant: sideways drift allowed along a line (short box borders: 1, exactly straight).
    repair: size of the closing that re-joins strokes cut where they crossed a
    line (default: the REPAIR_PX, a thick printed line plus a margin).
    ink: the frame's ink map; with it, pen strokes written over faint ruled lines
    are given back (`strokes_over`).
    bar: runs this many pixels thick or more are kept (`thin_only`); 0: all removed.
    """
    length = length or default_length(binary.shape)
    lines = line_mask(binary, length, horizontal, vertical, slant)
    if bar and lines.any():
        lines = thin_only(lines, bar)
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
    if ink is not None:
        clean |= strokes_over(ink, binary, clean, lines)
    return clean, lines


def thin_only(lines: np.ndarray, bar: int) -> np.ndarray:
    """The line mask without the runs `bar` px thick or more, nor anything within `bar` px of them.

    Printed lines are thin beside the digits written between them. A straight run
    as thick as a digit is tall is a thing in view (a pen held over the page, a
    ruler): removed as a line, it left slivers of its edges and its rounded ends,
    read as 1s. Kept, it is one big candidate that `pipeline.things` refuses.
    Thick runs are what survives an erosion by a bar x bar square; growing that
    back by the square twice (one dilation by a square twice as wide) covers
    the runs and their surroundings. The dilation is only paid when some run is thick.
    """
    core = cv2.erode(lines, cv2.getStructuringElement(cv2.MORPH_RECT, (bar, bar)))
    if not cv2.countNonZero(core):
        return lines
    return cv2.subtract(lines, cv2.dilate(core, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * bar - 1,) * 2)))


def strokes_over(ink: np.ndarray, binary: np.ndarray, clean: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """The removed line pixels that are pen written over a faint ruled line: far darker than the line.

    A stroke crossing a ruled line at a shallow angle (the waist of an 8, the
    loop of a 6, the bar of a 4 lying along the line) shares a stretch of pixels
    with it; the closing in remove_lines only bridges strokes that leave the line
    straight up and down, so such a digit fell apart into a top and a bottom read
    as two wrong digits (an 8's lower loop as 0). Notebook rules are printed
    faint and pen is dark, so where the paper's lines are much fainter than the
    writing (the pen's median ink at least FAINT_RATIO times the line's), line
    pixels darker than halfway between the two are pen, and stay. Dark printed
    lines (form boxes, Sudoku grids, cheque baselines) are as dark as the pen:
    nothing is given back there.
    """
    on = lines > 0
    core = on & (binary > 0)  # the line itself, without its soft fringe
    written = clean > 0
    if not written.any() or not core.any():
        return np.zeros_like(lines)
    line_level = float(np.median(ink[core]))
    pen_level = float(np.median(ink[written]))
    if pen_level < FAINT_RATIO * line_level:
        return np.zeros_like(lines)
    cut = line_level + OVER_SHARE * (pen_level - line_level)
    return ((ink > cut) & on).view(np.uint8) * 255


def slender(box: tuple[int, int, int, int]) -> bool:
    """Thin and upright enough to be a piece of a vertical line (and to be read as a 1)."""
    return box[2] <= REMNANT_SLENDER * box[3]


def is_remnant(box: tuple[int, int, int, int], lines: np.ndarray) -> bool:
    """A thin upright piece in line with a removed vertical line: a bit of a broken grid line.

    Grid lines in photos break up (faint print, perspective); the short pieces left
    look like a 1. A handwritten 1 does not continue straight into a removed line
    above or below it.
    """
    x, y, w, h = box
    if not slender(box) or not lines.any():
        return False
    reach = max(2, h // 2)
    above = lines[max(0, y - reach): y, x: x + w]
    below = lines[y + h: y + h + reach, x: x + w]
    rows = int(np.count_nonzero(above.any(axis=1))) + int(np.count_nonzero(below.any(axis=1)))
    return rows >= REMNANT_SHARE * reach
