"""Paper-form benchmark: synthetic photographed forms, the MarkUs student number, Sudoku photos.

    python bench/bench_forms.py [--count 50] [--seed 7] [--model FILE] [--keep DIR]

Prints, measured in this run:
  * synthetic forms (rendered now by training/render_form.py from MNIST TEST digits,
    perspective, shadow, blur, JPEG): field exact-match per field and overall, median s/form;
  * markus_student_number (one scanned row of boxes, digits touching the lines), --form auto;
  * sudoku_wicht_handfilled, --form auto: handwritten-cell precision, recall, F1
    (printed cells are ignored: what is read there counts neither for nor against);
  * marks_form_shashank, --form auto: each field's digits (centres inside its box, left
    to right) against its label;
  * real-looking forms (training/real_forms.py: prompts above boxes, combs, tables with
    printed headers and row numbers, letter boxes, paragraph frames; half scanned, half
    photographed), --form auto: digit fields found and read exactly, and found fields that
    hold digits but are no digit field; then the same pages drafted from the scan
    (recognizer.forms.draft) and read on the photograph through that template.
Real-data rows are skipped with a note when ../shared/data/realworld(2) is absent.
"""
from __future__ import annotations

import argparse
import csv
import collections
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from recognizer.classifier import DigitClassifier  # noqa: E402
from training.scoring import cell_polygon  # noqa: E402
from recognizer.forms.reader import FormReader  # noqa: E402
from recognizer.forms.template import load_template  # noqa: E402

REALWORLD = ROOT.parent / "shared" / "data" / "realworld"
MARKS = ROOT.parent / "shared" / "data" / "realworld2" / "marks_form_shashank"


def bench_marks(clf) -> None:
    """The marks form read with --form auto: a field is exact when the digits read inside its box are its label."""
    if not (MARKS / "FIELDS.csv").exists():
        print(f"\nmarks_form_shashank: skipped, {MARKS} is absent")
        return
    res = FormReader(None, clf)(cv2.imread(str(MARKS / "marks_form.jpg")))
    digits = [d for f in res.fields for d in f.digits]
    rows = [r for r in csv.DictReader(open(MARKS / "FIELDS.csv")) if r["label"] != "IGNORE"]
    print("\nmarks_form_shashank --form auto (digits inside each field's box)")
    exact = 0
    for row in rows:
        x, y, w, h = (int(row[k]) for k in "xywh")
        inside = sorted((d for d in digits if x <= d.box[0] + d.box[2] / 2 <= x + w
                         and y <= d.box[1] + d.box[3] / 2 <= y + h), key=lambda d: d.box[0])
        got = "".join(str(d.digit) for d in inside)
        exact += got == row["label"]
        print(f"  {row['field']:<22} {row['label']:>12} {got:>12}  {'ok' if got == row['label'] else 'WRONG'}")
    print(f"  {exact}/{len(rows)} fields exact")


def bench_real_forms(clf, count: int, seed: int) -> None:
    """Rendered real-looking forms: --form auto, and a template drafted from the scan read on a photo."""
    from recognizer.forms.draft import draft_template
    from recognizer.forms.template import parse_template
    from training.data import load_mnist
    from training.real_forms import layout, photograph_mapped, project, scan, score
    _, (images, labels) = load_mnist()
    reader = FormReader(None, clf)
    totals = {look: collections.Counter() for look in ("scan", "photo", "drafted")}
    times = []
    for i in range(count):
        rng = np.random.default_rng(seed * 1000 + i)
        page = layout(rng, images, labels)
        shots = {}
        for look, (image, m) in (("scan", scan(page.image, rng)), ("photo", photograph_mapped(page.image, rng))):
            truth = {"fields": [{**f, "box": project(m, f["box"])} for f in page.fields]}
            t = time.perf_counter()
            found = [f.to_record() for f in reader(image).fields]
            times.append(time.perf_counter() - t)
            totals[look].update(score(found, truth))
            shots[look] = (image, truth)
        template = parse_template(draft_template(shots["scan"][0]))
        photo, truth = shots["photo"]
        totals["drafted"].update(score([f.to_record() for f in FormReader(template, clf)(photo).fields], truth))
    print(f"\nreal-looking forms (training/real_forms.py), {count} pages (seed {seed}), each scanned and photographed")
    print(f"{'read':<34} {'fields':>6} {'found':>7} {'exact':>7} {'extra':>6}")
    rows = [("scans, --form auto", totals["scan"]), ("photos, --form auto", totals["photo"]),
            ("ALL, --form auto", totals["scan"] + totals["photo"]),
            ("photos, template drafted from scan", totals["drafted"])]
    for name, c in rows:
        n = max(c["fields"], 1)
        print(f"{name:<34} {c['fields']:>6} {c['found'] / n:>7.1%} {c['exact'] / n:>7.1%} {c['extra']:>6}")
    print("extra: fields read with digits that are no digit field (a table's printed header or row "
          "number, a paragraph, a letter box)")
    print(f"median time per page (--form auto): {statistics.median(times) * 1000:.0f} ms")


def bench_synthetic(clf, count: int, seed: int, keep: Path | None) -> None:
    from training.render_form import render_forms
    with tempfile.TemporaryDirectory() as tmp:
        out = keep or Path(tmp)
        rows = render_forms(count, out, seed)
        reader = FormReader(load_template(out / "template.json"), clf)
        hits, totals, times, forms_ok = collections.Counter(), collections.Counter(), [], 0
        flagged_wrong = wrong = 0
        for row in rows:
            image = cv2.imread(str(out / row["file"]))
            t = time.perf_counter()
            result = reader(image, row["file"])
            times.append(time.perf_counter() - t)
            all_ok = True
            for f in result.fields:
                ok = f.text == row[f.name]
                hits[f.name] += ok
                totals[f.name] += 1
                all_ok &= ok
                if not ok:
                    wrong += 1
                    flagged_wrong += bool(f.flags)
            forms_ok += all_ok
    print(f"\nsynthetic photographed forms: {count} forms (seed {seed}), {sum(totals.values())} fields")
    print(f"{'field':<12} {'exact':>7}")
    for name in totals:
        print(f"{name:<12} {hits[name] / totals[name]:>7.1%}")
    print(f"{'ALL FIELDS':<12} {sum(hits.values()) / sum(totals.values()):>7.1%}")
    print(f"{'whole forms':<12} {forms_ok / count:>7.1%}")
    print(f"wrong fields flagged for review: {flagged_wrong}/{wrong}")
    print(f"median time per form: {statistics.median(times) * 1000:.0f} ms")


def bench_markus(clf) -> None:
    folder = REALWORLD / "markus_student_number"
    if not folder.is_dir():
        print("\nmarkus_student_number: skipped (absent: ../shared/data/realworld/markus_student_number)")
        return
    label = next(csv.DictReader(open(folder / "LABELS.csv")))
    image = cv2.imread(str(folder / label["file"]))
    result = FormReader(None, clf)(image, label["file"])
    texts = [f.text for f in result.fields]
    ok = label["label"] in texts
    print(f"\nmarkus_student_number --form auto: read {texts} expected {label['label']}: "
          f"{'EXACT' if ok else 'WRONG'}")


def cell_quads(rows):
    return [cell_polygon(c) for c in rows]


def score_sudoku(result, rows) -> tuple[int, int, int]:
    """(tp, fp, fn) over handwritten cells; a digit is placed by its box centre."""
    quads = cell_quads(rows)
    got = {}
    for d in (d for f in result.fields for d in f.digits):
        x, y, w, h = d.box
        for i, q in enumerate(quads):
            if cv2.pointPolygonTest(q.reshape(-1, 1, 2), (x + w / 2, y + h / 2), False) >= 0:
                got[i] = d.digit
                break
    tp = fp = fn = 0
    for i, cell in enumerate(rows):
        out = got.get(i)
        if cell["type"] == "handwritten":
            tp += out is not None and str(out) == cell["label"]
            fn += not (out is not None and str(out) == cell["label"])
            fp += out is not None and str(out) != cell["label"]
        elif cell["type"] == "blank":
            fp += out is not None
    return tp, fp, fn


def bench_sudoku(clf) -> None:
    folder = REALWORLD / "sudoku_wicht_handfilled"
    if not folder.is_dir():
        print("\nsudoku_wicht_handfilled: skipped (absent: ../shared/data/realworld/sudoku_wicht_handfilled)")
        return
    cells = collections.defaultdict(list)
    for row in csv.DictReader(open(folder / "CELLS.csv")):
        cells[row["photo"]].append(row)
    reader = FormReader(None, clf)
    print("\nsudoku_wicht_handfilled --form auto (handwritten cells; printed ignored)")
    print(f"{'photo':<34} {'tp':>4} {'fp':>4} {'fn':>4} {'ms':>6}")
    total = np.zeros(3, int)
    for photo, rows in cells.items():
        image = cv2.imread(str(folder / photo))
        t = time.perf_counter()
        result = reader(image, photo)
        ms = (time.perf_counter() - t) * 1000
        counts = score_sudoku(result, rows)
        total += counts
        print(f"{photo:<34} {counts[0]:>4} {counts[1]:>4} {counts[2]:>4} {ms:>6.0f}")
    tp, fp, fn = total
    p, r = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    print(f"precision {p:.3f}  recall {r:.3f}  F1 {2 * p * r / max(p + r, 1e-9):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=50, help="synthetic forms to render (default 50)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--model", help="TFLite model (default assets/models/digits.tflite)")
    ap.add_argument("--keep", type=Path, help="keep the rendered synthetic forms in this folder")
    ap.add_argument("--real-count", type=int, default=50,
                    help="real-looking pages to render, each scanned and photographed (default 50: 100 images)")
    args = ap.parse_args()
    clf = DigitClassifier(args.model)
    print(f"model: {clf.path}  provisional: {clf.metadata.get('provisional', False)}")
    bench_markus(clf)
    bench_sudoku(clf)
    bench_marks(clf)
    bench_real_forms(clf, args.real_count, args.seed)
    bench_synthetic(clf, args.count, args.seed, args.keep)


if __name__ == "__main__":
    main()
