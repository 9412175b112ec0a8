"""The per-frame recognizer: frame -> candidates -> 28x28 batch -> predictions -> Results.

    from recognizer.pipeline import Recognizer
    recognizer = Recognizer()                          # conf=..., model=...
    results = recognizer(frame, source="photo.jpg")   # results.digits, .numbers, .plot(frame)

One direction of flow, one stage per module: preprocess (gray, lighting,
polarity, threshold) -> lines (ruled/grid/box lines out) -> candidates (blobs
merged/split, masked crops) -> normalize (shared 28x28 MNIST preparation) ->
ONE DigitClassifier call for all crops of the frame -> accept or reject ->
grouping (numbers) -> Results. Boxes are reported in the input's own pixels.
"""
from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import numpy as np

from recognizer import candidates as cand
from recognizer import lines, preprocess, tilt
from recognizer.config import Config, use
from recognizer.classifier import SMALL_MODEL, DigitClassifier, ModelError, Predictions, is_probability
from recognizer.frames import FrameError, checked
from recognizer.grouping import group_numbers, in_words, punctuation
from recognizer.context import context_batch
from recognizer.normalize import normalize_batch, stroke_width
from recognizer.numeric import median
from recognizer.results import Digit, Rejected, Results, at_edge
from recognizer.reuse import ClassificationReuse

CONF = 0.5  # accept a digit whose probability is at least this (when the model names no threshold)
REJECT = 0.5  # reject a candidate whose "not a digit" probability is at least this (model names none)
TINY_SIDE = 32  # an input this small is one pre-cropped digit (e.g. a 28x28 MNIST image)
LINE_HEIGHTS = 2.0  # a line is at least this many typical digit heights long (first pass)
RULE_SLENDER = 8  # a candidate this many times longer than thick is a rule, not a digit
BORDER_SLANT = 3  # box borders are nearly straight (scans, flat photos)
BORDER_SHARE = 1.35  # box borders longer than this many digit heights are removed in a second pass
BAR_SHARE = 0.4  # a straight run this share of the typical digit height thick is a thing (a pen), not a line ...
BAR_MIN = 12  # ... and at least this many pixels thick
FAINT_SHARE = 0.6  # a faint line broken into dashes at the pen's threshold is whole at this share of it
OBJECT_TALL = 2.0  # a candidate read as a digit this many typical digit heights tall ...
OBJECT_STROKE = 1.8  # ... whose strokes are this many times the writing's width is a thing (a pen, a finger) ...
OBJECT_HUGE = 3.0  # ... as is one this many typical heights tall, whatever its strokes
EDGE_NEAR = 0.01  # in a turned frame, a digit this share of its long side from its edge touches it ...
EDGE_SUBJECT = 0.5  # ... unless it is this share of its height tall: the subject of a close-up
EDGE_LEVEL = 0.25  # in a level frame, a box under this share of the frame's height touching its edge ...
EDGE_SLIVER = 0.35  # ... and under this share of its own height wide (a wedge's tip: a 1) ...
INK_ON = 0.5  # ... whose ink goes on to the edge (this share of its own, between them) is cut by it
CHAIN_SHARE = 0.55  # a piece of a convincing reading of touching digits needs this share of the confidence floor
MANY_STEMS = 3  # a wide blob read as this many pieces, most of them 1s, is letters cut at their stems
SMALL_DIGIT = 20  # a frame whose typical digit is shorter than this (working px) is looked at again enlarged ...
ZOOM_TO = 24  # ... to about this digit height ...
MAX_ZOOM = 2.0  # ... at most this many times (cost: its square in pixels)


class Recognizer:
    """Find and read every handwritten digit in a frame; one batched inference per call.

    model: path to a .tflite model (default assets/models/digits.tflite).
    small_model: the .tflite model that reads frames enlarged for their small digits
          (`locate`); default assets/models/digits_small.tflite when `model` is the default
          too, "none" for `model` alone. Either way one model reads all crops of a frame.
    conf: minimum digit probability to accept a candidate (default: the model's
          metadata "conf_threshold", else 0.5).
    reject: "not a digit" probability from which a candidate is rejected (default:
            the model's metadata "reject_threshold", else 0.5).
    max_side: long side of the internal working image (bigger photos are shrunk; default:
              the config's preprocess.max_side).
    polarity: "auto", "dark" (dark ink on light paper) or "light" (chalk, white on dark).
    debug: keep the last binary image and 28x28 batch in `self.debug` for a debug view.
    reuse: video only: reuse a crop's classification for up to this many frames while its
           box and ink stay put (recognizer/reuse.py); 0 (default) classifies every crop.
    steady: video only: a frame turned level (a tilted page, see `locate`) keeps the last
            frame's turn while the tilt measured stays near it (recognizer/tilt.py).
    config: the tuned numbers (recognizer/config.py): a Config, or the path of a TOML file
            (`--config`); default the built-in values. Put in force on each call.
    """

    def __init__(self, model=None, conf: float | None = None, reject: float | None = None,
                 max_side: int | None = None, polarity: str = "auto", threads: int = 2,
                 debug: bool = False, reuse: int = 0, small_model=None, steady: bool = False,
                 config: Config | str | Path | None = None):
        self.config = Config.load(config) if isinstance(config, (str, Path)) else config  # None: the defaults
        use(self.config)  # before anything reads a setting (the model's thresholds below do)
        self._models = {"model": model, "small_model": small_model}
        self.classifier = DigitClassifier(model, threads=threads)
        small = _small_model_path(small_model, model)
        self.small_classifier = DigitClassifier(small, threads=threads) if small else None
        meta = self.classifier.metadata
        self.conf = conf if conf is not None else float(meta.get("conf_threshold", CONF))
        self.reject = reject if reject is not None else float(meta.get("reject_threshold", REJECT))
        for name, value in (("conf", self.conf), ("reject", self.reject)):
            if not is_probability(value):  # NaN would switch the gate off without a word
                raise ValueError(f"{name} must be a probability from 0 to 1, not {value!r}")
        self.max_side, self.polarity, self.debug_on = max_side, polarity, debug
        self.debug: dict = {}
        self.set_reuse(reuse)
        self.steady, self._turn = steady, None

    def stream(self, source, track: bool = True, reuse: bool = True, smooth: int | None = None,
               max_frames: int | None = None, workers: int = 1):
        """Results for every frame of a camera index, video file or URL, image, folder or glob,
        as `main.py` reads them (recognizer/stream.py); an iterator. smooth: frames averaged per
        track (default the config's tracker.window); workers: processes recognizing a file's
        frames (order kept)."""
        from recognizer.stream import frames_of

        return frames_of(self, source, track=track, reuse=reuse, smooth=smooth, max_frames=max_frames,
                         workers=workers)

    def settings(self) -> dict:
        """The arguments that build a recognizer reading as this one does now (picklable: worker
        processes build theirs from it); threads, debug, reuse and steadiness are set apart."""
        return {**self._models, "conf": self.conf, "reject": self.reject, "max_side": self.max_side,
                "polarity": self.polarity, "config": self.config}

    def set_reuse(self, frames: int) -> None:
        """Reuse classifications for up to `frames` frames (0: off); a video or camera is only
        known once its source is open, after the model has been loaded."""
        self.reuse = ClassificationReuse(frames) if frames else None

    def __call__(self, frame: np.ndarray, source: str = "", frame_index: int = 0,
                 time_s: float | None = None) -> Results:
        """Read one frame: any numeric array, gray or 1, 3 or 4 channels (recognizer/frames.py),
        or the path of an image file; raises frames.FrameError for what is no image."""
        if isinstance(frame, (str, Path)):
            frame, source = _image_file(frame), source or str(frame)
        frame = checked(frame)
        use(self.config)  # free when it is already the one in force
        h, w = frame.shape[:2]
        timings: dict[str, float] = {}
        t = time.perf_counter()
        prep = None
        if max(h, w) <= TINY_SIDE:
            timings["preprocess"] = 0.0
            found = self._whole_image(frame)
            _lap(timings, "candidates", t)
        elif _too_thin(h, w, self.max_side):
            found = []  # a strip thinner than the shortest digit holds none (nor can it be shrunk or filtered)
        else:
            last = self._turn[1] if self.steady and self._turn and self._turn[0] == frame_index - 1 else None
            prep, found = locate(frame, self.max_side, self.polarity, timings, last)
            if self.steady:  # the next frame keeps this turn while it still fits; a frame after a gap
                self._turn = (frame_index, prep.tilt)  # (a worker's next run, a skipped camera frame) does not
            if self.debug_on:
                self.debug["binary"] = prep.binary
        t = time.perf_counter()
        heads = [c for c in found if not c.tail]
        found = heads + [c for c in found if c.tail]  # tails last: never classified
        reuse = None if self.debug_on else self.reuse  # the debug view shows every crop
        todo = heads if reuse is None else reuse.todo(heads, frame_index)
        batch = normalize_batch([c.crop for c in todo], ink="light")
        t = _lap(timings, "normalize", t)
        classifier = self._classifier_for(prep)
        around = surroundings(prep, todo) if classifier.channels == 2 else None
        t = _lap(timings, "context", t)
        preds = classifier.classify(batch, around)
        if reuse is not None:
            preds = reuse.merge(preds)
        t = _lap(timings, "infer", t)
        digits, rejected = self._read(found, preds, prep, (w, h))
        turned = prep is not None and prep.level_to_input is not None
        if prep is not None:
            digits, rejected = _off_the_edge(digits, rejected, prep, (w, h))
        numbers = group_numbers(digits)
        if turned:
            _turn_back([*digits, *numbers, *rejected], prep, (w, h))
        _lap(timings, "group", t)
        if self.debug_on:
            self.debug["batch"] = batch
        return Results(source=source, frame=frame_index, width=w, height=h, digits=digits,
                       numbers=numbers, rejected=rejected, time=time_s, timings=timings,
                       model={**classifier.identity, "conf": round(self.conf, 4), "reject": round(self.reject, 4)})

    def _classifier_for(self, prep: preprocess.Prepared | None) -> DigitClassifier:
        """The small-digit model for a frame enlarged for its small digits, else the main one.

        Trained with 6,000 small photographed digits besides MNIST, the small model
        reads 9-12 px digits far better (docs/model.md), but no main model trained
        with them reached the MNIST floor. A frame's digits are all small or
        all not, so one model reads all its crops: still one call per frame.
        """
        if prep is None or prep.zoom <= 1.0 or self.small_classifier is None:
            return self.classifier
        return self.small_classifier

    def _whole_image(self, frame: np.ndarray) -> list[cand.Candidate]:
        """A tiny input is one pre-cropped digit: the whole image is the candidate."""
        gray = preprocess.to_gray8(frame)
        h, w = gray.shape
        light = preprocess.ink_is_light(gray) or _border_is_dark(gray)
        ink = gray if light else 255 - gray
        return [cand.Candidate((0, 0, w, h), ink)]

    def _read(self, found, preds: Predictions, prep: preprocess.Prepared | None,
              size) -> tuple[list[Digit], list[Rejected]]:
        """Predictions -> accepted digits and rejected candidates, boxes in input pixels
        (of the level frame, when the frame was turned level: see `_turn_back`).

        Touching digits: keep the classifier's preferred cuts (an unconvincing
        blob is rejected whole); `found` ends with the tails of wide blobs,
        which have no predictions: a reading may only leave them out. Then accept or reject each candidate;
        digit-like letters beside real letters are rejected as "in a word", and
        commas/periods beside digits as "not a digit"; last, a wide blob whose
        reading lost a piece to any of these, or reads as mostly 1s, is rejected
        whole (`_whole_readings`: letters run together, not touching digits).
        """
        read = len(preds.digits)  # found[read:] are tails: never classified, never kept
        score = np.zeros(len(found))
        score[:read] = preds.confidences * (1.0 - preds.reject)
        keep, veto = cand.choose_cuts(found, score)
        keep, veto = keep[:read], veto[:read]
        found = [c for c, k in zip(found, keep) if k]
        preds = _subset(preds, keep)
        preds.reject[veto[keep]] = 1.0
        # our own unsure cuts; a blob refused whole is a glyph (letters run together: "nxc/" -> "9" "1")
        doubted = {id(c) for c, v in zip(found, veto[keep]) if v and c.parts != 1}
        boxes = [_to_input(c.box, prep, size) for c in found]  # in the input's pixels (level)
        digits, flagged = self._decide(found, preds, boxes, _carried(found, doubted))
        glyphs = [r for c, r in flagged if id(c) not in doubted]  # letters, not our own unsure cuts
        digits, rejected = in_words(digits, [r for _, r in flagged], glyphs)
        digits, rejected = punctuation(digits, rejected)
        return _whole_readings(found, preds, boxes, digits, rejected)

    def _decide(self, found, preds, boxes, carried: set[int]) -> tuple[list[Digit], list]:
        """Accept a candidate when it is a digit (reject prob low) and confident enough, and
        written, not a thing in view (`things`).

        carried: ids of pieces of convincing readings of touching digits; they
        need only CHAIN_SHARE of the confidence floor (`_carried`).

        Returns the digits and (candidate, Rejected) pairs for the rest.
        """
        accepted, rejected = [], []
        for c, box, d, p, r, probs in zip(found, boxes, preds.digits, preds.confidences, preds.reject, preds.probs):
            if r >= self.reject:
                rejected.append((c, Rejected(box, "not a digit", float(r))))
            elif p < self.conf * (CHAIN_SHARE if id(c) in carried else 1.0):
                rejected.append((c, Rejected(box, "low confidence", float(p))))
            else:
                accepted.append((c, Digit(int(d), float(p), box, probs=probs)))
        out = things([c for c, _ in accepted])
        rejected += [(c, Rejected(d.box, "not writing", d.confidence)) for c, d in accepted if id(c) in out]
        return [d for c, d in accepted if id(c) not in out], rejected


def locate(frame: np.ndarray, max_side: int | None = None, polarity: str = "auto",
           timings: dict | None = None, last_turn: float | None = None
           ) -> tuple[preprocess.Prepared, list[cand.Candidate]]:
    """A frame's prepared images and digit candidates, looked at again enlarged when its digits are
    small, or turned level when the page is tilted.

    A 640x480 webcam that sees a whole page writes each digit 8-15 px tall. At
    that size the threshold fuses a digit's strokes and loops (a 7's bar and
    stem, two touching digits: one shapeless blob, dropped as one stroke), a
    rule takes the top off digits sitting on it, and a 7 px 1 is under the
    minimum height. Enlarged (cubic) to about ZOOM_TO px before the threshold,
    strokes stay apart, as they do for digits written large. It costs a second
    pass at up to MAX_ZOOM^2 the pixels, only on frames whose typical digit is
    under SMALL_DIGIT px; such a frame is then read by the small-digit model.
    A tilted page's ink maps are turned level and cut again (tilt.estimate; last_turn:
    the previous video frame's turn, kept while it still fits): rules tilted past a
    few degrees are no straight runs to the line finder, and digits on them were lost.
    Training cuts its ORAND pieces, clutter and small digits with this too.
    """
    timings = {} if timings is None else timings
    t = time.perf_counter()
    prep = preprocess.prepare(frame, max_side, polarity)
    t = _lap(timings, "preprocess", t)
    found = frame_candidates(prep)
    t = _lap(timings, "candidates", t)
    zoom = _zoom(found)
    turn = tilt.estimate(prep.binary, [c.box for c in found if c.blob < 0], last_turn)
    if zoom > 1.0 or turn:
        again = (preprocess.prepare(frame, max_side, "light" if prep.light_ink else "dark", zoom, prep.pages)
                 if zoom > 1.0 else prep)
        prep = preprocess.level(again, turn) if turn else again  # turning needs no new ink maps
        t = _lap(timings, "preprocess", t)
        found = frame_candidates(prep)
        _lap(timings, "candidates", t)
    return prep, found


def _too_thin(h: int, w: int, max_side: int | None) -> bool:
    """Is a frame's short side, at working size, under the shortest digit it could hold?"""
    scale = preprocess.working_scale(h, w, max_side)
    return min(h, w) * scale < preprocess.min_digit_height((round(h * scale), round(w * scale)))


def _zoom(found: list[cand.Candidate]) -> float:
    """How much to enlarge a frame whose typical digit is under SMALL_DIGIT px (1: not at all)."""
    tall = cand.typical_height([[*c.box, None] for c in found if c.parts == 1 and not c.tail])
    if tall <= 0 or tall >= SMALL_DIGIT:
        return 1.0
    return min(MAX_ZOOM, ZOOM_TO / tall)


def frame_candidates(prep: preprocess.Prepared) -> list[cand.Candidate]:
    """A prepared frame's digit candidates: lines out (long ones first, then box borders once
    the digit size is known), then blobs. Training cuts its ORAND pieces with this too.

    Clusters of specks (dots, a dashed rule) are dropped only here, after
    they have told the border pass whether free-standing rules are present.
    When every candidate is a piece of a wide blob (a row of boxes scanned
    small: each digit touches its box, whose borders are shorter than a long
    line), no lone digit tells the digit size, so the first estimate stands
    in; and the borders of the empty boxes, too slender to be candidates, are
    looked for among all the blobs.
    """
    estimate = cand.estimate_height(prep.binary)
    first = max(lines.default_length(prep.binary.shape), int(LINE_HEIGHTS * estimate))
    bar = max(BAR_MIN, int(BAR_SHARE * estimate))
    clean, ruled = lines.remove_lines(prep.binary, length=first, ink=prep.ink, bar=bar)
    found = cand.find_candidates(prep.ink, clean, prep.sharp)
    lone = cand.typical_height([[*c.box, None] for c in found if c.parts == 1])
    border = int(BORDER_SHARE * (lone or estimate))
    boxes = [c.box for c in found] if lone else cand.components(clean)[1][1:, :4].tolist()
    if found and border < first and _has_borders(boxes, border):
        clean, _ = lines.remove_lines(clean, length=border, slant=BORDER_SLANT)
        found = cand.find_candidates(prep.ink, clean, prep.sharp)
    found = [c for c in found if not c.specks and not lines.is_remnant(c.box, ruled)]
    return [c for c in found if not (lines.slender(c.box) and faint_dash(prep, c.box, first))]


def faint_dash(prep: preprocess.Prepared, box, length: int) -> bool:
    """Is this thin upright piece a dash of a faint vertical line (`lines.is_remnant`), the line
    being found in the ink map thresholded at FAINT_SHARE of where the pen's ink starts?

    A faint printed grid seen small (a Sudoku at webcam size, a phone photo
    at half size) thresholds at the pen's level into dashes, each shorter
    than a line and each a perfect 1. Lower down the same line is whole.
    Only the strip the line would run through is thresholded again, and
    nothing is removed: at the lower level the pen's strokes merge with
    nearby lines and the paper's texture, and removing the lines found there
    cut the digits (ORAND strings 81% -> 68% exact). Hand-filled Sudoku
    photos at half size: F1 0.922 -> 0.940, 9 false 1s fewer.
    """
    x, y, w, h = box
    x0, y0 = max(0, x - lines.SLANT_PX), max(0, y - length)
    strip = prep.ink[y0: y + h + length, x0: x + w + lines.SLANT_PX]
    runs = lines.line_mask(preprocess.threshold(strip, FAINT_SHARE * prep.ink_start), length, horizontal=False)
    return lines.is_remnant((x - x0, y - y0, w, h), runs)


def _carried(found: list[cand.Candidate], doubted: set[int]) -> set[int]:
    """Ids of the pieces of wide blobs read as two or more digits, convincingly (not `doubted`).

    Touching digits are written fast, and one of a run of them is often
    scrawled (the third 0 of 1000 left open): alone it would be unsure, but its
    blob's reading as a whole convinced (`candidates.choose_cuts`), and
    refusing it loses the amount. Accepting such pieces at CHAIN_SHARE of the
    confidence floor, with the weaker pieces `_convincing` lets pass, read
    ORAND cheque strings 75.0% -> 78.1% exact; the scenes' clutter gave no
    more false digits.
    """
    counts = Counter(c.blob for c in found if c.blob >= 0)
    return {id(c) for c in found if c.blob >= 0 and counts[c.blob] >= 2 and id(c) not in doubted}


def things(read: list[cand.Candidate]) -> set[int]:
    """Ids of the candidates read as digits that are things in view, not writing: those (lone or
    cut from a wide blob) OBJECT_TALL times taller than the frame's typical digit with strokes
    OBJECT_STROKE times wider than its writing's, or OBJECT_HUGE times taller.

    A webcam pointed at a page also sees the pen and the hand that hold it. A
    pen is one straight dark bar, to the classifier a perfect 1 (with the
    thick runs kept, `lines.thin_only`: 0.41 -> 0.23 digits a frame on the pen
    or hand, `python -m training.evaluate_recognizer --sets pens`). The scale is set by
    the lone candidates read as digits (at least 3 of usual height; printed
    text and specks do not vote), and a big digit written with the page's own
    pen keeps its thin strokes, so a page may still mix sizes up to
    OBJECT_HUGE. Strokes are measured only when some digit is that tall:
    nothing on a plain page.
    """
    lone = [c for c in read if c.blob < 0]
    tall = cand.typical_height([[*c.box, None] for c in lone])
    big = [c for c in read if tall > 0 and c.box[3] >= OBJECT_TALL * tall]
    if not big:
        return set()
    usual = [_strokes(c) for c in lone if c.box[3] < 1.5 * tall]
    if len(usual) < 3:
        return set()
    pen = median(usual)
    return {id(c) for c in big if c.box[3] >= OBJECT_HUGE * tall or _strokes(c) >= OBJECT_STROKE * pen}


def _strokes(c: cand.Candidate) -> float:
    """Mean stroke width of a candidate's ink, in working pixels."""
    return stroke_width(c.crop.astype(np.float32) / 255.0)


def _whole_readings(found, preds: Predictions, boxes: list, digits: list[Digit],
                    rejected: list[Rejected]) -> tuple[list[Digit], list[Rejected]]:
    """A wide blob's reading stands or falls whole: the pieces of a blob that fails are rejected.

    Touching digits are digits all along the blob: a blob where the
    classifier calls one piece "not a digit", or a later check finds one in a
    word or a mark, is more often a word or a scribble whose other pieces only
    happen to look like digits (the stem of an h or f as a 1). A piece that is
    merely unsure (low confidence) does not sink its blob: cursive digits run
    together often have one weakly written member, and its neighbours are
    still digits. And a blob read as mostly 1s (at least MANY_STEMS
    pieces, more than half of them 1) is letters cut at their stems (m, n, M,
    H, u, w): a handwritten 1 is one stroke that rarely touches its
    neighbours, three times in a row never.
    """
    by_blob: dict[int, list[int]] = {}
    for k, c in enumerate(found):
        if c.blob >= 0:
            by_blob.setdefault(c.blob, []).append(k)
    if not by_blob:
        return digits, rejected
    kept = {d.box for d in digits} | {r.box for r in rejected if r.reason == "low confidence"}
    failed = set()
    for ks in by_blob.values():
        if len(ks) < 2:
            continue
        pieces = [boxes[k] for k in ks]
        ones = sum(int(preds.digits[k]) == 1 for k in ks)
        if any(b not in kept for b in pieces) or (len(ks) >= MANY_STEMS and 2 * ones > len(ks)):
            failed.update(pieces)
    if not failed:
        return digits, rejected
    keep = [d for d in digits if d.box not in failed]
    moved = [Rejected(d.box, "not a digit", d.confidence) for d in digits if d.box in failed]
    return keep, list(rejected) + moved


def surroundings(prep: preprocess.Prepared | None, todo: list[cand.Candidate]) -> np.ndarray | None:
    """The candidates' surroundings for the classifier's second channel (recognizer/context.py);
    None for a tiny image read whole (nothing around it)."""
    if prep is None:
        return None
    return context_batch(prep.ink, [c.box for c in todo])


def _image_file(path) -> np.ndarray:
    """An image file's pixels (capture.read_checked: refused by its header when too big), or FrameError."""
    from recognizer.capture import read_checked

    image, why = read_checked(Path(path))
    if image is None:
        raise FrameError(f"cannot read image {path}: {why}")
    return image


def _small_model_path(small_model, model):
    """The small-digit model to use (None: none). By default the shipped one, and only beside
    the shipped main model: a model of the user's own is used alone unless named."""
    if small_model is None:
        return SMALL_MODEL if model is None and SMALL_MODEL.is_file() else None
    if str(small_model).lower() in ("", "none"):
        return None
    path = Path(small_model)
    if not path.is_file():
        raise ModelError(f"small-digit model not found: {path}")
    return path


def _subset(preds: Predictions, keep: np.ndarray) -> Predictions:
    return Predictions(preds.digits[keep], preds.confidences[keep], preds.reject[keep], preds.probs[keep])


def _has_borders(boxes: list, border: int) -> bool:
    """Is there a free-standing rule (long and thin) as long as a box border would be?"""
    return any(max(w, h) > border and min(w, h) * RULE_SLENDER < max(w, h) for _, _, w, h in boxes)


def _border_is_dark(gray: np.ndarray) -> bool:
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return float(np.median(border)) < float(gray.mean())


def _to_input(box, prep: preprocess.Prepared | None, size) -> tuple[int, int, int, int]:
    """Working-size box -> input pixels, clipped to the frame (a turned frame: to its level canvas)."""
    if prep is None:
        return tuple(box)
    x, y, w, h = (v / prep.scale for v in box)
    if prep.level_to_input is None:
        w_in, h_in = size
    else:
        h_in, w_in = (v / prep.scale for v in prep.binary.shape)
    return _clip(x, y, x + w, y + h, w_in, h_in)


def _off_the_edge(digits: list[Digit], rejected: list[Rejected], prep: preprocess.Prepared,
                  size) -> tuple[list[Digit], list[Rejected]]:
    """Digits touching the frame's edge (within EDGE_NEAR of its size) that are cut by it are
    rejected ("at frame edge"). In a frame turned level, all of them unless they fill much
    of it (EDGE_SUBJECT of its height: a close-up); in a level frame, only slivers whose ink
    runs on to the edge (`_runs_off`).

    A tilted page on a desk rarely fills the frame: between its corners and the
    frame's edge lie thin wedges of desk, bounded by the page's straight edge,
    which the classifier reads as 1s (0.4 of them a tilted scene). Writing cut
    by the frame's edge is half a digit anyway. A page turned too little for its
    tilt to be measured leaves its frame level, with the same wedges (0.1 false
    digits a tilted scene); but a level frame is also a tightly cropped strip of
    digits touching its edges, or a video frame panning over a page, whose
    digits half in view mostly read right: there only a wedge's thin tip goes.
    """
    near = max(2.0, EDGE_NEAR * max(size))
    turned = prep.level_to_input is not None
    keep, moved = [], []
    for d in digits:
        box = _unlevelled(d.box, prep, size)
        if at_edge(box, *size, near) and (box[3] < EDGE_SUBJECT * size[1] if turned else _runs_off(box, prep, near)):
            moved.append(Rejected(d.box, "at frame edge", d.confidence))
        else:
            keep.append(d)
    return keep, list(rejected) + moved


def _runs_off(box, prep: preprocess.Prepared, near: float) -> bool:
    """In a level frame, is this box a sliver whose ink runs on past the frame's edge (the tip
    of a wedge of desk beyond a page's corner), rather than stopping short of it (a 1
    written near the edge: paper between them)?

    Inky all the way: the box touches the edge, or the ink map between it and
    the edge holds at least INK_ON of the box's own ink. Only slivers (EDGE_SLIVER)
    under EDGE_LEVEL of the frame's height: the digits of a tightly cropped strip
    (a cheque amount) touch its edges and fill a good part of its height.
    """
    ink = prep.ink
    H, W = ink.shape
    x, y, w, h = (int(round(v * prep.scale)) for v in box)
    if h >= EDGE_LEVEL * H or w >= EDGE_SLIVER * h:
        return False
    own = ink[y:y + h, x:x + w]
    level = own[own > 0].mean() if own.any() else 0.0
    gaps = [(y, ink[:y, x:x + w]), (H - y - h, ink[y + h:, x:x + w]),
            (x, ink[y:y + h, :x]), (W - x - w, ink[y:y + h, x + w:])]
    near *= prep.scale
    return any(gap <= near and (strip.size == 0 or strip.mean() >= INK_ON * level) for gap, strip in gaps)


def _turn_back(items: list, prep: preprocess.Prepared, size) -> None:
    """Boxes of a frame turned level (digits, numbers, rejected) -> the input's own pixels, in place."""
    for item in items:
        item.box = _unlevelled(item.box, prep, size)


def _unlevelled(box, prep: preprocess.Prepared, size) -> tuple[int, int, int, int]:
    """A box of the level frame -> the upright box around it in the input, clipped to the frame."""
    x, y, w, h = prep.unlevel(box)
    return _clip(x, y, x + w, y + h, *size)


def _clip(x0: float, y0: float, x1: float, y1: float, w_in: float, h_in: float) -> tuple[int, int, int, int]:
    x0, y0 = max(0, int(round(x0))), max(0, int(round(y0)))
    x1, y1 = min(int(round(w_in)), int(round(x1))), min(int(round(h_in)), int(round(y1)))
    return (x0, y0, x1 - x0, y1 - y0)


def _lap(timings: dict, stage: str, start: float) -> float:
    now = time.perf_counter()
    timings[stage] = timings.get(stage, 0.0) + now - start
    return now
