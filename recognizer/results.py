"""The results of one frame: what every output path (window, video, JSON, CSV) consumes.

Shaped like Ultralytics' Results: it carries the digits and numbers, draws
itself (`plot`) and serializes itself (`to_record`, `to_json`). Boxes are always
in the input image's own pixels, [x, y, w, h].

JSON record contract (one object per line; keep stable, documented in README):
{"source": str, "frame": int, "width": int, "height": int,
 "digits": [{"digit": int, "confidence": float, "box": [x, y, w, h]}],
 "numbers": [{"text": str, "confidence": float, "box": [x, y, w, h]}]}
Video adds "time" (seconds) per frame and "track" (int) per digit. Each number lists the
indexes of its digits in "digits"; each record read by a Recognizer names the model that read
it and the thresholds in force: "model": {"name", "version", "sha256", "conf", "reject"}.
`Results.from_record` reads a record back; `results.filter(mask)` keeps some digits.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

import numpy as np

Box = tuple[int, int, int, int]  # x, y, w, h in input pixels


def union_box(boxes) -> Box:
    """The smallest (x, y, w, h) holding all the boxes (a number's digits, a candidate's pieces)."""
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[0] + b[2] for b in boxes), max(b[1] + b[3] for b in boxes)
    return int(x0), int(y0), int(x1 - x0), int(y1 - y0)


def at_edge(box, width: float, height: float, margin: float) -> bool:
    """Does a box come within `margin` px of a width x height frame's border (a digit cut by it)?"""
    x, y, w, h = box
    return min(x, y, width - x - w, height - y - h) <= margin


@dataclass
class Digit:
    """One accepted digit."""

    digit: int
    confidence: float
    box: Box
    probs: np.ndarray | None = None  # class probabilities (11), for smoothing
    track: int | None = None

    def to_record(self) -> dict:
        rec = {"digit": int(self.digit), "confidence": round(float(self.confidence), 4),
               "box": [int(v) for v in self.box]}
        if self.track is not None:
            rec["track"] = int(self.track)
        return rec


@dataclass
class Number:
    """Digits on one line, close together, read left to right as one number."""

    text: str
    confidence: float
    box: Box
    digits: list[Digit] = field(default_factory=list)

    def to_record(self) -> dict:
        return {"text": self.text, "confidence": round(float(self.confidence), 4),
                "box": [int(v) for v in self.box]}


@dataclass
class Rejected:
    """A candidate the classifier judged not to be a digit (or not sure enough)."""

    box: Box
    reason: str  # "not a digit", "low confidence", "in a word", "not writing" (video: "unconfirmed", ...)
    confidence: float

    def to_record(self) -> dict:
        return {"box": [int(v) for v in self.box], "reason": self.reason,
                "confidence": round(float(self.confidence), 4)}


@dataclass
class Results:
    """Everything recognized in one frame."""

    source: str
    frame: int
    width: int
    height: int
    digits: list[Digit] = field(default_factory=list)
    numbers: list[Number] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    time: float | None = None  # seconds into a video
    timings: dict = field(default_factory=dict)  # stage -> seconds, for benchmarks
    model: dict | None = None  # the model that read the frame and the thresholds (Recognizer.identity)

    def to_record(self) -> dict:
        rec = {"source": self.source, "frame": int(self.frame),
               "width": int(self.width), "height": int(self.height)}
        if self.time is not None:
            rec["time"] = round(float(self.time), 4)
        rec["digits"] = [d.to_record() for d in self.digits]
        index = {id(d): i for i, d in enumerate(self.digits)}
        rec["numbers"] = [{**n.to_record(), "digits": [index[id(d)] for d in n.digits if id(d) in index]}
                          for n in self.numbers]
        rec["rejected"] = [r.to_record() for r in self.rejected]
        if self.model:
            rec["model"] = dict(self.model)
        return rec

    @classmethod
    def from_record(cls, rec: dict) -> "Results":
        """A record (`to_record`, a JSON line) read back; a number's digits are the frame's own."""
        digits = [Digit(int(d["digit"]), float(d["confidence"]), tuple(d["box"]), track=d.get("track"))
                  for d in rec.get("digits", [])]
        numbers = [Number(n["text"], float(n["confidence"]), tuple(n["box"]),
                          [digits[i] for i in n.get("digits", []) if 0 <= i < len(digits)])
                   for n in rec.get("numbers", [])]
        rejected = [Rejected(tuple(r["box"]), r["reason"], float(r["confidence"])) for r in rec.get("rejected", [])]
        return cls(rec["source"], int(rec["frame"]), int(rec["width"]), int(rec["height"]), digits, numbers,
                   rejected, time=rec.get("time"), model=rec.get("model"))

    def filter(self, keep) -> "Results":
        """These results with only the digits where `keep` (booleans, one per digit) is true, and
        the numbers all of whose digits are kept (a number read from an older record lists none:
        kept); new lists, the original is left as it was: `results.filter([d.confidence > 0.9 for d in results.digits])`."""
        keep = np.asarray(keep, bool)
        if keep.shape != (len(self.digits),):
            raise ValueError(f"filter needs one boolean per digit ({len(self.digits)}), not shape {keep.shape}")
        kept = [d for d, k in zip(self.digits, keep) if k]
        ids = {id(d) for d in kept}
        numbers = [n for n in self.numbers if all(id(d) in ids for d in n.digits)]  # none listed: kept
        return replace(self, digits=kept, numbers=numbers, rejected=list(self.rejected), timings=dict(self.timings))

    def plot(self, image: np.ndarray, annotators=None, rejected: bool = False) -> np.ndarray:
        """Annotated BGR copy of `image` (the frame these results came from).

        Draws boxes, digits with confidence and numbers through the annotator
        classes in recognizer/overlay.py; pass your own list to add layers.
        """
        from recognizer import overlay  # drawing lives with the annotators

        scene = overlay.as_bgr8(image)
        if annotators is None:
            annotators = [overlay.RejectedAnnotator()] if rejected else []
            annotators += [cls() for cls in overlay.DEFAULT_ANNOTATORS]
        return overlay.annotate(scene, self, annotators)

    def to_json(self) -> str:
        return json.dumps(self.to_record(), separators=(",", ":"))
