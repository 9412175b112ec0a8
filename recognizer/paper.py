"""Where the paper is: the page(s) of a frame seen on a darker surround (a desk, a dark room).

People photograph a note lying on a desk, or hold a sheet up to a webcam in
front of a dark room. Judged over the whole frame, the bright page is then the
minority that differs from a dark ground: it was taken for chalk on a board,
inverted, and nothing on it was read, while the desk's grain, divided by its
own dark background, was as contrasted as ink and read as 1s and 7s. A page is
found first, by what makes it a page, before anything is decided for the frame:

- it is bright: on the bright side of the frame's Otsu split, or of the
  split of that bright side (a page on a lit sofa, a light desk);
- it is smooth (PAPER_GRAIN), between its rules and writing at least: wood
  grain, fabric and carpet are not;
- it is large: PAGE_MIN of the frame at least;
- its surround is clearly darker (SURROUND_DARKER), or darker and textured
  (SURROUND_TEXTURED), not the same paper's own patches of pattern or shade;
- it is one solid convex piece once its writing is closed over (a sheet, seen
  in perspective, is a convex quadrilateral; fingers over its edge nick it);
- its rim is mostly a sharp edge (EDGE_SHARE): the lit side of a board or a
  wall in a soft light gradient is bright, smooth and convex too.

Such a page decides the polarity: pen on paper. The bright side of a page in
a lamp's shadow is its lit part only; its shadowed part, writing and all,
belongs to it too. What tells the two apart from the desk is the edge: the
step from the desk to the paper takes a few pixels, where a shadow falling
across a page fades over many. So the page grows from its bright side over
all it reaches without crossing a sharp edge, and the rest is left out.

A frame that is paper all over (a scan, a page filling the view, a
whiteboard) or a dark board with chalk has no page in this sense, and is
read whole as before.
"""
from __future__ import annotations

import cv2
import numpy as np

from recognizer.numeric import otsu_level

PAGE_SIDE = 320  # pages are looked for on a copy this size: their edges are long and straight
PAGE_MIN = 0.08  # a page covers at least this share of the frame ...
PAGE_ALL = 0.9  # ... and less than this: a frame paper all over but for a margin (or strokes cut by its edge) has no surround
SURROUND_DARKER = 0.7  # a page's surround is at most this share of its brightness (a desk, a dark room) ...
SURROUND_TEXTURED = 0.85  # ... or this share where the surround is mostly not smooth (a lit sofa, light wood) ...
SHADE = 0.45  # ... and one darker than this share is no paper in a shadow (a dark desk, a dark room)
PAGE_SOLID = 0.85  # a page, its writing filled in, fills this share of its convex hull
WRITING_CLOSE = 0.04  # the closing that fills the writing in: this share of the long side (wider than strokes)
PAPER_GRAIN = 4.0  # paper's brightness varies by at most this (std, gray levels, over 5x5 px of the copy) away
#                   from its rules and writing (closed over after); on wood grain, fabric, carpet it varies more
EDGE_PX = 4.0  # a page's edge goes from surround to paper within this many px of the copy; a shadow's does not
EDGE_SHARE = 0.5  # at least this share of a page's rim (off the frame's border) is such a sharp edge


def find_pages(gray: np.ndarray) -> np.ndarray | None:
    """Where the frame's pages are, or None when it has none on a darker surround.

    A 0/255 mask the frame's size: the pages, each grown from its bright side
    (`_bright_pages`) over whatever it reaches without crossing a sharp edge
    (`_grown`). When that is no page's shape any more, or nearly the whole
    frame, it leaked through a faint bit of an edge, or the frame is paper all
    over, lit and in shade: the surround's brightness tells which (SHADE).
    Paper in shade: all of the frame, read as pen on paper. A surround darker
    than any shade: the bright side alone.
    """
    small = _shrink(gray)
    found = _bright_pages(small)
    if found is None:
        return None
    core, paper, surround = found
    edges = _sharp_edges(small, paper - surround)
    if _edge_share(core, edges) < EDGE_SHARE:
        return None  # a bright side bounded by soft edges: the lit part of a board or a wall, no page
    pages = _grown(core, edges)
    h, w = gray.shape[:2]
    contours, _ = cv2.findContours(pages, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if np.count_nonzero(pages) >= PAGE_ALL * pages.size or not all(_page_shaped(c, pages.size) for c in contours):
        if surround >= SHADE * paper:
            return np.full((h, w), 255, np.uint8)  # paper in shade, perhaps: pen on paper, all of it read
        pages = core  # a surround too dark to be paper: the growth leaked through a faint bit of the edge
    pages = cv2.erode(pages, np.ones((3, 3), np.uint8))  # the edge's own blur is not ink on the page
    return cv2.threshold(cv2.resize(pages, (w, h), interpolation=cv2.INTER_LINEAR), 127, 255, cv2.THRESH_BINARY)[1]


def _bright_pages(small: np.ndarray) -> tuple[np.ndarray, float, float] | None:
    """0/255 mask of the pages' bright side: the large, solid pieces of what is smooth and above an
    Otsu split, their writing and rules closed over, on a clearly darker surround; with the median
    brightness of the pages and of their surround. None when there are none.

    The frame's own split first; where that takes in a lit sofa or a light
    desk with the page (one textured piece), the split of its bright side.
    """
    level = otsu_level(small.reshape(-1, 1))
    smooth = _grain(small) <= PAPER_GRAIN
    for _ in range(2):
        core = _solid_pieces((small > level) & smooth)
        if core is not None:
            paper, surround = float(np.median(small[core > 0])), float(np.median(small[core == 0]))
            if _on_other_ground(surround / max(1.0, paper), smooth[core == 0]):
                return core, paper, surround
        brighter = small[small > level]
        if brighter.size < PAGE_MIN * small.size:
            return None
        level = otsu_level(brighter.reshape(-1, 1))
    return None


def _solid_pieces(bright: np.ndarray) -> np.ndarray | None:
    """The large, solid pieces of a bright mask, closed over their writing, each filled out to its
    convex hull where that lies near it (or None)."""
    bright = bright.astype(np.uint8) * 255
    k = max(3, int(WRITING_CLOSE * max(bright.shape)) | 1)
    padded = cv2.copyMakeBorder(bright, k, k, k, k, cv2.BORDER_CONSTANT, value=0)  # no closing over the border:
    closed = cv2.morphologyEx(padded, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))[k:-k, k:-k]  # a desk's sliver stays
    contours, _ = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    pages = [c for c in contours if _page_shaped(c, bright.size)]
    hulls, solid = np.zeros_like(bright), np.zeros_like(bright)
    cv2.drawContours(hulls, [cv2.convexHull(c) for c in pages], -1, 255, cv2.FILLED)
    cv2.drawContours(solid, pages, -1, 255, cv2.FILLED)
    # writing at a page's edge is no notch in it; but the hull reaches no further than k beyond the page
    mask = cv2.bitwise_and(hulls, cv2.dilate(solid, np.ones((2 * k + 1, 2 * k + 1), np.uint8)))
    return mask if PAGE_MIN * mask.size <= np.count_nonzero(mask) < PAGE_ALL * mask.size else None


def _on_other_ground(ratio: float, surround_smooth: np.ndarray) -> bool:
    """Does the page lie on something else than more of the same paper or board: a surround at most
    SURROUND_DARKER as bright (`ratio`: its median brightness over the page's), or SURROUND_TEXTURED
    where it is mostly not smooth? (Not bright patches of one paper, a patterned cheque's; not the
    lit side of a board in a light gradient.)"""
    return ratio <= SURROUND_DARKER or (ratio <= SURROUND_TEXTURED and np.mean(surround_smooth) < 0.5)


def _grain(small: np.ndarray) -> np.ndarray:
    """Local standard deviation of the brightness over 5x5 px of the copy: paper is smooth at that
    size (its writing is sparse), wood grain, fabric and carpet are not."""
    f = small.astype(np.float32)
    mean = cv2.blur(f, (5, 5))
    return np.sqrt(np.maximum(cv2.blur(f * f, (5, 5)) - mean * mean, 0))


def _grown(core: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The pages' bright side and every piece of the frame, cut along its sharp edges, that
    overlaps it: the part of a page in a shadow joins the lit part (no sharp edge between
    them), the desk does not (the page's edge is one). Holes (the writing) filled."""
    n, labels = cv2.connectedComponents(cv2.bitwise_not(edges), connectivity=4)
    touched = np.zeros(n, bool)  # a lookup per piece: labels[...] indexes it, no set operations per pixel
    touched[labels[cv2.erode(core, np.ones((3, 3), np.uint8)) > 0]] = True
    touched[0] = False  # label 0: the edges themselves
    grown = np.where(touched[labels], 255, core).astype(np.uint8)
    joined = cv2.morphologyEx(grown, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))  # across the edges' own width
    contours, _ = cv2.findContours(joined, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    pages = np.zeros_like(core)
    cv2.drawContours(pages, contours, -1, 255, cv2.FILLED)
    return pages


def _edge_share(core: np.ndarray, edges: np.ndarray) -> float:
    """The share of the bright side's rim (off the frame's border) that lies by a sharp edge: within
    the 5x5 px that `_grain` looks at, whose smooth pixels stop that far short of an edge."""
    rim = cv2.subtract(core, cv2.erode(core, np.ones((3, 3), np.uint8)))
    rim[[0, -1], :] = rim[:, [0, -1]] = 0
    on_rim = cv2.dilate(edges, np.ones((5, 5), np.uint8))[rim > 0]
    return float(np.mean(on_rim > 0)) if on_rim.size else 0.0


def _shrink(gray: np.ndarray) -> np.ndarray:
    """A copy about PAGE_SIDE px on its long side (area-averaged: the paper's grain is gone)."""
    h, w = gray.shape[:2]
    f = PAGE_SIDE / max(h, w)
    if f >= 1.0:
        return gray
    return cv2.resize(gray, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)


def _page_shaped(contour: np.ndarray, frame_area: int) -> bool:
    """Large and solid: PAGE_MIN of the frame, PAGE_SOLID of its convex hull."""
    area = cv2.contourArea(contour)
    if area < PAGE_MIN * frame_area:
        return False
    return area >= PAGE_SOLID * cv2.contourArea(cv2.convexHull(contour))


def _sharp_edges(small: np.ndarray, step: float) -> np.ndarray:
    """0/255: where the brightness climbs `step` (from the surround to the paper) within EDGE_PX
    pixels, widened by a pixel so that the pieces it bounds do not touch.

    A page's edge and the strokes of writing are that sharp; a shadow's edge,
    fading over many pixels, is not.
    """
    blurred = cv2.GaussianBlur(small, (3, 3), 0).astype(np.float32)
    slope = cv2.magnitude(cv2.Sobel(blurred, cv2.CV_32F, 1, 0, ksize=3, scale=1 / 8),
                          cv2.Sobel(blurred, cv2.CV_32F, 0, 1, ksize=3, scale=1 / 8))
    edges = (slope >= step / EDGE_PX).astype(np.uint8) * 255
    edges[[0, -1], :] = edges[:, [0, -1]] = 255  # a page running off the frame: its edge ends at the border
    return cv2.dilate(edges, np.ones((3, 3), np.uint8))
