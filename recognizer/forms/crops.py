"""Cut the handwriting out of a cell or a field as MNIST-ready crops.

Input is ink with the printed lines already removed (grid.Grid.ink). What is left
of a line at a cell's edge is thin and hugs the border; a digit is the biggest
blob near the middle plus its broken-off strokes. Crops are the pen's own gray
levels, masked to the chosen strokes, so neighbouring ink never leaks in.
"""
from __future__ import annotations

import cv2
import numpy as np

MIN_DIGIT_HEIGHT = 0.22  # of the cell height: smaller ink is a dot or a smudge, the cell is blank
SPECKLED = 0.3  # a cell with more ink than this share is printed shading, opened to drop its dots
TOUCHING_WIDTH = 1.1  # of the writing height: a blob this wide is two digits touching
BORDER_BAND = 0.12  # of the cell size: thin ink inside this band along an edge is a line remnant


def components(ink: np.ndarray, min_area: int = 4):
    """Connected components as (stats rows x, y, w, h, area; label image)."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    keep = [i for i in range(1, n) if stats[i, 4] >= min_area]
    return labels, {i: stats[i] for i in keep}


def is_border_remnant(s, w: int, h: int) -> bool:
    """A thin sliver lying along the cell edge: left over from a box line or its shadow."""
    x, y, bw, bh, _ = s
    bx = by = max(2, int(BORDER_BAND * min(w, h)))  # a wide box's band is as thin as a cell's
    near_side = x + bw <= bx or x >= w - bx
    near_top = y + bh <= by or y >= h - by
    thin = min(bw, bh) <= max(3, 0.06 * min(w, h))
    return near_side or near_top or (thin and (x <= 1 or y <= 1 or x + bw >= w - 1 or y + bh >= h - 1)
                                     and max(bw / w, bh / h) > 0.5)


def digit_mask(ink: np.ndarray) -> np.ndarray | None:
    """Mask of the one digit in a cell's ink, or None when the cell is blank."""
    h, w = ink.shape
    if np.count_nonzero(ink) > SPECKLED * h * w:  # a halftone-shaded cell: its dots are not ink
        ink = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    labels, comps = components(ink, min_area=max(4, int(0.001 * h * w)))
    comps = {i: s for i, s in comps.items() if not is_border_remnant(s, w, h)}
    if not comps:
        return None
    main = max(comps, key=lambda i: comps[i][4])
    mx, my, mw, mh, ma = comps[main]
    if mh < MIN_DIGIT_HEIGHT * h and mw < MIN_DIGIT_HEIGHT * w:
        return None
    keep = [main]
    for i, (x, y, bw, bh, a) in comps.items():
        if i == main:
            continue
        gap_x = max(mx - (x + bw), x - (mx + mw), 0)
        gap_y = max(my - (y + bh), y - (my + mh), 0)
        near = gap_x <= 0.15 * w and gap_y <= 0.15 * h
        touching = gap_x + gap_y <= 4  # a piece cut off by a box line: keep even if small
        if (near and a >= 0.08 * ma) or touching:
            keep.append(i)
    return np.isin(labels, keep).astype(np.uint8) * 255


def masked_crop(gray: np.ndarray, mask: np.ndarray, pad: int = 2):
    """Light-on-dark crop of the masked strokes (pen gray levels kept) and its box (x, y, w, h)."""
    ys, xs = np.nonzero(mask)
    x0, x1 = max(xs.min() - pad, 0), min(xs.max() + pad + 1, mask.shape[1])
    y0, y1 = max(ys.min() - pad, 0), min(ys.max() + pad + 1, mask.shape[0])
    k = max(3, int(0.06 * max(y1 - y0, x1 - x0))) | 1  # take in the stroke's soft edges
    soft = cv2.dilate(mask, np.ones((k, k), np.uint8))[y0:y1, x0:x1]
    paper = float(np.percentile(gray, 90))
    ink = np.clip(paper - gray[y0:y1, x0:x1].astype(np.float32), 0, 255)
    ink = ink * (soft > 0)
    core = mask[y0:y1, x0:x1] > 0
    full = float(np.percentile(ink[core], 50)) if core.any() else float(ink.max())
    # the stroke's middle is full ink, as in MNIST, whatever the pen's colour and the light
    return np.clip(ink / max(full, 1.0), 0, 1), (int(x0), int(y0), int(x1 - x0), int(y1 - y0))


def cell_crop(gray: np.ndarray, ink: np.ndarray, box):
    """(crop, box in the table's pixels) for the digit in one cell, or None when blank."""
    x, y, w, h = box
    mask = digit_mask(ink[y:y + h, x:x + w])
    if mask is None:
        return None
    crop, (cx, cy, cw, ch) = masked_crop(gray[y:y + h, x:x + w], mask)
    return crop, (x + cx, y + cy, cw, ch)


def split_digits(ink: np.ndarray, tall: float = 0.5) -> list[tuple[np.ndarray, list[np.ndarray]]]:
    """(mask, pieces) of the digits written in a free box or on a ruled line, left to right.

    `pieces` is empty for a blob one digit wide, else the blob cut where two
    digits could be touching (split_touching): the classifier decides which
    reading is better, since a wide 2 or a 5 with a long bar looks just as wide.

    Every digit has one tall stroke blob; tall blobs that overlap horizontally are
    one digit. A short blob joins the digit it overlaps (the detached bar of a 5
    or 7, a broken loop); standing alone it is a digit written small if it is big
    enough, else a speck (dropped unless it touches a digit).
    """
    h, w = ink.shape
    labels, comps = components(ink, min_area=max(4, int(0.0005 * h * w)))
    comps = {i: s for i, s in comps.items() if not is_border_remnant(s, w, h)}
    if not comps:
        return []
    tallest = max(s[3] for s in comps.values())
    groups: list[list[int]] = []
    spans: list[list[int]] = []
    for i in sorted((i for i in comps if comps[i][3] >= tall * tallest), key=lambda i: comps[i][0]):
        x, _, bw, _, _ = comps[i]
        if spans and min(x + bw, spans[-1][1]) - max(x, spans[-1][0]) > 0.5 * min(bw, spans[-1][1] - spans[-1][0]):
            groups[-1].append(i)
            spans[-1] = [min(spans[-1][0], x), max(spans[-1][1], x + bw)]
        else:
            groups.append([i])
            spans.append([x, x + bw])
    typical = float(np.median([comps[i][4] for g in groups for i in g]))  # ink of a tall blob
    for i in sorted(comps, key=lambda i: comps[i][0]):
        x, _, bw, bh, area = comps[i]
        if bh >= tall * tallest:
            continue
        overlaps = [min(x + bw, sp[1]) - max(x, sp[0]) for sp in spans]
        gaps = [max(sp[0] - (x + bw), x - sp[1], 0) for sp in spans]
        if overlaps and max(overlaps) >= 0.3 * bw:  # a detached bar or loop of a digit
            groups[int(np.argmax(overlaps))].append(i)
        elif max(bw, bh) >= 0.35 * tallest and area >= 0.25 * typical:  # a digit written small
            groups.append([i])
            spans.append([x, x + bw])
        elif gaps and min(gaps) <= 0.1 * tallest:  # a speck of a neighbour's stroke
            groups[int(np.argmin(gaps))].append(i)
    order = sorted(range(len(groups)), key=lambda k: spans[k][0])
    groups, spans = [groups[k] for k in order], [spans[k] for k in order]
    out = []
    for g, span in zip(groups, spans):
        mask = np.isin(labels, g).astype(np.uint8) * 255
        pieces = split_touching(mask, span, tallest)
        out.append((mask, pieces if len(pieces) > 1 else []))
    return out


def split_touching(mask: np.ndarray, tall_span, height: int, wide: float | None = None) -> list[np.ndarray]:
    """Cut a blob of digits written into each other into single digits.

    Only the tall strokes' width counts (a 5's long detached bar is not a second
    digit). A blob `wide` times the writing height or wider is cut into about one
    piece per 0.8 heights, each cut at the column with the least ink near its
    even position.
    """
    wide = TOUCHING_WIDTH if wide is None else wide
    x0, x1 = tall_span
    width = x1 - x0
    if width <= max(wide * height, 8):
        return [mask]
    k = max(2, int(round(width / (0.8 * height))))
    profile = np.convolve((mask > 0).sum(axis=0).astype(np.float32), np.ones(3) / 3, "same")
    cuts = [0]
    for j in range(1, k):
        centre, reach = x0 + j * width / k, 0.3 * width / k
        lo, hi = int(centre - reach), int(centre + reach) + 1
        cuts.append(lo + int(np.argmin(profile[lo:hi])))
    cuts.append(mask.shape[1])
    pieces = []
    for a, b in zip(cuts[:-1], cuts[1:]):
        piece = np.zeros_like(mask)
        piece[:, a:b] = mask[:, a:b]
        if piece.any():
            pieces.append(piece)
    return pieces
