"""Turn a crop of one digit into the 28x28 MNIST-style image the CNN was trained on.

This is the one place where a camera crop is made to look like MNIST. Training,
evaluation and the runtime all call it, so the classifier never sees a digit
prepared differently from the way it learned them.

MNIST convention (LeCun et al.): ink white on black, the digit's bounding box
scaled to fit 20x20 keeping its aspect ratio, anti-aliased, then placed in a
28x28 field so that its centre of mass sits at the centre.
"""
from __future__ import annotations

import cv2
import numpy as np

from recognizer.preprocess import otsu_level

NORMALIZATION_VERSION = 1
SIZE = 28
FIT = 20
INK_FLOOR = 0.12  # fraction of the ink level below which a pixel counts as paper
OTSU_SHARE = 0.6  # below this share of Otsu's ink/paper split is paper texture (cheque patterns)
THIN_STROKE_PX = 1.9  # strokes thinner than this at 28x28 are thickened toward MNIST's ~2.5 px
SPECK_FRAC = 0.05  # ink islands smaller than this share of the main stroke are dust


def to_gray(image: np.ndarray) -> np.ndarray:
    """Any OpenCV image (gray, BGR, BGRA, 8 or 16 bit, float) -> float32 gray in [0, 1]."""
    img = np.asarray(image)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    if img.ndim == 3:
        code = cv2.COLOR_BGRA2GRAY if img.shape[2] == 4 else cv2.COLOR_BGR2GRAY
        img = cv2.cvtColor(img, code)
    if img.dtype == np.uint8:
        return img.astype(np.float32) / 255.0
    if img.dtype == np.uint16:
        return img.astype(np.float32) / 65535.0
    img = img.astype(np.float32)
    lo, hi = float(img.min()), float(img.max())
    if lo < 0.0 or hi > 1.0:  # e.g. USPS in [-1, 1]
        img = (img - lo) / max(hi - lo, 1e-6)
    return img


def ink_is_dark(gray: np.ndarray) -> bool:
    """Guess polarity: the crop's border is mostly paper, so ink is whatever differs from it."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return float(np.median(border)) > float(gray.mean())  # works for uint8 and float alike


def to_gray8(image: np.ndarray) -> np.ndarray:
    """Any OpenCV image -> uint8 gray; 8-bit crops (the usual case) pass straight through."""
    img = np.asarray(image)
    if img.dtype == np.uint8 and img.ndim == 2:
        return img
    return (to_gray(img) * 255.0 + 0.5).astype(np.uint8)


_LEVELS = np.arange(256, dtype=np.float32)
_CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))


def ink_map(crop: np.ndarray, ink: str = "auto"):
    """Crop -> (float32 map where paper is 0 and full ink is 1, uint8 mask of ink > 0).

    ink: "auto" guesses polarity from the border, "dark" means dark ink on light
    paper, "light" means light ink (chalk, MNIST) on a dark ground. Paper and
    full ink are the 10th and 99.5th percentiles; below a share of Otsu's split
    is paper texture (cheque patterns). All through 256-level lookup tables, so
    a crop costs a few microseconds. Returns (None, None) for a blank crop.
    """
    gray = to_gray8(crop)
    if ink_is_dark(gray) if ink == "auto" else ink == "dark":
        gray = 255 - gray
    cdf = np.cumsum(np.bincount(gray.ravel(), minlength=256))
    total = int(cdf[-1])  # scalar look-ups: a list through np.searchsorted costs 3x more
    paper, full = int(cdf.searchsorted(0.10 * total)), int(cdf.searchsorted(0.995 * total))
    if full - paper < 1:
        return None, None
    lut = _LEVELS - paper
    lut /= full - paper
    lut = np.minimum(np.maximum(lut, 0.0, out=lut), 1.0, out=lut)  # what np.clip does, minus its overhead
    otsu = otsu_level(cv2.LUT(gray, (lut * 255.0).astype(np.uint8)))
    lut[lut < max(INK_FLOOR, OTSU_SHARE * otsu / 255.0)] = 0.0
    return cv2.LUT(gray, lut), cv2.LUT(gray, (lut > 0).view(np.uint8))


def deskew(img: np.ndarray) -> np.ndarray:
    """Shear a 28x28 digit upright using its second-order moments (OpenCV digits sample)."""
    m = cv2.moments(img)
    if abs(m["mu02"]) < 1e-2:
        return img
    skew = m["mu11"] / m["mu02"]
    shear = np.float32([[1, skew, -0.5 * SIZE * skew], [0, 1, 0]])
    return cv2.warpAffine(img, shear, (SIZE, SIZE), flags=cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR)


def center_of_mass_shift(img: np.ndarray) -> np.ndarray:
    """Shift by whole pixels so the ink's centre of mass lands within half a pixel of the centre.

    Whole-pixel shifts keep thin strokes sharp, as MNIST's own shifts did.
    """
    m = cv2.moments(img)
    if m["m00"] <= 1e-6:
        return img
    cx, cy = m["m10"] / m["m00"], m["m01"] / m["m00"]
    centre = (SIZE - 1) / 2.0
    return _shift_whole(img, round(centre - cx), round(centre - cy))


def _shift_whole(img: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """img moved dx, dy whole pixels into a SIZExSIZE field, 0 where nothing lands.

    Exactly what cv2.warpAffine with a whole-pixel translation and INTER_NEAREST gives
    (each output pixel is one input pixel or 0), as one slice copy: half its cost.
    """
    out = np.zeros((SIZE, SIZE), img.dtype)
    y0, y1 = max(0, dy), min(SIZE, img.shape[0] + dy)
    x0, x1 = max(0, dx), min(SIZE, img.shape[1] + dx)
    if y0 < y1 and x0 < x1:
        out[y0:y1, x0:x1] = img[y0 - dy:y1 - dy, x0 - dx:x1 - dx]
    return out


def drop_specks(ink: np.ndarray, mask: np.ndarray, frac: float = SPECK_FRAC):
    """Zero small ink islands away from the digit (a trailing dot, dust, a neighbour's tip).

    Islands that touch the main stroke's box (the bar of a 5, the dot of a
    broken 4) are kept: only small AND separate ones go. Returns the ink and
    the box [x, y, w, h] of what is kept (None: no ink). Most crops are one
    blob, so components are first counted without stats (4x cheaper); the
    islands go in one pass through a lookup by label (a noisy frame-sized crop
    of 1,000 islands took 1 s zeroing them one by one).
    """
    n, _ = cv2.connectedComponents(mask, connectivity=8)
    if n <= 2:
        return ink, (cv2.boundingRect(mask) if n == 2 else None)
    n, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(mask, 8, cv2.CV_32S, cv2.CCL_DEFAULT)
    areas = stats[1:, cv2.CC_STAT_AREA]
    main = 1 + int(areas.argmax())
    x, y, w, h = stats[main, :4]
    pad = max(2, int(0.1 * max(w, h)))
    x0, y0, x1, y1 = x - pad, y - pad, x + w + pad, y + h + pad
    cx, cy, cw, ch, area = stats[1:, :5].T
    apart = (cx > x1) | (cy > y1) | (cx + cw < x0) | (cy + ch < y0)
    gone = (area < frac * areas.max()) | (apart & (area < 3 * frac * areas.max()))
    out = ink.copy()
    out[np.concatenate([[False], gone])[labels]] = 0  # one pass over the pixels, however many islands
    k = stats[1:, :4][~gone]
    bx, by = int(k[:, 0].min()), int(k[:, 1].min())
    return out, (bx, by, int((k[:, 0] + k[:, 2]).max()) - bx, int((k[:, 1] + k[:, 3]).max()) - by)


def fit_box(ink: np.ndarray, box) -> np.ndarray:
    """Scale the ink's bounding box to fit FITxFIT keeping aspect, in a SIZExSIZE field."""
    bx, by, w, h = box
    scale = FIT / max(h, w)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(ink[by: by + h, bx: bx + w], (nw, nh), interpolation=interp)
    field = np.zeros((SIZE, SIZE), np.float32)
    y0, x0 = (SIZE - nh) // 2, (SIZE - nw) // 2
    field[y0: y0 + nh, x0: x0 + nw] = small
    return field


def stroke_width(img: np.ndarray) -> float:
    """Mean stroke width in pixels: twice the ink area over its outline length."""
    mask = np.greater(img, 0.3).view(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    perimeter = sum(cv2.arcLength(c, True) for c in contours)
    return 2.0 * float(cv2.countNonZero(mask)) / perimeter if perimeter > 0 else 0.0


def thicken_thin_strokes(img: np.ndarray) -> np.ndarray:
    """Fine pens and far cameras give 1 px strokes; MNIST was written with thick ones."""
    return cv2.dilate(img, _CROSS) if 0 < stroke_width(img) < THIN_STROKE_PX else img


def _unclipped(crop: np.ndarray, ink: str, deskew_digit: bool) -> np.ndarray:
    """The steps in order; the caller clips (once per batch)."""
    mapped, mask = ink_map(crop, ink)
    if mapped is None:
        return np.zeros((SIZE, SIZE), np.float32)
    mapped, box = drop_specks(mapped, mask)
    if box is None:
        return np.zeros((SIZE, SIZE), np.float32)
    img = thicken_thin_strokes(fit_box(mapped, box))
    if deskew_digit:
        img = deskew(img)
    return center_of_mass_shift(img)


def normalize_crop(crop: np.ndarray, ink: str = "auto", deskew_digit: bool = False) -> np.ndarray:
    """One digit crop (any size, polarity, gray/BGR/binary) -> 28x28 float32 in [0, 1].

    Ink ends up white on black, fit into 20x20 with its aspect kept and centred
    by centre of mass, exactly as MNIST was prepared.
    """
    return np.clip(_unclipped(crop, ink, deskew_digit), 0.0, 1.0)


def normalize_batch(crops, ink: str = "auto", deskew_digit: bool = False) -> np.ndarray:
    """Many crops -> (N, 28, 28) float32, ready for one batched inference call (clipped once)."""
    if len(crops) == 0:
        return np.zeros((0, SIZE, SIZE), np.float32)
    batch = np.stack([_unclipped(c, ink, deskew_digit) for c in crops])
    return np.clip(batch, 0.0, 1.0, out=batch)
