"""Render forms laid out like real ones, filled by hand, then scanned or photographed.

    python -m training.real_forms --count 50 --out runs/real_forms     # pages + truth.jsonl

The example form (training/render_form.py) is kind: its labels sit beside its
boxes and nothing else is on the page. Real forms (a government sample sheet,
a marks table) are not: every box has its printed prompt just above it (often
with digits in it: "2. Year of birth (4 digits)"), boxes of different widths
stand side by side in rows, a comb field is a row of touching boxes, a table has
ruled cells with printed headers and printed row numbers, some boxes take
letters, and printed paragraphs sit in a frame of their own. Each page here is
drawn from those parts at random, filled with MNIST TEST digits as pen ink,
then "scanned" (300 dpi look: the page fills the image, a slight skew, speckle,
toner-grey print) or photographed (training/render_form.photograph).

truth.jsonl holds, per image, every digit field: its box in the image's pixels
and the digits written in it (a blank field has ""). Letter boxes, paragraph
frames, table headers and row-number cells are not digit fields; they are listed
under "not_fields" so a reader that reports them can be counted.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from training.render_form import draw_digit, photograph_mapped, pick

PAGE = (1275, 1650)  # letter paper at 150 dpi (w, h)
MARGIN = 80
PAPER = 248
PRINT = (30, 30, 30)
PENS = [(150, 60, 20), (40, 30, 30), (120, 40, 40)]  # blue, black, dark blue (BGR)
PROMPTS = ["Year of birth", "Zip code", "Phone", "Amount (USD)", "Account no.", "Age", "Room",
           "Student number", "Date (MMDDYY)", "Score", "Quantity", "Postal code", "Ward 12 code",
           "Form 1040 line 7", "Total for 2023", "Seat", "Unit 4B count"]
WORDS = ("the of and to in for on by with form this each digit box write please must be clear "
         "section 3 page 2 of 4 date 2019 office use only no 12 see note 7 applicant signature").split()
HEADERS = ["Item", "Qty", "Price", "Total", "Code", "Score", "Hours", "Day", "2024", "Q1", "Q2", "Mark"]
LETTERS = "ABCDEFGHJKLMNPRTUVWXYZ"
FONTS = [cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX]


class Page:
    """A printed page being laid out top to bottom, and the truth of what is on it."""

    def __init__(self, rng):
        self.rng = rng
        self.image = np.full((PAGE[1], PAGE[0], 3), PAPER, np.uint8)
        self.y = MARGIN
        self.fields: list[dict] = []  # digit fields: {"box", "text", "kind"}
        self.not_fields: list[dict] = []  # boxes that hold no digit field
        self.font = FONTS[int(rng.integers(len(FONTS)))]
        self.pen = PENS[int(rng.integers(len(PENS)))]

    def text(self, s: str, x: int, y: int, scale: float = 0.6, thick: int = 1) -> int:
        """Print `s` with its baseline at y; returns its width."""
        cv2.putText(self.image, s, (x, y), self.font, scale, PRINT, thick, cv2.LINE_AA)
        return cv2.getTextSize(s, self.font, scale, thick)[0][0]

    def box(self, x: int, y: int, w: int, h: int, thick: int = 2) -> None:
        cv2.rectangle(self.image, (x, y), (x + w, y + h), PRINT, thick)

    def write(self, digits: str, box, images, labels, cells: int = 0) -> None:
        """Handwrite `digits` in box (x, y, w, h): one per cell of a comb, else left to right."""
        x, y, w, h = box
        rng = self.rng
        if cells:
            cw = w / cells
            for i, d in enumerate(digits):
                dh = int(h * rng.uniform(0.55, 0.8))
                top = y + rng.uniform(0.08, 0.92 - dh / h) * h
                draw_digit(self.image, pick(images, labels, int(d), rng),
                           (int(x + i * cw + 0.08 * cw), int(top), int(0.84 * cw), dh), self.pen, rng)
            return
        dh = min(int(h * rng.uniform(0.5, 0.75)), int(0.8 * w / (len(digits) * 0.95 + 0.3)))
        cx = x + rng.uniform(0.05, 0.15) * w
        top = y + rng.uniform(0.1, 0.9 - dh / h) * h
        for d in digits:
            cx += draw_digit(self.image, pick(images, labels, int(d), rng),
                             (int(cx), int(top + rng.uniform(-2, 2)), int(0.85 * dh), dh), self.pen, rng)
            cx += dh * rng.uniform(0.08, 0.3)

    def letters(self, box) -> None:
        """A name written in capitals (a script font), not digits."""
        x, y, w, h = box
        n = int(self.rng.integers(3, 7))
        word = "".join(self.rng.choice(list(LETTERS), n))
        scale = 0.6 * h / 40
        cv2.putText(self.image, word, (x + 10, y + int(0.75 * h)), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX,
                    min(scale, (w - 20) / (n * 25)), self.pen, 2, cv2.LINE_AA)


def value(rng, n: int) -> str:
    return "".join(str(int(d)) for d in rng.integers(0, 10, n))


def field_row(page: Page, images, labels) -> None:
    """One to three prompted fields side by side: the prompt just above each box."""
    rng = page.rng
    h = int(rng.integers(44, 64))
    x = MARGIN
    for _ in range(int(rng.integers(1, 4))):
        kind = rng.choice(["comb", "box", "box", "letters"], p=[0.4, 0.25, 0.2, 0.15])
        n = int(rng.integers(2, 9)) if kind == "comb" else int(rng.integers(1, 6))
        cw = int(h * rng.uniform(0.8, 1.0))
        w = n * cw if kind == "comb" else int(h * (rng.uniform(1.2, 1.6) * n if kind == "box" else 5))
        if x + w > PAGE[0] - MARGIN:
            break
        prompt = f"{len(page.fields) + 1}. {rng.choice(PROMPTS)}" if rng.random() < 0.6 else str(rng.choice(PROMPTS))
        page.text(prompt, x, page.y + 18, 0.55)
        top = page.y + int(rng.integers(26, 34))
        page.box(x, top, w, h)
        if kind == "comb":
            for i in range(1, n):
                cv2.line(page.image, (x + i * cw, top), (x + i * cw, top + h), PRINT, 1)
        box = (x, top, w, h)
        if kind == "letters":
            page.letters(box)
            page.not_fields.append({"box": list(box), "what": "letters"})
        else:
            filled = value(rng, n if kind == "comb" else int(rng.integers(1, n + 1))) if rng.random() < 0.9 else ""
            if filled:
                page.write(filled, box, images, labels, n if kind == "comb" else 0)
            page.fields.append({"box": list(box), "text": filled, "kind": str(kind)})
        x += w + int(rng.integers(30, 90))
    page.y = top + h + int(rng.integers(30, 60))


def table(page: Page, images, labels) -> None:
    """A ruled table: a printed header row, printed row numbers, handwritten numbers in the cells."""
    rng = page.rng
    cols, rows = int(rng.integers(3, 6)), int(rng.integers(2, 5))
    first = int(rng.integers(60, 120))
    cw, rh = int(rng.integers(110, 170)), int(rng.integers(46, 62))
    heads = list(rng.choice(HEADERS, cols, replace=False))
    x0, y0 = MARGIN, page.y
    w, h = first + cols * cw, (rows + 1) * rh
    if y0 + h > PAGE[1] - MARGIN:
        return
    page.box(x0, y0, w, h)
    for r in range(1, rows + 1):
        cv2.line(page.image, (x0, y0 + r * rh), (x0 + w, y0 + r * rh), PRINT, 1)
    for c in range(cols + 1):
        cx = x0 + first + c * cw
        cv2.line(page.image, (cx, y0), (cx, y0 + h), PRINT, 1)
    for c, head in enumerate(heads):
        page.text(head, x0 + first + c * cw + 10, y0 + rh // 2 + 8, 0.6)
        page.not_fields.append({"box": [x0 + first + c * cw, y0, cw, rh], "what": "header"})
    for r in range(1, rows + 1):
        page.text(f"{r}", x0 + 12, y0 + r * rh + rh // 2 + 8, 0.6)
        page.not_fields.append({"box": [x0, y0 + r * rh, first, rh], "what": "row number"})
        for c in range(cols):
            box = (x0 + first + c * cw, y0 + r * rh, cw, rh)
            filled = value(rng, int(rng.integers(1, 4))) if rng.random() < 0.8 else ""
            if filled:
                page.write(filled, box, images, labels)
            page.fields.append({"box": list(box), "text": filled, "kind": "box"})
    page.y = y0 + h + int(rng.integers(40, 70))


def paragraph(page: Page, images=None, labels=None) -> None:
    """Printed text, with numbers in it, in a frame of its own: no field."""
    rng = page.rng
    lines = int(rng.integers(3, 7))
    w, h = PAGE[0] - 2 * MARGIN, lines * 24 + 24
    if page.y + h > PAGE[1] - MARGIN:
        return
    page.box(MARGIN, page.y, w, h, 1)
    for i in range(lines):
        words = " ".join(rng.choice(WORDS, 14))
        page.text(words[:int(w / 10.5)], MARGIN + 12, page.y + 30 + 24 * i, 0.5)
    page.not_fields.append({"box": [MARGIN, page.y, w, h], "what": "paragraph"})
    page.y += h + int(rng.integers(30, 60))


def framed_group(page: Page, images, labels) -> None:
    """A frame holding a heading and a row of prompted boxes (nested frames)."""
    top = page.y
    page.y += 12
    page.text("Section " + str(int(page.rng.integers(1, 9))), MARGIN + 12, page.y + 18, 0.6, 2)
    page.y += 34
    field_row(page, images, labels)
    page.box(MARGIN - 10, top, PAGE[0] - 2 * MARGIN + 20, page.y - top - 10, 2)
    page.y += 10


PARTS = [field_row, field_row, table, paragraph, framed_group]


def layout(rng, images, labels) -> Page:
    """A filled page: a title, then prompted rows, a table, a paragraph, a framed group."""
    page = Page(rng)
    page.text("APPLICATION FORM " + str(int(rng.integers(100, 999))), MARGIN, page.y + 30, 1.1, 2)
    page.y += 70
    order = list(rng.permutation(len(PARTS)))
    for k in order + list(rng.integers(0, 2, 3)):
        if page.y > PAGE[1] - MARGIN - 120:
            break
        PARTS[k](page, images, labels)
    return page


def scan(image: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    """(A flatbed scan of the page, page -> scan map): a slight skew, grey toner, speckle, blur."""
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), float(rng.uniform(-1.5, 1.5)), 1.0)
    out = cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=(PAPER,) * 3).astype(np.float32)
    out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.4, 0.9))
    specks = rng.random(out.shape[:2]) < 0.0006
    out[specks] = rng.uniform(40, 120)
    out += rng.normal(0, 3, out.shape)
    ok, jpg = cv2.imencode(".jpg", np.clip(out, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 85])
    return cv2.imdecode(jpg, cv2.IMREAD_COLOR), np.vstack([m, [0, 0, 1]])


def project(m: np.ndarray, box) -> list[int]:
    """A page box through a 3x3 map: its bounding box in the image."""
    x, y, w, h = box
    pts = np.float32([[x, y], [x + w, y], [x + w, y + h], [x, y + h]]).reshape(-1, 1, 2)
    out = cv2.perspectiveTransform(pts, m.astype(np.float64)).reshape(-1, 2)
    (x0, y0), (x1, y1) = out.min(axis=0), out.max(axis=0)
    return [int(round(x0)), int(round(y0)), int(round(x1 - x0)), int(round(y1 - y0))]


def render(count: int, out: Path, seed: int = 0, images=None, labels=None) -> list[dict]:
    """Write `count` form images (every other one scanned, the rest photographed) and truth.jsonl."""
    if images is None:
        from training.data import load_mnist
        _, (images, labels) = load_mnist()
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    truths = []
    for i in range(count):
        page = layout(rng, images, labels)
        look = "scan" if i % 2 == 0 else "photo"
        image, m = scan(page.image, rng) if look == "scan" else photograph_mapped(page.image, rng)
        name = f"form_{i:03d}_{look}.jpg"
        cv2.imwrite(str(out / name), image)
        truths.append({"file": name, "look": look,
                       "fields": [{**f, "box": project(m, f["box"])} for f in page.fields],
                       "not_fields": [{**f, "box": project(m, f["box"])} for f in page.not_fields]})
    with open(out / "truth.jsonl", "w") as fh:
        fh.writelines(json.dumps(t) + "\n" for t in truths)
    return truths


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=50)
    ap.add_argument("--out", type=Path, default=Path("runs/real_forms"))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    render(args.count, args.out, args.seed)
    print(f"wrote {args.count} forms and truth.jsonl to {args.out}")



def iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    return inter / max(aw * ah + bw * bh - inter, 1)


def score(found: list[dict], truth: dict, min_iou: float = 0.5) -> dict:
    """Fields of one page (records with "box" and "text") against its truth: digit fields found
    (a found field's box overlaps theirs by IoU >= min_iou), read exactly, and found fields that
    hold digits but are no digit field (a prompt, a header, a paragraph, a letter box)."""
    used, hit, exact = set(), 0, 0
    for t in truth["fields"]:
        best = max(((iou(f["box"], t["box"]), k) for k, f in enumerate(found) if k not in used), default=(0, -1))
        if best[0] >= min_iou:
            used.add(best[1])
            hit += 1
            exact += found[best[1]]["text"] == t["text"]
    extra = sum(1 for k, f in enumerate(found) if k not in used and f["text"])
    return {"fields": len(truth["fields"]), "found": hit, "exact": exact, "extra": extra}


def render_pair(seed: int, images=None, labels=None) -> tuple[tuple[np.ndarray, dict], tuple[np.ndarray, dict]]:
    """One filled page, scanned and photographed: ((scan, truth), (photo, truth)), for a
    template drafted from the scan and read on the photo."""
    if images is None:
        from training.data import load_mnist
        _, (images, labels) = load_mnist()
    rng = np.random.default_rng(seed)
    page = layout(rng, images, labels)
    out = []
    for look, (image, m) in (("scan", scan(page.image, rng)), ("photo", photograph_mapped(page.image, rng))):
        out.append((image, {"look": look, "fields": [{**f, "box": project(m, f["box"])} for f in page.fields],
                            "not_fields": [{**f, "box": project(m, f["box"])} for f in page.not_fields]}))
    return out[0], out[1]


if __name__ == "__main__":
    main()
