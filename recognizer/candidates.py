"""Binary frame -> digit candidates: boxes plus masked ink crops, one per probable digit.

Second stage of the flow. Connected components are the raw material; a digit
is rarely exactly one component, so this module
- drops specks, dashes and line residue by size (relative to the frame and to
  the other candidates), aspect and fill,
- merges pieces of one broken digit (the detached bar of a 5, a gap in a 4):
  pieces stacked in the same column with a small vertical gap,
- drops what no digit is: clusters of specks (dots, a colon) and wide blobs
  that one stroke crosses once per column (dashes, waves, scribbles),
- over-segments touching digits: a blob wider than a digit is cut where its
  outline pinches (and along the cheapest seam elsewhere), each cut following
  the least-ink path between the strokes rather than a straight column
  (`recognizer/cuts.py`), and
  every span between two cuts that could hold one digit becomes a candidate;
  after the frame's one classifier call, `choose_cuts` keeps the chain of
  spans the classifier believes most (recognition-driven segmentation, as in
  cheque and postcode readers),
- and hands each candidate a crop of the ink map where every pixel that is not
  its own ink is zeroed, so neighbours never leak into the 28x28 image.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from recognizer.cuts import cut_sets, enclosed
from recognizer.lines import any_angle
from recognizer.numeric import median
from recognizer.preprocess import min_digit_height, otsu_level
from recognizer.results import union_box

MAX_SIZE_SHARE = 0.95  # taller AND wider than this share of the frame: page edge, not a digit
SMALL_SHARE = 0.55  # shorter than this share of the typical candidate: a dot, comma or speck
LOOP_SHARE = 0.35  # ... unless, cut from a wide blob, at least this share and a closed loop ...
LOOP_FILL = 0.03  # ... around at least this share of its box (a small 0)
DOT_SHARE = 0.5  # a merged candidate made only of round pieces under this share of the typical height ...
DOT_ROUND = 0.6  # ... (round: the narrow side at least this share of the long side) ...
DOT_FILL = 0.65  # ... and filled (this share of its box inked; a disc fills 0.79) is dots, not a digit
MAX_ASPECT = 3.5  # wider than tall by more than this after splitting: a dash or line residue
MAX_SLENDER = 15.0  # taller than wide by more than this: a rule, not a 1
MERGE_OVERLAP = 0.5  # pieces sharing this share of the narrower one's width are one digit ...
MERGE_GAP = 0.3  # ... when the vertical gap is below this share of the typical digit height
MERGE_HEIGHT = 1.25  # ... and the union is at most this many typical (or own) digit heights tall ...
CAP_HEIGHT = 1.5  # ... or this many, when the upper piece is a flat bar (a 5's cap written apart) ...
CAP_FLAT = 2.5  # ... at least this many times wider than thick ...
CAP_WIDE = 1.5  # ... and at most this many times as wide as the piece under it (not an overline)
SPECK_SIDE = 0.25  # a piece whose long side is under this share of the typical height is a speck ...
SPECK_REACH = 0.2  # ... and stays in a merged candidate only this near (share of the typical height) its strokes
SPLIT_ASPECT = 1.0  # a blob wider than its height may hold two touching digits (a 7 with a long stem and a 0: 1.05) ...
PAIR_WIDTH = 1.1  # ... cut when also this many typical digit heights wide (a lone 0 is not; cutting those: 2 ms a demo frame)
PAIR_ASPECT = 1.1  # a wider blob is always cut; one at most this much wider than tall is read as two digits only ...
PAIR_SCORE = 0.8  # ... when every piece scores this much; else whole (one digit, or a letter cut in two 1s)
ONE_STROKE = 0.05  # a blob wider than PAIR_ASPECT with at most this share of its columns meeting ink twice: a dash
MAX_PIECE = 1.8  # a piece between two cut points is at most this many digit heights wide
SKIP_SCORE = 0.8  # leaving a small appendage of a blob out of its reading costs like a 0.8 score
NARROW = 0.25  # a piece cut from a blob narrower than this share of its height is often a sliver ...
NARROW_SCORE = 0.5  # ... of a neighbour's stroke: its score counts this much
MIN_READING = 0.5  # a wide blob's best reading must score this per piece (geometric mean) to count ...
MIN_PIECE_SCORE = 0.5  # ... and every piece of it this much (a scribble cut into "digits" has a weak one) ...
WEAK_PIECE_SCORE = 0.25  # ... or this much, when the pieces score at least STRONG_READING (geometric mean)
STRONG_READING = 0.6  # (a run of 0s with one scrawled: 1.00 0.86 0.30, mean 0.64)
LINE_SPAN = 0.72  # ... and its pieces must span this share of the blob's height on average (short closed loops aside)
PAD = 2  # pixels of paper kept around each crop
SHARP_BELOW = 24  # blobs shorter than this (working px) are cropped from the unblurred ink map
CORE_SHARE = 0.7  # a wide blob is cut where its strokes' cores (ink above this share of its own Otsu split) pinch
MESH_HOLES = 4  # a blob with more holes than this (at quarter size) is a grid: squared paper, a table ...
SPARSE_FILL = 0.3  # ... and on such a page a blob inking less of its box than this (there) is a piece of it too
THING_TALL = 2.0  # a blob this many typical digit heights tall may be a thing in view (a pen) with digits stuck to it ...
THING_RUN = 3.0  # ... whose straight runs this many typical heights long (any angle) are cut away (OBJECT_HUGE in pipeline)
THING_NEAR = 0.3  # a piece left with THING_SHARE of its ink within this many typical heights of the cut runs ...
THING_SHARE = 0.5  # ... is a remnant of the thing (an edge, its rounded end), as is ...
THING_PIECE = 1.5  # ... one this many typical heights tall: only digit-sized pieces go on
SQUARE3 = np.ones((3, 3), np.uint8)


@dataclass
class Candidate:
    """A probable digit at working size: its box and its own ink, masked."""

    box: tuple[int, int, int, int]  # x, y, w, h in working pixels
    crop: np.ndarray  # uint8 ink (0 paper) around the box; other components' ink zeroed
    blob: int = -1  # index of the wide blob it was cut from (-1: a blob of its own)
    parts: int = 1  # 1: a whole blob; 2: a piece cut from a wider one
    span: tuple[int, int] = (0, 1)  # which cut points of its blob it lies between
    ends: int = 1  # index of the blob's last cut point
    specks: bool = False  # only round specks merged (dots, a colon): no stroke of a digit
    tail: bool = False  # a piece under SMALL_SHARE of its blob's tallest (or the typical digit): only left out, never read


def components(binary: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Label image and stats rows (x, y, w, h, area, holes) of the 8-connected ink blobs (row 0: paper).

    Boxes come from the blobs' outer contours, which is ten times cheaper here than
    connectedComponentsWithStats; each contour is matched to its label through
    one of its own pixels. `area` is the box area (only used to drop specks);
    `holes` counts the blob's inner contours (a grid has many, an 8 two).
    """
    n, labels = cv2.connectedComponents(binary, connectivity=8)
    stats = np.zeros((n, 6), np.int32)
    contours, hierarchy = cv2.findContours(binary, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return labels, stats
    parents = hierarchy[0][:, 3]  # RETR_CCOMP: holes one level down, their parent the blob's outer contour
    holes = np.bincount(parents[parents >= 0], minlength=len(contours))
    outer = np.flatnonzero(parents == -1).tolist()
    if outer:  # per contour only what needs it (its box); the rest in whole-array steps
        first = np.array([contours[i][0, 0] for i in outer])
        boxes = np.array([cv2.boundingRect(contours[i]) for i in outer], np.int32)
        stats[labels[first[:, 1], first[:, 0]]] = np.column_stack([boxes, boxes[:, 2] * boxes[:, 3], holes[outer]])
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
    """Are two boxes stacked in one column pieces of one digit?

    The union may be a little taller than a digit (a descender, a loop drawn
    apart), never much: a speck or a stroke of the next line would change
    the digit. A flat bar on top may add more: the cap of a 5 is often
    written as a separate stroke, and writers swing it wide and high, so the
    5 with its cap stood 1.26-1.4 typical heights and was read without it
    (a 5 without its cap reads 2 or 7).
    """
    overlap = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    if overlap < MERGE_OVERLAP * min(a[2], b[2]):
        return False
    gap = max(a[1], b[1]) - min(a[1] + a[3], b[1] + b[3])
    height = max(a[1] + a[3], b[1] + b[3]) - min(a[1], b[1])
    top, low = (a, b) if a[1] < b[1] else (b, a)
    cap = top[2] >= CAP_FLAT * top[3] and top[2] <= CAP_WIDE * low[2]
    return gap < MERGE_GAP * tall and height <= (CAP_HEIGHT if cap else MERGE_HEIGHT) * max(tall, a[3], b[3])


def one_stroke(mask: np.ndarray) -> bool:
    """Does one stroke run across this wide blob, every column meeting its ink once?

    A dash, an underline, a wave or a zig-zag scribble crosses each column of
    its box once. No digit wider than tall does: the loops of 0 6 8 9, the bar
    and body of 2 3 5 7 and the arms of 4 put ink twice in some columns, and so
    does any string of touching digits (only a lone 1 is a single crossing, and
    it is not wide). ONE_STROKE is the share of columns allowed a second
    crossing (a blot, a frayed stroke end).
    """
    on = mask.astype(np.int8)
    starts = np.diff(on, axis=0, prepend=0) == 1  # a run of ink begins in this row
    return float((starts.sum(axis=0) >= 2).mean()) <= ONE_STROKE


def digit_shaped(w, h):
    """Could a box this wide and tall hold a digit (or a few)? Thin rules and long dashes cannot.
    Works on numbers and on numpy arrays of them alike."""
    return (w >= 0.15 * h) & (w <= 3 * h)


def typical_height(items: list[list]) -> float:
    """Median height of the plausible digit-shaped blobs (thin rules do not vote)."""
    heights = [h for x, y, w, h, _ in items if digit_shaped(w, h)]
    return median(heights) if heights else 0.0


def estimate_height(binary: np.ndarray) -> float:
    """Typical digit height before any line removal, from a quarter-size copy (cheap).

    Lets the line remover tell a ruled line from the long stroke of a big digit.
    Each blob votes with its height: a frame of a few big digits (a page held up
    close to the camera) also holds specks and the crumbs a quarter-size copy
    makes of thin marks, and counted one each they outvoted the digits, so a
    digit's long strokes were taken for ruled lines and cut out. On squared
    paper the digits join the grid, whose pieces in the quarter-size copy
    (crosses, corners of cells) set the estimate at three or four digit
    heights, and no grid line was long enough to be removed: whole pages were
    lost. Where a grid is seen (a blob with more than MESH_HOLES holes), neither it
    nor the blobs inking under SPARSE_FILL of their box vote (a dense grid's
    pieces measured 0.20-0.26 of theirs; most digits at quarter size ink more).
    Only there: a big digit drawn with a thin pen is as sparse, and alone on
    a phone photo it must still set the estimate.
    """
    f = 4 if min(binary.shape) >= 200 else 1
    small = np.ascontiguousarray(binary[::f, ::f])  # OpenCV would copy a strided view once per call
    labels, stats = components(small)
    H, W = small.shape
    min_h = min_digit_height(binary.shape) / f
    w, h, grid = stats[1:, 2], stats[1:, 3], stats[1:, 5] > MESH_HOLES
    keep = (h >= min_h) & (h <= MAX_SIZE_SHARE * H) & (w <= MAX_SIZE_SHARE * W)  # one pass, not a loop over rows
    keep &= digit_shaped(w, h)  # as typical_height counts them
    if grid.any():
        ink = np.bincount(labels.ravel(), minlength=len(stats))[1:]  # pixels, not the box area
        keep &= ~grid & (ink >= SPARSE_FILL * w * h)
    heights = np.sort(h[keep])
    if not len(heights):
        return 0.0
    half = np.searchsorted(np.cumsum(heights), heights.sum() / 2)  # the height-weighted median
    return float(heights[half]) * f


def find_candidates(ink: np.ndarray, binary: np.ndarray, sharp: np.ndarray) -> list[Candidate]:
    """Ink map + binary (working size, lines removed) -> candidates in reading-agnostic order.

    sharp: the unblurred ink map; blobs under SHARP_BELOW px tall take their crops from it.
    The frame is blurred before thresholding (noise, halftone), which costs a small
    digit's crop a large share of its stroke: at 13 px the classifier refused most of them.
    """
    H, W = binary.shape
    labels, stats = components(binary)
    min_h = min_digit_height((H, W))
    big = (stats[:, 4] >= 4) & (np.maximum(stats[:, 2], stats[:, 3]) >= min_h / 3)
    big[0] = False  # row 0: paper
    pieces = [[*stats[i, :4].tolist(), [i]] for i in np.flatnonzero(big).tolist()]
    tall = typical_height([p for p in pieces if p[3] >= min_h])
    items = [b for b in merge_pieces(pieces, tall)
             if b[3] >= min_h and not (b[3] > MAX_SIZE_SHARE * H and b[2] > MAX_SIZE_SHARE * W)]
    tall = typical_height(items)
    if tall > 0 and any(b[3] >= THING_TALL * tall for b in items):
        items, stats = _unstick(items, labels, stats, tall)
    items = [_without_stray_specks(b, labels, stats, tall) if len(b[4]) > 1 else b for b in items]
    found: list[list[Candidate] | _WideBlob] = []
    specks: list[bool] = []
    for blob, (x, y, w, h, ids) in enumerate(items):
        if len(items) >= 3 and h < SMALL_SHARE * tall:
            continue
        if h > MAX_SLENDER * w:
            continue
        source = sharp if h < SHARP_BELOW else ink
        found.append(_crops(source, labels, x, y, w, h, ids, blob, tall))
        specks.append(len(ids) > 1 and all(_is_dot(labels, stats[i], i, tall) for i in ids))
    wide = [k for k, f in enumerate(found) if isinstance(f, _WideBlob)]
    for k, (cuts, paths) in zip(wide, cut_sets([(found[k].core, found[k].h) for k in wide])):
        found[k] = _pieces(found[k], cuts, paths, tall)  # all wide blobs share one cut-path pass
    out: list[Candidate] = []
    for blob_found, dots in zip(found, specks):
        for c in blob_found:
            c.specks = dots
        out.extend(blob_found)
    return out


def _without_stray_specks(item: list, labels: np.ndarray, stats: np.ndarray, tall: float) -> list:
    """A merged candidate without the specks that do not nearly touch its strokes.

    Pieces join by their boxes (merge_pieces), and on grainy or patterned
    paper (a cheque's guilloche, a book's halftone) specks lie within a
    digit's reach: the grain above a small 0 beside a tall 2 joined their
    blob, and the 0's box reached up to the 2's top (ORAND's 256200 read
    right, its 0s boxed 2.4 times too tall). A speck (under SPECK_SIDE of a
    digit) stays only within SPECK_REACH of a bigger piece's ink; a candidate
    made of specks alone (a digit dotted or broken into crumbs) is kept whole.
    """
    ids = item[4]
    side = np.maximum(stats[ids, 2], stats[ids, 3])
    small = side < SPECK_SIDE * tall
    if small.all() or not small.any():
        return item
    strokes = [i for i, s in zip(ids, small) if not s]
    reach = max(1, int(SPECK_REACH * tall))
    kept = strokes + [i for i, s in zip(ids, small) if s and _touches(stats[i], strokes, labels, reach)]
    if len(kept) == len(ids):
        return item
    return [*union_box(stats[kept, :4].tolist()), kept]


def _touches(box, ids: list, labels: np.ndarray, reach: int) -> bool:
    """Does ink of blobs `ids` lie within `reach` pixels of this box (x, y, w, h, ...)?"""
    x, y, w, h = (int(v) for v in box[:4])
    window = labels[max(0, y - reach): y + h + reach, max(0, x - reach): x + w + reach]
    return bool(np.isin(window, ids).any())


def _unstick(items: list[list], labels: np.ndarray, stats: np.ndarray, tall: float):
    """Free the digits stuck to a thing in view: cut the straight runs out of very tall blobs.

    A pen lying on the page, or held over it, touches the digits in its way
    and made one huge blob with them, refused whole as a thing. No digit has a
    straight stroke THING_RUN typical digit heights long (a digit that tall is
    a thing to `pipeline.things` too), so such runs, at any angle, are the
    thing; without them the digits come apart from it. What is left of the
    thing itself (its edges' ends, its rounded tip) lies along the cut runs or
    is taller than a digit, and goes. `labels` is relabelled in place; returns
    the items and the stats with rows for the new labels.
    """
    out, rows, base = [], [stats], len(stats)
    for item in items:
        cut = _cut_thing(item, labels, stats, tall, base)
        if cut is None:
            out.append(item)
            continue
        rows.append(cut[0])
        out += cut[1]
        base += len(cut[0])
    return out, np.concatenate(rows)


def _cut_thing(item: list, labels: np.ndarray, stats: np.ndarray, tall: float, base: int):
    """One blob without its long straight runs: (stats rows of its pieces, labelled from `base` on
    in `labels`, the items of those that may be digits); None when the blob is no such thing
    (not THING_TALL, a grid's mesh, or no run that long)."""
    x, y, w, h, ids = item
    if h < THING_TALL * tall or stats[ids, 5].sum() > MESH_HOLES:
        return None
    window = labels[y:y + h, x:x + w]
    own = np.isin(window, ids)
    runs = any_angle(own.view(np.uint8) * 255, int(THING_RUN * tall)) > 0
    if not runs.any():
        return None
    sub, st = components((own & ~runs).view(np.uint8))
    window[own] = np.where(sub[own] > 0, sub[own] + base - 1, 0)
    st = st[1:] + np.array([x, y, 0, 0, 0, 0], np.int32)  # rows as every blob's, in frame pixels
    ink = np.bincount(sub.ravel(), minlength=len(st) + 1)[1:]
    near = cv2.distanceTransform((~runs).view(np.uint8), cv2.DIST_L2, 3) < THING_NEAR * tall
    along = np.bincount(sub[near], minlength=len(st) + 1)[1:] / np.maximum(ink, 1)
    digit_sized = (np.maximum(st[:, 2], st[:, 3]) >= tall / 3) & (st[:, 3] <= THING_PIECE * tall)
    keep = digit_sized & (ink >= 4) & (along < THING_SHARE)
    items = [[*st[k, :4].tolist(), [base + k]] for k in np.flatnonzero(keep).tolist()]
    return st, items


def _is_dot(labels: np.ndarray, stat: np.ndarray, label: int, tall: float) -> bool:
    """A round filled speck (a period, a colon's dot, a blot): as wide as tall, under DOT_SHARE of
    a digit, its box at least DOT_FILL inked.

    A digit broken by a faint stroke falls apart into strokes (a bar, an arc,
    a stem: long and thin) or open loops (the rings of an 8: hollow); pieces
    that are all small filled dots were dotted, not written as a digit.
    """
    x, y, w, h = (int(v) for v in stat[:4])
    if max(w, h) >= DOT_SHARE * tall or min(w, h) < DOT_ROUND * max(w, h):
        return False
    return np.count_nonzero(labels[y:y + h, x:x + w] == label) >= DOT_FILL * w * h


@dataclass
class _WideBlob:
    """A blob wider than one digit, waiting for its cut points (cut_sets) to become pieces."""

    core: np.ndarray  # the cores of its strokes within its box, where cut points are looked for (stroke_cores)
    crop: np.ndarray  # its masked ink, the box's columns of the padded window
    x: int
    y0: int  # top of the padded window
    w: int
    h: int
    blob: int


def _crops(ink: np.ndarray, labels: np.ndarray, x: int, y: int, w: int, h: int, ids: list,
           blob: int, tall: float) -> list[Candidate] | _WideBlob:
    """The masked crop of one blob: one digit, none (one stroke), or a wide blob to cut (_pieces).

    A wide blob (touching digits) is over-segmented: every span between two
    possible cut points that could hold one digit becomes a candidate. All go
    into the frame's one classifier batch; choose_cuts then keeps the sequence
    of spans the classifier finds most likely (recognition-driven segmentation).
    """
    H, W = ink.shape
    x0, y0 = max(0, x - PAD), max(0, y - PAD)
    x1, y1 = min(W, x + w + PAD), min(H, y + h + PAD)
    window = labels[y0:y1, x0:x1]
    own = (window == ids[0] if len(ids) == 1 else np.isin(window, ids)).astype(np.uint8)
    surely_wide = w > PAIR_ASPECT * h
    wide = surely_wide or (w > SPLIT_ASPECT * h and 0 < PAIR_WIDTH * tall < w)
    dx = x - x0
    if surely_wide and one_stroke(own[:, dx: dx + w]):
        return []
    own = cv2.dilate(own, SQUARE3)  # keep the anti-aliased edge of the stroke
    crop = ink[y0:y1, x0:x1] * own
    if not wide:
        return [Candidate((x, y, w, h), crop)]
    crop = crop[:, dx: dx + w]
    return _WideBlob(stroke_cores(crop), crop, x, y0, w, h, blob)


def stroke_cores(crop: np.ndarray) -> np.ndarray:
    """A crop's strokes without their faint edges: ink above CORE_SHARE of its own Otsu split.

    The frame's threshold is set low for faint pens, and the crop's mask is
    dilated to keep anti-aliased edges; on heavy cheque writing that mask
    closes the loops of small 0s and thickens the joints between touching
    digits, so the outline no longer pinches where they meet. Cut on the cores
    (ORAND test strings read exactly 71% -> 74%), crop from the full ink.
    """
    values = crop[crop > 0]
    if values.size == 0:
        return crop
    level = CORE_SHARE * otsu_level(values.reshape(1, -1))
    return (crop > level).astype(np.uint8)


def _pieces(wide: _WideBlob, cuts: list[int], paths: np.ndarray, tall: float) -> list[Candidate]:
    """Every span between two cut points of a wide blob that could hold one digit, as a candidate.

    tall: the frame's typical candidate height; a piece under SMALL_SHARE of it
    (or of the blob's tallest piece, when shorter) is a tail.
    """
    x, y0, w, h = wide.x, wide.y0, wide.w, wide.h
    out = []
    for i, a in enumerate(cuts):
        for j in range(i + 1, len(cuts)):
            b = cuts[j]
            if b - a > MAX_PIECE * h:
                break
            whole = (i, j) == (0, len(cuts) - 1)
            if whole and w > MAX_ASPECT * h:
                continue
            piece = _between(wide.crop, paths[i], paths[j])
            if piece is not None:
                (px, py, pw, ph), ink_piece = piece
                out.append(Candidate((x + px, y0 + py, pw, ph), ink_piece, wide.blob, 1 if whole else 2, (i, j),
                                     len(cuts) - 1))
    tallest = max((c.box[3] for c in out), default=0)
    if tall > 0:
        tallest = min(tallest, tall)  # a 7 with a long tail beside a small 0: the 0 is no tail
    for c in out:
        short = c.box[3] < SMALL_SHARE * tallest
        c.tail = short and not (c.box[3] >= LOOP_SHARE * tallest and _has_loop(c.crop))
    return out


def _has_loop(crop: np.ndarray) -> bool:
    """Does a piece's ink enclose paper (a closed loop, LOOP_FILL of its box at least)?

    Appendages are open strokes (a 7's tail, a comma, a joining stroke), but a
    closed loop is a digit: the small 0s of cents beside a tall 2 stand half
    its height, and were left out of "200" as its tails.
    """
    return np.count_nonzero(enclosed(crop > 0)) >= LOOP_FILL * crop.size


def _between(ink: np.ndarray, left: np.ndarray, right: np.ndarray):
    """The ink between two cut paths (per row: left <= column < right), trimmed to its box.

    Returns ((x, y, w, h) within `ink`, the trimmed piece), or None when no ink lies between.
    """
    xa, xb = int(left.min()), int(right.max())
    cols = np.arange(xa, xb)[None, :]
    piece = ink[:, xa:xb] * ((cols >= left[:, None]) & (cols < right[:, None]))
    x0, y0, pw, ph = cv2.boundingRect(piece)  # box of the nonzero pixels, one call
    if pw == 0:
        return None
    return (xa + x0, y0, pw, ph), piece[y0:y0 + ph, x0:x0 + pw]


def choose_cuts(found: list[Candidate], score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keep one reading per wide blob: the chain of spans from its left to its right end
    with the highest product of scores (dynamic programming over the cut points).

    A product: every extra cut must pay for itself, so a classifier confident on
    fragments cannot talk a blob into too many digits. score: per candidate, how
    sure the classifier is it is one digit. Returns (keep, veto) masks over `found`:
    veto marks kept pieces of a blob whose best reading is still unconvincing
    (`_convincing`), to be rejected as not digits. A blob hardly wider than
    tall is read whole unless every piece is sure (`_better_whole`).
    """
    keep = np.ones(len(found), bool)
    veto = np.zeros(len(found), bool)
    spans: dict[int, dict[tuple[int, int], int]] = {}
    for i, c in enumerate(found):
        if c.blob >= 0:
            spans.setdefault(c.blob, {})[c.span] = i
            keep[i] = False
    logs = np.log(np.asarray(score, np.float64) + 1e-6)
    for blob, by_span in spans.items():
        end = found[next(iter(by_span.values()))].ends
        tall = max(found[k].box[3] for k in by_span.values())
        best = {0: (0.0, [])}
        for j in range(1, end + 1):
            options = []
            for (i, jj), k in by_span.items():
                if jj != j or i not in best:
                    continue
                x, y, w, h = found[k].box
                if found[k].tail:  # a tail, a bar, a dash, a comma: left out, never a digit
                    options.append((best[i][0] + np.log(SKIP_SCORE), best[i][1]))
                    continue
                sliver = np.log(NARROW_SCORE) if w < NARROW * h else 0.0
                options.append((best[i][0] + logs[k] + sliver, best[i][1] + [k]))
            if options:
                best[j] = max(options, key=lambda o: o[0])
        if end in best and best[end][1]:
            pieces = best[end][1]
            whole = by_span.get((0, end))
            if whole is not None and pieces != [whole] and _better_whole(found[whole].box, logs[pieces]):
                pieces = [whole]
            keep[pieces] = True
            if not _convincing(found, logs, pieces, tall):
                veto[pieces] = True  # no reading is convincing: a scribble or a word
    return keep, veto


def _better_whole(box: tuple[int, int, int, int], logs: np.ndarray) -> bool:
    """Is a blob hardly wider than tall (PAIR_ASPECT), cut into these pieces, better read whole?

    Two touching digits are often no wider than tall (a 7 with a long stem and
    a small 0), and are cut from SPLIT_ASPECT on; but so are an n, a u or a
    zig-zag, whose halves read as 1s or a 6 and a 5, or one half a 1 and the
    other left out as a tail. Unless the reading has two pieces or more, each
    sure (PAIR_SCORE), the blob stays one candidate. logs: the reading's pieces' log scores.
    """
    return box[2] <= PAIR_ASPECT * box[3] and (len(logs) < 2 or logs.min() < np.log(PAIR_SCORE))


def _convincing(found: list[Candidate], logs: np.ndarray, pieces: list[int], tall: int) -> bool:
    """Is this reading of a wide blob (its kept pieces) believable as touching digits?

    The classifier must like it as a whole (geometric mean of the scores at
    least MIN_READING) and every piece (each at least MIN_PIECE_SCORE): a
    scribble or a word cut into glyphs rarely makes every piece a digit. One
    weaker piece (WEAK_PIECE_SCORE) passes in a reading strong as a whole
    (STRONG_READING): a run of touching 0s with one scrawled was refused whole
    (1000 read 1), while letters run together ("ffH", "CxC") make one clear
    "digit" and one or two poor ones.
    And the pieces must fill the blob's height (on average LINE_SPAN of it):
    the digits of one number stand on one line at one size, so touching digits
    make a blob hardly taller than each of them, while a stroke that climbs or
    zig-zags (a scribble, a flourish) makes a tall blob of short pieces. A
    piece shorter than the rest but a closed loop does not count against it:
    the small 0s of cents beside a tall 2 ("200") are digits, not a stroke.
    """
    scores = logs[pieces]
    weakest = MIN_PIECE_SCORE if scores.mean() < np.log(STRONG_READING) else WEAK_PIECE_SCORE
    if scores.mean() < np.log(MIN_READING) or scores.min() < np.log(weakest):
        return False
    heights = [found[k].box[3] for k in pieces]
    if len(pieces) < 2 or np.mean(heights) >= LINE_SPAN * tall:
        return True
    counted = [h for k, h in zip(pieces, heights) if h >= LINE_SPAN * tall or not _has_loop(found[k].crop)]
    return len(counted) < len(pieces) and (not counted or np.mean(counted) >= LINE_SPAN * tall)

