"""Synthesize "not a digit" crops for the 11th class.

A camera frame holds much ink that is not a digit: pieces of strokes, blobs,
ruled lines, box corners and grid crossings, letters of printed labels, half a
digit cut off by the frame, two touching digits read as one. Each generator
draws such a thing on a canvas, then the crop goes through the SAME
`normalize_crop` the runtime uses, so the classifier learns what the detector
will actually hand it. Shapes that are genuinely digit-like (a near-vertical
stroke is a 1, a top bar with a right stem is a 7) are left out on purpose.
"""
from __future__ import annotations

import cv2
import numpy as np

from recognizer.normalize import normalize_crop

CANVAS = 64
LETTERS = "ACEFHKMNPRTUVWXYaehkmnrtuvwxy#%&*?@"


def _canvas() -> np.ndarray:
    return np.zeros((CANVAS, CANVAS), np.uint8)


def _thickness(rng) -> int:
    return int(rng.integers(2, 7))


def arc_fragment(rng, digits=None) -> np.ndarray:
    """A short curved piece of a stroke, wider than a '1' could be."""
    while True:
        img = _canvas()
        axes = (int(rng.integers(10, 28)), int(rng.integers(10, 28)))
        start = float(rng.uniform(0, 360))
        span = float(rng.uniform(60, 150))
        cv2.ellipse(img, (32, 32), axes, 0, start, start + span, 255, _thickness(rng))
        ys, xs = np.nonzero(img)
        if np.ptp(xs) >= 0.6 * np.ptp(ys):
            return img


def blob(rng, digits=None) -> np.ndarray:
    """A filled irregular blob: ink smudge, thumb, dark spot."""
    img = _canvas()
    pts = rng.integers(8, 56, size=(int(rng.integers(4, 9)), 2)).astype(np.int32)
    cv2.fillPoly(img, [cv2.convexHull(pts)], 255)
    return img


def line(rng, digits=None) -> np.ndarray:
    """A straight line no steeper than 50 degrees (steeper ones are 1s)."""
    img = _canvas()
    angle = np.deg2rad(rng.uniform(-50, 50))
    length = rng.uniform(20, 30)
    dx, dy = length * np.cos(angle), length * np.sin(angle)
    cv2.line(img, (int(32 - dx), int(32 - dy)), (int(32 + dx), int(32 + dy)), 255, _thickness(rng))
    return img


def corner(rng, digits=None) -> np.ndarray:
    """A box corner: two arms at a right angle (the 7-like top-right corner excluded)."""
    img = _canvas()
    t = _thickness(rng)
    kind = rng.choice(["tl", "bl", "br"])
    a, b = int(rng.integers(8, 20)), int(rng.integers(44, 56))
    if kind == "tl":
        cv2.line(img, (a, a), (b, a), 255, t); cv2.line(img, (a, a), (a, b), 255, t)
    elif kind == "bl":
        cv2.line(img, (a, b), (b, b), 255, t); cv2.line(img, (a, a), (a, b), 255, t)
    else:
        cv2.line(img, (a, b), (b, b), 255, t); cv2.line(img, (b, a), (b, b), 255, t)
    return img


def crossing(rng, digits=None) -> np.ndarray:
    """Grid crossings: a plus, or a T pointing down, left or up."""
    img = _canvas()
    t = _thickness(rng)
    c = int(rng.integers(24, 40))
    lo, hi = int(rng.integers(4, 14)), int(rng.integers(50, 60))
    kind = rng.choice(["plus", "down", "up", "left"])
    horiz = {"plus": (lo, hi), "down": (lo, hi), "up": (lo, hi), "left": (lo, c)}[kind]
    vert = {"plus": (lo, hi), "down": (c, hi), "up": (lo, c), "left": (lo, hi)}[kind]
    cv2.line(img, (horiz[0], c), (horiz[1], c), 255, t)
    cv2.line(img, (c, vert[0]), (c, vert[1]), 255, t)
    return img


def letter(rng, digits=None) -> np.ndarray:
    """A printed or sloppy letter/symbol from a form's labels."""
    img = _canvas()
    ch = LETTERS[int(rng.integers(len(LETTERS)))]
    font = int(rng.choice([cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX,
                           cv2.FONT_HERSHEY_COMPLEX, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX]))
    cv2.putText(img, ch, (12, 48), font, 1.5, 255, int(rng.integers(2, 5)), cv2.LINE_AA)
    return img


def noise(rng, digits=None) -> np.ndarray:
    """Speckle: paper texture, dust, JPEG noise that survived thresholding."""
    img = (rng.random((CANVAS, CANVAS)) < rng.uniform(0.02, 0.12)).astype(np.uint8) * 255
    return cv2.dilate(img, np.ones((2, 2), np.uint8)) if rng.random() < 0.5 else img


def scribble(rng, digits=None) -> np.ndarray:
    """A wobbly pen line crossed out or doodled beside the digits, or a piece of one:
    clearly wider than tall, so no digit looks like it."""
    while True:
        img = _canvas()
        n = int(rng.integers(4, 11))
        xs = np.linspace(4, 60, n)
        ys = 32 + rng.normal(0, rng.uniform(3, 10), n)
        pts = np.stack([xs, ys], 1).astype(np.int32)
        cv2.polylines(img, [pts], False, 255, int(rng.integers(1, 5)), cv2.LINE_AA)
        ys_ink, xs_ink = np.nonzero(img)
        if np.ptp(xs_ink) >= 1.6 * np.ptp(ys_ink):
            return img


def half_digit(rng, digits) -> np.ndarray:
    """The top or bottom third of a real digit, as when a digit is cut by the frame edge.

    Only slices clearly wider than tall: a slice of a 1, or a narrow one that
    still looks like a whole 0 or 1, would teach the model to reject real digits.
    """
    while True:
        img = digits[int(rng.integers(len(digits)))].copy()
        ys, xs = np.nonzero(img > 60)
        y0, y1 = ys.min(), ys.max() + 1
        keep = int((y1 - y0) * rng.uniform(0.28, 0.42))
        if rng.random() < 0.5:
            img[y0 + keep:] = 0
        else:
            img[: y1 - keep] = 0
        ys, xs = np.nonzero(img > 60)
        if len(xs) and np.ptp(xs) + 1 >= 1.4 * (np.ptp(ys) + 1):
            return img


def two_digits(rng, digits) -> np.ndarray:
    """Two digits squeezed into one crop: a failed split of touching digits."""
    a = digits[int(rng.integers(len(digits)))]
    b = digits[int(rng.integers(len(digits)))]
    overlap = int(rng.integers(4, 12))
    img = np.zeros((28, 56 - overlap), np.uint8)
    img[:, :28] = a
    img[:, 28 - overlap:] = np.maximum(img[:, 28 - overlap:], b)
    return img


GENERATORS = [arc_fragment, blob, line, corner, crossing, letter, noise, scribble, half_digit, two_digits]


def make_negatives(count: int, digits: np.ndarray, seed: int) -> np.ndarray:
    """`count` normalized 28x28 negatives, an equal share from every generator."""
    rng = np.random.default_rng(seed)
    out = np.zeros((count, 28, 28), np.float32)
    for i in range(count):
        gen = GENERATORS[i % len(GENERATORS)]
        out[i] = normalize_crop(gen(rng, digits), ink="light")
    return out
