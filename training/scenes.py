"""Synthetic photographed pages: MNIST TEST digits written as pen ink on paper, with ground truth.

The project makes its own test scenes so detection can be measured with exact
boxes: digits (and numbers of 2-4 digits) composited as ink onto paper with
ruled lines, clutter (scribbles, printed letters, dots), then photographed:
perspective, lighting gradient, shadow, blur, noise and JPEG.

    rng = np.random.default_rng(0)
    image, digits, numbers = make_scene(rng, mnist_x, mnist_y)
    # digits: [(digit, (x, y, w, h))], numbers: [(text, (x, y, w, h))], boxes in image pixels

`draw_digit(canvas, digit28, box, ink_bgr, rng)` is the low-level helper the demo
video and the forms renderer reuse to put one MNIST digit into a box as ink.
Runtime code never imports this module.
"""
from __future__ import annotations

import cv2
import numpy as np

PAPERS = [(235, 240, 242), (215, 228, 236), (242, 242, 238), (200, 214, 222)]  # BGR white, cream, grey
INKS = [(140, 40, 20), (30, 30, 30), (120, 30, 10), (20, 20, 160)]  # BGR blue, black, dark blue, red
# printed letters that no reader would take for a digit (no O, I, l, S, Z, B, G, b, g, q, s, z, T)
LETTERS = "ACEFHKMNPRWXYacefhkmnrwxy"

Box = tuple[int, int, int, int]


def draw_digit(canvas: np.ndarray, digit28: np.ndarray, box: Box, ink_bgr, rng: np.random.Generator,
               strength: float | None = None) -> Box:
    """Composite one MNIST digit (white on black, 28x28 uint8) as ink into `box` of a BGR canvas.

    The digit's own ink box is scaled to fit the box height keeping its aspect,
    centred horizontally; ink darkens the paper (multiplicative, like a pen).
    Returns the box the ink actually covers, in canvas pixels.
    """
    ys, xs = np.nonzero(digit28 > 30)
    if len(xs) == 0:
        return box
    glyph = digit28[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1].astype(np.float32) / 255.0
    x, y, w, h = box
    gh, gw = glyph.shape
    scale = min(h / gh, w / gw)
    nw, nh = max(1, round(gw * scale)), max(1, round(gh * scale))
    glyph = cv2.resize(glyph, (nw, nh), interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)
    glyph = np.clip(glyph, 0.0, 1.0) * (strength if strength is not None else rng.uniform(0.8, 1.0))
    gx, gy = x + (w - nw) // 2, y + (h - nh) // 2
    H, W = canvas.shape[:2]
    x0, y0, x1, y1 = max(gx, 0), max(gy, 0), min(gx + nw, W), min(gy + nh, H)
    if x1 <= x0 or y1 <= y0:
        return box
    a = glyph[y0 - gy: y1 - gy, x0 - gx: x1 - gx, None]
    region = canvas[y0:y1, x0:x1].astype(np.float32)
    ink = np.asarray(ink_bgr, np.float32)
    canvas[y0:y1, x0:x1] = np.clip(region * (1 - a) + ink * a, 0, 255).astype(canvas.dtype)
    return (x0, y0, x1 - x0, y1 - y0)


def paper(rng: np.random.Generator, width: int, height: int, ruled: bool, squared: bool = False) -> np.ndarray:
    """Plain, ruled or squared (a maths exercise book, graph paper) paper with a little grain."""
    page = np.empty((height, width, 3), np.float32)
    page[:] = PAPERS[rng.integers(len(PAPERS))]
    page += rng.normal(0, 3, (height, width, 1))
    page = np.clip(page, 0, 255).astype(np.uint8)
    if squared:
        gap = int(rng.integers(height // 24, height // 8))  # cells a third of a digit to two digits tall
        color = (210, 180, 150) if rng.random() < 0.6 else (170, 170, 170)
        thickness = 1 + int(rng.random() < 0.3)
        for y in range(int(rng.integers(0, gap)), height, gap):
            cv2.line(page, (0, y), (width, y), color, thickness, cv2.LINE_AA)
        for x in range(int(rng.integers(0, gap)), width, gap):
            cv2.line(page, (x, 0), (x, height), color, thickness, cv2.LINE_AA)
    elif ruled:
        gap = int(rng.integers(height // 12, height // 7))
        color = (200, 170, 140) if rng.random() < 0.7 else (160, 160, 160)
        for y in range(int(rng.integers(gap // 2, gap)), height, gap):
            cv2.line(page, (0, y), (width, y), color, 1 + int(rng.random() < 0.3), cv2.LINE_AA)
    return page


def clutter(page: np.ndarray, rng: np.random.Generator, boxes: list[Box], n: int, size: int) -> None:
    """Non-digit marks away from the digits: scribbles, printed letters, dots."""
    H, W = page.shape[:2]
    for _ in range(n):
        for _ in range(20):
            w, h = int(rng.integers(size // 2, size * 2)), int(rng.integers(size // 2, size))
            x, y = int(rng.integers(0, max(1, W - w))), int(rng.integers(0, max(1, H - h)))
            if not any(_overlap((x, y, w, h), b, pad=size // 3) for b in boxes):
                break
        else:
            continue
        boxes.append((x, y, w, h))
        ink = INKS[rng.integers(len(INKS))]
        kind = rng.integers(3)
        if kind == 0:  # scribble: a wobbly polyline
            pts = np.stack([np.linspace(x, x + w, 8), y + h / 2 + rng.normal(0, h / 4, 8)], 1).astype(np.int32)
            cv2.polylines(page, [pts], False, ink, int(rng.integers(1, 3)), cv2.LINE_AA)
        elif kind == 1:  # printed letters
            text = "".join(rng.choice(list(LETTERS), int(rng.integers(2, 5))))
            cv2.putText(page, text, (x, y + h), cv2.FONT_HERSHEY_SIMPLEX, h / 30, (40, 40, 40), max(1, h // 15), cv2.LINE_AA)
        else:  # dots
            for _ in range(int(rng.integers(1, 4))):
                cv2.circle(page, (int(x + rng.uniform(0, w)), int(y + rng.uniform(0, h))), max(1, size // 12), ink, -1)


def _overlap(a: Box, b: Box, pad: int = 0) -> bool:
    return not (a[0] + a[2] + pad <= b[0] or b[0] + b[2] + pad <= a[0]
                or a[1] + a[3] + pad <= b[1] or b[1] + b[3] + pad <= a[1])


def photograph(page: np.ndarray, rng: np.random.Generator, strength: float = 1.0,
               tilt: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Camera effects: perspective, lighting gradient, shadow, blur, noise. Returns (image, homography).

    tilt: the page held turned by this many degrees (counter-clockwise), shrunk to stay
    whole in the frame, on a darker desk.
    """
    H, W = page.shape[:2]
    d = strength * 0.06 * min(W, H)
    src = np.float32([[0, 0], [W, 0], [W, H], [0, H]])
    dst = src + rng.uniform(-d, d, (4, 2)).astype(np.float32)
    dst -= dst.min(axis=0)
    dst *= np.float32([W, H]) / dst.max(axis=0)
    M = cv2.getPerspectiveTransform(src, dst)
    border = {"borderMode": cv2.BORDER_REPLICATE}
    if tilt:
        M = M @ _turn_within(W, H, tilt)
        desk = 0.55 * np.median(page.reshape(-1, page.shape[-1]), axis=0)
        border = {"borderMode": cv2.BORDER_CONSTANT, "borderValue": [float(v) for v in desk]}
    img = cv2.warpPerspective(page.astype(np.float32), M, (W, H), **border)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    a = rng.uniform(0, 2 * np.pi)
    light = 1.0 - strength * rng.uniform(0.1, 0.35) * ((np.cos(a) * xx / W + np.sin(a) * yy / H) + 1) / 2
    if rng.random() < 0.5 * strength:  # a soft shadow across one side
        edge = rng.uniform(0.2, 0.8) * W
        light *= 1 - 0.35 / (1 + np.exp(-(xx - edge) / (0.03 * W)))
    img = img * light[:, :, None]
    sigma = rng.uniform(0.3, 1.2) * strength
    if sigma > 0.35:
        img = cv2.GaussianBlur(img, (0, 0), sigma)
    img += rng.normal(0, 4 * strength, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8), M


def _turn_within(W: int, H: int, degrees: float) -> np.ndarray:
    """3x3 homography turning a W x H page about its centre, shrunk so all of it stays in the frame."""
    c, s = abs(np.cos(np.radians(degrees))), abs(np.sin(np.radians(degrees)))
    fit = min(W / (W * c + H * s), H / (W * s + H * c))
    return np.vstack([cv2.getRotationMatrix2D((W / 2, H / 2), degrees, fit), [0, 0, 1]])


def jpeg(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A JPEG round trip at a phone-like quality."""
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(60, 95))])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


def _warp_box(box: Box, M: np.ndarray) -> Box:
    x, y, w, h = box
    pts = cv2.perspectiveTransform(np.float32([[[x, y], [x + w, y], [x + w, y + h], [x, y + h]]]), M)[0]
    x0, y0 = np.floor(pts.min(axis=0)).astype(int)
    x1, y1 = np.ceil(pts.max(axis=0)).astype(int)
    return (int(x0), int(y0), int(x1 - x0), int(y1 - y0))


def glyph_aspect(digit28: np.ndarray) -> float:
    """Width over height of the digit's ink, so a number's digits share one height as in writing."""
    ys, xs = np.nonzero(digit28 > 30)
    if len(xs) == 0:
        return 0.6
    return float(np.clip((xs.max() - xs.min() + 1) / (ys.max() - ys.min() + 1), 0.15, 1.3))


def layout(rng: np.random.Generator, images: np.ndarray, width: int, height: int, n_digits: int,
           digit_height: tuple[int, int]) -> list[list[tuple[int, Box]]]:
    """Non-overlapping numbers of 1-4 digits, each on one line: [[(image index, box), ...], ...].

    Digits of a number share a height; each box is as wide as its digit's ink.
    """
    groups: list[list[tuple[int, Box]]] = []
    placed: list[Box] = []
    left = n_digits
    tries = 0
    while left > 0 and tries < 400:
        tries += 1
        k = int(min(left, rng.choice([1, 1, 2, 2, 3, 4])))
        h = int(rng.integers(*digit_height))
        idx = [int(i) for i in rng.integers(len(images), size=k)]
        widths = [max(2, round(h * glyph_aspect(images[i]))) for i in idx]
        gap = int(rng.uniform(0.15, 0.35) * h)
        gw = sum(widths) + (k - 1) * gap
        if gw >= width - 8 or h >= height - 8:
            continue
        x, y = int(rng.integers(4, width - gw - 4)), int(rng.integers(4, height - h - 4))
        group_box = (x, y, gw, h)
        if any(_overlap(group_box, b, pad=h) for b in placed):
            continue
        placed.append(group_box)
        xs = np.cumsum([0] + [w + gap for w in widths[:-1]])
        groups.append([(i, (x + int(dx), y, w, h)) for i, dx, w in zip(idx, xs, widths)])
        left -= k
    return groups


def make_scene(rng: np.random.Generator, images: np.ndarray, labels: np.ndarray, width: int = 640,
               height: int = 480, n_digits: int = 20, clutter_marks: int | None = None, ruled: bool | None = None,
               digit_height: tuple[int, int] | None = None, camera: float = 1.0, light_ink: bool = False,
               tilt: float = 0.0, squared: bool = False):
    """One synthetic photo with ground truth.

    images, labels: MNIST TEST digits to draw from (uint8 28x28, int).
    clutter_marks: non-digit marks to add (default: about a quarter of n_digits).
    camera: strength of the photographic effects (0 = flat scan, 1 = phone photo).
    light_ink: chalk-like light ink on a dark board instead of pen on paper.
    tilt: the page held turned by this many degrees (see photograph).
    squared: squared paper (a grid of thin lines) instead of plain or ruled.
    Returns (bgr image, [(digit, box)], [(text, box)]) with boxes in image pixels.
    """
    ruled = bool(rng.random() < 0.5) if ruled is None else ruled
    digit_height = digit_height or (max(16, height // 20), max(24, height // 9))
    page = paper(rng, width, height, ruled, squared)
    ink = INKS[rng.integers(len(INKS))]
    digits, numbers, boxes = [], [], []
    for group in layout(rng, images, width, height, n_digits, digit_height):
        drawn = [draw_digit(page, images[i], b, ink, rng) for i, b in group]
        digits += [(int(labels[i]), b) for (i, _), b in zip(group, drawn)]
        numbers.append(("".join(str(int(labels[i])) for i, _ in group), drawn))
        boxes += [b for _, b in group]
    n_clutter = n_digits // 4 if clutter_marks is None else clutter_marks
    clutter(page, rng, boxes, n_clutter, int(np.mean(digit_height)))
    if light_ink:
        page = 255 - page
    img, M = photograph(page, rng, camera, tilt)
    img = jpeg(img, rng) if camera > 0 else img
    digits = [(d, _warp_box(b, M)) for d, b in digits]
    numbers = [(t, _union([_warp_box(b, M) for b in bs])) for t, bs in numbers]
    return img, digits, numbers


def hold_pen(image: np.ndarray, rng: np.random.Generator, hand: bool = True, shine: bool = True) -> np.ndarray:
    """Draw a pen held in view over a photographed page, in place, and the hand holding it;
    returns the mask (uint8 0/255) of what was drawn.

    A webcam pointed at a page sees them as often as not. The pen is a dark bar
    3-5.5% of the frame wide, reaching in from the bottom or right edge toward
    the middle, with a thin highlight along it (shine; a glossy barrel); the hand, a
    shaded skin-coloured oval around the pen's far end.
    """
    H, W = image.shape[:2]
    if rng.random() < 0.5:
        end = (int(rng.uniform(0.5, 1.0) * W), H + 10)
    else:
        end = (W + 10, int(rng.uniform(0.5, 1.0) * H))
    angle = np.arctan2(H / 2 - end[1], W / 2 - end[0]) + rng.uniform(-0.5, 0.5)
    length = rng.uniform(0.25, 0.45) * W
    tip = (int(end[0] + length * np.cos(angle)), int(end[1] + length * np.sin(angle)))
    width = int(rng.uniform(0.03, 0.055) * W)
    body = [int(v) for v in rng.uniform(20, 80, 3)]
    mask = np.zeros((H, W), np.uint8)
    cv2.line(image, end, tip, body, width, cv2.LINE_AA)
    if shine:
        cv2.line(image, (end[0] + 2, end[1] - 2), (tip[0] + 2, tip[1] - 2), [min(255, c + 90) for c in body],
                 max(1, width // 6), cv2.LINE_AA)
    cv2.line(mask, end, tip, 255, width + 6)
    if hand:
        grip = (int(end[0] + 0.15 * length * np.cos(angle)), int(end[1] + 0.15 * length * np.sin(angle)))
        axes = (int(rng.uniform(0.08, 0.14) * W), int(rng.uniform(0.055, 0.095) * W))
        skin = np.array([rng.uniform(90, 160), rng.uniform(120, 180), rng.uniform(160, 230)], np.float32)
        cover = np.zeros((H, W), np.float32)
        cv2.ellipse(cover, grip, axes, float(np.degrees(angle)), 0, 360, 1.0, -1)
        cover = cv2.GaussianBlur(cover, (0, 0), 3)[..., None]
        shade = 0.75 + 0.25 * np.linspace(0, 1, W, dtype=np.float32)[None, :, None]
        image[:] = (image * (1 - cover) + cover * skin * shade).astype(image.dtype)
        cv2.ellipse(mask, grip, (axes[0] + 8, axes[1] + 8), float(np.degrees(angle)), 0, 360, 255, -1)
    return mask


def _union(boxes: list[Box]) -> Box:
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return (x0, y0, x1 - x0, y1 - y0)


if __name__ == "__main__":  # python -m training.scenes: write a few examples to runs/scenes/
    from pathlib import Path

    from training.data import load_mnist

    (_, _), (xt, yt) = load_mnist()
    out = Path("runs/scenes")
    out.mkdir(parents=True, exist_ok=True)
    g = np.random.default_rng(0)
    for k in range(4):
        im, ds, ns = make_scene(g, xt, yt)
        for d, (x, y, w, h) in ds:
            cv2.rectangle(im, (x, y), (x + w, y + h), (0, 200, 0), 1)
        cv2.imwrite(str(out / f"scene{k}.png"), im)
    print(f"wrote {out}/scene0..3.png")
