"""Per-frame cost of the recognizer, stage by stage, against the bare OpenCV floor.

    python bench/bench_frame.py [--repeats 60] [--model PATH]

For 640x480 and 1280x720 synthetic frames with 20 handwritten digits
(training/scenes.py), and 640x480 frames whose digits are 9-12 px tall (a
webcam seeing a whole page: the recognizer looks at those again enlarged,
pipeline.locate), prints the median (and best, the figure least disturbed
by other work on a busy machine) time of each pipeline stage
(preprocess, candidates, normalize, infer, group), the full call, and the
floor measured in the same run: gray -> Gaussian blur -> adaptive threshold ->
findContours, the least any contour-based digit finder does. The ratio
full / floor is the figure of merit (target: <= 2 at 640x480). CPU time per
call (process time over all threads) is printed too: on a busy machine it
moves far less than wall time.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from recognizer.app import OPENCV_THREADS  # noqa: E402
from recognizer.pipeline import Recognizer  # noqa: E402
from training.data import load_mnist  # noqa: E402
from training.scenes import make_scene  # noqa: E402

STAGES = ("preprocess", "candidates", "normalize", "context", "infer", "group")
FRAMES = (("640x480", {"width": 640, "height": 480}),
          ("1280x720", {"width": 1280, "height": 720}),
          ("640x480 tiny", {"width": 640, "height": 480, "digit_height": (9, 12)}))  # enlarged 2x


def opencv_floor(frame: np.ndarray) -> int:
    """The bare minimum: gray, blur, adaptive threshold, external contours."""
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    blur = cv2.GaussianBlur(gray, (5, 5), 0)
    binary = cv2.adaptiveThreshold(blur, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 10)
    contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return len(contours)


def bench_size(rec: Recognizer, frames: list[np.ndarray], repeats: int, floor_threads: int) -> dict:
    """Interleave floor and pipeline on the same frames so machine load hits both alike.

    The pipeline runs with OpenCV's threads as the app sets them; the floor with
    OpenCV's own default (its fastest wall time), so the ratio never flatters us.
    """
    floor, full, floor_cpu, full_cpu = [], [], [], []
    stages: dict[str, list[float]] = {s: [] for s in STAGES}
    found = []
    for i in range(repeats):
        frame = frames[i % len(frames)]
        cv2.setNumThreads(floor_threads)
        t, c = time.perf_counter(), time.process_time()
        opencv_floor(frame)
        floor.append(time.perf_counter() - t)
        floor_cpu.append(time.process_time() - c)
        cv2.setNumThreads(OPENCV_THREADS)
        t, c = time.perf_counter(), time.process_time()
        res = rec(frame)
        full.append(time.perf_counter() - t)
        full_cpu.append(time.process_time() - c)
        for s in STAGES:
            stages[s].append(res.timings.get(s, 0.0))
        found.append(len(res.digits))
    med = {s: statistics.median(v) * 1e3 for s, v in stages.items()}
    best = {s: min(v) * 1e3 for s, v in stages.items()}
    return {"floor_ms": statistics.median(floor) * 1e3, "full_ms": statistics.median(full) * 1e3,
            "stages_ms": med, "digits_found": statistics.median(found),
            "cpu": {"floor_ms": statistics.mean(floor_cpu) * 1e3, "full_ms": statistics.mean(full_cpu) * 1e3},
            "best": {"floor_ms": min(floor) * 1e3, "full_ms": min(full) * 1e3, "stages_ms": best}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=60, help="timed calls per frame size")
    ap.add_argument("--model", default=None, help="tflite model (default assets/models/digits.tflite)")
    args = ap.parse_args(argv)
    (_, _), (xt, yt) = load_mnist()
    floor_threads = cv2.getNumThreads()
    cv2.setNumThreads(OPENCV_THREADS)
    rec = Recognizer(args.model)
    rng = np.random.default_rng(0)
    rows = []
    for name, size in FRAMES:
        frames = [make_scene(rng, xt, yt, n_digits=20, **size)[0] for _ in range(5)]
        for f in frames:  # warm up: allocations, interpreter resize
            rec(f)
            opencv_floor(f)
        rows.append((name, bench_size(rec, frames, args.repeats, floor_threads)))
    print(f"{'frame':<13}" + "".join(f"{s:>11}" for s in STAGES) + f"{'full':>9}{'floor':>9}{'ratio':>8}{'digits':>8}")
    for name, r in rows:
        for label, fig in (("median", r), ("best", r["best"])):
            cells = "".join(f"{fig['stages_ms'][s]:>9.2f}ms" for s in STAGES)
            print(f"{name:<13}{cells}{fig['full_ms']:>7.2f}ms{fig['floor_ms']:>7.2f}ms"
                  f"{fig['full_ms'] / fig['floor_ms']:>8.2f}{r['digits_found']:>8.0f}  {label}")
    for name, r in rows:
        cpu = r["cpu"]
        print(f"{name:<13} CPU time per call (mean, all threads): full {cpu['full_ms']:.2f} ms, "
              f"floor {cpu['floor_ms']:.2f} ms, ratio {cpu['full_ms'] / max(cpu['floor_ms'], 1e-6):.1f}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"OpenCV threads: pipeline {OPENCV_THREADS} (as main.py), floor {floor_threads} (OpenCV default)")
    print(f"medians over {args.repeats} calls; floor = gray+blur+adaptiveThreshold+findContours, same run; "
          f"load average {load:.1f} on {os.cpu_count()} CPUs (other work inflates the Python stages most)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
