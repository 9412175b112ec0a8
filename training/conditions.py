"""Condition matrix: photographed handwritten pages, each rendered under ONE named condition.

Aggregate scores hide which situation the recognizer fails in. Each condition here
changes one thing a user really meets (the desk under the page, the pen, the light,
the camera) and keeps the rest a plain phone photo of a page of handwritten numbers,
so a low row in bench/bench_conditions.py names its own cause.

    pool = load_pool()                                   # real handwriting crops + MNIST test
    image, gts, ignore = render("dark_desk", np.random.default_rng(0), pool)
    # gts: [(digit, (x, y, w, h))] tight ink boxes in image pixels
    # ignore: [(x, y, w, h)] printed digits and digits cut by the frame edge or under a
    #         hand; a detection on one is neither right nor wrong

Digits come from real handwriting where it is on this machine (USPS test, NSYSU,
ORAND test: writers the model never saw) and MNIST test, drawn in equal shares per
source. Each is re-stroked along its skeleton at the condition's pen width (the exact
form of eroding / dilating it), so a ballpoint draws thin lines and a felt pen fat ones
whatever the size. The page (paper, ink, printed text) is rendered at about the size
it appears, put in the frame by a camera homography (turn, tilt, distance) onto a
procedural background (a plain grey table unless the condition is the background), lit,
then photographed with training/scenes.py's `photograph`
(perspective jitter, lighting gradient, blur, noise) and JPEG.

Every condition's look is one dict in LOOKS (overrides of BASE); no tunable number
lives anywhere else. Runtime code never imports this module.
"""
from __future__ import annotations

import functools
import sys
from dataclasses import dataclass

import cv2
import numpy as np

from training.scenes import draw_digit, glyph_aspect, jpeg, paper, photograph

Box = tuple[int, int, int, int]

CONDITIONS = {  # name -> one line; the benchmark's rows, in this order
    "dark_desk": "white page (30-70% of the frame) on a dark brown / near-black wooden desk, turned, in perspective",
    "light_desk": "page on a light wooden desk (oak, pine, birch)",
    "fabric": "page on a sofa or blanket: coloured, patterned, woven, folded fabric",
    "held_dark_room": "sheet held up before a dark room, hands and thumbs over its edges",
    "marker_red": "red marker, thick strokes",
    "marker_orange": "orange marker, thick strokes",
    "marker_green": "green marker, thick strokes",
    "marker_blue": "blue marker, thick strokes",
    "pencil": "graphite pencil: grey, faint, grainy, low contrast",
    "ballpoint_thin": "thin ballpoint strokes (1-2.5 px)",
    "felt_bold": "bold black felt pen, fat strokes that half close loops",
    "page_fills_frame": "the page fills the whole frame, no desk in view",
    "small_far_page": "a small page far away: digits 10-14 px tall",
    "lamp_shadow": "desk lamp: warm light falling off, a strong soft shadow over part of the page",
    "dim_noisy": "dim room light: dark, high sensor gain noise",
    "perspective_35": "camera tilted 20-35 degrees off the page's normal",
    "webcam_jpeg": "webcam: 640x480, defocused, JPEG quality 20-45",
    "printed_beside": "worksheet: printed text and printed digits beside the handwritten answers",
    "squared_paper": "squared exercise-book paper, the grid crossing the digits",
    "ruled_paper": "ruled notebook paper with a margin line, digits sitting on the rules",
    "one_bold_digit": "one big thick digit alone on a page, 30-60% of the frame height",
    "photo_12mp": "12-megapixel phone photo (4000x3000) of a page on a desk",
}

PENS = [(150, 50, 25), (35, 35, 35), (120, 40, 15)]  # BGR ballpoint blue, black, dark blue
FELT = [(30, 30, 35)]
PENCIL = [(95, 95, 100)]
ASPECTS = (0.707, 1.414, 0.75, 1.33)  # page width / height: A4 portrait, landscape, notepad both ways

BASE = {  # a plain phone photo of a handwritten page on a desk; each condition overrides a few
    "frame": (1280, 960),  # output size (width, height)
    "background": "table",  # plain grey table (little texture: a row measures its own condition),
    #                         dark_desk, light_desk, fabric, dark_room, or desk (any of the first three)
    "page_area": (0.35, 0.65),  # the page's share of the frame's area
    "fill": False,  # page larger than the frame: no need to fit it in view
    "roll": (-10.0, 10.0),  # degrees the page is turned in the image
    "tilt": (0.0, 12.0),  # degrees the camera leans off the page's normal (perspective)
    "focal": (1.3, 2.0),  # camera distance / page size: small = wide angle, strong perspective
    "margin": (0.08, 0.08),  # page margins kept free of writing (share of width, height)
    "paper": "plain",  # plain, ruled (our own rules, digits on them), squared
    "inks": PENS,
    "ink_alpha": (0.85, 1.0),
    "stroke": (0.06, 0.11),  # pen width as a share of the digit height ...
    "min_stroke": 1.3,  # ... never under this many pixels
    "grain": 0.0,  # pencil graphite grain: share of each stroke left out at random
    "digits": (6, 20),
    "digit_height": (0.045, 0.08),  # share of the page height ...
    "digit_px": None,  # ... or (lo, hi) pixels ...
    "digit_frame": None,  # ... or a share of the frame height
    "pitch": (1.7, 2.4),  # line spacing in digit heights
    "printed": False,  # printed worksheet prompts (text and digits) before the answers
    "hands": False,
    "lamp": None,  # {"depth": (lo, hi), "soft": (lo, hi), "falloff": (lo, hi)}
    "dim": None,  # {"light": (lo, hi), "gain": (lo, hi), "read": px, "shot": k}
    "camera": 0.6,  # photograph() strength: perspective jitter, gradient, blur, noise
    "blur": 0.0,  # extra Gaussian blur sigma, share of the frame width (a soft 12 MP lens)
    "defocus": None,  # (lo, hi) disk radius px: an out-of-focus webcam
    "jpeg": None,  # (lo, hi) quality; None: scenes.jpeg's phone quality (60-95)
}

LOOKS = {  # each condition's tunable look, in one place
    "dark_desk": {"background": "dark_desk", "page_area": (0.3, 0.7), "roll": (-12.0, 12.0), "tilt": (4.0, 15.0)},
    "light_desk": {"background": "light_desk"},
    "fabric": {"background": "fabric"},
    "held_dark_room": {"background": "dark_room", "hands": True, "page_area": (0.3, 0.55),
                       "margin": (0.2, 0.1), "tilt": (0.0, 15.0)},
    "marker_red": {"inks": [(40, 40, 220)], "stroke": (0.12, 0.2), "ink_alpha": (0.9, 1.0)},
    "marker_orange": {"inks": [(0, 140, 255)], "stroke": (0.12, 0.2), "ink_alpha": (0.9, 1.0)},
    "marker_green": {"inks": [(60, 180, 60)], "stroke": (0.12, 0.2), "ink_alpha": (0.9, 1.0)},
    "marker_blue": {"inks": [(200, 90, 30)], "stroke": (0.12, 0.2), "ink_alpha": (0.9, 1.0)},
    "pencil": {"inks": PENCIL, "ink_alpha": (0.35, 0.6), "stroke": (0.05, 0.09), "grain": 0.45},
    "ballpoint_thin": {"stroke": (0.02, 0.04), "min_stroke": 1.0, "ink_alpha": (0.7, 0.95)},
    "felt_bold": {"inks": FELT, "stroke": (0.16, 0.26)},
    "page_fills_frame": {"page_area": (1.15, 1.5), "fill": True, "roll": (-5.0, 5.0), "tilt": (0.0, 8.0),
                         "digit_height": (0.04, 0.07)},
    "small_far_page": {"page_area": (0.04, 0.07), "digit_px": (11.5, 15.5), "margin": (0.06, 0.06)},  # ink 10-14 px
    "lamp_shadow": {"lamp": {"depth": (0.45, 0.65), "soft": (0.01, 0.04), "falloff": (0.2, 0.45)}},
    "dim_noisy": {"dim": {"light": (0.12, 0.22), "gain": (1.6, 2.6), "read": 2.0, "shot": 0.6}},
    "perspective_35": {"tilt": (20.0, 35.0), "focal": (1.1, 1.6), "page_area": (0.35, 0.6)},
    "webcam_jpeg": {"frame": (640, 480), "camera": 1.0, "defocus": (1.0, 2.2), "jpeg": (20, 45),
                    "page_area": (0.4, 0.7)},
    "printed_beside": {"printed": True, "digit_height": (0.04, 0.06), "digits": (8, 20)},
    "squared_paper": {"paper": "squared"},
    "ruled_paper": {"paper": "ruled", "pitch": (1.3, 1.6)},
    "one_bold_digit": {"digits": (1, 1), "digit_frame": (0.3, 0.6), "inks": FELT, "stroke": (0.12, 0.2),
                       "page_area": (0.45, 0.75), "margin": (0.05, 0.05)},
    "photo_12mp": {"frame": (4000, 3000), "camera": 0.5, "blur": 0.0005, "background": "dark_desk"},  # vs dark_desk
}

SKIN = [(110, 140, 200), (95, 125, 180), (130, 160, 215), (70, 95, 140), (55, 75, 110)]  # BGR
SLEEVES = [(40, 30, 25), (25, 25, 30), (70, 60, 50), (30, 40, 90)]
WOOD_DARK = [(28, 42, 62), (20, 28, 40), (17, 17, 20), (30, 35, 48)]
WOOD_LIGHT = [(110, 160, 200), (135, 180, 215), (150, 185, 205), (95, 140, 185)]
TABLE = [(120, 125, 128), (150, 155, 160), (70, 72, 75), (105, 120, 135)]  # grey and greige laminate
FABRIC = [(90, 50, 30), (40, 30, 120), (50, 90, 40), (40, 150, 200), (110, 110, 110), (120, 110, 30),
          (130, 100, 140), (60, 60, 70)]
PRINT = (35, 35, 38)
FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX, cv2.FONT_HERSHEY_TRIPLEX)
HEADERS = ("Maths practice - Sheet {n}", "Exercise {n}: additions", "Homework {n} / Name: ........",
           "Unit {n} review", "Mental arithmetic, week {n}")
SOURCES = ("usps", "nsysu", "orand", "mnist")


def look(condition: str) -> dict:
    """The full parameter dict of one condition (BASE with its overrides)."""
    if condition not in CONDITIONS:
        raise KeyError(f"unknown condition {condition!r}; choose from {', '.join(CONDITIONS)}")
    return {**BASE, **LOOKS.get(condition, {})}


# --- the digits -------------------------------------------------------------------------

@dataclass(frozen=True)
class Pool:
    """Digit images (uint8 28x28, white ink on black) with labels and their source's index,
    drawn so that each source is picked equally often (MNIST's 10,000 would swamp the rest)."""
    images: np.ndarray
    labels: np.ndarray
    source: np.ndarray
    names: tuple[str, ...]

    @functools.cached_property
    def weights(self) -> np.ndarray:
        """Per-image draw probability: each source an equal share."""
        counts = np.bincount(self.source, minlength=len(self.names)).astype(np.float64)
        w = 1.0 / counts[self.source]
        return w / w.sum()

    def pick(self, rng: np.random.Generator, k: int) -> list[int]:
        """k image indices, sources in equal shares."""
        return [int(i) for i in rng.choice(len(self.labels), size=k, p=self.weights)]


def white_on_black(crops: np.ndarray) -> np.ndarray:
    """Crops of any range and polarity -> uint8 white ink on black, as draw_digit expects.

    The loaders' normalized crops are float [0, 1] light ink already; a raw scan is dark
    ink on paper. Polarity per crop: its border is background, so ink is what differs.
    """
    x = np.asarray(crops, np.float32)
    if x.max() > 1.0:
        x = x / 255.0
    border = np.concatenate([x[:, 0], x[:, -1], x[:, :, 0], x[:, :, -1]], axis=1)
    dark_ink = np.median(border, axis=1) > x.mean(axis=(1, 2))
    x[dark_ink] = 1.0 - x[dark_ink]
    return np.clip(x * 255.0 + 0.5, 0, 255).astype(np.uint8)


def lone_digit(crop: np.ndarray) -> np.ndarray:
    """A crop keeping only its digit: the largest ink piece and the pieces overlapping its box
    (a 5's flag, a 4's open stroke); a decimal point, a neighbour's edge or dust beside it,
    which real cheque and exam crops carry, is cleared."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats((crop > 30).astype(np.uint8), connectivity=8)
    if n <= 2:
        return crop
    big = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x, y, w, h = stats[big, :4]
    keep = np.zeros(n, bool)
    for k in range(1, n):
        kx, ky, kw, kh = stats[k, :4]
        keep[k] = kx <= x + w and x <= kx + kw and ky <= y + h and y <= ky + kh
    kept = (labels > 0) & keep[labels]
    gone = cv2.dilate(((labels > 0) & ~kept).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0  # with its faint rim
    clean = crop.copy()
    clean[gone & ~kept] = 0
    return clean


def full_ink(crop: np.ndarray) -> np.ndarray:
    """Stretch a crop so its strokes reach full ink: scanned pencil and normalized real crops
    sit at half level, and a stroke drawn faint there would be lost when it is re-stroked."""
    ink = crop[crop > 30]
    level = float(np.percentile(ink, 90)) if ink.size else 255.0
    return np.clip(crop.astype(np.float32) * (255.0 / max(level, 1.0)), 0, 255).astype(np.uint8)


def _load_source(name: str):
    """(images, labels) of one source, test splits only: writers no model here trained on."""
    if name == "mnist":
        from training.data import load_mnist
        (_, _), (x, y) = load_mnist()
        return x, y
    from training import realdata
    loader = {"usps": lambda: realdata.load_usps("test"), "nsysu": realdata.load_nsysu,
              "orand": lambda: realdata.load_orand_digits("test")}[name]
    return loader()


@functools.lru_cache(maxsize=None)
def load_pool(sources: tuple[str, ...] = SOURCES, quiet: bool = False) -> Pool:
    """The digits every scene draws from; a source absent from this machine is skipped with a note."""
    images, labels, source, names = [], [], [], []
    for name in sources:
        try:
            x, y = _load_source(name)
        except Exception as exc:  # DataError for a missing folder, OSError for a broken file
            if not quiet:
                print(f"note: digit source {name} skipped ({exc})", file=sys.stderr)
            continue
        x = np.stack([full_ink(lone_digit(c)) for c in white_on_black(x)])
        keep = (x > 30).sum(axis=(1, 2)) >= 15  # no blank or dust-only crops: their box would lie
        images.append(x[keep])
        labels.append(np.asarray(y)[keep].astype(np.int64))
        source.append(np.full(int(keep.sum()), len(names), np.int64))
        names.append(name)
    if not names:
        raise RuntimeError(f"no digit source available among {sources}")
    return Pool(np.concatenate(images), np.concatenate(labels), np.concatenate(source), tuple(names))


# --- strokes ----------------------------------------------------------------------------

def _thin(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen skeleton of a 0/1 mask (OpenCV here has no ximgproc); vectorized, a digit
    crop needs a handful of passes."""
    img = np.pad(mask.astype(np.uint8), 1)
    changed = True
    while changed:
        changed = False
        for step in (0, 1):
            p2, p3, p4 = img[:-2, 1:-1], img[:-2, 2:], img[1:-1, 2:]
            p5, p6, p7 = img[2:, 2:], img[2:, 1:-1], img[2:, :-2]
            p8, p9 = img[1:-1, :-2], img[:-2, :-2]
            ring = (p2, p3, p4, p5, p6, p7, p8, p9, p2)
            count = sum(p.astype(np.int16) for p in ring[:-1])
            turns = sum(((a == 0) & (b == 1)).astype(np.int16) for a, b in zip(ring[:-1], ring[1:]))
            if step == 0:
                side = ((p2 & p4 & p6) == 0) & ((p4 & p6 & p8) == 0)
            else:
                side = ((p2 & p4 & p8) == 0) & ((p2 & p6 & p8) == 0)
            kill = (img[1:-1, 1:-1] == 1) & (count >= 2) & (count <= 6) & (turns == 1) & side
            if kill.any():
                img[1:-1, 1:-1][kill] = 0
                changed = True
    return img[1:-1, 1:-1]


def _main_ink(mask: np.ndarray) -> np.ndarray:
    """The mask without specks under 8% of its largest piece: dust cut with a real crop, which
    re-stroking at a pen's width would blow up into dots beside the digit."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n <= 2:
        return mask.astype(np.uint8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.concatenate([[False], areas >= 0.08 * areas.max()])
    return keep[labels].astype(np.uint8)


def _noise(rng: np.random.Generator, h: int, w: int, cell: float, stretch: float = 1.0) -> np.ndarray:
    """A smooth random field (about unit spread) with features `cell` px tall and
    `cell * stretch` px wide: white noise on a coarse grid, resized."""
    gh = max(2, int(h / max(cell, 1.0)) + 2)
    gw = max(2, int(w / max(cell * stretch, 1.0)) + 2)
    return cv2.resize(rng.standard_normal((gh, gw)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)


def stroke(digit28: np.ndarray, w: int, h: int, width: float, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """One digit as a pen alpha map: drawn into a w x h box, then re-stroked along its skeleton
    at `width` px (a little pressure variation along it). Returns (alpha float32, pad): the map
    covers the box grown by `pad` on every side.

    Scaling a 28x28 digit up scales its stroke with it (a 100 px digit would carry a 12 px
    line); a real pen draws the same width at any size, thin for a ballpoint, fat for a felt pen.
    """
    pad = int(np.ceil(width / 2)) + 2
    canvas = np.zeros((h + 2 * pad, w + 2 * pad, 1), np.float32)
    draw_digit(canvas, digit28, (pad, pad, w, h), (1.0,), rng, strength=1.0)
    alpha = canvas[:, :, 0]
    skeleton = _thin(_main_ink(alpha > 0.35))
    if not skeleton.any():
        return alpha, pad
    dist = cv2.distanceTransform(np.where(skeleton > 0, 0, 255).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    widths = width * (1.0 + 0.06 * _noise(rng, *alpha.shape, cell=max(4.0, h / 3)))
    return np.clip(widths / 2 + 0.5 - dist, 0.0, 1.0), pad


# --- the page ---------------------------------------------------------------------------

def _rotation(roll: float, pitch: float, yaw: float) -> np.ndarray:
    """3D rotation of the page: turned in its plane by roll, then leaning by pitch and yaw."""
    r, p, y = np.radians([roll, pitch, yaw])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    return rz @ rx @ ry


def _project(pw: float, ph: float, roll: float, pitch: float, yaw: float, focal: float) -> np.ndarray:
    """Image of a pw x ph page's corners (tl, tr, br, bl) seen by a pinhole camera `focal`
    page sizes away, the page turned `roll` and leaning pitch / yaw; scale 1 at its centre."""
    corners = np.array([[-pw / 2, -ph / 2, 0], [pw / 2, -ph / 2, 0], [pw / 2, ph / 2, 0], [-pw / 2, ph / 2, 0]])
    q = corners @ _rotation(roll, pitch, yaw).T
    dist = focal * max(pw, ph)
    return q[:, :2] * dist / (q[:, 2:] + dist)


def _area(quad: np.ndarray) -> float:
    """Shoelace area of a polygon: the page's share of the frame is set by what is seen."""
    x, y = quad[:, 0], quad[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))


def place_page(rng: np.random.Generator, p: dict) -> tuple[np.ndarray, tuple[int, int], np.ndarray]:
    """Where the page lies in the frame: (homography page px -> frame px, (pw, ph), quad).

    The page is rendered at about the size it is seen (scale ~1 at its centre), so pen
    widths and digit heights in page pixels are what the camera sees.
    """
    W, H = p["frame"]
    aspect = float(rng.choice(ASPECTS))
    roll = rng.uniform(*p["roll"])
    tilt, towards = rng.uniform(*p["tilt"]), rng.uniform(0, 2 * np.pi)
    focal = rng.uniform(*p["focal"])
    unit = _project(aspect, 1.0, roll, tilt * np.cos(towards), tilt * np.sin(towards), focal)
    scale = np.sqrt(rng.uniform(*p["page_area"]) * W * H / _area(unit))
    span = unit.max(axis=0) - unit.min(axis=0)
    if not p["fill"]:  # the whole page in view, 2% of the frame to spare
        scale = min(scale, 0.96 * W / span[0], 0.96 * H / span[1])
    quad = unit * scale
    lo, hi = quad.min(axis=0), quad.max(axis=0)
    room = np.array([W, H]) - (hi - lo)
    if p["fill"]:  # a page larger than the frame: centred, nudged a little
        shift = np.array([W, H]) / 2 - (lo + hi) / 2 + rng.uniform(-0.1, 0.1, 2) * np.maximum(-room, 0)
    else:
        shift = -lo + rng.uniform(0.02, 0.98, 2) * room
    quad = (quad + shift).astype(np.float32)
    pw, ph = max(8, round(aspect * scale)), max(8, round(scale))
    src = np.float32([[0, 0], [pw, 0], [pw, ph], [0, ph]])
    return cv2.getPerspectiveTransform(src, quad), (pw, ph), quad


def writing_area(Hm: np.ndarray, size: tuple[int, int], p: dict) -> tuple[float, float, float, float]:
    """Page rectangle (x0, y0, x1, y1) where writing goes: inside the margins and, for a page
    larger than the frame, inside what the camera sees (8% inset: the camera jitter moves it)."""
    pw, ph = size
    mx, my = p["margin"]
    x0, y0, x1, y1 = mx * pw, my * ph, (1 - mx) * pw, (1 - my) * ph
    if p["fill"]:
        W, H = p["frame"]
        inner = np.float32([[[0.08 * W, 0.08 * H], [0.92 * W, 0.08 * H], [0.92 * W, 0.92 * H], [0.08 * W, 0.92 * H]]])
        q = cv2.perspectiveTransform(inner, np.linalg.inv(Hm))[0]
        x0, x1 = max(x0, q[0, 0], q[3, 0]), min(x1, q[1, 0], q[2, 0])
        y0, y1 = max(y0, q[0, 1], q[1, 1]), min(y1, q[2, 1], q[3, 1])
    return x0, y0, x1, y1


def digit_height(rng: np.random.Generator, p: dict, ph: int, area) -> float:
    """The writer's digit height in page pixels (page-, pixel- or frame-relative, per the look),
    never taller than the writing area."""
    if p["digit_px"]:
        h = rng.uniform(*p["digit_px"])
    elif p["digit_frame"]:
        h = rng.uniform(*p["digit_frame"]) * p["frame"][1]
    else:
        h = rng.uniform(*p["digit_height"]) * ph
    return float(min(h, 0.9 * (area[3] - area[1])))


@dataclass
class Slot:
    """One handwritten digit to draw: pool index and its box on the page."""
    index: int
    box: Box


def plan_rows(rng: np.random.Generator, pool: Pool, area, h: float, n: int, p: dict,
              ink: np.ndarray | None = None, ignore_pts: list | None = None) -> tuple[list[Slot], list[float]]:
    """Numbers of 1-4 digits written along lines, left to right, as on a real page.

    Returns the digit slots and the lines' baselines (ruled paper draws its rules there).
    With p["printed"], each answer follows a printed prompt drawn into `ink` (a 0-255 mask of
    the page); the corner points of its printed digits go to `ignore_pts`.
    """
    x0, y0, x1, y1 = area
    pitch = h * rng.uniform(*p["pitch"])
    baselines = list(np.arange(y0 + h + 0.1 * pitch, y1, pitch))
    if p["printed"] and baselines:  # a printed title line first
        font = int(rng.choice(FONTS))
        title = str(rng.choice(HEADERS)).format(n=int(rng.integers(1, 40)))
        _print(ink, title, (x0, baselines.pop(0)), 0.7 * h, font, ignore_pts)
    if n == 1:
        return [_alone(rng, pool, area, h)], []
    sizes = []  # numbers of 1-4 digits, n digits in all
    while sum(sizes) < n:
        sizes.append(int(min(n - sum(sizes), rng.choice([1, 2, 2, 3, 3, 4]))))
    per_line = int(rng.integers(1, 4))
    lines = min(len(baselines), -(-len(sizes) // per_line))
    chosen = sorted(rng.choice(len(baselines), lines, replace=False)) if lines else []
    font = int(rng.choice(FONTS))
    slots: list[Slot] = []
    for j, line in enumerate(chosen):  # lines spread over the page, some left empty
        x = x0 + rng.uniform(0, 0.15) * (x1 - x0)
        room = per_line if j < len(chosen) - 1 else len(sizes)
        while sizes and room > 0:
            x = _write_number(rng, pool, sizes[0], (x, baselines[line]), area, h, p, slots, (ink, font, ignore_pts))
            if x is None:  # no room left on this line
                break
            sizes.pop(0)
            room -= 1
    return slots, baselines


def _alone(rng: np.random.Generator, pool: Pool, area, h: float) -> Slot:
    """One digit alone, anywhere on the page (a big bold digit held up to a camera)."""
    x0, y0, x1, y1 = area
    i = pool.pick(rng, 1)[0]
    w = max(2, round(h * glyph_aspect(pool.images[i])))
    x = rng.uniform(x0, max(x0, x1 - w))
    y = rng.uniform(y0, max(y0, y1 - h))
    return Slot(i, (round(x), round(y), w, round(h)))


def _write_number(rng: np.random.Generator, pool: Pool, k: int, at, area, h: float, p: dict,
                  slots: list[Slot], printing) -> float | None:
    """Plan one number of k digits on the baseline at `at` = (x, y) (after its printed prompt on
    a worksheet): a writer's digits vary a little in height, sit a little off the line, and the
    number slopes. Appends to slots; returns the x where the next number may start, None when
    the line is full."""
    x, base = at
    x0, x1 = area[0], area[2]
    idx = pool.pick(rng, k)
    hs = [h * rng.uniform(0.88, 1.08) for _ in idx]
    ws = [max(2, round(hi * glyph_aspect(pool.images[i]))) for i, hi in zip(idx, hs)]
    gap = rng.uniform(0.15, 0.35) * h
    lead = 3.5 * h if p["printed"] else 0.0  # a prompt to print first
    if x + lead + sum(ws) + gap * (k - 1) > x1:
        return None
    if p["printed"]:
        ink, font, ignore_pts = printing
        prompt = f"{rng.integers(1, 50)} {rng.choice(['+', '-', 'x'])} {rng.integers(1, 20)} ="
        x = _print(ink, prompt, (x, base), rng.uniform(0.6, 0.85) * h, font, ignore_pts) + 0.5 * h
        if x + sum(ws) + gap * (k - 1) > x1:  # an exercise left unanswered
            return None
    slope = rng.uniform(-0.04, 0.04)
    for i, hi, wi in zip(idx, hs, ws):
        y = base - hi + rng.uniform(-0.04, 0.04) * h + slope * (x - x0)
        slots.append(Slot(i, (round(x), round(y), wi, round(hi))))
        x += wi + gap
    return x + rng.uniform(1.0, 3.0) * h


def _print(ink: np.ndarray, text: str, org, digit_h: float, font: int, ignore_pts: list | None) -> float:
    """Printed text (cv2.putText into the 0-255 mask `ink`) with its baseline at org; each printed digit's corners go to
    ignore_pts (a reading there is neither right nor wrong). Returns the x where it ends."""
    scale = digit_h / cv2.getTextSize("0", font, 1.0, 1)[0][1]
    thick = max(1, round(scale * 1.6))
    x, y = int(round(org[0])), int(round(org[1]))
    cv2.putText(ink, text, (x, y), font, scale, 255, thick, cv2.LINE_AA)
    for k, ch in enumerate(text):
        if ch.isdigit() and ignore_pts is not None:
            left = x + cv2.getTextSize(text[:k], font, scale, thick)[0][0] if k else x
            cw, ch_h = cv2.getTextSize(ch, font, scale, thick)[0]
            ignore_pts.append(np.float32([[left, y - ch_h], [left + cw, y - ch_h], [left + cw, y + 1], [left, y + 1]]))
    return x + cv2.getTextSize(text, font, scale, thick)[0][0]


def make_paper(rng: np.random.Generator, p: dict, size: tuple[int, int], baselines: list[float]) -> np.ndarray:
    """Plain or squared paper from scenes.paper; ruled paper with its rules where the lines
    of writing sit (and a red margin line), as a notebook is written in."""
    pw, ph = size
    page = paper(rng, pw, ph, ruled=False, squared=p["paper"] == "squared")
    if p["paper"] == "ruled":
        thick = max(1, round(ph / 700))
        color = (205, 175, 145) if rng.random() < 0.7 else (165, 165, 165)
        gap = baselines[1] - baselines[0] if len(baselines) > 1 else ph / 20
        first = baselines[0] % gap if baselines else gap
        for y in np.arange(first, ph, gap):
            cv2.line(page, (0, int(y + 1)), (pw, int(y + 1)), color, thick, cv2.LINE_AA)
        mx = int(p["margin"][0] * pw * 0.7)
        cv2.line(page, (mx, 0), (mx, ph), (130, 130, 225), thick, cv2.LINE_AA)
    return page


def write(rng: np.random.Generator, pool: Pool, page: np.ndarray, slots: list[Slot], h: float, p: dict):
    """Draw the slots' digits as one pen's ink on the page (in place); returns
    [(digit, ink outline points in page px)] for the ground-truth boxes."""
    ph, pw = page.shape[:2]
    alpha = np.zeros((ph, pw), np.float32)
    width = max(p["min_stroke"], rng.uniform(*p["stroke"]) * h)
    truth = []
    for s in slots:
        x, y, w, hh = s.box
        a, pad = stroke(pool.images[s.index], w, hh, width, rng)
        a *= rng.uniform(0.85, 1.0)  # pressure
        gx, gy = x - pad, y - pad
        x0, y0, x1, y1 = max(gx, 0), max(gy, 0), min(gx + a.shape[1], pw), min(gy + a.shape[0], ph)
        if x1 <= x0 or y1 <= y0:
            continue
        part = a[y0 - gy: y1 - gy, x0 - gx: x1 - gx]
        np.maximum(alpha[y0:y1, x0:x1], part, out=alpha[y0:y1, x0:x1])
        contours, _ = cv2.findContours((part > 0.35).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        if contours:
            pts = np.concatenate([c.reshape(-1, 2) for c in contours]).astype(np.float32) + (x0, y0)
            truth.append((int(pool.labels[s.index]), pts))
    ink = np.asarray(p["inks"][rng.integers(len(p["inks"]))], np.float32) + rng.uniform(-8, 8, 3)
    strength = rng.uniform(*p["ink_alpha"])
    ys, xs = np.nonzero(alpha.any(axis=1))[0], np.nonzero(alpha.any(axis=0))[0]
    if len(ys) == 0:
        return truth
    box = (slice(ys[0], ys[-1] + 1), slice(xs[0], xs[-1] + 1))  # only where there is ink: a page is big
    a = alpha[box]
    if p["grain"]:  # graphite sits on the paper's tooth: a speckled, broken line
        tooth = cv2.GaussianBlur(rng.random(a.shape, dtype=np.float32), (0, 0), 0.7)
        tooth = (tooth - tooth.mean()) / (tooth.std() + 1e-6)
        a = a * ((1 - p["grain"]) + p["grain"] * np.clip(0.5 + 0.5 * tooth, 0.0, 1.0))
    film = 1.0 - strength * a[:, :, None] * (1.0 - np.clip(ink, 0, 255) / 255.0)  # ink darkens the paper
    page[box] = np.clip(page[box] * film, 0, 255).astype(np.uint8)
    return truth


# --- the world around the page ----------------------------------------------------------

def _wood(rng: np.random.Generator, h: int, w: int, palette) -> np.ndarray:
    """Wooden boards: grain lines wavering along the boards, fibres, a tone per board, seams."""
    along_x = rng.random() < 0.5
    if not along_x:
        h, w = w, h
    color = np.asarray(palette[rng.integers(len(palette))], np.float32)
    y = np.arange(h, dtype=np.float32)[:, None]
    period = h * rng.uniform(0.012, 0.03)
    warp = (_noise(rng, h, w, cell=h / 4, stretch=6.0) * period * 1.5
            + _noise(rng, h, w, cell=h / 20, stretch=12.0) * period * 0.3)  # grain runs along the board
    rings = np.sin(2 * np.pi * (y + warp) / period)
    fibres = _noise(rng, h, w, cell=max(1.5, h / 700), stretch=60)
    board = h / rng.uniform(2.5, 5.0)
    idx = (y / board).astype(np.int32)
    tone = rng.uniform(-0.12, 0.12, int(h / board) + 2).astype(np.float32)[idx]
    seam = np.where((y % board) < max(1.0, h / 900), -0.5, 0.0).astype(np.float32)
    v = 1.0 + 0.13 * rings ** 3 + 0.05 * fibres + tone + seam
    img = color * v[:, :, None]
    return img if along_x else img.transpose(1, 0, 2)


def _table(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A grey laminate table: flat colour with a fine speckle and a broad sheen."""
    color = np.asarray(TABLE[rng.integers(len(TABLE))], np.float32)
    v = 1.0 + 0.03 * _noise(rng, h, w, cell=2) + 0.06 * _noise(rng, h, w, cell=h / 2)
    return color * v[:, :, None]


def _fabric(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A sofa or blanket: one of plaid, mottled or knit patterns in two colours, a fine weave,
    soft folds shading it."""
    i, j = rng.choice(len(FABRIC), 2, replace=False)
    base, second = np.float32(FABRIC[i]), np.float32(FABRIC[j]) * rng.uniform(0.6, 1.0)
    s = w / 1280
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    kind = rng.integers(3)
    if kind == 0:  # plaid: soft stripes both ways
        period = rng.uniform(40, 110) * s
        a = 0.5 * ((np.sin(2 * np.pi * xx / period) > 0.4) + (np.sin(2 * np.pi * yy / period + 1.0) > 0.4))
        a = cv2.GaussianBlur(a.astype(np.float32), (0, 0), 1.5 * s)
    elif kind == 1:  # mottled / floral blobs
        a = np.clip((_noise(rng, h, w, cell=rng.uniform(8, 20) * s) - 0.4) * 1.2, 0, 1)
    else:  # knit: chevron ribs
        period = rng.uniform(8, 16) * s
        a = 0.5 + 0.5 * np.sin(2 * np.pi * (xx / period + np.abs((yy / (2 * period)) % 1 - 0.5) * 2))
        a *= 0.7
    weave_p = rng.uniform(3, 6) * s
    weave = 0.07 * np.sin(2 * np.pi * xx / weave_p) * np.sin(2 * np.pi * yy / weave_p)
    folds = 0.22 * _noise(rng, h, w, cell=h / 4, stretch=rng.uniform(1.5, 3))
    v = 1.0 + weave + 0.05 * _noise(rng, h, w, cell=1.5) + folds
    img = (base * (1 - a[:, :, None]) + second * a[:, :, None]) * v[:, :, None]
    return img


def _dark_room(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A dim room behind a held-up sheet: near-black, a lamp's glow, a faint doorway or window,
    furniture edges; all out of focus."""
    img = np.full((h, w, 3), rng.uniform(8, 25), np.float32) * np.float32([1.0, 0.95, 0.9])
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    for _ in range(int(rng.integers(1, 3))):  # lamp glows
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.08, 0.25) * w
        glow = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))
        img += glow[:, :, None] * rng.uniform(30, 90) * np.float32([0.55, 0.8, 1.0])
    x0, y0 = int(rng.uniform(0, 0.8) * w), int(rng.uniform(0, 0.4) * h)  # a doorway or window
    cv2.rectangle(img, (x0, y0), (x0 + int(rng.uniform(0.1, 0.25) * w), h), tuple(float(v) for v in rng.uniform(20, 45, 3)), -1)
    for _ in range(int(rng.integers(1, 4))):  # furniture
        x, y = int(rng.uniform(0, w)), int(rng.uniform(0.4, 0.9) * h)
        cv2.rectangle(img, (x, y), (x + int(rng.uniform(0.1, 0.4) * w), h), tuple(float(v) for v in rng.uniform(5, 30, 3)), -1)
    return cv2.GaussianBlur(img, (0, 0), 0.01 * w)


def background(rng: np.random.Generator, kind: str, h: int, w: int) -> np.ndarray:
    """The surface behind the page, float32 BGR: made at most 600 px on its short side and
    enlarged (it is out of the page's plane and rarely sharp; a 12 MP desk would cost seconds)."""
    f = min(1.0, 600 / min(h, w))
    small = _surface(rng, kind, max(8, round(h * f)), max(8, round(w * f)))
    return small if f == 1.0 else cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _surface(rng: np.random.Generator, kind: str, h: int, w: int) -> np.ndarray:
    """One background kind at the size asked; "desk" draws any of the desks."""
    if kind == "desk":
        kind = str(rng.choice(["dark_desk", "light_desk", "table"]))
    if kind == "dark_desk":
        return _wood(rng, h, w, WOOD_DARK)
    if kind == "light_desk":
        return _wood(rng, h, w, WOOD_LIGHT)
    if kind == "table":
        return _table(rng, h, w)
    if kind == "fabric":
        return _fabric(rng, h, w)
    if kind == "dark_room":
        return _dark_room(rng, h, w)
    raise ValueError(f"unknown background {kind!r}")


def lay_page(bg: np.ndarray, page: np.ndarray, Hm: np.ndarray, shadow: bool) -> tuple[np.ndarray, np.ndarray]:
    """The page put into the frame through Hm over the background, with a soft drop shadow on
    the desk. Returns (frame float32, page coverage 0..1)."""
    h, w = bg.shape[:2]
    warped = cv2.warpPerspective(page, Hm, (w, h), flags=cv2.INTER_LINEAR)
    cover = cv2.warpPerspective(np.ones(page.shape[:2], np.float32), Hm, (w, h), flags=cv2.INTER_LINEAR)
    if shadow:  # cast a little down-right, soft; at quarter size, it is all low frequencies
        q = np.diag([0.25, 0.25, 1.0])
        off = np.array([[1, 0, 0.0015 * w], [0, 1, 0.0015 * w], [0, 0, 1]])
        small = cv2.warpPerspective(np.ones(page.shape[:2], np.float32), off @ q @ Hm, (w // 4, h // 4))
        shade = cv2.resize(cv2.GaussianBlur(small, (0, 0), 0.002 * w + 0.5), (w, h))
        bg = bg * (1 - 0.45 * shade[:, :, None])
    return cv2.blendLinear(bg, warped.astype(np.float32), 1 - cover, cover), cover


def _capsule(layer: np.ndarray, alpha: np.ndarray, p0, p1, r: float, colour, hide: np.ndarray | None = None) -> None:
    """Paint one rounded limb segment (finger, thumb, palm, forearm) over `layer` (in place):
    shaded darker toward its rim as a cylinder is, so overlapping fingers stay apart.
    hide: a 0..1 map of what is in front of it (the sheet, for the fingers behind it)."""
    h, w = alpha.shape
    p0, p1 = np.float32(p0), np.float32(p1)
    x0, y0 = np.maximum(np.floor(np.minimum(p0, p1) - r - 2), 0).astype(int)
    x1, y1 = np.ceil(np.maximum(p0, p1) + r + 2).astype(int)
    x1, y1 = min(x1, w), min(y1, h)
    if x1 <= x0 or y1 <= y0:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    d = p1 - p0
    t = np.clip(((xx - p0[0]) * d[0] + (yy - p0[1]) * d[1]) / max(float(d @ d), 1e-6), 0, 1)
    dist = np.hypot(xx - p0[0] - t * d[0], yy - p0[1] - t * d[1])
    a = np.clip(r - dist + 0.5, 0, 1)
    if hide is not None:
        a *= 1 - hide[y0:y1, x0:x1]
    shade = 1.0 - 0.45 * np.clip(dist / r, 0, 1) ** 2
    col = np.float32(colour) * shade[:, :, None]
    region = layer[y0:y1, x0:x1]
    layer[y0:y1, x0:x1] = region * (1 - a[:, :, None]) + col * a[:, :, None]
    np.maximum(alpha[y0:y1, x0:x1], a, out=alpha[y0:y1, x0:x1])


def hands(rng: np.random.Generator, frame: np.ndarray, quad: np.ndarray, cover: np.ndarray) -> np.ndarray:
    """Two hands holding the sheet by its left and right edges (in place). Either the thumb is
    over the sheet and the fingers behind it (their knuckles showing past the edge), or four
    fingers curl over the front; palm and forearm run out of the frame. Returns their mask
    (0..1) so digits they hide are left out of the score."""
    h, w = frame.shape[:2]
    skin = np.float32(SKIN[rng.integers(len(SKIN))]) * rng.uniform(0.7, 0.95)  # lit like the sheet
    sleeve = SLEEVES[rng.integers(len(SLEEVES))]
    centre = quad.mean(axis=0)
    size = float(np.linalg.norm(quad[3] - quad[0]))  # page height in the frame
    layer = np.zeros_like(frame)
    alpha = np.zeros((h, w), np.float32)
    for a, b in ((0, 3), (1, 2)):  # left edge tl-bl, right edge tr-br
        grip = quad[a] + rng.uniform(0.3, 0.7) * (quad[b] - quad[a])
        inward = centre - grip
        inward /= np.linalg.norm(inward)
        along = (quad[b] - quad[a]) / np.linalg.norm(quad[b] - quad[a])
        s = size * rng.uniform(0.4, 0.55)  # hand length (an A4 sheet is 1.6 hands tall)
        wrist = grip - inward * 0.6 * s + along * rng.uniform(0.0, 0.2) * s
        elbow = wrist - inward * 1.5 * s + along * rng.uniform(0.3, 0.8) * s
        _capsule(layer, alpha, wrist, elbow, 0.17 * s, sleeve)
        _capsule(layer, alpha, wrist, grip - inward * 0.22 * s, 0.19 * s, skin, cover)  # palm, behind
        thumb_front = rng.random() < 0.5
        side = float(rng.choice([-1, 1]))
        for f in range(4):
            knuckle = grip - inward * 0.2 * s + along * (f - 1.5) * 0.085 * s
            reach = rng.uniform(0.3, 0.42) * s * (1 - 0.15 * abs(f - 1.5))
            tip = knuckle + (inward + along * (f - 1.5) * 0.12) * reach
            _capsule(layer, alpha, knuckle, tip, 0.045 * s, skin * rng.uniform(0.92, 1.05), cover if thumb_front else None)
        root = grip - inward * 0.3 * s + along * side * 0.18 * s
        tip = grip + inward * rng.uniform(0.1, 0.2) * s + along * side * 0.06 * s
        _capsule(layer, alpha, root, tip, 0.055 * s, skin, None if thumb_front else cover)
    alpha = cv2.GaussianBlur(alpha, (0, 0), 0.8)
    m = alpha[:, :, None]
    frame[:] = frame * (1 - m) + layer * m
    return alpha


def _pt(v) -> tuple[int, int]:
    """An integer pixel for OpenCV's drawing calls."""
    return int(round(float(v[0]))), int(round(float(v[1])))


def lamp(rng: np.random.Generator, frame: np.ndarray, quad: np.ndarray, look: dict) -> None:
    """A desk lamp (in place): warm light falling off from a spot near the page, and a strong
    soft shadow (a head, an arm, the lamp's shade) over part of it. The light is smooth, so it
    is worked out at quarter size."""
    h, w = frame.shape[:2]
    sh, sw = max(2, h // 4), max(2, w // 4)
    q = quad / 4
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    spot = q[rng.integers(4)] * 0.5 + q.mean(axis=0) * 0.5 + rng.normal(0, 0.1 * sw, 2)
    r = np.sqrt((xx - spot[0]) ** 2 + (yy - spot[1]) ** 2) / np.hypot(sw, sh)
    light = 1.0 - rng.uniform(*look["falloff"]) * np.clip(r / 0.7, 0, 1) ** 1.5
    size = np.linalg.norm(q[2] - q[0])
    mask = np.zeros((sh, sw), np.float32)
    where = q[rng.integers(4)] * rng.uniform(0.3, 0.6) + q.mean(axis=0) * 0.55
    axes = (int(rng.uniform(0.3, 0.6) * size), int(rng.uniform(0.15, 0.35) * size))
    cv2.ellipse(mask, _pt(where), axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1, cv2.LINE_AA)
    mask = cv2.GaussianBlur(mask, (0, 0), rng.uniform(*look["soft"]) * sw + 0.5)
    light *= 1.0 - rng.uniform(*look["depth"]) * mask
    frame *= cv2.resize(light, (w, h), interpolation=cv2.INTER_LINEAR)[:, :, None] * np.float32([0.82, 0.93, 1.0])


def dim_sensor(rng: np.random.Generator, img: np.ndarray, look: dict) -> np.ndarray:
    """Little light, high gain: the camera amplifies a dark exposure, shot and read noise with it,
    the colour noise blotchy from demosaicing."""
    x = img.astype(np.float32) * rng.uniform(*look["light"])
    sigma = np.sqrt(x * look["shot"] + look["read"] ** 2)  # shot noise grows with the signal, read noise does not
    h, w = x.shape[:2]
    chroma = cv2.resize(rng.standard_normal((h // 2, w // 2, 3), dtype=np.float32), (w, h)) * look["read"]
    x = (x + sigma * rng.standard_normal(x.shape, dtype=np.float32) + chroma) * rng.uniform(*look["gain"])
    return np.clip(x, 0, 255).astype(np.uint8)


def defocus(img: np.ndarray, radius: float) -> np.ndarray:
    """An out-of-focus lens: a disk kernel, not a Gaussian."""
    r = int(np.ceil(radius))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    k = np.clip(radius + 0.5 - np.sqrt(xx * xx + yy * yy), 0, 1).astype(np.float32)
    return cv2.filter2D(img, -1, k / k.sum())


def camera_pad(strength: float, frame: tuple[int, int]) -> int:
    """Border to render beyond the frame so photograph()'s perspective jitter (corners moved
    up to 6% x strength of the short side, the quad then stretched to fill) never pulls its
    replicated edge into view: the frame is cropped from the middle afterwards."""
    k = 0.132 * strength
    return int(np.ceil(k * min(frame) / (1 - 2 * k))) + 2


def _box(points: np.ndarray, T: np.ndarray) -> Box:
    """The box around points (page px) after the homography T."""
    pts = cv2.perspectiveTransform(points.reshape(1, -1, 2).astype(np.float32), T)[0]
    x0, y0 = np.floor(pts.min(axis=0)).astype(int)
    x1, y1 = np.ceil(pts.max(axis=0)).astype(int)
    return int(x0), int(y0), int(x1 - x0), int(y1 - y0)


def _inside(box: Box, w: int, h: int) -> bool:
    """Wholly in a w x h frame: only such a digit can be scored."""
    return box[0] >= 0 and box[1] >= 0 and box[0] + box[2] <= w and box[1] + box[3] <= h


def _meets(box: Box, w: int, h: int) -> bool:
    """Partly in a w x h frame (a digit cut by its edge)."""
    return box[0] < w and box[1] < h and box[0] + box[2] > 0 and box[1] + box[3] > 0


def render(condition: str, rng: np.random.Generator, digits_source: Pool):
    """One photo under `condition`: (bgr uint8 image, gts [(digit, box)], ignore [box]).

    Boxes are the ink's tight boxes in image pixels. `ignore` holds the printed digits, and
    any handwritten digit cut by the frame's edge or a quarter hidden by a hand.
    """
    p = look(condition)
    Hm, (pw, ph), quad = place_page(rng, p)
    page, truth, printed = write_page(rng, p, digits_source, Hm, (pw, ph))
    pad = camera_pad(p["camera"], p["frame"])
    shift = np.array([[1, 0, pad], [0, 1, pad], [0, 0, 1]], np.float64)
    frame, hidden = stage(rng, p, page, shift @ Hm, quad + pad, pad)
    img, M = shoot(rng, p, frame, pad)
    T = np.linalg.inv(shift) @ M @ shift @ Hm  # page px -> image px
    gts, ignore = [], []
    for digit, pts in truth:
        box = _box(pts, T)
        if _inside(box, *p["frame"]) and _hidden_share(hidden, pts, shift @ Hm) < 0.25:
            gts.append((digit, box))
        elif _meets(box, *p["frame"]):  # cut by the frame's edge or under a hand: unscorable
            ignore.append(box)
    ignore += [_box(pts, T) for pts in printed]
    return img, gts, ignore


def write_page(rng: np.random.Generator, p: dict, pool: Pool, Hm: np.ndarray, size: tuple[int, int]):
    """The page as the camera will see it: paper, printed prompts, handwriting. Returns
    (page uint8, [(digit, ink outline points)], [printed digit corners]), points in page px."""
    pw, ph = size
    area = writing_area(Hm, size, p)
    h = digit_height(rng, p, ph, area)
    n = int(rng.integers(p["digits"][0], p["digits"][1] + 1))
    text = np.zeros((ph, pw), np.uint8)  # printed prompts, laid out with the answers
    printed: list[np.ndarray] = []
    slots, baselines = plan_rows(rng, pool, area, h, n, p, text, printed)
    page = make_paper(rng, p, size, baselines)
    if printed or p["printed"]:
        c = text[:, :, None].astype(np.float32) / 255.0
        page = (page * (1 - c) + np.float32(PRINT) * c).astype(np.uint8)
    return page, write(rng, pool, page, slots, h, p), printed


def stage(rng: np.random.Generator, p: dict, page: np.ndarray, Hp: np.ndarray, quad: np.ndarray, pad: int):
    """The world in front of the camera, on a canvas `pad` larger than the frame all round: the
    background, the page on it (through Hp), hands and lamp light. Returns (frame float32,
    hand mask or None)."""
    W, H = p["frame"]
    bg = background(rng, p["background"], H + 2 * pad, W + 2 * pad)
    frame, cover = lay_page(bg, page, Hp, shadow=p["background"] != "dark_room")
    hidden = hands(rng, frame, quad, cover) if p["hands"] else None
    if p["lamp"]:
        lamp(rng, frame, quad, p["lamp"])
    return frame, hidden


def shoot(rng: np.random.Generator, p: dict, frame: np.ndarray, pad: int) -> tuple[np.ndarray, np.ndarray]:
    """The camera: scenes.photograph (jitter, light gradient, blur, noise), the frame cut from
    the middle, then the condition's sensor, lens and compression. Returns (image, photograph's
    homography on the padded canvas)."""
    W, H = p["frame"]
    img, M = photograph(np.clip(frame, 0, 255).astype(np.uint8), rng, p["camera"])
    img = img[pad:pad + H, pad:pad + W]
    if p["dim"]:
        img = dim_sensor(rng, img, p["dim"])
    if p["blur"]:
        img = cv2.GaussianBlur(img, (0, 0), p["blur"] * W)
    if p["defocus"]:
        img = defocus(img, rng.uniform(*p["defocus"]))
    if p["jpeg"]:
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(*p["jpeg"]))])
        return cv2.imdecode(buf, cv2.IMREAD_COLOR), M
    return jpeg(img, rng), M


def _hidden_share(hidden: np.ndarray | None, pts: np.ndarray, Hp: np.ndarray) -> float:
    """How much of a digit's box (on the padded canvas) a hand covers; 0 without hands."""
    if hidden is None:
        return 0.0
    x, y, w, h = _box(pts, Hp)
    return float(hidden[max(y, 0):y + h, max(x, 0):x + w].mean()) if w > 0 and h > 0 else 0.0


if __name__ == "__main__":  # python -m training.conditions [DIR]: one example per condition
    from pathlib import Path

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "runs/conditions/examples")
    out.mkdir(parents=True, exist_ok=True)
    digits = load_pool()
    for name in CONDITIONS:
        im, g, ig = render(name, np.random.default_rng(0), digits)
        for _, (x, y, w, h) in g:
            cv2.rectangle(im, (x, y), (x + w, y + h), (0, 200, 0), max(1, im.shape[1] // 1000))
        for x, y, w, h in ig:
            cv2.rectangle(im, (x, y), (x + w, y + h), (200, 0, 200), max(1, im.shape[1] // 1000))
        cv2.imwrite(str(out / f"{name}.png"), im)
    print(f"wrote {len(CONDITIONS)} examples to {out}")
