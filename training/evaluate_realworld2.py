"""Dev evaluation on ../shared/data/realworld2: phone and webcam photos, a form, videos.

Run through `python -m training.evaluate_recognizer --sets kubiesa,filippo,...` (evaluate.py's
docstring says how each set is scored, and why). Every set function takes
(rec, root, gallery) like evaluate.py's own, root being the realworld2 folder; SETS maps
the set names to their folders and functions, `table_rows` gives their rows of the table.
"""
from __future__ import annotations

import functools
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import cv2
import numpy as np

from training.scoring import Gallery, cell_polygon, centre_inside, f1, read_csv
from recognizer.numeric import chains

WEBCAM_AREA = (169, 66, 537, 433)  # x0, y0, x1, y1 of the webcam image in divyakh's screen recording (SOURCE.txt)
VIDEO_STEP = 1  # every clean frame: all 306 read in ~2 s on 2 cores (every 3rd would do, were it ever past a minute)
PROGRESS_EVERY = 40  # photos between progress lines of the long sets


def centre(box) -> tuple[float, float]:
    return box[0] + box[2] / 2, box[1] + box[3] / 2


def multiset_counts(read: str, label: str) -> tuple[int, int, int]:
    """(tp, fp, fn) of the digits read against the label's, as multisets: where there are no
    boxes to match, a digit counts as found when the label holds one more of it than already found."""
    read, label = read.replace("/", ""), label.replace("/", "")
    tp = sum((Counter(read) & Counter(label)).values())
    return tp, len(read) - tp, len(label) - tp


def reading_text(digits) -> str:
    """The digits in reading order, lines joined by '/' (the labels' form): two digits share a line
    when the vertical centre of either falls within the other's box height (chained, so a
    slanted line stays one), lines top to bottom, left to right inside a line."""
    digits = list(digits)
    lines = defaultdict(list)
    for d, label in zip(digits, chains([d.box for d in digits], _same_line)):
        lines[label].append(d)
    ordered = sorted(lines.values(), key=lambda ds: np.mean([centre(d.box)[1] for d in ds]))
    return "/".join("".join(str(d.digit) for d in sorted(ds, key=lambda d: centre(d.box)[0])) for ds in ordered)


def _same_line(a, b) -> bool:
    ya, yb = centre(a)[1], centre(b)[1]
    return b[1] <= ya <= b[1] + b[3] or a[1] <= yb <= a[1] + a[3]


def _add(total: list, counts) -> None:
    """Sum (tp, fp, fn) into total in place."""
    for k, v in enumerate(counts):
        total[k] += v


def _scores(tp: int, fp: int, fn: int) -> dict:
    return {"f1": f1(tp, fp, fn), "tp": tp, "fp": fp, "fn": fn}


class Cells:
    """One photo's Sudoku cells, to find the cell a point falls in without testing all 81
    polygons for every detection (160 photos x ~80 detections): their bounding rectangles
    pick the one or two candidates, the polygon test decides."""

    def __init__(self, rows: list[dict]):
        self.labels = [int(r["label"]) for r in rows]
        self.polys = [cell_polygon(r) for r in rows]
        self.rects = np.array([[p[:, 0].min(), p[:, 1].min(), p[:, 0].max(), p[:, 1].max()] for p in self.polys])

    def at(self, x: float, y: float) -> int | None:
        """Index of the cell holding (x, y), or None outside the grid."""
        r = self.rects
        for i in np.flatnonzero((r[:, 0] <= x) & (x <= r[:, 2]) & (r[:, 1] <= y) & (y <= r[:, 3])):
            if cv2.pointPolygonTest(self.polys[i], (x, y), False) >= 0:
                return int(i)
        return None

    def score(self, digits) -> tuple[int, int, int]:
        """(tp, fp, fn): one right digit per digit cell is a hit; a wrong or second digit there, or
        any digit in a blank cell, is false; candidate cells (10) and outside the grid are ignored."""
        hit: set[int] = set()
        fp = 0
        for d in digits:
            i = self.at(*centre(d.box))
            if i is None or self.labels[i] == 10:
                continue
            if self.labels[i] == d.digit and i not in hit:
                hit.add(i)
            else:
                fp += 1
        digit_cells = sum(1 <= v <= 9 for v in self.labels)
        return len(hit), fp, digit_cells - len(hit)


def eval_kubiesa(rec, root: Path, gallery: Gallery) -> dict:
    """Kubiesa's hand-filled newspaper Sudokus (train + val): all digit cells, printed and handwritten."""
    folder = root / "sudoku_kubiesa_trainval"
    by_photo = defaultdict(list)
    for row in read_csv(folder / "CELLS.csv"):
        by_photo[row["photo"]].append(row)
    total, empty, per_photo, t0 = [0, 0, 0], [], {}, time.perf_counter()
    for k, (photo, rows) in enumerate(sorted(by_photo.items()), 1):
        image = cv2.imread(str(folder / photo))
        res = rec(image, source=photo)
        per_photo[photo] = Cells(rows).score(res.digits)
        _add(total, per_photo[photo])
        if not res.digits:
            empty.append(photo)
        if k <= 8 or not res.digits:
            gallery.add("kubiesa_" + Path(photo).stem, image, res)
        if k % PROGRESS_EVERY == 0:
            print(f"kubiesa {k}/{len(by_photo)} photos, F1 so far {f1(*total):.3f}, "
                  f"{time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return {**_scores(*total), "n": len(by_photo), "no_digit": len(empty), "no_digit_photos": empty,
            "photos": per_photo}  # photo: (tp, fp, fn)


def eval_strings(rec, root: Path, gallery: Gallery, folder: str, name: str) -> dict:
    """Photos labelled with their digit strings only (lines joined by '/'): no boxes, so the digits
    read are scored as a multiset against the label's, and the string read in reading order."""
    rows = read_csv(root / folder / "LABELS.csv")
    total, exact, reads = [0, 0, 0], 0, []
    for r in rows:
        image = cv2.imread(str(root / folder / r["file"]))
        res = rec(image, source=r["file"])
        gallery.add(f"{name}_{Path(r['file']).stem}", image, res)
        text = reading_text(res.digits)
        _add(total, multiset_counts(text, r["label"]))
        exact += text == r["label"]
        reads.append({"file": r["file"], "label": r["label"], "read": text})
    return {**_scores(*total), "exact": exact, "n": len(rows), "reads": reads}


def eval_xwlu(rec, root: Path, gallery: Gallery) -> dict:
    """One big digit per webcam frame: right when the most confident digit read is the label; every
    other digit read is false (the frame holds no other)."""
    folder = root / "xwlu_lined_paper_webcam"
    rows = read_csv(folder / "LABELS.csv")
    right = false = 0
    reads = []
    for r in rows:
        image = cv2.imread(str(folder / r["file"]))
        res = rec(image, source=r["file"])
        gallery.add("xwlu_" + Path(r["file"]).stem, image, res)
        best = max(res.digits, key=lambda d: d.confidence, default=None)
        ok = best is not None and str(best.digit) == r["label"]
        right, false = right + ok, false + len(res.digits) - ok
        reads.append("-" if best is None else str(best.digit))
    return {"correct": right, "n": len(rows), "reads": "".join(reads), "false": false,
            "false_per_image": false / max(1, len(rows))}


def eval_marks(rec, root: Path, gallery: Gallery) -> dict:
    """The marks form: each field's digits (box centre inside it), left to right, must read its label;
    the IGNORE box (unreadable dates) is not scored; digits outside every field are counted, not
    scored (the form's printed digits are many)."""
    folder = root / "marks_form_shashank"
    fields = read_csv(folder / "FIELDS.csv")
    row = read_csv(folder / "LABELS.csv")[0]
    image = cv2.imread(str(folder / row["file"]))
    res = rec(image, source=row["file"])
    gallery.add("marks", image, res)
    inside = defaultdict(list)
    outside = 0
    for d in res.digits:
        f = next((f for f in fields if centre_inside(d.box, [int(f[k]) for k in "xywh"])), None)
        if f is None:
            outside += 1
        elif f["label"] != "IGNORE":
            inside[f["field"]].append(d)
    total, exact, reads = [0, 0, 0], 0, {}
    for f in fields:
        if f["label"] == "IGNORE":
            continue
        value = "".join(str(d.digit) for d in sorted(inside[f["field"]], key=lambda d: d.box[0]))
        _add(total, multiset_counts(value, f["label"]))
        exact += value == f["label"]
        reads[f["field"]] = value
    return {**_scores(*total), "exact": exact, "n": len(reads), "outside": outside, "reads": reads}


def clean_frames(spec: str) -> set[int]:
    """Frame numbers of LABELS.csv's "5-24;365-384" form."""
    out: set[int] = set()
    for part in spec.split(";"):
        a, b = part.split("-")
        out.update(range(int(a), int(b) + 1))
    return out


def video_frames(path: Path, frames: set[int]):
    """(index, frame) of the wanted frames, in order; the others are only grabbed, not decoded to BGR."""
    cap = cv2.VideoCapture(str(path))
    try:
        for i in range(max(frames) + 1):
            if i not in frames:
                if not cap.grab():
                    return
                continue
            ok, frame = cap.read()
            if not ok:
                return
            yield i, frame
    finally:
        cap.release()


def eval_divyakh(rec, root: Path, gallery: Gallery, step: int = VIDEO_STEP) -> dict:
    """divyakh's two videos of "6885", every `step`-th clean frame read on its own (no tracking), each
    frame's digits scored as a multiset against the label. The screen recording is cut to its webcam
    image: the window around it shows printed pixel coordinates, and an app would see the webcam alone."""
    folder = root / "divyakh_video_6885"
    total, per_video, n = [0, 0, 0], {}, 0
    for r in read_csv(folder / "LABELS.csv"):
        frames = set(sorted(clean_frames(r["frames"]))[::step])
        area = WEBCAM_AREA if r["file"].startswith("processed_web_cam") else None
        counts, first = [0, 0, 0], min(frames)
        for i, frame in video_frames(folder / r["file"], frames):
            if area:
                frame = frame[area[1]:area[3] + 1, area[0]:area[2] + 1]
            res = rec(frame, source=r["file"], frame_index=i)
            if i == first:
                gallery.add(f"divyakh_{Path(r['file']).stem}_{i}", frame, res)
            _add(counts, multiset_counts(reading_text(res.digits), r["label"]))
            n += 1
        _add(total, counts)
        per_video[r["file"]] = {**_scores(*counts), "frames": len(frames)}
    return {**_scores(*total), "frames": n, "step": step, "videos": per_video}


STRING_SETS = {"filippo": "filippo_webcam_numbers", "bikz05": "bikz05_phone_photos",
               "vinay0410": "vinay0410_phone_photos", "agnimish": "agnimish_bluepen_photos"}
SETS = {  # set name: (folder under --data2, function(rec, root, gallery))
    "kubiesa": ("sudoku_kubiesa_trainval", eval_kubiesa),
    **{name: (sub, functools.partial(eval_strings, folder=sub, name=name)) for name, sub in STRING_SETS.items()},
    "xwlu": ("xwlu_lined_paper_webcam", eval_xwlu),
    "marks": ("marks_form_shashank", eval_marks),
    "divyakh": ("divyakh_video_6885", eval_divyakh),
}
STRING_TARGETS = {"filippo": ">= 0.97"}


def _counts(s: dict) -> str:
    return f"(tp {s['tp']} fp {s['fp']} fn {s['fn']})"


def table_rows(report: dict) -> list[tuple[str, str, str]]:
    """The table's rows (set, figure, target) for the realworld2 sets in the report."""
    rows = []
    if "kubiesa" in report:
        s = report["kubiesa"]
        rows.append(("kubiesa", f"digit cells F1 {s['f1']:.3f} {_counts(s)}", ">= 0.95"))
        rows.append(("", f"photos with no digit {s['no_digit']}/{s['n']}", ""))
    for name in STRING_SETS:
        if name in report:
            s = report[name]
            rows.append((name, f"digit F1 {s['f1']:.3f} {_counts(s)}", STRING_TARGETS.get(name, "")))
            rows.append(("", f"strings exact {s['exact']}/{s['n']}", ""))
    if "xwlu" in report:
        s = report["xwlu"]
        rows.append(("xwlu", f"{s['correct']}/{s['n']} read {s['reads']}", "4/4"))
        rows.append(("", f"false digits/img {s['false_per_image']:.2f}", ""))
    if "marks" in report:
        s = report["marks"]
        rows.append(("marks", f"fields exact {s['exact']}/{s['n']}", ">= 7/9"))
        rows.append(("", f"digit F1 in fields {s['f1']:.3f} {_counts(s)}", ""))
        rows.append(("", f"digits read outside the fields {s['outside']}", ""))
    if "divyakh" in report:
        s = report["divyakh"]
        every = "" if s["step"] == 1 else f", 1 clean frame in {s['step']}"
        rows.append(("divyakh", f"digit F1 {s['f1']:.3f} {_counts(s)}, {s['frames']} frames{every}", ""))
        rows += [("", f"{v.split('_')[0]} video F1 {r['f1']:.3f} ({r['frames']} frames)", "")
                 for v, r in s["videos"].items()]
    return rows
