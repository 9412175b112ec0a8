"""Render the example paper form, fill it with MNIST test digits, photograph it.

    python -m training.render_form                      # assets/forms/: example photo, template, CSV
    python -m training.render_form --count 50 --out runs/forms_synth   # a folder of synthetic forms

The form is printed by the project (labels, comb fields of one box per digit, a
free box, a ruled line), filled in with MNIST TEST digits composited as pen ink
(some touching the box lines), then "photographed": placed on a table, seen in
perspective, shaded, blurred, noisy and JPEG-compressed. The template and the
expected CSV come from the same description, so they can never disagree.
"""
from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import cv2
import numpy as np

PAGE = (1000, 1414)  # printed page (w, h) in pixels; the template's rectified page
ASSETS = Path(__file__).resolve().parent.parent / "assets" / "forms"
PAPER = 245
PRINT_INK = (40, 40, 40)

# name, kind, (x, y, w, h) in page pixels, comb cells, type, digits written (range)
FIELDS = [
    ("student_id", "comb", (300, 230, 640, 80), 8, "digits", (8, 8)),
    ("date", "comb", (300, 380, 480, 80), 6, "digits", (6, 6)),
    ("room", "comb", (300, 530, 240, 80), 3, "digits", (3, 3)),
    ("amount", "box", (300, 680, 420, 100), None, "number", (2, 5)),
    ("score", "box", (300, 850, 180, 100), None, "number", (1, 2)),
    ("phone", "line", (300, 1010, 600, 100), None, "digits", (6, 8)),
    ("code", "comb", (300, 1180, 320, 80), 4, "digits", (4, 4)),
]
LABELS = {"student_id": "Student ID", "date": "Date (DDMMYY)", "room": "Room", "amount": "Amount",
          "score": "Score", "phone": "Phone", "code": "Check code"}


def template() -> dict:
    """The form's template: every field's box relative to the page (0..1)."""
    w, h = PAGE
    fields = []
    for name, kind, (x, y, bw, bh), cells, ftype, (lo, hi) in FIELDS:
        f = {"name": name, "kind": kind, "box": [round(x / w, 4), round(y / h, 4), round(bw / w, 4), round(bh / h, 4)],
             "type": ftype}
        if cells:
            f["cells"] = cells
        if lo == hi:
            f["length"] = lo
        fields.append(f)
    return {"name": "example", "page": {"width": w, "height": h}, "fields": fields}


def print_form() -> np.ndarray:
    """The blank printed form (BGR): title, labels, combs, boxes and the ruled line."""
    w, h = PAGE
    page = np.full((h, w, 3), PAPER, np.uint8)
    cv2.putText(page, "Digit form - example", (60, 120), cv2.FONT_HERSHEY_DUPLEX, 1.6, PRINT_INK, 2, cv2.LINE_AA)
    cv2.line(page, (60, 150), (w - 60, 150), PRINT_INK, 2)
    for name, kind, (x, y, bw, bh), cells, _, _ in FIELDS:
        cv2.putText(page, LABELS[name], (60, y + bh // 2 + 10), cv2.FONT_HERSHEY_SIMPLEX, 0.9, PRINT_INK, 2,
                    cv2.LINE_AA)
        if kind == "line":
            cv2.line(page, (x, y + bh - 12), (x + bw, y + bh - 12), PRINT_INK, 2)
            continue
        cv2.rectangle(page, (x, y), (x + bw, y + bh), PRINT_INK, 3)
        for i in range(1, cells or 1):
            cx = x + round(i * bw / cells)
            cv2.line(page, (cx, y), (cx, y + bh), PRINT_INK, 2)
    cv2.putText(page, "Write one digit per box. Rendered by training/render_form.py", (60, h - 60),
                cv2.FONT_HERSHEY_SIMPLEX, 0.6, PRINT_INK, 1, cv2.LINE_AA)
    return page


def draw_digit(canvas: np.ndarray, digit28: np.ndarray, box, ink_bgr, rng) -> int:
    """Composite one MNIST digit as pen ink, fit into `box` (x, y, w, h) keeping its aspect
    (top-aligned, centred across); returns how far right of x the ink reaches."""
    x, y, w, h = box
    ys, xs = np.nonzero(digit28 > 30)
    glyph = digit28[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1].astype(np.float32) / 255.0
    gh, gw = glyph.shape
    scale = min(h / gh, w / gw)
    nw, nh = max(1, int(round(gw * scale))), max(1, int(round(gh * scale)))
    alpha = cv2.resize(glyph, (nw, nh), interpolation=cv2.INTER_LINEAR)
    ox = x + (w - nw) // 2
    x0, y0 = max(ox, 0), max(y, 0)
    x1, y1 = min(ox + nw, canvas.shape[1]), min(y + nh, canvas.shape[0])
    a = np.clip(alpha[y0 - y: y1 - y, x0 - ox: x1 - ox] * rng.uniform(0.85, 1.0), 0, 1)[..., None]
    region = canvas[y0:y1, x0:x1].astype(np.float32)
    canvas[y0:y1, x0:x1] = (region * (1 - a) + np.float32(ink_bgr) * a).astype(np.uint8)
    return ox + nw - x  # right edge of the ink, from the box's left


def pick(images, labels, digit: int, rng) -> np.ndarray:
    idx = np.flatnonzero(labels == digit)
    return images[rng.choice(idx)]


def fill_form(page: np.ndarray, images, labels, rng, touch: float = 0.3) -> tuple[np.ndarray, dict]:
    """Write a random value in every field with MNIST digits; returns (page, {field: text}).

    `touch` is the chance that a comb digit is pushed onto its box line.
    """
    page = page.copy()
    ink = [(150, 60, 20), (40, 30, 30), (120, 40, 40)][rng.integers(3)]  # blue, black, dark blue pen
    values = {}
    for name, kind, (x, y, bw, bh), cells, ftype, (lo, hi) in FIELDS:
        n = int(rng.integers(lo, hi + 1))
        digits = [int(d) for d in rng.integers(0, 10, n)]
        if ftype == "number":
            digits[0] = int(rng.integers(1, 10))
        values[name] = "".join(map(str, digits))
        if kind == "comb":
            cw = bw / cells
            for i, d in enumerate(digits):
                dh = int(bh * rng.uniform(0.6, 0.8))
                dx = rng.uniform(-0.1, 0.1) * cw
                dy = rng.uniform(0.08, 0.92 - dh / bh) * bh
                if rng.random() < touch:  # push onto the top or bottom line
                    dy = rng.choice([-0.05 * bh, bh - dh + 0.05 * bh])
                draw_digit(page, pick(images, labels, d, rng),
                           (int(x + i * cw + dx + 0.05 * cw), int(y + dy), int(0.9 * cw), dh), ink, rng)
            continue
        dh = int(bh * rng.uniform(0.55, 0.75))
        dh = min(dh, int(0.85 * bw / (n * 1.05)))  # the whole number fits its box or line
        cx = x + rng.uniform(0.04, 0.12) * bw
        top = y + (bh - 12 - dh - rng.uniform(2, 8) if kind == "line" else rng.uniform(0.1, 0.9 * bh - dh))
        for d in digits:
            width = draw_digit(page, pick(images, labels, d, rng),
                               (int(cx), int(top + rng.uniform(-3, 3)), int(0.9 * dh), dh), ink, rng)
            cx += width + dh * rng.uniform(0.05, 0.3)
    return page, values


def photograph(page: np.ndarray, rng, out_size=(1200, 1600)) -> np.ndarray:
    """The page as a phone sees it: on a table, in perspective, shaded, blurred, noisy, JPEG."""
    return photograph_mapped(page, rng, out_size)[0]


def photograph_mapped(page: np.ndarray, rng, out_size=(1200, 1600)) -> tuple[np.ndarray, np.ndarray]:
    """(`photograph`'s photo, the 3x3 map from page pixels to photo pixels)."""
    W, H = out_size
    bg = np.full((H, W, 3), rng.integers(40, 120, 3), np.uint8)
    bg = cv2.GaussianBlur(cv2.add(bg, rng.integers(0, 25, (H, W, 3)).astype(np.uint8)), (0, 0), 3)
    h, w = page.shape[:2]
    scale = rng.uniform(0.72, 0.88) * min(W / w, H / h)
    cx, cy = W / 2 + rng.uniform(-0.04, 0.04) * W, H / 2 + rng.uniform(-0.04, 0.04) * H
    corners = np.float32([[-w, -h], [w, -h], [w, h], [-w, h]]) * scale / 2
    angle = np.radians(rng.uniform(-8, 8))
    rot = np.float32([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    corners = corners @ rot.T + [cx, cy]
    corners += rng.uniform(-0.05, 0.05, (4, 2)).astype(np.float32) * [w * scale, h * scale]  # perspective
    m = cv2.getPerspectiveTransform(np.float32([[0, 0], [w, 0], [w, h], [0, h]]), corners.astype(np.float32))
    warped = cv2.warpPerspective(page, m, (W, H), flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), m, (W, H))
    photo = np.where(mask[..., None] > 127, warped, bg).astype(np.float32)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    gx, gy = rng.uniform(-1, 1, 2)
    light = 1.0 - rng.uniform(0.15, 0.45) * np.clip(((xx / W - 0.5) * gx + (yy / H - 0.5) * gy) + 0.5, 0, 1)
    sx, sy = rng.uniform(0.2, 0.8) * W, rng.uniform(0.2, 0.8) * H  # a soft hand/phone shadow
    shadow = 1.0 - rng.uniform(0.1, 0.35) * np.exp(-(((xx - sx) / (0.25 * W)) ** 2 + ((yy - sy) / (0.2 * H)) ** 2))
    photo *= (light * shadow)[..., None]
    photo = cv2.GaussianBlur(photo, (0, 0), rng.uniform(0.6, 1.4))
    photo += rng.normal(0, rng.uniform(2, 6), photo.shape)
    photo = np.clip(photo, 0, 255).astype(np.uint8)
    ok, jpg = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(60, 90))])
    return cv2.imdecode(jpg, cv2.IMREAD_COLOR), m


def render_forms(count: int, out: Path, seed: int = 0, images=None, labels=None) -> list[dict]:
    """Write `count` photographed forms, template.json and expected.csv into `out`."""
    if images is None:
        from training.data import load_mnist
        _, (images, labels) = load_mnist()
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    blank = print_form()
    rows = []
    for i in range(count):
        filled, values = fill_form(blank, images, labels, rng)
        name = f"form_{i:03d}.jpg"
        cv2.imwrite(str(out / name), photograph(filled, rng))
        rows.append({"file": name, **values})
    (out / "template.json").write_text(json.dumps(template(), indent=1) + "\n")
    write_expected(out / "expected.csv", rows)
    return rows


def write_expected(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["file"] + [f[0] for f in FIELDS])
        writer.writeheader()
        writer.writerows(rows)


def make_example(out: Path = ASSETS, seed: int = 2024) -> None:
    """assets/forms/: example_form.jpg, example_template.json, example_expected.csv."""
    from training.data import load_mnist
    _, (images, labels) = load_mnist()
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    filled, values = fill_form(print_form(), images, labels, rng)
    cv2.imwrite(str(out / "example_form.jpg"), photograph(filled, rng), [cv2.IMWRITE_JPEG_QUALITY, 90])
    (out / "example_template.json").write_text(json.dumps(template(), indent=1) + "\n")
    write_expected(out / "example_expected.csv", [{"file": "example_form.jpg", **values}])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, help="render this many synthetic forms instead of the example")
    ap.add_argument("--out", type=Path, help="output folder (default assets/forms for the example)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.count:
        render_forms(args.count, args.out or Path("runs/forms_synth"), args.seed)
    else:
        make_example(args.out or ASSETS)


if __name__ == "__main__":
    main()
