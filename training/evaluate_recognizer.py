"""Dev evaluation of the whole recognizer on real handwriting and on synthetic scenes.

    python -m training.evaluate_recognizer [--data ../shared/data/realworld] [--scenes 150] [--gallery runs/evaluate/gallery]
    python -m training.evaluate_recognizer --sets orand --orand-split train --orand-limit 400   # a second check
    python -m training.evaluate_recognizer --sets scenes --seed 7                                # other scenes
    python -m training.evaluate_recognizer --sets sudoku,orand --shrink 0.5                      # small real digits
    python -m training.evaluate_recognizer --sets kubiesa,filippo,marks --scenes 0               # realworld2 sets only

Sets (each skipped with a note when its folder is absent):
- sudoku: hand-filled Sudoku photos. A detection counts in the cell holding its
  box centre: right digit in a handwritten cell = hit, anything in a blank cell
  or a wrong digit = false positive, printed cells and everything outside the
  grid (other printed puzzles, page text) are ignored.
- orand: ORAND CAR-A cheque amounts, test split (--orand-split train for a
  second check on strings no figure is reported for). Exact string = the numbers'
  text joined in reading order equals the label; digit F1 against the per-digit
  boxes (IoU >= 0.5 or centre inside, right digit).
- markus: the boxed student number, read exactly.
- phone: single-digit phone photos; the most confident digit must be the label.
- scenes: synthetic pages from training/scenes.py (MNIST TEST digits); digit F1,
  false digits per image split in two: on clutter (a digit reported where no
  digit is: marks, letters, background, a stray fragment) and true digits
  misread where they stand; and candidate recall (was a box proposed at all,
  whatever the classifier said) to tell detection from classification.
- tilted: the same pages held turned by 8-25 degrees either way, on a desk
  (a webcam user rarely holds paper level; pipeline.locate turns them back).
- pens: the same pages with a pen and the hand holding it in view (a webcam
  sees them as often as not); adds the digits reported on the pen or hand, and
  of those the false ones (on no true digit: a digit half under the hand and
  read right is not one).
- squared: pages of the same kind on squared paper (a maths exercise book,
  graph paper), the grid crossing the digits; other pages, as the grid takes
  its own draws.
Sets of ../shared/data/realworld2 (--data2; training/evaluate_realworld2.py):
- kubiesa: newspaper Sudokus filled in by hand, phone photos (train + val). Its
  labels do not tell printed clues from handwriting, so ALL digit cells are
  scored, as in sudoku (box centre in the cell): right digit = hit (one per cell),
  a wrong or second digit, or any digit in a blank cell = false; cells of small
  pencilled candidates and everything outside the grid are ignored. Photos with
  no digit at all are counted: a whole photo lost is a failure F1 hides.
- filippo, bikz05, vinay0410, agnimish: strings per photo, no boxes: digit F1 of
  the digits read against the label's as multisets, per photo; "strings exact"
  when the digits in reading order (lines by vertical centres, '/' between
  lines) equal the label.
- xwlu: one big digit per webcam frame; the most confident digit read must be
  the label, every other digit read is false.
- marks: a marks form; each field's digits (box centre in it) left to right must
  read its label ("fields exact"); digit F1 inside the fields; the IGNORE box is
  not scored, digits outside every field are counted (printed digits are many
  on the form: no target, a trend to watch).
- divyakh: two videos of "6885", each clean frame (LABELS.csv) read on its own,
  digit F1 per frame as for the strings; the screen recording is cut to its
  webcam image (the window around it prints pixel coordinates).
Prints a table and the seconds each set took; writes JSON (default runs/evaluate/core.json).
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from recognizer.pipeline import Recognizer
from training.scoring import Gallery, cell_polygon, f1, iou, located, match, off_digits, on_mask, read_csv

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "realworld"
DATA2 = DATA.parent / "realworld2"
TILT = (8.0, 25.0)  # degrees either way the "tilted" scenes are turned
SCENE_SETS = {"scenes": {}, "tilted": {"tilt": TILT}, "pens": {"pen": True},  # set: eval_scenes options
              "squared": {"squared": True}}
SCENE_VARIANT_ROWS = {  # set: (caption of its F1, figure, its label) in the table
    "tilted": (f"pages turned {TILT[0]:.0f}-{TILT[1]:.0f} deg", "off_digit_per_image", "false digits/img on clutter"),
    "pens": ("a pen and a hand in view", "off_pen_per_image", "false digits/img on the pen or hand"),
    "squared": ("pages of squared paper", "off_digit_per_image", "false digits/img on clutter"),
}


def _text(results) -> str:
    return "".join(n.text for n in results.numbers)


def eval_sudoku(rec: Recognizer, root: Path, gallery: Gallery) -> dict:
    folder = root / "sudoku_wicht_handfilled"
    cells = read_csv(folder / "CELLS.csv")
    tp = fp = fn = found = total = 0
    for photo in sorted({c["photo"] for c in cells}):
        image = cv2.imread(str(folder / photo))
        res = rec(image, source=photo)
        gallery.add("sudoku_" + Path(photo).stem, image, res)
        mine = [c for c in cells if c["photo"] == photo]
        polys = [cell_polygon(c) for c in mine]
        hit = set()
        for d in res.digits:
            cx, cy = d.box[0] + d.box[2] / 2, d.box[1] + d.box[3] / 2
            inside = [i for i, p in enumerate(polys) if cv2.pointPolygonTest(p, (cx, cy), False) >= 0]
            if not inside:
                continue  # outside the grid: printed page text, other puzzles
            cell = mine[inside[0]]
            if cell["type"] == "printed":
                continue
            if cell["type"] == "handwritten" and str(d.digit) == cell["label"] and inside[0] not in hit:
                hit.add(inside[0])
                tp += 1
            else:
                fp += 1
        fn += sum(1 for i, c in enumerate(mine) if c["type"] == "handwritten" and i not in hit)
        boxes = [d.box for d in res.digits] + [r.box for r in res.rejected]
        for c, p in zip(mine, polys):
            if c["type"] == "handwritten":
                total += 1
                found += any(_fits_cell(b, p) for b in boxes)
    return {"f1": f1(tp, fp, fn), "tp": tp, "fp": fp, "fn": fn, "candidate_recall": found / max(1, total)}




def _fits_cell(box, poly: np.ndarray) -> bool:
    """A proposed box sits on this cell: centre inside and not much larger than the cell."""
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    if cv2.pointPolygonTest(poly, (cx, cy), False) < 0:
        return False
    x, y, w, h = cv2.boundingRect(poly.astype(np.int32))
    return box[2] <= 1.2 * w and box[3] <= 1.2 * h


def eval_orand(rec: Recognizer, root: Path, gallery: Gallery, split: str = "test", limit: int = 0) -> dict:
    """ORAND CAR-A strings of one split (the first `limit` of them when limit > 0)."""
    from training.realdata import orand_boxes

    folder = root / "orand_car_a"
    labels = [r for r in read_csv(folder / "LABELS.csv") if r["split"] == split]
    labels = labels[:limit] if limit > 0 else labels
    boxes = orand_boxes(split, folder)
    exact = tp = fp = fn = found = total = 0
    for i, r in enumerate(labels):
        image = cv2.imread(str(folder / r["file"]))
        res = rec(image, source=r["file"])
        if i < 12:
            gallery.add("orand_" + Path(r["file"]).stem, image, res)
        exact += _text(res) == r["label"]
        gts = boxes.get(r["file"], [])
        a, b, c = match([(d.digit, d.box) for d in res.digits], gts)
        tp, fp, fn = tp + a, fp + b, fn + c
        found += located([d.box for d in res.digits] + [x.box for x in res.rejected], gts)
        total += len(gts)
    return {"exact": exact / max(1, len(labels)), "n": len(labels), "split": split, "digit_f1": f1(tp, fp, fn),
            "tp": tp, "fp": fp, "fn": fn, "candidate_recall": found / max(1, total)}


def eval_markus(rec: Recognizer, root: Path, gallery: Gallery) -> dict:
    folder = root / "markus_student_number"
    row = read_csv(folder / "LABELS.csv")[0]
    image = cv2.imread(str(folder / row["file"]), cv2.IMREAD_UNCHANGED)
    res = rec(image, source=row["file"])
    gallery.add("markus", image, res)
    text = _text(res)
    return {"exact": float(text == row["label"]), "read": text, "label": row["label"]}


def eval_phone(rec: Recognizer, root: Path, gallery: Gallery) -> dict:
    folder = root / "hikaruikebe_phone"
    rows = read_csv(folder / "LABELS.csv")
    right, reads = 0, []
    for r in rows:
        image = cv2.imread(str(folder / r["file"]))
        res = rec(image, source=r["file"])
        gallery.add("phone_" + Path(r["file"]).stem, image, res)
        best = max(res.digits, key=lambda d: d.confidence, default=None)
        read = "" if best is None else str(best.digit)
        reads.append(read)
        right += read == r["label"]
    return {"correct": right, "n": len(rows), "reads": "".join(x or "-" for x in reads)}


def eval_scenes(rec: Recognizer, n: int, gallery: Gallery, clutter: bool = True, seed: int = 1234,
                tilt: tuple[float, float] | None = None, pen: bool = False, squared: bool = False) -> dict:
    """Synthetic photographed pages of MNIST test digits, scored against the boxes they were drawn in.

    tilt (lo, hi): each page held turned by lo-hi degrees, either way (a webcam user
    rarely holds paper level); the pages are the same as without, only turned.
    pen: a pen and the hand holding it in view over each page (training.scenes.hold_pen);
    adds "on_pen_per_image", the digits reported on them, and "off_pen_per_image", those of them
    on no true digit (a digit half under the hand, read, is no false digit).
    squared: the digits written on squared paper (a maths exercise book), its grid
    lines crossing them.
    """
    from training.data import load_mnist
    from training.scenes import hold_pen, make_scene

    (_, _), (xt, yt) = load_mnist()
    rng = np.random.default_rng(seed)
    turns = np.random.default_rng(seed + 1)  # its own draws: the pages stay those of the level set
    pens = np.random.default_rng(seed + 2)
    name = "tilted" if tilt else "pen" if pen else "squared" if squared else "scene"
    tp = fp = fn = off = found = total = read = count = on_pen = off_pen = 0
    for k in range(n):
        angle = float(turns.uniform(*tilt) * turns.choice([-1, 1])) if tilt else 0.0
        image, gts, nums = make_scene(rng, xt, yt, clutter_marks=None if clutter else 0, tilt=angle,
                                       squared=squared)
        held = hold_pen(image, pens) if pen else None
        res = rec(image, source=f"{name}{k}")
        if held is not None:
            over = on_mask([d.box for d in res.digits], held)
            on_pen, off_pen = on_pen + len(over), off_pen + off_digits(over, gts)
        if k < 4:
            gallery.add(f"{name}{k}", image, res)
        a, b, c = match([(d.digit, d.box) for d in res.digits], gts)
        tp, fp, fn = tp + a, fp + b, fn + c
        off += off_digits([d.box for d in res.digits], gts)
        found += located([d.box for d in res.digits] + [x.box for x in res.rejected], gts)
        total += len(gts)
        read += sum(any(m.text == t and iou(m.box, b) >= 0.5 for m in res.numbers) for t, b in nums)
        count += len(nums)
    return {"f1": f1(tp, fp, fn), "false_per_image": fp / max(1, n), "off_digit_per_image": off / max(1, n),
            "misread_per_image": (fp - off) / max(1, n), "tp": tp, "fp": fp, "fn": fn,
            "candidate_recall": found / max(1, total), "numbers_exact": read / max(1, count), "n": n,
            **({"on_pen_per_image": on_pen / max(1, n), "off_pen_per_image": off_pen / max(1, n)} if pen else {})}


def table(report: dict) -> str:
    lines = [f"{'set':<8} {'figure':<34} {'target':<10}"]
    if report.get("shrink", 1.0) != 1.0:
        lines.insert(0, f"every input shrunk by {report['shrink']} (the targets are for inputs as they are)")
    rows = []
    if "sudoku" in report:
        s = report["sudoku"]
        rows.append(("sudoku", f"handwritten F1 {s['f1']:.3f} (tp {s['tp']} fp {s['fp']} fn {s['fn']})", ">= 0.95"))
        rows.append(("", f"boxes found {s['candidate_recall']:.3f}", ""))
    if "orand" in report:
        o = report["orand"]
        rows.append(("orand", f"exact {o['exact']:.3f} of {o['n']} ({o['split']})", ">= 0.80"))
        rows.append(("", f"digit F1 {o['digit_f1']:.3f}, boxes found {o['candidate_recall']:.3f}", ">= 0.95"))
    if "markus" in report:
        m = report["markus"]
        rows.append(("markus", f"read {m['read']!r} (label {m['label']})", "exact"))
    if "phone" in report:
        p = report["phone"]
        rows.append(("phone", f"{p['correct']}/{p['n']} read {p['reads']}", "10/10"))
    if "scenes" in report:
        s = report["scenes"]
        rows.append(("scenes", f"F1 {s['f1']:.3f}, boxes {s['candidate_recall']:.3f}", ">= 0.98"))
        rows.append(("", f"false digits/img on clutter {s['off_digit_per_image']:.3f}", "<= 0.05"))
        rows.append(("", f"true digits misread/img {s['misread_per_image']:.3f}", ""))
        rows.append(("", f"numbers read whole {s['numbers_exact']:.3f}", ""))
    for name, (caption, key, label) in SCENE_VARIANT_ROWS.items():
        if name in report:
            s = report[name]
            rows.append((name, f"F1 {s['f1']:.3f} ({caption})", ""))
            rows.append(("", f"{label} {s[key]:.3f}", ""))
    from training.evaluate_realworld2 import table_rows  # it imports this module's helpers

    rows += table_rows(report)
    for note in report.get("skipped", []):
        rows.append(("skipped", note, ""))
    lines += [f"{a:<8} {b:<34} {c:<10}" for a, b, c in rows]
    return "\n".join(lines)


class Shrunk:
    """A recognizer that sees each input shrunk by `factor`, as from farther away; boxes come
    back in the input's pixels, so every set is scored against its own ground truth."""

    def __init__(self, rec: Recognizer, factor: float):
        self.rec, self.factor = rec, factor

    def __call__(self, frame: np.ndarray, **kw):
        f = self.factor
        res = self.rec(cv2.resize(frame, None, fx=f, fy=f, interpolation=cv2.INTER_AREA), **kw)
        for item in [*res.digits, *res.numbers, *res.rejected]:
            item.box = tuple(int(round(v / f)) for v in item.box)
        res.height, res.width = frame.shape[:2]
        return res


@contextlib.contextmanager
def _timed(report: dict, name: str):
    """Record the seconds a set took in report["seconds"] (the sets differ a hundredfold)."""
    t = time.perf_counter()
    yield
    report["seconds"][name] = round(time.perf_counter() - t, 2)


def run_real(real: dict, sets: list, root: Path, rec, gallery: Gallery, report: dict) -> None:
    """Run the chosen sets of real data {name: (folder under root, function(rec, root, gallery))},
    each skipped with a note when its folder is absent."""
    for name, (sub, fn) in real.items():
        if name not in sets:
            continue
        if not (root / sub).is_dir():
            report["skipped"].append(f"{name}: {root / sub} absent")
            continue
        with _timed(report, name):
            report[name] = fn(rec, root, gallery)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=str(DATA), help="realworld data folder")
    ap.add_argument("--data2", default=str(DATA2), help="realworld2 data folder")
    ap.add_argument("--model", default=None, help="tflite model (default assets/models/digits.tflite)")
    ap.add_argument("--conf", type=float, default=None, help="minimum digit confidence (default: Recognizer's)")
    ap.add_argument("--scenes", type=int, default=150, help="number of synthetic scenes (0 to skip)")
    ap.add_argument("--seed", type=int, default=1234, help="random seed of the synthetic scenes")
    ap.add_argument("--orand-split", default="test", choices=("test", "train"),
                    help="ORAND split (train: a second check that is not the reported figure)")
    ap.add_argument("--orand-limit", type=int, default=0, help="only the first N ORAND strings (0: all)")
    ap.add_argument("--sets", default=None,
                    help="comma-separated sets to run (default: all, those of --data2 too)")
    ap.add_argument("--json", default="runs/evaluate/core.json", help="where to write the figures")
    ap.add_argument("--gallery", default=None, help="folder for annotated PNGs of some inputs")
    ap.add_argument("--shrink", type=float, default=1.0, metavar="F",
                    help="show the recognizer every input shrunk by F (e.g. 0.5: digits as from twice as far "
                         "away), boxes scored in the input's pixels: small digits in real handwriting")
    args = ap.parse_args(argv)
    kw = {} if args.conf is None else {"conf": args.conf}
    rec = Recognizer(args.model, **kw)
    small = rec.small_classifier
    report: dict = {"model": str(rec.classifier.path), "small_model": str(small.path) if small else None,
                    "shrink": args.shrink, "skipped": []}
    if args.shrink != 1.0:
        rec = Shrunk(rec, args.shrink)
    root, gallery = Path(args.data), Gallery(args.gallery)
    orand = functools.partial(eval_orand, split=args.orand_split, limit=args.orand_limit)
    real = {"sudoku": ("sudoku_wicht_handfilled", eval_sudoku), "orand": ("orand_car_a", orand),
            "markus": ("markus_student_number", eval_markus), "phone": ("hikaruikebe_phone", eval_phone)}
    from training.evaluate_realworld2 import SETS as REAL2  # lazily: it imports this module

    sets = args.sets.split(",") if args.sets else [*real, *SCENE_SETS, *REAL2]

    report["seconds"] = {}
    run_real(real, sets, root, rec, gallery, report)
    run_real(REAL2, sets, Path(args.data2), rec, gallery, report)
    for name, options in SCENE_SETS.items():
        if name in sets and args.scenes > 0:
            with _timed(report, name):
                report[name] = eval_scenes(rec, args.scenes, gallery, seed=args.seed, **options)
    print(table(report))
    print("seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in report["seconds"].items()))
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
