"""Soak: the real capture loop on the demo video, looped for as long as asked, with memory sampled.

    python bench/soak.py [--minutes 60] [--workers 2] [--every 10]

A camera left on for an hour must not grow: the loop, the tracker, classification
reuse and the worker processes all keep state from frame to frame. This runs
`recognizer.app.run` (headless, JSON lines written, tracking and reuse on, the
given worker processes) on the demo looped without end, as a camera delivers it:
frame numbers and times run on across the loops, and each loop's first frame is
a scene change. Every `--every` seconds it samples the resident memory (RSS, from
/proc) of the main process and of its worker processes. After a warm-up (the first
WARM_UP share of the run) it prints the memory at the start and at the end of the
rest, its growth in percent (issue 21: flat within 5%) and the growth per 1,000
frames fitted over all samples, with the frames per second.

Linux only (/proc). Writes the JSON lines to a temporary file, deleted at the end.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

import recognizer.app  # noqa: E402
from recognizer.capture import Frame, Source  # noqa: E402
from recognizer.cli import build_parser  # noqa: E402

DEMO = ROOT / "assets" / "demo" / "demo.mp4"
WARM_UP = 0.1  # this share of the run is left out: buffers, caches and the tracker fill up first


class LoopedVideo(Source):
    """A video read again and again, as one endless stream (a camera's contract: no frame count)."""

    stream, live = True, False

    def __init__(self, path: Path, stop_after_s: float):
        self.name = str(path)
        cap = cv2.VideoCapture(str(path))
        self.fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
        self.encoded = []  # kept as PNG and decoded per read: the baseline is the loop's, not the clip's
        while True:
            ok, image = cap.read()
            if not ok:
                break
            self.encoded.append(cv2.imencode(".png", image)[1])
        cap.release()
        if not self.encoded:
            raise SystemExit(f"error: cannot read {path}")
        self.height, self.width = cv2.imdecode(self.encoded[0], cv2.IMREAD_COLOR).shape[:2]
        self.frame_count = 0
        self.index = 0
        self.deadline = time.perf_counter() + stop_after_s

    def read(self) -> Frame | None:
        if time.perf_counter() >= self.deadline:
            return None
        image = cv2.imdecode(self.encoded[self.index % len(self.encoded)], cv2.IMREAD_COLOR)
        frame = Frame(image, self.index, self.index / self.fps, self.name)
        self.index += 1
        return frame


def rss_mb(pid: int) -> float:
    """Resident memory of one process in MB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    """The direct child processes of `pid` (the worker processes)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found += [int(p) for p in (task / "children").read_text().split()]
    return found


def sample(source: LoopedVideo, every: float, samples: list, done: threading.Event) -> None:
    """(seconds, frames read, main MB, workers MB) every `every` seconds until `done`."""
    me, t0 = os.getpid(), time.perf_counter()
    while not done.wait(every):
        samples.append((time.perf_counter() - t0, source.index, rss_mb(me), sum(rss_mb(c) for c in children(me))))


def report(samples: list) -> None:
    """Memory at the start and end after the warm-up, growth, and the fitted growth per 1,000 frames."""
    kept = [s for s in samples if s[0] >= WARM_UP * samples[-1][0]]
    if len(kept) < 4:
        raise SystemExit("error: too few samples: run longer or sample more often (--every)")
    quarter = max(2, len(kept) // 10)
    head, tail = kept[:quarter], kept[-quarter:]
    frames = np.array([s[1] for s in kept], float)
    print(f"{'process':<10} {'start MB':>9} {'end MB':>9} {'growth':>8} {'MB per 1000 frames':>19}")
    for col, name in ((2, "main"), (3, "workers"), (None, "total")):
        mb = np.array([s[2] + s[3] if col is None else s[col] for s in kept], float)
        start = statistics.median(mb[:quarter])
        end = statistics.median(mb[-quarter:])
        slope = np.polyfit(frames, mb, 1)[0] * 1000 if np.ptp(frames) > 0 else 0.0
        print(f"{name:<10} {start:9.1f} {end:9.1f} {100 * (end - start) / max(start, 1e-9):7.2f}% {slope:19.4f}")
    span_s, span_f = tail[-1][0] - head[0][0], tail[-1][1] - head[0][1]
    print(f"{kept[-1][1]} frames in {samples[-1][0] / 60:.1f} min ({kept[-1][1] / samples[-1][0]:.1f} fps); "
          f"measured after the warm-up over {span_f} frames, {span_s / 60:.1f} min, {len(kept)} samples")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--every", type=float, default=10.0, help="seconds between memory samples")
    ap.add_argument("--video", type=Path, default=DEMO)
    a = ap.parse_args()
    source = LoopedVideo(a.video, 60 * a.minutes)
    recognizer.app.open_source = lambda *_args, **_kw: source  # the loop reads the looped video
    samples: list = []
    done = threading.Event()
    with tempfile.TemporaryDirectory() as tmp:
        argv = ["--source", str(a.video), "--no-display", "--workers", str(a.workers), "--json", f"{tmp}/soak.jsonl"]
        sampler = threading.Thread(target=sample, args=(source, a.every, samples, done), daemon=True)
        sampler.start()
        with contextlib.redirect_stderr(io.StringIO()):
            code = recognizer.app.run(build_parser().parse_args(argv))
        done.set()
        sampler.join()
    if code != 0:
        raise SystemExit(f"error: the loop exited with {code}")
    print(f"soak: {a.video.name} looped, {a.workers} worker process(es), "
          f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    report(samples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
