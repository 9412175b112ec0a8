"""Pages of printed words and scribbles, photographed and cut by the recognizer itself:
"not a digit" crops exactly as the runtime hands them to the model.

The drawn negatives (`training/negatives.py`) are single glyphs centred on a
canvas. In a photo, printed words run their letters together, the candidate
stage cuts them at their stems, blur and JPEG soften them, and small ones are
cropped from the unblurred ink map. Those crops, not a clean glyph, are what
the model must refuse; with v14 printed capitals (N, A, H, K) and zig-zag doodles
were most of the digits reported on clutter. So each page here holds only
non-digit marks, goes through the runtime's own `locate` (prepare and cut),
and every candidate it yields is labelled "not a digit".

Glyphs that people do take for digits (O, I, l, S, Z, B, G, b, g, q, o, T, ...) are
left out, as in the drawn negatives.
"""
from __future__ import annotations

import cv2
import numpy as np

from recognizer.normalize import normalize_batch
from recognizer.pipeline import locate
from training.realdata import SLIVER  # crops narrower than this share of their height look like a 1
from training.scenes import INKS, jpeg, paper, photograph

LETTERS = "ACEFHKMNPRUVWXYcfhkmnruvwxy#%&@*"  # no "?": without its dot it is a 2 or a 7
FONTS = [cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX,
         cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_PLAIN, cv2.FONT_HERSHEY_COMPLEX_SMALL]
MARKS_PER_PAGE = (8, 16)
STRAIGHT = 0.05  # ink whose spread across its main axis is under this share of the spread along it: a line


def printed_word(page: np.ndarray, rng: np.random.Generator, x: int, y: int, height: int) -> None:
    """2-6 letters in a Hershey font (upright or italic), letters touching or not."""
    font = int(rng.choice(FONTS)) | (cv2.FONT_ITALIC if rng.random() < 0.25 else 0)
    scale = cv2.getFontScaleFromHeight(font & ~cv2.FONT_ITALIC, height)
    thickness = max(1, int(height * rng.uniform(0.04, 0.12)))
    text = "".join(rng.choice(list(LETTERS), int(rng.integers(2, 7))))
    gray = int(rng.integers(20, 90))
    cv2.putText(page, text, (x, y + height), font, scale, (gray, gray, gray), thickness, cv2.LINE_AA)


def zigzag(page: np.ndarray, rng: np.random.Generator, x: int, y: int, height: int) -> None:
    """A doodle: 3-8 strokes up and down (M, W, N shapes and saw teeth), about as wide as tall or wider."""
    n = int(rng.integers(4, 10))
    width = height * rng.uniform(0.7, 3.5)
    xs = x + np.sort(rng.uniform(0, width, n))
    ys = y + np.where(np.arange(n) % 2 == 0, 0.0, height) + rng.normal(0, 0.15 * height, n)
    pts = np.stack([xs, ys], 1).astype(np.int32)
    ink = INKS[rng.integers(len(INKS))]
    cv2.polylines(page, [pts], False, ink, int(rng.integers(1, 4)), cv2.LINE_AA)


def clutter_page(rng: np.random.Generator, width: int = 640, height: int = 480) -> np.ndarray:
    """One photographed page of printed words and doodles at many sizes, no digit on it."""
    page = paper(rng, width, height, ruled=bool(rng.random() < 0.5))
    for _ in range(int(rng.integers(*MARKS_PER_PAGE))):
        size = int(np.exp(rng.uniform(np.log(10), np.log(70))))  # small words as often as big ones
        x, y = int(rng.integers(0, width - size)), int(rng.integers(0, height - size - 4))
        (printed_word if rng.random() < 0.55 else zigzag)(page, rng, x, y, size)
    image, _ = photograph(page, rng, rng.uniform(0.3, 1.2))
    return jpeg(image, rng)


def one_like(crop: np.ndarray, box) -> bool:
    """A stem or a single straight stroke (a letter's upright, one tooth of a zig-zag): a 1 as far
    as anyone can tell, so never taught as "not a digit"."""
    w, h = box[2], box[3]
    if w < SLIVER * h:
        return True
    ys, xs = np.nonzero(crop > 64)
    if len(xs) < 3:
        return True
    spread = np.linalg.eigvalsh(np.cov(np.stack([xs, ys]).astype(np.float64)))
    return spread[0] < STRAIGHT * spread[1]


def clutter_cuts(count: int, seed: int) -> np.ndarray:
    """`count` normalized 28x28 "not a digit" crops from clutter pages, cut by the runtime."""
    rng = np.random.default_rng(seed)
    crops: list[np.ndarray] = []
    while len(crops) < count:
        _, found = locate(clutter_page(rng))
        crops += [c.crop for c in found if not c.tail and not one_like(c.crop, c.box)]
    return normalize_batch(crops[:count], ink="light")
