"""Binary frame -> digit candidates: boxes plus masked ink crops, one per probable digit.

Second stage of the flow. Connected components are the raw material; a digit
is rarely exactly one component, so this module
- drops specks, dashes and line residue by size (relative to the frame and to
  the other candidates), aspect and fill,
- merges pieces of one broken digit (the detached bar of a 5, a gap in a 4):
  pieces stacked in the same column with a small vertical gap,
- splits touching digits when a box is much wider than a digit can be, at the
  column with the least ink near each equal-width cut,
- and hands each candidate a crop of the ink map where every pixel that is not
  its own ink is zeroed, so neighbours never leak into the 28x28 image.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MIN_HEIGHT_SHARE = 0.01  # a digit is at least 1% of the long side tall ...
MIN_HEIGHT_PX = 8  # ... and at least 8 px at working size
MAX_SIZE_SHARE = 0.95  # taller or wider than this share of the frame: page edge, not a digit
SMALL_SHARE = 0.4  # shorter than this share of the typical candidate: a dot, comma or speck
MAX_ASPECT = 3.5  # wider than tall by more than this after splitting: a dash or line residue
MAX_SLENDER = 15.0  # taller than wide by more than this: a rule, not a 1
MERGE_OVERLAP = 0.5  # pieces sharing this share of the narrower one's width are one digit ...
MERGE_GAP = 0.3  # ... when the vertical gap is below this share of the typical digit height
MERGE_HEIGHT = 1.25  # ... and the union is at most this many typical (or own) digit heights tall
SPLIT_ASPECT = 1.3  # a blob wider than 1.3x its height holds two or more digits
DIGIT_ASPECT = 0.75  # typical width / height of one handwritten digit, for counting them
CUT_SEARCH = 0.25  # look for the thinnest column within this share of a digit width of a cut
MAX_PARTS = 6  # never read one blob as more digits than this
PAD = 2  # pixels of paper kept around each crop


@dataclass
class Candidate:
    """A probable digit at working size: its box and its own ink, masked."""

    box: tuple[int, int, int, int]  # x, y, w, h in working pixels
    crop: np.ndarray  # uint8 ink (0 paper) around the box; other components' ink zeroed
    blob: int = -1  # index of the wide blob it was cut from (-1: a blob of its own)
    parts: int = 1  # how many digits that blob was cut into in this reading of it


def components(binary: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Label image and stats rows (x, y, w, h, area) of the 8-connected ink blobs."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    return labels, stats


def merge_pieces(boxes: list[list], tall: float) -> list[list]:
    """Union pieces stacked in one column with a small vertical gap (a broken digit).

    Each item is [x, y, w, h, label_ids]; `tall` is the typical digit height,
    which caps the merged height so chains of specks never glue a column together.
    One sweep in x order with union-find: near-linear, so noisy frames stay cheap.
    """
    items = sorted(boxes, key=lambda b: b[0])
    parent = list(range(len(items)))
    union = [list(b) for b in items]

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(items):
        for j in range(i + 1, len(items)):
            if items[j][0] > a[0] + a[2]:
                break  # sorted by x: no later piece overlaps a in x
            ri, rj = root(i), root(j)
            if ri != rj and _same_digit(union[ri], union[rj], tall):
                u, v = union[ri], union[rj]
                x0, y0 = min(u[0], v[0]), min(u[1], v[1])
                x1, y1 = max(u[0] + u[2], v[0] + v[2]), max(u[1] + u[3], v[1] + v[3])
                union[ri] = [x0, y0, x1 - x0, y1 - y0, u[4] + v[4]]
                parent[rj] = ri
    return [union[i] for i in range(len(items)) if root(i) == i]


def _same_digit(a: list, b: list, tall: float) -> bool:
    overlap = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    if overlap < MERGE_OVERLAP * min(a[2], b[2]):
        return False
    gap = max(a[1], b[1]) - min(a[1] + a[3], b[1] + b[3])
    height = max(a[1] + a[3], b[1] + b[3]) - min(a[1], b[1])
    return gap < MERGE_GAP * tall and height <= MERGE_HEIGHT * max(tall, a[3], b[3])


def cut_columns(mask: np.ndarray, parts: int) -> list[int]:
    """x positions splitting a blob into `parts` digits: thinnest column near each equal cut."""
    w = mask.shape[1]
    ink = (mask > 0).sum(axis=0)
    step = w / parts
    reach = max(1, int(CUT_SEARCH * step))
    cuts = []
    for i in range(1, parts):
        x = int(i * step)
        lo, hi = max(1, x - reach), min(w - 1, x + reach + 1)
        cuts.append(lo + int(np.argmin(ink[lo:hi])) if hi > lo else x)
    return cuts


def typical_height(items: list[list]) -> float:
    """Median height of the plausible digit-shaped blobs (thin rules do not vote)."""
    heights = [h for x, y, w, h, _ in items if w >= 0.15 * h and w <= 3 * h]
    return float(np.median(heights)) if heights else 0.0


def estimate_height(binary: np.ndarray) -> float:
    """Typical digit height before any line removal, from a quarter-size copy (cheap).

    Lets the line remover tell a ruled line from the long stroke of a big digit.
    """
    f = 4 if min(binary.shape) >= 200 else 1
    small = binary[::f, ::f] if f > 1 else binary
    _, stats = components(small)
    H, W = small.shape
    min_h = max(MIN_HEIGHT_PX, MIN_HEIGHT_SHARE * max(binary.shape)) / f
    items = [[x, y, w, h, None] for x, y, w, h, a in stats[1:]
             if h >= min_h and h <= MAX_SIZE_SHARE * H and w <= MAX_SIZE_SHARE * W]
    return typical_height(items) * f


def find_candidates(ink: np.ndarray, binary: np.ndarray) -> list[Candidate]:
    """Ink map + binary (working size, lines removed) -> candidates in reading-agnostic order."""
    H, W = binary.shape
    labels, stats = components(binary)
    min_h = max(MIN_HEIGHT_PX, MIN_HEIGHT_SHARE * max(H, W))
    pieces = [[int(x), int(y), int(w), int(h), [i]] for i, (x, y, w, h, area) in enumerate(stats)
              if i > 0 and area >= 4 and max(w, h) >= min_h / 3]
    tall = typical_height([p for p in pieces if p[3] >= min_h])
    items = [b for b in merge_pieces(pieces, tall)
             if b[3] >= min_h and b[3] <= MAX_SIZE_SHARE * H and b[2] <= MAX_SIZE_SHARE * W]
    tall = typical_height(items)
    out: list[Candidate] = []
    for blob, (x, y, w, h, ids) in enumerate(items):
        if len(items) >= 3 and h < SMALL_SHARE * tall:
            continue
        if h > MAX_SLENDER * w:
            continue
        out.extend(_crops(ink, labels, x, y, w, h, ids, blob))
    return out


def _crops(ink: np.ndarray, labels: np.ndarray, x: int, y: int, w: int, h: int, ids: list,
           blob: int) -> list[Candidate]:
    """The masked crop(s) of one blob: one digit, or alternative cuts when it is too wide for one.

    A wide blob is cut into k-1, k and k+1 digits (k from its aspect); all the
    pieces go into the frame's one classifier batch and the pipeline keeps the
    reading the classifier is surest of (see choose_cuts).
    """
    H, W = ink.shape
    x0, y0 = max(0, x - PAD), max(0, y - PAD)
    x1, y1 = min(W, x + w + PAD), min(H, y + h + PAD)
    own = np.isin(labels[y0:y1, x0:x1], ids).astype(np.uint8)
    own = cv2.dilate(own, np.ones((3, 3), np.uint8))  # keep the anti-aliased edge of the stroke
    crop = ink[y0:y1, x0:x1] * own
    if w <= SPLIT_ASPECT * h:
        return [Candidate((x, y, w, h), crop)]
    k = max(2, int(round(w / (DIGIT_ASPECT * h))))
    out = [Candidate((x, y, w, h), crop, blob, 1)] if w <= MAX_ASPECT * h else []
    for parts in range(max(2, k - 1), min(k + 1, MAX_PARTS) + 1):
        out += _cut(crop, own, x, y0, x - x0, w, parts, blob)
    return out


def _cut(crop, own, x: int, y0: int, dx: int, w: int, parts: int, blob: int) -> list[Candidate]:
    """One reading of a wide blob: `parts` pieces cut at the thinnest columns."""
    edges = [0] + cut_columns(own[:, dx: dx + w], parts) + [w]
    out = []
    for a, b in zip(edges[:-1], edges[1:]):
        piece = crop[:, dx + a: dx + b]
        ys = np.nonzero(piece.any(axis=1))[0]
        if len(ys) == 0 or b - a < 2:
            return []  # an empty piece: this reading is impossible
        py0, py1 = int(ys[0]), int(ys[-1]) + 1
        out.append(Candidate((x + a, y0 + py0, b - a, py1 - py0), piece[py0:py1], blob, parts))
    return out


def choose_cuts(found: list[Candidate], score: np.ndarray) -> np.ndarray:
    """Keep one reading per wide blob: the one most likely to be all right (product of scores).

    A product rather than a mean: every extra cut must pay for itself, so a
    confident classifier on fragments cannot talk a blob into too many digits.

    score: per candidate, how sure the classifier is it is a digit (e.g. digit
    probability times one minus the reject probability). Returns a keep mask.
    """
    keep = np.ones(len(found), bool)
    options: dict[int, dict[int, list[int]]] = {}
    for i, c in enumerate(found):
        if c.blob >= 0:
            options.setdefault(c.blob, {}).setdefault(c.parts, []).append(i)
    for readings in options.values():
        best = max(readings, key=lambda k: float(np.sum(np.log(score[readings[k]] + 1e-6))))
        for k, idx in readings.items():
            if k != best:
                keep[idx] = False
    return keep
