"""Frame -> flat ink map and binary image, whatever the camera, paper, pen or lighting.

First stage of the flow (frame -> candidates -> 28x28 batch -> predictions ->
results). Everything after it sees one convention: a uint8 image at a working
size where ink is bright (255) and paper is dark (0), with uneven lighting and
shadows divided out. Doing that once here is what lets the later stages use
fixed, frame-relative rules.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from recognizer import paper
from recognizer.numeric import otsu_level

MAX_SIDE = 1280  # long side of the working image: enough for digits of ~15 px on a 12 Mpx photo
BACKGROUND_SIDE = 320  # the lighting is estimated on an image this size (it varies slowly)
BACKGROUND_KERNEL = 0.045  # max-filter size, share of the long side: wider than any pen stroke
DESK_SHARE = 2  # dark patches this many max-filter widths wide are not writing (a desk beside the page)
INK_MIN = 40  # ink darker than the paper by less than this (of 255) is paper texture or noise
OTSU_SHARE = 0.8  # below this share of Otsu's split is halftone print, paper grain, shadow edges
TEXTURE_SHARE = 0.04  # a frame with more than this share of its ink's boxes in specks (shorter than a digit) is textured
MIN_HEIGHT_SHARE = 0.01  # a digit is at least 1% of the long side tall ...
MIN_HEIGHT_PX = 8  # ... and at least 8 px at working size
POLARITY_MARGIN = 24  # grey levels from the median that count as ink when guessing polarity
POLARITY_SIDE = 96  # polarity is judged on a copy this size (the median filter is the cost)


@dataclass
class Prepared:
    """One frame made ready for candidate search."""

    ink: np.ndarray  # uint8, working size: 0 paper .. 255 full ink (of the 3x3-blurred frame)
    binary: np.ndarray  # uint8 0/255, working size: thresholded ink
    scale: float  # working pixels per input pixel (< 1 for big photos, > 1 when zoomed)
    light_ink: bool  # True when the input had light ink on a dark ground (chalk, MNIST)
    sharp: np.ndarray  # the same ink map without the blur, for small digits' crops
    ink_start: float  # the level `binary` was thresholded at (ink_start), kept for the frame turned level
    zoom: float = 1.0  # how much this frame was enlarged beyond its usual working size (small digits)
    tilt: float = 0.0  # degrees the writing was turned by to make it level (pipeline.locate)
    level_to_input: np.ndarray | None = None  # 2x3 affine: level (turned) input-scale pixels -> input pixels
    pages: np.ndarray | None = None  # 0/255 working size: the pages found (paper.find_pages); None: none, or turned

    def input_box(self, box) -> tuple[float, float, float, float]:
        """A working-size box (x, y, w, h) -> the box around it in input pixels (unclipped)."""
        return self.unlevel(tuple(v / self.scale for v in box))

    def unlevel(self, box) -> tuple[float, float, float, float]:
        """A box in input-scale pixels of the level frame -> the box around it in the input.

        A frame turned level is read, grouped and checked in its own level
        pixels (a number's digits share a line there); only the boxes reported
        are turned back, each to the upright box around its four corners.
        """
        if self.level_to_input is None:
            return box
        x, y, w, h = box
        corners = np.array([[x, y, 1], [x + w, y, 1], [x, y + h, 1], [x + w, y + h, 1]], np.float64)
        pts = corners @ self.level_to_input.T
        (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
        return x0, y0, x1 - x0, y1 - y0


def to_uint8(frame: np.ndarray) -> np.ndarray:
    """Gray/BGR/BGRA, 8 or 16 bit or float -> uint8 gray (2-D) or BGR, colour kept.

    Colour is kept because a gray conversion loses pens: orange, yellow and light
    green ink on white paper are nearly as bright as the paper in gray, while
    one of their channels is far darker (`ink_map`).
    """
    img = np.asarray(frame)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    if img.ndim == 3 and img.shape[2] == 4:
        img = img[:, :, :3]
    if img.dtype == np.uint8:
        return img
    img = img.astype(np.float32)
    top = float(img.max())
    if img.dtype != np.float32 or top > 1.0:  # integer ranges such as 12 or 16 bit: use what is there
        img = img * (255.0 / max(top, 1.0))
    else:
        img = img * 255.0
    return np.clip(img, 0, 255).astype(np.uint8)


def to_gray8(frame: np.ndarray) -> np.ndarray:
    """Gray/BGR/BGRA, 8 or 16 bit or float -> uint8 gray."""
    img = to_uint8(frame)
    return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img


def working_size(gray: np.ndarray, max_side: int | None = None, zoom: float = 1.0) -> tuple[np.ndarray, float]:
    """Shrink big photos so the cost per frame does not grow with the camera's megapixels.

    zoom > 1 enlarges that working image (digits too small to threshold and cut
    well, see pipeline.locate). Gray or colour alike.
    """
    h, w = gray.shape[:2]
    scale = working_scale(h, w, max_side) * zoom
    if scale != 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))  # a strip 1 px thin stays 1 px
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA if scale < 1.0 else cv2.INTER_CUBIC)
    return gray, scale


def working_scale(h: int, w: int, max_side: int | None = None) -> float:
    """The factor a frame of h x w is shrunk by to its working size (1: small enough already)."""
    return min(1.0, (MAX_SIDE if max_side is None else max_side) / max(h, w))


def shrink(gray: np.ndarray, side: int) -> np.ndarray:
    """A copy about `side` px on its long side, by a whole factor (OpenCV's fast area path)."""
    h, w = gray.shape[:2]
    f = max(1, max(h, w) // side)
    if f == 1:
        return gray
    return cv2.resize(gray[: h - h % f, : w - w % f], (w // f, h // f), interpolation=cv2.INTER_AREA)


def ink_is_light(gray: np.ndarray) -> bool:
    """Paper is the majority, ink the minority that differs from it: which side has more outliers?

    Measured against the local surroundings, not the global median, so a
    shadow over half the page does not pass for a dark board.
    """
    small = shrink(gray, POLARITY_SIDE)
    k = max(5, (max(small.shape) // 10) | 1)
    diff = small.astype(np.int16) - cv2.medianBlur(small, k)  # a median ignores the (minority) ink
    darker = np.count_nonzero(diff < -POLARITY_MARGIN)
    lighter = np.count_nonzero(diff > POLARITY_MARGIN)
    return lighter > 1.5 * darker + 0.001 * small.size


def background(gray: np.ndarray) -> np.ndarray:
    """Paper brightness everywhere: a max filter wider than the strokes, on a small copy;
    but no brighter than a closing DESK_SHARE times wider, so a desk stays a desk.

    Estimated at BACKGROUND_SIDE px because lighting varies slowly, which keeps this
    stage cheap on 1280 px frames. The max filter alone spreads the paper's
    brightness half its width over whatever lies beside the page (a desk, a
    sleeve), which then reads as a band of thick ink around the page: it joined
    every ruled line into one blob and lost the whole page. A closing (max, then
    min filter) fills every dark patch narrower than itself (strokes, digits,
    a cluster of heavy writing) and leaves wider ones (the desk) as they are.
    Its width is that of several digits, not the max filter's: a closing that
    narrow also dims the heavy, tight loops of a cheque's digits.
    """
    h, w = gray.shape[:2]
    small = shrink(gray, BACKGROUND_SIDE)
    k = max(3, int(BACKGROUND_KERNEL * max(small.shape)) | 1)
    bg = cv2.dilate(small, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    bg = cv2.blur(bg, (k, k))
    wide = cv2.getStructuringElement(cv2.MORPH_RECT, (DESK_SHARE * k | 1,) * 2)
    bg = np.minimum(bg, cv2.morphologyEx(small, cv2.MORPH_CLOSE, wide, borderType=cv2.BORDER_REPLICATE))
    return cv2.resize(bg, (w, h), interpolation=cv2.INTER_LINEAR)


def ink_map(image: np.ndarray, bg: np.ndarray | None = None) -> np.ndarray:
    """Dark ink on paper, gray or BGR -> uint8 ink strength (paper 0): how much darker than the
    paper each pixel is, or, in colour, how far from the paper's own colour, whichever is more.

    Division by the background, not subtraction: a shadow scales paper and ink
    alike. In colour each channel is divided by the paper's brightness in that
    channel, so paper is white whatever its colour (cream, a yellow pad) and
    what is left is the ink: its darkness (gray) or its colour (the spread of
    its channels, `colour_ink`). Orange, yellow and light green marker are
    nearly as bright as the paper and vanished in gray; black and blue pen,
    pencil and the printed rules are neutral or dark, and keep exactly the
    strength gray gave them, so every rule tuned on gray still holds for them.
    """
    bg = background(image) if bg is None else bg
    ratio = cv2.divide(image, bg, scale=255)  # paper ~255 everywhere, ink darker
    if ratio.ndim == 2:
        return cv2.subtract(255, ratio)
    dark = cv2.subtract(255, cv2.cvtColor(ratio, cv2.COLOR_BGR2GRAY))
    return cv2.max(dark, colour_ink(ratio))


def colour_ink(ratio: np.ndarray) -> np.ndarray:
    """How coloured a paper-divided BGR image is: its brightest channel minus its darkest (0 on
    white, black and gray; 255 on pure orange or yellow)."""
    b, g, r = cv2.split(ratio)
    return cv2.subtract(cv2.max(cv2.max(b, g), r), cv2.min(cv2.min(b, g), r))


def ink_start(ink: np.ndarray) -> tuple[float, np.ndarray]:
    """Where ink starts in an ink map, and the map thresholded there: Otsu's split when the frame
    has real ink, a floor when it is empty.

    Below Otsu's split (OTSU_SHARE of it) so a faint pen keeps its strokes;
    but on textured paper (a cheque's printed guilloche, coarse grain) that
    level also takes in the texture, in specks and streaks that join the
    digits into blobs. There, the split itself (`textured`). The binary the
    texture is judged on is the frame's own when it is not textured: one
    threshold per frame, not two.
    """
    otsu = otsu_level(ink)
    low = max(INK_MIN, OTSU_SHARE * otsu)
    binary = threshold(ink, low)
    if otsu > low and textured(binary):
        return otsu, threshold(ink, otsu)
    return low, binary


def textured(binary: np.ndarray) -> bool:
    """Do specks too short to be part of a digit cover more than TEXTURE_SHARE of the ink's boxes?

    Blobs measured by their outer contours' boxes (0.2 ms at 640x480; a
    labelling with stats costs 2 ms). ORAND cheque strings, the first 400
    of the train split, read 66.0% -> 69.8% exact (the 83 textured: 53% -> 71%);
    the test split, Sudoku, synthetic scenes and their variants as before.
    """
    contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return False
    boxes = np.array([cv2.boundingRect(c) for c in contours])
    area, heights = boxes[:, 2] * boxes[:, 3], boxes[:, 3]
    return area[heights < min_digit_height(binary.shape)].sum() > TEXTURE_SHARE * area.sum()


def min_digit_height(shape: tuple[int, ...]) -> float:
    """The shortest a digit can be in an image of this shape (working px): shorter blobs are specks."""
    return max(MIN_HEIGHT_PX, MIN_HEIGHT_SHARE * max(shape))


def threshold(ink: np.ndarray, level: float) -> np.ndarray:
    """Ink map -> 0/255 binary at `level` (where ink starts: `ink_start`)."""
    _, binary = cv2.threshold(ink, level, 255, cv2.THRESH_BINARY)
    return binary


def turn(images: list[np.ndarray], degrees: float) -> tuple[list[np.ndarray], np.ndarray]:
    """Same-sized ink maps turned by `degrees` (counter-clockwise, as cv2.getRotationMatrix2D) on a
    canvas big enough to hold all of them, the corners filled with paper; and the 2x3 affine back.

    Turning the ink map rather than the photo: the added corners are plain paper
    (0), where a turned photo would have to invent them (an edge smeared across
    them is a line; a mirror shows digits twice).
    """
    h, w = images[0].shape
    forward = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    c, s = abs(forward[0, 0]), abs(forward[0, 1])
    nw, nh = int(np.ceil(w * c + h * s)), int(np.ceil(w * s + h * c))
    forward[:, 2] += (nw - w) / 2, (nh - h) / 2
    turned = [cv2.warpAffine(im, forward, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=0) for im in images]
    return turned, cv2.invertAffineTransform(forward)


def prepare(frame: np.ndarray, max_side: int | None = None, polarity: str = "auto", zoom: float = 1.0,
            pages: np.ndarray | None = None) -> Prepared:
    """Any frame -> Prepared (ink map + binary at working size, scale, polarity).

    polarity: "auto" guesses from the frame, "dark" = dark ink on light paper,
    "light" = light ink (chalk, white pen) on a dark ground. A page seen on a
    darker surround (`paper.find_pages`: a desk, a dark room behind a held
    sheet) is pen on paper whatever the rest of the frame holds, and only the
    page is read: the surround's own texture (wood grain, fabric) divided by
    its dark background is as contrasted as ink.
    zoom: enlarge the working image this much (small digits).
    pages: the pages already found in this frame at another size (its first look, before
    it was enlarged): resized, not looked for again.
    """
    image, scale = working_size(to_uint8(frame), max_side, zoom)
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    if pages is not None:
        pages = cv2.resize(pages, gray.shape[::-1], interpolation=cv2.INTER_NEAREST)
    elif polarity != "light":
        pages = paper.find_pages(gray)
    light = polarity == "light" or (polarity == "auto" and pages is None and ink_is_light(gray))
    if light:
        image = cv2.bitwise_not(image)
    bg = background(image)
    ink = ink_map(cv2.GaussianBlur(image, (3, 3), 0), bg)  # blur: camera noise, halftone dots
    sharp = ink_map(image, bg)
    if pages is not None:  # the desk, sofa or room around the page is not read
        ink, sharp = cv2.bitwise_and(ink, pages), cv2.bitwise_and(sharp, pages)
    start, binary = ink_start(ink)
    return Prepared(ink=ink, binary=binary, scale=scale, light_ink=light, sharp=sharp,
                    ink_start=start, zoom=zoom, pages=pages)


def level(prep: Prepared, tilt: float) -> Prepared:
    """A prepared frame turned by `tilt` degrees (writing on a tilted page, made level).

    Only the ink maps are turned; they are thresholded at the frame's own level,
    not at one the paper corners added by the turn would pull down.
    """
    (ink, sharp), back = turn([prep.ink, prep.sharp], tilt)
    level_to_input = np.hstack([back[:, :2], back[:, 2:] / prep.scale])  # the same turn, in input scale
    return replace(prep, ink=ink, binary=threshold(ink, prep.ink_start), sharp=sharp, tilt=tilt, pages=None,
                   level_to_input=level_to_input)
