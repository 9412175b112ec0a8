"""Annotators that draw Results onto an image, one small class per layer.

Shaped like supervision's annotators: each has `annotate(scene, results) ->
scene` and draws in place on a BGR image the size of the frame the results
came from (boxes are in that frame's pixels). Other layers (FPS, tracks) are
written the same way and stacked in a list; `Results.plot` uses the defaults.
"""
from __future__ import annotations

import cv2
import numpy as np

GREEN = (40, 200, 40)
ORANGE = (0, 140, 255)
GREY = (150, 150, 150)


def _scale(scene: np.ndarray) -> float:
    """Line and text size grow with the image so labels stay legible on 12 Mpx photos."""
    return max(0.5, max(scene.shape[:2]) / 1000.0)


def _text(scene: np.ndarray, text: str, org: tuple[int, int], color, size: float) -> None:
    """Text with a filled backing box so it reads on any background."""
    font, thick = cv2.FONT_HERSHEY_SIMPLEX, max(1, int(round(size * 1.5)))
    (tw, th), base = cv2.getTextSize(text, font, size, thick)
    x, y = int(org[0]), max(int(org[1]), th + base)
    cv2.rectangle(scene, (x, y - th - base), (x + tw, y + base // 2), color, -1)
    cv2.putText(scene, text, (x, y - base // 2), font, size, (255, 255, 255), thick, cv2.LINE_AA)


class BoxAnnotator:
    """A rectangle around every accepted digit."""

    def __init__(self, color=GREEN, thickness: int | None = None):
        self.color, self.thickness = color, thickness

    def annotate(self, scene: np.ndarray, results) -> np.ndarray:
        t = self.thickness or max(1, int(round(2 * _scale(scene))))
        for d in results.digits:
            x, y, w, h = d.box
            cv2.rectangle(scene, (x, y), (x + w, y + h), self.color, t)
        return scene


class LabelAnnotator:
    """The digit and its confidence above each box ("7 0.98").

    Above a digit shorter than two lines of label text (a page seen from afar),
    only the digit is written: "7 0.98" is five digits wide there, and the labels
    of a number's digits would cover each other.
    """

    def __init__(self, color=GREEN, show_confidence: bool = True):
        self.color, self.show_confidence = color, show_confidence

    def annotate(self, scene: np.ndarray, results) -> np.ndarray:
        size = 0.5 * _scale(scene)
        line = cv2.getTextSize("0", cv2.FONT_HERSHEY_SIMPLEX, size, 1)[0][1]
        for d in results.digits:
            roomy = self.show_confidence and d.box[3] >= 2 * line
            label = f"{d.digit} {d.confidence:.2f}" if roomy else str(d.digit)
            _text(scene, label, (d.box[0], d.box[1] - 2), self.color, size)
        return scene


class NumberAnnotator:
    """A box around each multi-digit number and its text underneath."""

    def __init__(self, color=ORANGE, min_digits: int = 2):
        self.color, self.min_digits = color, min_digits

    def annotate(self, scene: np.ndarray, results) -> np.ndarray:
        s = _scale(scene)
        t = max(1, int(round(s)))
        for n in results.numbers:
            if len(n.text) < self.min_digits:
                continue
            x, y, w, h = n.box
            pad = max(2, h // 10)
            cv2.rectangle(scene, (x - pad, y - pad), (x + w + pad, y + h + pad), self.color, t)
            _text(scene, n.text, (x - pad, y + h + pad + int(22 * s)), self.color, 0.6 * s)
        return scene


class RejectedAnnotator:
    """Thin grey boxes for candidates judged not to be digits (debug view)."""

    def __init__(self, color=GREY):
        self.color = color

    def annotate(self, scene: np.ndarray, results) -> np.ndarray:
        for r in results.rejected:
            x, y, w, h = r.box
            cv2.rectangle(scene, (x, y), (x + w, y + h), self.color, 1)
        return scene


def as_bgr8(image: np.ndarray) -> np.ndarray:
    """A drawable 8-bit BGR copy of any input frame (gray, BGRA, 16 bit)."""
    img = np.asarray(image)
    if img.dtype != np.uint8:
        from recognizer.preprocess import to_gray8  # same scaling as the pipeline used
        img = to_gray8(img) if img.ndim == 2 or img.shape[2] != 3 else cv2.convertScaleAbs(img, alpha=255.0 / max(float(img.max()), 1.0))
    if img.ndim == 2 or img.shape[2] == 1:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    return img.copy()


DEFAULT_ANNOTATORS = (BoxAnnotator, LabelAnnotator, NumberAnnotator)


def annotate(scene: np.ndarray, results, annotators=None) -> np.ndarray:
    """Run annotators in order (default: boxes, labels, numbers) on the scene."""
    for a in annotators or [cls() for cls in DEFAULT_ANNOTATORS]:
        scene = a.annotate(scene, results)
    return scene
