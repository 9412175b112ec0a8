"""Where to cut a blob of touching digits, and along which path.

Handwritten digits touch, and their strokes overlap in x (slant, a 0's arc
reaching over the next digit), so a blob wider than a digit is cut: at the
columns where its outline pinches (cut_points), and once more along the
cheapest seam where none pinches, each cut following the path that crosses
the least ink from top to bottom (least_ink_paths) rather than a straight
column. The candidates module turns the cuts into pieces for the classifier.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MIN_PIECE = 0.2  # cut points are at least this many digit heights apart ...
MAX_CUTS = 10  # at most this many cut points per blob (the best-scoring ones) ...
CUTS_PER_HEIGHT = 1.5  # ... and this many per digit height of its width (cost: spans grow as cuts^2)
CUT_REACH = 0.2  # a cut path strays at most this many digit heights from its pinch column ...
CUT_STEP = 0.3  # ... each sideways step costs this much (an ink pixel costs 1): paths stay near straight
CUT_DRIFT = 0.02  # ... and where it ends, this much per column away from the pinch
PATH_ROWS = 64  # cut paths are found on a copy of a tall blob shrunk to this many rows (cost)
SEAM_CUTS = 1  # cheapest seams added as cut points where no pinch is (each adds spans to classify)


def min_gap(tall: float) -> int:
    """Cuts closer than this (MIN_PIECE digit heights) to another or to an end are one."""
    return max(2, int(MIN_PIECE * tall))


def cut_points(mask: np.ndarray, tall: float, holes: np.ndarray) -> list[int]:
    """Where a blob of touching digits may be cut: local minima of a pinch score, plus both ends.

    Each column is scored by the blob's height there (top to bottom ink) plus
    its ink: two round digits touching meet where the outline pinches (a valley
    on top, a peak below), which the ink count alone misses (a 0 is thin in the
    middle too). Minima closer than MIN_PIECE digit heights keep the better one.
    Columns through an enclosed hole are avoided: in a chain of touching 0s the
    middle of each 0 is as thin as the joints, but only the joints have no hole.
    """
    w = mask.shape[1]
    on = mask > 0
    ink = on.sum(axis=0)
    rows = np.arange(mask.shape[0])[:, None]
    top = np.where(on, rows, mask.shape[0]).min(axis=0)
    bottom = np.where(on, rows, -1).max(axis=0)
    score = (np.where(ink > 0, bottom - top + 1, 0) + ink).astype(np.float32)
    score += mask.shape[0] * holes.any(axis=0)  # never cut through the loop of a 0, 6, 8 or 9
    score = np.convolve(score, np.ones(3, np.float32) / 3, mode="same")
    gap = min_gap(tall)
    order = np.argsort(score[gap:w - gap], kind="stable") + gap
    most = min(MAX_CUTS, int(round(CUTS_PER_HEIGHT * w / max(tall, 1))))
    cuts: list[int] = []
    for x in order[_local_minima(score)[order]].tolist():
        if len(cuts) >= most:
            break
        if all(abs(x - c) >= gap for c in cuts):
            cuts.append(x)
    return [0] + sorted(cuts) + [w]


def _local_minima(values: np.ndarray, reach: int = 2) -> np.ndarray:
    """Which values are the least within `reach` places either side (the ends: within the array).

    One whole-array pass instead of a slice minimum per place looked at in a loop.
    """
    padded = np.pad(values, reach, constant_values=np.inf)
    return values <= np.min([padded[i:i + len(values)] for i in range(2 * reach + 1)], axis=0)


def enclosed(on: np.ndarray) -> np.ndarray:
    """Paper enclosed by ink (the loops of 0, 6, 8, 9): background not reachable from outside."""
    h, w = on.shape
    outside = np.zeros((h + 2, w + 2), np.uint8)
    outside[1:-1, 1:-1] = on
    flood = np.zeros((h + 4, w + 4), np.uint8)
    cv2.floodFill(outside, flood, (0, 0), 2)
    return outside[1:-1, 1:-1] == 0


def least_ink_paths(cost: np.ndarray, walls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-cost top-to-bottom paths to every bottom column, for several walled copies of a blob.

    cost: (rows, w) per pixel; walls: (n, w) extra cost per column for copy k
    (infinite outside the columns a path of copy k may use). A path steps at
    most one column sideways per row, each step costing CUT_STEP. One
    dynamic-programming pass over the rows serves all copies. Returns (cost of
    the path ending at each column (n, w), the step taken into each pixel
    (rows, n, w): -1 came from the left, 0 from above, +1 from the right);
    `trace` follows the steps back for the few paths that are used.

    Why it is shaped so: the loop over rows is the cost (numpy's per-call
    overhead on rows ~300 values long), so each row is 4 in-place ufunc calls on
    views made once, min(left, right) + step being exactly min(left + step,
    right + step) in float32 (rounding is monotonic). The steps are derived
    after the loop from the kept rows in a few whole-array calls, with the same
    comparisons and tie order as a per-row choice.
    """
    h, w = cost.shape
    n = len(walls)
    runs = np.full((h, n, w + 2), np.inf, np.float32)  # running cost per row and column, infinite edges
    runs[:, :, 1:-1] = cost[:, None, :] + walls[None]
    step = np.float32(CUT_STEP)
    side = np.empty((n, w), np.float32)
    lefts, aboves, rights = [r[:, :-2] for r in runs], [r[:, 1:-1] for r in runs], [r[:, 2:] for r in runs]
    for r in range(1, h):
        np.minimum(lefts[r - 1], rights[r - 1], out=side)
        side += step
        np.minimum(side, aboves[r - 1], out=side)
        aboves[r] += side
    prev = runs[:-1]
    left, above, right = prev[..., :-2] + step, prev[..., 1:-1], prev[..., 2:] + step
    steps = np.zeros((h, n, w), np.int8)
    steps[1:] = np.where(right < np.minimum(left, above), 1, (left >= above).view(np.int8) - 1)
    return runs[-1, :, 1:-1].copy(), steps


def trace(steps: np.ndarray, copy: int, x: int) -> np.ndarray:
    """The columns (rows,) of copy `copy`'s least-cost path ending at bottom column x.

    Followed back one row at a time in plain Python: a path is ~64 scalar
    look-ups, far cheaper than tracing every column of every copy with numpy.
    """
    h, n, w = steps.shape
    flat = memoryview(steps).cast("b")  # plain ints, no numpy scalar per look-up
    path = [0] * h
    base = copy * w
    for r in range(h - 1, -1, -1):
        path[r] = x
        x += flat[r * n * w + base + x]
    return np.array(path, np.int32)


def _max_pool(image: np.ndarray, f: int) -> np.ndarray:
    """Each f x f block (zero-padded at the far edges) -> its largest value: a stroke never vanishes."""
    if f == 1:
        return image
    h, w = image.shape
    padded = np.zeros((-(-h // f) * f, -(-w // f) * f), image.dtype)
    padded[:h, :w] = image
    return padded.reshape(padded.shape[0] // f, f, padded.shape[1] // f, f).max(axis=(1, 3))


def cut_set(on: np.ndarray, tall: float) -> tuple[list[int], np.ndarray]:
    """All cut points of a wide blob, left to right, with the path each cut follows (paths (cuts, rows)).

    Handwriting slants and its digits overlap in x: the right arc of a 0 reaches
    over the start of the next digit, so a straight vertical cut through the
    joint clips one digit and hands its stroke to the other (a 0 becomes a C,
    read 6 or 5). So each outline pinch (cut_points) is cut along the path
    that crosses the least ink within CUT_REACH digit heights of it, stepping
    sideways as a pen lifted between the strokes would. Paper inside a loop
    costs like ink: a path through the middle of a 0 crosses only its thin top
    and bottom, cheaper than running along the joint of two round digits, yet
    it cuts a digit in half. Then SEAM_CUTS more cuts where no pinch is: the
    cheapest unconfined paths, since two interlocked digits (0s written in one
    movement, a 1 leaning into the next digit) may share every column, so no
    column pinches, yet a winding path between them crosses one thin joint.
    Cuts closer than MIN_PIECE digit heights to another or to an end are one.
    """
    return cut_sets([(on, tall)])[0]


@dataclass
class _CutPlan:
    """One wide blob's cut-path problem: its size, pinches and the walled cost copies."""

    h: int
    w: int
    tall: float
    f: int  # the paths' rows are f blob rows
    inner: np.ndarray  # pinch columns
    away: np.ndarray  # (pinches, cols): distance of each column from each pinch, blob pixels
    cost: np.ndarray  # (rows, cols)
    walls: np.ndarray  # (1 + pinches, cols): copy 0 unconfined, copy k near pinch k


def _cut_plan(on: np.ndarray, tall: float) -> _CutPlan:
    h, w = on.shape
    on = on > 0
    holes = enclosed(on)
    pinches = cut_points(on, tall, holes)
    f = -(-h // PATH_ROWS)  # paths are found on a copy at most PATH_ROWS tall (f times smaller)
    cost = _max_pool(on.astype(np.float32) + holes, f)
    cols = np.arange(cost.shape[1])
    inner = np.asarray(pinches[1:-1])
    away = np.abs(cols[None, :] * f + f // 2 - inner[:, None]).astype(np.float32)  # in blob pixels
    walls = np.vstack([np.zeros((1, len(cols)), np.float32),
                       np.where(away <= max(f, CUT_REACH * tall), 0.0, np.inf).astype(np.float32)])
    return _CutPlan(h, w, tall, f, inner, away, cost, walls)


def cut_sets(blobs: list[tuple[np.ndarray, float]]) -> list[tuple[list[int], np.ndarray]]:
    """cut_set of several wide blobs (mask, digit height) with one shared least_ink_paths pass.

    The pass costs numpy's per-call overhead on each row, whatever its width, so the
    blobs of a frame share it: side by side, one column of infinite cost between them
    (paths cannot cross it, as at an edge), copies a blob lacks walled off, and a
    shorter blob under rows of zero cost. A path gains nothing in those rows (each
    sideways step costs more than the straight one, which costs 0), so every real row
    holds the same values, and the same steps, as a blob's own pass would.
    """
    plans = [_cut_plan(on, tall) for on, tall in blobs]
    if not plans:
        return []
    rows = max(p.cost.shape[0] for p in plans)
    offsets = np.cumsum([0] + [p.cost.shape[1] + 1 for p in plans])
    cost = np.zeros((rows, offsets[-1] - 1), np.float32)
    walls = np.full((max(len(p.walls) for p in plans), offsets[-1] - 1), np.inf, np.float32)
    for p, o in zip(plans, offsets.tolist()):
        cost[rows - p.cost.shape[0]:, o:o + p.cost.shape[1]] = p.cost
        walls[:len(p.walls), o:o + p.cost.shape[1]] = p.walls
    ends, steps = least_ink_paths(cost, walls)
    return [_chosen_cuts(p, ends[:, o:o + p.cost.shape[1]], steps, o, rows - p.cost.shape[0])
            for p, o in zip(plans, offsets.tolist())]


def _chosen_cuts(plan: _CutPlan, ends: np.ndarray, steps: np.ndarray, offset: int,
                 top: int) -> tuple[list[int], np.ndarray]:
    """One blob's cuts and paths from the shared pass (its columns start at `offset`, its rows at `top`)."""
    h, w, f = plan.h, plan.w, plan.f

    def path(copy: int, x: int) -> np.ndarray:
        """Copy `copy`'s path to bottom column x, in blob pixels (rows, )."""
        p = trace(steps, copy, offset + x)[top:] - offset
        return p if f == 1 else np.minimum(np.repeat(p * f + f // 2, f)[:h], w)

    chosen = [(0, np.zeros(h, np.int32)), (w, np.full(h, w, np.int32))]
    for k, c in enumerate(plan.inner, start=1):
        chosen.append((int(c), path(k, int(np.argmin(ends[k] + CUT_DRIFT * plan.away[k - 1])))))
    chosen += _free_seams(ends[0], lambda x: path(0, x), [c for c, _ in chosen], min_gap(plan.tall))
    chosen.sort(key=lambda cp: cp[0])
    return [c for c, _ in chosen], np.stack([p for _, p in chosen])


def _free_seams(ends: np.ndarray, path, taken: list[int], gap: int) -> list[tuple[int, np.ndarray]]:
    """Up to SEAM_CUTS of the cheapest unconfined paths, as (mean column, path), at least `gap`
    columns from every taken cut and from each other (only local minima of the cost compete).
    path(x): the unconfined path ending at column x (traced only for the minima looked at)."""
    lowest = _local_minima(ends)
    found: list[tuple[int, np.ndarray]] = []
    for x in np.nonzero(lowest)[0][np.argsort(ends[lowest], kind="stable")]:
        if len(found) >= SEAM_CUTS:
            break
        p = path(int(x))
        c = int(round(p.mean()))
        if all(abs(c - k) >= gap for k in taken + [f for f, _ in found]):
            found.append((c, p))
    return found
