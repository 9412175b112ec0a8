"""Stable ids and steady labels for digits across video frames (supervision-style tracker).

    tracker = DigitTracker()
    results = tracker.update(results)   # each frame, after recognition

A single frame's classification of a blurred or half-lit digit can waver
between two classes. The tracker matches each frame's digits to the previous
ones by box overlap (IoU, with a centroid fall-back for fast motion), averages
the class probabilities of the last `window` frames of each track, and shows a
track's label only once that average is confident. A shown label then holds
until another class clearly beats it (hysteresis), so labels don't flicker.
Every digit it keeps gains `track` (its id); digits of tracks not yet
confident are moved to `results.rejected` as "unconfirmed", and digits cut by
the frame border as "at frame edge" (half a digit often reads as another one,
so its reading is not kept: the track starts afresh once it is fully in view;
cut means its box reaches the border: a digit fully in view a pixel or two
from it is read, as it is without tracking). Labels follow the evidence: most
shown tracks clearly contradicted in one frame is a scene change (all tracks
go); a track whose last `follow` frames all clearly read one other digit, or
whose box changed size (new ink), starts afresh.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from recognizer.results import Digit, Number, Rejected, Results, at_edge, union_box

NUM_DIGITS = 10
WINDOW = 5  # frames whose probabilities are averaged per track (--smooth)
SHOW = 0.6  # a hidden track shows its label once its mean probability reaches this
SWITCH_MARGIN = 0.2  # a shown label changes only when another class beats it by this much
HIDE = 0.35  # a shown label is hidden again when its mean probability drops below this
MAX_MISSED = 5  # frames a track survives unmatched (occlusion, a blurred frame)
MIN_IOU = 0.3  # a digit overlapping a track's box this much (IoU) is matched to it
FOLLOW = 3  # this many frames in a row that clearly read another digit: the digit changed
RESIZED = 1.3  # a box this many times taller or shorter (or wider) than last frame's holds new ink
SCENE_VOTES = 3  # a scene change is called on at least this many shown tracks clearly contradicted


def overlap_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise intersection areas of boxes (N,4) and (M,4) given as x, y, w, h."""
    ax0, ay0, ax1, ay1 = a[:, 0:1], a[:, 1:2], a[:, 0:1] + a[:, 2:3], a[:, 1:2] + a[:, 3:4]
    bx0, by0, bx1, by1 = b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.clip(np.minimum(ax1, bx1) - np.maximum(ax0, bx0), 0, None)
    ih = np.clip(np.minimum(ay1, by1) - np.maximum(ay0, by0), 0, None)
    return iw * ih


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of boxes (N,4) and (M,4) given as x, y, w, h."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    inter = overlap_matrix(a, b)
    union = a[:, 2:3] * a[:, 3:4] + b[:, 2] * b[:, 3] - inter
    return inter / np.maximum(union, 1e-9)


def centroid_closeness(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """1 - centre distance / larger box side, clipped at 0: 1 when centres coincide."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    ca, cb = a[:, :2] + a[:, 2:] / 2, b[:, :2] + b[:, 2:] / 2
    dist = np.linalg.norm(ca[:, None, :] - cb[None, :, :], axis=2)
    scale = np.maximum(a[:, None, 2:].max(axis=2), b[None, :, 2:].max(axis=2))
    return np.clip(1.0 - dist / np.maximum(scale, 1e-9), 0.0, 1.0)


def greedy_match(score: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """Pairs (row, col) taken best-score first; each row and column used once."""
    pairs = []
    if score.size == 0:
        return pairs
    order = np.dstack(np.unravel_index(np.argsort(-score, axis=None), score.shape))[0]
    used_r, used_c = set(), set()
    for r, c in order:
        if score[r, c] < threshold:
            break
        if r not in used_r and c not in used_c:
            pairs.append((int(r), int(c)))
            used_r.add(r)
            used_c.add(c)
    return pairs


@dataclass
class Track:
    """One physical digit followed across frames."""

    id: int
    box: tuple
    history: deque = field(default_factory=deque)  # recent probability vectors (10 digit classes)
    shown: int | None = None  # label on screen, None until confident
    missed: int = 0  # frames since last matched
    mean: np.ndarray | None = None  # mean of `history`, kept up to date by `add`

    def add(self, probs: np.ndarray) -> None:
        """One more frame's probabilities; the mean is computed once here, not at every use."""
        self.history.append(probs)
        self.mean = sum(self.history) / len(self.history)

    def keep_last(self, n: int) -> None:
        """Forget all but the last n frames' probabilities (the digit under the box changed)."""
        while len(self.history) > n:
            self.history.popleft()
        self.mean = sum(self.history) / len(self.history)

    def forget(self) -> None:
        """Drop every reading: the track shows nothing until it is confident again."""
        self.history.clear()
        self.mean = None
        self.shown = None


def digit_probs(d: Digit) -> np.ndarray:
    """The 10 digit-class probabilities, renormalized; a one-hot guess when the core gave none."""
    if d.probs is not None and len(d.probs) >= NUM_DIGITS:
        p = np.asarray(d.probs[:NUM_DIGITS], np.float64)
        return p / max(p.sum(), 1e-9)
    p = np.full(NUM_DIGITS, (1.0 - d.confidence) / (NUM_DIGITS - 1))
    p[d.digit] = d.confidence
    return p


class DigitTracker:
    """Match digits frame to frame, smooth their probabilities, show labels with hysteresis."""

    def __init__(self, window: int | None = None, max_missed: int | None = None, edge: int = 0):
        """window, max_missed: WINDOW and MAX_MISSED unless given; the other settings are the
        module's constants as they are when the tracker is made (a config may set them).
        edge: a box this close to the frame border (0: reaching it) is a digit cut by the edge."""
        self.window = WINDOW if window is None else window
        self.max_missed = MAX_MISSED if max_missed is None else max_missed
        self.show, self.switch_margin, self.hide, self.min_iou = SHOW, SWITCH_MARGIN, HIDE, MIN_IOU
        self.follow, self.resized, self.scene_votes = FOLLOW, RESIZED, SCENE_VOTES
        self.edge = edge
        self.tracks: list[Track] = []
        self._next_id = 1

    def reset(self) -> None:
        self.tracks, self._next_id = [], 1

    def _match(self, digits: list[Digit]) -> tuple[list[tuple[int, int]], set[int]]:
        """Pairs (track index, digit index): IoU first, then centroid closeness for the rest; and
        the digits matched by closeness alone (fast motion: perhaps a neighbour moved into place)."""
        tb = np.array([t.box for t in self.tracks], np.float64).reshape(-1, 4)
        db = np.array([d.box for d in digits], np.float64).reshape(-1, 4)
        pairs = greedy_match(iou_matrix(tb, db), self.min_iou)
        taken_t, taken_d = {p[0] for p in pairs}, {p[1] for p in pairs}
        free_t = [i for i in range(len(tb)) if i not in taken_t]
        free_d = [j for j in range(len(db)) if j not in taken_d]
        if free_t and free_d:
            close = centroid_closeness(tb[free_t], db[free_d])
            loose = [(free_t[r], free_d[c]) for r, c in greedy_match(close, 0.5)]
            return pairs + loose, {j for _, j in loose}
        return pairs, set()

    def _scene_changed(self, pairs: list[tuple[int, int]], probs: list[np.ndarray]) -> bool:
        """Does most of what this frame reads contradict what the tracks show (at least
        `scene_votes` shown tracks, more than half of them clearly reading another digit)? A sheet
        swapped or the camera turned to another page: every old label is stale at once, and no
        track's history is worth keeping, not even for `follow` frames."""
        shown = [(self.tracks[i], probs[j]) for i, j in pairs if self.tracks[i].shown is not None]
        against = sum(self._contradicts(t, p) for t, p in shown)
        return len(shown) >= self.scene_votes and 2 * against > len(shown)

    def _resized(self, old, new) -> bool:
        """Is the box a different size from last frame's (height or width by the `resized` factor)?
        A camera moving closer changes it by a few percent a frame, a digit written in or a sheet
        swapped by far more."""
        return any(max(a, b) > self.resized * max(1, min(a, b)) for a, b in zip(old[2:], new[2:]))

    def _contradicts(self, track: Track, probs: np.ndarray) -> bool:
        """Does this frame clearly read another digit than the one shown (its own best class at
        `show`, the shown one under `hide`)?"""
        best = int(probs.argmax())
        return (track.shown is not None and best != track.shown and probs[best] >= self.show
                and probs[track.shown] < self.hide)

    def _follow(self, track: Track) -> None:
        """A track whose last `follow` frames all clearly read one other digit holds a new digit
        (a sheet swapped, a digit rewritten): its older frames are forgotten, so the label follows
        the evidence within `follow` frames instead of waiting for the average to turn."""
        recent = list(track.history)[-self.follow:]
        if len(recent) < self.follow or not all(self._contradicts(track, p) for p in recent):
            return
        if len({int(p.argmax()) for p in recent}) == 1:
            track.keep_last(self.follow)
            track.shown = None

    def _decide(self, track: Track) -> None:
        """Hysteresis: show when confident, switch only when clearly beaten, hide when doubtful."""
        mean = track.mean
        best = int(mean.argmax())
        if track.shown is None:
            if mean[best] >= self.show:
                track.shown = best
        elif best != track.shown and mean[best] >= mean[track.shown] + self.switch_margin:
            track.shown = best if mean[best] >= self.show else None
        elif mean[track.shown] < self.hide:
            track.shown = None

    def update(self, results: Results) -> Results:
        """Assign track ids, smooth labels; returns the same Results, changed in place."""
        digits = results.digits
        pairs, loose = self._match(digits)
        probs = [digit_probs(d) for d in digits]
        if self._scene_changed(pairs, probs):
            self.tracks, pairs = [], []  # ids go on counting: a new sheet's digits are new tracks
        owner = {j: self.tracks[i] for i, j in pairs}
        for track in self.tracks:
            track.missed += 1
        for j, d in enumerate(digits):
            track = owner.get(j)
            if track is None:
                track = Track(self._next_id, d.box, deque(maxlen=self.window))
                self._next_id += 1
                self.tracks.append(track)
            if self._resized(track.box, d.box) or (j in loose and self._contradicts(track, probs[j])):
                track.forget()  # new ink, or another digit under the box: no old reading holds
            track.box, track.missed = tuple(d.box), 0
            if at_edge(d.box, results.width, results.height, self.edge):  # half a digit: its reading must not stick
                track.forget()
            else:
                track.add(probs[j])
                self._follow(track)
                self._decide(track)
            owner[j] = track
        self.tracks = [t for t in self.tracks if t.missed <= self.max_missed]
        return self._apply(results, owner)

    def _apply(self, results: Results, owner: dict[int, Track]) -> Results:
        """Write smoothed labels into the digits; unconfirmed ones go to `rejected`."""
        kept = []
        for j, d in enumerate(results.digits):
            track = owner[j]
            d.track = track.id
            if track.shown is None:
                reason = "unconfirmed" if track.history else "at frame edge"
                results.rejected.append(Rejected(d.box, reason, float(d.confidence)))
                continue
            d.digit, d.confidence = track.shown, float(track.mean[track.shown])
            kept.append(d)
        results.digits = kept
        results.numbers = relabel_numbers(results.numbers, kept)
        return results


def relabel_numbers(numbers: list[Number], kept: list[Digit]) -> list[Number]:
    """Rebuild each number's text from its (now smoothed) digits, dropping unconfirmed ones."""
    alive = {id(d) for d in kept}
    out = []
    for n in numbers:
        ds = [d for d in n.digits if id(d) in alive]
        if not n.digits:  # the core gave no digit list: keep the number as it is
            out.append(n)
        elif ds:
            n.digits = ds
            n.box = union_box([d.box for d in ds])
            n.text = "".join(str(d.digit) for d in ds)
            n.confidence = float(min(d.confidence for d in ds))
            out.append(n)
    return out
