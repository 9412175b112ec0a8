"""Video: reuse a candidate's classification from a recent frame while its box and ink stay put.

    reuse = ClassificationReuse(refresh=8)
    todo = reuse.todo(found, frame_index)       # the candidates that need the classifier
    preds = reuse.merge(classifier.classify(normalize_batch([c.crop for c in todo])))

Why it is sound: video frames are 1/25-1/30 s apart. A candidate found in this
frame whose box matches one classified a frame or two ago (high IoU, the same
width and height within a pixel or two, its ink in the same places) covers the same
handwriting on the same page: the digit under it cannot have changed, only the
camera moved a little. Its probabilities are taken over instead of normalizing
and inferring it again (~140 us a crop, half of a frame's time on the demo).

What keeps it safe:
- detection still runs on EVERY frame; only the per-crop classification is
  reused, so boxes, cuts, grouping and tracking are this frame's own;
- a box that is new, moved a lot, grew or shrank (a digit entering at the
  frame edge, two digits touching), or whose ink changed (blur, lighting, another
  glyph with as much ink: a clock's digits on screen) is classified afresh;
- every classification expires after at most `refresh` frames (staggered
  between refresh/2 and refresh, so a static page does not re-classify all its
  crops in one frame) and is classified again;
- the cache only ever holds the last frame this object saw, so a gap (a worker
  process gets runs of frames, a live camera skips frames) just means more
  motion to match, and a seek or a gap of `refresh` frames starts afresh.

Off for still images (nothing to reuse); one object per process (each worker
process keeps its own).
"""
from __future__ import annotations

import cv2
import numpy as np

from recognizer.classifier import Predictions
from recognizer.numeric import median
from recognizer.tracking import greedy_match, iou_matrix

REFRESH = 8  # frames a classification is reused at most (0.32 s at 25 fps)
MAX_SHIFT = 80  # px: the page may move at most this far between two frames seen by one process
SHIFT_BIN = 4  # px: the page's shift is voted for on a grid this fine, then refined
MIN_IOU = 0.8  # a box overlapping a classified one this much (after the page's shift) ...
SIZE_PX = 2  # ... whose width and height differ by at most this many pixels or SIZE_SHARE of the side ...
SIZE_SHARE = 0.08  # ... (the larger of the two) ...
INK_SHARE = 0.12  # ... and whose ink lies where it did, but for this share of it, is the same handwriting
LAYOUT = 4  # the ink's layout is compared on a grid this many cells a side


class ClassificationReuse:
    """Per-process memory of the last frame's candidates and their predictions.

    refresh: frames a classification may be reused (at most; staggered down to refresh/2).
    classified / reused: counts of crops so far (for benchmarks and tests).
    """

    def __init__(self, refresh: int | None = None):
        self.refresh = max(1, int(REFRESH if refresh is None else refresh))
        self.classified = self.reused = 0
        self._boxes = np.zeros((0, 4))
        self._ink = np.zeros((0, LAYOUT * LAYOUT), np.float32)
        self._expires = np.zeros(0, np.int64)
        self._preds: Predictions | None = None
        self._frame: int | None = None
        self._pending: tuple | None = None
        self._stagger = 0

    def todo(self, found: list, frame_index: int) -> list:
        """The candidates of this frame that must be classified; remembers the split for `merge`."""
        boxes = np.array([c.box for c in found], np.float64).reshape(-1, 4)
        ink = np.array([layout(c.crop) for c in found], np.float32).reshape(-1, LAYOUT * LAYOUT)
        hits = self._matches(boxes, ink, frame_index)
        fresh = np.array([j for j in range(len(found)) if j not in hits], np.int64)
        self._pending = (boxes, ink, hits, fresh, frame_index)
        return [found[j] for j in fresh]

    def _matches(self, boxes: np.ndarray, ink: np.ndarray, frame_index: int) -> dict[int, int]:
        """{this frame's candidate: cached entry} for boxes that still hold the same handwriting:
        the same size to a pixel or two, the same amount of ink, classified recently enough,
        and overlapping once the page's shift is undone."""
        if self._frame is None or not 0 < frame_index - self._frame < self.refresh:  # merge sets all state at once
            return {}
        old, old_ink = self._boxes, self._ink
        tol = np.maximum(SIZE_PX, SIZE_SHARE * boxes[:, 2:])
        usable = ((np.abs(boxes[:, None, 2] - old[None, :, 2]) <= tol[:, :1])
                  & (np.abs(boxes[:, None, 3] - old[None, :, 3]) <= tol[:, 1:])
                  & (changed(ink, old_ink) <= INK_SHARE)
                  & (self._expires > frame_index)[None, :])
        iou = iou_matrix(boxes, old + np.r_[page_shift(boxes, old, usable), 0, 0])
        return dict(greedy_match(np.where(usable, iou, 0.0), MIN_IOU))

    def merge(self, fresh_preds: Predictions) -> Predictions:
        """Predictions for ALL of this frame's candidates (in their order): fresh ones from the
        classifier, the others taken over; this frame becomes the one the next frame is matched to."""
        boxes, ink, hits, fresh, frame_index = self._pending
        self._pending = None
        n = len(boxes)
        src = np.asarray(list(hits.values()), np.int64)
        dst = np.asarray(list(hits.keys()), np.int64)
        fields = []
        for name in ("digits", "confidences", "reject", "probs"):
            new = getattr(fresh_preds, name)
            out = np.zeros((n, *new.shape[1:]), new.dtype)
            out[fresh] = new
            if len(dst):
                out[dst] = getattr(self._preds, name)[src]
            fields.append(out)
        merged = Predictions(*fields)
        expires = np.zeros(n, np.int64)
        expires[fresh] = frame_index + self._lifetimes(len(fresh))
        if len(dst):
            expires[dst] = self._expires[src]
        self._boxes, self._ink, self._expires, self._preds, self._frame = boxes, ink, expires, merged, frame_index
        self.classified += len(fresh)
        self.reused += len(dst)
        return merged

    def _lifetimes(self, count: int) -> np.ndarray:
        """refresh, refresh-1, ... down to about refresh/2, cycling: expiries are spread over frames."""
        span = max(1, (self.refresh + 1) // 2)
        steps = (self._stagger + np.arange(count)) % span
        self._stagger = (self._stagger + count) % span
        return self.refresh - steps


def layout(crop: np.ndarray) -> np.ndarray:
    """Where a crop's ink lies: its ink summed over a LAYOUT x LAYOUT grid (a few microseconds).
    Two crops of the same size with the same total ink may hold different glyphs (a clock's 2
    and 3 on screen, a digit rewritten in place); their layouts differ."""
    return cv2.resize(crop, (LAYOUT, LAYOUT), interpolation=cv2.INTER_AREA).astype(np.float32).ravel()


def changed(new: np.ndarray, old: np.ndarray) -> np.ndarray:
    """(N, M): how much of the ink moved between each new and old layout, as a share of the larger."""
    moved = np.abs(new[:, None, :] - old[None, :, :]).sum(axis=2)
    return moved / np.maximum(np.maximum(new.sum(axis=1)[:, None], old.sum(axis=1)[None, :]), 1e-6)


def page_shift(boxes: np.ndarray, old: np.ndarray, alike: np.ndarray | None = None) -> np.ndarray:
    """How far the page moved since the old boxes (dx, dy): the displacement most box pairs agree on.

    A hand-held camera moves the whole page, so most of this frame's boxes are an
    old box moved by one common shift (the demo moves up to a third of a digit per
    frame). Every pair (of boxes `alike`, e.g. of the same size; all pairs when None)
    within MAX_SHIFT votes for its displacement on a SHIFT_BIN grid (3x3 cells pooled,
    so a shift on a cell border is not split); the median of the pairs near the
    winning cell is the shift. (0, 0) when no pair can vote.
    """
    if len(boxes) == 0 or len(old) == 0:
        return np.zeros(2)
    dx = (boxes[:, 0] + boxes[:, 2] / 2)[:, None] - (old[:, 0] + old[:, 2] / 2)[None, :]
    dy = (boxes[:, 1] + boxes[:, 3] / 2)[:, None] - (old[:, 1] + old[:, 3] / 2)[None, :]
    near = (np.abs(dx) <= MAX_SHIFT) & (np.abs(dy) <= MAX_SHIFT)
    if alike is not None:
        near &= alike
    dx, dy = dx[near], dy[near]
    if len(dx) == 0:
        return np.zeros(2)
    half = MAX_SHIFT // SHIFT_BIN + 1
    side = 2 * half + 1
    cells = (np.rint(dx / SHIFT_BIN).astype(np.int64) + half) * side + np.rint(dy / SHIFT_BIN).astype(np.int64) + half
    votes = cv2.boxFilter(np.bincount(cells, minlength=side * side).reshape(side, side).astype(np.float32),
                          -1, (3, 3), normalize=False)
    bx, by = (np.array(np.unravel_index(int(np.argmax(votes)), votes.shape)) - half) * SHIFT_BIN
    agree = (np.abs(dx - bx) <= 1.5 * SHIFT_BIN) & (np.abs(dy - by) <= 1.5 * SHIFT_BIN)
    return np.array([median(dx[agree]), median(dy[agree])])
