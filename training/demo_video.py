"""Render the demo video: a hand-held camera moving over a page of handwritten digits.

    python -m training.demo_video                      # assets/demo/demo.mp4 + demo.jsonl
    python -m training.demo_video --size 1280x720 --out runs/bench/clip720p.mp4

The page is written with MNIST TEST digits composited as pen ink (single
digits and numbers of 2-5 digits), then filmed: every frame sees the page
through a homography that pans, zooms, rotates and tilts smoothly, under
drifting light, with motion blur from the camera's own speed and sensor
noise. The ground truth beside the video (JSON lines, one per frame) is the
page's digit boxes moved by the SAME homography, so it is exact:

    {"frame": 0, "time": 0.0, "digits": [{"digit": 7, "box": [x, y, w, h], "id": 12}, ...],
     "numbers": [{"text": "407", "box": [...]}], "ignore": [[x, y, w, h], ...]}

"ignore" holds digits cut by the frame edge: finding them or not is not scored.
`score()` and `flicker()` below turn main.py's JSON lines into F1 and flicker.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from training.scenes import draw_digit  # the shared compositing of MNIST ink onto paper

ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = ROOT / "assets" / "demo"
PAGE = (1800, 1300)  # page (w, h) in page pixels
PAPER = (236, 240, 242)
TABLE = (70, 85, 100)
INKS = [(140, 60, 25), (45, 35, 35), (110, 40, 50)]  # blue, black, dark blue pens (BGR)
VIEW_WIDTH = 720  # page pixels across the camera's view (about 20 digits in sight)
SWEEP_S = 12.0  # seconds for the camera's full path over the page
EDGE_MARGIN = 2  # a digit closer than this to the frame edge counts as cut


def glyph_width(digit28: np.ndarray, height: int) -> int:
    """Width the digit takes when drawn `height` tall (aspect kept, as draw_digit does)."""
    ys, xs = np.nonzero(digit28 > 30)
    return max(1, int(round((xs.max() - xs.min() + 1) * height / (ys.max() - ys.min() + 1))))


def write_page(images, labels, rng) -> tuple[np.ndarray, list[dict], list[dict]]:
    """A page of rows of single digits and numbers; returns (page, digits, numbers) in page pixels."""
    w, h = PAGE
    page = np.empty((h, w, 3), np.uint8)
    page[:] = PAPER
    page = cv2.add(page, rng.integers(0, 6, page.shape, dtype=np.uint8))  # paper grain
    ink = INKS[rng.integers(len(INKS))]
    digits, numbers = [], []
    y = 70
    while y < h - 160:
        height = int(rng.integers(54, 80))
        x = int(rng.integers(50, 120))
        while True:
            count = int(rng.choice([1, 1, 2, 3, 3, 4, 5]))
            picks = [int(rng.integers(len(images))) for _ in range(count)]
            widths = [glyph_width(images[i], height) for i in picks]
            gaps = [int(rng.uniform(0.18, 0.32) * height) for _ in picks]
            if x + sum(widths) + sum(gaps) > w - 60:
                break
            members = []
            for i, gw, gap in zip(picks, widths, gaps):
                top = y + int(rng.integers(-6, 7))
                drawn = draw_digit(page, images[i], (x, top, gw, height), ink, rng)
                d = {"digit": int(labels[i]), "box": [int(v) for v in drawn], "mnist_test_index": i,
                     "id": len(digits)}
                digits.append(d)
                members.append(d["id"])
                x += gw + gap
            numbers.append({"text": "".join(str(digits[m]["digit"]) for m in members), "members": members})
            x += int(rng.uniform(1.6, 3.2) * height)
        y += int(height * rng.uniform(1.8, 2.2))
    return page, digits, numbers


def camera_path(n: int, size: tuple[int, int], fps: float, rng) -> list[np.ndarray]:
    """Page->frame homographies of a smooth hand-held sweep over the page (one per frame).

    The sweep takes SWEEP_S seconds whatever the clip length, so a short clip
    moves at the same speed as the demo (same blur), just over less of the page.
    """
    fw, fh = size
    pw, ph = PAGE
    t = np.arange(n) / (fps * SWEEP_S)
    phase = rng.uniform(0, 2 * np.pi, 6)
    base = fw / VIEW_WIDTH  # page px -> frame px
    cx = pw / 2 + 0.30 * pw * np.sin(2 * np.pi * t + phase[0])
    cy = ph / 2 + 0.25 * ph * np.sin(4 * np.pi * t + phase[1])
    zoom = base * (1.0 + 0.15 * np.sin(2 * np.pi * 1.5 * t + phase[2]))
    angle = np.radians(7 * np.sin(2 * np.pi * t + phase[3]))
    tilt_x = 0.00035 * np.sin(2 * np.pi * 1.3 * t + phase[4]) * 720 / fw
    tilt_y = 0.00035 * np.sin(2 * np.pi * 0.9 * t + phase[5]) * 720 / fw
    shake = rng.normal(0, 1.0, (n, 2)).cumsum(axis=0) * 0.6
    shake -= np.linspace(shake[0], shake[-1], n)[:, :]  # a wobble, not a drift
    hs = []
    for i in range(n):
        to_center = np.array([[1, 0, -cx[i]], [0, 1, -cy[i]], [0, 0, 1]])
        c, s = np.cos(angle[i]) * zoom[i], np.sin(angle[i]) * zoom[i]
        rot_scale = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
        persp = np.array([[1, 0, 0], [0, 1, 0], [tilt_x[i], tilt_y[i], 1]])
        to_frame = np.array([[1, 0, fw / 2 + shake[i, 0]], [0, 1, fh / 2 + shake[i, 1]], [0, 0, 1]])
        hs.append(to_frame @ persp @ rot_scale @ to_center)
    return hs


def project_box(hom: np.ndarray, box) -> np.ndarray:
    """A page box's four corners through the homography -> (4, 2) frame points."""
    x, y, w, h = box
    pts = np.float32([[x, y], [x + w, y], [x + w, y + h], [x, y + h]]).reshape(-1, 1, 2)
    return cv2.perspectiveTransform(pts, hom).reshape(4, 2)


def frame_truth(hom: np.ndarray, digits: list[dict], numbers: list[dict], size, index: int, fps: float) -> dict:
    """Ground truth of one frame: visible digits (box in frame pixels), cut ones to ignore."""
    fw, fh = size
    rec = {"frame": index, "time": round(index / fps, 4), "digits": [], "numbers": [], "ignore": []}
    inside = set()
    for d in digits:
        pts = project_box(hom, d["box"])
        x0, y0 = np.floor(pts.min(axis=0)).astype(int)
        x1, y1 = np.ceil(pts.max(axis=0)).astype(int)
        if x1 < 0 or y1 < 0 or x0 >= fw or y0 >= fh:
            continue
        box = [int(x0), int(y0), int(x1 - x0), int(y1 - y0)]
        if x0 >= EDGE_MARGIN and y0 >= EDGE_MARGIN and x1 <= fw - EDGE_MARGIN and y1 <= fh - EDGE_MARGIN:
            rec["digits"].append({"digit": d["digit"], "box": box, "id": d["id"]})
            inside.add(d["id"])
        else:
            rec["ignore"].append(box)
    boxes = {d["id"]: d["box"] for d in rec["digits"]}
    for n in numbers:
        if all(m in inside for m in n["members"]):
            rec["numbers"].append({"text": n["text"], "box": union([boxes[m] for m in n["members"]])})
    return rec


def union(boxes) -> list[int]:
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return [x0, y0, x1 - x0, y1 - y0]


def motion_blur(image: np.ndarray, velocity: np.ndarray, shutter: float = 0.5) -> np.ndarray:
    """Blur along the image motion: a line kernel as long as the distance moved while exposed."""
    length = float(np.linalg.norm(velocity)) * shutter
    if length < 1.0:
        return image
    k = int(np.ceil(length)) | 1
    kernel = np.zeros((k, k), np.float32)
    d = velocity / np.linalg.norm(velocity) * (length / 2)
    c = k // 2
    cv2.line(kernel, (int(round(c - d[0])), int(round(c - d[1]))), (int(round(c + d[0])), int(round(c + d[1]))), 1.0, 1)
    return cv2.filter2D(image, -1, kernel / kernel.sum())


def film(page: np.ndarray, hom: np.ndarray, prev_hom: np.ndarray, size, t: float, rng) -> np.ndarray:
    """One frame: the page through the camera, light drifting, motion-blurred, noisy."""
    fw, fh = size
    frame = cv2.warpPerspective(page, hom, (fw, fh), flags=cv2.INTER_AREA, borderValue=TABLE)
    centre = np.float32([[[PAGE[0] / 2, PAGE[1] / 2]]])
    velocity = (cv2.perspectiveTransform(centre, hom) - cv2.perspectiveTransform(centre, prev_hom)).ravel()
    frame = motion_blur(frame, velocity).astype(np.float32)
    yy, xx = np.mgrid[0:fh, 0:fw].astype(np.float32)
    a = 2 * np.pi * 0.35 * t
    gradient = ((xx / fw - 0.5) * np.cos(a) + (yy / fh - 0.5) * np.sin(a))
    light = (0.86 + 0.10 * np.sin(2 * np.pi * 0.2 * t)) * (1.0 - 0.35 * gradient)
    frame *= light[..., None]
    frame += rng.normal(0, 3.0, frame.shape).astype(np.float32)
    return np.clip(frame, 0, 255).astype(np.uint8)


def render(out: Path, size=(720, 576), seconds: float = 12.0, fps: float = 25.0, seed: int = 7,
           truth: Path | None = None) -> dict:
    """Write the video and its ground truth; returns a summary (frames, digits per frame, bytes)."""
    from training.data import load_mnist

    _, (images, labels) = load_mnist()
    rng = np.random.default_rng(seed)
    page, digits, numbers = write_page(images, labels, rng)
    n = int(round(seconds * fps))
    homs = camera_path(n, size, fps, rng)
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    if not writer.isOpened():
        raise SystemExit(f"error: cannot write {out}")
    truth = truth or out.with_suffix(".jsonl")
    per_frame = []
    with open(truth, "w") as fh:
        for i, hom in enumerate(homs):
            writer.write(film(page, hom, homs[max(i - 1, 0)], size, i / fps, rng))
            rec = frame_truth(hom, digits, numbers, size, i, fps)
            fh.write(json.dumps(rec, separators=(",", ":")) + "\n")
            per_frame.append(len(rec["digits"]))
    writer.release()
    return {"video": str(out), "truth": str(truth), "frames": n, "page_digits": len(digits),
            "digits_per_frame": float(np.mean(per_frame)), "bytes": out.stat().st_size}


# ---- scoring main.py's JSON lines against the ground truth -------------------------------------

def load_jsonl(path: str | Path) -> list[dict]:
    with open(path) as fh:
        return [json.loads(line) for line in fh if line.strip()]


def iou(a, b) -> float:
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / max(a[2] * a[3] + b[2] * b[3] - inter, 1e-9)


def score_frame(pred: list[dict], truth: dict, min_iou: float = 0.5) -> tuple[int, int, int]:
    """(true positives, false positives, misses) of one frame: same digit and IoU >= min_iou.

    A prediction on a digit cut by the frame edge ("ignore") counts neither way.
    """
    gt = truth["digits"]
    used, tp, fp = set(), 0, 0
    for p in sorted(pred, key=lambda d: -d.get("confidence", 0)):
        best, best_iou = None, min_iou
        for j, g in enumerate(gt):
            if j not in used and g["digit"] == p["digit"] and iou(p["box"], g["box"]) >= best_iou:
                best, best_iou = j, iou(p["box"], g["box"])
        if best is not None:
            used.add(best)
            tp += 1
        elif not any(iou(p["box"], b) >= 0.3 for b in truth["ignore"]):
            fp += 1
    return tp, fp, len(gt) - len(used)


def score(records: list[dict], truths: list[dict], min_iou: float = 0.5) -> dict:
    """Digit precision, recall and F1 over all frames (records matched to truth by frame number)."""
    by_frame = {r["frame"]: r for r in records}
    tp = fp = fn = 0
    for t in truths:
        a, b, c = score_frame(by_frame.get(t["frame"], {"digits": []})["digits"], t, min_iou)
        tp, fp, fn = tp + a, fp + b, fn + c
    precision = tp / max(tp + fp, 1)
    recall = tp / max(tp + fn, 1)
    return {"frames": len(truths), "tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall,
            "f1": 2 * precision * recall / max(precision + recall, 1e-9)}


def flicker(records: list[dict]) -> dict:
    """Share of track-frames whose shown label differs from the same track's label one frame before."""
    last: dict[int, tuple[int, int]] = {}
    changes = track_frames = 0
    for r in sorted(records, key=lambda r: r["frame"]):
        for d in r["digits"]:
            if "track" not in d:
                continue
            track_frames += 1
            prev = last.get(d["track"])
            if prev is not None and prev[0] == r["frame"] - 1 and prev[1] != d["digit"]:
                changes += 1
            last[d["track"]] = (r["frame"], d["digit"])
    return {"track_frames": track_frames, "changes": changes, "flicker": changes / max(track_frames, 1)}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEMO_DIR / "demo.mp4", help="video path (truth: same name, .jsonl)")
    ap.add_argument("--size", default="720x576", help="frame WxH (default 720x576)")
    ap.add_argument("--seconds", type=float, default=12.0)
    ap.add_argument("--fps", type=float, default=25.0)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    size = tuple(int(v) for v in args.size.lower().split("x"))
    print(json.dumps(render(args.out, size, args.seconds, args.fps, args.seed)))


if __name__ == "__main__":
    main()
